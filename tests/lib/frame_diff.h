// Human-readable frame comparison for test failure messages:
//
//   EXPECT_EQ(actual, expected) << FrameDiff(expected, actual);
//
// DescribeFrame prints one line per header, "[begin..end) Layer fields",
// decoding Ethernet, 802.1Q/802.1ad tags, ARP, IPv4 (with options and the
// header checksum checked), IPv6 (with a fragment header), ICMP, ICMPv6 (ND
// target), UDP, TCP (flags, MSS), GRE (key as VSID/FlowID for NVGRE) and the
// inner frame of NVGRE, IP-in-IP. It is lenient: a truncated or lying header
// is described as far as the bytes go, never read past the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hnv::test {

std::string DescribeFrame(const std::vector<uint8_t>& frame);

// Every checksum DescribeFrame checks (IPv4 header, ICMP, ICMPv6, UDP, TCP;
// L4 only when the whole unfragmented segment is present) that is wrong, one
// described line each; empty when all are right.
std::string ChecksumErrors(const std::vector<uint8_t>& frame);

// Empty when the frames are equal. Otherwise: the first differing byte
// offset, both frames described with the layer holding that byte marked, and
// a hex dump of the bytes around it.
std::string FrameDiff(const std::vector<uint8_t>& expected, const std::vector<uint8_t>& actual);

}  // namespace hnv::test
