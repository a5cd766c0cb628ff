// ipsec0's addresses and routes: what a TenantVpn wants, iproute2's JSON
// (as `ip -j` 6.1 prints it) parsed, and the batch that turns one into the
// other, touching only what differs.
#include "s2s/tunnel_net.h"

#include <gtest/gtest.h>

namespace hnv::s2s {
namespace {

IpAddr A(const char* s) { return IpAddr::Parse(s).value(); }
IpPrefix P(const char* s) { return IpPrefix::Parse(s).value(); }

TenantVpn Vpn() {
  TenantVpn v;
  Connection r;
  r.name = "onprem";
  r.mode = TunnelMode::kRoute;
  r.tunnel_local = A("10.255.0.1");
  r.tunnel_peer = A("10.255.0.2");
  r.routes = {P("10.2.0.0/24")};
  Connection p;
  p.name = "branch";
  p.mode = TunnelMode::kPolicy;
  p.remote_ts = {P("10.7.0.0/16")};
  p.route_source = A("10.0.2.2");
  v.connections = {r, p};
  v.p2s.enabled = true;
  v.p2s.pool = P("10.9.9.0/24");
  return v;
}

TEST(TunnelNet, WantedFromTheSpec) {
  const TunnelNet n = WantedTunnelNet(Vpn());
  EXPECT_EQ(n.addresses, (std::vector<TunnelAddress>{{A("10.255.0.1"), A("10.255.0.2")}}));
  EXPECT_EQ(n.routes, (std::vector<TunnelRoute>{{P("10.2.0.0/24"), A("10.255.0.2"), IpAddr{}},
                                                {P("10.7.0.0/16"), IpAddr{}, A("10.0.2.2")},
                                                {P("10.9.9.0/24"), IpAddr{}, IpAddr{}}}));
}

const char* kAddrJson =
    R"([{"ifindex":3,"ifname":"ipsec0","addr_info":[{"family":"inet","local":"10.255.0.1",)"
    R"("address":"10.255.0.2","prefixlen":32,"scope":"global"},{"family":"inet6","local":)"
    R"("fe80::cc67:ccff:fe76:5301","prefixlen":64,"scope":"link"}]}])";
const char* kRouteJson =
    R"([{"dst":"10.2.0.0/24","gateway":"10.255.0.2","dev":"ipsec0","flags":[]},)"
    R"({"dst":"10.7.0.0/16","dev":"ipsec0","scope":"link","prefsrc":"10.0.2.2","flags":[]},)"
    R"({"dst":"10.7.1.5","dev":"ipsec0","scope":"link","flags":[]},)"
    R"({"dst":"10.9.9.0/24","dev":"ipsec0","scope":"link","flags":[]}])";

TEST(TunnelNet, ParsesIpJson) {
  std::vector<TunnelAddress> addrs;
  std::vector<TunnelRoute> routes;
  std::string error;
  ASSERT_TRUE(ParseAddresses(kAddrJson, &addrs, &error)) << error;
  EXPECT_EQ(addrs, (std::vector<TunnelAddress>{{A("10.255.0.1"), A("10.255.0.2")}}));  // no fe80::
  ASSERT_TRUE(ParseRoutes(kRouteJson, &routes, &error)) << error;
  ASSERT_EQ(routes.size(), 4u);
  EXPECT_EQ(routes[2].destination, P("10.7.1.5/32"));  // a host route has no length
  EXPECT_EQ(routes[1].src, A("10.0.2.2"));
  EXPECT_TRUE(ParseRoutes("[]", &routes, &error));
  EXPECT_FALSE(ParseRoutes("Cannot find device", &routes, &error));
  EXPECT_EQ(error, "ip -j route: not a JSON list: Cannot find device");
}

TEST(TunnelNet, BatchTouchesOnlyWhatDiffers) {
  TunnelNet have;
  std::string error;
  ASSERT_TRUE(ParseAddresses(kAddrJson, &have.addresses, &error));
  ASSERT_TRUE(ParseRoutes(kRouteJson, &have.routes, &error));
  // What is there already (10.7.1.5 aside) is what is wanted: only the
  // stray host route goes.
  EXPECT_EQ(TunnelNetBatch(have, WantedTunnelNet(Vpn())), "route del 10.7.1.5/32 proto 242\n");
  EXPECT_EQ(TunnelNetBatch(WantedTunnelNet(Vpn()), WantedTunnelNet(Vpn())), "");
  // From nothing (charon just started): addresses before routes.
  EXPECT_EQ(TunnelNetBatch(TunnelNet{}, WantedTunnelNet(Vpn())),
            "address replace 10.255.0.1 peer 10.255.0.2 dev ipsec0\n"
            "route replace 10.2.0.0/24 via 10.255.0.2 dev ipsec0 proto 242\n"
            "route replace 10.7.0.0/16 dev ipsec0 proto 242 src 10.0.2.2\n"
            "route replace 10.9.9.0/24 dev ipsec0 proto 242\n");
  // Everything removed: routes before addresses.
  EXPECT_EQ(TunnelNetBatch(WantedTunnelNet(Vpn()), TunnelNet{}),
            "route del 10.2.0.0/24 proto 242\n"
            "route del 10.7.0.0/16 proto 242\n"
            "route del 10.9.9.0/24 proto 242\n"
            "address del 10.255.0.1 peer 10.255.0.2 dev ipsec0\n");
  // A route whose next hop changed is replaced, not deleted.
  TunnelNet moved = WantedTunnelNet(Vpn());
  moved.routes[0].via = A("10.255.0.6");
  EXPECT_EQ(TunnelNetBatch(WantedTunnelNet(Vpn()), moved),
            "route replace 10.2.0.0/24 via 10.255.0.6 dev ipsec0 proto 242\n");
}

}  // namespace
}  // namespace hnv::s2s
