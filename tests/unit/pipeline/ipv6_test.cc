// IPv6 through the pipeline: IPv6 customer addresses end to end (the
// fixtures' Fabrikam tenant: ND instead of ARP, the subnet's first address
// as gateway, hop limit instead of TTL, encapsulation between hosts), IPv6
// provider addresses under IPv4 customer addresses, and NDP for a PA on the
// provider network.
#include <gtest/gtest.h>

#include "dataplane/pipeline/nvgre_encap.h"
#include "tests/unit/pipeline/pipeline_test_util.h"

namespace hnv::test::pipe {
namespace {

// Fabrikam (chapter_policy.h): VSID 7000 fd00:1::/64, 7001 fd00:2::/64 (kF1, kF2 and
// their MACs and ports: pipeline_test_util.h).
const IpAddr kF3 = Ip("fd00:1::103");
const IpAddr kFDfgw = Ip("fd00:1::1");
const IpAddr kFGw = Ip("fd00:2::2");
const MacAddr kF3Mac = Mac("700070000203");
const MacAddr kFDfgwMac = Mac("700070000100");
const MacAddr kFDfgw7001Mac = Mac("700170010300");
const MacAddr kFGwMac = Mac("700170010301");
constexpr uint16_t kF3Port = 2;  // on Host 2 (kF1Port, kF2Port: pipeline_test_util.h)
// Our addition: VSID 7002 fd00:3::/64, Fabrikam4 on Host 1 (port 5).
const IpAddr kF4 = Ip("fd00:3::104");
const MacAddr kF4Mac = Mac("700270020104");
const MacAddr kFDfgw7002Mac = Mac("700270020100");
constexpr uint16_t kF4Port = 5;

const IpAddr kPa1v6 = Ip("fd00:ffff::22");
const IpAddr kPa2v6 = Ip("fd00:ffff::33");
const IpAddr kPaGwV6 = Ip("fd00:ffff::11");

Policy WithVsid7002(Policy p) {
  p.subnets.push_back(VirtualSubnet{7002, FabrikamRdid(), {Prefix("fd00:3::/64")}});
  CustomerRoute r;
  r.rdid = FabrikamRdid();
  r.vsid = 7002;
  r.destination = Prefix("fd00:3::/64");
  r.next_hop = Ip("::");
  p.customer_routes.push_back(r);
  p.records.push_back(MakeRecord(Ip("fd00:3::1"), 7002, kFDfgw7002Mac, LocalPa(p)));
  p.records.push_back(MakeRecord(kF4, 7002, kF4Mac, kPa1));
  if (LocalPa(p) == kPa1) p.vm_ports.push_back(VmPort{"Fabrikam4", kF4Port, kF4Mac, 7002});
  return p;
}

void ResolveV4(PipelineHarness& h) {
  h.tables().LearnNeighbor(kUplink, kPa1, kPa1Mac);
  h.tables().LearnNeighbor(kUplink, kPa2, kPa2Mac);
  h.tables().LearnNeighbor(kUplink, kPaGw, kPaGwMac);
  h.tables().Synchronize();
}
void ResolveV6(PipelineHarness& h) {
  h.tables().LearnNeighbor(kUplink, kPa1v6, kPa1Mac);
  h.tables().LearnNeighbor(kUplink, kPa2v6, kPa2Mac);
  h.tables().LearnNeighbor(kUplink, kPaGwV6, kPaGwMac);
  h.tables().Synchronize();
}

uint8_t FlowIdOf(const Frame& inner) {
  const ParsedFrame pf = Parse(inner);
  return NvgreEncap::FlowId(inner.data(), pf);
}

class Ipv6CaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h1_ = std::make_unique<PipelineHarness>(WithVsid7002(ChapterHost1V6()));
    h2_ = std::make_unique<PipelineHarness>(WithVsid7002(ChapterHost2V6()));
    ResolveV4(*h1_);
    ResolveV4(*h2_);
  }
  std::unique_ptr<PipelineHarness> h1_, h2_;
};

TEST_F(Ipv6CaTest, NsForDfgwAnsweredWithRouterFlag) {
  const Frame ns = NeighborSolicit(kF1Mac, kF1, kFDfgw);
  const Frame na = NeighborAdvert(kFDfgwMac, kFDfgw, kF1Mac, kF1, /*router=*/true);
  // The multicast NS is flooded to the VSID's other port too.
  ExpectTx(h1_->Run(kF1Port, ns), {{kF1Port, na}, {kF2Port, ns}});
  EXPECT_EQ(h1_->counters().arp_answered, 1u);
  EXPECT_EQ(h1_->total_drops(), 0u);
}

TEST_F(Ipv6CaTest, NsForRemoteCaProxied) {
  const Frame ns = NeighborSolicit(kF1Mac, kF1, kF3);
  const Frame na = NeighborAdvert(kF3Mac, kF3, kF1Mac, kF1, /*router=*/false);
  const auto tx = h1_->Run(kF1Port, ns);
  ExpectTx(tx, {{kF1Port, na}, {kF2Port, ns}});
  EXPECT_TRUE(OnPort(tx, kUplink).empty());
}

TEST_F(Ipv6CaTest, NsForLocalCaLeftToTheVm) {
  const Frame ns = NeighborSolicit(kF1Mac, kF1, kF2);
  ExpectTx(h1_->Run(kF1Port, ns), {{kF2Port, ns}});
  EXPECT_EQ(h1_->counters().arp_answered, 0u);
}

TEST_F(Ipv6CaTest, DadProbeIsNotAnswered) {
  const Frame dad = PacketBuilder()
                        .Eth(SolicitedNodeMac(kF1), kF1Mac)
                        .Ipv6(Ip("::"), SolicitedNode(kF1))
                        .Ttl(255)
                        .Icmp6(kIcmp6NeighborSolicit, 0, 0)
                        .Payload(Bytes(kF1))
                        .Build();
  ExpectTx(h1_->Run(kF1Port, dad), {{kF2Port, dad}});
  ExpectOnlyDrop(*h1_, Drop::kArpNotRequest);
}

TEST_F(Ipv6CaTest, UnicastNsProbeForDfgwAnswered) {
  const Frame probe = PacketBuilder()
                          .Eth(kFDfgwMac, kF1Mac)
                          .Ipv6(kF1, kFDfgw)
                          .Ttl(255)
                          .Icmp6(kIcmp6NeighborSolicit, 0, 0)
                          .Payload(NdBody(kFDfgw, kNdOptSourceLinkAddr, kF1Mac))
                          .Build();
  ExpectTx(h1_->Run(kF1Port, probe),
           {{kF1Port, NeighborAdvert(kFDfgwMac, kFDfgw, kF1Mac, kF1, /*router=*/true)}});
}

TEST_F(Ipv6CaTest, PingDfgwAnswered) {
  const Frame reply = PacketBuilder()
                          .Eth(kF1Mac, kFDfgwMac)
                          .Ipv6(kFDfgw, kF1)
                          .Ttl(64)
                          .Icmp6(kIcmp6EchoReply)
                          .Payload(32)
                          .Build();
  ExpectTx(h1_->Run(kF1Port, Ping(kFDfgwMac, kF1Mac, kF1, kFDfgw)), {{kF1Port, reply}});
}

TEST_F(Ipv6CaTest, RoutedLocallyWithHopLimit) {
  const Frame out = Ping(kF4Mac, kFDfgw7002Mac, kF1, kF4, 32, 63);
  const auto tx = h1_->Run(kF1Port, Ping(kFDfgwMac, kF1Mac, kF1, kF4, 32, 64));
  ExpectTx(tx, {{kF4Port, out}});
  for (const TxFrame& t : tx) EXPECT_EQ(ChecksumErrors(t.bytes), "");
  EXPECT_EQ(h1_->counters().routed, 1u);
  h1_->ResetCounters();
  // Hop limit 1: dropped, and "hop limit exceeded" from the DFGW.
  const Frame last = Ping(kFDfgwMac, kF1Mac, kF1, kF4, 32, 1);
  const Frame exceeded = PacketBuilder()
                             .Eth(kF1Mac, kFDfgwMac)
                             .Ipv6(kFDfgw, kF1)
                             .Ttl(64)
                             .Icmp6(kIcmp6TimeExceeded, 0, 0)
                             .Payload(Frame(last.begin() + 14, last.end()))
                             .Build();
  const auto expired = h1_->Run(kF1Port, last);
  ExpectTx(expired, {{kF1Port, exceeded}});
  for (const TxFrame& t : expired) EXPECT_EQ(ChecksumErrors(t.bytes), "");
  ExpectOnlyDrop(*h1_, Drop::kTtlExpired);
  EXPECT_EQ(h1_->counters().icmp_time_exceeded, 1u);
}

TEST_F(Ipv6CaTest, RoutedToTheGatewayAndBeyond) {
  // fd00:2::2 on-link in 7001, and 2001:db8::1 through ::/0 via fd00:2::2:
  // both encapsulated to the gateway host with VSID 7001.
  for (const IpAddr& dst : {kFGw, Ip("2001:db8::1")}) {
    SCOPED_TRACE(dst.ToString());
    const Frame routed = Ping(kFGwMac, kFDfgw7001Mac, kF1, dst, 32, 63);
    ExpectTx(h1_->Run(kF1Port, Ping(kFDfgwMac, kF1Mac, kF1, dst, 32, 64)),
             {{kUplink, Encap(kPaGwMac, kPa1Mac, kPa1, kPaGw, 7001, FlowIdOf(routed), routed)}});
  }
}

TEST_F(Ipv6CaTest, EncapsulatedBetweenHosts) {
  const Frame inner = PacketBuilder().Eth(kF3Mac, kF1Mac).Ipv6(kF1, kF3).Udp(5000, 5001)
                          .Payload(100).Build();
  const auto tx = h1_->Run(kF1Port, inner);
  ExpectTx(tx, {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 7000, FlowIdOf(inner), inner)}});
  ASSERT_EQ(tx.size(), 1u);
  ExpectTx(h2_->Run(kUplink, tx[0].bytes), {{kF3Port, inner}});
  EXPECT_EQ(h2_->total_drops(), 0u);
  // And routed across hosts (flow 5 in IPv6): Fabrikam3 to Fabrikam4.
  const Frame routed = Ping(kF4Mac, kFDfgw7002Mac, kF3, kF4, 32, 63);
  const auto back = h2_->Run(kF3Port, Ping(kFDfgwMac, kF3Mac, kF3, kF4));
  ExpectTx(back, {{kUplink, Encap(kPa1Mac, kPa2Mac, kPa2, kPa1, 7002, FlowIdOf(routed), routed)}});
  ASSERT_EQ(back.size(), 1u);
  ExpectTx(h1_->Run(kUplink, back[0].bytes), {{kF4Port, routed}});
}

TEST_F(Ipv6CaTest, TooBigGetsPacketTooBig) {
  // IPv6 40 + ICMPv6 8 + 1420 = 1468 > 1458.
  const Frame big = Ping(kF3Mac, kF1Mac, kF1, kF3, 1420);
  const size_t quote = 1280 - 48;
  const Frame ptb = PacketBuilder()
                        .Eth(kF1Mac, kFDfgwMac)
                        .Ipv6(kFDfgw, kF1)
                        .Ttl(64)
                        .Icmp6(kIcmp6PacketTooBig, 0, 1458)
                        .Payload(Frame(big.begin() + 14, big.begin() + 14 + quote))
                        .Build();
  ExpectTx(h1_->Run(kF1Port, big), {{kF1Port, ptb}});
  ExpectOnlyDrop(*h1_, Drop::kTooBig);
  const Frame fits = Ping(kF3Mac, kF1Mac, kF1, kF3, 1410);  // IPv6 packet 1458
  ExpectTx(h1_->Run(kF1Port, fits),
           {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 7000, FlowIdOf(fits), fits)}});
}

TEST_F(Ipv6CaTest, WrongFamilyIsDropped) {
  // Anti-spoofing refuses the IPv4 source at the adapter (port_guard.h)...
  const Frame v4 = Ping(kFDfgwMac, kF1Mac, Ip("10.0.1.5"), Ip("10.0.1.6"));
  ExpectNothing(h1_->Run(kF1Port, v4));
  ExpectOnlyDrop(*h1_, Drop::kIpSpoof);
  // ... and the router refuses the family of an adapter trusted with any source.
  Policy p = WithVsid7002(ChapterHost1V6());
  for (VmPort& v : p.vm_ports) v.mac_address_spoofing = v.port == kF1Port;
  h1_->Apply(p);
  h1_->ResetCounters();
  ExpectNothing(h1_->Run(kF1Port, v4));
  ExpectOnlyDrop(*h1_, Drop::kWrongFamily);
}

TEST_F(Ipv6CaTest, TenantsDoNotMix) {
  // Contoso (IPv4) and Fabrikam (IPv6) share the host: Contoso1's broadcast
  // and multicast reach neither Fabrikam port.
  const Frame bcast = ArpRequest(kC1Mac, kC1, Ip("10.0.1.77"));
  ExpectTx(h1_->Run(kC1Port, bcast), {{kC2Port, bcast}});
  const Frame mcast = NeighborSolicit(kF1Mac, kF1, Ip("fd00:1::77"));
  const auto tx = h1_->Run(kF1Port, mcast);
  ExpectTx(tx, {{kF2Port, mcast}});
}

TEST_F(Ipv6CaTest, SourceCheckOfIpv6InnerFrames) {
  // Link-local traffic (no lookup record can name it) is vouched for by the
  // sender's MAC; a routable source without a record is not.
  const Frame mdns = PacketBuilder()
                         .Eth(Mac("333300000001"), kF3Mac)
                         .Ipv6(Ip("fe80::7200:70ff:fe00:203"), Ip("ff02::1"))
                         .Udp(5353, 5353)
                         .Payload(20)
                         .Build();
  ExpectTx(h1_->Run(kUplink, Encap(kPa1Mac, kPa2Mac, kPa2, kPa1, 7000, 0, mdns)),
           {{kF1Port, mdns}, {kF2Port, mdns}});
  EXPECT_EQ(h1_->total_drops(), 0u);
  const Frame spoof = Ping(kF1Mac, kF3Mac, Ip("fd00:1::999"), kF1);
  ExpectNothing(h1_->Run(kUplink, Encap(kPa1Mac, kPa2Mac, kPa2, kPa1, 7000, 0, spoof)));
  ExpectOnlyDrop(*h1_, Drop::kSourceCheck);
}

// Flow 4 with neighbour discovery: Fabrikam1 and Fabrikam3 hold L2Only
// records on both hosts.
TEST(Ipv6Learning, DynamicLearningWithNd) {
  auto l2only = [](Policy p) {
    ReplaceRecord(&p, 7000, kF3, MakeRecord(Ip("::"), 7000, kF3Mac, kPa2, RecordType::kL2Only));
    ReplaceRecord(&p, 7000, kF1, MakeRecord(Ip("::"), 7000, kF1Mac, kPa1, RecordType::kL2Only));
    return p;
  };
  PipelineHarness h1(l2only(ChapterHost1V6()));
  PipelineHarness h2(l2only(ChapterHost2V6()));
  ResolveV4(h1);
  ResolveV4(h2);
  const Frame ns = NeighborSolicit(kF1Mac, kF1, kF3);
  const Frame ns_out = Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 7000, FlowIdOf(ns), ns);
  ExpectTx(h1.Run(kF1Port, ns), {{kUplink, ns_out}, {kF2Port, ns}});
  ExpectTx(h2.Run(kUplink, ns_out), {{kF3Port, ns}});
  const Frame na = NeighborAdvert(kF3Mac, kF3, kF1Mac, kF1, /*router=*/false);
  const Frame na_out = Encap(kPa1Mac, kPa2Mac, kPa2, kPa1, 7000, FlowIdOf(na), na);
  ExpectTx(h2.Run(kF3Port, na), {{kUplink, na_out}});
  ExpectTx(h1.Run(kUplink, na_out), {{kF1Port, na}});
  EXPECT_EQ(h1.total_drops() + h2.total_drops(), 0u);
  h1.ProcessEvents();
  h2.ProcessEvents();
  for (PipelineHarness* h : {&h1, &h2}) {
    const LookupRecord* r = h->tables().FindRecord(7000, kF3);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->type, RecordType::kDynamic);
    EXPECT_EQ(r->mac, kF3Mac);
    EXPECT_EQ(r->pa, kPa2);
  }
  // Learned: the filter answers for Fabrikam3 itself now.
  ExpectTx(h1.Run(kF1Port, ns),
           {{kF1Port, NeighborAdvert(kF3Mac, kF3, kF1Mac, kF1, false)}, {kF2Port, ns}});
}

// ---- IPv6 provider addresses under IPv4 customer addresses ------------------------------

class Ipv6PaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h1_ = std::make_unique<PipelineHarness>(ChapterHost1V6Provider());
    h2_ = std::make_unique<PipelineHarness>(ChapterHost2V6Provider());
    ResolveV6(*h1_);
    ResolveV6(*h2_);
  }
  std::unique_ptr<PipelineHarness> h1_, h2_;
};

TEST_F(Ipv6PaTest, EncapsulatedInIpv6AndDecapsulated) {
  const Frame inner = Ping(kC3Mac, kC1Mac, kC1, kC3);
  const Frame outer = Encap(kPa2Mac, kPa1Mac, kPa1v6, kPa2v6, 6000, FlowIdOf(inner), inner);
  const auto tx = h1_->Run(kC1Port, inner);
  ExpectTx(tx, {{kUplink, outer}});
  ASSERT_EQ(tx.size(), 1u);
  const Frame& got = tx[0].bytes;
  ASSERT_GE(got.size(), 14u + 40u);
  EXPECT_EQ(U16At(got, 12), kEtherTypeIpv6);
  EXPECT_EQ(got[14 + 6], kIpProtoGre);  // next header
  EXPECT_EQ(U16At(got, 14 + 4), 8 + inner.size());  // payload length
  EXPECT_EQ(got.size(), 14 + 40 + 8 + inner.size());
  ExpectTx(h2_->Run(kUplink, got), {{kC3Port, inner}});
  EXPECT_EQ(h2_->total_drops(), 0u);
}

TEST_F(Ipv6PaTest, MtuAccountsForTheIpv6Header) {
  // 1500 - 40 - 8 - 14 = 1438 bytes of inner IP packet.
  const auto df_ping = [](size_t payload) {
    return PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3).DontFragment().Icmp()
        .Payload(payload).Build();
  };
  const Frame fits = df_ping(1410);
  ExpectTx(h1_->Run(kC1Port, fits),
           {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1v6, kPa2v6, 6000, FlowIdOf(fits), fits)}});
  const Frame big = df_ping(1411);
  const auto tx = h1_->Run(kC1Port, big);
  ASSERT_EQ(tx.size(), 1u);
  EXPECT_EQ(tx[0].port, kC1Port);
  EXPECT_EQ(tx[0].bytes.at(34), kIcmpDestUnreachable);
  EXPECT_EQ(tx[0].bytes.at(35), kIcmpFragNeeded);
  EXPECT_EQ(U32At(tx[0].bytes, 38), 1438u);  // unused(16) + next-hop MTU(16)
  EXPECT_EQ(h1_->drops(Drop::kTooBig), 1u);
  // MSS: 1438 - 40.
  const Frame clamped = PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3).Tcp(1, 2, kTcpSyn, 1398)
                            .Build();
  ExpectTx(h1_->Run(kC1Port, PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3)
                                 .Tcp(1, 2, kTcpSyn, 1460).Build()),
           {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1v6, kPa2v6, 6000, FlowIdOf(clamped), clamped)}});
}

TEST(Ipv6Provider, NdpForThePa) {
  PipelineHarness h(ChapterHost1V6Provider());
  // Nothing resolved yet.
  const Frame ping = Ping(kC3Mac, kC1Mac, kC1, kC3);
  ExpectNothing(h.Run(kC1Port, ping));
  ExpectOnlyDrop(h, Drop::kPeerUnresolved);
  h.ResetCounters();

  // A solicitation for our PA is answered with the PA's MAC (no router flag).
  const Frame ns = NeighborSolicit(kPa2Mac, kPa2v6, kPa1v6);
  ExpectTx(h.Run(kUplink, ns),
           {{kUplink, NeighborAdvert(kPa1Mac, kPa1v6, kPa2Mac, kPa2v6, /*router=*/false)}});
  // One for someone else's address is not.
  ExpectNothing(h.Run(kUplink, NeighborSolicit(kPa2Mac, kPa2v6, Ip("fd00:ffff::44"))));
  EXPECT_EQ(h.drops(Drop::kNotForUs), 1u);
  h.DrainEvents();  // the NS taught Host 2's MAC already; start over with the NA alone

  PipelineHarness fresh(ChapterHost1V6Provider());
  const Frame na = NeighborAdvert(kPa2Mac, kPa2v6, kPa1Mac, kPa1v6, /*router=*/false);
  ExpectNothing(fresh.Run(kUplink, na));
  fresh.ProcessEvents();
  ExpectTx(fresh.Run(kC1Port, ping),
           {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1v6, kPa2v6, 6000, FlowIdOf(ping), ping)}});

  // A PA answers ping6.
  const Frame req = Ping(kPa1Mac, kPa2Mac, kPa2v6, kPa1v6, 8);
  const Frame rep = PacketBuilder()
                        .Eth(kPa2Mac, kPa1Mac)
                        .Ipv6(kPa1v6, kPa2v6)
                        .Icmp6(kIcmp6EchoReply)
                        .Payload(8)
                        .Build();
  ExpectTx(fresh.Run(kUplink, req), {{kUplink, rep}});
}

TEST(Ipv6Provider, Ipv6InIpv6) {
  // Fabrikam's IPv6 CAs over IPv6 PAs.
  auto v6ize = [](Policy p) {
    const std::pair<IpAddr, IpAddr> map[] = {{kPa1, kPa1v6}, {kPa2, kPa2v6}, {kPaGw, kPaGwV6}};
    for (auto& [v4, v6] : map) {
      for (LookupRecord& r : p.records)
        if (r.pa == v4) r.pa = v6;
      if (p.provider_addresses[0].address == v4) p.provider_addresses[0].address = v6;
    }
    p.provider_addresses[0].prefix_len = 64;
    return p;
  };
  PipelineHarness h1(v6ize(ChapterHost1V6()));
  PipelineHarness h2(v6ize(ChapterHost2V6()));
  ResolveV6(h1);
  ResolveV6(h2);
  const Frame inner = Ping(kF3Mac, kF1Mac, kF1, kF3);
  const auto tx = h1.Run(kF1Port, inner);
  ExpectTx(tx, {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1v6, kPa2v6, 7000, FlowIdOf(inner), inner)}});
  ASSERT_EQ(tx.size(), 1u);
  ExpectTx(h2.Run(kUplink, tx[0].bytes), {{kF3Port, inner}});
}

}  // namespace
}  // namespace hnv::test::pipe
