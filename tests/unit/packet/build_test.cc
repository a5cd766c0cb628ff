#include "dataplane/packet/build.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "dataplane/packet/checksum.h"
#include "dataplane/packet/parse.h"
#include "tests/lib/frame_diff.h"
#include "tests/lib/packet_builder.h"

namespace hnv {
namespace {

using test::ChecksumErrors;
using test::FrameDiff;
using test::Ip;
using test::Mac;
using test::PacketBuilder;

const MacAddr kVmMac = Mac("600060000101");
const MacAddr kGwMac = Mac("600060000001");
const MacAddr kPaMac = Mac("00155d000022");
const IpAddr kVmIp = Ip("10.0.1.101");
const IpAddr kGwIp = Ip("10.0.1.1");
const IpAddr kPa = Ip("192.168.0.22");
const IpAddr kPaPeer = Ip("192.168.0.33");
const IpAddr kVm6 = Ip("fd00:1::65");
const IpAddr kGw6 = Ip("fd00:1::1");

using BuildFn = std::function<uint32_t(uint8_t*, uint32_t)>;

// Runs a builder into a buffer of `cap` bytes followed by a guard area that
// must stay untouched.
std::vector<uint8_t> RunBuilder(const BuildFn& fn, uint32_t cap = 2048) {
  std::vector<uint8_t> buf(cap + 64, 0xa5);
  const uint32_t n = fn(buf.data(), cap);
  for (size_t i = cap; i < buf.size(); ++i) EXPECT_EQ(buf[i], 0xa5) << "wrote past cap at " << i;
  EXPECT_LE(n, cap);
  buf.resize(n);
  return buf;
}

// The smallest cap a builder accepts is its frame length: one byte less gives 0.
void ExpectExactCap(const BuildFn& fn, uint32_t len) {
  std::vector<uint8_t> buf(len + 64);
  EXPECT_EQ(fn(buf.data(), len), len);
  EXPECT_EQ(fn(buf.data(), len - 1), 0u);
  EXPECT_EQ(fn(buf.data(), 0), 0u);
}

std::vector<uint8_t> Bytes(const IpAddr& a) {
  return std::vector<uint8_t>(a.b.begin(), a.b.begin() + (a.is_v4() ? 4 : 16));
}

std::vector<uint8_t> Cat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<uint8_t> MacBytes(const MacAddr& m) {
  return std::vector<uint8_t>(m.b.begin(), m.b.end());
}

ParsedFrame MustParse(const std::vector<uint8_t>& f) {
  ParsedFrame pf;
  const ParseError err = ParseFrame(f.data(), static_cast<uint32_t>(f.size()), &pf);
  EXPECT_EQ(err, ParseError::kOk) << ParseErrorName(err) << "\n" << test::DescribeFrame(f);
  return pf;
}

TEST(WriteEthTest, UntaggedAndTagged) {
  uint8_t buf[18];
  EXPECT_EQ(WriteEth(buf, kGwMac, kVmMac, kEtherTypeIpv4), 14u);
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + 14),
            PacketBuilder().Eth(kGwMac, kVmMac, kEtherTypeIpv4).Build());
  EXPECT_EQ(WriteEth(buf, kGwMac, kVmMac, kEtherTypeIpv6, 0x123), 18u);
  const std::vector<uint8_t> want =
      Cat(Cat(MacBytes(kGwMac), MacBytes(kVmMac)), {0x81, 0x00, 0x01, 0x23, 0x86, 0xdd});
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + 18), want);
}

TEST(ArpBuildTest, RequestMatchesBuilder) {
  for (uint16_t vlan : {0, 42}) {
    const BuildFn fn = [&](uint8_t* out, uint32_t cap) {
      return BuildArpRequest(out, cap, kPaMac, kPa, kPaPeer, vlan);
    };
    const auto got = RunBuilder(fn);
    PacketBuilder b;
    b.Eth(MacAddr::Broadcast(), kPaMac);
    if (vlan) b.Vlan(vlan);
    const auto want = b.Arp(kArpRequest, kPaMac, kPa, MacAddr{}, kPaPeer).Build();
    EXPECT_EQ(got, want) << FrameDiff(want, got);
    const ParsedFrame pf = MustParse(got);
    EXPECT_EQ(pf.l3, L3Kind::kArp);
    EXPECT_EQ(pf.vlan_id, vlan);
    ExpectExactCap(fn, static_cast<uint32_t>(want.size()));
  }
}

TEST(ArpBuildTest, ReplyMatchesBuilder) {
  const BuildFn fn = [](uint8_t* out, uint32_t cap) {
    return BuildArpReply(out, cap, kGwMac, kGwIp, kVmMac, kVmIp);
  };
  const auto got = RunBuilder(fn);
  const auto want =
      PacketBuilder().Eth(kVmMac, kGwMac).Arp(kArpReply, kGwMac, kGwIp, kVmMac, kVmIp).Build();
  EXPECT_EQ(got, want) << FrameDiff(want, got);
  ExpectExactCap(fn, 42);
}

TEST(ArpBuildTest, RejectsIpv6) {
  uint8_t buf[128];
  EXPECT_EQ(BuildArpRequest(buf, sizeof(buf), kPaMac, kVm6, kPaPeer), 0u);
  EXPECT_EQ(BuildArpReply(buf, sizeof(buf), kGwMac, kGwIp, kVmMac, kVm6), 0u);
}

TEST(NdBuildTest, SolicitationToSolicitedNodeGroup) {
  const IpAddr target = Ip("fd00:1::12:3456");
  for (uint16_t vlan : {0, 7}) {
    const BuildFn fn = [&](uint8_t* out, uint32_t cap) {
      return BuildNeighborSolicit(out, cap, kVmMac, kVm6, target, vlan);
    };
    const auto got = RunBuilder(fn);
    PacketBuilder b;
    b.Eth(Mac("3333ff123456"), kVmMac);
    if (vlan) b.Vlan(vlan);
    const auto want =
        b.Ipv6(kVm6, Ip("ff02::1:ff12:3456"))
            .Ttl(255)
            .Icmp6(kIcmp6NeighborSolicit, 0, 0)
            .Payload(Cat(Bytes(target), Cat({kNdOptSourceLinkAddr, 1}, MacBytes(kVmMac))))
            .Build();
    EXPECT_EQ(got, want) << FrameDiff(want, got);
    EXPECT_EQ(ChecksumErrors(got), "");
    const ParsedFrame pf = MustParse(got);
    EXPECT_EQ(pf.l4_proto, kIpProtoIcmp6);
    EXPECT_TRUE(pf.l4_present);
    ExpectExactCap(fn, static_cast<uint32_t>(want.size()));
  }
}

TEST(NdBuildTest, DadSolicitationHasNoSourceOption) {
  const BuildFn fn = [](uint8_t* out, uint32_t cap) {
    return BuildNeighborSolicit(out, cap, kVmMac, Ip("::"), kVm6);
  };
  const auto got = RunBuilder(fn);
  const auto want = PacketBuilder()
                        .Eth(Mac("3333ff000065"), kVmMac)
                        .Ipv6(Ip("::"), Ip("ff02::1:ff00:65"))
                        .Ttl(255)
                        .Icmp6(kIcmp6NeighborSolicit, 0, 0)
                        .Payload(Bytes(kVm6))
                        .Build();
  EXPECT_EQ(got, want) << FrameDiff(want, got);
}

TEST(NdBuildTest, AdvertisementFlagsAndOption) {
  for (bool router : {false, true}) {
    const BuildFn fn = [&](uint8_t* out, uint32_t cap) {
      return BuildNeighborAdvert(out, cap, kGwMac, kGw6, kVmMac, kVm6, router);
    };
    const auto got = RunBuilder(fn);
    const uint32_t flags = kNaSolicited | kNaOverride | (router ? kNaRouter : 0);
    const auto want =
        PacketBuilder()
            .Eth(kVmMac, kGwMac)
            .Ipv6(kGw6, kVm6)
            .Ttl(255)
            .Icmp6(kIcmp6NeighborAdvert, 0, flags)
            .Payload(Cat(Bytes(kGw6), Cat({kNdOptTargetLinkAddr, 1}, MacBytes(kGwMac))))
            .Build();
    EXPECT_EQ(got, want) << FrameDiff(want, got);
    EXPECT_EQ(ChecksumErrors(got), "");
    ExpectExactCap(fn, 14 + 40 + 32);
  }
}

TEST(NdBuildTest, AdvertisementToDadGoesToAllNodesWithoutS) {
  uint8_t buf[256];
  const uint32_t n = BuildNeighborAdvert(buf, sizeof(buf), kGwMac, kGw6, kVmMac, Ip("::"), false);
  const std::vector<uint8_t> got(buf, buf + n);
  const auto want = PacketBuilder()
                        .Eth(Mac("333300000001"), kGwMac)
                        .Ipv6(kGw6, Ip("ff02::1"))
                        .Ttl(255)
                        .Icmp6(kIcmp6NeighborAdvert, 0, kNaOverride)
                        .Payload(Cat(Bytes(kGw6), Cat({kNdOptTargetLinkAddr, 1}, MacBytes(kGwMac))))
                        .Build();
  EXPECT_EQ(got, want) << FrameDiff(want, got);
}

TEST(NdBuildTest, RejectsIpv4) {
  uint8_t buf[256];
  EXPECT_EQ(BuildNeighborSolicit(buf, sizeof(buf), kVmMac, kVmIp, kVm6), 0u);
  EXPECT_EQ(BuildNeighborAdvert(buf, sizeof(buf), kGwMac, kGwIp, kVmMac, kVm6, false), 0u);
}

TEST(EchoReplyTest, Ipv4InPlace) {
  for (uint16_t vlan : {0, 11}) {
    PacketBuilder req_b, rep_b;
    req_b.Eth(kGwMac, kVmMac);
    rep_b.Eth(kVmMac, kGwMac);
    if (vlan) {
      req_b.Vlan(vlan);
      rep_b.Vlan(vlan);
    }
    auto frame = req_b.Ipv4(kVmIp, kGwIp)
                     .Ttl(5)
                     .Ipv4Id(77)
                     .Icmp(kIcmpEchoRequest, 0, 0xbeef0003)
                     .Payload(56)
                     .Build();
    const auto want =
        rep_b.Ipv4(kGwIp, kVmIp).Ipv4Id(77).Icmp(kIcmpEchoReply, 0, 0xbeef0003).Payload(56).Build();
    const ParsedFrame pf = MustParse(frame);
    ASSERT_TRUE(EchoRequestToReplyInPlace(frame.data(), pf));
    EXPECT_EQ(frame, want) << FrameDiff(want, frame);
  }
}

TEST(EchoReplyTest, Ipv4BadChecksumStaysBad) {
  auto frame = PacketBuilder().Eth(kGwMac, kVmMac).Ipv4(kVmIp, kGwIp).Icmp().Payload(9).Build();
  frame[34 + 2] ^= 0x40;  // corrupt the ICMP checksum
  ASSERT_TRUE(EchoRequestToReplyInPlace(frame.data(), MustParse(frame)));
  EXPECT_NE(ChecksumErrors(frame), "");
  EXPECT_NE(ChecksumErrors(frame).find("ICMP"), std::string::npos);
}

TEST(EchoReplyTest, Ipv6InPlace) {
  auto frame =
      PacketBuilder().Eth(kGwMac, kVmMac).Ipv6(kVm6, kGw6).Ttl(1).Icmp6().Payload(33).Build();
  const auto want = PacketBuilder()
                        .Eth(kVmMac, kGwMac)
                        .Ipv6(kGw6, kVm6)
                        .Icmp6(kIcmp6EchoReply)
                        .Payload(33)
                        .Build();
  ASSERT_TRUE(EchoRequestToReplyInPlace(frame.data(), MustParse(frame)));
  EXPECT_EQ(frame, want) << FrameDiff(want, frame);
}

TEST(EchoReplyTest, Ipv6WithEthernetPadding) {
  auto frame = PacketBuilder().Eth(kGwMac, kVmMac).Ipv6(kVm6, kGw6).Icmp6().Trailer(6).Build();
  ASSERT_TRUE(EchoRequestToReplyInPlace(frame.data(), MustParse(frame)));
  EXPECT_EQ(ChecksumErrors(frame), "");
}

TEST(EchoReplyTest, LeavesOtherFramesAlone) {
  const std::vector<std::pair<const char*, std::vector<uint8_t>>> cases = {
      {"echo_reply",
       PacketBuilder().Eth(kGwMac, kVmMac).Ipv4(kVmIp, kGwIp).Icmp(kIcmpEchoReply).Build()},
      {"dest_unreach",
       PacketBuilder().Eth(kGwMac, kVmMac).Ipv4(kVmIp, kGwIp).Icmp(3, 1).Payload(28).Build()},
      {"udp", PacketBuilder().Eth(kGwMac, kVmMac).Ipv4(kVmIp, kGwIp).Udp(7, 7).Build()},
      {"first_fragment", PacketBuilder()
                             .Eth(kGwMac, kVmMac)
                             .Ipv4(kVmIp, kGwIp)
                             .Ipv4Frag(0, true)
                             .Icmp()
                             .Payload(8)
                             .Build()},
      {"icmp6_echo_reply",
       PacketBuilder().Eth(kGwMac, kVmMac).Ipv6(kVm6, kGw6).Icmp6(kIcmp6EchoReply).Build()},
      {"icmp6_fragment",
       PacketBuilder().Eth(kGwMac, kVmMac).Ipv6(kVm6, kGw6).Ipv6Frag(0, false).Icmp6().Build()},
      {"ns", PacketBuilder()
                 .Eth(kGwMac, kVmMac)
                 .Ipv6(kVm6, kGw6)
                 .Icmp6(kIcmp6NeighborSolicit)
                 .Payload(16)
                 .Build()},
      {"arp",
       PacketBuilder().Eth(kGwMac, kVmMac).Arp(kArpRequest, kVmMac, kVmIp, {}, kGwIp).Build()},
  };
  for (const auto& [name, orig] : cases) {
    auto frame = orig;
    ParsedFrame pf;
    ASSERT_EQ(ParseFrame(frame.data(), static_cast<uint32_t>(frame.size()), &pf), ParseError::kOk)
        << name;
    EXPECT_FALSE(EchoRequestToReplyInPlace(frame.data(), pf)) << name;
    EXPECT_EQ(frame, orig) << name << FrameDiff(orig, frame);
  }
}

TEST(IcmpTooBigTest, Ipv4QuotesUpTo548Bytes) {
  for (size_t payload : {10, 1380}) {
    const auto orig = PacketBuilder()
                          .Eth(kGwMac, kVmMac)
                          .Ipv4(kVmIp, Ip("10.0.2.7"))
                          .DontFragment()
                          .Tcp(40000, 443, 0x18)
                          .Payload(payload)
                          .Build();
    const std::vector<uint8_t> orig_ip(orig.begin() + 14, orig.end());
    const BuildFn fn = [&](uint8_t* out, uint32_t cap) {
      return BuildIcmpTooBig(out, cap, kGwMac, kVmMac, kGwIp, orig_ip.data(),
                             static_cast<uint32_t>(orig_ip.size()), 1458);
    };
    const auto got = RunBuilder(fn);
    const size_t quote = std::min<size_t>(orig_ip.size(), 576 - 28);
    const auto want = PacketBuilder()
                          .Eth(kVmMac, kGwMac)
                          .Ipv4(kGwIp, kVmIp)
                          .Ttl(64)
                          .Icmp(kIcmpDestUnreachable, kIcmpFragNeeded, 1458)
                          .Payload(std::vector<uint8_t>(orig_ip.begin(), orig_ip.begin() + quote))
                          .Build();
    EXPECT_EQ(got, want) << FrameDiff(want, got);
    EXPECT_EQ(ChecksumErrors(got), "");
    EXPECT_LE(got.size() - 14, 576u);
    const ParsedFrame pf = MustParse(got);
    EXPECT_FALSE(pf.At<Ipv4Hdr>(got.data(), pf.l3_offset)->dont_fragment());
    ExpectExactCap(fn, static_cast<uint32_t>(want.size()));
  }
}

TEST(IcmpTooBigTest, Ipv6QuotesUpTo1232Bytes) {
  for (size_t payload : {0, 1400}) {
    const auto orig = PacketBuilder()
                          .Eth(kGwMac, kVmMac)
                          .Ipv6(kVm6, Ip("fd00:2::7"))
                          .Udp(5000, 53)
                          .Payload(payload)
                          .Build();
    const std::vector<uint8_t> orig_ip(orig.begin() + 14, orig.end());
    const BuildFn fn = [&](uint8_t* out, uint32_t cap) {
      return BuildIcmpTooBig(out, cap, kGwMac, kVmMac, kGw6, orig_ip.data(),
                             static_cast<uint32_t>(orig_ip.size()), 1438);
    };
    const auto got = RunBuilder(fn);
    const size_t quote = std::min<size_t>(orig_ip.size(), 1280 - 48);
    const auto want = PacketBuilder()
                          .Eth(kVmMac, kGwMac)
                          .Ipv6(kGw6, kVm6)
                          .Ttl(64)
                          .Icmp6(kIcmp6PacketTooBig, 0, 1438)
                          .Payload(std::vector<uint8_t>(orig_ip.begin(), orig_ip.begin() + quote))
                          .Build();
    EXPECT_EQ(got, want) << FrameDiff(want, got);
    EXPECT_EQ(ChecksumErrors(got), "");
    EXPECT_LE(got.size() - 14, 1280u);
    ExpectExactCap(fn, static_cast<uint32_t>(want.size()));
  }
}

TEST(IcmpTooBigTest, RejectsBadInput) {
  const auto v4 = PacketBuilder().Eth(kGwMac, kVmMac).Ipv4(kVmIp, kGwIp).Udp(1, 2).Build();
  const auto v6 = PacketBuilder().Eth(kGwMac, kVmMac).Ipv6(kVm6, kGw6).Udp(1, 2).Build();
  std::vector<uint8_t> out(2048);
  auto run = [&](const IpAddr& src, const std::vector<uint8_t>& f, size_t len) {
    return BuildIcmpTooBig(out.data(), 2048, kGwMac, kVmMac, src, f.data() + 14,
                           static_cast<uint32_t>(len), 1400);
  };
  EXPECT_EQ(run(kGw6, v4, v4.size() - 14), 0u);  // family mismatch
  EXPECT_EQ(run(kGwIp, v6, v6.size() - 14), 0u);
  EXPECT_EQ(run(kGwIp, v4, 19), 0u);  // shorter than an IPv4 header
  EXPECT_EQ(run(kGw6, v6, 39), 0u);
  EXPECT_EQ(run(kGwIp, v4, 0), 0u);
  EXPECT_EQ(BuildIcmpTooBig(out.data(), 2048, kGwMac, kVmMac, kGwIp, nullptr, 20, 1400), 0u);
  EXPECT_EQ(BuildIcmpTimeExceeded(out.data(), 2048, kGwMac, kVmMac, kGwIp, nullptr, 20), 0u);
  EXPECT_EQ(BuildIcmpTimeExceeded(out.data(), 2048, kGwMac, kVmMac, kGw6, v4.data() + 14,
                                  static_cast<uint32_t>(v4.size() - 14)),
            0u);  // family mismatch
  std::vector<uint8_t> bad_version(v4.begin() + 14, v4.end());
  bad_version[0] = 0x55;
  EXPECT_EQ(BuildIcmpTooBig(out.data(), 2048, kGwMac, kVmMac, kGwIp, bad_version.data(),
                            static_cast<uint32_t>(bad_version.size()), 1400),
            0u);
}

// ClampTcpMss on real frames: the TCP checksum must stay right, whatever the
// MSS option's alignment.
struct MssCase {
  std::string name;
  uint8_t flags;
  std::vector<uint8_t> options;
  uint16_t max_mss;
  bool changed;
  int mss_at = -1;  // option offset of the MSS value to check
  uint16_t want_mss = 0;
};

void PrintTo(const MssCase& c, std::ostream* os) { *os << c.name; }

std::vector<uint8_t> MssOpt(uint16_t mss) {
  return {kTcpOptMss, 4, static_cast<uint8_t>(mss >> 8), static_cast<uint8_t>(mss)};
}

std::vector<MssCase> MssCases() {
  const uint8_t syn = kTcpSyn, synack = kTcpSyn | 0x10, ack = 0x10;
  const std::vector<uint8_t> ws = {3, 3, 7}, sack_ok = {4, 2}, nop = {kTcpOptNop};
  const std::vector<uint8_t> ts = {8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
  return {
      {"syn_clamped", syn, MssOpt(1460), 1400, true, 2, 1400},
      {"syn_ack_clamped", synack, MssOpt(1460), 1400, true, 2, 1400},
      {"syn_below_max", syn, MssOpt(1300), 1400, false, 2, 1300},
      {"syn_equal_max", syn, MssOpt(1400), 1400, false, 2, 1400},
      {"ack_untouched", ack, MssOpt(1460), 1400, false, 2, 1460},
      {"syn_no_options", syn, {}, 1400, false},
      {"odd_offset_after_nop", syn, Cat(nop, MssOpt(1460)), 1400, true, 3, 1400},
      {"odd_offset_after_three_nops", syn, Cat({1, 1, 1}, MssOpt(0xffff)), 0x1234, true, 5, 0x1234},
      {"odd_offset_high_bytes", syn, Cat(nop, MssOpt(0xff01)), 0x00ff, true, 3, 0x00ff},
      {"linux_syn_options", syn, Cat(Cat(Cat(MssOpt(65495), sack_ok), ts), Cat(nop, ws)), 1360,
       true, 2, 1360},
      {"mss_last", syn, Cat(Cat(Cat(nop, ws), Cat(sack_ok, ts)), MssOpt(9000)), 8960, true, 18,
       8960},
      {"end_before_mss", syn, Cat({kTcpOptEnd, 0, 0, 0}, MssOpt(1460)), 1400, false, 6, 1460},
      {"zero_length_option", syn, Cat({30, 0, 0, 0}, MssOpt(1460)), 1400, false, 6, 1460},
      {"one_length_option", syn, Cat({30, 1, 0, 0}, MssOpt(1460)), 1400, false, 6, 1460},
      {"option_past_header", syn, Cat(MssOpt(1460), {30, 9, 0, 0}), 1400, true, 2, 1400},
      {"option_running_past_header_first", syn, Cat({30, 12, 0, 0}, MssOpt(1460)), 1400, false, 6,
       1460},
      {"mss_wrong_length", syn, {kTcpOptMss, 3, 0x05, 0xb4}, 1400, false},
      {"mss_kind_at_last_byte", syn, {1, 1, 1, kTcpOptMss}, 1400, false},
      {"two_mss_options", syn, Cat(MssOpt(1500), MssOpt(1460)), 1400, true, 6, 1400},
  };
}

class ClampMssTest : public ::testing::TestWithParam<MssCase> {};

TEST_P(ClampMssTest, Ipv4AndIpv6) {
  const MssCase& c = GetParam();
  for (bool v6 : {false, true}) {
    PacketBuilder b;
    b.Eth(kGwMac, kVmMac);
    if (v6) {
      b.Ipv6(kVm6, kGw6);
    } else {
      b.Ipv4(kVmIp, kGwIp);
    }
    auto frame = b.TcpWithOptions(40000, 443, c.flags, c.options).Payload(5).Build();
    const auto before = frame;
    const ParsedFrame pf = MustParse(frame);
    ASSERT_TRUE(pf.l4_present);
    const uint32_t tcp_len = pf.l3_offset + pf.l3_len - pf.l4_offset;
    uint8_t* tcp = frame.data() + pf.l4_offset;
    EXPECT_EQ(ClampTcpMss(tcp, tcp_len, c.max_mss), c.changed) << (v6 ? "v6" : "v4");
    EXPECT_EQ(ChecksumErrors(frame), "") << test::DescribeFrame(frame);
    if (c.mss_at >= 0) {
      const uint8_t* v = tcp + 20 + c.mss_at;
      EXPECT_EQ(v[0] << 8 | v[1], c.want_mss);
    }
    if (!c.changed) {
      EXPECT_EQ(frame, before) << FrameDiff(before, frame);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Options, ClampMssTest, ::testing::ValuesIn(MssCases()),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(ClampMssTest, ShortOrLyingSegments) {
  auto frame =
      PacketBuilder().Eth(kGwMac, kVmMac).Ipv4(kVmIp, kGwIp).Tcp(1, 2, kTcpSyn, 1460).Build();
  uint8_t* tcp = frame.data() + 34;
  const auto before = frame;
  EXPECT_FALSE(ClampTcpMss(tcp, 19, 1000));
  EXPECT_FALSE(ClampTcpMss(tcp, 23, 1000));  // data offset says 24
  EXPECT_EQ(frame, before);
  tcp[12] = 0x40;  // data offset 16 < 20
  EXPECT_FALSE(ClampTcpMss(tcp, 24, 1000));
  tcp[12] = 0xf0;  // 60 > 24
  EXPECT_FALSE(ClampTcpMss(tcp, 24, 1000));
  tcp[12] = 0x60;
  EXPECT_TRUE(ClampTcpMss(tcp, 24, 1000));
}

}  // namespace
}  // namespace hnv
