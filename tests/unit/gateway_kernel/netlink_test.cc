#include "gateway/kernel/netlink.h"

#include "gateway/kernel/tap.h"
#include "tests/lib/packet_builder.h"
#include "tests/unit/gateway_kernel/kernel_fixture.h"

namespace hnv::gateway::test {
namespace {

using hnv::test::Ip;
using hnv::test::Mac;

IpPrefix Pfx(const char* s) {
  auto p = IpPrefix::Parse(s);
  EXPECT_TRUE(p) << s;
  return p.value_or(IpPrefix{});
}

class NetlinkTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    ns_ = NewNs();
    ASSERT_NE(ns_, nullptr);
    std::string error;
    tap_ = Tap::Create(*ns_, TapName(10), Mac("02:00:5e:20:00:01"), 1500, &error);
    ASSERT_TRUE(tap_) << error;
    nl_ = NetlinkConfig::Create(*ns_, &error);
    ASSERT_TRUE(nl_) << error;
  }
  void TearDown() override {
    nl_.reset();
    tap_.reset();
    KernelTest::TearDown();
  }
  std::string Ip4Routes() { return ShOut("ip -n " + ns_->name() + " -4 route show"); }
  std::string Ip6Routes() { return ShOut("ip -n " + ns_->name() + " -6 route show"); }

  NetNamespace* ns_ = nullptr;
  std::unique_ptr<Tap> tap_;
  std::unique_ptr<NetlinkConfig> nl_;
};

TEST_F(NetlinkTest, AddressesAddedAndDeleted) {
  std::string error;
  ASSERT_TRUE(nl_->AddAddress(tap_->ifindex(), Ip("10.9.0.1"), 24, &error)) << error;
  ASSERT_TRUE(nl_->AddAddress(tap_->ifindex(), Ip("fd00:9::1"), 64, &error, true)) << error;
  const std::string dev = " dev " + tap_->ifname();
  std::string addrs = ShOut("ip -n " + ns_->name() + " addr show" + dev);
  EXPECT_NE(addrs.find("inet 10.9.0.1/24"), std::string::npos) << addrs;
  EXPECT_NE(addrs.find("inet6 fd00:9::1/64"), std::string::npos) << addrs;
  EXPECT_NE(addrs.find("inet6 fd00:9::1/64 scope global nodad"), std::string::npos) << addrs;
  // The connected route the kernel makes.
  EXPECT_NE(Ip4Routes().find("10.9.0.0/24" + dev + " proto kernel"), std::string::npos);
  // Twice: an error naming the address and the namespace.
  EXPECT_FALSE(nl_->AddAddress(tap_->ifindex(), Ip("10.9.0.1"), 24, &error));
  EXPECT_NE(error.find("10.9.0.1/24"), std::string::npos) << error;
  EXPECT_NE(error.find(ns_->name()), std::string::npos) << error;
  ASSERT_TRUE(nl_->DeleteAddress(tap_->ifindex(), Ip("10.9.0.1"), 24, &error)) << error;
  addrs = ShOut("ip -n " + ns_->name() + " addr show" + dev);
  EXPECT_EQ(addrs.find("10.9.0.1"), std::string::npos) << addrs;
  EXPECT_FALSE(nl_->DeleteAddress(tap_->ifindex(), Ip("10.9.0.1"), 24, &error));
  EXPECT_NE(error.find("delete address 10.9.0.1/24"), std::string::npos) << error;
}

TEST_F(NetlinkTest, RoutesAddReplaceDeleteWithOurProtocol) {
  std::string error;
  ASSERT_TRUE(nl_->AddAddress(tap_->ifindex(), Ip("10.9.0.1"), 24, &error)) << error;
  ASSERT_TRUE(nl_->AddAddress(tap_->ifindex(), Ip("fd00:9::1"), 64, &error, true)) << error;
  const std::string dev = " dev " + tap_->ifname();

  RouteSpec r4{Pfx("10.20.0.0/16"), Ip("10.9.0.2"), 0, 50};
  ASSERT_TRUE(nl_->AddRoute(r4, &error)) << error;
  EXPECT_NE(Ip4Routes().find("10.20.0.0/16 via 10.9.0.2" + dev + " proto 241 metric 50"),
            std::string::npos)
      << Ip4Routes();
  // Adding it again fails, naming the route and the namespace.
  EXPECT_FALSE(nl_->AddRoute(r4, &error));
  EXPECT_NE(error.find("add route 10.20.0.0/16 via 10.9.0.2 metric 50 proto hnv"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find(ns_->name()), std::string::npos) << error;
  // Replace: same destination and metric, another gateway.
  r4.gateway = Ip("10.9.0.3");
  ASSERT_TRUE(nl_->ReplaceRoute(r4, &error)) << error;
  EXPECT_NE(Ip4Routes().find("10.20.0.0/16 via 10.9.0.3" + dev + " proto 241 metric 50"),
            std::string::npos)
      << Ip4Routes();
  EXPECT_EQ(Ip4Routes().find("10.9.0.2"), std::string::npos) << Ip4Routes();

  // On-link through an interface, a blackhole, and IPv6 through a gateway.
  RouteSpec onlink{Pfx("10.30.0.0/24"), IpAddr{}, tap_->ifindex()};
  ASSERT_TRUE(nl_->AddRoute(onlink, &error)) << error;
  EXPECT_NE(Ip4Routes().find("10.30.0.0/24" + dev + " proto 241 scope link"), std::string::npos)
      << Ip4Routes();
  RouteSpec hole{Pfx("10.66.0.0/16")};
  hole.type = RTN_BLACKHOLE;
  ASSERT_TRUE(nl_->AddRoute(hole, &error)) << error;
  EXPECT_NE(Ip4Routes().find("blackhole 10.66.0.0/16 proto 241"), std::string::npos) << Ip4Routes();
  RouteSpec r6{Pfx("fd00:20::/48"), Ip("fd00:9::2")};
  ASSERT_TRUE(nl_->AddRoute(r6, &error)) << error;
  EXPECT_NE(Ip6Routes().find("fd00:20::/48 via fd00:9::2" + dev + " proto 241 metric 1024"),
            std::string::npos)
      << Ip6Routes();
  // A route with neither gateway nor interface is refused before the kernel.
  EXPECT_FALSE(nl_->AddRoute(RouteSpec{Pfx("10.40.0.0/16")}, &error));
  EXPECT_NE(error.find("needs a gateway or an interface"), std::string::npos) << error;
  EXPECT_FALSE(nl_->AddRoute(RouteSpec{Pfx("10.40.0.0/16"), Ip("fd00:9::2")}, &error));
  EXPECT_NE(error.find("family"), std::string::npos) << error;

  // Delete by what the spec gives; by default only a route of ours.
  ASSERT_EQ(Sh("ip -n " + ns_->name() + " route add 10.50.0.0/16 via 10.9.0.2"), 0);
  EXPECT_FALSE(nl_->DeleteRoute(RouteSpec{Pfx("10.50.0.0/16")}, &error)) << "not ours";
  EXPECT_NE(error.find("delete route 10.50.0.0/16"), std::string::npos) << error;
  RouteSpec any{Pfx("10.50.0.0/16")};
  any.protocol = 0;
  EXPECT_TRUE(nl_->DeleteRoute(any, &error)) << error;
  EXPECT_TRUE(nl_->DeleteRoute(RouteSpec{Pfx("10.20.0.0/16")}, &error)) << error;
  EXPECT_TRUE(nl_->DeleteRoute(onlink, &error)) << error;
  EXPECT_TRUE(nl_->DeleteRoute(hole, &error)) << error;
  EXPECT_TRUE(nl_->DeleteRoute(RouteSpec{Pfx("fd00:20::/48")}, &error)) << error;
  EXPECT_EQ(ShOut("ip -n " + ns_->name() + " route show proto 241"), "");
  EXPECT_EQ(ShOut("ip -n " + ns_->name() + " -6 route show proto 241"), "");
  EXPECT_FALSE(nl_->DeleteRoute(RouteSpec{Pfx("10.20.0.0/16")}, &error));
  // Nothing reached the root namespace.
  EXPECT_EQ(ShOut("ip route show proto 241"), "");
}

TEST_F(NetlinkTest, LinkIndexAndUpDown) {
  std::string error;
  EXPECT_EQ(nl_->LinkIndex(tap_->ifname(), &error), tap_->ifindex());
  EXPECT_EQ(nl_->LinkIndex("nosuchif0", &error), 0);
  EXPECT_NE(error.find("nosuchif0"), std::string::npos) << error;
  ASSERT_TRUE(nl_->SetLinkUp(tap_->ifindex(), false, &error)) << error;
  EXPECT_EQ(ShOut("ip -n " + ns_->name() + " -o link show " + tap_->ifname()).find(",UP"),
            std::string::npos);
  ASSERT_TRUE(nl_->SetLinkUp(tap_->ifindex(), true, &error)) << error;
  EXPECT_NE(ShOut("ip -n " + ns_->name() + " -o link show " + tap_->ifname()).find(",UP"),
            std::string::npos);
}

TEST(RouteProtocolNameTest, Names) {
  EXPECT_STREQ(RouteProtocolName(2), "kernel");
  EXPECT_STREQ(RouteProtocolName(3), "boot");
  EXPECT_STREQ(RouteProtocolName(4), "static");
  EXPECT_STREQ(RouteProtocolName(kRouteProtocolHnv), "hnv");
  EXPECT_STREQ(RouteProtocolName(186), "bgp");
  EXPECT_STREQ(RouteProtocolName(188), "ospf");
  EXPECT_STREQ(RouteProtocolName(250), "250");
}

}  // namespace
}  // namespace hnv::gateway::test
