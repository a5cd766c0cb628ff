// The load balancer: Maglev spread, connection tracking across pool
// changes, the stateless answers, empty pools (drop, RST), ICMP errors,
// timeouts, and no allocation per packet.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "dataplane/packet/checksum.h"
#include "nat/lb.h"
#include "tests/lib/alloc_counter.h"
#include "tests/unit/nat/nat_test_util.h"

namespace hnv::nat::test {
namespace {

using hnv::test::ChecksumErrors;
using hnv::test::FrameDiff;

const IpAddr kVip = Ip("198.51.100.50");
const IpAddr kDipA = Ip("10.0.1.11"), kDipB = Ip("10.0.2.12"), kDipC = Ip("10.0.1.13"),
             kDipD = Ip("10.0.1.14");

LoadBalancerSpec Web(std::vector<IpAddr> dips, EmptyPool empty = EmptyPool::kDrop) {
  LoadBalancerSpec lb;
  lb.name = "web";
  lb.vip = kVip;
  lb.protocol = kIpProtoTcp;
  lb.port = 80;
  lb.empty_pool = empty;
  for (const IpAddr& d : dips) lb.backends.push_back(Backend{d, 8080, 1});
  return lb;
}

Bytes ToVip(IpAddr client, uint16_t cport, uint8_t flags = kTcpSyn, IpAddr dst = kVip,
            uint16_t dport = 80) {
  return PacketBuilder().Eth(kMacB, kMacA).Ipv4(client, dst).Tcp(cport, dport, flags).Payload(6)
      .Build();
}

struct LbRig {
  explicit LbRig(std::vector<LoadBalancerSpec> lbs, uint32_t conns = 100000) : specs(lbs) {
    std::string error;
    rules = LbRules::Build(specs, {}, nullptr, &error);
    EXPECT_TRUE(rules) << error;
    EXPECT_TRUE(lb.Init(conns, 7, &error)) << error;
  }
  void Rebuild(std::vector<LoadBalancerSpec> lbs, std::vector<std::vector<bool>> healthy = {}) {
    std::string error;
    specs = lbs;
    auto next = LbRules::Build(specs, healthy, rules.get(), &error);
    ASSERT_TRUE(next) << error;
    rules = std::move(next);
  }
  Verdict In(Bytes& f, uint64_t now = 1000) {
    Frame fr{f.data(), static_cast<uint32_t>(f.size())};
    Verdict v;
    lb.Inbound(*rules, &fr, 1, now, &v);
    f.resize(fr.len);
    return v;
  }
  Verdict Out(Bytes& f) {
    Frame fr{f.data(), static_cast<uint32_t>(f.size())};
    Verdict v;
    lb.Outbound(*rules, &fr, 1, &v);
    return v;
  }
  // The backend a client's SYN is sent to ("" when not translated).
  IpAddr Pick(IpAddr client, uint16_t port, uint8_t flags = kTcpSyn, uint64_t now = 1000) {
    Bytes f = ToVip(client, port, flags);
    if (In(f, now).edge != Edge::kTranslated) return IpAddr{};
    PacketView v;
    ViewPacket(f.data(), static_cast<uint32_t>(f.size()), &v);
    EXPECT_EQ(HostPort(v.dst.port), 8080);
    EXPECT_EQ(v.src, Ep(client, port)) << "the client's address is preserved";
    return IpAddr::V4Raw(reinterpret_cast<const uint8_t*>(&v.dst.addr));
  }
  std::vector<LoadBalancerSpec> specs;
  std::unique_ptr<LbRules> rules;
  LbWorker lb;
};

IpAddr Client(uint32_t i) { return IpAddr::V4(0xcb007100u + (i % 200)); }  // 203.0.113.x

TEST(LbTest, TranslatesExactlyBothWays) {
  LbRig rig({Web({kDipA})});
  Bytes f = ToVip(kRemote1, 50000);
  ASSERT_EQ(rig.In(f).edge, Edge::kTranslated);
  Bytes want = ToVip(kRemote1, 50000, kTcpSyn, kDipA, 8080);
  EXPECT_EQ(f, want) << FrameDiff(want, f);
  // The answer, from the backend's port, leaves from the VIP's.
  Bytes back = PacketBuilder().Eth(kMacA, kMacB).Ipv4(kDipA, kRemote1).Tcp(8080, 50000, 0x12)
                   .Payload(6).Build();
  ASSERT_EQ(rig.Out(back).edge, Edge::kTranslated);
  Bytes want_back = PacketBuilder().Eth(kMacA, kMacB).Ipv4(kVip, kRemote1).Tcp(80, 50000, 0x12)
                        .Payload(6).Build();
  EXPECT_EQ(back, want_back) << FrameDiff(want_back, back);
  // Not the VIP's port, not the VIP, not from a backend's port: untouched.
  Bytes other = ToVip(kRemote1, 50000, kTcpSyn, kVip, 443);
  EXPECT_EQ(rig.In(other).edge, Edge::kPass);
  Bytes other2 = ToVip(kRemote1, 50000, kTcpSyn, kPool1, 80);
  EXPECT_EQ(rig.In(other2).edge, Edge::kPass);
  Bytes other3 = PacketBuilder().Eth(kMacA, kMacB).Ipv4(kDipA, kRemote1).Tcp(22, 50000, 0x12)
                     .Build();
  EXPECT_EQ(rig.Out(other3).edge, Edge::kPass);
  EXPECT_EQ(rig.lb.counters().in_translated, 1u);
  EXPECT_EQ(rig.lb.counters().out_translated, 1u);
}

TEST(LbTest, NewConnectionsSpreadByTheTable) {
  LbRig rig({Web({kDipA, kDipB, kDipC})});
  const std::vector<uint32_t> shares = rig.rules->Shares(0);
  std::map<IpAddr, int> got;
  constexpr int kConns = 30000;
  for (int i = 0; i < kConns; ++i)
    ++got[rig.Pick(Client(static_cast<uint32_t>(i)), static_cast<uint16_t>(1024 + i))];
  ASSERT_EQ(got.size(), 3u);
  const IpAddr dips[] = {kDipA, kDipB, kDipC};
  for (int d = 0; d < 3; ++d) {
    const double want = static_cast<double>(shares[static_cast<size_t>(d)]) / kDefaultMaglevSize;
    EXPECT_NEAR(got[dips[d]] / static_cast<double>(kConns), want, 0.02) << dips[d].ToString();
  }
  EXPECT_EQ(rig.lb.connections(), static_cast<uint32_t>(kConns));
}

// The pool changes (one backend removed, one added, one marked unhealthy):
// every existing connection keeps its backend; new ones follow the new table.
TEST(LbTest, ExistingConnectionsKeepTheirBackend) {
  LbRig rig({Web({kDipA, kDipB, kDipC})});
  std::vector<IpAddr> first;
  constexpr int kConns = 3000;
  for (int i = 0; i < kConns; ++i)
    first.push_back(rig.Pick(Client(static_cast<uint32_t>(i)), static_cast<uint16_t>(2000 + i)));
  rig.Rebuild({Web({kDipA, kDipB, kDipD})});  // C removed, D added
  for (int i = 0; i < kConns; ++i)
    ASSERT_EQ(rig.Pick(Client(static_cast<uint32_t>(i)), static_cast<uint16_t>(2000 + i),
                       kTcpAck),
              first[static_cast<size_t>(i)])
        << "connection " << i;
  rig.Rebuild({Web({kDipA, kDipB, kDipD})}, {{true, false, true}});  // B unhealthy
  std::map<IpAddr, int> fresh;
  for (int i = 0; i < kConns; ++i) {
    ASSERT_EQ(rig.Pick(Client(static_cast<uint32_t>(i)), static_cast<uint16_t>(2000 + i),
                       kTcpAck),
              first[static_cast<size_t>(i)]);
    ++fresh[rig.Pick(Client(static_cast<uint32_t>(i)), static_cast<uint16_t>(40000 + i))];
  }
  EXPECT_EQ(fresh.count(kDipB), 0u) << "an unhealthy backend takes no new connection";
  EXPECT_EQ(fresh.count(kDipC), 0u) << "a removed backend takes no new connection";
  EXPECT_GT(fresh[kDipD], kConns / 4);
  EXPECT_GT(fresh[kDipA], kConns / 4);
}

// A backend taken out of the configuration keeps its connections both ways:
// their answers still leave from the VIP (it stays in the reverse map while
// the VIP exists, across later changes too), never from its own address.
// Once the VIP goes, nothing is translated; an endpoint that moved to
// another VIP answers from that one.
TEST(LbTest, RemovedBackendStillAnswersFromTheVip) {
  LbRig rig({Web({kDipA, kDipC})});
  uint16_t port = 0;
  for (uint16_t p = 2000; p < 2100 && port == 0; ++p)
    if (rig.Pick(kRemote1, p) == kDipC) port = p;
  ASSERT_NE(port, 0) << "no connection landed on C";
  auto answer = [&](IpAddr from) {
    Bytes back = PacketBuilder().Eth(kMacA, kMacB).Ipv4(from, kRemote1).Tcp(8080, port, kTcpAck)
                     .Payload(6).Build();
    const Edge e = rig.Out(back).edge;
    PacketView v;
    ViewPacket(back.data(), static_cast<uint32_t>(back.size()), &v);
    return e == Edge::kTranslated && v.src == Ep(kVip, 80);
  };
  rig.Rebuild({Web({kDipA, kDipB})});  // C removed, B added
  EXPECT_EQ(rig.Pick(kRemote1, port, kTcpAck), kDipC) << "the connection keeps its backend";
  EXPECT_TRUE(answer(kDipC)) << "the removed backend's answer leaves from the VIP";
  rig.Rebuild({Web({kDipA, kDipB})}, {{true, false}});  // another change: C stays retired
  EXPECT_TRUE(answer(kDipC));
  for (int i = 0; i < 2000; ++i)
    EXPECT_NE(rig.Pick(Client(static_cast<uint32_t>(i)), static_cast<uint16_t>(30000 + i)), kDipC);
  LoadBalancerSpec api = Web({kDipC});  // C now serves another VIP
  api.name = "api";
  api.vip = Ip("198.51.100.51");
  rig.Rebuild({Web({kDipA, kDipB}), api});
  Bytes back = PacketBuilder().Eth(kMacA, kMacB).Ipv4(kDipC, kRemote1).Tcp(8080, port, kTcpAck)
                   .Payload(6).Build();
  ASSERT_EQ(rig.Out(back).edge, Edge::kTranslated);
  PacketView v;
  ViewPacket(back.data(), static_cast<uint32_t>(back.size()), &v);
  EXPECT_EQ(v.src, Ep(Ip("198.51.100.51"), 80)) << "a backend that serves a VIP answers from it";
  rig.Rebuild({api});  // the VIP gone: its retired backends with it
  EXPECT_FALSE(answer(kDipA));
}

TEST(LbTest, UnchangedVipsKeepTheirTable) {
  LoadBalancerSpec dns = Web({kDipA, kDipB});
  dns.name = "dns";
  dns.protocol = kIpProtoUdp;
  dns.port = 53;
  LbRig rig({Web({kDipA, kDipB, kDipC}), dns});
  rig.Rebuild({Web({kDipA, kDipB, kDipC}), dns}, {{true, false, true}});
  EXPECT_EQ(rig.rules->reused(), 1u);  // dns
}

TEST(LbTest, EmptyPoolDropsOrResets) {
  LbRig drop({Web({kDipA})});
  drop.Rebuild({Web({kDipA})}, {{false}});
  Bytes f = ToVip(kRemote1, 50000);
  EXPECT_EQ(Describe(drop.In(f)), "drop/no-backend");
  EXPECT_EQ(drop.lb.counters().Dropped(Drop::kNoBackend), 1u);

  LbRig reset({Web({}, EmptyPool::kReset)});
  // A SYN (no ACK): RST|ACK, seq 0, ack = its seq + 1 (+ payload).
  Bytes syn = PacketBuilder().Eth(kMacB, kMacA).Vlan(7).Ipv4(kRemote1, kVip)
                  .Tcp(50000, 80, kTcpSyn, 1460).Payload(10).Build();
  Store32(syn.data() + 18 + 20 + 4, Be32::FromHost(1000).raw());
  ASSERT_EQ(Describe(reset.In(syn)), "reply");
  EXPECT_EQ(syn.size(), 18u + 40);
  EXPECT_EQ(ChecksumErrors(syn), "");
  PacketView v;
  ASSERT_EQ(ViewPacket(syn.data(), static_cast<uint32_t>(syn.size()), &v), Drop::kNone);
  EXPECT_EQ(v.src, Ep(kVip, 80));
  EXPECT_EQ(v.dst, Ep(kRemote1, 50000));
  EXPECT_EQ(v.tcp_flags, kTcpRst | kTcpAck);
  EXPECT_EQ(Be32::FromRaw(Load32(v.l4 + 4)).ToHost(), 0u);
  EXPECT_EQ(Be32::FromRaw(Load32(v.l4 + 8)).ToHost(), 1000u + 1 + 10);
  EXPECT_TRUE(std::equal(syn.begin(), syn.begin() + 6, kMacA.b.begin())) << "back to the sender";
  EXPECT_EQ(syn[12], 0x81) << "the VLAN tag stays";
  // A segment with an ACK: RST with seq = that ACK.
  Bytes ack = ToVip(kRemote1, 50001, kTcpAck);
  Store32(ack.data() + 14 + 20 + 8, Be32::FromHost(777).raw());
  ASSERT_EQ(Describe(reset.In(ack)), "reply");
  ASSERT_EQ(ViewPacket(ack.data(), static_cast<uint32_t>(ack.size()), &v), Drop::kNone);
  EXPECT_EQ(v.tcp_flags, kTcpRst);
  EXPECT_EQ(Be32::FromRaw(Load32(v.l4 + 4)).ToHost(), 777u);
  EXPECT_EQ(ChecksumErrors(ack), "");
  // A RST is never answered.
  Bytes rst = ToVip(kRemote1, 50002, kTcpRst);
  EXPECT_EQ(Describe(reset.In(rst)), "drop/no-backend");
  EXPECT_EQ(reset.lb.counters().resets, 2u);
}

TEST(LbTest, IcmpErrorsBothWays) {
  LbRig rig({Web({kDipA})});
  ASSERT_EQ(rig.Pick(kRemote1, 50000), kDipA);
  // A router tells the VIP its answer to the client could not be delivered:
  // the backend gets it, about its own packet.
  auto answer = [](IpAddr src, uint16_t sport) {
    return PacketBuilder().Eth(kMacA, kMacB).Ipv4(src, kRemote1).Tcp(sport, 50000, 0x12)
        .Payload(20).Build();
  };
  Bytes err = IcmpError(kRouter, kVip, 3, 4, Embedded(answer(kVip, 80), 48));
  ASSERT_EQ(rig.In(err).edge, Edge::kTranslated);
  Bytes want = IcmpError(kRouter, kDipA, 3, 4, Embedded(answer(kDipA, 8080), 48));
  EXPECT_EQ(err, want) << FrameDiff(want, err);
  // The backend reports an error about the client's packet: it leaves from the VIP.
  auto request = [](IpAddr dst, uint16_t dport) {
    return PacketBuilder().Eth(kMacB, kMacA).Ipv4(kRemote1, dst).Tcp(50000, dport, kTcpAck)
        .Payload(20).Build();
  };
  Bytes out = IcmpError(kDipA, kRemote1, 3, 3, Embedded(request(kDipA, 8080), 28));
  ASSERT_EQ(rig.Out(out).edge, Edge::kTranslated);
  Bytes want_out = IcmpError(kVip, kRemote1, 3, 3, Embedded(request(kVip, 80), 28));
  EXPECT_EQ(out, want_out) << FrameDiff(want_out, out);
  EXPECT_EQ(rig.lb.counters().icmp_errors, 2u);
}

TEST(LbTest, ConnectionTimeouts) {
  LoadBalancerSpec lb = Web({kDipA});
  lb.timeouts = Timeouts{100, 10, 30, 5};
  LbRig rig({lb}, /*conns=*/64);  // Tick visits 32 records a call: two calls see them all
  Endpoint dip;
  const Endpoint client = Ep(kRemote1, 50000), vip = Ep(kVip, 80);
  ASSERT_EQ(rig.Pick(kRemote1, 50000, kTcpSyn, 0), kDipA);
  // SYN only: transitory (10 s).
  EXPECT_TRUE(rig.lb.Tracked(Proto::kTcp, client, vip, &dip));
  ASSERT_EQ(rig.Pick(kRemote1, 50000, kTcpAck, 9'999), kDipA);  // established now (100 s)
  for (int i = 0; i < 10; ++i) rig.lb.Tick(9'999 + 99'999);
  EXPECT_TRUE(rig.lb.Tracked(Proto::kTcp, client, vip, &dip));
  for (int i = 0; i < 10; ++i) rig.lb.Tick(9'999 + 100'000);
  EXPECT_FALSE(rig.lb.Tracked(Proto::kTcp, client, vip, &dip));
  EXPECT_EQ(rig.lb.counters().conns_expired, 1u);
  // A FIN from the client: transitory again.
  ASSERT_EQ(rig.Pick(kRemote1, 50001, kTcpSyn, 0), kDipA);
  ASSERT_EQ(rig.Pick(kRemote1, 50001, kTcpAck, 1), kDipA);
  ASSERT_EQ(rig.Pick(kRemote1, 50001, kTcpFin | kTcpAck, 2), kDipA);
  for (int i = 0; i < 10; ++i) rig.lb.Tick(2 + 10'000);
  EXPECT_FALSE(rig.lb.Tracked(Proto::kTcp, Ep(kRemote1, 50001), vip, &dip));
}

TEST(LbTest, FullTableStillForwardsByTheTable) {
  LbRig rig({Web({kDipA, kDipB})}, /*conns=*/10);
  for (uint16_t i = 0; i < 20; ++i) EXPECT_NE(rig.Pick(kRemote1, 1000 + i), IpAddr{});
  EXPECT_EQ(rig.lb.connections(), 10u);
  EXPECT_EQ(rig.lb.counters().untracked, 10u);
}

TEST(LbTest, GarbageNeverCrashes) {
  LbRig rig({Web({kDipA, kDipB}, EmptyPool::kReset)});
  std::mt19937 rng(9);
  const std::vector<Bytes> seeds = {
      ToVip(kRemote1, 1000), ToVip(kRemote1, 1001, kTcpAck),
      PacketBuilder().Eth(kMacA, kMacB).Ipv4(kDipA, kRemote1).Tcp(8080, 1000, 0x12).Build(),
      IcmpError(kRouter, kVip, 3, 4, Embedded(PacketBuilder().Eth(kMacA, kMacB).Ipv4(kVip, kRemote1)
                                                   .Tcp(80, 1000, 0x12).Build(), 28))};
  for (int i = 0; i < 20000; ++i) {
    Bytes f = seeds[rng() % seeds.size()];
    if (rng() % 2) {
      for (int k = 0; k < 4; ++k) f[rng() % f.size()] = static_cast<uint8_t>(rng());
    } else {
      f.resize(rng() % f.size());
    }
    const Bytes before = f;
    const Verdict v = i % 2 ? rig.Out(f) : rig.In(f, 1000 + i);
    if (v.edge == Edge::kPass || v.edge == Edge::kDrop) {
      ASSERT_EQ(f, before) << i;
    }
  }
  EXPECT_GT(rig.lb.counters().in_translated, 100u);
}

TEST(LbTest, NoAllocationPerPacket) {
  LbRig rig({Web({kDipA, kDipB, kDipC})});
  std::vector<Bytes> in_pristine, out_pristine;
  for (uint16_t i = 0; i < 64; ++i) {
    in_pristine.push_back(ToVip(Client(i), static_cast<uint16_t>(3000 + i), kTcpAck));
    out_pristine.push_back(PacketBuilder().Eth(kMacA, kMacB).Ipv4(kDipB, Client(i))
                               .Tcp(8080, static_cast<uint16_t>(3000 + i), kTcpAck).Build());
  }
  std::vector<Bytes> in = in_pristine, out = out_pristine;
  std::vector<Frame> inf(in.size()), of(out.size());
  std::vector<Verdict> v(in.size());
  uint64_t translated = 0;
  {
    hnv::test::AllocCounter count;
    for (int round = 0; round < 3000; ++round) {
      for (size_t i = 0; i < in.size(); ++i) {
        std::copy(in_pristine[i].begin(), in_pristine[i].end(), in[i].begin());
        std::copy(out_pristine[i].begin(), out_pristine[i].end(), out[i].begin());
        inf[i] = Frame{in[i].data(), static_cast<uint32_t>(in[i].size())};
        of[i] = Frame{out[i].data(), static_cast<uint32_t>(out[i].size())};
      }
      for (size_t b = 0; b < in.size(); b += 32) {
        rig.lb.Inbound(*rig.rules, &inf[b], 32, 1000 + round, &v[b]);
        for (size_t i = b; i < b + 32; ++i) translated += v[i].edge == Edge::kTranslated;
        rig.lb.Outbound(*rig.rules, &of[b], 32, &v[b]);
        for (size_t i = b; i < b + 32; ++i) translated += v[i].edge == Edge::kTranslated;
        rig.lb.Tick(1000 + round);
      }
    }
    EXPECT_EQ(count.count(), 0u) << count.bytes() << " bytes allocated";
  }
  EXPECT_EQ(translated, 3000u * 128);
}

}  // namespace
}  // namespace hnv::nat::test
