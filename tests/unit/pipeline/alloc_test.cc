// The per-packet path allocates nothing (DESIGN §4 "Per-packet path"):
// 10,000 bursts of 32 mixed frames through every stage, counted with
// AllocCounter; mbufs come from the pool (not the heap) and the sink only
// counts. The stage counters must all have moved, so the test cannot pass by
// dropping everything.
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <memory>

#include "tests/lib/alloc_counter.h"
#include "tests/unit/pipeline/pipeline_test_util.h"

namespace hnv::test::pipe {
namespace {

Policy AllStagesPolicy() {
  Policy p = ChapterHost1();
  AddVsid6002(&p);
  // An L2Only record on 6000 at another host: ARP for an unknown CA becomes
  // unicast NVGRE to it (flow 4).
  p.records.push_back(
      MakeRecord(IpAddr{}, 6000, Mac("600060000299"), Ip("192.168.0.44"), RecordType::kL2Only));
  // Port ACLs both ways (port_acl.h): Contoso1 meters everything it sends,
  // may not reach Contoso5, and opens TCP statefully; Contoso2 takes in
  // what its extended rules allow.
  auto acl = [](const char* vm, AclDirection d, AclAction a, const char* prefix) {
    PortAcl x{vm, d, a, false, AclAddress{false, *IpPrefix::Parse(prefix)}, MacAddr{}};
    return x;
  };
  p.port_acls = {acl("Contoso1", AclDirection::kOutbound, AclAction::kMeter, "0.0.0.0/0"),
                 acl("Contoso1", AclDirection::kOutbound, AclAction::kDeny, "10.0.3.105/32"),
                 acl("Contoso2", AclDirection::kInbound, AclAction::kDeny, "10.9.0.0/16")};
  PortExtendedAcl tcp;
  tcp.vm_name = "Contoso1";
  tcp.direction = AclDirection::kOutbound;
  tcp.protocol = kIpProtoTcp;
  tcp.weight = 10;
  tcp.stateful = true;
  PortExtendedAcl in = tcp;
  in.vm_name = "Contoso2";
  in.direction = AclDirection::kInbound;
  in.protocol = kAnyProtocol;
  in.stateful = false;
  p.port_extended_acls = {tcp, in};
  return p;
}

std::vector<Frame> VmFrames() {
  const auto bigdf = PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3).DontFragment().Icmp()
                         .Payload(1472).Build();
  return {
      Ping(kC2Mac, kC1Mac, kC1, kC2),                   // l2-switch, local
      ArpRequest(kC1Mac, kC1, kDfgw6000),               // flood + arp-nd answer
      ArpRequest(kC1Mac, kC1, kC3),                     // flood + proxy answer
      ArpRequest(kC1Mac, kC1, Ip("10.0.1.200")),        // flood + L2Only copies to encap
      Ping(kDfgw6000Mac, kC1Mac, kC1, kDfgw6000),       // router: echo
      Ping(kDfgw6000Mac, kC1Mac, kC1, kC4, 32, 64),     // router: local delivery
      Ping(kDfgw6000Mac, kC1Mac, kC1, kPhysical),       // router + encap (gateway)
      Ping(kDfgw6000Mac, kC1Mac, kC1, kC5),             // router + encap (flow 5)
      Ping(kC3Mac, kC1Mac, kC1, kC3),                   // encap
      PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3).Tcp(40000, 443, kTcpSyn, 1460).Build(),
      bigdf,                                            // ICMP frag-needed
      PacketBuilder().Eth(MacAddr::Broadcast(), kC1Mac).Ipv4(kC1, Ip("10.0.1.255")).Udp(68, 67)
          .Payload(32).Build(),                         // flood
      Ping(kC3Mac, kC2Mac, kC2, kC3),                   // spoof: drop
      Ping(kC3Mac, kC1Mac, kC2, kC3),                   // port security: IP spoof
      ArpReply(kC1Mac, kC3, kC2Mac, kC2),               // port security: ARP spoof
      PacketBuilder().Eth(MacAddr::Broadcast(), kC1Mac).Ipv4(kC1, Ip("255.255.255.255"))
          .Udp(67, 68).Payload(32).Build(),             // port security: DHCP guard
      Ping(kDfgw6000Mac, kC1Mac, kC1, Ip("10.0.1.200")),  // no record: drop
  };
}

std::vector<Frame> UplinkFrames() {
  auto from2 = [](uint32_t vsid, const Frame& inner) {
    return Encap(kPa1Mac, kPa2Mac, kPa2, kPa1, vsid, 7, inner);
  };
  return {
      from2(6000, Ping(kC1Mac, kC3Mac, kC3, kC1)),                    // decap + deliver
      from2(6000, ArpRequest(kC3Mac, kC3, kC1)),                      // decap + flood
      from2(kVsid6002, Ping(kC4Mac, kDfgw6002Mac, kC3, kC4, 32, 63)),  // routed remotely
      ArpRequest(kPa2Mac, kPa2, kPa1),                                // PA answers ARP
      PacketBuilder().Eth(kPa1Mac, kPa2Mac).Ipv4(kPa2, kPa1).Icmp().Payload(16).Build(),
      from2(6000, Ping(kC1Mac, kC2Mac, kC2, kC1)),                    // source check: drop
      Encap(kPa1Mac, kPa2Mac, kPa2, Ip("192.168.0.44"), 6000, 0, Ping(kC1Mac, kC3Mac, kC3, kC1)),
  };
}

TEST(Alloc, PerPacketPathAllocatesNothing) {
  PipelineHarness h(AllStagesPolicy());
  h.tables().LearnNeighbor(kUplink, kPa2, kPa2Mac);
  h.ResolveNeighbors(kRouterMac);
  h.tables().Synchronize();
  h.sink().capture = false;

  // Warm-up outside the counter: anything lazily set up on first use (DPDK
  // per-lcore caches, ...) is not per-packet.
  for (const Frame& f : VmFrames()) h.Run(kC1Port, f);
  for (const Frame& f : UplinkFrames()) h.Run(kUplink, f);
  h.DrainEvents();
  h.ResetCounters();
  h.sink().capture = false;
  // Templates, prebuilt outside the counter; each burst copies them into
  // fresh mbufs (rte_pktmbuf_alloc + memcpy: pool memory, not the heap).
  std::vector<rte_mbuf*> vm, up;
  for (const Frame& f : VmFrames()) vm.push_back(h.MakeMbuf(f));
  for (const Frame& f : UplinkFrames()) up.push_back(h.MakeMbuf(f));
  for (rte_mbuf* m : vm) ASSERT_NE(m, nullptr);
  for (rte_mbuf* m : up) ASSERT_NE(m, nullptr);
  const unsigned avail = rte_mempool_avail_count(h.pool());
  {
    AllocCounter probe;  // the counter does see heap allocations in this binary
    auto p = std::make_unique<std::vector<int>>(8);
    EXPECT_GE(probe.count(), 2u);
  }

  constexpr int kBursts = 10'000;
  uint64_t no_mbuf = 0, frames = 0;
  uint64_t allocations = 0, bytes = 0;
  {
    AllocCounter counter;
    rte_mbuf* pkts[kBurstSize];
    Event events[64];
    size_t next_vm = 0, next_up = 0;
    for (int b = 0; b < kBursts; ++b) {
      const bool uplink = (b & 1) != 0;
      const std::vector<rte_mbuf*>& tmpl = uplink ? up : vm;
      size_t& next = uplink ? next_up : next_vm;
      uint16_t n = 0;
      for (uint16_t i = 0; i < kBurstSize; ++i) {
        const rte_mbuf* t = tmpl[next++ % tmpl.size()];
        rte_mbuf* m = rte_pktmbuf_alloc(h.pool());
        if (m == nullptr) {
          ++no_mbuf;
          continue;
        }
        const uint16_t len = rte_pktmbuf_data_len(t);
        std::memcpy(rte_pktmbuf_append(m, len), rte_pktmbuf_mtod(t, const uint8_t*), len);
        pkts[n++] = m;
      }
      frames += n;
      h.RunMbufs(uplink ? kUplink : kC1Port, pkts, n);
      // The control thread's side of the event ring, without applying.
      while (rte_ring_sc_dequeue_burst_elem(h.ctx().events, events, sizeof(Event), 64, nullptr) != 0) {
      }
    }
    allocations = counter.count();
    bytes = counter.bytes();
  }
  EXPECT_EQ(allocations, 0u) << bytes << " bytes";
  EXPECT_EQ(no_mbuf, 0u);
  EXPECT_EQ(frames, uint64_t{kBursts} * kBurstSize);
  EXPECT_EQ(rte_mempool_avail_count(h.pool()), avail) << "mbufs leaked";
  for (rte_mbuf* m : vm) rte_pktmbuf_free(m);
  for (rte_mbuf* m : up) rte_pktmbuf_free(m);

  const WorkerCounters& c = h.counters();
  EXPECT_GT(c.switched, 0u);
  EXPECT_GT(c.routed, 0u);
  EXPECT_GT(c.encapsulated, 0u);
  EXPECT_GT(c.decapsulated, 0u);
  EXPECT_GT(c.flooded, 0u);
  EXPECT_GT(c.arp_answered, 0u);
  EXPECT_GT(c.echo_answered, 0u);
  EXPECT_GT(c.l2only_arp, 0u);
  EXPECT_GT(c.mss_clamped, 0u);
  EXPECT_GT(c.icmp_too_big, 0u);
  EXPECT_GT(c.icmp_rate_limited, 0u);  // the limit's path is allocation-free too
  EXPECT_GT(c.events, 0u);
  EXPECT_GT(c.drops[static_cast<uint16_t>(Drop::kIpSpoof)], 0u);
  EXPECT_GT(c.drops[static_cast<uint16_t>(Drop::kArpSpoof)], 0u);
  EXPECT_GT(c.drops[static_cast<uint16_t>(Drop::kDhcpGuard)], 0u);
  EXPECT_GT(c.drops[static_cast<uint16_t>(Drop::kAclDeny)], 0u);
  EXPECT_EQ(h.acl_sessions().live(), 1u);  // Contoso1's TCP to Contoso3, opened in the warm-up
  EXPECT_GT(c.tx_packets[kUplink], 0u);
  EXPECT_GT(c.tx_packets[kC1Port], 0u);
  EXPECT_GT(c.tx_packets[kC2Port], 0u);
  EXPECT_GT(c.tx_packets[kC4Port], 0u);
  EXPECT_EQ(c.rx_packets[kUplink] + c.rx_packets[kC1Port], frames);
  // Something was dropped on purpose, but far from everything.
  uint64_t drops = 0;
  for (uint64_t d : c.drops) drops += d;
  EXPECT_GT(drops, 0u);
  EXPECT_LT(drops, frames / 2);
  EXPECT_GT(h.sink().sent, frames / 2);
}

}  // namespace
}  // namespace hnv::test::pipe
