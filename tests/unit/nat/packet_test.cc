// nat/packet.h: the view of a frame and the rewrites. Every expected frame
// is built independently by PacketBuilder with the translated values, which
// computes every checksum in full: equal bytes mean the incremental updates
// gave exactly what a full recomputation gives.
#include <gtest/gtest.h>

#include <random>

#include "nat/packet.h"
#include "tests/unit/nat/nat_test_util.h"

namespace hnv::nat::test {
namespace {

using hnv::test::ChecksumErrors;
using hnv::test::FrameDiff;

PacketView View(Bytes& f) {
  PacketView v;
  EXPECT_EQ(ViewPacket(f.data(), static_cast<uint32_t>(f.size()), &v), Drop::kNone);
  return v;
}

void ExpectSame(const Bytes& expected, const Bytes& actual) {
  EXPECT_EQ(actual, expected) << FrameDiff(expected, actual);
  EXPECT_EQ(ChecksumErrors(actual), "");
}

TEST(NatPacketTest, TcpSourceRewrite) {
  auto make = [](IpAddr src, uint16_t sport) {
    return PacketBuilder().Eth(kMacB, kMacA).Ipv4(src, kRemote1).Tcp(sport, 80, kTcpSyn, 1460)
        .Payload(11).Build();
  };
  Bytes f = make(kHost1, 40000);
  PacketView v = View(f);
  EXPECT_EQ(v.kind, Kind::kTcp);
  RewriteEnd(v, Side::kSrc, Ep(kPool1, 1025));
  ExpectSame(make(kPool1, 1025), f);
  EXPECT_EQ(v.src, Ep(kPool1, 1025));
}

TEST(NatPacketTest, TcpDestinationRewriteWithVlan) {
  auto make = [](IpAddr dst, uint16_t dport) {
    return PacketBuilder().Eth(kMacA, kMacB).Vlan(10).Ipv4(kRemote1, dst)
        .Tcp(80, dport, kTcpSyn | 0x10).Payload(100).Build();
  };
  Bytes f = make(kPool1, 1025);
  PacketView v = View(f);
  RewriteEnd(v, Side::kDst, Ep(kHost1, 40000));
  ExpectSame(make(kHost1, 40000), f);
}

TEST(NatPacketTest, UdpBothWaysAndZeroChecksumStaysZero) {
  auto make = [](IpAddr src, uint16_t sport, bool zero) {
    Bytes f = PacketBuilder().Eth(kMacB, kMacA).Ipv4(src, kRemote1).Udp(sport, 53).Payload(33)
                  .Build();
    if (zero) f[14 + 20 + 6] = f[14 + 20 + 7] = 0;
    return f;
  };
  for (const bool zero : {false, true}) {
    Bytes f = make(kHost1, 5353, zero);
    PacketView v = View(f);
    RewriteEnd(v, Side::kSrc, Ep(kPool2, 61000));
    ExpectSame(make(kPool2, 61000, zero), f);
    if (zero) {
      EXPECT_EQ(Load16(f.data() + 14 + 20 + 6), 0);
    }
  }
}

TEST(NatPacketTest, IcmpEchoIdentifierBothWays) {
  auto req = [](IpAddr src, uint16_t id) {
    return PacketBuilder().Eth(kMacB, kMacA).Ipv4(src, kRemote1)
        .Icmp(kIcmpEchoRequest, 0, static_cast<uint32_t>(id) << 16 | 7).Payload(56).Build();
  };
  Bytes f = req(kHost1, 0x1234);
  PacketView v = View(f);
  EXPECT_EQ(v.kind, Kind::kIcmpQuery);
  EXPECT_EQ(v.src.port, RawPort(0x1234));
  RewriteEnd(v, Side::kSrc, Ep(kPool1, 2000));
  ExpectSame(req(kPool1, 2000), f);

  auto rep = [](IpAddr dst, uint16_t id) {
    return PacketBuilder().Eth(kMacA, kMacB).Ipv4(kRemote1, dst)
        .Icmp(kIcmpEchoReply, 0, static_cast<uint32_t>(id) << 16 | 7).Payload(56).Build();
  };
  Bytes r = rep(kPool1, 2000);
  PacketView rv = View(r);
  RewriteEnd(rv, Side::kDst, Ep(kHost1, 0x1234));
  ExpectSame(rep(kHost1, 0x1234), r);
}

// The datagram an inside host sent (or received), whole: ICMP errors carry
// its first bytes, with the checksum it had over all of it.
Bytes Datagram(uint8_t proto, IpAddr src, IpAddr dst, uint16_t sport, uint16_t dport) {
  PacketBuilder b;
  b.Eth(kMacB, kMacA).Ipv4(src, dst).Ttl(1);
  if (proto == kIpProtoUdp) b.Udp(sport, dport).Payload(64);
  if (proto == kIpProtoTcp) b.Tcp(sport, dport, kTcpSyn).Payload(64);
  if (proto == kIpProtoIcmp) b.Icmp(kIcmpEchoRequest, 0, static_cast<uint32_t>(sport) << 16 | 1)
      .Payload(64);
  return b.Build();
}

struct ErrorCase {
  const char* name;
  uint8_t proto;
  size_t keep;     // embedded bytes: 28 = IP + 8 (RFC 792), 48 = with TCP's checksum
  bool zero_udp;   // the embedded UDP datagram had no checksum
  uint8_t type, code;
};

class NatIcmpErrorTest : public ::testing::TestWithParam<ErrorCase> {};

// Inbound: a router tells us our (translated) packet to kRemote1 failed;
// the error goes to the pool address and must reach the inside host with
// the embedded packet as the host sent it.
TEST_P(NatIcmpErrorTest, Inbound) {
  const ErrorCase& c = GetParam();
  const uint16_t rport = c.proto == kIpProtoIcmp ? 0x1234 : 53;
  auto error_to = [&](IpAddr addr, uint16_t port) {
    const uint16_t dport = c.proto == kIpProtoIcmp ? port : rport;
    Bytes d = Datagram(c.proto, addr, kRemote1, port, dport);
    if (c.zero_udp) d[14 + 20 + 6] = d[14 + 20 + 7] = 0;
    return IcmpError(kRouter, addr, c.type, c.code, Embedded(d, c.keep));
  };
  Bytes f = error_to(kPool1, 1025);
  PacketView v = View(f);
  ASSERT_EQ(v.kind, Kind::kIcmpError);
  EXPECT_EQ(v.inner_src.addr, Raw(kPool1));
  RewriteIcmpError(v, Side::kDst, Ep(kHost1, 40000));
  ExpectSame(error_to(kHost1, 40000), f);
}

// Outbound: the inside host answers a packet that came in (translated to it)
// with an error; the error must leave from the pool address, embedding the
// packet as the remote host sent it.
TEST_P(NatIcmpErrorTest, Outbound) {
  const ErrorCase& c = GetParam();
  auto error_from = [&](IpAddr addr, uint16_t port) {
    const uint16_t sport = c.proto == kIpProtoIcmp ? port : 5000;
    Bytes d = Datagram(c.proto, kRemote1, addr, sport, port);
    if (c.zero_udp) d[14 + 20 + 6] = d[14 + 20 + 7] = 0;
    return IcmpError(addr, kRemote1, c.type, c.code, Embedded(d, c.keep));
  };
  Bytes f = error_from(kHost1, 40000);
  PacketView v = View(f);
  ASSERT_EQ(v.kind, Kind::kIcmpError);
  EXPECT_EQ(v.inner_dst.addr, Raw(kHost1));
  RewriteIcmpError(v, Side::kSrc, Ep(kPool1, 1025));
  ExpectSame(error_from(kPool1, 1025), f);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NatIcmpErrorTest,
    ::testing::Values(ErrorCase{"UdpPortUnreachable", kIpProtoUdp, 28, false, 3, 3},
                      ErrorCase{"UdpNoChecksum", kIpProtoUdp, 28, true, 3, 3},
                      ErrorCase{"UdpWholeDatagram", kIpProtoUdp, 20 + 8 + 64, false, 11, 0},
                      ErrorCase{"TcpFirst8Bytes", kIpProtoTcp, 28, false, 3, 1},
                      ErrorCase{"TcpWithChecksum", kIpProtoTcp, 48, false, 11, 0},
                      ErrorCase{"IcmpEcho", kIpProtoIcmp, 28, false, 11, 0},
                      ErrorCase{"IcmpEchoWhole", kIpProtoIcmp, 20 + 8 + 64, false, 12, 0}),
    [](const ::testing::TestParamInfo<ErrorCase>& p) { return std::string(p.param.name); });

TEST(NatPacketTest, ViewRejectsWhatItCannotTranslate) {
  struct Case {
    const char* name;
    Bytes frame;
    Drop want;
  };
  Bytes truncated_tcp =
      PacketBuilder().Eth(kMacB, kMacA).Ipv4(kHost1, kRemote1).Tcp(1, 2, kTcpSyn).Build();
  truncated_tcp.resize(14 + 20 + 10);  // IP total length now lies
  Bytes short_error = IcmpError(kRouter, kPool1, 3, 3, Bytes(12, 0x45));
  Bytes error_about_error = IcmpError(
      kRouter, kPool1, 3, 3,
      Embedded(PacketBuilder().Eth(kMacB, kMacA).Ipv4(kPool1, kRemote1).Icmp(3, 3, 0)
                   .Payload(28).Build(), 28));
  std::vector<Case> cases{
      {"truncated", truncated_tcp, Drop::kMalformed},
      {"first fragment", PacketBuilder().Eth(kMacB, kMacA).Ipv4(kHost1, kRemote1)
                             .Ipv4Frag(0, true).Udp(1, 2).Payload(16).Build(), Drop::kFragment},
      {"later fragment", PacketBuilder().Eth(kMacB, kMacA).Ipv4(kHost1, kRemote1, kIpProtoUdp)
                             .Ipv4Frag(64, false).Payload(16).Build(), Drop::kFragment},
      {"short icmp error", short_error, Drop::kBadIcmpError},
      {"error about an error", error_about_error, Drop::kBadIcmpError},
      {"redirect", PacketBuilder().Eth(kMacB, kMacA).Ipv4(kRouter, kPool1).Icmp(5, 1, 0)
                       .Payload(28).Build(), Drop::kIcmpUnsupported},
      {"gre", PacketBuilder().Eth(kMacB, kMacA).Ipv4(kHost1, kRemote1).Nvgre(6000).Build(),
       Drop::kNone},
  };
  for (Case& c : cases) {
    PacketView v;
    EXPECT_EQ(ViewPacket(c.frame.data(), static_cast<uint32_t>(c.frame.size()), &v), c.want)
        << c.name;
  }
  Bytes arp = PacketBuilder().Eth(MacAddr::Broadcast(), kMacA)
                  .Arp(kArpRequest, kMacA, kHost1, MacAddr{}, kHost2).Build();
  PacketView v;
  EXPECT_EQ(ViewPacket(arp.data(), static_cast<uint32_t>(arp.size()), &v), Drop::kNone);
  EXPECT_EQ(v.kind, Kind::kNotIpv4);
  // Every prefix of a valid frame: no crash, never read past the end (ASan).
  Bytes full = IcmpError(kRouter, kPool1, 3, 3,
                         Embedded(Datagram(kIpProtoTcp, kPool1, kRemote1, 1, 2), 48));
  for (size_t n = 0; n <= full.size(); ++n) {
    Bytes part(full.begin(), full.begin() + static_cast<long>(n));
    ViewPacket(part.data(), static_cast<uint32_t>(part.size()), &v);
  }
}

// A UDP checksum that computes to zero is sent as 0xffff (RFC 768); an
// incremental update that lands on zero must do the same. The port that
// makes the translated packet's sum zero is searched for.
TEST(NatPacketTest, UdpChecksumThatComputesToZero) {
  auto make = [](uint16_t sport) {
    return PacketBuilder().Eth(kMacB, kMacA).Ipv4(kPool1, kRemote1).Udp(sport, 53).Payload(20)
        .Build();
  };
  int found = 0;
  for (uint32_t port = 1; port <= 0xffff; ++port) {
    Bytes want = make(static_cast<uint16_t>(port));
    if (Load16(want.data() + 14 + 20 + 6) != 0xffff) continue;
    ++found;
    Bytes f = PacketBuilder().Eth(kMacB, kMacA).Ipv4(kHost1, kRemote1).Udp(40000, 53).Payload(20)
                  .Build();
    PacketView v = View(f);
    RewriteEnd(v, Side::kSrc, Ep(kPool1, static_cast<uint16_t>(port)));
    ExpectSame(want, f);
  }
  EXPECT_GT(found, 0);
}

// Random ends, payload lengths and ports: every rewrite against a full
// recomputation, 3,000 times per protocol (the UDP 0 -> 0xffff rule and
// carries through every fold included).
TEST(NatPacketTest, IncrementalEqualsFullOnRandomPackets) {
  std::mt19937 rng(7);
  auto addr = [&] { return IpAddr::V4(static_cast<uint32_t>(rng())); };
  auto port = [&] { return static_cast<uint16_t>(rng()); };
  for (int i = 0; i < 9000; ++i) {
    const int kind = i % 3;
    const IpAddr a = addr(), b = addr(), c = addr();
    const uint16_t pa = port(), pb = port(), pc = port();
    const size_t len = rng() % 200;
    auto make = [&](IpAddr src, uint16_t sport) {
      PacketBuilder pb_;
      pb_.Eth(kMacB, kMacA).Ipv4(src, b);
      if (kind == 0) pb_.Tcp(sport, pb, static_cast<uint8_t>(rng() & 0x3f));
      if (kind == 1) pb_.Udp(sport, pb);
      if (kind == 2) pb_.Icmp(kIcmpEchoRequest, 0, static_cast<uint32_t>(sport) << 16 | 3);
      return pb_.Payload(len).Build();
    };
    std::mt19937 saved = rng;
    Bytes f = make(a, pa);
    rng = saved;
    Bytes want = make(c, pc);
    PacketView v = View(f);
    RewriteEnd(v, Side::kSrc, Ep(c, pc));
    ASSERT_EQ(f, want) << "case " << i << "\n" << FrameDiff(want, f);
  }
}

}  // namespace
}  // namespace hnv::nat::test
