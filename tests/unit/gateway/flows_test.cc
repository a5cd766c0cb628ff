// The gateway's transit flows through compartment "contoso" (the chapter's
// MT-GW), checked on exact output bytes: the HNV pipeline around the fast
// path is the real one, so NVGRE in and out is the wire format.
#include <gtest/gtest.h>

#include "dataplane/pipeline/nvgre_encap.h"
#include "tests/unit/gateway/gateway_harness.h"

namespace hnv::gateway::test {
namespace {

using namespace hnv::test::pipe;  // the chapter's constants and frame helpers
using hnv::test::Ip;
using hnv::test::Mac;
using hnv::test::PacketBuilder;
using hnv::test::Prefix;

uint8_t FlowIdOf(const Frame& inner) {
  const ParsedFrame pf = Parse(inner);
  return NvgreEncap::FlowId(inner.data(), pf);
}

// An ICMP echo with an optional 802.1Q tag.
Frame PingV(const MacAddr& dst_mac, const MacAddr& src_mac, const IpAddr& src, const IpAddr& dst,
            uint16_t vlan, uint8_t ttl = 64, size_t payload = 32) {
  PacketBuilder b;
  b.Eth(dst_mac, src_mac);
  if (vlan != 0) b.Vlan(vlan);
  return b.Ipv4(src, dst).Ttl(ttl).Icmp().Payload(payload).Build();
}

// NVGRE from Host 1 carrying what its router sends to MT-GW (VSID 6001).
Frame FromHost1(const Frame& inner) {
  return Encap(kPaGwMac, kPa1Mac, kPa1, kPaGw, 6001, FlowIdOf(inner), inner);
}

void ExpectPunts(const std::vector<Punted>& got, const std::vector<Punted>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].tap, want[i].tap) << "punt " << i;
    EXPECT_TRUE(got[i].bytes == want[i].bytes) << "punt " << i << ":\n"
                                               << hnv::test::FrameDiff(want[i].bytes, got[i].bytes);
  }
}

class GatewayFlows : public ::testing::TestWithParam<uint16_t> {
 protected:
  void SetUp() override {
    vlan_ = GetParam();
    SetUpContoso(h_.gw(), vlan_);
    h_.fp().ResetCounters(kContoso);
  }
  CompartmentCounters C() { return h_.fp().Counters(kContoso); }
  // What the physical host sends to the gateway's external interface.
  Frame FromPhysical(const IpAddr& dst, uint8_t ttl = 64) {
    return PingV(kContosoExtMac, kPhysicalMac, kPhysical, dst, vlan_, ttl);
  }
  void ExpectPunted(Punt why, uint64_t n = 1) {
    EXPECT_EQ(C().Punted(why), n) << PuntName(why) << ": " << Describe(C());
  }

  GatewayHarness h_;
  uint16_t vlan_ = 0;
};

TEST_P(GatewayFlows, NvgreFromHost1LeavesTheExternalPortRewritten) {
  // Contoso1 -> 10.1.3.100, as Host 1 routed it (0.0.0.0/0 via MT-GW, VSID 6001).
  const Frame inner = Ping(kMtGwMac, kDfgw6001Mac, kC1, kPhysical, 32, 63);
  const auto tx = h_.RunUplink({FromHost1(inner)});
  ExpectTx(tx, {{kExtPort, PingV(kPhysicalMac, kContosoExtMac, kC1, kPhysical, vlan_, 62)}});
  EXPECT_EQ(h_.hnv_drops(), 0u) << h_.HnvDropSummary();
  const CompartmentCounters c = C();
  EXPECT_EQ(c.rx_vm.packets, 1u);
  EXPECT_EQ(c.fwd_external.packets, 1u) << Describe(c);
  EXPECT_EQ(c.punted.packets, 0u);
  EXPECT_TRUE(h_.DrainPunts().empty());
}

TEST_P(GatewayFlows, PhysicalHostToContoso1LeavesTheUplinkAsNvgre) {
  const auto tx = h_.RunExternal(kExtPort, {FromPhysical(kC1)});
  // The fast path hands the pipeline what MT-GW would send to its DFGW; the
  // pipeline routes it to VSID 6000 and encapsulates it to Host 1.
  const Frame routed = Ping(kC1Mac, kDfgw6000Mac, kPhysical, kC1, 32, 62);
  ExpectTx(tx, {{kUplink, Encap(kPa1Mac, kPaGwMac, kPaGw, kPa1, 6000, FlowIdOf(routed), routed)}});
  EXPECT_EQ(h_.hnv_drops(), 0u) << h_.HnvDropSummary();
  const CompartmentCounters c = C();
  EXPECT_EQ(c.rx_external.packets, 1u);
  EXPECT_EQ(c.fwd_vm.packets, 1u) << Describe(c);
  EXPECT_EQ(c.fwd_vm.bytes, Ping(kC1Mac, kDfgw6000Mac, kPhysical, kC1).size());
}

TEST_P(GatewayFlows, PuntsWithReasonsLandUntaggedOnTheRightTap) {
  const TapId vm_tap = TapIdOf(kContoso, 0), ext_tap = TapIdOf(kContoso, 1);
  // To the compartment's own addresses, from both sides.
  const Frame to_gw_ca = Ping(kMtGwMac, kDfgw6001Mac, kC1, kMtGw, 32, 63);
  ExpectNothing(h_.RunUplink({FromHost1(to_gw_ca)}));
  ExpectNothing(h_.RunExternal(kExtPort, {FromPhysical(kExtAddr)}));
  ExpectPunted(Punt::kLocal, 2);
  ExpectPunts(h_.DrainPunts(), {{vm_tap, to_gw_ca},
                                {ext_tap, PingV(kContosoExtMac, kPhysicalMac, kPhysical, kExtAddr, 0)}});

  // ARP on both sides: the kernel answers.
  const Frame arp_ext_in = [&] {
    PacketBuilder b;
    b.Eth(MacAddr::Broadcast(), kPhysicalMac);
    if (vlan_ != 0) b.Vlan(vlan_);
    return b.Arp(kArpRequest, kPhysicalMac, kPhysical, MacAddr{}, kExtAddr).Build();
  }();
  const Frame arp_vm = ArpRequest(kDfgw6001Mac, Ip("10.0.2.1"), kMtGw);
  ExpectNothing(h_.RunExternal(kExtPort, {arp_ext_in}));
  ExpectNothing(h_.RunDeliver(kContosoVmPort, {arp_vm}));
  ExpectPunted(Punt::kArp, 2);
  ExpectPunts(h_.DrainPunts(),
              {{ext_tap, ArpRequest(kPhysicalMac, kPhysical, kExtAddr)}, {vm_tap, arp_vm}});

  // No neighbour: 10.1.3.77 is connected but unresolved; the kernel ARPs.
  const Frame to_unresolved = Ping(kMtGwMac, kDfgw6001Mac, kC1, Ip("10.1.3.77"), 32, 63);
  ExpectNothing(h_.RunUplink({FromHost1(to_unresolved)}));
  ExpectPunted(Punt::kNoNeighbor);
  ExpectPunts(h_.DrainPunts(), {{vm_tap, to_unresolved}});

  // No route, TTL 1 (the kernel sends the ICMP errors).
  ExpectNothing(h_.RunExternal(kExtPort, {FromPhysical(Ip("8.8.8.8"))}));
  ExpectNothing(h_.RunExternal(kExtPort, {FromPhysical(kC1, 1)}));
  ExpectPunted(Punt::kNoRoute);
  ExpectPunted(Punt::kTtl);
  ExpectPunts(h_.DrainPunts(),
              {{ext_tap, PingV(kContosoExtMac, kPhysicalMac, kPhysical, Ip("8.8.8.8"), 0)},
               {ext_tap, PingV(kContosoExtMac, kPhysicalMac, kPhysical, kC1, 0, 1)}});

  // IPv6 and IPv4 multicast.
  ExpectNothing(h_.RunExternal(
      kExtPort, {NeighborSolicit(kPhysicalMac, Ip("fe80::1"), Ip("fe80::2"), vlan_)}));
  ExpectPunted(Punt::kIpv6);
  const auto p6 = h_.DrainPunts();
  ASSERT_EQ(p6.size(), 1u);
  EXPECT_TRUE(p6[0].bytes == NeighborSolicit(kPhysicalMac, Ip("fe80::1"), Ip("fe80::2")));
  ExpectNothing(h_.RunExternal(
      kExtPort, {PingV(Mac("01005e000005"), kPhysicalMac, kPhysical, Ip("224.0.0.5"), vlan_)}));
  ExpectPunted(Punt::kGroup);
  ExpectPunts(h_.DrainPunts(),
              {{ext_tap, PingV(Mac("01005e000005"), kPhysicalMac, kPhysical, Ip("224.0.0.5"), 0)}});

  // Hairpin: from the VM network to a route back into it.
  const Frame hairpin = Ping(kMtGwMac, kDfgw6001Mac, kC1, kC2, 32, 63);
  ExpectNothing(h_.RunUplink({FromHost1(hairpin)}));
  ExpectPunted(Punt::kHairpin);
  ExpectPunts(h_.DrainPunts(), {{vm_tap, hairpin}});
  EXPECT_EQ(C().punted.packets, 10u) << Describe(C());
  EXPECT_EQ(h_.MbufsInUse(), 0u);
}

TEST_P(GatewayFlows, RouteKindsMtuAndDrops) {
  std::string error;
  GatewayTables& t = h_.gw();
  ASSERT_TRUE(t.SetRoute(kContoso, Prefix("10.9.0.0/16"), {NextHopKind::kBlackhole, 0, {}}, &error));
  ASSERT_TRUE(t.SetRoute(kContoso, Prefix("10.8.0.0/16"), {NextHopKind::kPunt, 0, {}}, &error));
  ExpectNothing(h_.RunExternal(kExtPort, {FromPhysical(Ip("10.9.1.1")), FromPhysical(Ip("10.8.1.1"))}));
  EXPECT_EQ(C().Dropped(GwDrop::kBlackhole), 1u);
  ExpectPunted(Punt::kRoute);

  // Bad IPv4 header checksum: dropped, not punted.
  Frame bad = FromPhysical(kC1);
  bad[(vlan_ != 0 ? 18 : 14) + 10] ^= 0x5a;
  ExpectNothing(h_.RunExternal(kExtPort, {bad}));
  EXPECT_EQ(C().Dropped(GwDrop::kBadChecksum), 1u);

  // Unicast to another MAC.
  ExpectNothing(h_.RunExternal(kExtPort, {PingV(Mac("02000000ee01"), kPhysicalMac, kPhysical, kC1, vlan_)}));
  EXPECT_EQ(C().Dropped(GwDrop::kNotForUs), 1u);

  // Too big for the VM network (vm_mtu 1458): the kernel fragments or
  // answers frag-needed.
  ExpectNothing(h_.RunExternal(kExtPort, {PingV(kContosoExtMac, kPhysicalMac, kPhysical, kC1, vlan_, 64, 1459 - 28)}));
  ExpectPunted(Punt::kTooBig);
  const auto fits =
      h_.RunExternal(kExtPort, {PingV(kContosoExtMac, kPhysicalMac, kPhysical, kC1, vlan_, 64, 1458 - 28)});
  ASSERT_EQ(fits.size(), 1u);
  EXPECT_EQ(fits[0].port, kUplink);
  EXPECT_EQ(C().fwd_vm.packets, 1u) << Describe(C());

  // An unknown VLAN / a port with no compartment: counted globally.
  ExpectNothing(h_.RunExternal(kExtPort, {PingV(kContosoExtMac, kPhysicalMac, kPhysical, kC1, 99)}));
  ExpectNothing(h_.RunExternal(7, {FromPhysical(kC1)}));
  const GlobalCounters g = h_.fp().Global();
  EXPECT_EQ(g.Dropped(GlobalDrop::kNoCompartment), 2u);
  EXPECT_EQ(g.no_compartment[kExtPort], 1u);
  EXPECT_EQ(g.no_compartment[7], 1u);
  h_.DrainPunts();
  EXPECT_EQ(h_.MbufsInUse(), 0u);
}

TEST_P(GatewayFlows, InjectFromTheKernelOnBothSides) {
  // The kernel's ARP reply to the physical host, and a ping it originates
  // from 10.0.2.2 into the VM network.
  const Frame arp_reply = ArpReply(kContosoExtMac, kExtAddr, kPhysicalMac, kPhysical);
  const Frame ping = Ping(kDfgw6001Mac, kMtGwMac, kMtGw, kC1, 32, 64);
  ASSERT_TRUE(h_.InjectFromKernel(TapIdOf(kContoso, 1), arp_reply));
  ASSERT_TRUE(h_.InjectFromKernel(TapIdOf(kContoso, 0), ping));
  ASSERT_TRUE(h_.InjectFromKernel(TapIdOf(kContoso, 5), ping));  // no such interface
  ASSERT_TRUE(h_.InjectFromKernel(TapIdOf(9, 0), ping));         // no such compartment
  const Frame routed = Ping(kC1Mac, kDfgw6000Mac, kMtGw, kC1, 32, 63);
  Frame arp_out = arp_reply;
  if (vlan_ != 0) {
    PacketBuilder b;
    b.Eth(kPhysicalMac, kContosoExtMac).Vlan(vlan_);
    arp_out = b.Arp(kArpReply, kContosoExtMac, kExtAddr, kPhysicalMac, kPhysical).Build();
  }
  ExpectTx(h_.RunPoll(),
           {{kExtPort, arp_out},
            {kUplink, Encap(kPa1Mac, kPaGwMac, kPaGw, kPa1, 6000, FlowIdOf(routed), routed)}});
  const CompartmentCounters c = C();
  EXPECT_EQ(c.inject_external.packets, 1u);
  EXPECT_EQ(c.inject_vm.packets, 1u);
  EXPECT_EQ(h_.fp().Global().Dropped(GlobalDrop::kInjectUnknown), 2u);
  EXPECT_EQ(h_.MbufsInUse(), 0u);
}

TEST_P(GatewayFlows, CountersResetToZero) {
  h_.RunExternal(kExtPort, {FromPhysical(kC1), FromPhysical(kC1)});
  EXPECT_EQ(C().rx_external.packets, 2u);
  h_.fp().ResetCounters(kContoso);
  EXPECT_EQ(C().rx_external.packets, 0u);
  EXPECT_EQ(C().fwd_vm.packets, 0u);
  h_.RunExternal(kExtPort, {FromPhysical(kC1)});
  EXPECT_EQ(C().rx_external.packets, 1u);
}

INSTANTIATE_TEST_SUITE_P(Vlan, GatewayFlows, ::testing::Values(uint16_t{0}, uint16_t{5}),
                         [](const ::testing::TestParamInfo<uint16_t>& p) { return "vlan" + std::to_string(p.param); });

}  // namespace
}  // namespace hnv::gateway::test
