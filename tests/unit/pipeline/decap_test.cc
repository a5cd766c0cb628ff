// NVGRE decapsulation (RFC 7637) on Host 1: every way a frame from the
// provider network can be wrong, each dropped with its own reason and
// nothing transmitted; truncation at every length; random frames and
// mutations on the uplink and on a VM port (no crash, every frame
// accounted, no mbuf leaked).
#include <gtest/gtest.h>
#include <rte_mempool.h>

#include <optional>
#include <random>

#include "tests/unit/pipeline/pipeline_test_util.h"

namespace hnv::test::pipe {
namespace {

// A second tenant on Host 1 that reuses Contoso's addresses and MACs:
// Woodgrove, VSID 8000, 10.0.1.0/24; W1 10.0.1.101 with Contoso1's MAC on
// Host 1 (port 5), W3 10.0.1.103 with Contoso3's MAC on 192.168.0.44.
inline const Guid kWoodgrove = Rdid("{12345678-1000-2000-3000-123456780003}");
constexpr uint32_t kVsid8000 = 8000;
constexpr uint16_t kW1Port = 5;
inline const IpAddr kPa44 = Ip("192.168.0.44");

Policy Host1WithWoodgrove() {
  Policy p = ChapterHost1();
  p.routing_domains.push_back(RoutingDomain{kWoodgrove, "Woodgrove"});
  p.subnets.push_back(VirtualSubnet{kVsid8000, kWoodgrove, {Prefix("10.0.1.0/24")}});
  CustomerRoute r;
  r.rdid = kWoodgrove;
  r.vsid = kVsid8000;
  r.destination = Prefix("10.0.1.0/24");
  r.next_hop = Ip("0.0.0.0");
  p.customer_routes.push_back(r);
  p.records.push_back(MakeRecord(kDfgw6000, kVsid8000, Mac("800080000100"), kPa1));
  p.records.push_back(MakeRecord(kC1, kVsid8000, kC1Mac, kPa1));
  p.records.push_back(MakeRecord(kC3, kVsid8000, kC3Mac, kPa44));
  p.vm_ports.push_back(VmPort{"W1", kW1Port, kC1Mac, kVsid8000});
  return p;
}

void Resolve(PipelineHarness& h) {
  h.ResolveNeighbors(kRouterMac);
  h.tables().Synchronize();
}

// Contoso3 -> Contoso1, as Host 2 sends it to Host 1.
Frame Inner() { return Ping(kC1Mac, kC3Mac, kC3, kC1); }

struct Outer {
  IpAddr src = kPa2;
  IpAddr dst = kPa1;
  uint16_t gre_flags = kNvgreFlags;
  uint16_t gre_proto = kEtherTypeTeb;
  std::optional<uint32_t> key = NvgreKey(6000, 0x42);
  bool more_fragments = false;
  uint16_t frag_offset = 0;
};

Frame Wrap(const Outer& o, const Frame& inner) {
  PacketBuilder b;
  b.Eth(kPa1Mac, kPa2Mac).Ipv4(o.src, o.dst).DontFragment();
  if (o.more_fragments || o.frag_offset != 0) b.Ipv4Frag(o.frag_offset, o.more_fragments);
  return b.Gre(o.gre_flags, o.gre_proto, o.key).Payload(inner).Build();
}

struct DropCase {
  const char* name;
  Frame frame;
  Drop why;
};

std::vector<DropCase> DropCases() {
  const Frame inner = Inner();
  auto with = [&](auto change, const Frame& in) {
    Outer o;
    change(o);
    return Wrap(o, in);
  };
  auto gre = [&](uint16_t flags) { return with([&](Outer& o) { o.gre_flags = flags; }, inner); };
  auto key = [&](uint32_t vsid, uint8_t flow = 0) {
    return with([&](Outer& o) { o.key = NvgreKey(vsid, flow); }, inner);
  };
  std::vector<DropCase> c;
  c.push_back({"c_bit", gre(kGreFlagChecksum | kGreFlagKey), Drop::kBadGreFlags});
  c.push_back({"r_bit", gre(kGreFlagRouting | kGreFlagKey), Drop::kBadGreFlags});
  c.push_back({"s_bit", gre(kGreFlagSeq | kGreFlagKey), Drop::kBadGreFlags});
  c.push_back({"k_clear",
               with([](Outer& o) { o.gre_flags = 0, o.key = std::nullopt; }, inner),
               Drop::kBadGreFlags});
  c.push_back({"k_clear_key_present", gre(0), Drop::kBadGreFlags});
  c.push_back({"strict_source_route", gre(kGreFlagKey | 0x0800), Drop::kBadGreFlags});
  c.push_back({"recursion", gre(kGreFlagKey | 0x0100), Drop::kBadGreFlags});
  c.push_back({"reserved0_low", gre(kGreFlagKey | 0x0008), Drop::kBadGreFlags});
  c.push_back({"version_1", gre(kGreFlagKey | 1), Drop::kBadGreVersion});
  c.push_back({"version_7", gre(kGreFlagKey | 7), Drop::kBadGreVersion});
  c.push_back({"protocol_ipv4",
               with([](Outer& o) { o.gre_proto = kEtherTypeIpv4; }, inner), Drop::kNotTeb});
  c.push_back({"inner_vlan",
               with([](Outer&) {},
                    PacketBuilder().Eth(kC1Mac, kC3Mac).Vlan(10).Ipv4(kC3, kC1).Icmp().Build()),
               Drop::kInnerVlan});
  for (uint32_t v : {0u, 1u, 4095u, 0xFFFFFFu}) {
    c.push_back({"reserved_vsid", key(v), Drop::kReservedVsid});
  }
  c.push_back({"unknown_vsid_4096", key(4096), Drop::kUnknownVsid});
  c.push_back({"unknown_vsid_7777", key(7777), Drop::kUnknownVsid});
  // Woodgrove's VSID with Contoso3's CA and MAC from Contoso3's PA: Woodgrove's
  // own 10.0.1.103 lives at 192.168.0.44, so this is not its traffic (were it
  // let through, it would reach W1, which shares Contoso1's MAC).
  c.push_back({"vsid_of_another_rd", key(kVsid8000), Drop::kSourceCheck});
  c.push_back({"outer_source_not_the_records_pa",
               with([](Outer& o) { o.src = kPa44; }, inner), Drop::kSourceCheck});
  c.push_back({"outer_source_gateway_host",
               with([](Outer& o) { o.src = kPaGw; }, inner), Drop::kSourceCheck});
  c.push_back({"inner_source_is_a_local_vm",
               with([](Outer&) {}, Ping(kC1Mac, kC2Mac, kC2, kC1)), Drop::kSourceCheck});
  // Sources routed through the gateway are the gateway's to send only.
  c.push_back({"routed_source_from_non_gateway",
               with([](Outer&) {}, Ping(kC1Mac, kC3Mac, kPhysical, kC1)), Drop::kSourceCheck});
  c.push_back({"on_link_source_without_record_from_gateway",
               with([](Outer& o) { o.src = kPaGw; }, Ping(kC1Mac, kC3Mac, Ip("10.0.1.150"), kC1)),
               Drop::kSourceCheck});
  c.push_back({"outer_more_fragments", with([](Outer& o) { o.more_fragments = true; }, inner),
               Drop::kOuterFragment});
  c.push_back({"outer_later_fragment", with([](Outer& o) { o.frag_offset = 64; }, inner),
               Drop::kOuterFragment});
  {
    Frame f = Wrap(Outer{}, inner);
    f[24] ^= 0x01;  // outer IPv4 header checksum
    c.push_back({"bad_outer_checksum", f, Drop::kBadOuterChecksum});
  }
  c.push_back({"not_our_pa", with([](Outer& o) { o.dst = kPa44; }, inner), Drop::kNotForUs});
  {
    Frame lying = inner;
    lying.resize(lying.size() - 10);  // inner IPv4 length claims 10 bytes more
    c.push_back({"inner_truncated_ip", Wrap(Outer{}, lying), Drop::kMalformedInner});
  }
  c.push_back({"inner_shorter_than_ethernet", Wrap(Outer{}, Frame(13, 0x60)),
               Drop::kMalformedInner});
  c.push_back({"inner_to_a_mac_not_here",
               with([](Outer&) {}, Ping(kC3Mac, kC3Mac, kC3, kC1)), Drop::kNoLocalPort});
  // VSID 6001 has no port on Host 1: Contoso1's MAC is not on it.
  c.push_back({"inner_to_local_mac_on_other_vsid",
               with([](Outer& o) { o.src = kPaGw, o.key = NvgreKey(6001, 0); },
                    Ping(kC1Mac, kMtGwMac, kMtGw, kC1)),
               Drop::kNoLocalPort});
  c.push_back({"inner_broadcast_on_vsid_without_ports",
               with([](Outer& o) { o.src = kPaGw, o.key = NvgreKey(6001, 0); },
                    ArpRequest(kMtGwMac, kMtGw, Ip("10.0.2.3"))),
               Drop::kNoLocalPort});
  return c;
}

TEST(Decap, EachMalformedOrForeignFrameIsDroppedWithItsReason) {
  PipelineHarness h(Host1WithWoodgrove());
  Resolve(h);
  for (const DropCase& c : DropCases()) {
    SCOPED_TRACE(c.name);
    h.ResetCounters();
    ExpectNothing(h.Run(kUplink, c.frame));
    ExpectOnlyDrop(h, c.why);
    EXPECT_EQ(h.counters().decapsulated, c.why == Drop::kNoLocalPort ? 1u : 0u);
  }
}

TEST(Decap, ValidFramesAreDelivered) {
  PipelineHarness h(Host1WithWoodgrove());
  Resolve(h);
  const Frame inner = Inner();
  struct Case {
    const char* name;
    Frame frame;
    std::vector<TxFrame> want;
  };
  Outer flow_ff;
  flow_ff.key = NvgreKey(6000, 0xFF);
  Frame padded = Wrap(Outer{}, inner);
  padded.insert(padded.end(), 8, 0);  // Ethernet padding after the outer IP packet
  Outer gw;
  gw.src = kPaGw;
  const Frame from_outside = Ping(kC1Mac, kDfgw6000Mac, kPhysical, kC1, 32, 62);
  const Frame bcast = ArpRequest(kC3Mac, kC3, kC1);
  const Frame to_w1 = Ping(kC1Mac, kC3Mac, kC3, kC1);
  Outer w;
  w.src = kPa44;
  w.key = NvgreKey(kVsid8000, 0);
  const Frame with_options = PacketBuilder()
                                .Eth(kPa1Mac, kPa2Mac)
                                .Ipv4(kPa2, kPa1)
                                .Ipv4Options({1, 1, 1, 0})  // NOP NOP NOP EOL
                                .DontFragment()
                                .Nvgre(6000, 0)
                                .Payload(inner)
                                .Build();
  const std::vector<Case> cases = {
      {"outer_ipv4_options", with_options, {{kC1Port, inner}}},
      {"valid", Wrap(Outer{}, inner), {{kC1Port, inner}}},
      {"flow_id_ff_keeps_vsid", Wrap(flow_ff, inner), {{kC1Port, inner}}},
      {"outer_padding_trimmed", padded, {{kC1Port, inner}}},
      {"routed_source_from_gateway", Wrap(gw, from_outside), {{kC1Port, from_outside}}},
      {"broadcast_to_all_ports_of_vsid", Wrap(Outer{}, bcast), {{kC1Port, bcast}, {kC2Port, bcast}}},
      // Woodgrove's own traffic, same addresses: to W1's port only.
      {"other_rd_own_traffic", Wrap(w, to_w1), {{kW1Port, to_w1}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    h.ResetCounters();
    ExpectTx(h.Run(kUplink, c.frame), c.want);
    EXPECT_EQ(h.total_drops(), 0u);
    EXPECT_EQ(h.counters().decapsulated, 1u);
  }
}

TEST(Decap, GatewayWildcardRecordAllowsAnySource) {
  Policy p = Host1WithWoodgrove();
  Outer o;
  o.src = kPa44;
  const Frame inner = Ping(kC1Mac, Mac("02000000aaaa"), Ip("10.99.0.1"), kC1);
  {
    PipelineHarness h(p);
    ExpectNothing(h.Run(kUplink, Wrap(o, inner)));
    ExpectOnlyDrop(h, Drop::kSourceCheck);
  }
  p.records.push_back(MakeRecord(IpAddr{}, 6000, Mac("02000000aaaa"), kPa44,
                                 RecordType::kGatewayWildcard));
  PipelineHarness h(p);
  ExpectTx(h.Run(kUplink, Wrap(o, inner)), {{kC1Port, inner}});
  // ...on that VSID only: not on Woodgrove's, whatever the addresses.
  o.key = NvgreKey(kVsid8000, 0);
  h.ResetCounters();
  ExpectNothing(h.Run(kUplink, Wrap(o, inner)));
  ExpectOnlyDrop(h, Drop::kSourceCheck);
}

TEST(Decap, IPv6OuterWithFragmentHeaderIsRefused) {
  PipelineHarness h(ChapterHost1V6Provider());
  const Frame inner = Inner();
  const Frame f = PacketBuilder()
                      .Eth(kPa1Mac, kPa2Mac)
                      .Ipv6(Ip("fd00:ffff::33"), Ip("fd00:ffff::22"))
                      .Ipv6Frag(0, true)
                      .Nvgre(6000, 0)
                      .Payload(inner)
                      .Build();
  ExpectNothing(h.Run(kUplink, f));
  ExpectOnlyDrop(h, Drop::kOuterFragment);
}

// ---- truncation -----------------------------------------------------------------

uint64_t TxCount(PipelineHarness& h) { return h.sink().sent; }

// Runs one frame (possibly empty) and returns what was transmitted.
std::vector<TxFrame> RunAny(PipelineHarness& h, uint16_t port, const Frame& f) {
  if (!f.empty()) return h.Run(port, f);
  h.sink().frames.clear();
  rte_mbuf* m = rte_pktmbuf_alloc(h.pool());
  EXPECT_NE(m, nullptr);
  if (m != nullptr) h.RunMbufs(port, &m, 1);
  return std::move(h.sink().frames);
}

TEST(Decap, TruncationAtEveryLength) {
  PipelineHarness h(ChapterHost1());
  const unsigned start = rte_mempool_avail_count(h.pool());
  for (const Frame& inner : {Inner(), ArpRequest(kC3Mac, kC3, kC1),
                             PacketBuilder().Eth(kC1Mac, kC3Mac).Ipv4(kC3, kC1).Tcp(80, 4000, 0x12, 1400)
                                 .Payload(5).Build()}) {
    const Frame full = Wrap(Outer{}, inner);
    h.ResetCounters();
    for (size_t len = 0; len < full.size(); ++len) {
      SCOPED_TRACE(len);
      const uint64_t drops = h.total_drops();
      ExpectNothing(RunAny(h, kUplink, Frame(full.begin(), full.begin() + len)));
      EXPECT_EQ(h.total_drops(), drops + 1);
    }
    EXPECT_EQ(h.total_drops(), full.size());  // every truncated frame counted once
    EXPECT_EQ(h.counters().rx_packets[kUplink], full.size());
    const auto tx = h.Run(kUplink, full);
    ASSERT_FALSE(tx.empty());
    for (const TxFrame& t : tx) EXPECT_TRUE(t.bytes == inner) << FrameDiff(inner, t.bytes);
  }
  EXPECT_EQ(rte_mempool_avail_count(h.pool()), start);
}

// ---- random frames and mutations ---------------------------------------------------

std::vector<Frame> UplinkSeeds() {
  Outer gw;
  gw.src = kPaGw;
  gw.key = NvgreKey(6001, 0);
  return {
      Wrap(Outer{}, Inner()),
      Wrap(Outer{}, ArpRequest(kC3Mac, kC3, kC1)),
      Wrap(Outer{}, PacketBuilder().Eth(kC2Mac, kC3Mac).Ipv4(kC3, kC2).Udp(5, 6).Payload(100).Build()),
      Wrap(gw, ArpRequest(kMtGwMac, kMtGw, Ip("10.0.2.3"))),
      ArpRequest(kPa2Mac, kPa2, kPa1),
      ArpReply(kPa2Mac, kPa2, kPa1Mac, kPa1),
      PacketBuilder().Eth(kPa1Mac, kPa2Mac).Ipv4(kPa2, kPa1).Icmp().Payload(16).Build(),
  };
}

std::vector<Frame> VmSeeds() {
  return {
      Ping(kC2Mac, kC1Mac, kC1, kC2),
      Ping(kC3Mac, kC1Mac, kC1, kC3),
      Ping(kDfgw6000Mac, kC1Mac, kC1, kDfgw6000),
      Ping(kDfgw6000Mac, kC1Mac, kC1, kPhysical),
      ArpRequest(kC1Mac, kC1, kDfgw6000),
      ArpRequest(kC1Mac, kC1, kC3),
      PacketBuilder().Eth(kDfgw6000Mac, kC1Mac).Arp(kArpRequest, kC1Mac, kC1, kDfgw6000Mac, kDfgw6000)
          .Build(),
      PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3).Tcp(40000, 443, kTcpSyn, 1460).Build(),
      PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3).DontFragment().Icmp().Payload(1472).Build(),
      PacketBuilder().Eth(MacAddr::Broadcast(), kC1Mac).Ipv4(kC1, Ip("255.255.255.255")).Udp(68, 67)
          .Payload(40).Build(),
  };
}

Frame Mutate(std::mt19937& rng, const Frame& seed) {
  Frame f = seed;
  std::uniform_int_distribution<int> kind(0, 9);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const int k = kind(rng);
  if (k <= 5 && !f.empty()) {
    const int n = 1 + static_cast<int>(pick(4));  // set 1..4 random bytes
    for (int i = 0; i < n; ++i) f[pick(f.size())] = static_cast<uint8_t>(rng());
  } else if (k <= 7 && !f.empty()) {
    f[pick(f.size())] ^= static_cast<uint8_t>(1u << pick(8));  // one bit
    if (k == 7) f.resize(pick(f.size() + 1));                   // and truncate
  } else {
    const size_t extra = pick(64);  // random tail
    for (size_t i = 0; i < extra; ++i) f.push_back(static_cast<uint8_t>(rng()));
  }
  return f;
}

Frame RandomBytes(std::mt19937& rng, const Frame& seed) {
  Frame f(std::uniform_int_distribution<size_t>(0, 160)(rng));
  for (uint8_t& b : f) b = static_cast<uint8_t>(rng());
  // Sometimes keep a plausible Ethernet header so the parsers go deeper.
  if (f.size() >= 14 && (rng() & 1)) std::copy(seed.begin(), seed.begin() + 14, f.begin());
  return f;
}

void Fuzz(uint16_t port, const std::vector<Frame>& seeds, uint32_t seed_value) {
  PipelineHarness h(ChapterHost1());
  Resolve(h);
  std::mt19937 rng(seed_value);
  const unsigned start = rte_mempool_avail_count(h.pool());
  constexpr int kIterations = 20'000;
  uint64_t delivered = 0;
  for (int i = 0; i < kIterations; ++i) {
    const Frame& seed = seeds[rng() % seeds.size()];
    const Frame f = (rng() % 4 == 0) ? RandomBytes(rng, seed) : Mutate(rng, seed);
    const uint64_t rx = h.counters().rx_packets[port];
    const uint64_t drops = h.total_drops();
    const uint64_t tx_before = TxCount(h);
    const auto tx = RunAny(h, port, f);
    ASSERT_EQ(h.counters().rx_packets[port], rx + 1) << i;
    const uint64_t sent = TxCount(h) - tx_before;
    ASSERT_TRUE(sent > 0 || h.total_drops() > drops)
        << "iteration " << i << ": frame neither transmitted nor counted\n"
        << DescribeFrame(f);
    for (const TxFrame& t : tx) {
      ParsedFrame pf;
      ASSERT_EQ(ParseFrame(t.bytes.data(), static_cast<uint32_t>(t.bytes.size()), &pf),
                ParseError::kOk)
          << "iteration " << i << " transmitted a malformed frame on port " << t.port << "\n"
          << DescribeFrame(t.bytes) << "from\n" << DescribeFrame(f);
      if (t.port != kUplink) ++delivered;
    }
    if (i % 1024 == 0) h.DrainEvents();
  }
  EXPECT_GT(delivered, 0u);
  EXPECT_EQ(rte_mempool_avail_count(h.pool()), start) << "mbufs leaked";
}

TEST(DecapFuzz, RandomFramesOnTheUplink) { Fuzz(kUplink, UplinkSeeds(), 7637); }
TEST(DecapFuzz, RandomFramesOnAVmPort) { Fuzz(kC1Port, VmSeeds(), 2013); }

}  // namespace
}  // namespace hnv::test::pipe
