// NatWorker: timeouts (made-up clock), port allocation to exhaustion and
// back, limits, static NAT and port forwards (exact bytes), worker shares
// and steering, amortised expiry, and no allocation per packet.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "nat/steering.h"
#include "nat/tcp_state.h"
#include "tests/lib/alloc_counter.h"
#include "tests/unit/nat/nat_test_util.h"

namespace hnv::nat::test {
namespace {

using hnv::test::AllocCounter;
using hnv::test::FrameDiff;

Bytes Udp(IpAddr src, uint16_t sport, IpAddr dst, uint16_t dport, size_t payload = 16) {
  return PacketBuilder().Eth(kMacB, kMacA).Ipv4(src, dst).Udp(sport, dport).Payload(payload)
      .Build();
}
Bytes Tcp(IpAddr src, uint16_t sport, IpAddr dst, uint16_t dport, uint8_t flags) {
  return PacketBuilder().Eth(kMacB, kMacA).Ipv4(src, dst).Tcp(sport, dport, flags).Build();
}
Bytes Echo(IpAddr src, IpAddr dst, uint16_t id, uint8_t type = kIcmpEchoRequest) {
  return PacketBuilder().Eth(kMacB, kMacA).Ipv4(src, dst).Icmp(type, 0, uint32_t{id} << 16 | 1)
      .Payload(8).Build();
}
IpAddr AddrOf(Endpoint e) { return IpAddr::V4Raw(reinterpret_cast<const uint8_t*>(&e.addr)); }


// ---- exact bytes through the worker ----

TEST(NatWorkerTest, UdpRoundTripExactBytes) {
  NatRig rig(SceneSpec(), 0, 1, {});
  Bytes out = Udp(kHost1, 40000, kRemote1, 53, 40);
  ASSERT_EQ(rig.Out(out).edge, Edge::kTranslated);
  const Endpoint ext = SourceOf(out);
  EXPECT_TRUE(ext.addr == Raw(kPool1) || ext.addr == Raw(kPool2));
  const uint16_t port = HostPort(ext.port);
  EXPECT_GE(port, 1024);
  Bytes want = Udp(AddrOf(ext), port, kRemote1, 53, 40);
  EXPECT_EQ(out, want) << FrameDiff(want, out);

  Bytes in = Udp(kRemote1, 53, AddrOf(ext), port, 40);
  ASSERT_EQ(rig.In(in).edge, Edge::kTranslated);
  Bytes want_in = Udp(kRemote1, 53, kHost1, 40000, 40);
  EXPECT_EQ(in, want_in) << FrameDiff(want_in, in);
  EXPECT_EQ(rig.nat.counters().out_napt, 1u);
  EXPECT_EQ(rig.nat.counters().in_napt, 1u);
  EXPECT_EQ(rig.nat.table().sessions(), 1u);
}

TEST(NatWorkerTest, StaticNatBothWaysAnyProtocolAndFragments) {
  NatRig rig(SceneSpec(), 0, 1, {});
  struct Case {
    const char* name;
    Bytes out, want_out;
  };
  auto gre = [](IpAddr src, IpAddr dst) {
    return PacketBuilder().Eth(kMacB, kMacA).Ipv4(src, dst).Nvgre(6000).Build();
  };
  auto frag = [](IpAddr src, IpAddr dst, uint16_t off) {
    PacketBuilder b;
    b.Eth(kMacB, kMacA).Ipv4(src, dst, kIpProtoUdp).Ipv4Frag(off, off == 0);
    if (off == 0) b.Udp(7000, 53);
    return b.Payload(24).Build();
  };
  Case cases[] = {
      {"udp", Udp(kStaticIn, 7000, kRemote1, 53), Udp(kStaticExt, 7000, kRemote1, 53)},
      {"tcp", Tcp(kStaticIn, 22, kRemote1, 50000, kTcpSyn | kTcpAck),
       Tcp(kStaticExt, 22, kRemote1, 50000, kTcpSyn | kTcpAck)},
      {"echo", Echo(kStaticIn, kRemote1, 9), Echo(kStaticExt, kRemote1, 9)},
      {"gre", gre(kStaticIn, kRemote1), gre(kStaticExt, kRemote1)},
      {"first fragment", frag(kStaticIn, kRemote1, 0), frag(kStaticExt, kRemote1, 0)},
      {"later fragment", frag(kStaticIn, kRemote1, 32), frag(kStaticExt, kRemote1, 32)},
  };
  for (Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(rig.Out(c.out).edge, Edge::kTranslated);
    EXPECT_EQ(c.out, c.want_out) << FrameDiff(c.want_out, c.out);
  }
  // Inbound: anyone may reach the static address (one-to-one NAT filters
  // nothing), in any protocol.
  Bytes in = Tcp(kRemote2, 50000, kStaticExt, 22, kTcpSyn);
  ASSERT_EQ(rig.In(in).edge, Edge::kTranslated);
  Bytes want = Tcp(kRemote2, 50000, kStaticIn, 22, kTcpSyn);
  EXPECT_EQ(in, want) << FrameDiff(want, in);
  Bytes g = gre(kRemote2, kStaticExt);
  EXPECT_EQ(rig.In(g).edge, Edge::kTranslated);
  EXPECT_EQ(g, gre(kRemote2, kStaticIn));
  EXPECT_EQ(rig.nat.table().sessions(), 0u) << "static NAT keeps no state";
}

TEST(NatWorkerTest, PortForwardBothWays) {
  NatRig rig(SceneSpec());  // 198.51.100.1 is the compartment's own address
  Bytes in = Tcp(kRemote1, 51000, kPool1, 8080, kTcpSyn);
  ASSERT_EQ(rig.In(in).edge, Edge::kTranslated);
  EXPECT_EQ(in, Tcp(kRemote1, 51000, kHost2, 80, kTcpSyn));
  Bytes out = Tcp(kHost2, 80, kRemote1, 51000, kTcpSyn | kTcpAck);
  ASSERT_EQ(rig.Out(out).edge, Edge::kTranslated);
  EXPECT_EQ(out, Tcp(kPool1, 8080, kRemote1, 51000, kTcpSyn | kTcpAck));
  // Another port of the compartment's own address is the namespace's.
  Bytes ssh = Tcp(kRemote1, 51000, kPool1, 22, kTcpSyn);
  EXPECT_EQ(rig.In(ssh).edge, Edge::kPass);
  EXPECT_EQ(ssh, Tcp(kRemote1, 51000, kPool1, 22, kTcpSyn));
  Bytes ping = Echo(kRemote1, kPool1, 5);
  EXPECT_EQ(rig.In(ping).edge, Edge::kPass);
  // The same to the pool address that is not local: unsolicited, dropped.
  Bytes other = Tcp(kRemote1, 51000, kPool2, 22, kTcpSyn);
  const Verdict v = rig.In(other);
  EXPECT_EQ(Describe(v), "drop/no-session");
  EXPECT_EQ(rig.nat.counters().Dropped(Drop::kNoSession), 1u);
  EXPECT_EQ(rig.nat.counters().in_local, 2u);
}

// What a frame from the inside to one of the NAT's addresses is: a hairpin
// the NAT takes (hnv-gateway's pre-route slot translates these itself, as
// its route would hand them to the namespace's kernel), or the namespace's.
TEST(NatRulesTest, HairpinTargets) {
  NatSpec spec = SceneSpec();
  spec.ports = PortRange{20000, 29999};
  NatRig rig(spec);
  const auto to = [&](uint8_t proto, IpAddr a, uint16_t port) {
    return rig.rules->HairpinTarget(proto, Endpoint{Raw(a), Be16::FromHost(port).raw()});
  };
  EXPECT_TRUE(to(kIpProtoTcp, kPool1, 8080));       // a port forward
  EXPECT_FALSE(to(kIpProtoUdp, kPool1, 8080));      // ... for TCP only
  EXPECT_TRUE(to(kIpProtoUdp, kPool2, 20000));      // a port the NAPT allocates
  EXPECT_TRUE(to(kIpProtoTcp, kPool1, 29999));
  EXPECT_FALSE(to(kIpProtoTcp, kPool1, 22));        // the namespace's own service
  EXPECT_FALSE(to(kIpProtoTcp, kPool2, 30000));
  EXPECT_FALSE(to(kIpProtoIcmp, kPool1, 0));        // an echo request to a pool address
  EXPECT_TRUE(to(kIpProtoIcmp, kStaticExt, 0));     // a static address: every protocol
  EXPECT_TRUE(to(47, kStaticExt, 0));
  EXPECT_FALSE(to(kIpProtoTcp, kRemote1, 20000));   // not a NAT address
  EXPECT_FALSE(to(kIpProtoTcp, kHost2, 80));

  // Taken: the worker translates it outbound and turns it around.
  Bytes f = Tcp(kHost1, 40000, kPool1, 8080, kTcpSyn);
  ASSERT_EQ(rig.Out(f).edge, Edge::kHairpin);
  const Endpoint ext = SourceOf(f);  // the inside host's mapping
  ASSERT_EQ(rig.In(f).edge, Edge::kTranslated);
  EXPECT_EQ(f, Tcp(AddrOf(ext), HostPort(ext.port), kHost2, 80, kTcpSyn));
  EXPECT_EQ(rig.nat.counters().hairpins, 1u);
}

TEST(NatWorkerTest, NotOursIsUntouched) {
  NatRig rig(SceneSpec(), 0, 1, {});
  // From outside the internal prefixes, to addresses that are not the NAT's,
  // IPv6, ARP: all pass untouched.
  std::vector<Bytes> frames = {
      Udp(Ip("10.9.9.9"), 1, kRemote1, 2),
      Udp(kRemote1, 1, Ip("10.0.1.101"), 2),
      PacketBuilder().Eth(kMacB, kMacA).Ipv6(Ip("fd00::1"), Ip("fd00::2")).Udp(1, 2).Build(),
      PacketBuilder().Eth(MacAddr::Broadcast(), kMacA)
          .Arp(kArpRequest, kMacA, kHost1, MacAddr{}, kHost2).Build(),
  };
  for (Bytes& f : frames) {
    const Bytes before = f;
    EXPECT_EQ(rig.Out(f).edge, Edge::kPass);
    EXPECT_EQ(rig.In(f).edge, Edge::kPass);
    EXPECT_EQ(f, before);
  }
  // A protocol without ports from an internal source: nothing can translate it.
  Bytes gre = PacketBuilder().Eth(kMacB, kMacA).Ipv4(kHost1, kRemote1).Nvgre(6000).Build();
  EXPECT_EQ(Describe(rig.Out(gre)), "drop/protocol");
}

// A TCP, UDP or ICMP header cut short behind a sound IPv4 header: the NAT's
// own (to a pool address, from a translated source) is dropped as malformed
// and counted, never passed on untranslated (an internal source address
// would leave as it is); anyone else's passes untouched.
TEST(NatWorkerTest, TruncatedL4IsDroppedNotPassed) {
  NatRig rig(SceneSpec(), 0, 1, {});
  auto cut = [](IpAddr src, IpAddr dst, uint8_t proto, size_t l4_bytes) {
    return PacketBuilder().Eth(kMacB, kMacA).Ipv4(src, dst, proto).Payload(l4_bytes).Build();
  };
  Bytes out_tcp = cut(kHost1, kRemote1, kIpProtoTcp, 10);
  Bytes out_icmp = cut(kHost1, kRemote1, kIpProtoIcmp, 3);
  Bytes in_udp = cut(kRemote1, kPool1, kIpProtoUdp, 4);
  Bytes in_tcp = cut(kRemote1, kPool1, kIpProtoTcp, 19);
  for (Bytes* f : {&out_tcp, &out_icmp}) EXPECT_EQ(Describe(rig.Out(*f)), "drop/malformed");
  for (Bytes* f : {&in_udp, &in_tcp}) EXPECT_EQ(Describe(rig.In(*f)), "drop/malformed");
  EXPECT_EQ(rig.nat.counters().drop[static_cast<size_t>(Drop::kMalformed)], 4u);
  EXPECT_EQ(rig.nat.table().sessions(), 0u);
  Bytes theirs = cut(Ip("10.9.9.9"), kRemote1, kIpProtoTcp, 10);
  const Bytes before = theirs;
  EXPECT_EQ(rig.Out(theirs).edge, Edge::kPass);
  EXPECT_EQ(rig.In(theirs).edge, Edge::kPass);
  EXPECT_EQ(theirs, before);
}

// ---- timeouts, with a made-up clock ----

struct TimeoutCase {
  const char* name;
  std::vector<uint8_t> flags;  // TCP segments after the SYN: odd index outbound
  uint32_t seconds;            // the idle timeout they leave the session with
};

class NatTcpTimeoutTest : public ::testing::TestWithParam<TimeoutCase> {};

// The session lives exactly `seconds` after its last packet: an inbound
// packet 1 ms before is translated, one at the timeout is not.
TEST_P(NatTcpTimeoutTest, IdleTimeout) {
  const TimeoutCase& c = GetParam();
  for (const bool expire : {false, true}) {
    NatRig rig(SceneSpec(), 0, 1, {});
    uint64_t now = 5000;
    Bytes syn = Tcp(kHost1, 40000, kRemote1, 80, kTcpSyn);
    ASSERT_EQ(rig.Out(syn, now).edge, Edge::kTranslated);
    const Endpoint ext = SourceOf(syn);
    for (size_t i = 0; i < c.flags.size(); ++i) {
      now += 10;
      if (i % 2 == 0) {
        Bytes f = Tcp(kRemote1, 80, AddrOf(ext), HostPort(ext.port), c.flags[i]);
        ASSERT_EQ(rig.In(f, now).edge, Edge::kTranslated) << i;
      } else {
        Bytes f = Tcp(kHost1, 40000, kRemote1, 80, c.flags[i]);
        ASSERT_EQ(rig.Out(f, now).edge, Edge::kTranslated) << i;
      }
    }
    const uint64_t at = now + uint64_t{c.seconds} * 1000 - (expire ? 0 : 1);
    Bytes probe = Tcp(kRemote1, 80, AddrOf(ext), HostPort(ext.port), kTcpAck);
    EXPECT_EQ(Describe(rig.In(probe, at)), expire ? "drop/no-session" : "translated")
        << c.name << (expire ? " at" : " before") << " the timeout";
  }
}

INSTANTIATE_TEST_SUITE_P(
    States, NatTcpTimeoutTest,
    ::testing::Values(
        TimeoutCase{"SynSentIsTransitory", {}, 240},
        TimeoutCase{"EstablishedAfterSynAck", {kTcpSyn | kTcpAck, kTcpAck}, 7440},
        TimeoutCase{"HalfClosedStaysEstablished", {kTcpSyn | kTcpAck, kTcpAck, kTcpFin | kTcpAck},
                    7440},
        TimeoutCase{"BothFinsAreTransitory",
                    {kTcpSyn | kTcpAck, kTcpAck, kTcpFin | kTcpAck, kTcpFin | kTcpAck}, 240},
        TimeoutCase{"RstIsTransitory", {kTcpSyn | kTcpAck, kTcpAck, kTcpRst}, 240}),
    [](const ::testing::TestParamInfo<TimeoutCase>& p) { return std::string(p.param.name); });

TEST(NatWorkerTest, UdpAndIcmpTimeoutsAndSettable) {
  for (const bool custom : {false, true}) {
    NatSpec spec = SceneSpec();
    if (custom) spec.timeouts = Timeouts{100, 10, 30, 5};
    const uint64_t udp_ms = custom ? 30'000 : 300'000;
    const uint64_t icmp_ms = custom ? 5'000 : 60'000;
    NatRig rig(spec, 0, 1, {});
    Bytes u = Udp(kHost1, 1000, kRemote1, 53);
    ASSERT_EQ(rig.Out(u, 0).edge, Edge::kTranslated);
    const Endpoint ue = SourceOf(u);
    Bytes e = Echo(kHost1, kRemote1, 77);
    ASSERT_EQ(rig.Out(e, 0).edge, Edge::kTranslated);
    const Endpoint ee = SourceOf(e);
    auto udp_back = [&](uint64_t at) {
      Bytes f = Udp(kRemote1, 53, AddrOf(ue), HostPort(ue.port));
      return Describe(rig.In(f, at));
    };
    auto echo_back = [&](uint64_t at) {
      Bytes f = Echo(kRemote1, AddrOf(ee), HostPort(ee.port), kIcmpEchoReply);
      return Describe(rig.In(f, at));
    };
    EXPECT_EQ(echo_back(icmp_ms - 1), "translated");  // refreshes: expires at 2 * icmp - 1
    EXPECT_EQ(echo_back(2 * icmp_ms - 1), "drop/no-session");
    EXPECT_EQ(udp_back(udp_ms - 1), "translated");
    EXPECT_EQ(udp_back(2 * udp_ms - 1), "drop/no-session");
  }
}

// ---- ports: to exhaustion and back ----

TEST(NatWorkerTest, PortsToExhaustionAndBack) {
  NatSpec spec = SceneSpec();
  spec.addresses = {kPool2};
  spec.ports = PortRange{2000, 2009};
  spec.limits.sessions_per_host = 100;
  NatRig rig(spec, 0, 1, {});
  std::set<uint16_t> ports;
  for (uint16_t i = 0; i < 10; ++i) {
    Bytes f = Udp(kHost1, static_cast<uint16_t>(30000 + i), kRemote1, 53);
    ASSERT_EQ(rig.Out(f, 1000).edge, Edge::kTranslated) << i;
    ports.insert(HostPort(SourceOf(f).port));
  }
  EXPECT_EQ(ports, (std::set<uint16_t>{2000, 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009}));
  EXPECT_EQ(rig.nat.table().free_ports(0, Proto::kUdp), 0u);
  // The mapping of an existing internal endpoint still works (new remote).
  Bytes again = Udp(kHost1, 30000, kRemote2, 53);
  EXPECT_EQ(rig.Out(again, 1000).edge, Edge::kTranslated);
  // A new internal endpoint: no port.
  Bytes more = Udp(kHost1, 31000, kRemote1, 53);
  EXPECT_EQ(Describe(rig.Out(more, 1000)), "drop/ports-exhausted");
  EXPECT_EQ(rig.nat.counters().Dropped(Drop::kPortsExhausted), 1u);
  // TCP has its own ports.
  Bytes tcp = Tcp(kHost1, 31000, kRemote1, 80, kTcpSyn);
  EXPECT_EQ(rig.Out(tcp, 1000).edge, Edge::kTranslated);
  // After the UDP timeout, Tick() frees them all (amortised: 32 a call).
  const uint64_t later = 1000 + 300'000;
  for (int i = 0; i < 10; ++i) rig.nat.Tick(later);
  EXPECT_EQ(rig.nat.table().free_ports(0, Proto::kUdp), 10u);
  EXPECT_EQ(rig.nat.table().sessions(), 0u);  // the TCP one too (transitory: 240 s)
  Bytes back = Udp(kHost1, 31000, kRemote1, 53);
  EXPECT_EQ(rig.Out(back, later).edge, Edge::kTranslated);
}

// A freed port goes to the end of the queue: it is reused last.
TEST(NatWorkerTest, FreedPortIsReusedLast) {
  NatSpec spec = SceneSpec();
  spec.addresses = {kPool2};
  spec.ports = PortRange{3000, 3003};
  NatRig rig(spec, 0, 1, {});
  Bytes f = Udp(kHost1, 100, kRemote1, 53);
  ASSERT_EQ(rig.Out(f, 0).edge, Edge::kTranslated);
  const uint16_t first = HostPort(SourceOf(f).port);
  rig.nat.Tick(300'000);
  std::vector<uint16_t> next;
  for (uint16_t i = 0; i < 4; ++i) {
    Bytes g = Udp(kHost1, static_cast<uint16_t>(200 + i), kRemote1, 53);
    ASSERT_EQ(rig.Out(g, 300'000).edge, Edge::kTranslated);
    next.push_back(HostPort(SourceOf(g).port));
  }
  EXPECT_EQ(next.back(), first);
}

// With the preferred pool address exhausted, the other one is used.
TEST(NatWorkerTest, SecondPoolAddressWhenTheFirstIsFull) {
  NatSpec spec = SceneSpec();
  spec.ports = PortRange{4000, 4001};
  NatRig rig(spec, 0, 1, {});
  std::set<uint32_t> addrs;
  for (uint16_t i = 0; i < 4; ++i) {
    Bytes f = Udp(kHost1, static_cast<uint16_t>(100 + i), kRemote1, 53);
    ASSERT_EQ(rig.Out(f).edge, Edge::kTranslated) << i;
    addrs.insert(SourceOf(f).addr);
  }
  EXPECT_EQ(addrs.size(), 2u);
  Bytes f = Udp(kHost1, 200, kRemote1, 53);
  EXPECT_EQ(Describe(rig.Out(f)), "drop/ports-exhausted");
}

// ---- limits ----

TEST(NatWorkerTest, PerHostHostsAndSessionLimits) {
  NatSpec spec = SceneSpec();
  spec.limits = NatLimits{/*sessions=*/8, /*sessions_per_host=*/3, /*hosts=*/3};
  NatRig rig(spec, 0, 1, {});
  auto open = [&](IpAddr host, uint16_t port) {
    Bytes f = Udp(host, port, kRemote1, 53);
    return Describe(rig.Out(f));
  };
  for (uint16_t p = 0; p < 3; ++p) EXPECT_EQ(open(kHost1, 100 + p), "translated");
  EXPECT_EQ(open(kHost1, 200), "drop/host-limit") << "one VM cannot take more than its share";
  EXPECT_EQ(open(kHost2, 100), "translated") << "another VM is not affected";
  EXPECT_EQ(open(Ip("10.0.1.103"), 100), "translated");
  EXPECT_EQ(open(Ip("10.0.1.104"), 100), "drop/hosts-full");
  EXPECT_EQ(open(kHost2, 101), "translated");
  EXPECT_EQ(open(kHost2, 102), "translated");
  EXPECT_EQ(open(Ip("10.0.1.103"), 101), "translated");  // 8 sessions now
  EXPECT_EQ(open(Ip("10.0.1.103"), 102), "drop/sessions-full");
  const NatCounters& c = rig.nat.counters();
  EXPECT_EQ(c.Dropped(Drop::kHostLimit), 1u);
  EXPECT_EQ(c.Dropped(Drop::kHostsFull), 1u);
  EXPECT_EQ(c.Dropped(Drop::kSessionsFull), 1u);
  EXPECT_EQ(rig.nat.table().SessionsOf(Raw(kHost1)), 3u);
  // Expired sessions make room again (Create reclaims when full).
  EXPECT_EQ(Describe([&] {
              Bytes f = Udp(Ip("10.0.1.104"), 1, kRemote1, 53);
              return rig.Out(f, 1000 + 300'000);
            }()),
            "translated");
}

// ---- worker shares and steering ----

TEST(NatWorkerTest, WorkerSharesAndSteering) {
  constexpr uint32_t kWorkers = 3;
  NatSpec spec = SceneSpec(Filtering::kEndpointIndependent);
  std::vector<std::unique_ptr<NatRig>> w;
  for (uint32_t i = 0; i < kWorkers; ++i)
    w.push_back(std::make_unique<NatRig>(spec, i, kWorkers, std::vector<IpAddr>{}));
  for (uint32_t h = 1; h < 60; ++h) {
    const IpAddr host = IpAddr::V4((10u << 24) | (1u << 8) | h);
    Bytes f = Udp(host, 5000, kRemote1, 53);
    const uint32_t owner = OwnerWorker(f.data(), static_cast<uint32_t>(f.size()),
                                       Direction::kFromInside, kWorkers);
    ASSERT_EQ(w[owner]->Out(f).edge, Edge::kTranslated);
    const Endpoint ext = SourceOf(f);
    EXPECT_EQ(HostPort(ext.port) % kWorkers, owner) << "ports of the worker's share";
    // The answer is steered to the owner by its destination port...
    Bytes r = Udp(kRemote1, 53, AddrOf(ext), HostPort(ext.port));
    EXPECT_EQ(OwnerWorker(r.data(), static_cast<uint32_t>(r.size()), Direction::kToNatAddress,
                          kWorkers),
              owner);
    // ... and so is an ICMP error about the outbound packet.
    Bytes err = IcmpError(kRouter, AddrOf(ext), 3, 3, Embedded(f, 28));
    EXPECT_EQ(OwnerWorker(err.data(), static_cast<uint32_t>(err.size()),
                          Direction::kToNatAddress, kWorkers),
              owner);
    ASSERT_EQ(w[owner]->In(r).edge, Edge::kTranslated);
  }
  // Hairpinning across workers: host A's mapping is on one worker, host B's
  // packet to it is translated on B's worker, then steered to A's.
  const IpAddr a = Ip("10.0.1.1"), b = Ip("10.0.1.2");
  ASSERT_NE(HostWorker(Raw(a), kWorkers), HostWorker(Raw(b), kWorkers));
  Bytes fa = Udp(a, 7000, kRemote2, 9);
  ASSERT_EQ(w[HostWorker(Raw(a), kWorkers)]->Out(fa).edge, Edge::kTranslated);
  const Endpoint ea = SourceOf(fa);
  Bytes fb = Udp(b, 8000, AddrOf(ea), HostPort(ea.port));
  ASSERT_EQ(w[HostWorker(Raw(b), kWorkers)]->Out(fb).edge, Edge::kHairpin);
  const uint32_t to = OwnerWorker(fb.data(), static_cast<uint32_t>(fb.size()),
                                  Direction::kToNatAddress, kWorkers);
  EXPECT_EQ(to, HostWorker(Raw(a), kWorkers));
  ASSERT_EQ(w[to]->In(fb).edge, Edge::kTranslated);
  PacketView v;
  ViewPacket(fb.data(), static_cast<uint32_t>(fb.size()), &v);
  EXPECT_EQ(v.dst, Ep(a, 7000));
}

// ---- expiry is amortised ----

TEST(NatWorkerTest, TickFreesABoundedNumber) {
  NatRig rig(SceneSpec(), 0, 1, {});
  for (uint16_t i = 0; i < 200; ++i) {
    Bytes f = Udp(Ip("10.0.1.50"), static_cast<uint16_t>(10000 + i), kRemote1, 53);
    ASSERT_EQ(rig.Out(f, 0).edge, Edge::kTranslated);
  }
  ASSERT_EQ(rig.nat.table().sessions(), 200u);
  rig.nat.Tick(300'000);
  EXPECT_LE(200u - rig.nat.table().sessions(), NatWorker::kExpireBudget);
  for (int i = 0; i < 1000 && rig.nat.table().sessions() > 0; ++i) rig.nat.Tick(300'000);
  EXPECT_EQ(rig.nat.table().sessions(), 0u);
  EXPECT_EQ(rig.nat.counters().sessions_expired, 200u);
  EXPECT_EQ(rig.nat.table().hosts(), 0u);
  EXPECT_EQ(rig.nat.table().mappings(), 0u);
}

// ---- no allocation per packet ----

TEST(NatWorkerTest, NoAllocationPerPacket) {
  NatSpec spec = SceneSpec(Filtering::kEndpointIndependent);
  spec.limits = NatLimits{20000, 20000, 256};
  NatRig rig(spec, 0, 1, {});
  // Frames prepared beforehand (their vectors are the test's allocations):
  // outbound ones, and the answers to their translations.
  std::vector<Bytes> out_pristine, in_pristine;
  for (uint16_t i = 0; i < 64; ++i) {
    out_pristine.push_back(Udp(kHost1, static_cast<uint16_t>(20000 + i), kRemote1, 53));
    out_pristine.push_back(Tcp(kHost2, static_cast<uint16_t>(20000 + i), kRemote1, 80, kTcpSyn));
    out_pristine.push_back(Echo(kHost1, kRemote2, i));
    out_pristine.push_back(Udp(kStaticIn, i, kRemote1, 53));
  }
  for (const Bytes& o : out_pristine) {
    Bytes f = o;
    ASSERT_EQ(rig.Out(f).edge, Edge::kTranslated);
    PacketView v;
    ViewPacket(f.data(), static_cast<uint32_t>(f.size()), &v);
    if (v.kind == Kind::kIcmpQuery) {
      in_pristine.push_back(Echo(AddrOf(v.dst), AddrOf(v.src), HostPort(v.src.port),
                                 kIcmpEchoReply));
    } else if (v.kind == Kind::kTcp) {
      in_pristine.push_back(Tcp(AddrOf(v.dst), HostPort(v.dst.port), AddrOf(v.src),
                                HostPort(v.src.port), kTcpSyn | kTcpAck));
    } else {
      in_pristine.push_back(Udp(AddrOf(v.dst), HostPort(v.dst.port), AddrOf(v.src),
                                HostPort(v.src.port)));
    }
  }
  std::vector<Bytes> out = out_pristine, in = in_pristine;
  std::vector<Frame> of(out.size()), inf(in.size());
  std::vector<Verdict> ov(out.size()), iv(in.size());
  uint64_t translated = 0;
  const uint64_t frames_per_round = out.size() + in.size();
  {
    AllocCounter count;
    for (int round = 0; round < 2500; ++round) {
      for (size_t i = 0; i < out.size(); ++i) {
        std::copy(out_pristine[i].begin(), out_pristine[i].end(), out[i].begin());
        std::copy(in_pristine[i].begin(), in_pristine[i].end(), in[i].begin());
        of[i] = Frame{out[i].data(), static_cast<uint32_t>(out[i].size())};
        inf[i] = Frame{in[i].data(), static_cast<uint32_t>(in[i].size())};
      }
      for (size_t b = 0; b < of.size(); b += 32) {
        rig.nat.Outbound(*rig.rules, &of[b], 32, 1000 + round, &ov[b]);
        rig.nat.Inbound(*rig.rules, &inf[b], 32, 1000 + round, &iv[b]);
        rig.nat.Tick(1000 + round);
        for (size_t i = b; i < b + 32; ++i)
          translated += (ov[i].edge == Edge::kTranslated) + (iv[i].edge == Edge::kTranslated);
      }
    }
    EXPECT_EQ(count.count(), 0u) << count.bytes() << " bytes allocated";
  }
  EXPECT_EQ(translated, 2500u * frames_per_round);
  EXPECT_GT(rig.nat.counters().in_napt, 0u);
  EXPECT_GT(rig.nat.counters().in_static, 0u);
}

// Garbage and mutated frames through every entry point: nothing crashes or
// reads out of bounds (ASan in CI), a dropped or passed frame is untouched,
// and what is translated still has right checksums where it had them.
TEST(NatWorkerTest, GarbageNeverCrashes) {
  NatRig rig(SceneSpec(Filtering::kEndpointIndependent));
  std::mt19937 rng(5);
  std::vector<Bytes> seeds = {
      Udp(kHost1, 1000, kRemote1, 53), Tcp(kHost1, 1001, kRemote1, 80, kTcpSyn),
      Echo(kHost1, kRemote1, 3), Udp(kRemote1, 53, kPool1, 1024), Udp(kStaticIn, 5, kRemote1, 6),
      IcmpError(kRouter, kPool1, 3, 3, Embedded(Udp(kPool1, 1024, kRemote1, 53), 28)),
      IcmpError(kHost1, kRemote1, 11, 0, Embedded(Tcp(kRemote1, 80, kHost1, 1001, 0x12), 48)),
  };
  uint64_t translated = 0, dropped = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes f = seeds[rng() % seeds.size()];
    switch (rng() % 3) {
      case 0:  // flip a few bytes
        for (int k = 0; k < 4; ++k) f[rng() % f.size()] = static_cast<uint8_t>(rng());
        break;
      case 1:  // cut it
        f.resize(rng() % f.size());
        break;
      default:  // random bytes behind a plausible Ethernet/IPv4 start
        for (size_t k = 14; k < f.size(); ++k) f[k] = static_cast<uint8_t>(rng());
        f[14] = 0x45;
        break;
    }
    const Bytes before = f;
    const Verdict v = i % 2 ? rig.Out(f, 1000 + i) : rig.In(f, 1000 + i);
    if (v.edge == Edge::kPass || v.edge == Edge::kDrop) {
      ASSERT_EQ(f, before) << "case " << i << ": " << Describe(v);
      dropped += v.edge == Edge::kDrop;
    } else {
      ++translated;
    }
  }
  EXPECT_GT(translated, 100u);
  EXPECT_GT(dropped, 100u);
  uint64_t counted = 0;
  for (const uint64_t d : rig.nat.counters().drop) counted += d;
  EXPECT_EQ(counted, dropped) << "every drop is counted by reason";
}

}  // namespace
}  // namespace hnv::nat::test
