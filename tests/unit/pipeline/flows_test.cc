// The chapter's six packet flows ("Packet flows", DESIGN §3) on synthetic
// frames through the assembled pipeline, with exact expected output frames,
// plus the rules that hold everywhere (no record no delivery, drops by
// reason, the PA on the provider network, PA VLAN, MTU).
#include <gtest/gtest.h>
#include <rte_ring.h>

#include <set>

#include "dataplane/pipeline/nvgre_encap.h"
#include "tests/unit/pipeline/pipeline_test_util.h"

namespace hnv::test::pipe {
namespace {

// Resolves every provider next hop to the real MAC of the PA it is (the
// chapter's PAs share one /24, so each peer is its own next hop).
void ResolveChapterNeighbors(PipelineHarness& h) {
  h.tables().LearnNeighbor(kUplink, kPa1, kPa1Mac);
  h.tables().LearnNeighbor(kUplink, kPa2, kPa2Mac);
  h.tables().LearnNeighbor(kUplink, kPaGw, kPaGwMac);
  h.tables().Synchronize();
}

uint8_t FlowIdOf(const Frame& inner) {
  const ParsedFrame pf = Parse(inner);
  return NvgreEncap::FlowId(inner.data(), pf);
}

// Events posted so far, left in the ring for ProcessEvents().
std::vector<Event> PeekEvents(PipelineHarness& h) {
  std::vector<Event> ev = h.DrainEvents();
  for (Event& e : ev) EXPECT_EQ(rte_ring_enqueue_elem(h.ctx().events, &e, sizeof(Event)), 0);
  return ev;
}

bool HasLearn(const std::vector<Event>& ev, uint32_t vsid, const IpAddr& ip, const MacAddr& mac,
              const IpAddr& pa) {
  for (const Event& e : ev)
    if (e.kind == Event::kLearn && e.vsid == vsid && e.ip == ip && e.mac == mac && e.pa == pa)
      return true;
  return false;
}

std::string Describe(const std::vector<Event>& ev) {
  std::string s;
  for (const Event& e : ev)
    s += std::string(e.kind == Event::kLearn ? "learn" : "neighbor") + " vsid=" +
         std::to_string(e.vsid) + " ip=" + e.ip.ToString() + " mac=" + e.mac.ToString() +
         " pa=" + e.pa.ToString() + "\n";
  return s.empty() ? "(none)" : s;
}

// Flow 4's records: Contoso1 and Contoso3 hold L2Only records (CA
// unspecified) on every host, as the control plane would push them.
Policy WithL2Only(Policy p) {
  ReplaceRecord(&p, 6000, kC3, MakeRecord(IpAddr{}, 6000, kC3Mac, kPa2, RecordType::kL2Only));
  ReplaceRecord(&p, 6000, kC1, MakeRecord(IpAddr{}, 6000, kC1Mac, kPa1, RecordType::kL2Only));
  return p;
}

Policy Host1With6002() {
  Policy p = ChapterHost1();
  AddVsid6002(&p);
  return p;
}
Policy Host2With6002() {
  Policy p = ChapterHost2();
  AddVsid6002(&p);
  return p;
}

class FlowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h1_ = std::make_unique<PipelineHarness>(Host1With6002());
    h2_ = std::make_unique<PipelineHarness>(Host2With6002());
    gw_ = std::make_unique<PipelineHarness>(ChapterGatewayHost());
    ResolveChapterNeighbors(*h1_);
    ResolveChapterNeighbors(*h2_);
    ResolveChapterNeighbors(*gw_);
  }
  std::unique_ptr<PipelineHarness> h1_, h2_, gw_;
};

// ---- flow 1: same VSID, same host ----------------------------------------------

TEST_F(FlowsTest, Flow1UnicastIsSwitchedUnchanged) {
  const Frame ping = Ping(kC2Mac, kC1Mac, kC1, kC2);
  ExpectTx(h1_->Run(kC1Port, ping), {{kC2Port, ping}});
  EXPECT_EQ(h1_->counters().switched, 1u);
  EXPECT_EQ(h1_->counters().encapsulated, 0u);
  EXPECT_EQ(h1_->total_drops(), 0u);
}

TEST_F(FlowsTest, Flow1ArpIsFloodedNotAnswered) {
  const Frame arp = ArpRequest(kC1Mac, kC1, kC2);
  ExpectTx(h1_->Run(kC1Port, arp), {{kC2Port, arp}});
  EXPECT_EQ(h1_->counters().arp_answered, 0u);
  EXPECT_EQ(h1_->total_drops(), 0u);
}

TEST_F(FlowsTest, Flow1BroadcastStaysInTheVsid) {
  // Contoso4 (port 3) is on VSID 6002 of the same host: it sees nothing.
  const Frame bcast = PacketBuilder().Eth(MacAddr::Broadcast(), kC1Mac).Ipv4(kC1, Ip("10.0.1.255"))
                          .Udp(68, 67).Payload(20).Build();
  ExpectTx(h1_->Run(kC1Port, bcast), {{kC2Port, bcast}});
}

// ---- flow 2: different VSIDs, same host -------------------------------------------

TEST_F(FlowsTest, Flow2ArpForDfgwIsAnswered) {
  const Frame arp = ArpRequest(kC1Mac, kC1, kDfgw6000);
  const Frame reply = PacketBuilder()
                          .Eth(kC1Mac, kDfgw6000Mac)
                          .Arp(kArpReply, kDfgw6000Mac, kDfgw6000, kC1Mac, kC1)
                          .Build();
  // The switch floods the broadcast to Contoso2 too; the filter answers.
  ExpectTx(h1_->Run(kC1Port, arp), {{kC1Port, reply}, {kC2Port, arp}});
  EXPECT_EQ(h1_->counters().arp_answered, 1u);
}

TEST_F(FlowsTest, Flow2RoutedLocallyNeverEncapsulated) {
  const Frame in = Ping(kDfgw6000Mac, kC1Mac, kC1, kC4, 32, 64);
  // dst MAC = the record's, src MAC = the destination subnet's DFGW, TTL - 1.
  const Frame out = Ping(kC4Mac, kDfgw6002Mac, kC1, kC4, 32, 63);
  const auto tx = h1_->Run(kC1Port, in);
  ExpectTx(tx, {{kC4Port, out}});
  for (const TxFrame& t : tx) EXPECT_EQ(ChecksumErrors(t.bytes), "");
  EXPECT_EQ(h1_->counters().routed, 1u);
  EXPECT_EQ(h1_->counters().encapsulated, 0u);
  EXPECT_EQ(h1_->total_drops(), 0u);
}

TEST_F(FlowsTest, Flow2PingDfgwIsAnswered) {
  const Frame in = Ping(kDfgw6000Mac, kC1Mac, kC1, kDfgw6000);
  const Frame reply = PacketBuilder()
                          .Eth(kC1Mac, kDfgw6000Mac)
                          .Ipv4(kDfgw6000, kC1)
                          .Ttl(64)
                          .Icmp(kIcmpEchoReply)
                          .Payload(32)
                          .Build();
  ExpectTx(h1_->Run(kC1Port, in), {{kC1Port, reply}});
  EXPECT_EQ(h1_->counters().echo_answered, 1u);
}

TEST_F(FlowsTest, Flow2PingAnotherSubnetsDfgwIsAnswered) {
  const Frame in = Ping(kDfgw6000Mac, kC1Mac, kC1, kDfgw6002);
  const Frame reply = PacketBuilder()
                          .Eth(kC1Mac, kDfgw6000Mac)
                          .Ipv4(kDfgw6002, kC1)
                          .Icmp(kIcmpEchoReply)
                          .Payload(32)
                          .Build();
  ExpectTx(h1_->Run(kC1Port, in), {{kC1Port, reply}});
}

TEST_F(FlowsTest, Flow2NonEchoToDfgwIsDropped) {
  const Frame in = PacketBuilder().Eth(kDfgw6000Mac, kC1Mac).Ipv4(kC1, kDfgw6000).Udp(1, 2).Build();
  ExpectNothing(h1_->Run(kC1Port, in));
  ExpectOnlyDrop(*h1_, Drop::kToDfgw);
}

// A VM re-validating its neighbour entry for the gateway (Linux NUD
// "probe") sends the ARP request unicast to the DFGW MAC; it must be
// answered like the broadcast one, or the VM loses its gateway.
TEST_F(FlowsTest, UnicastArpProbeForDfgwIsAnswered) {
  const Frame probe = PacketBuilder()
                          .Eth(kDfgw6000Mac, kC1Mac)
                          .Arp(kArpRequest, kC1Mac, kC1, kDfgw6000Mac, kDfgw6000)
                          .Build();
  const Frame reply = PacketBuilder()
                          .Eth(kC1Mac, kDfgw6000Mac)
                          .Arp(kArpReply, kDfgw6000Mac, kDfgw6000, kC1Mac, kC1)
                          .Build();
  ExpectTx(h1_->Run(kC1Port, probe), {{kC1Port, reply}});
}

// ---- flow 3: same VSID, different hosts ----------------------------------------------

TEST_F(FlowsTest, Flow3ArpForRemoteCaIsProxied) {
  const Frame arp = ArpRequest(kC1Mac, kC1, kC3);
  const Frame reply =
      PacketBuilder().Eth(kC1Mac, kC3Mac).Arp(kArpReply, kC3Mac, kC3, kC1Mac, kC1).Build();
  const auto tx = h1_->Run(kC1Port, arp);
  ExpectTx(tx, {{kC1Port, reply}, {kC2Port, arp}});
  EXPECT_TRUE(OnPort(tx, kUplink).empty());
}

// Linux re-validates a neighbour with a unicast ARP request to its MAC: for
// a remote CA the filter answers it too, so ARP never crosses the wire.
TEST_F(FlowsTest, Flow3UnicastArpProbeForRemoteCaIsAnswered) {
  const Frame probe =
      PacketBuilder().Eth(kC3Mac, kC1Mac).Arp(kArpRequest, kC1Mac, kC1, MacAddr{}, kC3).Build();
  const Frame reply =
      PacketBuilder().Eth(kC1Mac, kC3Mac).Arp(kArpReply, kC3Mac, kC3, kC1Mac, kC1).Build();
  const auto tx = h1_->Run(kC1Port, probe);
  ExpectTx(tx, {{kC1Port, reply}});
  EXPECT_TRUE(OnPort(tx, kUplink).empty());
}

// A unicast request to a remote VM's MAC asking for a local CA was flooded
// nowhere: the filter answers it from policy (it used to be absorbed
// silently, found by decap_fuzz).
TEST_F(FlowsTest, UnicastArpForALocalCaIsAnsweredFromPolicy) {
  const Frame probe =
      PacketBuilder().Eth(kC3Mac, kC1Mac).Arp(kArpRequest, kC1Mac, kC1, MacAddr{}, kC2).Build();
  const Frame reply =
      PacketBuilder().Eth(kC1Mac, kC2Mac).Arp(kArpReply, kC2Mac, kC2, kC1Mac, kC1).Build();
  const auto tx = h1_->Run(kC1Port, probe);
  ExpectTx(tx, {{kC1Port, reply}});
  EXPECT_EQ(h1_->counters().absorbed, 0u);
  EXPECT_EQ(h1_->total_drops(), 0u);
}

TEST_F(FlowsTest, Flow3EncapsulatedAndDecapsulated) {
  const Frame inner = PacketBuilder()
                          .Eth(kC3Mac, kC1Mac)
                          .Ipv4(kC1, kC3)
                          .Udp(40000, 53)
                          .Payload(40)
                          .Build();
  const uint8_t flow = FlowIdOf(inner);
  const Frame outer = Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 6000, flow, inner);
  const auto tx = h1_->Run(kC1Port, inner);
  ExpectTx(tx, {{kUplink, outer}});
  ASSERT_EQ(tx.size(), 1u);
  const Frame& got = tx[0].bytes;
  EXPECT_EQ(ChecksumErrors(got), "");
  // The fields the RFC fixes, spelled out (the byte comparison covers them
  // too, but a failure here names the field).
  ASSERT_GE(got.size(), 42u + inner.size());
  const auto* eth = reinterpret_cast<const EthHdr*>(got.data());
  EXPECT_EQ(eth->src, kPa1Mac);
  EXPECT_EQ(eth->dst, kPa2Mac);
  const auto* ip = reinterpret_cast<const Ipv4Hdr*>(got.data() + 14);
  EXPECT_TRUE((U16At(got, 14 + 6) & kIpv4DontFragment) != 0);
  EXPECT_EQ(ip->protocol, kIpProtoGre);
  EXPECT_EQ(IpAddr::V4Raw(ip->src), kPa1);
  EXPECT_EQ(IpAddr::V4Raw(ip->dst), kPa2);
  EXPECT_EQ(U16At(got, 34), 0x2000);  // GRE C=0 K=1 S=0 version 0
  EXPECT_EQ(U16At(got, 36), 0x6558);
  EXPECT_EQ(U32At(got, 38), (6000u << 8) | flow);
  EXPECT_TRUE(Frame(got.begin() + 42, got.end()) == inner);

  // Host 2 decapsulates it and delivers the inner frame to Contoso3 as sent.
  ExpectTx(h2_->Run(kUplink, got), {{kC3Port, inner}});
  EXPECT_EQ(h2_->counters().decapsulated, 1u);
  EXPECT_EQ(h2_->total_drops(), 0u);
}

TEST_F(FlowsTest, Flow3FlowIdZeroWhenConfigured) {
  Policy p = Host1With6002();
  p.settings.flow_id_mode = FlowIdMode::kZero;
  h1_->Apply(p);
  const Frame inner = PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3).Tcp(1235, 80, 0x10).Build();
  ASSERT_NE(FlowIdOf(inner), 0) << "pick a frame whose hash is not 0 anyway";
  ExpectTx(h1_->Run(kC1Port, inner), {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 6000, 0, inner)}});
}

TEST_F(FlowsTest, Flow3FlowIdSpreadsFlows) {
  // Entropy: different inner flows do not all get the same FlowID.
  std::set<uint8_t> ids;
  for (uint16_t port = 1000; port < 1064; ++port) {
    const Frame inner = PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3).Udp(port, 53).Build();
    const auto tx = h1_->Run(kC1Port, inner);
    ASSERT_EQ(tx.size(), 1u);
    const uint8_t flow_id = tx[0].bytes.at(41);  // the key's low byte
    EXPECT_EQ(flow_id, FlowIdOf(inner));
    ids.insert(flow_id);
  }
  EXPECT_GT(ids.size(), 16u);
}

// ---- flow 4: dynamic IP address learning ---------------------------------------------

TEST(Flow4, DynamicLearning) {
  PipelineHarness h1(WithL2Only(ChapterHost1()));
  PipelineHarness h2(WithL2Only(ChapterHost2()));
  ResolveChapterNeighbors(h1);
  ResolveChapterNeighbors(h2);
  std::vector<LookupRecord> learned1, learned2;
  h1.tables().SetLearnCallback([&](const LookupRecord& r) { learned1.push_back(r); });
  h2.tables().SetLearnCallback([&](const LookupRecord& r) { learned2.push_back(r); });

  // Host 1: no record for 10.0.1.103; the request goes as unicast NVGRE to
  // the PA holding the L2Only record on VSID 6000 (and to the local VMs).
  const Frame request = ArpRequest(kC1Mac, kC1, kC3);
  const Frame to_host2 = Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 6000, FlowIdOf(request), request);
  ExpectTx(h1.Run(kC1Port, request), {{kUplink, to_host2}, {kC2Port, request}});
  EXPECT_EQ(h1.counters().l2only_arp, 1u);
  EXPECT_EQ(h1.total_drops(), 0u);

  // Host 2: decapsulated and flooded to Contoso3.
  ExpectTx(h2.Run(kUplink, to_host2), {{kC3Port, request}});
  EXPECT_EQ(h2.total_drops(), 0u);
  {
    const auto ev = PeekEvents(h2);  // the request taught Host 2 Contoso1's CA
    EXPECT_TRUE(HasLearn(ev, 6000, kC1, kC1Mac, kPa1)) << Describe(ev);
  }

  // Contoso3 answers; Host 2 learns its CA as local and encapsulates the
  // reply to Contoso1's PA.
  const Frame reply = ArpReply(kC3Mac, kC3, kC1Mac, kC1);
  const Frame to_host1 = Encap(kPa1Mac, kPa2Mac, kPa2, kPa1, 6000, FlowIdOf(reply), reply);
  ExpectTx(h2.Run(kC3Port, reply), {{kUplink, to_host1}});
  {
    const auto ev = PeekEvents(h2);
    EXPECT_TRUE(HasLearn(ev, 6000, kC3, kC3Mac, kPa2)) << Describe(ev);
  }

  // Host 1 decapsulates the reply, learns 10.0.1.103 at 192.168.0.33 and
  // delivers the reply to Contoso1.
  const uint64_t events_before = h1.counters().events;
  ExpectTx(h1.Run(kUplink, to_host1), {{kC1Port, reply}});
  EXPECT_EQ(h1.counters().events, events_before + 1);
  {
    const auto ev = PeekEvents(h1);
    EXPECT_TRUE(HasLearn(ev, 6000, kC3, kC3Mac, kPa2)) << Describe(ev);
  }

  h1.ProcessEvents();
  h2.ProcessEvents();
  const LookupRecord* r1 = h1.tables().FindRecord(6000, kC3);
  ASSERT_NE(r1, nullptr);
  EXPECT_EQ(r1->type, RecordType::kDynamic);
  EXPECT_EQ(r1->mac, kC3Mac);
  EXPECT_EQ(r1->pa, kPa2);
  bool called = false;
  for (const LookupRecord& r : learned1) called |= r.ca == kC3 && r.pa == kPa2 && r.mac == kC3Mac;
  EXPECT_TRUE(called) << "learn callback not called for 10.0.1.103 on Host 1";
  const LookupRecord* r2 = h2.tables().FindRecord(6000, kC3);
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r2->type, RecordType::kDynamic);
  EXPECT_EQ(r2->pa, kPa2);
  const LookupRecord* r2c1 = h2.tables().FindRecord(6000, kC1);
  ASSERT_NE(r2c1, nullptr);
  EXPECT_EQ(r2c1->pa, kPa1);
  EXPECT_FALSE(learned2.empty());

  // From now on the flow is flow 3's: data is encapsulated...
  const Frame ping = Ping(kC3Mac, kC1Mac, kC1, kC3);
  ExpectTx(h1.Run(kC1Port, ping),
           {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 6000, FlowIdOf(ping), ping)}});
  // ...and the filter answers ARP for the learned CA itself.
  const Frame proxied =
      PacketBuilder().Eth(kC1Mac, kC3Mac).Arp(kArpReply, kC3Mac, kC3, kC1Mac, kC1).Build();
  const auto tx = h1.Run(kC1Port, request);
  ExpectTx(tx, {{kC1Port, proxied}, {kC2Port, request}});
}

// A local VM whose MAC has a Static record must not teach the filter
// another CA by ARPing for it (only MACs with an L2Only record learn).
TEST(Flow4, StaticVmDoesNotLearn) {
  Policy p = ChapterHost2();
  ReplaceRecord(&p, 6000, kC3, MakeRecord(IpAddr{}, 6000, kC3Mac, kPa2, RecordType::kL2Only));
  const MacAddr c6_mac = Mac("600060000206");
  p.records.push_back(MakeRecord(Ip("10.0.1.106"), 6000, c6_mac, kPa2));
  p.vm_ports.push_back(VmPort{"Contoso6", 2, c6_mac, 6000});
  PipelineHarness h(p);
  // Gratuitous ARP claiming a further address.
  const Frame garp = PacketBuilder()
                         .Eth(MacAddr::Broadcast(), c6_mac)
                         .Arp(kArpReply, c6_mac, Ip("10.0.1.150"), MacAddr::Broadcast(),
                              Ip("10.0.1.150"))
                         .Build();
  h.Run(2, garp);
  EXPECT_TRUE(h.DrainEvents().empty());
  // Contoso3 (L2Only) does teach its address.
  h.Run(kC3Port, ArpReply(kC3Mac, kC3, c6_mac, Ip("10.0.1.106")));
  const auto ev = h.DrainEvents();
  EXPECT_TRUE(HasLearn(ev, 6000, kC3, kC3Mac, kPa2)) << Describe(ev);
}

// Learning cannot give a VM an address outside its subnet (here: in another
// subnet of the routing domain, which the router would then send to it).
TEST(Flow4, LearnedAddressMustBeInTheVsidsSubnet) {
  Policy p = ChapterHost2();
  ReplaceRecord(&p, 6000, kC3, MakeRecord(IpAddr{}, 6000, kC3Mac, kPa2, RecordType::kL2Only));
  PipelineHarness h(p);
  std::vector<LookupRecord> learned;
  h.tables().SetLearnCallback([&](const LookupRecord& r) { learned.push_back(r); });
  auto garp = [](const IpAddr& ip) {
    return PacketBuilder()
        .Eth(MacAddr::Broadcast(), kC3Mac)
        .Arp(kArpReply, kC3Mac, ip, MacAddr::Broadcast(), ip)
        .Build();
  };
  for (const char* bad : {"10.0.2.50", "10.1.3.7", "10.0.1.0", "10.0.1.255"}) h.Run(kC3Port, garp(Ip(bad)));
  h.Run(kC3Port, garp(Ip("10.0.1.150")));
  h.ProcessEvents();
  ASSERT_EQ(learned.size(), 1u);
  EXPECT_EQ(learned[0].ca, Ip("10.0.1.150"));
  EXPECT_EQ(h.tables().FindRecord(6000, Ip("10.0.2.50")), nullptr);
  EXPECT_EQ(h.tables().FindRecord(6000, Ip("10.1.3.7")), nullptr);
  // The router still treats 10.0.2.50 as having no record.
  h.ResetCounters();
  ExpectNothing(h.Run(kC3Port, Ping(kDfgw6000Mac, kC3Mac, kC3, Ip("10.0.2.50"))));
  ExpectOnlyDrop(h, Drop::kNoRecord);
}

// A full burst of ARP requests for unknown addresses with five L2Only PAs
// on the VSID: 160 unicast copies, more than one burst, none lost.
TEST(Flow4, L2OnlyFanOutOfAFullBurst) {
  Policy p = ChapterHost1();
  for (uint8_t i = 0; i < 5; ++i)
    p.records.push_back(MakeRecord(IpAddr{}, 6000, MacAddr{{0x02, 0, 0, 0, 1, i}},
                                   IpAddr::V4(0xC0A80064u + i), RecordType::kL2Only));
  PipelineHarness h(p);
  h.ResolveNeighbors(kRouterMac);
  std::vector<Frame> burst;
  for (uint32_t i = 0; i < kBurstSize; ++i)
    burst.push_back(ArpRequest(kC1Mac, kC1, IpAddr::V4(0x0A0001C8u + i)));
  const auto tx = h.RunBurst(kC1Port, burst);
  EXPECT_EQ(OnPort(tx, kUplink).size(), 5u * kBurstSize);
  EXPECT_EQ(OnPort(tx, kC2Port).size(), kBurstSize);
  EXPECT_EQ(h.total_drops(), 0u);
}

// ---- flow 5: different VSIDs, different hosts --------------------------------------

TEST_F(FlowsTest, Flow5RoutedThenEncapsulatedWithDestinationVsid) {
  const Frame in = Ping(kDfgw6000Mac, kC1Mac, kC1, kC5, 32, 64);
  const Frame routed = Ping(kC5Mac, kDfgw6002Mac, kC1, kC5, 32, 63);
  const Frame outer = Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, kVsid6002, FlowIdOf(routed), routed);
  const auto tx = h1_->Run(kC1Port, in);
  ExpectTx(tx, {{kUplink, outer}});
  EXPECT_EQ(h1_->counters().routed, 1u);
  ASSERT_EQ(tx.size(), 1u);
  ExpectTx(h2_->Run(kUplink, tx[0].bytes), {{kC5Port, routed}});
  EXPECT_EQ(h2_->total_drops(), 0u);
}

// ---- flow 6: VM to a physical host through the gateway ----------------------------

TEST_F(FlowsTest, Flow6ToPhysicalHostThroughGateway) {
  const Frame in = Ping(kDfgw6000Mac, kC1Mac, kC1, kPhysical, 32, 64);
  const Frame routed = Ping(kMtGwMac, kDfgw6001Mac, kC1, kPhysical, 32, 63);
  const Frame outer = Encap(kPaGwMac, kPa1Mac, kPa1, kPaGw, 6001, FlowIdOf(routed), routed);
  const auto tx = h1_->Run(kC1Port, in);
  ExpectTx(tx, {{kUplink, outer}});
  ASSERT_EQ(tx.size(), 1u);
  // The gateway host delivers it to MT-GW's internal NIC.
  ExpectTx(gw_->Run(kUplink, tx[0].bytes), {{kMtGwPort, routed}});
  EXPECT_EQ(gw_->total_drops(), 0u);
}

TEST_F(FlowsTest, Flow6ReturnTrafficFromTheGateway) {
  // MT-GW forwards the physical host's answer into the VM network: to its
  // DFGW, routed on the gateway host to Contoso1 on Host 1 (VSID 6000).
  const Frame in = Ping(kDfgw6001Mac, kMtGwMac, kPhysical, kC1, 32, 64);
  const Frame routed = Ping(kC1Mac, kDfgw6000Mac, kPhysical, kC1, 32, 63);
  const auto tx = gw_->Run(kMtGwPort, in);
  ExpectTx(tx, {{kUplink, Encap(kPa1Mac, kPaGwMac, kPaGw, kPa1, 6000, FlowIdOf(routed), routed)}});
  ASSERT_EQ(tx.size(), 1u);
  // 10.1.3.100 has no lookup record: Host 1 accepts it from 192.168.0.11
  // because the customer route covering it (0.0.0.0/0) has MT-GW, whose PA
  // that is, as next hop. DESIGN §6: all five ping each other.
  ExpectTx(h1_->Run(kUplink, tx[0].bytes), {{kC1Port, routed}});
  EXPECT_EQ(h1_->total_drops(), 0u);
}

// ---- policy changes -----------------------------------------------------------------------

TEST_F(FlowsTest, MigrationAndRemovalTakeEffect) {
  const Frame ping = Ping(kC3Mac, kC1Mac, kC1, kC3);
  const Frame arp = ArpRequest(kC1Mac, kC1, kC3);
  // Contoso3 moves to 192.168.0.44 (live migration: same CA and MAC).
  Policy p = Host1With6002();
  const IpAddr pa44 = Ip("192.168.0.44");
  ReplaceRecord(&p, 6000, kC3, MakeRecord(kC3, 6000, kC3Mac, pa44));
  h1_->Apply(p);
  h1_->tables().LearnNeighbor(kUplink, pa44, Mac("02000000bb44"));
  h1_->tables().Synchronize();
  ExpectTx(h1_->Run(kC1Port, ping),
           {{kUplink, Encap(Mac("02000000bb44"), kPa1Mac, kPa1, pa44, 6000, FlowIdOf(ping), ping)}});
  // Host 1 now believes Contoso3's traffic only from its new PA.
  const Frame back = Ping(kC1Mac, kC3Mac, kC3, kC1);
  h1_->ResetCounters();
  ExpectNothing(h1_->Run(kUplink, Encap(kPa1Mac, kPa2Mac, kPa2, kPa1, 6000, 0, back)));
  ExpectOnlyDrop(*h1_, Drop::kSourceCheck);
  ExpectTx(h1_->Run(kUplink, Encap(kPa1Mac, kPa2Mac, pa44, kPa1, 6000, 0, back)),
           {{kC1Port, back}});
  // Removed: no record, no delivery, and no ARP answer.
  std::erase_if(p.records, [](const LookupRecord& r) { return r.ca == kC3; });
  h1_->Apply(p);
  h1_->ResetCounters();
  ExpectNothing(h1_->Run(kC1Port, ping));
  ExpectOnlyDrop(*h1_, Drop::kUnknownDstMac);
  h1_->ResetCounters();
  ExpectTx(h1_->Run(kC1Port, arp), {{kC2Port, arp}});
  ExpectOnlyDrop(*h1_, Drop::kArpNoRecord);
}

// ---- rules that hold everywhere ----------------------------------------------------------

TEST_F(FlowsTest, NoRecordNoDelivery) {
  ExpectNothing(h1_->Run(kC1Port, Ping(kDfgw6000Mac, kC1Mac, kC1, Ip("10.0.1.200"))));
  ExpectOnlyDrop(*h1_, Drop::kNoRecord);
  h1_->ResetCounters();
  // ARP for it reaches the local VMs (a broadcast) but not the wire.
  const Frame arp = ArpRequest(kC1Mac, kC1, Ip("10.0.1.200"));
  ExpectTx(h1_->Run(kC1Port, arp), {{kC2Port, arp}});
  ExpectOnlyDrop(*h1_, Drop::kArpNoRecord);
  h1_->ResetCounters();
  // No route at all (another RD's prefix is not ours): nothing matches
  // without the 0.0.0.0/0 wildcard.
  Policy p = Host1With6002();
  std::erase_if(p.customer_routes, [](const CustomerRoute& r) { return r.destination.len == 0; });
  h1_->Apply(p);
  ExpectNothing(h1_->Run(kC1Port, Ping(kDfgw6000Mac, kC1Mac, kC1, kPhysical)));
  ExpectOnlyDrop(*h1_, Drop::kNoRoute);
}

TEST_F(FlowsTest, UnknownDestinationMacIsDropped) {
  ExpectNothing(h1_->Run(kC1Port, Ping(Mac("600060000199"), kC1Mac, kC1, Ip("10.0.1.199"))));
  ExpectOnlyDrop(*h1_, Drop::kUnknownDstMac);
}

// TTL 1 at the distributed router: dropped, and the sender hears "time
// exceeded" from its DFGW (so traceroute shows the DFGW as the first hop),
// quoting the packet; never about an ICMP error, a later fragment or a
// multicast destination.
TEST_F(FlowsTest, TtlExpiredIsDroppedWithTimeExceeded) {
  const Frame ping = Ping(kDfgw6000Mac, kC1Mac, kC1, kC4, 32, 1);
  const Frame expected = PacketBuilder()
                             .Eth(kC1Mac, kDfgw6000Mac)
                             .Ipv4(kDfgw6000, kC1)
                             .Icmp(kIcmpTimeExceeded, 0, 0)
                             .Payload(Frame(ping.begin() + 14, ping.end()))
                             .Build();
  ExpectTx(h1_->Run(kC1Port, ping), {{kC1Port, expected}});
  ExpectOnlyDrop(*h1_, Drop::kTtlExpired);
  EXPECT_EQ(h1_->counters().icmp_time_exceeded, 1u);
  h1_->ResetCounters();

  const Frame error = PacketBuilder()
                          .Eth(kDfgw6000Mac, kC1Mac)
                          .Ipv4(kC1, kC4)
                          .Ttl(1)
                          .Icmp(kIcmpDestUnreachable, 3, 0)
                          .Payload(28)
                          .Build();
  ExpectNothing(h1_->Run(kC1Port, error));
  ExpectOnlyDrop(*h1_, Drop::kTtlExpired);
  EXPECT_EQ(h1_->counters().icmp_time_exceeded, 0u);
}

// A VM sending TTL-1 packets as fast as it can gets at most
// settings.icmp_errors_burst errors at once from a worker, then
// icmp_errors_per_second; 0 per second silences them. Every packet is still
// dropped as kTtlExpired; the errors not sent are counted.
TEST_F(FlowsTest, TimeExceededIsRateLimited) {
  Policy p = Host1With6002();
  p.settings.icmp_errors_burst = 5;
  p.settings.icmp_errors_per_second = 1;  // no new token during the test's microseconds
  h1_->Apply(p);
  const Frame ping = Ping(kDfgw6000Mac, kC1Mac, kC1, kC4, 32, 1);
  const std::vector<Frame> burst(20, ping);
  const std::vector<TxFrame> out = h1_->RunBurst(kC1Port, burst);
  ASSERT_EQ(out.size(), 5u);
  for (const TxFrame& f : out) {
    EXPECT_EQ(f.port, kC1Port);
    EXPECT_EQ(Parse(f.bytes).l4_proto, kIpProtoIcmp);
  }
  EXPECT_EQ(h1_->counters().icmp_time_exceeded, 5u);
  EXPECT_EQ(h1_->counters().icmp_rate_limited, 15u);
  EXPECT_EQ(h1_->drops(Drop::kTtlExpired), 20u);
  EXPECT_EQ(h1_->total_drops(), 20u);
  h1_->ResetCounters();

  p.settings.icmp_errors_per_second = 0;
  h1_->Apply(p);
  ExpectNothing(h1_->RunBurst(kC1Port, std::vector<Frame>(3, ping)));
  EXPECT_EQ(h1_->counters().icmp_time_exceeded, 0u);
  EXPECT_EQ(h1_->counters().icmp_rate_limited, 3u);
  EXPECT_EQ(h1_->drops(Drop::kTtlExpired), 3u);
  EXPECT_EQ(h1_->total_drops(), 3u);
}

TEST_F(FlowsTest, TtlExpiredLaterFragmentOrMulticastGetsNoTimeExceeded) {
  const Frame later = PacketBuilder()
                          .Eth(kDfgw6000Mac, kC1Mac)
                          .Ipv4(kC1, kC4)
                          .Ttl(1)
                          .Ipv4Frag(1480, false)
                          .Payload(32)
                          .Build();
  ExpectNothing(h1_->Run(kC1Port, later));
  const Frame multicast = PacketBuilder()
                              .Eth(kDfgw6000Mac, kC1Mac)
                              .Ipv4(kC1, Ip("239.1.2.3"))
                              .Ttl(1)
                              .Udp(5000, 5001)
                              .Payload(32)
                              .Build();
  ExpectNothing(h1_->Run(kC1Port, multicast));
  EXPECT_EQ(h1_->counters().icmp_time_exceeded, 0u);
}

TEST_F(FlowsTest, SourceMacSpoofIsDropped) {
  ExpectNothing(h1_->Run(kC1Port, Ping(kC3Mac, kC2Mac, kC2, kC3)));
  ExpectOnlyDrop(*h1_, Drop::kSrcMacSpoof);
}

TEST_F(FlowsTest, TaggedFrameFromVmIsDropped) {
  const Frame f = PacketBuilder().Eth(kC2Mac, kC1Mac).Vlan(7).Ipv4(kC1, kC2).Icmp().Build();
  ExpectNothing(h1_->Run(kC1Port, f));
  ExpectOnlyDrop(*h1_, Drop::kVlanFromVm);
}

TEST_F(FlowsTest, UnusedPortIsDropped) {
  ExpectNothing(h1_->Run(9, Ping(kC2Mac, kC1Mac, kC1, kC2)));
  ExpectOnlyDrop(*h1_, Drop::kUnknownPort);
}

TEST(ProviderArp, PaAnswersArpAndLearnsNeighbours) {
  PipelineHarness h(ChapterHost1());
  // Not resolved yet: encapsulation waits for the provider next hop.
  ExpectNothing(h.Run(kC1Port, Ping(kC3Mac, kC1Mac, kC1, kC3)));
  ExpectOnlyDrop(h, Drop::kPeerUnresolved);
  bool pending = false;
  for (const auto& u : h.tables().Unresolved()) pending |= u.next_hop == kPa2;
  EXPECT_TRUE(pending) << "192.168.0.33 is not waiting for resolution";
  h.ResetCounters();

  // An ARP request for our PA is answered with the PA's MAC.
  const Frame req = ArpRequest(kPaGwMac, kPaGw, kPa1);
  const Frame rep = ArpReply(kPa1Mac, kPa1, kPaGwMac, kPaGw);
  ExpectTx(h.Run(kUplink, req), {{kUplink, rep}});
  EXPECT_EQ(h.counters().arp_answered, 1u);
  // One for another address is not ours to answer.
  ExpectNothing(h.Run(kUplink, ArpRequest(kPaGwMac, kPaGw, Ip("192.168.0.44"))));
  EXPECT_EQ(h.drops(Drop::kNotForUs), 1u);

  // Host 2's ARP reply resolves the next hop toward 192.168.0.33.
  ExpectNothing(h.Run(kUplink, ArpReply(kPa2Mac, kPa2, kPa1Mac, kPa1)));
  const auto ev = PeekEvents(h);
  bool saw = false;
  for (const Event& e : ev) saw |= e.kind == Event::kNeighbor && e.ip == kPa2 && e.mac == kPa2Mac;
  EXPECT_TRUE(saw) << Describe(ev);
  h.ProcessEvents();
  const Frame ping = Ping(kC3Mac, kC1Mac, kC1, kC3);
  ExpectTx(h.Run(kC1Port, ping),
           {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 6000, FlowIdOf(ping), ping)}});
}

TEST(ProviderArp, PingToPaIsAnswered) {
  PipelineHarness h(ChapterHost1());
  const Frame req = PacketBuilder().Eth(kPa1Mac, kPa2Mac).Ipv4(kPa2, kPa1).Icmp().Payload(8).Build();
  const Frame rep = PacketBuilder()
                        .Eth(kPa2Mac, kPa1Mac)
                        .Ipv4(kPa1, kPa2)
                        .Icmp(kIcmpEchoReply)
                        .Payload(8)
                        .Build();
  ExpectTx(h.Run(kUplink, req), {{kUplink, rep}});
  // Other IP traffic to a PA is not ours.
  ExpectNothing(
      h.Run(kUplink, PacketBuilder().Eth(kPa1Mac, kPa2Mac).Ipv4(kPa2, kPa1).Udp(1, 2).Build()));
  EXPECT_EQ(h.drops(Drop::kPaNotGre), 1u);
}

TEST(ProviderRoutes, RemotePaThroughARouter) {
  // Contoso3's host in another provider subnet, reached via 192.168.0.1.
  Policy p = ChapterHost1();
  const IpAddr far_pa = Ip("10.20.0.5");
  ReplaceRecord(&p, 6000, kC3, MakeRecord(kC3, 6000, kC3Mac, far_pa));
  ProviderRoute r;
  r.destination = Prefix("10.20.0.0/16");
  r.port = kUplink;
  r.next_hop = Ip("192.168.0.1");
  p.provider_routes.push_back(r);
  PipelineHarness h(p);
  bool pending = false;
  for (const auto& u : h.tables().Unresolved()) pending |= u.next_hop == Ip("192.168.0.1");
  EXPECT_TRUE(pending) << "the router is not waiting for resolution";
  const MacAddr router = Mac("020000000001");
  h.tables().LearnNeighbor(kUplink, Ip("192.168.0.1"), router);
  h.tables().Synchronize();
  const Frame ping = Ping(kC3Mac, kC1Mac, kC1, kC3);
  ExpectTx(h.Run(kC1Port, ping),
           {{kUplink, Encap(router, kPa1Mac, kPa1, far_pa, 6000, FlowIdOf(ping), ping)}});
}

TEST(PaVlan, TaggedEncapsulationAndUntaggedDrop) {
  Policy p = ChapterHost1();
  p.provider_addresses[0].vlan = 5;
  PipelineHarness h(p);
  ResolveChapterNeighbors(h);
  const Frame ping = Ping(kC3Mac, kC1Mac, kC1, kC3);
  ExpectTx(h.Run(kC1Port, ping),
           {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 6000, FlowIdOf(ping), ping, 5)}});

  const Frame back = Ping(kC1Mac, kC3Mac, kC3, kC1);
  const Frame untagged = Encap(kPa1Mac, kPa2Mac, kPa2, kPa1, 6000, 0, back);
  ExpectNothing(h.Run(kUplink, untagged));
  ExpectOnlyDrop(h, Drop::kWrongVlan);
  h.ResetCounters();
  ExpectNothing(h.Run(kUplink, Encap(kPa1Mac, kPa2Mac, kPa2, kPa1, 6000, 0, back, 6)));
  ExpectOnlyDrop(h, Drop::kWrongVlan);
  ExpectTx(h.Run(kUplink, Encap(kPa1Mac, kPa2Mac, kPa2, kPa1, 6000, 0, back, 5)),
           {{kC1Port, back}});

  // ARP for the PA on its VLAN is answered on that VLAN.
  const Frame req = PacketBuilder()
                        .Eth(MacAddr::Broadcast(), kPa2Mac)
                        .Vlan(5)
                        .Arp(kArpRequest, kPa2Mac, kPa2, MacAddr{}, kPa1)
                        .Build();
  const Frame rep = PacketBuilder()
                        .Eth(kPa2Mac, kPa1Mac)
                        .Vlan(5)
                        .Arp(kArpReply, kPa1Mac, kPa1, kPa2Mac, kPa2)
                        .Build();
  ExpectTx(h.Run(kUplink, req), {{kUplink, rep}});
}

// ---- MTU -----------------------------------------------------------------------------------

Frame DfPing(const MacAddr& dst_mac, const IpAddr& dst, size_t payload, uint8_t ttl = 64,
             bool df = true) {
  PacketBuilder b;
  b.Eth(dst_mac, kC1Mac).Ipv4(kC1, dst).Ttl(ttl);
  if (df) b.DontFragment();
  return b.Icmp().Payload(payload).Build();
}

// ICMP frag-needed from `from` (MAC from_mac) to Contoso1 quoting `ip` (the
// offending packet's IP part) up to 576 - 28 bytes.
Frame FragNeeded(const MacAddr& from_mac, const IpAddr& from, const Frame& offending,
                 uint32_t mtu) {
  const size_t quote = std::min<size_t>(offending.size() - 14, 576 - 28);
  return PacketBuilder()
      .Eth(kC1Mac, from_mac)
      .Ipv4(from, kC1)
      .Icmp(kIcmpDestUnreachable, kIcmpFragNeeded, mtu)
      .Payload(Frame(offending.begin() + 14, offending.begin() + 14 + quote))
      .Build();
}

TEST_F(FlowsTest, MtuTooBigGetsFragNeeded) {
  ASSERT_EQ(Host1With6002().settings.underlay_mtu, 1500u);
  const Frame big = DfPing(kC3Mac, kC3, 1472);  // IP 1500 + 42 > 1500
  ExpectTx(h1_->Run(kC1Port, big), {{kC1Port, FragNeeded(kDfgw6000Mac, kDfgw6000, big, 1458)}});
  ExpectOnlyDrop(*h1_, Drop::kTooBig);
  EXPECT_EQ(h1_->counters().icmp_too_big, 1u);
  h1_->ResetCounters();

  const Frame fits = DfPing(kC3Mac, kC3, 1430);  // IP 1458: exactly fits
  const auto tx = h1_->Run(kC1Port, fits);
  ExpectTx(tx, {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 6000, FlowIdOf(fits), fits)}});
  ASSERT_EQ(tx.size(), 1u);
  EXPECT_EQ(tx[0].bytes.size(), 1514u);
  h1_->ResetCounters();
  ExpectTx(h1_->Run(kC1Port, DfPing(kC3Mac, kC3, 1431)),
           {{kC1Port, FragNeeded(kDfgw6000Mac, kDfgw6000, DfPing(kC3Mac, kC3, 1431), 1458)}});
}

TEST_F(FlowsTest, MtuTooBigWithoutDfIsDroppedWithoutIcmp) {
  ExpectNothing(h1_->Run(kC1Port, DfPing(kC3Mac, kC3, 1472, 64, /*df=*/false)));
  ExpectOnlyDrop(*h1_, Drop::kTooBig);
}

TEST_F(FlowsTest, MtuTooBigRoutedGetsFragNeededToTheSender) {
  // Routed (flow 5) and too big: the ICMP goes to Contoso1's MAC from its own
  // subnet's DFGW, quoting the packet as routed (TTL 63).
  const Frame big = DfPing(kDfgw6000Mac, kC5, 1472);
  Frame routed = DfPing(kC5Mac, kC5, 1472, 63);
  std::copy(kDfgw6002Mac.b.begin(), kDfgw6002Mac.b.end(), routed.begin() + 6);
  ExpectTx(h1_->Run(kC1Port, big), {{kC1Port, FragNeeded(kDfgw6000Mac, kDfgw6000, routed, 1458)}});
  ExpectOnlyDrop(*h1_, Drop::kTooBig);
}

TEST_F(FlowsTest, MtuSettingsAreHonoured) {
  Policy p = Host1With6002();
  p.settings.underlay_mtu = 9000;
  h1_->Apply(p);
  const Frame big = DfPing(kC3Mac, kC3, 1472);
  ExpectTx(h1_->Run(kC1Port, big),
           {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 6000, FlowIdOf(big), big)}});
  p.settings.underlay_mtu = 1500;
  p.settings.mtu_policy = MtuPolicy::kClampMss;  // no ICMP
  h1_->Apply(p);
  ExpectNothing(h1_->Run(kC1Port, big));
  EXPECT_EQ(h1_->drops(Drop::kTooBig), 1u);
}

Frame Syn(const MacAddr& dst_mac, const IpAddr& dst, uint16_t mss, uint8_t ttl = 64) {
  return PacketBuilder().Eth(dst_mac, kC1Mac).Ipv4(kC1, dst).Ttl(ttl).Tcp(40000, 443, kTcpSyn, mss)
      .Build();
}

TEST_F(FlowsTest, MssIsClamped) {
  const Frame clamped = Syn(kC3Mac, kC3, 1418);
  const auto tx = h1_->Run(kC1Port, Syn(kC3Mac, kC3, 1460));
  ExpectTx(tx, {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 6000, FlowIdOf(clamped), clamped)}});
  ASSERT_EQ(tx.size(), 1u);
  EXPECT_EQ(ChecksumErrors(tx[0].bytes), "");
  EXPECT_EQ(h1_->counters().mss_clamped, 1u);
  // A smaller MSS is left alone.
  const Frame small = Syn(kC3Mac, kC3, 1200);
  ExpectTx(h1_->Run(kC1Port, small),
           {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 6000, FlowIdOf(small), small)}});
  // Routed SYNs are clamped too.
  const Frame routed = PacketBuilder().Eth(kC5Mac, kDfgw6002Mac).Ipv4(kC1, kC5).Ttl(63)
                           .Tcp(40000, 443, kTcpSyn, 1418).Build();
  ExpectTx(h1_->Run(kC1Port, Syn(kDfgw6000Mac, kC5, 1460)),
           {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, kVsid6002, FlowIdOf(routed), routed)}});
  // Switched locally: no encapsulation, no clamping.
  const Frame local = Syn(kC2Mac, kC2, 1460);
  ExpectTx(h1_->Run(kC1Port, local), {{kC2Port, local}});
}

TEST_F(FlowsTest, MssNotClampedWithIcmpOnly) {
  Policy p = Host1With6002();
  p.settings.mtu_policy = MtuPolicy::kIcmp;
  h1_->Apply(p);
  const Frame syn = Syn(kC3Mac, kC3, 1460);
  ExpectTx(h1_->Run(kC1Port, syn),
           {{kUplink, Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, 6000, FlowIdOf(syn), syn)}});
}

}  // namespace
}  // namespace hnv::test::pipe
