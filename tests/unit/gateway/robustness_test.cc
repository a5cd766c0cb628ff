// Properties of the fast path that hold for any input: compartments never
// cross, bad frames are dropped or punted without a crash or an mbuf leak,
// tables change under traffic, and the per-packet path never allocates.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "dataplane/packet/checksum.h"
#include "dataplane/pipeline/nvgre_encap.h"
#include "tests/lib/alloc_counter.h"
#include "tests/unit/gateway/gateway_harness.h"

namespace hnv::gateway::test {
namespace {

using namespace hnv::test::pipe;
using hnv::test::Ip;
using hnv::test::Mac;
using hnv::test::PacketBuilder;
using hnv::test::Prefix;

// Two tenants with the same CA prefix 10.0.1.0/24, on VLANs 10 and 20 of
// external ports 2 (interface 1) and 3 (interface 2).
struct Tenant {
  uint32_t id;
  uint16_t vlan;
  MacAddr mac1, mac2, neighbor;
  uint16_t vm_port;
};
const Tenant kA{1, 10, Mac("02aa00000001"), Mac("02aa00000002"), Mac("02aa000000ee"), kFirstVirtualPort + 1};
const Tenant kB{2, 20, Mac("02bb00000001"), Mac("02bb00000002"), Mac("02bb000000ee"), kFirstVirtualPort + 2};

void AddTenant(GatewayTables& t, const Tenant& x) {
  std::string error;
  CompartmentLayout l;
  l.vm_port = x.vm_port;
  l.vm_mac = Mac("0266000000" + std::to_string(10 + x.id));
  l.external = {{kExtPort2, x.vlan, x.mac1, 1500}, {3, x.vlan, x.mac2, 1500}};
  l.max_routes = 256;
  ASSERT_TRUE(t.SetCompartment(x.id, l, &error)) << error;
  ASSERT_TRUE(t.SetRoute(x.id, Prefix("10.0.1.0/24"), {NextHopKind::kForward, 2, {}}, &error)) << error;
  ASSERT_TRUE(t.SetNeighbor(x.id, 2, Ip("10.0.1.5"), x.neighbor, &error)) << error;
  t.Synchronize();
}

uint16_t VlanOf(const Frame& f) { return f.size() >= 16 && U16At(f, 12) == 0x8100 ? U16At(f, 14) & 0xfff : 0; }
// The IPv4 id of a frame (tagged or not), where the tests put the input's index.
int IdOf(const Frame& f) {
  const size_t l3 = f.size() >= 14 && U16At(f, 12) == 0x8100 ? 18 : 14;
  if (f.size() < l3 + 20 || U16At(f, l3 - 2) != 0x0800) return -1;
  return U16At(f, l3 + 4);
}

TEST(GatewayIsolation, SamePrefixOnTwoVlansNeverCrosses) {
  GatewayHarness h;
  AddTenant(h.gw(), kA);
  AddTenant(h.gw(), kB);
  std::mt19937 rng(12345);
  const int n = 3000;
  std::vector<Frame> frames;
  std::vector<uint16_t> vlan_of(n);
  for (int i = 0; i < n; ++i) {
    const uint16_t vlans[] = {10, 20, 30};
    const uint16_t vlan = vlans[rng() % 3];
    vlan_of[i] = vlan;
    const MacAddr dsts[] = {kA.mac1, kB.mac1, MacAddr::Broadcast(), Mac("02cc00000001")};
    const MacAddr dst = dsts[rng() % 4];
    const char* ips[] = {"10.0.1.5", "10.0.1.6", "8.8.8.8", "10.0.1.5"};
    PacketBuilder b;
    b.Eth(dst, Mac("02dd00000001")).Vlan(vlan);
    if (rng() % 8 == 0) {
      b.Arp(kArpRequest, Mac("02dd00000001"), Ip("10.0.1.9"), MacAddr{}, Ip("10.0.1.1"));
    } else {
      b.Ipv4(Ip("10.0.1.9"), Ip(ips[rng() % 4])).Ttl(static_cast<uint8_t>(1 + rng() % 3)).Ipv4Id(static_cast<uint16_t>(i)).Udp(1000, 2000).Payload(rng() % 64);
    }
    frames.push_back(b.Build());
  }
  const auto tx = h.RunExternal(kExtPort2, frames);
  const auto punts = h.DrainPunts();
  for (const TxFrame& t : tx) {
    ASSERT_EQ(t.port, 3);
    const int id = IdOf(t.bytes);
    ASSERT_GE(id, 0);
    const Tenant& x = vlan_of[id] == 10 ? kA : kB;
    ASSERT_NE(vlan_of[id], 30);
    EXPECT_EQ(VlanOf(t.bytes), x.vlan);
    EXPECT_TRUE(std::equal(x.neighbor.b.begin(), x.neighbor.b.end(), t.bytes.begin()));
    EXPECT_TRUE(std::equal(x.mac2.b.begin(), x.mac2.b.end(), t.bytes.begin() + 6));
    EXPECT_EQ(hnv::test::ChecksumErrors(t.bytes), "");
  }
  for (const Punted& p : punts) {
    EXPECT_EQ(VlanOf(p.bytes), 0);
    const int id = IdOf(p.bytes);
    if (id < 0) continue;  // ARP: no id, checked by the totals below
    EXPECT_EQ(CompartmentOfTap(p.tap), vlan_of[id] == 10 ? kA.id : kB.id);
    EXPECT_EQ(InterfaceOfTap(p.tap), 1);
  }
  // Every frame is accounted for, per tenant.
  uint64_t accounted = h.fp().Global().Dropped(GlobalDrop::kNoCompartment);
  for (const Tenant* x : {&kA, &kB}) {
    const CompartmentCounters c = h.fp().Counters(x->id);
    uint64_t drops = 0;
    for (uint64_t d : c.drop) drops += d;
    EXPECT_EQ(c.rx_external.packets, c.fwd_external.packets + c.punted.packets + drops) << Describe(c);
    accounted += c.rx_external.packets;
    const long expected = std::count(vlan_of.begin(), vlan_of.end(), x->vlan);
    EXPECT_EQ(c.rx_external.packets, static_cast<uint64_t>(expected));
  }
  EXPECT_EQ(accounted, static_cast<uint64_t>(n));
  EXPECT_EQ(tx.size() + punts.size() + h.fp().Global().Dropped(GlobalDrop::kNoCompartment) +
                h.fp().Counters(1).drop[0] + h.fp().Counters(2).drop[0] +
                h.fp().Counters(1).Dropped(GwDrop::kNotForUs) + h.fp().Counters(2).Dropped(GwDrop::kNotForUs),
            static_cast<size_t>(n));
  // From the VM network side: each tenant's vm_port leaves by its own VLAN.
  for (const Tenant* x : {&kA, &kB}) {
    const Frame f = PacketBuilder().Eth(Mac("0266000000" + std::to_string(10 + x->id)), Mac("02ee00000001"))
                        .Ipv4(Ip("10.0.2.9"), Ip("10.0.1.5")).Udp(1, 2).Build();
    const auto out = h.RunDeliver(x->vm_port, {f, f, f});
    ASSERT_EQ(out.size(), 3u);
    for (const TxFrame& t : out) {
      EXPECT_EQ(t.port, 3);
      EXPECT_EQ(VlanOf(t.bytes), x->vlan);
      EXPECT_TRUE(std::equal(x->neighbor.b.begin(), x->neighbor.b.end(), t.bytes.begin()));
    }
  }
  EXPECT_EQ(h.MbufsInUse(), 0u);
}

// Frames of every kind the tests know, cut at every length, and garbage:
// dropped or punted (or forwarded when still whole), never a crash or leak.
TEST(GatewayRobustness, TruncationsAndGarbage) {
  GatewayHarness h;
  SetUpContoso(h.gw(), 0);
  AddTenant(h.gw(), kA);
  const Frame inner = Ping(kMtGwMac, kDfgw6001Mac, kC1, kPhysical, 32, 63);
  const std::vector<Frame> bases = {
      Ping(kContosoExtMac, kPhysicalMac, kPhysical, kC1),
      PacketBuilder().Eth(kA.mac1, kPhysicalMac).Vlan(10).Ipv4(kPhysical, Ip("10.0.1.5"))
          .Ipv4Options({1, 1, 1, 1}).Tcp(1, 2, kTcpSyn, 1460).Build(),
      ArpRequest(kPhysicalMac, kPhysical, kExtAddr),
      NeighborSolicit(kPhysicalMac, Ip("fe80::1"), Ip("fe80::2")),
      inner,
      Encap(kPaGwMac, kPa1Mac, kPa1, kPaGw, 6001, 0, inner),
  };
  for (const Frame& base : bases) {
    for (size_t len = 0; len <= base.size(); ++len) {
      const Frame cut(base.begin(), base.begin() + static_cast<long>(len));
      h.RunExternal(kExtPort, {cut});
      h.RunExternal(kExtPort2, {cut});
      h.RunDeliver(kContosoVmPort, {cut});
      h.RunUplink({cut});
      ASSERT_TRUE(h.InjectFromKernel(TapIdOf(kContoso, 1), cut));
      ASSERT_TRUE(h.InjectFromKernel(TapIdOf(kA.id, 1), cut));
      ASSERT_TRUE(h.InjectFromKernel(TapIdOf(kContoso, 0), cut));
      h.RunPoll();
      h.DrainPunts();
    }
  }
  EXPECT_EQ(h.MbufsInUse(), 0u);
  std::mt19937 rng(777);
  for (int i = 0; i < 3000; ++i) {
    Frame f(rng() % 300);
    for (auto& b : f) b = static_cast<uint8_t>(rng());
    if (f.size() >= 14 && rng() % 2 == 0) std::copy(kContosoExtMac.b.begin(), kContosoExtMac.b.end(), f.begin());
    const uint16_t types[] = {0x0800, 0x8100, 0x86dd, 0x0806, 0x88a8};
    if (f.size() >= 14 && rng() % 4 != 0) {
      const uint16_t t = types[rng() % 5];
      f[12] = static_cast<uint8_t>(t >> 8);
      f[13] = static_cast<uint8_t>(t);
      if (t == 0x8100 && f.size() >= 18) {
        f[14] = 0, f[15] = rng() % 2 ? 10 : 0, f[16] = 0x08, f[17] = 0;
      }
      const size_t l3 = t == 0x8100 ? 18 : 14;
      if (f.size() > l3 && rng() % 2) f[l3] = 0x45;
    }
    h.RunExternal(rng() % 2 ? kExtPort : kExtPort2, {f});
    h.RunDeliver(rng() % 2 ? kContosoVmPort : kA.vm_port, {f});
    ASSERT_TRUE(h.InjectFromKernel(static_cast<TapId>(rng() % 32), f));
    h.RunPoll();
    h.DrainPunts();
  }
  EXPECT_EQ(h.MbufsInUse(), 0u);
}

TEST(GatewayRobustness, PuntRingFullIsCountedAndFreed) {
  GatewayHarness h(GatewayHostPolicy(), 64);  // room for 63
  SetUpContoso(h.gw(), 0);
  std::vector<Frame> frames(100, ArpRequest(kPhysicalMac, kPhysical, kExtAddr));
  h.RunExternal(kExtPort, frames);
  const CompartmentCounters c = h.fp().Counters(kContoso);
  EXPECT_EQ(c.Punted(Punt::kArp), 63u);
  EXPECT_EQ(c.Dropped(GwDrop::kPuntRingFull), 37u);
  EXPECT_EQ(h.DrainPunts().size(), 63u);
  EXPECT_EQ(h.MbufsInUse(), 0u);
}

// Fills `pkts` with copies of `f` (no heap: mbufs from the pool).
void Refill(GatewayHarness& h, const Frame& f, rte_mbuf** pkts, uint16_t n) {
  ASSERT_EQ(rte_pktmbuf_alloc_bulk(h.pool(), pkts, n), 0);
  for (uint16_t i = 0; i < n; ++i)
    std::memcpy(rte_pktmbuf_append(pkts[i], static_cast<uint16_t>(f.size())), f.data(), f.size());
}

TEST(GatewayAlloc, NoHeapAllocationPerPacket) {
  if (!hnv::test::kAllocCounting) GTEST_SKIP() << "no allocation counting under ThreadSanitizer";
  GatewayHarness h;
  SetUpContoso(h.gw(), 7);
  h.sink().capture = false;
  const Frame to_vm = PacketBuilder().Eth(kContosoExtMac, kPhysicalMac).Vlan(7).Ipv4(kPhysical, kC1).Udp(1, 2).Payload(18).Build();
  const Frame punt = PacketBuilder().Eth(MacAddr::Broadcast(), kPhysicalMac).Vlan(7).Arp(kArpRequest, kPhysicalMac, kPhysical, MacAddr{}, kExtAddr).Build();
  const Frame inner = Ping(kMtGwMac, kDfgw6001Mac, kC1, kPhysical, 32, 63);
  const Frame from_host1 = Encap(kPaGwMac, kPa1Mac, kPa1, kPaGw, 6001, 0, inner);
  rte_mbuf* pkts[kBurstSize];
  rte_mbuf* drained[64];
  auto burst = [&](int i) {
    const Frame& f = i % 3 == 0 ? to_vm : i % 3 == 1 ? from_host1 : punt;
    Refill(h, f, pkts, kBurstSize);
    h.BeginIteration();
    if (i % 3 == 1)
      h.pipeline().ProcessRx(h.ctx(), kUplink, pkts, kBurstSize);
    else
      h.fp().Receive(h.ctx(), h.pipeline(), kExtPort, pkts, kBurstSize);
    ASSERT_TRUE(h.InjectFromKernel(TapIdOf(kContoso, 1), punt));
    h.fp().Poll(h.ctx(), h.pipeline());
    h.EndIteration();
    const unsigned k = rte_ring_sc_dequeue_burst(h.rings().to_kernel, reinterpret_cast<void**>(drained), 64, nullptr);
    rte_pktmbuf_free_bulk(drained, k);
  };
  for (int i = 0; i < 30; ++i) burst(i);  // warm-up
  const CompartmentCounters before = h.fp().Counters(kContoso);
  hnv::test::AllocCounter count;
  for (int i = 0; i < 3000; ++i) burst(i);
  EXPECT_EQ(count.count(), 0u) << count.bytes() << " bytes";
  const CompartmentCounters after = h.fp().Counters(kContoso);
  EXPECT_EQ(after.fwd_vm.packets - before.fwd_vm.packets, 1000u * kBurstSize);
  EXPECT_EQ(after.fwd_external.packets - before.fwd_external.packets, 1000u * kBurstSize);
  EXPECT_EQ(after.Punted(Punt::kArp) - before.Punted(Punt::kArp), 1000u * kBurstSize);
  EXPECT_EQ(h.hnv_drops(), 0u) << h.HnvDropSummary();
  EXPECT_EQ(h.MbufsInUse(), 0u);
}

// The control thread changes routes, neighbours and the compartment itself
// while a worker thread forwards both ways.
TEST(GatewayChurn, TablesChangeWhileFramesFlow) {
  GatewayHarness h;
  SetUpContoso(h.gw(), 0);
  const MacAddr mac2 = Mac("02c0c0c0c099");
  const Frame from_ext = PacketBuilder().Eth(kContosoExtMac, kPhysicalMac).Ipv4(kPhysical, kC1).Udp(1, 2).Payload(18).Build();
  const Frame inner = Ping(kMtGwMac, kDfgw6001Mac, kC1, kPhysical, 32, 63);
  const Frame from_host1 = Encap(kPaGwMac, kPa1Mac, kPa1, kPaGw, 6001, 0, inner);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> bursts{0};
  std::thread worker([&] {
    ASSERT_EQ(rte_rcu_qsbr_thread_register(h.qsv(), 1), 0);
    rte_rcu_qsbr_thread_online(h.qsv(), 1);
    rte_mbuf* pkts[kBurstSize];
    for (int i = 0; i < 4000; ++i) {
      h.ctx().snap = h.tables().snapshot();
      const bool ext = i % 2 == 0;
      Refill(h, ext ? from_ext : from_host1, pkts, kBurstSize);
      if (ext)
        h.fp().Receive(h.ctx(), h.pipeline(), kExtPort, pkts, kBurstSize);
      else
        h.pipeline().ProcessRx(h.ctx(), kUplink, pkts, kBurstSize);
      h.ctx().FlushTx();
      rte_rcu_qsbr_quiescent(h.qsv(), 1);
      bursts.fetch_add(1);
    }
    rte_rcu_qsbr_thread_offline(h.qsv(), 1);
    rte_rcu_qsbr_thread_unregister(h.qsv(), 1);
    done = true;
  });
  std::string error;
  GatewayTables& t = h.gw();
  for (int round = 0; !done.load(); ++round) {
    switch (round % 6) {
      case 0:
        ASSERT_TRUE(t.SetRoute(kContoso, Prefix("10.1.3.0/24"), {NextHopKind::kBlackhole, 0, {}}, &error));
        break;
      case 1:
        ASSERT_TRUE(t.SetRoute(kContoso, Prefix("10.1.3.0/24"), {NextHopKind::kForward, 1, {}}, &error));
        ASSERT_TRUE(t.SetNeighbor(kContoso, 1, kPhysical, round % 12 == 1 ? mac2 : kPhysicalMac, &error));
        break;
      case 2:
        ASSERT_TRUE(t.RemoveRoute(kContoso, Prefix("10.0.1.0/24")));
        ASSERT_TRUE(t.SetRoute(kContoso, Prefix("10.0.1.128/25"), {NextHopKind::kForward, 0, Ip("10.0.2.1")}, &error));
        break;
      case 3:
        ASSERT_TRUE(t.RemoveRoute(kContoso, Prefix("10.0.1.128/25")));
        ASSERT_TRUE(t.SetRoute(kContoso, Prefix("10.0.1.0/24"), {NextHopKind::kForward, 0, Ip("10.0.2.1")}, &error));
        break;
      case 4:
        t.RemoveCompartment(kContoso);
        break;
      case 5:
        SetUpContoso(t, 0);
        break;
    }
    t.Reclaim();
    h.DrainPunts();
    std::this_thread::yield();
  }
  worker.join();
  h.DrainPunts();
  t.Synchronize();
  EXPECT_EQ(t.pending_reclaim(), 0u);
  EXPECT_EQ(bursts.load(), 4000u);
  // Whatever the table said at the time, what left was well formed.
  size_t ext = 0, up = 0;
  for (const TxFrame& f : h.sink().frames) {
    if (f.port == kExtPort) {
      ++ext;
      const bool known = std::equal(kPhysicalMac.b.begin(), kPhysicalMac.b.end(), f.bytes.begin()) ||
                         std::equal(mac2.b.begin(), mac2.b.end(), f.bytes.begin());
      EXPECT_TRUE(known) << hnv::test::DescribeFrame(f.bytes);
      EXPECT_TRUE(std::equal(kContosoExtMac.b.begin(), kContosoExtMac.b.end(), f.bytes.begin() + 6));
      EXPECT_EQ(f.bytes.at(22), 62);  // TTL: 63 from Host 1, one more hop here
    } else {
      ASSERT_EQ(f.port, kUplink);
      ++up;
      EXPECT_TRUE(std::equal(kPa1Mac.b.begin(), kPa1Mac.b.end(), f.bytes.begin()));
    }
    EXPECT_EQ(hnv::test::ChecksumErrors(f.bytes), "");
  }
  EXPECT_GT(ext, 0u);
  EXPECT_GT(up, 0u);
  h.sink().frames.clear();
  EXPECT_EQ(h.MbufsInUse(), 0u);
}

}  // namespace
}  // namespace hnv::gateway::test
