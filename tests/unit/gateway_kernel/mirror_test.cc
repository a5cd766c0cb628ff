#include "gateway/kernel/mirror.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>

#include "gateway/kernel/tap.h"
#include "tests/lib/packet_builder.h"
#include "tests/unit/gateway_kernel/kernel_fixture.h"

namespace hnv::gateway::test {
namespace {

using hnv::test::Ip;
using hnv::test::Mac;

template <typename T>
struct Event {
  bool add;
  T value;
};

// Records every callback; Has() looks for one.
struct Recorder {
  std::vector<Event<MirrorRoute>> routes;
  std::vector<Event<MirrorNeighbor>> neighbors;
  std::vector<Event<MirrorAddress>> addresses;
  MirrorCallbacks Callbacks() {
    return {[this](bool add, const MirrorRoute& r) {
              routes.push_back({add, r});
            },
            [this](bool add, const MirrorNeighbor& n) {
              neighbors.push_back({add, n});
            },
            [this](bool add, const MirrorAddress& a) {
              addresses.push_back({add, a});
            }};
  }
  const MirrorRoute* Route(bool add, const std::string& dst) const {
    for (auto it = routes.rbegin(); it != routes.rend(); ++it)
      if (it->add == add && it->value.destination.ToString() == dst) return &it->value;
    return nullptr;
  }
  const MirrorNeighbor* Neighbor(bool add, const std::string& ip) const {
    for (auto it = neighbors.rbegin(); it != neighbors.rend(); ++it)
      if (it->add == add && it->value.ip.ToString() == ip) return &it->value;
    return nullptr;
  }
  bool Address(bool add, const std::string& ip, uint8_t len) const {
    return std::any_of(addresses.begin(), addresses.end(), [&](const auto& e) {
      return e.add == add && e.value.addr.ToString() == ip && e.value.len == len;
    });
  }
};

IpPrefix Pfx(const char* s) { return IpPrefix::Parse(s).value_or(IpPrefix{}); }

class MirrorTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    ns_ = NewNs();
    ASSERT_NE(ns_, nullptr);
    std::string error;
    tap_ = Tap::Create(*ns_, TapName(20), Mac("02:00:5e:30:00:01"), 1500, &error);
    ASSERT_TRUE(tap_) << error;
    nl_ = NetlinkConfig::Create(*ns_, &error);
    ASSERT_TRUE(nl_) << error;
    ASSERT_TRUE(nl_->AddAddress(tap_->ifindex(), Ip("10.9.0.1"), 24, &error)) << error;
  }
  void TearDown() override {
    mirror_.reset();
    nl_.reset();
    tap_.reset();
    KernelTest::TearDown();
  }
  void StartMirror() {
    std::string error;
    mirror_ = NetlinkMirror::Create(*ns_, rec_.Callbacks(), &error);
    ASSERT_TRUE(mirror_) << error;
  }
  // Polls the mirror's fd and processes for up to `ms` until pred().
  bool Until(const std::function<bool()>& pred, int ms = 1000) {
    return WaitFor(pred, ms, [&] {
      pollfd p{mirror_->fd(), POLLIN, 0};
      poll(&p, 1, 20);
      std::string error;
      EXPECT_TRUE(mirror_->Process(&error)) << error;
    });
  }
  std::string IpCmd(const std::string& args) { return "ip -n " + ns_->name() + " " + args; }

  NetNamespace* ns_ = nullptr;
  std::unique_ptr<Tap> tap_;
  std::unique_ptr<NetlinkConfig> nl_;
  std::unique_ptr<NetlinkMirror> mirror_;
  Recorder rec_;
};

TEST_F(MirrorTest, InitialStateIsDeliveredAsAdds) {
  std::string error;
  ASSERT_TRUE(nl_->AddRoute({Pfx("10.20.0.0/16"), hnv::test::Ip("10.9.0.2"), 0, 50}, &error))
      << error;
  ASSERT_TRUE(nl_->AddRoute({Pfx("fd00:20::/48"), IpAddr{}, tap_->ifindex()}, &error)) << error;
  ASSERT_EQ(Sh(IpCmd("neigh add 10.9.0.5 lladdr 02:00:00:00:00:05 dev " + tap_->ifname() +
                     " nud permanent")),
            0);
  StartMirror();
  const MirrorRoute* r = rec_.Route(true, "10.20.0.0/16");
  ASSERT_NE(r, nullptr) << "routes at Create";
  EXPECT_EQ(r->gateway, hnv::test::Ip("10.9.0.2"));
  EXPECT_EQ(r->oif, tap_->ifindex());
  EXPECT_EQ(r->metric, 50u);
  EXPECT_EQ(r->protocol, kRouteProtocolHnv);
  EXPECT_STREQ(RouteProtocolName(r->protocol), "hnv");
  EXPECT_EQ(r->type, RTN_UNICAST);
  EXPECT_EQ(r->table, static_cast<uint32_t>(RT_TABLE_MAIN));
  const MirrorRoute* connected = rec_.Route(true, "10.9.0.0/24");
  ASSERT_NE(connected, nullptr);
  EXPECT_STREQ(RouteProtocolName(connected->protocol), "kernel");
  EXPECT_TRUE(connected->gateway.IsUnspecified());
  const MirrorRoute* r6 = rec_.Route(true, "fd00:20::/48");
  ASSERT_NE(r6, nullptr);
  EXPECT_EQ(r6->metric, 1024u);
  EXPECT_TRUE(rec_.Address(true, "10.9.0.1", 24));
  const MirrorNeighbor* n = rec_.Neighbor(true, "10.9.0.5");
  ASSERT_NE(n, nullptr);
  EXPECT_TRUE(n->usable);
  EXPECT_EQ(n->mac, Mac("02:00:00:00:00:05"));
  EXPECT_EQ(n->ifindex, tap_->ifindex());
  // Local-table routes (10.9.0.1 local, broadcast) are not mirrored.
  for (const auto& e : rec_.routes) EXPECT_EQ(e.value.table, static_cast<uint32_t>(RT_TABLE_MAIN));
  EXPECT_EQ(rec_.Route(true, "10.9.0.1/32"), nullptr);
  // Nothing happened since: processing reports nothing new.
  const size_t before = rec_.routes.size() + rec_.neighbors.size() + rec_.addresses.size();
  ASSERT_TRUE(mirror_->Process());
  EXPECT_EQ(rec_.routes.size() + rec_.neighbors.size() + rec_.addresses.size(), before);
}

TEST_F(MirrorTest, IpRouteAndNeighCommandsReachTheCallbacksWithinOneSecond) {
  StartMirror();
  const std::string dev = " dev " + tap_->ifname();
  ASSERT_EQ(Sh(IpCmd("route add 10.30.0.0/16 via 10.9.0.2 proto bgp metric 20")), 0);
  ASSERT_TRUE(Until([&] { return rec_.Route(true, "10.30.0.0/16") != nullptr; }));
  const MirrorRoute* r = rec_.Route(true, "10.30.0.0/16");
  EXPECT_EQ(r->protocol, 186);
  EXPECT_STREQ(RouteProtocolName(r->protocol), "bgp");
  EXPECT_EQ(r->metric, 20u);
  EXPECT_EQ(r->gateway, hnv::test::Ip("10.9.0.2"));

  // Replace: an add (upsert) with the new gateway.
  ASSERT_EQ(Sh(IpCmd("route replace 10.30.0.0/16 via 10.9.0.3 proto bgp metric 20")), 0);
  ASSERT_TRUE(Until([&] {
    const MirrorRoute* x = rec_.Route(true, "10.30.0.0/16");
    return x != nullptr && x->gateway == hnv::test::Ip("10.9.0.3");
  }));
  ASSERT_EQ(Sh(IpCmd("route add blackhole 10.66.0.0/16")), 0);
  ASSERT_TRUE(Until([&] { return rec_.Route(true, "10.66.0.0/16") != nullptr; }));
  EXPECT_EQ(rec_.Route(true, "10.66.0.0/16")->type, RTN_BLACKHOLE);
  ASSERT_EQ(Sh(IpCmd("route del 10.30.0.0/16")), 0);
  ASSERT_TRUE(Until([&] { return rec_.Route(false, "10.30.0.0/16") != nullptr; }));

  // Neighbours: permanent, then failed = removal, then back, then deleted.
  ASSERT_EQ(Sh(IpCmd("neigh add 10.9.0.7 lladdr 02:00:00:00:00:07" + dev + " nud permanent")), 0);
  ASSERT_TRUE(Until([&] { return rec_.Neighbor(true, "10.9.0.7") != nullptr; }));
  EXPECT_EQ(rec_.Neighbor(true, "10.9.0.7")->mac, Mac("02:00:00:00:00:07"));
  ASSERT_EQ(Sh(IpCmd("neigh change 10.9.0.7" + dev + " nud failed")), 0);
  ASSERT_TRUE(Until([&] { return rec_.Neighbor(false, "10.9.0.7") != nullptr; }));
  ASSERT_EQ(Sh(IpCmd("neigh replace 10.9.0.7 lladdr 02:00:00:00:00:77" + dev + " nud reachable")),
            0);
  ASSERT_TRUE(Until([&] {
    const MirrorNeighbor* n = rec_.Neighbor(true, "10.9.0.7");
    return n != nullptr && n->mac == Mac("02:00:00:00:00:77");
  }));
  const size_t removals = std::count_if(rec_.neighbors.begin(), rec_.neighbors.end(),
                                        [](const auto& e) { return !e.add; });
  ASSERT_EQ(Sh(IpCmd("neigh del 10.9.0.7" + dev)), 0);
  ASSERT_TRUE(Until([&] {
    return std::count_if(rec_.neighbors.begin(), rec_.neighbors.end(),
                         [](const auto& e) { return !e.add; }) > static_cast<long>(removals);
  }));
  // IPv6 neighbour.
  ASSERT_EQ(Sh(IpCmd("neigh add fd00:9::8 lladdr 02:00:00:00:00:08" + dev + " nud permanent")), 0);
  ASSERT_TRUE(Until([&] { return rec_.Neighbor(true, "fd00:9::8") != nullptr; }));

  // Addresses.
  ASSERT_EQ(Sh(IpCmd("addr add 10.11.0.1/16" + dev)), 0);
  ASSERT_TRUE(Until([&] { return rec_.Address(true, "10.11.0.1", 16); }));
  ASSERT_TRUE(Until([&] { return rec_.Route(true, "10.11.0.0/16") != nullptr; }));
  ASSERT_EQ(Sh(IpCmd("addr del 10.11.0.1/16" + dev)), 0);
  ASSERT_TRUE(Until([&] { return rec_.Address(false, "10.11.0.1", 16); }));
  ASSERT_TRUE(Until([&] { return rec_.Route(false, "10.11.0.0/16") != nullptr; }));
}

TEST_F(MirrorTest, RoutesFlushedByLinkDownAreReportedRemoved) {
  std::string error;
  ASSERT_TRUE(nl_->AddRoute({Pfx("10.20.0.0/16"), hnv::test::Ip("10.9.0.2")}, &error)) << error;
  StartMirror();
  ASSERT_NE(rec_.Route(true, "10.20.0.0/16"), nullptr);
  // The kernel flushes the IPv4 routes without RTM_DELROUTE.
  ASSERT_EQ(Sh(IpCmd("link set " + tap_->ifname() + " down")), 0);
  EXPECT_TRUE(Until([&] { return rec_.Route(false, "10.20.0.0/16") != nullptr; }));
  EXPECT_TRUE(Until([&] { return rec_.Route(false, "10.9.0.0/24") != nullptr; }));
  EXPECT_GE(mirror_->resyncs(), 1u);
}

TEST_F(MirrorTest, SocketOverrunIsRepairedByAResync) {
  StartMirror();
  // A tiny receive buffer and many changes while nobody reads: the kernel
  // drops notifications (ENOBUFS) and the mirror must re-dump.
  const int small = 1024;
  ASSERT_EQ(setsockopt(mirror_->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
  std::string batch;
  for (int i = 0; i < 200; ++i)
    batch += "route add 10.100." + std::to_string(i) + ".0/24 via 10.9.0.2\n";
  for (int i = 0; i < 200; i += 2) batch += "route del 10.100." + std::to_string(i) + ".0/24\n";
  ASSERT_EQ(Sh("printf '" + batch + "' | " + IpCmd("-batch -")), 0);
  std::string error;
  ASSERT_TRUE(mirror_->Process(&error)) << error;
  EXPECT_GE(mirror_->resyncs(), 1u);
  // The mirror's routes are exactly the kernel's main table.
  size_t kernel_routes = 0;
  for (const char* fam : {"-4", "-6"}) {
    const std::string out = ShOut(IpCmd(std::string(fam) + " route show table main"));
    kernel_routes += std::count(out.begin(), out.end(), '\n');
  }
  EXPECT_EQ(mirror_->route_count(), kernel_routes);
  EXPECT_NE(rec_.Route(true, "10.100.1.0/24"), nullptr);
  EXPECT_EQ(rec_.Route(true, "10.100.0.0/24") != nullptr,
            rec_.Route(false, "10.100.0.0/24") != nullptr)
      << "an even route is either never seen or seen added and removed";
}

TEST_F(MirrorTest, OtherTablesAndOtherNamespacesAreNotSeen) {
  StartMirror();
  ASSERT_EQ(Sh(IpCmd("route add 10.40.0.0/16 via 10.9.0.2 table 100")), 0);
  // A second namespace's change must not show up here.
  NetNamespace* other = NewNs();
  ASSERT_NE(other, nullptr);
  ASSERT_EQ(Sh("ip -n " + other->name() + " route add blackhole 10.41.0.0/16"), 0);
  ASSERT_EQ(Sh(IpCmd("route add blackhole 10.42.0.0/16")), 0);  // a marker
  ASSERT_TRUE(Until([&] { return rec_.Route(true, "10.42.0.0/16") != nullptr; }));
  EXPECT_EQ(rec_.Route(true, "10.40.0.0/16"), nullptr);
  EXPECT_EQ(rec_.Route(true, "10.41.0.0/16"), nullptr);
}

}  // namespace
}  // namespace hnv::gateway::test

namespace hnv::gateway::test {
namespace {

// With the table_route and rule callbacks: routes of other tables (not
// local) and every rule, with its selectors in `ip rule` words.
TEST_F(MirrorTest, RulesAndOtherTablesWhenAsked) {
  std::vector<std::pair<bool, MirrorRule>> rules;
  std::vector<std::pair<bool, MirrorRoute>> table_routes;
  MirrorCallbacks cbs = rec_.Callbacks();
  cbs.rule = [&](bool add, const MirrorRule& r) { rules.push_back({add, r}); };
  cbs.table_route = [&](bool add, const MirrorRoute& r) { table_routes.push_back({add, r}); };
  ASSERT_EQ(Sh(IpCmd("route add 10.40.0.0/16 via 10.9.0.2 table 100")), 0);
  std::string error;
  mirror_ = NetlinkMirror::Create(*ns_, std::move(cbs), &error);
  ASSERT_TRUE(mirror_) << error;
  auto has_rule = [&](bool add, const std::string& text, uint8_t family = AF_INET) {
    for (const auto& [a, r] : rules)
      if (a == add && r.family == family && r.ToString() == text) return true;
    return false;
  };
  // A fresh namespace's rules, every one for every packet.
  EXPECT_TRUE(has_rule(true, "0: from all lookup local"));
  EXPECT_TRUE(has_rule(true, "32766: from all lookup main"));
  EXPECT_TRUE(has_rule(true, "32767: from all lookup default"));
  EXPECT_TRUE(has_rule(true, "32766: from all lookup main", AF_INET6));
  for (const auto& [add, r] : rules) EXPECT_TRUE(r.unconditional()) << r.ToString();
  ASSERT_EQ(table_routes.size(), 1u);
  EXPECT_EQ(table_routes[0].second.destination.ToString(), "10.40.0.0/16");
  EXPECT_EQ(table_routes[0].second.table, 100u);
  EXPECT_EQ(rec_.Route(true, "10.40.0.0/16"), nullptr) << "not through the main table's callback";
  for (const auto& [add, r] : table_routes) EXPECT_NE(r.table, static_cast<uint32_t>(RT_TABLE_LOCAL));

  ASSERT_EQ(Sh(IpCmd("rule add pref 100 from 10.1.0.0/16 to 10.2.0.0/16 iif lo fwmark 0x1/0xff lookup 100")), 0);
  ASSERT_EQ(Sh(IpCmd("rule add pref 220 lookup 220")), 0);
  const std::string sel = "100: from 10.1.0.0/16 to 10.2.0.0/16 fwmark 0x1/0xff iif lo lookup 100";
  ASSERT_TRUE(Until([&] { return has_rule(true, sel) && has_rule(true, "220: from all lookup 220"); }));
  ASSERT_EQ(Sh(IpCmd("rule del pref 100")), 0);
  ASSERT_TRUE(Until([&] { return has_rule(false, sel); }));
  EXPECT_EQ(mirror_->rule_count(), 3u + 2u + 1u) << "IPv4 3, IPv6 2, ours 1";
  ASSERT_EQ(Sh(IpCmd("route del 10.40.0.0/16 table 100")), 0);
  ASSERT_TRUE(Until([&] { return table_routes.back().first == false; }));
}

}  // namespace
}  // namespace hnv::gateway::test
