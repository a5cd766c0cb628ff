#include "dataplane/packet/parse.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/lib/frame_diff.h"
#include "tests/lib/packet_builder.h"

namespace hnv {
namespace {

using test::Ip;
using test::Mac;
using test::PacketBuilder;

const MacAddr kMacA = Mac("600060000101");
const MacAddr kMacB = Mac("600060000102");
const MacAddr kPaMac1 = Mac("00155d000001");
const MacAddr kPaMac2 = Mac("00155d000002");
const IpAddr kCa1 = Ip("10.0.1.101");
const IpAddr kCa2 = Ip("10.0.1.102");
const IpAddr kPa1 = Ip("192.168.0.22");
const IpAddr kPa2 = Ip("192.168.0.33");
const IpAddr kCa6a = Ip("fd00:1::65");
const IpAddr kCa6b = Ip("fd00:1::66");

// Parses from a heap buffer of exactly `len` bytes so that AddressSanitizer
// reports any read past the end.
ParseError ParseExact(const std::vector<uint8_t>& frame, size_t len, ParsedFrame* pf) {
  std::unique_ptr<uint8_t[]> buf(new uint8_t[len == 0 ? 1 : len]);
  if (len != 0) std::memcpy(buf.get(), frame.data(), len);
  return ParseFrame(buf.get(), static_cast<uint32_t>(len), pf);
}

struct Expect {
  ParseError err = ParseError::kOk;
  L3Kind l3 = L3Kind::kNone;
  uint16_t ether_type = 0;
  uint16_t l3_offset = 14;
  uint16_t l4_offset = 0;
  uint16_t l3_len = 0;
  uint8_t l4_proto = 0;
  bool l4_present = false;
  bool has_vlan = false;
  uint16_t vlan_id = 0;
  bool is_fragment = false;
  bool is_first_fragment = true;
};

struct ParseCase {
  std::string name;
  std::vector<uint8_t> frame;
  Expect want;
};

void PrintTo(const ParseCase& c, std::ostream* os) { *os << c.name; }

std::vector<ParseCase> ValidCases() {
  std::vector<ParseCase> v;
  v.push_back({"arp_request",
               PacketBuilder()
                   .Eth(MacAddr::Broadcast(), kMacA)
                   .Arp(kArpRequest, kMacA, kCa1, {}, kCa2)
                   .Build(),
               {.l3 = L3Kind::kArp, .ether_type = kEtherTypeArp, .l3_len = 28}});
  v.push_back({"arp_vlan_padded",
               PacketBuilder()
                   .Eth(MacAddr::Broadcast(), kMacA)
                   .Vlan(5)
                   .Arp(kArpReply, kMacA, kCa1, kMacB, kCa2)
                   .Trailer(14)
                   .Build(),
               {.l3 = L3Kind::kArp,
                .ether_type = kEtherTypeArp,
                .l3_offset = 18,
                .l3_len = 28,
                .has_vlan = true,
                .vlan_id = 5}});
  v.push_back({"ipv4_icmp",
               PacketBuilder().Eth(kMacB, kMacA).Ipv4(kCa1, kCa2).Icmp().Payload(56).Build(),
               {.l3 = L3Kind::kIpv4,
                .ether_type = kEtherTypeIpv4,
                .l4_offset = 34,
                .l3_len = 84,
                .l4_proto = kIpProtoIcmp,
                .l4_present = true}});
  v.push_back({"ipv4_udp_vlan_padded",
               PacketBuilder()
                   .Eth(kMacB, kMacA)
                   .Vlan(4094, 3)
                   .Ipv4(kCa1, kCa2)
                   .Udp(1, 2)
                   .Trailer(16)
                   .Build(),
               {.l3 = L3Kind::kIpv4,
                .ether_type = kEtherTypeIpv4,
                .l3_offset = 18,
                .l4_offset = 38,
                .l3_len = 28,
                .l4_proto = kIpProtoUdp,
                .l4_present = true,
                .has_vlan = true,
                .vlan_id = 4094}});
  v.push_back(
      {"ipv4_tcp_syn_mss",
       PacketBuilder().Eth(kMacB, kMacA).Ipv4(kCa1, kCa2).Tcp(40000, 80, kTcpSyn, 1460).Build(),
       {.l3 = L3Kind::kIpv4,
        .ether_type = kEtherTypeIpv4,
        .l4_offset = 34,
        .l3_len = 44,
        .l4_proto = kIpProtoTcp,
        .l4_present = true}});
  v.push_back({"ipv4_options_udp",
               PacketBuilder()
                   .Eth(kMacB, kMacA)
                   .Ipv4(kCa1, kCa2)
                   .Ipv4Options({7, 7, 4, 0, 0, 0, 0})
                   .Udp(1, 2)
                   .Payload(3)
                   .Build(),
               {.l3 = L3Kind::kIpv4,
                .ether_type = kEtherTypeIpv4,
                .l4_offset = 42,
                .l3_len = 39,
                .l4_proto = kIpProtoUdp,
                .l4_present = true}});
  v.push_back({"nvgre_outer",
               PacketBuilder()
                   .Eth(kPaMac2, kPaMac1)
                   .Ipv4(kPa1, kPa2)
                   .Nvgre(6000, 7)
                   .Eth(kMacB, kMacA)
                   .Ipv4(kCa1, kCa2)
                   .Icmp()
                   .Build(),
               {.l3 = L3Kind::kIpv4,
                .ether_type = kEtherTypeIpv4,
                .l4_offset = 34,
                .l3_len = 20 + 8 + 14 + 28,
                .l4_proto = kIpProtoGre,
                .l4_present = true}});
  v.push_back({"nvgre_outer_v6_vlan",
               PacketBuilder()
                   .Eth(kPaMac2, kPaMac1)
                   .Vlan(100)
                   .Ipv6(Ip("fd00:a::22"), Ip("fd00:a::33"))
                   .Nvgre(6000)
                   .Eth(kMacB, kMacA)
                   .Ipv4(kCa1, kCa2)
                   .Icmp()
                   .Build(),
               {.l3 = L3Kind::kIpv6,
                .ether_type = kEtherTypeIpv6,
                .l3_offset = 18,
                .l4_offset = 58,
                .l3_len = 40 + 8 + 14 + 28,
                .l4_proto = kIpProtoGre,
                .l4_present = true,
                .has_vlan = true,
                .vlan_id = 100}});
  v.push_back({"ipv6_icmp6_echo",
               PacketBuilder().Eth(kMacB, kMacA).Ipv6(kCa6a, kCa6b).Icmp6().Payload(8).Build(),
               {.l3 = L3Kind::kIpv6,
                .ether_type = kEtherTypeIpv6,
                .l4_offset = 54,
                .l3_len = 56,
                .l4_proto = kIpProtoIcmp6,
                .l4_present = true}});
  v.push_back(
      {"ipv6_tcp",
       PacketBuilder().Eth(kMacB, kMacA).Ipv6(kCa6a, kCa6b).Tcp(1, 2, 0x10).Payload(100).Build(),
       {.l3 = L3Kind::kIpv6,
        .ether_type = kEtherTypeIpv6,
        .l4_offset = 54,
        .l3_len = 160,
        .l4_proto = kIpProtoTcp,
        .l4_present = true}});
  v.push_back({"ipv6_first_fragment",
               PacketBuilder()
                   .Eth(kMacB, kMacA)
                   .Ipv6(kCa6a, kCa6b)
                   .Ipv6Frag(0, true)
                   .Udp(1, 2)
                   .Payload(8)
                   .Build(),
               {.l3 = L3Kind::kIpv6,
                .ether_type = kEtherTypeIpv6,
                .l4_offset = 62,
                .l3_len = 64,
                .l4_proto = kIpProtoUdp,
                .l4_present = true,
                .is_fragment = true,
                .is_first_fragment = true}});
  v.push_back({"ipv6_later_fragment",
               PacketBuilder()
                   .Eth(kMacB, kMacA)
                   .Ipv6(kCa6a, kCa6b, 44)
                   .Ipv6Frag(1232, false)
                   .Payload(3)
                   .Build(),
               {.l3 = L3Kind::kIpv6,
                .ether_type = kEtherTypeIpv6,
                .l4_offset = 62,
                .l3_len = 51,
                .l4_proto = 253,
                .l4_present = false,
                .is_fragment = true,
                .is_first_fragment = false}});
  v.push_back({"ipv4_first_fragment",
               PacketBuilder()
                   .Eth(kMacB, kMacA)
                   .Ipv4(kCa1, kCa2)
                   .Ipv4Frag(0, true)
                   .Udp(1, 2)
                   .Payload(8)
                   .Build(),
               {.l3 = L3Kind::kIpv4,
                .ether_type = kEtherTypeIpv4,
                .l4_offset = 34,
                .l3_len = 36,
                .l4_proto = kIpProtoUdp,
                .l4_present = true,
                .is_fragment = true,
                .is_first_fragment = true}});
  // A later fragment's first bytes are data, not a header: 2 bytes is fine.
  v.push_back({"ipv4_later_fragment",
               PacketBuilder()
                   .Eth(kMacB, kMacA)
                   .Ipv4(kCa1, kCa2, kIpProtoTcp)
                   .Ipv4Frag(1480, false)
                   .Payload(2)
                   .Build(),
               {.l3 = L3Kind::kIpv4,
                .ether_type = kEtherTypeIpv4,
                .l4_offset = 34,
                .l3_len = 22,
                .l4_proto = kIpProtoTcp,
                .l4_present = false,
                .is_fragment = true,
                .is_first_fragment = false}});
  v.push_back({"ipv4_df_is_not_fragment",
               PacketBuilder().Eth(kMacB, kMacA).Ipv4(kCa1, kCa2).DontFragment().Icmp().Build(),
               {.l3 = L3Kind::kIpv4,
                .ether_type = kEtherTypeIpv4,
                .l4_offset = 34,
                .l3_len = 28,
                .l4_proto = kIpProtoIcmp,
                .l4_present = true}});
  v.push_back({"ipv4_unknown_proto",
               PacketBuilder().Eth(kMacB, kMacA).Ipv4(kCa1, kCa2, 253).Payload(1).Build(),
               {.l3 = L3Kind::kIpv4,
                .ether_type = kEtherTypeIpv4,
                .l4_offset = 34,
                .l3_len = 21,
                .l4_proto = 253}});
  v.push_back({"ipv6_hop_by_hop_not_walked",
               PacketBuilder().Eth(kMacB, kMacA).Ipv6(kCa6a, kCa6b, 0).Payload(8).Build(),
               {.l3 = L3Kind::kIpv6,
                .ether_type = kEtherTypeIpv6,
                .l4_offset = 54,
                .l3_len = 48,
                .l4_proto = 0}});
  v.push_back({"lldp_other",
               PacketBuilder().Eth(Mac("0180c200000e"), kMacA, 0x88cc).Payload(30).Build(),
               {.l3 = L3Kind::kOther, .ether_type = 0x88cc}});
  v.push_back({"ipv4_zero_payload_gre_truncated",
               PacketBuilder()
                   .Eth(kMacB, kMacA)
                   .Ipv4(kPa1, kPa2)
                   .Gre(0, kEtherTypeTeb, std::nullopt)
                   .Build(),
               {.err = ParseError::kTruncatedL4,
                .l3 = L3Kind::kIpv4,
                .ether_type = kEtherTypeIpv4,
                .l4_offset = 34,
                .l3_len = 24,
                .l4_proto = kIpProtoGre}});
  return v;
}

class ParseValidTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseValidTest, Fields) {
  const ParseCase& c = GetParam();
  ParsedFrame pf;
  const ParseError err = ParseExact(c.frame, c.frame.size(), &pf);
  const std::string desc = test::DescribeFrame(c.frame);
  EXPECT_EQ(err, c.want.err) << ParseErrorName(err) << "\n" << desc;
  EXPECT_EQ(pf.l3, c.want.l3) << desc;
  EXPECT_EQ(pf.ether_type, c.want.ether_type);
  EXPECT_EQ(pf.l3_offset, c.want.l3_offset);
  EXPECT_EQ(pf.l4_offset, c.want.l4_offset);
  EXPECT_EQ(pf.l3_len, c.want.l3_len);
  EXPECT_EQ(pf.l4_proto, c.want.l4_proto);
  EXPECT_EQ(pf.l4_present, c.want.l4_present);
  EXPECT_EQ(pf.has_vlan, c.want.has_vlan);
  EXPECT_EQ(pf.vlan_id, c.want.vlan_id);
  EXPECT_EQ(pf.is_fragment, c.want.is_fragment);
  EXPECT_EQ(pf.is_first_fragment, c.want.is_first_fragment);
  EXPECT_EQ(test::ChecksumErrors(c.frame), "");
}

INSTANTIATE_TEST_SUITE_P(Frames, ParseValidTest, ::testing::ValuesIn(ValidCases()),
                         [](const auto& param_info) { return param_info.param.name; });

// Frames whose length fields lie or whose headers are malformed.
struct BadCase {
  std::string name;
  std::vector<uint8_t> frame;
  ParseError err;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

std::vector<uint8_t> Patch(std::vector<uint8_t> f, size_t off, std::vector<uint8_t> bytes) {
  std::memcpy(f.data() + off, bytes.data(), bytes.size());
  return f;
}

std::vector<BadCase> BadCases() {
  const auto icmp4 = PacketBuilder().Eth(kMacB, kMacA).Ipv4(kCa1, kCa2).Icmp().Payload(10).Build();
  const auto icmp4_padded =
      PacketBuilder().Eth(kMacB, kMacA).Ipv4(kCa1, kCa2).Icmp().Payload(10).Trailer(40).Build();
  const auto udp6 =
      PacketBuilder().Eth(kMacB, kMacA).Ipv6(kCa6a, kCa6b).Udp(1, 2).Payload(10).Build();
  const auto tcp4 = PacketBuilder().Eth(kMacB, kMacA).Ipv4(kCa1, kCa2).Tcp(1, 2, kTcpSyn).Build();
  const auto arp =
      PacketBuilder().Eth(kMacB, kMacA).Arp(kArpRequest, kMacA, kCa1, {}, kCa2).Build();
  std::vector<BadCase> v;
  v.push_back({"empty", {}, ParseError::kTruncatedEth});
  v.push_back({"eth_13_bytes", std::vector<uint8_t>(13, 0), ParseError::kTruncatedEth});
  v.push_back(
      {"ipv4_total_length_too_big", Patch(icmp4, 16, {0x00, 0x2b}), ParseError::kBadIpv4Length});
  v.push_back(
      {"ipv4_total_length_max", Patch(icmp4, 16, {0xff, 0xff}), ParseError::kBadIpv4Length});
  v.push_back(
      {"ipv4_total_length_below_ihl", Patch(icmp4, 16, {0x00, 0x13}), ParseError::kBadIpv4Length});
  v.push_back(
      {"ipv4_total_length_cuts_icmp", Patch(icmp4, 16, {0x00, 0x1b}), ParseError::kTruncatedL4});
  v.push_back({"ipv4_ihl_4", Patch(icmp4, 14, {0x44}), ParseError::kBadIpv4Ihl});
  v.push_back({"ipv4_ihl_0", Patch(icmp4, 14, {0x40}), ParseError::kBadIpv4Ihl});
  v.push_back({"ipv4_ihl_past_frame", Patch(tcp4, 14, {0x4f}), ParseError::kBadIpv4Ihl});
  v.push_back(
      {"ipv4_ihl_past_total_length", Patch(icmp4_padded, 14, {0x4f}), ParseError::kBadIpv4Length});
  v.push_back({"ipv4_version_6", Patch(icmp4, 14, {0x65}), ParseError::kBadIpv4Version});
  v.push_back(
      {"tcp_data_offset_past_segment", Patch(tcp4, 34 + 12, {0xf0}), ParseError::kTruncatedL4});
  v.push_back({"tcp_data_offset_4", Patch(tcp4, 34 + 12, {0x40}), ParseError::kTruncatedL4});
  v.push_back(
      {"ipv6_payload_length_too_big", Patch(udp6, 18, {0x00, 0x13}), ParseError::kBadIpv6Length});
  v.push_back(
      {"ipv6_payload_length_max", Patch(udp6, 18, {0xff, 0xff}), ParseError::kBadIpv6Length});
  v.push_back(
      {"ipv6_payload_length_cuts_udp", Patch(udp6, 18, {0x00, 0x07}), ParseError::kTruncatedL4});
  v.push_back({"ipv6_version_4", Patch(udp6, 14, {0x40}), ParseError::kBadIpv6Version});
  v.push_back(
      {"ipv6_fragment_header_cut",
       PacketBuilder().Eth(kMacB, kMacA).Ipv6(kCa6a, kCa6b, kIpv6NextFragment).Payload(7).Build(),
       ParseError::kTruncatedIpv6});
  v.push_back({"ipv6_first_fragment_cuts_tcp",
               Patch(PacketBuilder()
                         .Eth(kMacB, kMacA)
                         .Ipv6(kCa6a, kCa6b)
                         .Ipv6Frag(0, true)
                         .Tcp(1, 2, kTcpSyn)
                         .Build(),
                     18, {0, 8 + 19}),
               ParseError::kTruncatedL4});
  v.push_back(
      {"ipv6_first_fragment_unknown_next",
       PacketBuilder().Eth(kMacB, kMacA).Ipv6(kCa6a, kCa6b).Ipv6Frag(0, true).Payload(1).Build(),
       ParseError::kOk});
  v.push_back({"arp_htype_6", Patch(arp, 14, {0x00, 0x06}), ParseError::kBadArp});
  v.push_back({"arp_ptype_ipv6", Patch(arp, 16, {0x86, 0xdd}), ParseError::kBadArp});
  v.push_back({"arp_hlen_8", Patch(arp, 18, {8}), ParseError::kBadArp});
  v.push_back({"arp_plen_16", Patch(arp, 19, {16}), ParseError::kBadArp});
  v.push_back({"double_8021q",
               PacketBuilder().Eth(kMacB, kMacA).Vlan(1).Vlan(2).Ipv4(kCa1, kCa2).Icmp().Build(),
               ParseError::kDoubleVlan});
  v.push_back({"qinq_outer",
               PacketBuilder()
                   .Eth(kMacB, kMacA)
                   .Vlan(1, 0, kEtherTypeQinQ)
                   .Vlan(2)
                   .Ipv4(kCa1, kCa2)
                   .Icmp()
                   .Build(),
               ParseError::kDoubleVlan});
  v.push_back({"qinq_inner",
               PacketBuilder()
                   .Eth(kMacB, kMacA)
                   .Vlan(1)
                   .Vlan(2, 0, kEtherTypeQinQ)
                   .Ipv4(kCa1, kCa2)
                   .Icmp()
                   .Build(),
               ParseError::kDoubleVlan});
  v.push_back({"vlan_cut", PacketBuilder().Eth(kMacB, kMacA, kEtherTypeVlan).Payload(3).Build(),
               ParseError::kTruncatedVlan});
  v.push_back({"gre_without_key",
               PacketBuilder()
                   .Eth(kMacB, kMacA)
                   .Ipv4(kPa1, kPa2)
                   .Gre(0, kEtherTypeTeb, std::nullopt)
                   .Payload(3)
                   .Build(),
               ParseError::kTruncatedL4});
  v.push_back({"udp_in_ipv4_of_7_bytes",
               PacketBuilder()
                   .Eth(kMacB, kMacA)
                   .Ipv4(kCa1, kCa2, kIpProtoUdp)
                   .Payload(7)
                   .Trailer(20)
                   .Build(),
               ParseError::kTruncatedL4});
  v.push_back(
      {"icmp6_of_7_bytes",
       PacketBuilder().Eth(kMacB, kMacA).Ipv6(kCa6a, kCa6b, kIpProtoIcmp6).Payload(7).Build(),
       ParseError::kTruncatedL4});
  return v;
}

class ParseBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseBadTest, Error) {
  const BadCase& c = GetParam();
  ParsedFrame pf;
  const ParseError err = ParseExact(c.frame, c.frame.size(), &pf);
  EXPECT_EQ(err, c.err) << "got " << ParseErrorName(err) << ", want " << ParseErrorName(c.err)
                        << "\n"
                        << test::DescribeFrame(c.frame);
  EXPECT_FALSE(err != ParseError::kOk && pf.l4_present);
}

INSTANTIATE_TEST_SUITE_P(Frames, ParseBadTest, ::testing::ValuesIn(BadCases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(ParseTest, DoubleVlanKeepsFirstTag) {
  const auto f = PacketBuilder().Eth(kMacB, kMacA).Vlan(7).Vlan(8).Payload(20).Build();
  ParsedFrame pf;
  ASSERT_EQ(ParseExact(f, f.size(), &pf), ParseError::kDoubleVlan);
  EXPECT_TRUE(pf.has_vlan);
  EXPECT_EQ(pf.vlan_id, 7);
}

TEST(ParseTest, VlanIdIgnoresPcp) {
  const auto f = PacketBuilder().Eth(kMacB, kMacA).Vlan(0x123, 7).Ipv4(kCa1, kCa2).Icmp().Build();
  ParsedFrame pf;
  ASSERT_EQ(ParseExact(f, f.size(), &pf), ParseError::kOk);
  EXPECT_EQ(pf.vlan_id, 0x123);
}

TEST(ParseTest, ErrorNames) {
  for (int i = 0; i < static_cast<int>(ParseError::kCount); ++i) {
    const std::string name = ParseErrorName(static_cast<ParseError>(i));
    EXPECT_NE(name, "unknown") << i;
    EXPECT_FALSE(name.empty());
  }
  EXPECT_STREQ(ParseErrorName(ParseError::kOk), "ok");
  EXPECT_STREQ(ParseErrorName(ParseError::kDoubleVlan), "double-vlan");
}

// Truncation at every byte boundary: the error must name the layer that was
// cut, and nothing may be read past the cut (ASan checks the exact buffer).
ParseError ExpectedForCut(const std::vector<uint8_t>& full, size_t cut) {
  if (cut < 14) return ParseError::kTruncatedEth;
  size_t l3 = 14;
  uint16_t type = static_cast<uint16_t>(full[12] << 8 | full[13]);
  if (type == kEtherTypeVlan) {
    if (cut < 18) return ParseError::kTruncatedVlan;
    l3 = 18;
    type = static_cast<uint16_t>(full[16] << 8 | full[17]);
  }
  switch (type) {
    case kEtherTypeArp:
      return cut < l3 + 28 ? ParseError::kTruncatedArp : ParseError::kOk;
    case kEtherTypeIpv4: {
      const size_t ihl = (full[l3] & 0xf) * 4u;
      if (cut < l3 + 20) return ParseError::kTruncatedIpv4;
      if (cut < l3 + ihl) return ParseError::kBadIpv4Ihl;
      const size_t total = full[l3 + 2] << 8 | full[l3 + 3];
      return cut < l3 + total ? ParseError::kBadIpv4Length : ParseError::kOk;
    }
    case kEtherTypeIpv6: {
      if (cut < l3 + 40) return ParseError::kTruncatedIpv6;
      const size_t plen = full[l3 + 4] << 8 | full[l3 + 5];
      return cut < l3 + 40 + plen ? ParseError::kBadIpv6Length : ParseError::kOk;
    }
    default:
      return ParseError::kOk;
  }
}

TEST(ParseTest, TruncationAtEveryByte) {
  const std::vector<std::pair<const char*, std::vector<uint8_t>>> frames = {
      {"arp_vlan", PacketBuilder()
                       .Eth(MacAddr::Broadcast(), kMacA)
                       .Vlan(9)
                       .Arp(kArpRequest, kMacA, kCa1, {}, kCa2)
                       .Build()},
      {"icmp4", PacketBuilder().Eth(kMacB, kMacA).Ipv4(kCa1, kCa2).Icmp().Payload(20).Build()},
      {"tcp4_vlan_mss",
       PacketBuilder().Eth(kMacB, kMacA).Vlan(3).Ipv4(kCa1, kCa2).Tcp(1, 2, kTcpSyn, 1460).Build()},
      {"ipv4_options", PacketBuilder()
                           .Eth(kMacB, kMacA)
                           .Ipv4(kCa1, kCa2)
                           .Ipv4Options({1, 1, 1, 1, 1, 1, 1, 1})
                           .Udp(5, 6)
                           .Build()},
      {"nvgre", PacketBuilder()
                    .Eth(kPaMac2, kPaMac1)
                    .Ipv4(kPa1, kPa2)
                    .Nvgre(6000, 1)
                    .Eth(kMacB, kMacA)
                    .Ipv4(kCa1, kCa2)
                    .Icmp()
                    .Build()},
      {"ipv6_frag_udp", PacketBuilder()
                            .Eth(kMacB, kMacA)
                            .Ipv6(kCa6a, kCa6b)
                            .Ipv6Frag(0, true)
                            .Udp(1, 2)
                            .Payload(5)
                            .Build()},
      {"ns", PacketBuilder()
                 .Eth(kMacB, kMacA)
                 .Ipv6(kCa6a, kCa6b)
                 .Icmp6(kIcmp6NeighborSolicit, 0, 0)
                 .Payload(24)
                 .Build()},
  };
  for (const auto& [name, full] : frames) {
    for (size_t cut = 0; cut <= full.size(); ++cut) {
      ParsedFrame pf;
      const ParseError err = ParseExact(full, cut, &pf);
      const ParseError want = ExpectedForCut(full, cut);
      ASSERT_EQ(err, want) << name << " cut at " << cut << ": got " << ParseErrorName(err)
                           << ", want " << ParseErrorName(want);
      if (err == ParseError::kOk) {
        EXPECT_LE(pf.l3_offset + pf.l3_len, cut) << name << " cut " << cut;
      }
    }
  }
}

// IP length fields that shrink byte by byte inside a frame that still holds
// all the bytes: the L4 header check must follow the IP length, not the frame.
TEST(ParseTest, ShrinkingIpLengthCutsL4) {
  struct Shrink {
    const char* name;
    std::vector<uint8_t> frame;
    bool v6;
    size_t l4_min;
  };
  const std::vector<Shrink> cases = {
      {"udp4", PacketBuilder().Eth(kMacB, kMacA).Ipv4(kCa1, kCa2).Udp(1, 2).Payload(4).Build(),
       false, 8},
      {"tcp4", PacketBuilder().Eth(kMacB, kMacA).Ipv4(kCa1, kCa2).Tcp(1, 2, kTcpSyn, 1400).Build(),
       false, 24},
      {"gre4", PacketBuilder().Eth(kMacB, kMacA).Ipv4(kPa1, kPa2).Nvgre(6000).Payload(2).Build(),
       false, 8},
      {"icmp6", PacketBuilder().Eth(kMacB, kMacA).Ipv6(kCa6a, kCa6b).Icmp6().Build(), true, 8},
      {"tcp6", PacketBuilder().Eth(kMacB, kMacA).Ipv6(kCa6a, kCa6b).Tcp(1, 2, 0, 1400).Build(),
       true, 24},
  };
  for (const Shrink& c : cases) {
    const size_t ip_hdr = c.v6 ? 40 : 20;
    for (size_t l4_len = 0; l4_len <= c.frame.size() - 14 - ip_hdr; ++l4_len) {
      std::vector<uint8_t> f = c.frame;
      const size_t field = c.v6 ? l4_len : ip_hdr + l4_len;
      const size_t at = c.v6 ? 18 : 16;
      f[at] = static_cast<uint8_t>(field >> 8);
      f[at + 1] = static_cast<uint8_t>(field);
      ParsedFrame pf;
      const ParseError err = ParseExact(f, f.size(), &pf);
      const ParseError want = l4_len < c.l4_min ? ParseError::kTruncatedL4 : ParseError::kOk;
      EXPECT_EQ(err, want) << c.name << " l4_len " << l4_len << ": " << ParseErrorName(err);
      EXPECT_EQ(pf.l4_present, want == ParseError::kOk) << c.name << " l4_len " << l4_len;
      EXPECT_EQ(pf.l3_len, ip_hdr + l4_len);
    }
  }
}

// Random mutations of valid frames and random bytes: never a crash, and the
// invariants the stages rely on hold whenever a frame parses.
TEST(ParseTest, MutationsKeepInvariants) {
  std::vector<std::vector<uint8_t>> seeds;
  for (const ParseCase& c : ValidCases()) seeds.push_back(c.frame);
  std::mt19937 rng(12345);
  int ok = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> f = seeds[rng() % seeds.size()];
    const int flips = 1 + rng() % 4;
    for (int k = 0; k < flips && !f.empty(); ++k) f[rng() % f.size()] = static_cast<uint8_t>(rng());
    const size_t len = f.empty() ? 0 : rng() % (f.size() + 1);
    ParsedFrame pf;
    const ParseError err = ParseExact(f, len, &pf);
    if (err != ParseError::kOk) continue;
    ++ok;
    ASSERT_LE(pf.l3_offset, len);
    if (pf.l3 == L3Kind::kIpv4 || pf.l3 == L3Kind::kIpv6 || pf.l3 == L3Kind::kArp) {
      ASSERT_LE(pf.l3_offset + pf.l3_len, len);
    }
    if (pf.l4_present) {
      ASSERT_LE(pf.l4_offset + 8u, pf.l3_offset + pf.l3_len);
      if (pf.l4_proto == kIpProtoTcp) {
        const auto* tcp = pf.At<TcpHdr>(f.data(), pf.l4_offset);
        ASSERT_LE(pf.l4_offset + tcp->header_bytes(), pf.l3_offset + pf.l3_len);
      }
    }
  }
  EXPECT_GT(ok, 1000);  // the mutations are not all rejected
}

}  // namespace
}  // namespace hnv
