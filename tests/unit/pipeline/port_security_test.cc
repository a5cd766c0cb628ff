// Port security on the host switch (port_guard.h), exact frames: every spoof
// a VM can try (IPv4 and IPv6 sources, ARP requests, replies and gratuitous
// ARP, NS/NA with override, router advertisements, DHCP offers) is dropped
// with its own reason, and the same frame from the VM it rightly belongs to
// is delivered. Dynamic learning still binds a free CA and refuses a taken
// one; a record change and a migration move the binding; MacAddressSpoofing
// On, DhcpGuard Off and RouterGuard Off let the frames through again.
#include <gtest/gtest.h>

#include <functional>

#include "dataplane/pipeline/nvgre_encap.h"
#include "tests/unit/pipeline/pipeline_test_util.h"

namespace hnv::test::pipe {
namespace {

// Fabrikam (kF1, kF2: pipeline_test_util.h), the IPv6 tenant.
// Link-local addresses in modified EUI-64 form, from each MAC.
const IpAddr kF1Ll = Ip("fe80::7200:70ff:fe00:101");
const IpAddr kF2Ll = Ip("fe80::7200:70ff:fe00:102");
const IpAddr kAllNodes = Ip("ff02::1");
const MacAddr kAllNodesMac = Mac("333300000001");

void Resolve(PipelineHarness& h) {
  h.tables().LearnNeighbor(kUplink, kPa1, kPa1Mac);
  h.tables().LearnNeighbor(kUplink, kPa2, kPa2Mac);
  h.tables().LearnNeighbor(kUplink, kPaGw, kPaGwMac);
  h.tables().Synchronize();
}

// The policy with the adapter on `port` changed by `edit`.
Policy WithAdapter(Policy p, uint16_t port, const std::function<void(VmPort&)>& edit) {
  for (VmPort& v : p.vm_ports)
    if (v.port == port) edit(v);
  return p;
}

uint8_t FlowIdOf(const Frame& inner) {
  const ParsedFrame pf = Parse(inner);
  return NvgreEncap::FlowId(inner.data(), pf);
}
Frame ToHost2(const Frame& inner, uint32_t vsid = 6000) {
  return Encap(kPa2Mac, kPa1Mac, kPa1, kPa2, vsid, FlowIdOf(inner), inner);
}

// An ND message from (mac, src) to (dst_mac, dst): `type`, the NA flags
// word, the target, and one link-layer option of `opt_type` with `opt_mac`.
Frame Nd(const MacAddr& mac, const IpAddr& src, const MacAddr& dst_mac, const IpAddr& dst,
         uint8_t type, uint32_t flags, const IpAddr& target, uint8_t opt_type,
         const MacAddr& opt_mac) {
  return PacketBuilder()
      .Eth(dst_mac, mac)
      .Ipv6(src, dst)
      .Ttl(255)
      .Icmp6(type, 0, flags)
      .Payload(NdBody(target, opt_type, opt_mac))
      .Build();
}
constexpr uint32_t kOverride = kNaSolicited | kNaOverride;

// A router advertisement from (mac, link-local src) to all nodes, with a
// source link-layer option naming `slla`.
Frame RouterAdvert(const MacAddr& mac, const IpAddr& src, const MacAddr& slla) {
  // After the header's hop limit 64 and lifetime 1800 s: reachable and
  // retransmission timers 0, then the option.
  std::vector<uint8_t> body = {0, 0, 0, 0, 0, 0, 0, 0, kNdOptSourceLinkAddr, 1};
  body.insert(body.end(), slla.b.begin(), slla.b.end());
  return PacketBuilder()
      .Eth(kAllNodesMac, mac)
      .Ipv6(src, kAllNodes)
      .Ttl(255)
      .Icmp6(134, 0, 0x40000708)
      .Payload(body)
      .Build();
}

Frame DhcpOffer(const MacAddr& mac, const IpAddr& server) {
  return PacketBuilder()
      .Eth(MacAddr::Broadcast(), mac)
      .Ipv4(server, Ip("255.255.255.255"))
      .Udp(67, 68)
      .Payload(240)
      .Build();
}

class PortSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h1_ = std::make_unique<PipelineHarness>(ChapterHost1());
    Resolve(*h1_);
  }
  // Runs `f` from `port` and expects it dropped for `why`, nothing sent.
  void ExpectSpoof(PipelineHarness& h, uint16_t port, const Frame& f, Drop why) {
    h.ResetCounters();
    ExpectNothing(h.Run(port, f));
    ExpectOnlyDrop(h, why);
  }
  std::unique_ptr<PipelineHarness> h1_;
};

// ---- IPv4 and IPv6 sources ----------------------------------------------------

TEST_F(PortSecurityTest, Ipv4SourceOfAnotherVmIsDropped) {
  // Contoso1 speaks as Contoso2 to Contoso3 (remote) and to Contoso2 itself
  // as Contoso3: the two IP spoofs of the issue.
  ExpectSpoof(*h1_, kC1Port, Ping(kC3Mac, kC1Mac, kC2, kC3), Drop::kIpSpoof);
  ExpectSpoof(*h1_, kC1Port, Ping(kC2Mac, kC1Mac, kC3, kC2), Drop::kIpSpoof);
  // An address nobody holds, and one of another subnet of the domain.
  ExpectSpoof(*h1_, kC1Port, Ping(kC3Mac, kC1Mac, Ip("10.0.1.77"), kC3), Drop::kIpSpoof);
  ExpectSpoof(*h1_, kC1Port, Ping(kDfgw6000Mac, kC1Mac, kMtGw, kC3), Drop::kIpSpoof);
}

TEST_F(PortSecurityTest, Ipv4SourceOfItsOwnIsDelivered) {
  const Frame as_c2 = Ping(kC3Mac, kC2Mac, kC2, kC3);
  ExpectTx(h1_->Run(kC2Port, as_c2), {{kUplink, ToHost2(as_c2)}});
  const Frame to_c2 = Ping(kC2Mac, kC1Mac, kC1, kC2);
  ExpectTx(h1_->Run(kC1Port, to_c2), {{kC2Port, to_c2}});
  EXPECT_EQ(h1_->total_drops(), 0u);
}

TEST_F(PortSecurityTest, UnspecifiedSourceOnlyToDhcpServers) {
  const Frame discover = PacketBuilder()
                             .Eth(MacAddr::Broadcast(), kC1Mac)
                             .Ipv4(Ip("0.0.0.0"), Ip("255.255.255.255"))
                             .Udp(68, 67)
                             .Payload(240)
                             .Build();
  ExpectTx(h1_->Run(kC1Port, discover), {{kC2Port, discover}});
  EXPECT_EQ(h1_->total_drops(), 0u);
  ExpectSpoof(*h1_, kC1Port,
              PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(Ip("0.0.0.0"), kC3).Udp(68, 53).Build(),
              Drop::kIpSpoof);
}

TEST_F(PortSecurityTest, Ipv6SourceOfAnotherVmIsDropped) {
  PipelineHarness h(ChapterHost1V6());
  Resolve(h);
  ExpectSpoof(h, kF1Port, Ping(kF2Mac, kF1Mac, kF2, kF1), Drop::kIpSpoof);
  // The other VM's link-local address (EUI-64: it names its MAC).
  ExpectSpoof(h, kF1Port, Ping(kF2Mac, kF1Mac, kF2Ll, kF2), Drop::kIpSpoof);
  // :: only for DAD and MLD (ICMPv6, MLD behind a hop-by-hop header).
  ExpectSpoof(h, kF1Port,
              PacketBuilder().Eth(kF2Mac, kF1Mac).Ipv6(Ip("::"), kF2).Udp(546, 547).Build(),
              Drop::kIpSpoof);
  ExpectSpoof(h, kF1Port,
              PacketBuilder()
                  .Eth(kF2Mac, kF1Mac)
                  .Ipv6(Ip("::"), kF2, 0)
                  .Payload({kIpProtoUdp, 0, 5, 2, 0, 0, 1, 0, 2, 34, 2, 35, 0, 8, 0, 0})
                  .Build(),
              Drop::kIpSpoof);
}

TEST_F(PortSecurityTest, Ipv6SourceOfItsOwnIsDelivered) {
  PipelineHarness h(ChapterHost1V6());
  Resolve(h);
  for (const Frame& f : {Ping(kF1Mac, kF2Mac, kF2, kF1), Ping(kF1Mac, kF2Mac, kF2Ll, kF1Ll),
                         Ping(kF1Mac, kF2Mac, Ip("fe80::1234:5678:9abc:def0"), kF1Ll)})
    ExpectTx(h.Run(kF2Port, f), {{kF1Port, f}});
  EXPECT_EQ(h.total_drops(), 0u);
}

// ---- ARP ----------------------------------------------------------------------

TEST_F(PortSecurityTest, ArpPoisoningIsDropped) {
  // The poisoning: "10.0.1.103 is at Contoso1's MAC", told to Contoso2.
  ExpectSpoof(*h1_, kC1Port, ArpReply(kC1Mac, kC3, kC2Mac, kC2), Drop::kArpSpoof);
  // A request that claims another's address (receivers cache the sender).
  ExpectSpoof(*h1_, kC1Port, ArpRequest(kC1Mac, kC2, kC3), Drop::kArpSpoof);
  // Gratuitous ARP, request and reply form.
  ExpectSpoof(*h1_, kC1Port, ArpRequest(kC1Mac, kC2, kC2), Drop::kArpSpoof);
  ExpectSpoof(*h1_, kC1Port, ArpReply(kC1Mac, kC2, MacAddr::Broadcast(), kC2), Drop::kArpSpoof);
  // Its own address with another's MAC as sender hardware address.
  ExpectSpoof(*h1_, kC1Port,
              PacketBuilder()
                  .Eth(MacAddr::Broadcast(), kC1Mac)
                  .Arp(kArpRequest, kC2Mac, kC1, MacAddr{}, kC3)
                  .Build(),
              Drop::kArpSpoof);
}

TEST_F(PortSecurityTest, ArpOfItsOwnIsDelivered) {
  // Contoso2's own reply to Contoso1, and its gratuitous ARP.
  const Frame reply = ArpReply(kC2Mac, kC2, kC1Mac, kC1);
  ExpectTx(h1_->Run(kC2Port, reply), {{kC1Port, reply}});
  const Frame garp = ArpReply(kC2Mac, kC2, MacAddr::Broadcast(), kC2);
  ExpectTx(h1_->Run(kC2Port, garp), {{kC1Port, garp}});
  // Its request for Contoso3: flooded, and answered by the filter.
  const Frame ask = ArpRequest(kC2Mac, kC2, kC3);
  const Frame answer =
      PacketBuilder().Eth(kC2Mac, kC3Mac).Arp(kArpReply, kC3Mac, kC3, kC2Mac, kC2).Build();
  ExpectTx(h1_->Run(kC2Port, ask), {{kC1Port, ask}, {kC2Port, answer}});
  // An ARP probe (sender 0.0.0.0, RFC 5227).
  const Frame probe = ArpRequest(kC1Mac, Ip("0.0.0.0"), kC1);
  ExpectTx(h1_->Run(kC1Port, probe), {{kC2Port, probe}});
  EXPECT_EQ(h1_->drops(Drop::kArpSpoof), 0u);
}

// ---- neighbour discovery ----------------------------------------------------------

TEST_F(PortSecurityTest, NeighborSpoofsAreDropped) {
  PipelineHarness h(ChapterHost1V6());
  Resolve(h);
  // NA with override from Fabrikam1, its own source, claiming Fabrikam2's address.
  ExpectSpoof(h, kF1Port,
              Nd(kF1Mac, kF1, kAllNodesMac, kAllNodes, kIcmp6NeighborAdvert, kOverride, kF2,
                 kNdOptTargetLinkAddr, kF1Mac),
              Drop::kNdSpoof);
  // ... or Fabrikam2's link-local address.
  ExpectSpoof(h, kF1Port,
              Nd(kF1Mac, kF1Ll, kAllNodesMac, kAllNodes, kIcmp6NeighborAdvert, kOverride, kF2Ll,
                 kNdOptTargetLinkAddr, kF1Mac),
              Drop::kNdSpoof);
  // Its own address, but another MAC in the target link-layer option.
  ExpectSpoof(h, kF1Port,
              Nd(kF1Mac, kF1, kAllNodesMac, kAllNodes, kIcmp6NeighborAdvert, kOverride, kF1,
                 kNdOptTargetLinkAddr, kF2Mac),
              Drop::kNdSpoof);
  // An NS whose source link-layer option is another's MAC.
  ExpectSpoof(h, kF1Port,
              Nd(kF1Mac, kF1, SolicitedNodeMac(kF2), SolicitedNode(kF2), kIcmp6NeighborSolicit, 0,
                 kF2, kNdOptSourceLinkAddr, kF2Mac),
              Drop::kNdSpoof);
  // The NA as the tools send it: source and target the victim's.
  ExpectSpoof(h, kF1Port, NeighborAdvert(kF1Mac, kF2, kF2Mac, kF2Ll, false), Drop::kIpSpoof);
}

TEST_F(PortSecurityTest, NeighborDiscoveryOfItsOwnIsDelivered) {
  PipelineHarness h(ChapterHost1V6());
  Resolve(h);
  const Frame na = Nd(kF2Mac, kF2, kAllNodesMac, kAllNodes, kIcmp6NeighborAdvert, kOverride, kF2,
                      kNdOptTargetLinkAddr, kF2Mac);
  ExpectTx(h.Run(kF2Port, na), {{kF1Port, na}});
  const Frame na_ll = Nd(kF2Mac, kF2Ll, kF1Mac, kF1Ll, kIcmp6NeighborAdvert, kOverride, kF2Ll,
                         kNdOptTargetLinkAddr, kF2Mac);
  ExpectTx(h.Run(kF2Port, na_ll), {{kF1Port, na_ll}});
  // A DAD probe (from ::, no option) is flooded.
  const Frame dad = PacketBuilder()
                        .Eth(SolicitedNodeMac(kF2), kF2Mac)
                        .Ipv6(Ip("::"), SolicitedNode(kF2))
                        .Ttl(255)
                        .Icmp6(kIcmp6NeighborSolicit, 0, 0)
                        .Payload(Bytes(kF2))
                        .Build();
  const auto tx = h.Run(kF2Port, dad);
  EXPECT_EQ(OnPort(tx, kF1Port), std::vector<Frame>{dad}) << DescribeTx(tx);
  // An MLDv2 report from :: (a Linux VM's first, before its link-local
  // address is valid), behind a hop-by-hop header with Router Alert.
  const Frame mld = PacketBuilder()
                        .Eth(Mac("333300000016"), kF2Mac)
                        .Ipv6(Ip("::"), Ip("ff02::16"), 0)
                        .Ttl(1)
                        .Payload({kIpProtoIcmp6, 0, 5, 2, 0, 0, 1, 0,  // HBH: Router Alert, PadN
                                  143, 0, 0, 0, 0, 0, 0, 0})           // MLDv2 report, no records
                        .Build();
  const auto mld_tx = h.Run(kF2Port, mld);
  EXPECT_EQ(OnPort(mld_tx, kF1Port), std::vector<Frame>{mld}) << DescribeTx(mld_tx);
  EXPECT_EQ(h.drops(Drop::kNdSpoof) + h.drops(Drop::kIpSpoof), 0u);
}

// ---- guards -------------------------------------------------------------------

TEST_F(PortSecurityTest, RouterAdvertisementIsDroppedByRouterGuard) {
  PipelineHarness h(ChapterHost1V6());
  Resolve(h);
  const Frame ra = RouterAdvert(kF1Mac, kF1Ll, kF1Mac);
  ExpectSpoof(h, kF1Port, ra, Drop::kRouterGuard);
  // An IPv6 redirect, and an ICMPv4 redirect from Contoso1.
  ExpectSpoof(h, kF1Port,
              PacketBuilder()
                  .Eth(kF2Mac, kF1Mac)
                  .Ipv6(kF1Ll, kF2Ll)
                  .Ttl(255)
                  .Icmp6(137, 0, 0)
                  .Payload(40)
                  .Build(),
              Drop::kRouterGuard);
  ExpectSpoof(
      *h1_, kC1Port,
      PacketBuilder().Eth(kC2Mac, kC1Mac).Ipv4(kC1, kC2).Icmp(5, 1, 0x0a000101).Payload(28).Build(),
      Drop::kRouterGuard);
  // RouterGuard Off: the router's advertisement is flooded.
  h.Apply(WithAdapter(ChapterHost1V6(), kF1Port, [](VmPort& v) { v.router_guard = false; }));
  h.ResetCounters();
  ExpectTx(h.Run(kF1Port, ra), {{kF2Port, ra}});
  EXPECT_EQ(h.total_drops(), 0u);
  // ... but still only with its own link-layer address.
  ExpectSpoof(h, kF1Port, RouterAdvert(kF1Mac, kF1Ll, kF2Mac), Drop::kNdSpoof);
}

TEST_F(PortSecurityTest, DhcpOfferIsDroppedByDhcpGuard) {
  const Frame offer = DhcpOffer(kC1Mac, kC1);
  ExpectSpoof(*h1_, kC1Port, offer, Drop::kDhcpGuard);
  PipelineHarness h6(ChapterHost1V6());
  ExpectSpoof(
      h6, kF1Port,
      PacketBuilder().Eth(kF2Mac, kF1Mac).Ipv6(kF1Ll, kF2Ll).Udp(547, 546).Payload(60).Build(),
      Drop::kDhcpGuard);
  // DhcpGuard Off: Contoso1 is the subnet's DHCP server.
  h1_->Apply(WithAdapter(ChapterHost1(), kC1Port, [](VmPort& v) { v.dhcp_guard = false; }));
  h1_->ResetCounters();
  ExpectTx(h1_->Run(kC1Port, offer), {{kC2Port, offer}});
  EXPECT_EQ(h1_->total_drops(), 0u);
  // A client's request is never the guard's business.
  const Frame request = PacketBuilder()
                            .Eth(MacAddr::Broadcast(), kC2Mac)
                            .Ipv4(kC2, Ip("255.255.255.255"))
                            .Udp(68, 67)
                            .Payload(240)
                            .Build();
  ExpectTx(h1_->Run(kC2Port, request), {{kC1Port, request}});
}

TEST_F(PortSecurityTest, MacAddressSpoofingOnLetsTheSpoofsThrough) {
  h1_->Apply(
      WithAdapter(ChapterHost1(), kC1Port, [](VmPort& v) { v.mac_address_spoofing = true; }));
  const Frame ip_spoof = Ping(kC2Mac, kC1Mac, kC3, kC2);
  ExpectTx(h1_->Run(kC1Port, ip_spoof), {{kC2Port, ip_spoof}});
  const Frame poison = ArpReply(kC1Mac, kC3, kC2Mac, kC2);
  ExpectTx(h1_->Run(kC1Port, poison), {{kC2Port, poison}});
  const Frame other_mac = Ping(kC3Mac, kC2Mac, kC2, kC3);
  ExpectTx(h1_->Run(kC1Port, other_mac), {{kUplink, ToHost2(other_mac)}});
  EXPECT_EQ(h1_->total_drops(), 0u);
  // The guards stay on.
  ExpectSpoof(*h1_, kC1Port, DhcpOffer(kC1Mac, kC1), Drop::kDhcpGuard);
  // Contoso2's adapter is untouched.
  ExpectSpoof(*h1_, kC2Port, Ping(kC1Mac, kC2Mac, kC3, kC1), Drop::kIpSpoof);
}

// ---- dynamic learning ---------------------------------------------------------

// Contoso1 holds an L2Only record on Host 1 (its CA is learned, not set).
Policy Host1WithL2OnlyC1() {
  Policy p = ChapterHost1();
  ReplaceRecord(&p, 6000, kC1, MakeRecord(IpAddr{}, 6000, kC1Mac, kPa1, RecordType::kL2Only));
  return p;
}

TEST_F(PortSecurityTest, DynamicLearningBindsAFreeCa) {
  PipelineHarness h(Host1WithL2OnlyC1());
  Resolve(h);
  const IpAddr free_ca = Ip("10.0.1.150");
  // Its gratuitous ARP claims a free CA: flooded, and learned.
  const Frame garp = ArpReply(kC1Mac, free_ca, MacAddr::Broadcast(), free_ca);
  ExpectTx(h.Run(kC1Port, garp), {{kC2Port, garp}});
  EXPECT_EQ(h.total_drops(), 0u);
  h.ProcessEvents();
  const LookupRecord* r = h.tables().FindRecord(6000, free_ca);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->type, RecordType::kDynamic);
  EXPECT_EQ(r->mac, kC1Mac);
  // Bound now: Contoso1 sends from it; Contoso2 may not claim it.
  const Frame ping = Ping(kC3Mac, kC1Mac, free_ca, kC3);
  ExpectTx(h.Run(kC1Port, ping), {{kUplink, ToHost2(ping)}});
  ExpectSpoof(h, kC2Port, ArpReply(kC2Mac, free_ca, MacAddr::Broadcast(), free_ca),
              Drop::kArpSpoof);
  ExpectSpoof(h, kC2Port, Ping(kC3Mac, kC2Mac, free_ca, kC3), Drop::kIpSpoof);
}

TEST_F(PortSecurityTest, DynamicLearningRefusesATakenCa) {
  PipelineHarness h(Host1WithL2OnlyC1());
  Resolve(h);
  // Contoso2's CA, Contoso3's (remote) and the DFGW are taken.
  for (const IpAddr& taken : {kC2, kC3, kDfgw6000}) {
    SCOPED_TRACE(taken.ToString());
    ExpectSpoof(h, kC1Port, ArpReply(kC1Mac, taken, MacAddr::Broadcast(), taken), Drop::kArpSpoof);
    ExpectSpoof(h, kC1Port, ArpRequest(kC1Mac, taken, Ip("10.0.1.77")), Drop::kArpSpoof);
  }
  // Nor the subnet's broadcast address, nor one outside the subnet.
  ExpectSpoof(h, kC1Port, ArpRequest(kC1Mac, Ip("10.0.1.255"), kC2), Drop::kArpSpoof);
  ExpectSpoof(h, kC1Port, ArpRequest(kC1Mac, Ip("10.0.5.5"), kC2), Drop::kArpSpoof);
  EXPECT_TRUE(h.DrainEvents().empty());
  // The control thread refuses it too (two VMs claiming one CA at once).
  EXPECT_FALSE(h.tables().LearnDynamic(6000, kC2, kC1Mac, kPa1));
  EXPECT_EQ(h.tables().FindRecord(6000, kC2)->mac, kC2Mac);
}

// ---- the binding moves with the records ----------------------------------------

TEST_F(PortSecurityTest, RecordChangeMovesTheBinding) {
  // 10.0.1.102 becomes Contoso1's (its record's MAC changes).
  std::string error;
  ASSERT_TRUE(h1_->tables().UpsertRecord(MakeRecord(kC2, 6000, kC1Mac, kPa1), &error)) << error;
  h1_->tables().Synchronize();
  const Frame from_c1 = Ping(kC3Mac, kC1Mac, kC2, kC3);
  ExpectTx(h1_->Run(kC1Port, from_c1), {{kUplink, ToHost2(from_c1)}});
  ExpectSpoof(*h1_, kC2Port, Ping(kC3Mac, kC2Mac, kC2, kC3), Drop::kIpSpoof);
  // Removed: nobody's.
  ASSERT_TRUE(h1_->tables().RemoveRecord(MakeRecord(kC2, 6000, kC1Mac, kPa1)));
  ExpectSpoof(*h1_, kC1Port, from_c1, Drop::kIpSpoof);
}

TEST_F(PortSecurityTest, MigrationMovesTheBinding) {
  // Contoso3 arrives on Host 1's port 3; its record still says Host 2 (the
  // move is not over), its frames go out already.
  Policy p = ChapterHost1();
  p.vm_ports.push_back(VmPort{"Contoso3", 3, kC3Mac, 6000});
  h1_->Apply(p);
  const Frame ping = Ping(kC1Mac, kC3Mac, kC3, kC1);
  ExpectTx(h1_->Run(3, ping), {{kC1Port, ping}});
  // Its adapter moves to port 4: port 3 speaks for nobody.
  p.vm_ports.back().port = 4;
  h1_->Apply(p);
  ExpectTx(h1_->Run(4, ping), {{kC1Port, ping}});
  h1_->ResetCounters();
  ExpectNothing(h1_->Run(3, ping));
  EXPECT_EQ(h1_->drops(Drop::kUnknownPort), 1u);
}

// ---- a router VM ------------------------------------------------------------------

TEST_F(PortSecurityTest, RouterVmMaySendWhatItRoutes) {
  // MT-GW on the gateway host: 0.0.0.0/0 goes through it (10.0.2.2), so it
  // may forward the physical host's packets; not a CA of another VM.
  PipelineHarness gw(ChapterGatewayHost());
  Resolve(gw);
  const Frame from_outside = Ping(kDfgw6001Mac, kMtGwMac, kPhysical, kC1, 32, 63);
  const auto tx = gw.Run(kMtGwPort, from_outside);
  EXPECT_EQ(OnPort(tx, kUplink).size(), 1u) << DescribeTx(tx);
  EXPECT_EQ(gw.total_drops(), 0u);
  ExpectSpoof(gw, kMtGwPort, Ping(kDfgw6001Mac, kMtGwMac, kC2, kC1), Drop::kIpSpoof);
}

}  // namespace
}  // namespace hnv::test::pipe
