// Tests of the test library itself: PacketBuilder's wire format and
// FrameDiff's output. Everything else trusts them.
#include "tests/lib/packet_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/packet/checksum.h"
#include "dataplane/packet/parse.h"
#include "tests/lib/frame_diff.h"

namespace hnv {
namespace {

using test::ChecksumErrors;
using test::DescribeFrame;
using test::FrameDiff;
using test::Ip;
using test::Mac;
using test::PacketBuilder;

uint16_t U16(const std::vector<uint8_t>& f, size_t off) {
  return static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
}

uint32_t U32(const std::vector<uint8_t>& f, size_t off) {
  return static_cast<uint32_t>(U16(f, off)) << 16 | U16(f, off + 2);
}

// The book's lab: Contoso1 on host 1 pings Contoso3 on host 2 over NVGRE.
std::vector<uint8_t> LabNvgrePing() {
  return PacketBuilder()
      .Eth(Mac("00155d000033"), Mac("00155d000022"))
      .Vlan(5)
      .Ipv4(Ip("192.168.0.22"), Ip("192.168.0.33"))
      .Nvgre(6000, 0x2a)
      .Eth(Mac("600060000103"), Mac("600060000101"))
      .Ipv4(Ip("10.0.1.101"), Ip("10.0.1.103"))
      .Icmp()
      .Payload(32)
      .Build();
}

TEST(PacketBuilderTest, NvgreWireFormat) {
  const auto f = LabNvgrePing();
  ASSERT_EQ(f.size(), 14u + 4 + 20 + 8 + 14 + 20 + 8 + 32);
  EXPECT_EQ(U16(f, 12), kEtherTypeVlan);
  EXPECT_EQ(U16(f, 14), 5);  // TCI
  EXPECT_EQ(U16(f, 16), kEtherTypeIpv4);
  EXPECT_EQ(f[18], 0x45);
  EXPECT_EQ(U16(f, 20), f.size() - 18);  // outer total length
  EXPECT_EQ(f[18 + 8], 64);              // TTL
  EXPECT_EQ(f[18 + 9], kIpProtoGre);
  EXPECT_EQ(U16(f, 38), 0x2000);  // GRE K bit only
  EXPECT_EQ(U16(f, 40), kEtherTypeTeb);
  EXPECT_EQ(U32(f, 42), 6000u << 8 | 0x2a);  // VSID << 8 | FlowID
  EXPECT_EQ(U16(f, 46 + 12), kEtherTypeIpv4);
  EXPECT_EQ(U16(f, 60 + 2), 20 + 8 + 32);  // inner total length
  EXPECT_EQ(f[60 + 9], kIpProtoIcmp);
  EXPECT_EQ(f[80], kIcmpEchoRequest);
  EXPECT_EQ(ChecksumErrors(f), "");
  EXPECT_TRUE(Ipv4HeaderChecksumOk(reinterpret_cast<const Ipv4Hdr*>(f.data() + 18)));
  EXPECT_TRUE(Ipv4HeaderChecksumOk(reinterpret_cast<const Ipv4Hdr*>(f.data() + 60)));
}

TEST(PacketBuilderTest, ChecksumsVerifyIndependently) {
  const std::vector<std::vector<uint8_t>> frames = {
      PacketBuilder().Eth({}, {}).Ipv4(Ip("1.2.3.4"), Ip("5.6.7.8")).Udp(1, 2).Payload(11).Build(),
      PacketBuilder()
          .Eth({}, {})
          .Ipv4(Ip("1.2.3.4"), Ip("5.6.7.8"))
          .Tcp(1, 2, kTcpSyn, 1460)
          .Payload(7)
          .Build(),
      PacketBuilder().Eth({}, {}).Ipv6(Ip("fd00::1"), Ip("fd00::2")).Udp(1, 2).Payload(3).Build(),
      PacketBuilder().Eth({}, {}).Ipv6(Ip("fd00::1"), Ip("fd00::2")).Icmp6().Payload(5).Build(),
  };
  for (const auto& f : frames) {
    ParsedFrame pf;
    ASSERT_EQ(ParseFrame(f.data(), static_cast<uint32_t>(f.size()), &pf), ParseError::kOk);
    const uint32_t l4_len = pf.l3_offset + pf.l3_len - pf.l4_offset;
    // The sum over pseudo header and segment, stored checksum included, is all ones.
    uint32_t sum;
    if (pf.l3 == L3Kind::kIpv4) {
      const auto* ip = pf.At<Ipv4Hdr>(f.data(), pf.l3_offset);
      sum = ChecksumPartial(ip->src, 8, pf.l4_proto + l4_len);
    } else {
      const auto* ip = pf.At<Ipv6Hdr>(f.data(), pf.l3_offset);
      sum = ChecksumPartial(ip->src, 32, pf.l4_proto + l4_len);
    }
    sum = ChecksumPartial(f.data() + pf.l4_offset, l4_len, sum);
    EXPECT_EQ(sum, 0xffffu) << DescribeFrame(f);
  }
}

TEST(PacketBuilderTest, DerivedAndExplicitProtocols) {
  const auto arp = PacketBuilder()
                       .Eth(MacAddr::Broadcast(), Mac("600060000101"))
                       .Arp(kArpRequest, Mac("600060000101"), Ip("10.0.1.101"), {}, Ip("10.0.1.1"))
                       .Build();
  EXPECT_EQ(arp.size(), 42u);
  EXPECT_EQ(U16(arp, 12), kEtherTypeArp);
  EXPECT_EQ(U16(arp, 20), kArpRequest);

  const auto qinq =
      PacketBuilder().Eth({}, {}).Vlan(1, 0, kEtherTypeQinQ).Vlan(2).Payload(1).Build();
  EXPECT_EQ(U16(qinq, 12), kEtherTypeQinQ);
  EXPECT_EQ(U16(qinq, 16), kEtherTypeVlan);
  EXPECT_EQ(U16(qinq, 20), 0x88b5);  // nothing follows: local experimental

  const auto raw =
      PacketBuilder().Eth({}, {}).Ipv4(Ip("1.1.1.1"), Ip("2.2.2.2"), 99).Payload(4).Build();
  EXPECT_EQ(raw[14 + 9], 99);
  const auto frag6 = PacketBuilder()
                         .Eth({}, {})
                         .Ipv6(Ip("::1"), Ip("::2"))
                         .Ipv6Frag(8, true, 7)
                         .Tcp(1, 2, 0)
                         .Build();
  EXPECT_EQ(frag6[14 + 6], kIpv6NextFragment);
  EXPECT_EQ(frag6[54], kIpProtoTcp);
  EXPECT_EQ(U16(frag6, 56), 8 | 1);
  EXPECT_EQ(U32(frag6, 58), 7u);

  const auto gre =
      PacketBuilder().Eth({}, {}).Ipv4(Ip("1.1.1.1"), Ip("2.2.2.2")).Gre(0xb000, 0x0800, 5).Build();
  EXPECT_EQ(gre.size(), 14u + 20 + 8);
  EXPECT_EQ(U16(gre, 34), 0xb000);
  EXPECT_EQ(U16(gre, 36), 0x0800);
  EXPECT_EQ(U32(gre, 38), 5u);
}

TEST(PacketBuilderTest, ModifiersAndTrailer) {
  const auto f = PacketBuilder()
                     .Eth({}, {})
                     .Ipv4(Ip("1.1.1.1"), Ip("2.2.2.2"))
                     .Ttl(1)
                     .DontFragment()
                     .Ipv4Id(0xabcd)
                     .Udp(1, 2)
                     .Trailer(10)
                     .Build();
  EXPECT_EQ(f.size(), 14u + 28 + 10);
  EXPECT_EQ(U16(f, 16), 28);  // the trailer is not counted
  EXPECT_EQ(U16(f, 18), 0xabcd);
  EXPECT_EQ(U16(f, 20), kIpv4DontFragment);
  EXPECT_EQ(f[22], 1);
  EXPECT_EQ(U16(f, 38), 8);  // UDP length
  EXPECT_EQ(ChecksumErrors(f), "");
  const auto frag =
      PacketBuilder().Eth({}, {}).Ipv4(Ip("1.1.1.1"), Ip("2.2.2.2")).Ipv4Frag(1480, true).Build();
  EXPECT_EQ(U16(frag, 20), 0x2000 | 185);
  const auto hl = PacketBuilder().Eth({}, {}).Ipv6(Ip("::1"), Ip("::2")).Ttl(255).Build();
  EXPECT_EQ(hl[21], 255);
}

TEST(PacketBuilderTest, MacAndIpHelpers) {
  EXPECT_EQ(Mac("60-00-60-00-01-01"), Mac("600060000101"));
  EXPECT_EQ(Ip("10.0.1.101").v4_host(), 0x0a000165u);
  EXPECT_TRUE(Ip("fd00::1").is_v6());
}

TEST(FrameDiffTest, EqualFramesGiveEmptyString) {
  EXPECT_EQ(FrameDiff(LabNvgrePing(), LabNvgrePing()), "");
  EXPECT_EQ(FrameDiff({}, {}), "");
}

TEST(FrameDiffTest, MarksTheLayerOfTheFirstDifference) {
  const auto want = LabNvgrePing();
  auto got = want;
  got[60 + 8] = 63;  // inner TTL
  const std::string d = FrameDiff(want, got);
  EXPECT_NE(d.find("frames differ at byte 68 (expected 0x40, actual 0x3f)"), std::string::npos)
      << d;
  EXPECT_NE(d.find("VSID 6000, FlowID 42"), std::string::npos) << d;
  EXPECT_NE(d.find("802.1Q vid=5"), std::string::npos) << d;
  EXPECT_NE(d.find("IPv4 10.0.1.101 -> 10.0.1.103"), std::string::npos) << d;
  EXPECT_NE(d.find("<-- byte 68 (+8 in this header)"), std::string::npos) << d;
  EXPECT_NE(d.find("BAD"), std::string::npos) << d;  // the actual frame's inner header checksum
  EXPECT_NE(d.find("[3f]"), std::string::npos) << d;
}

TEST(FrameDiffTest, DifferentLengths) {
  const auto want = LabNvgrePing();
  const std::vector<uint8_t> got(want.begin(), want.end() - 5);
  const std::string d = FrameDiff(want, got);
  EXPECT_NE(d.find("frames differ at byte " + std::to_string(got.size())), std::string::npos) << d;
  EXPECT_NE(d.find("actual (end)"), std::string::npos) << d;
  EXPECT_NE(d.find("sizes expected 120, actual 115"), std::string::npos) << d;
}

TEST(FrameDiffTest, DescribesEveryKindWithoutOverreading) {
  const std::vector<std::vector<uint8_t>> frames = {
      PacketBuilder()
          .Eth(MacAddr::Broadcast(), Mac("600060000101"))
          .Arp(kArpRequest, Mac("600060000101"), Ip("10.0.1.101"), {}, Ip("10.0.1.1"))
          .Build(),
      PacketBuilder()
          .Eth({}, {})
          .Ipv6(Ip("fd00::1"), Ip("ff02::1:ff00:2"))
          .Ttl(255)
          .Icmp6(kIcmp6NeighborSolicit, 0, 0)
          .Payload(Ip("fd00::2").b.size())
          .Build(),
      PacketBuilder()
          .Eth({}, {})
          .Ipv6(Ip("fd00::1"), Ip("fd00::2"))
          .Ipv6Frag(16, false)
          .Payload(3)
          .Build(),
      PacketBuilder()
          .Eth({}, {})
          .Ipv4(Ip("1.1.1.1"), Ip("2.2.2.2"))
          .Tcp(1, 2, kTcpSyn | 0x10, 1460)
          .Build(),
      PacketBuilder()
          .Eth({}, {})
          .Ipv4(Ip("1.1.1.1"), Ip("2.2.2.2"))
          .Ipv4(Ip("3.3.3.3"), Ip("4.4.4.4"))
          .Udp(1, 2)
          .Build(),
      LabNvgrePing(),
  };
  for (const auto& full : frames) {
    for (size_t cut = 0; cut <= full.size(); ++cut) {
      const std::vector<uint8_t> f(full.begin(), full.begin() + cut);
      const std::string d = DescribeFrame(f);
      if (cut > 0) {
        EXPECT_FALSE(d.empty());
      }
    }
  }
  const std::string tcp = DescribeFrame(frames[3]);
  EXPECT_NE(tcp.find("[SYN,ACK]"), std::string::npos) << tcp;
  EXPECT_NE(tcp.find("mss=1460"), std::string::npos) << tcp;
  EXPECT_NE(DescribeFrame(frames[0]).find("ARP request"), std::string::npos);
  EXPECT_NE(DescribeFrame(frames[2]).find("fragment data"), std::string::npos);
}

}  // namespace
}  // namespace hnv
