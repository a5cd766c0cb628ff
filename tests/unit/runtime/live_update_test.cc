// The runtime on real ethdevs (net_ring ports) with a worker lcore, and the
// live policy change test: a worker forwards continuously while the control
// thread adds, moves (new PA) and removes 100,000 lookup records.
#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "dataplane/runtime/dataplane.h"
#include "dataplane/policy/tsan.h"
#include "tests/lib/chapter_policy.h"
#include "tests/lib/packet_builder.h"

namespace hnv {
namespace {

using test::Ip;
using test::Mac;

const MacAddr kContoso1 = Mac("600060000101");
const MacAddr kDfgw = Mac("600060000100");
const MacAddr kRouterMac = Mac("020000000001");

// A ping from Contoso1 (Host 1) to Contoso3 (Host 2, PA 192.168.0.33).
std::vector<uint8_t> Contoso1ToContoso3() {
  return test::PacketBuilder()
      .Eth(Mac("600060000203"), kContoso1)
      .Ipv4(Ip("10.0.1.101"), Ip("10.0.1.103"))
      .Icmp()
      .Payload(56)
      .Build();
}

// A dataplane with two ring-backed ports: 0 the uplink, 1 Contoso1's adapter.
class RingDataplane {
 public:
  explicit RingDataplane(uint32_t max_records) {
    static int n = 0;
    const std::string id = std::to_string(n++);
    for (int i = 0; i < 2; ++i) {
      rx_[i] = rte_ring_create(("lu_rx" + id + std::to_string(i)).c_str(), 4096, SOCKET_ID_ANY,
                               RING_F_SP_ENQ | RING_F_SC_DEQ);
      tx_[i] = rte_ring_create(("lu_tx" + id + std::to_string(i)).c_str(), 4096, SOCKET_ID_ANY,
                               RING_F_SP_ENQ | RING_F_SC_DEQ);
    }
    DataplaneConfig cfg;
    cfg.resolve_interval_s = 0.05;
    cfg.limits.max_records = max_records;
    cfg.limits.max_routes = 1024;
    cfg.limits.max_rds = 64;
    cfg.limits.max_peers = 1024;
    cfg.worker_lcores = {1};
    cfg.mbufs = 16383;
    std::string error;
    dp_ = Dataplane::Create(cfg, &error);
    EXPECT_TRUE(dp_ != nullptr) << error;
    for (int i = 0; i < 2; ++i) {
      const int eth = rte_eth_from_rings(("lu_eth" + id + std::to_string(i)).c_str(), &rx_[i], 1,
                                         &tx_[i], 1, SOCKET_ID_ANY);
      EXPECT_GE(eth, 0);
      EXPECT_TRUE(dp_->AttachEthPort(static_cast<uint16_t>(i), static_cast<uint16_t>(eth), &error))
          << error;
    }
  }
  ~RingDataplane() {
    dp_.reset();
    for (int i = 0; i < 2; ++i) {
      Drain(rx_[i]);
      Drain(tx_[i]);
      rte_ring_free(rx_[i]);
      rte_ring_free(tx_[i]);
    }
  }
  static void Drain(rte_ring* r) {
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }
  Dataplane& dp() { return *dp_; }
  rte_ring* vm_rx() { return rx_[1]; }
  rte_ring* vm_tx() { return tx_[1]; }
  rte_ring* uplink_rx() { return rx_[0]; }
  rte_ring* uplink_tx() { return tx_[0]; }

 private:
  std::unique_ptr<Dataplane> dp_;
  rte_ring* rx_[2];
  rte_ring* tx_[2];
};

// Frames cross the net_ring ports through DPDK's uninstrumented PMD: the
// hand-over is marked for ThreadSanitizer (dataplane/policy/tsan.h).
bool Give(rte_ring* r, rte_mbuf* m) {
  TsanReleaseMbufs(&m, 1);
  return rte_ring_enqueue(r, m) == 0;
}
bool Take(rte_ring* r, rte_mbuf** m) {
  void* p;
  if (rte_ring_dequeue(r, &p) != 0) return false;
  *m = static_cast<rte_mbuf*>(p);
  TsanAcquireMbufs(m, 1);
  return true;
}

rte_mbuf* ToMbuf(rte_mempool* pool, const std::vector<uint8_t>& f) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
  return m;
}

// Waits until `ring` holds a frame or the deadline passes.
rte_mbuf* WaitFrame(rte_ring* ring, std::chrono::milliseconds within) {
  const auto end = std::chrono::steady_clock::now() + within;
  rte_mbuf* m = nullptr;
  while (std::chrono::steady_clock::now() < end) {
    if (Take(ring, &m)) return m;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return nullptr;
}

TEST(RuntimeTest, WorkerEncapsulatesAndResolvesTheProviderNextHop) {
  RingDataplane r(4096);
  Dataplane& dp = r.dp();
  std::string error;
  ASSERT_TRUE(dp.tables().Apply(test::ChapterHost1(), &error)) << error;
  ASSERT_TRUE(dp.Start(&error)) << error;

  // The control thread asks for every unresolved PA (Host 2's and the
  // gateway host's) on the uplink; a router answers each ARP request.
  std::set<IpAddr> asked;
  for (int i = 0; i < 3000 && !dp.tables().Unresolved().empty(); ++i) {
    dp.Poll();
    rte_mbuf* arp;
    while (Take(r.uplink_tx(), &arp)) {
      const auto* a = reinterpret_cast<const ArpHdr*>(rte_pktmbuf_mtod(arp, uint8_t*) + 14);
      EXPECT_EQ(a->oper.ToHost(), kArpRequest);
      EXPECT_EQ(IpAddr::V4Raw(a->spa), Ip("192.168.0.22"));
      const IpAddr target = IpAddr::V4Raw(a->tpa);
      asked.insert(target);
      rte_pktmbuf_free(arp);
      const auto reply = test::PacketBuilder()
                             .Eth(Mac("334455667788"), kRouterMac)
                             .Arp(kArpReply, kRouterMac, target, Mac("334455667788"),
                                  Ip("192.168.0.22"))
                             .Build();
      ASSERT_TRUE(Give(r.uplink_rx(), ToMbuf(dp.pool(), reply)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(dp.tables().Unresolved().empty());
  EXPECT_EQ(asked, (std::set<IpAddr>{Ip("192.168.0.33"), Ip("192.168.0.11")}));

  const std::vector<uint8_t> ping = Contoso1ToContoso3();
  ASSERT_TRUE(Give(r.vm_rx(), ToMbuf(dp.pool(), ping)));
  rte_mbuf* out = WaitFrame(r.uplink_tx(), std::chrono::milliseconds(2000));
  ASSERT_NE(out, nullptr);
  const uint8_t* f = rte_pktmbuf_mtod(out, uint8_t*);
  EXPECT_EQ(reinterpret_cast<const EthHdr*>(f)->dst, kRouterMac);
  const auto* ip = reinterpret_cast<const Ipv4Hdr*>(f + 14);
  EXPECT_EQ(ip->protocol, kIpProtoGre);
  EXPECT_EQ(IpAddr::V4Raw(ip->dst), Ip("192.168.0.33"));
  const auto* gre = reinterpret_cast<const NvgreHdr*>(f + 34);
  EXPECT_EQ(gre->vsid(), 6000u);
  ASSERT_EQ(rte_pktmbuf_pkt_len(out), 42 + ping.size());
  EXPECT_EQ(0, std::memcmp(f + 42, ping.data(), ping.size()));
  rte_pktmbuf_free(out);
  dp.Stop();
  EXPECT_EQ(dp.Counters().encapsulated, 1u);
}

MacAddr MacOf(uint32_t i) {
  MacAddr m{{0x62, 0x00, 0, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
             static_cast<uint8_t>(i)}};
  return m;
}

// Host 1 of the chapter on ring ports with nothing answering on the
// provider network: runs the control thread's loop (Poll) every millisecond
// for a while, optionally feeding a frame to the VM port every 10 ms, and
// counts the ARP requests the dataplane sends per target address.
class UnansweredHost {
 public:
  UnansweredHost() {
    std::string error;
    EXPECT_TRUE(r_.dp().tables().Apply(test::ChapterHost1(), &error)) << error;
    EXPECT_TRUE(r_.dp().Start(&error)) << error;
  }
  ~UnansweredHost() { r_.dp().Stop(); }
  Dataplane& dp() { return r_.dp(); }
  RingDataplane& rings() { return r_; }

  void Run(std::chrono::milliseconds how_long, const std::vector<uint8_t>* from_vm = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    for (int tick = 1; std::chrono::steady_clock::now() - start < how_long; ++tick) {
      if (from_vm != nullptr && tick % 10 == 0) {
        ASSERT_TRUE(Give(r_.vm_rx(), ToMbuf(dp().pool(), *from_vm)));
      }
      dp().Poll();
      Collect();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Collect();
  }
  // ARP requests per target since the last call.
  std::map<IpAddr, int> TakeAsked() { return std::exchange(asked_, {}); }

 private:
  void Collect() {
    rte_mbuf* arp;
    while (Take(r_.uplink_tx(), &arp)) {
      const auto* a = reinterpret_cast<const ArpHdr*>(rte_pktmbuf_mtod(arp, uint8_t*) + 14);
      if (a->oper.ToHost() == kArpRequest) ++asked_[IpAddr::V4Raw(a->tpa)];
      rte_pktmbuf_free(arp);
    }
  }
  RingDataplane r_{4096};
  std::map<IpAddr, int> asked_;
};

// A provider next hop nobody answers is asked for at once, then after 1, 2,
// 4, 8 ... intervals (here 50 ms: at about 0, 50, 150, 350, 750 and 1550 ms),
// not every interval; once it answers it is no longer asked for.
TEST(RuntimeTest, AnUnansweredNextHopIsAskedLessAndLessOften) {
  UnansweredHost h;
  h.Run(std::chrono::milliseconds(1650));
  std::map<IpAddr, int> asked = h.TakeAsked();
  // Every 50 ms would be 33 requests each.
  ASSERT_EQ(asked.size(), 2u);
  for (const auto& [ip, n] : asked) {
    EXPECT_GE(n, 3) << ip.ToString();
    EXPECT_LE(n, 7) << ip.ToString();
  }
  // Host 2's PA answers: it is not asked for any more; the gateway host's
  // still is, on its own schedule.
  const auto reply = test::PacketBuilder()
                         .Eth(Mac("334455667788"), kRouterMac)
                         .Arp(kArpReply, kRouterMac, Ip("192.168.0.33"), Mac("334455667788"),
                              Ip("192.168.0.22"))
                         .Build();
  ASSERT_TRUE(Give(h.rings().uplink_rx(), ToMbuf(h.dp().pool(), reply)));
  h.Run(std::chrono::milliseconds(1700));
  asked = h.TakeAsked();
  EXPECT_EQ(asked.count(Ip("192.168.0.33")), 0u);
  EXPECT_GE(asked[Ip("192.168.0.11")], 1);
  EXPECT_LE(asked[Ip("192.168.0.11")], 2);
}

// Traffic for a peer whose next hop does not answer keeps that next hop
// asked for at the base interval (here 50 ms) instead of backing off; the
// next hop without traffic backs off as before, and so does the first once
// its traffic stops.
TEST(RuntimeTest, TrafficWaitingForANextHopKeepsItAskedFor) {
  UnansweredHost h;
  // Contoso1 -> Contoso3 (on Host 2, PA 192.168.0.33): dropped as
  // peer-unresolved, every 10 ms for 1.65 s.
  const std::vector<uint8_t> ping = Contoso1ToContoso3();
  h.Run(std::chrono::milliseconds(1650), &ping);
  std::map<IpAddr, int> asked = h.TakeAsked();
  // Every 50 ms is 33 requests; backing off is 5-7 (as the gateway host's
  // PA, which has no traffic, shows).
  EXPECT_GE(asked[Ip("192.168.0.33")], 20);
  EXPECT_LE(asked[Ip("192.168.0.33")], 40);
  EXPECT_GE(asked[Ip("192.168.0.11")], 3);
  EXPECT_LE(asked[Ip("192.168.0.11")], 7);
  EXPECT_GT(h.dp().Counters().drops[static_cast<uint16_t>(Drop::kPeerUnresolved)], 100u);
  // The traffic stops: from 50 ms the waits double again (100, 200, 400,
  // 800 ms, after at most one more at 50 ms for the last ping: 3-6 requests,
  // 7 allowed for a late round; 33 if it never backed off again).
  h.Run(std::chrono::milliseconds(1650));
  asked = h.TakeAsked();
  EXPECT_GE(asked[Ip("192.168.0.33")], 3);
  EXPECT_LE(asked[Ip("192.168.0.33")], 7);
}

TEST(LiveUpdateTest, HundredThousandRecordsChangeWhileAWorkerForwards) {
  constexpr uint32_t kRecords = 100'000;
  const std::vector<IpAddr> old_pas = {Ip("192.168.0.33"), Ip("192.168.0.34")};
  const std::vector<IpAddr> new_pas = {Ip("192.168.0.44"), Ip("192.168.0.45")};

  // One wide subnet, so 100,000 CAs fit: 10.0.0.0/8 on VSID 6000.
  Policy base = test::ChapterHost1();
  for (VirtualSubnet& s : base.subnets)
    if (s.vsid == 6000) s.prefixes = {test::Prefix("10.0.0.0/9")};
  for (CustomerRoute& r : base.customer_routes)
    if (r.vsid == 6000) r.destination = test::Prefix("10.0.0.0/9");
  // The DFGW of 10.0.0.0/9 is 10.0.0.1.
  for (LookupRecord& r : base.records)
    if (r.ca == Ip("10.0.1.1")) r.ca = Ip("10.0.0.1");
  std::erase_if(base.subnets, [](const VirtualSubnet& s) { return s.vsid == 6001; });
  std::erase_if(base.customer_routes, [](const CustomerRoute& r) { return r.vsid == 6001; });
  std::erase_if(base.records, [](const LookupRecord& r) { return r.vsid == 6001; });

  RingDataplane r(kRecords + 1024);
  Dataplane& dp = r.dp();
  std::string error;
  ASSERT_TRUE(dp.tables().Apply(base, &error)) << error;
  for (const IpAddr& pa : old_pas) dp.tables().LearnNeighbor(0, pa, kRouterMac);
  for (const IpAddr& pa : new_pas) dp.tables().LearnNeighbor(0, pa, kRouterMac);

  auto record = [&](uint32_t i, const IpAddr& pa) {
    LookupRecord rec;
    rec.ca = IpAddr::V4((10u << 24) | (64u << 16) | i);  // 10.64.0.0 + i, inside 10.0.0.0/9
    rec.vsid = 6000;
    rec.mac = MacOf(i);
    rec.pa = pa;
    return rec;
  };
  // Phase 1: add 100,000 records on the old PAs, while nothing flows yet.
  for (uint32_t i = 0; i < kRecords; ++i)
    ASSERT_TRUE(dp.tables().UpsertRecord(record(i, old_pas[i % 2]), &error)) << error;
  ASSERT_EQ(dp.tables().record_count(), kRecords + 3);  // + Contoso1, 2 and 3
  ASSERT_TRUE(dp.Start(&error)) << error;

  // Traffic: a generator thread sends to random records and checks what
  // comes out of the uplink. Frames generated after `epoch` was raised carry
  // that epoch in their IPv4 ID; epoch 2 frames must go to a new PA.
  std::atomic<int> epoch{1};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> generated{0}, received{0}, to_new_after_move{0}, violations{0},
      old_seen{0}, after_remove{0};
  std::thread traffic([&] {
    std::mt19937 rng(7);
    std::vector<uint8_t> tmpl = test::PacketBuilder()
                                    .Eth(MacOf(0), kContoso1)
                                    .Ipv4(Ip("10.0.1.101"), Ip("10.64.0.0"))
                                    .Udp(1000, 2000)
                                    .Payload(18)
                                    .Build();
    void* outs[64];
    while (!stop.load()) {
      for (int k = 0; k < 32; ++k) {
        const uint32_t i = rng() % kRecords;
        const uint16_t e = static_cast<uint16_t>(epoch.load());
        rte_mbuf* m = rte_pktmbuf_alloc(dp.pool());
        if (m == nullptr) break;
        uint8_t* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(tmpl.size())));
        std::memcpy(d, tmpl.data(), tmpl.size());
        const MacAddr mac = MacOf(i);
        std::memcpy(d, mac.b.data(), 6);
        auto* ip = reinterpret_cast<Ipv4Hdr*>(d + 14);
        ip->id = Be16::FromHost(e);
        const uint32_t dst = (10u << 24) | (64u << 16) | i;
        const Be32 be = Be32::FromHost(dst);
        std::memcpy(ip->dst, &be, 4);
        ip->checksum = Be16{};
        // The IPv4 checksum is not checked on this path; UDP checksum 0 = none.
        reinterpret_cast<UdpHdr*>(d + 34)->checksum = Be16{};
        if (!Give(r.vm_rx(), m)) {
          rte_pktmbuf_free(m);
          break;
        }
        ++generated;
      }
      const unsigned n = rte_ring_dequeue_burst(r.uplink_tx(), outs, 64, nullptr);
      TsanAcquireMbufs(reinterpret_cast<rte_mbuf* const*>(outs), n);
      for (unsigned k = 0; k < n; ++k) {
        auto* m = static_cast<rte_mbuf*>(outs[k]);
        const uint8_t* f = rte_pktmbuf_mtod(m, uint8_t*);
        if (reinterpret_cast<const EthHdr*>(f)->ether_type.ToHost() == kEtherTypeIpv4 &&
            reinterpret_cast<const Ipv4Hdr*>(f + 14)->protocol == kIpProtoGre) {
          ++received;
          const IpAddr pa = IpAddr::V4Raw(reinterpret_cast<const Ipv4Hdr*>(f + 14)->dst);
          const uint16_t e = reinterpret_cast<const Ipv4Hdr*>(f + 42 + 14)->id.ToHost();
          const bool is_new = pa == new_pas[0] || pa == new_pas[1];
          if (!is_new) ++old_seen;
          if (e == 3) ++after_remove;
          if (e == 2) {
            if (is_new) ++to_new_after_move;
            else ++violations;
          }
        }
        rte_pktmbuf_free(m);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });

  auto wait_for_traffic = [&](uint64_t from) {
    for (int i = 0; i < 5000 && received.load() < from + 500; ++i) {
      dp.Poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  wait_for_traffic(0);
  EXPECT_GT(received.load(), 0u) << "no traffic before the move";

  // Phase 2: move all 100,000 records to the new PAs while traffic flows.
  const auto t0 = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(dp.tables().UpsertRecord(record(i, new_pas[i % 2]), &error)) << error;
    if (i % 4096 == 0) dp.Poll();
  }
  const double move_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  dp.tables().Synchronize();  // grace period: no worker holds an old entry now
  epoch.store(2);
  for (int i = 0; i < 5000 && to_new_after_move.load() < 1000; ++i) {
    dp.Poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GT(to_new_after_move.load(), 100u);
  EXPECT_EQ(violations.load(), 0u) << "frames generated after the grace period went to an old PA";

  // No lost update: every record is where the last change put it.
  for (uint32_t i = 0; i < kRecords; ++i) {
    const LookupRecord* rec = dp.tables().FindRecord(6000, record(i, {}).ca);
    ASSERT_NE(rec, nullptr);
    ASSERT_EQ(rec->pa, new_pas[i % 2]) << i;
    const CaEntry* e = dp.tables().FindCa(dp.tables().RdIndex(test::ContosoRdid()), rec->ca);
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(dp.tables().peer(e->peer)->pa, new_pas[i % 2]);
  }

  // Phase 3: remove all of them while traffic flows: it is now dropped, not sent.
  for (uint32_t i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(dp.tables().RemoveRecord(record(i, new_pas[i % 2])));
    if (i % 4096 == 0) dp.Poll();
  }
  dp.tables().Synchronize();
  epoch.store(3);
  const uint64_t drops_before = dp.Counters().drops[static_cast<uint16_t>(Drop::kUnknownDstMac)];
  for (int i = 0; i < 300; ++i) {
    dp.Poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop.store(true);
  traffic.join();
  dp.Stop();
  EXPECT_EQ(after_remove.load(), 0u) << "frames generated after the removal were encapsulated";
  EXPECT_GT(dp.Counters().drops[static_cast<uint16_t>(Drop::kUnknownDstMac)], drops_before);
  EXPECT_EQ(dp.tables().record_count(), 3u);
  dp.tables().Synchronize();
  std::printf(
      "live update: 100000 moves in %.3f s (%.0f records/s) with traffic; generated %lu, "
      "encapsulated %lu, old-PA %lu, new-PA after grace %lu\n",
      move_s, kRecords / move_s, generated.load(), received.load(), old_seen.load(),
      to_new_after_move.load());
}

}  // namespace
}  // namespace hnv
