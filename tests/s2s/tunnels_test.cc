// Supervised compartments with several tunnels: a wrong key or proposal
// gives no tunnel and a clear status while the others stay up; a connection
// changed or removed touches only itself; tenants with the same addresses in
// different namespaces never meet; certificates with a policy-based tunnel.
#include <gtest/gtest.h>

#include <algorithm>

#include "s2s/charon.h"
#include "tests/s2s/plain_peer.h"

namespace hnv::s2s::test {
namespace {

class Tunnels : public NetTest {
 protected:
  void TearDown() override {
    std::string error;
    for (auto& [name, c] : charons_) {
      if (KeepLogs()) Sh("cp -r " + c->dir() + " " + base_ + "/" + name + "-charon");
      EXPECT_TRUE(c->Stop(&error)) << error;
    }
    charons_.clear();
    NetTest::TearDown();
  }

  CharonService* Start(const std::string& name, const std::string& ns, const TenantVpn& vpn) {
    auto c = std::make_unique<CharonService>(ServiceEnv{vpn.tenant, ns, Dir(name)}, refresher_);
    std::string error;
    EXPECT_TRUE(c->Start(vpn, Clock::now(), &error)) << error;
    charons_.emplace_back(name, std::move(c));
    return charons_.back().second.get();
  }
  void PollAll() {
    for (auto& [name, c] : charons_) c->Poll(Clock::now());
  }

  static Json Conn(const Json& status, const std::string& name) {
    for (const Json& k : status["connections"])
      if (k["name"] == name) return k;
    return Json();
  }
  static std::string State(CharonService* c, const std::string& name) {
    const Json k = Conn(Fresh(c), name);
    return k.is_null() ? "absent" : k["state"].get<std::string>();
  }
  // The established IKE SA id and child SPI of a connection ("" if none).
  static std::string SaKey(CharonService* c, const std::string& name) {
    const Json k = Conn(Fresh(c), name);
    if (k.is_null()) return "";
    for (const Json& sa : k["ike_sas"])
      if (sa["state"] == "ESTABLISHED" && !sa["child_sas"].empty())
        return std::to_string(sa["id"].get<long long>()) + "/" +
               sa["child_sas"][0]["spi_in"].get<std::string>();
    return "";
  }

  // A route-based connection with static routes (no BGP).
  static Connection Tunnel(const std::string& name, const char* local, const char* peer,
                           const char* t_local, const char* t_peer, std::vector<IpPrefix> remote_ts,
                           std::vector<IpPrefix> routes, const std::string& psk,
                           Initiate initiate) {
    Connection k;
    k.name = name;
    k.local_address = A(local);
    k.peer_address = A(peer);
    k.local_id = local;
    k.remote_id = peer;
    k.psk = psk;
    k.initiate = initiate;
    k.dpd_delay = 2;
    k.tunnel_local = A(t_local);
    k.tunnel_peer = A(t_peer);
    k.local_ts = {P("0.0.0.0/0")};
    k.remote_ts = std::move(remote_ts);
    k.routes = std::move(routes);
    return k;
  }
  static TenantVpn Vpn(const std::string& tenant, std::vector<Connection> conns) {
    TenantVpn v;
    v.tenant = tenant;
    v.file = "tenants/" + tenant + ".yaml";
    v.connections = std::move(conns);
    return v;
  }

  std::vector<std::pair<std::string, std::unique_ptr<CharonService>>> charons_;
};

// A (10.1.0.0/24) has tunnels to B (10.2.0.0/24) and C (10.3.0.0/24); only
// C's key, then proposal, is wrong; then C is fixed, changed, removed.
TEST_F(Tunnels, BadKeyOrProposalChangeAndRemovalTouchOnlyTheirConnection) {
  const std::string a = Ns("gA"), b = Ns("gB"), c = Ns("gC");
  Link(a, "203.0.113.1/24", b, "203.0.113.2/24");
  Link(a, "198.51.100.1/24", c, "198.51.100.3/24");
  const std::string ha = Host("hA", a, "10.1.0.1/24", "10.1.0.10/24");
  Host("hB", b, "10.2.0.1/24", "10.2.0.10/24");
  Host("hC", c, "10.3.0.1/24", "10.3.0.10/24");
  // Two route-based tunnels in one compartment: their remote selectors must
  // not overlap (kernel-libipsec picks the SA by policy).
  const Connection ab = Tunnel("to-b", "203.0.113.1", "203.0.113.2", "10.255.0.1", "10.255.0.2",
                               {P("10.2.0.0/24"), P("10.255.0.2/32")}, {P("10.2.0.0/24")},
                               "key-ab-0123456789", Initiate::kAlways);
  Connection ac = Tunnel("to-c", "198.51.100.1", "198.51.100.3", "10.255.1.1", "10.255.1.2",
                         {P("10.3.0.0/24"), P("10.255.1.2/32")}, {P("10.3.0.0/24")}, "key-ac-WRONG",
                         Initiate::kAlways);
  Start("B", b,
        Vpn("b",
            {Tunnel("to-a", "203.0.113.2", "203.0.113.1", "10.255.0.2", "10.255.0.1",
                    {P("0.0.0.0/0")}, {P("10.1.0.0/24")}, "key-ab-0123456789", Initiate::kNever)}));
  CharonService* gc = Start("C", c,
                            Vpn("c", {Tunnel("to-a", "198.51.100.3", "198.51.100.1", "10.255.1.2",
                                             "10.255.1.1", {P("0.0.0.0/0")}, {P("10.1.0.0/24")},
                                             "key-ac-0123456789", Initiate::kNever)}));
  CharonService* ga = Start("A", a, Vpn("a", {ab, ac}));

  ASSERT_TRUE(WaitFor([&] { return Ping(ha, "10.2.0.10"); }, 20000, [&] { PollAll(); }));
  ASSERT_TRUE(WaitFor([&] { return Conn(Fresh(ga), "to-c").contains("last_error"); },
                      20000, [&] { PollAll(); }))
      << Fresh(ga).dump(1);
  Json k = Conn(Fresh(ga), "to-c");
  EXPECT_NE(k["state"], "up");
  EXPECT_NE(k["last_error"].get<std::string>().find("AUTHENTICATION_FAILED"), std::string::npos)
      << k.dump(1);
  // The responder says why too.
  EXPECT_NE(Conn(Fresh(gc), "to-a").value("last_error", "").find("key"),
            std::string::npos)
      << Fresh(gc).dump(1);
  EXPECT_FALSE(Ping(ha, "10.3.0.10"));
  const std::string ab_sa = SaKey(ga, "to-b");
  ASSERT_FALSE(ab_sa.empty());

  // The right key, a proposal C does not accept.
  ac.psk = "key-ac-0123456789";
  ac.ike_proposals = {"aes128-sha256-modp3072"};
  std::string error;
  ASSERT_TRUE(ga->Update(Vpn("a", {ab, ac}), Clock::now(), &error)) << error;
  ASSERT_TRUE(WaitFor(
      [&] {
        return Conn(Fresh(ga), "to-c")
                   .value("last_error", "")
                   .find("NO_PROPOSAL_CHOSEN") != std::string::npos;
      },
      20000, [&] { PollAll(); }))
      << Fresh(ga).dump(1);
  EXPECT_EQ(SaKey(ga, "to-b"), ab_sa);

  // Fixed: C comes up; B's SA is the same one.
  ac.ike_proposals = {kDefaultIkeProposal};
  ASSERT_TRUE(ga->Update(Vpn("a", {ab, ac}), Clock::now(), &error)) << error;
  ASSERT_TRUE(WaitFor([&] { return Ping(ha, "10.3.0.10"); }, 20000, [&] { PollAll(); }))
      << Fresh(ga).dump(1);
  EXPECT_EQ(State(ga, "to-c"), "up");
  EXPECT_FALSE(Conn(Fresh(ga), "to-c").contains("last_error"));
  EXPECT_EQ(SaKey(ga, "to-b"), ab_sa);
  EXPECT_TRUE(Ping(ha, "10.2.0.10"));

  // A new static route and selector for it: C renegotiates, once. (C owns an
  // address there: kernel-libipsec needs one inside each local selector.)
  Sh("ip -n " + c + " addr add 10.33.0.1/16 dev lo");
  const std::string ac_sa = SaKey(ga, "to-c");
  ac.routes.push_back(P("10.33.0.0/16"));
  ac.remote_ts.push_back(P("10.33.0.0/16"));
  ASSERT_TRUE(ga->Update(Vpn("a", {ab, ac}), Clock::now(), &error)) << error;
  EXPECT_NE(ShOut("ip -n " + a + " route show 10.33.0.0/16").find("via 10.255.1.2 dev ipsec0"),
            std::string::npos);
  ASSERT_TRUE(WaitFor([&] { return !SaKey(ga, "to-c").empty() && SaKey(ga, "to-c") != ac_sa; },
                      20000, [&] { PollAll(); }));
  // One IKE SA, and B's is untouched.
  EXPECT_EQ(Conn(Fresh(ga), "to-c")["ike_sas"].size(), 1u)
      << Fresh(ga).dump(1);
  EXPECT_EQ(SaKey(ga, "to-b"), ab_sa);
  // Only a route goes (the selectors stay): the kernel changes, the SA stays.
  const std::string ac_sa2 = SaKey(ga, "to-c");
  ac.routes = {P("10.3.0.0/24")};
  ASSERT_TRUE(ga->Update(Vpn("a", {ab, ac}), Clock::now(), &error)) << error;
  EXPECT_EQ(ShOut("ip -n " + a + " route show 10.33.0.0/16"), "");
  EXPECT_EQ(SaKey(ga, "to-c"), ac_sa2);
  EXPECT_TRUE(Ping(ha, "10.3.0.10"));

  // Removed: its SA, tunnel address and routes go; B's stays.
  ASSERT_TRUE(ga->Update(Vpn("a", {ab}), Clock::now(), &error)) << error;
  EXPECT_EQ(State(ga, "to-c"), "absent");
  EXPECT_TRUE(WaitFor([&] { return State(gc, "to-a") == "down"; }, 10000, [&] { PollAll(); }));
  EXPECT_EQ(ShOut("ip -n " + a + " route show 10.3.0.0/24"), "");
  EXPECT_EQ(ShOut("ip -n " + a + " route show 10.33.0.0/16"), "");
  EXPECT_EQ(ShOut("ip -n " + a + " addr show dev ipsec0").find("10.255.1.1"), std::string::npos);
  EXPECT_EQ(SaKey(ga, "to-b"), ab_sa);
  EXPECT_TRUE(Ping(ha, "10.2.0.10"));
}

// Two tenants, each a pair of sites, with exactly the same addresses
// everywhere (gateways, tunnels, LANs), in their own namespaces, at once.
TEST_F(Tunnels, SameAddressesInTwoTenantsNeverMeet) {
  std::string host[2];
  CharonService* gw[2];
  for (int t = 0; t < 2; ++t) {
    const std::string n = std::to_string(t);
    const std::string a = Ns("t" + n + "A"), b = Ns("t" + n + "B");
    Link(a, "203.0.113.1/24", b, "203.0.113.2/24");
    host[t] = Host("t" + n + "hA", a, "10.1.0.1/24", "10.1.0.10/24");
    Host("t" + n + "hB", b, "10.2.0.1/24", "10.2.0.10/24");
    // Each tenant's key differs: a packet of one could not be decrypted by
    // the other's SAs, and their IKE would fail, if they ever met.
    const std::string key = "tenant-" + n + "-key-0123456789";
    Start("t" + n + "B", b, TwoSites(1, "t" + n + "b", key, false));
    gw[t] = Start("t" + n + "A", a, TwoSites(0, "t" + n + "a", key, false));
  }
  for (int t = 0; t < 2; ++t)
    ASSERT_TRUE(WaitFor([&] { return Ping(host[t], "10.2.0.10"); }, 20000, [&] { PollAll(); }));
  auto packets_out = [&](int t) {
    const Json k = Conn(Fresh(gw[t]), "to-b");
    long long n = 0;
    for (const Json& sa : k["ike_sas"])
      for (const Json& c : sa["child_sas"]) n += c["packets_out"].get<long long>();
    return n;
  };
  const long long before[2] = {packets_out(0), packets_out(1)};
  EXPECT_TRUE(Ping(host[0], "10.2.0.10", 3));
  EXPECT_TRUE(Ping(host[1], "10.2.0.10", 7));
  EXPECT_EQ(packets_out(0) - before[0], 3);
  EXPECT_EQ(packets_out(1) - before[1], 7);
}

// X.509 authentication (a test CA) and a policy-based tunnel: traffic
// selectors 10.1.0.0/24 <-> 10.2.0.0/24 routed into ipsec0 with the LAN
// address as source, so the gateway itself reaches the far LAN too.
TEST_F(Tunnels, CertificatesWithPolicyBasedTunnel) {
  const std::string pki = Dir("pki");
  ASSERT_TRUE(MakeCa(pki));
  ASSERT_TRUE(MakeCert(pki, "a", "gw-a.contoso.example"));
  ASSERT_TRUE(MakeCert(pki, "b", "gw-b.contoso.example"));
  const std::string a = Ns("gA"), b = Ns("gB");
  Link(a, "203.0.113.1/24", b, "203.0.113.2/24");
  const std::string ha = Host("hA", a, "10.1.0.1/24", "10.1.0.10/24");
  Host("hB", b, "10.2.0.1/24", "10.2.0.10/24");
  auto site = [&](int side) {
    Connection k;
    k.name = "s2s";
    k.local_address = A(side == 0 ? "203.0.113.1" : "203.0.113.2");
    k.peer_address = A(side == 0 ? "203.0.113.2" : "203.0.113.1");
    k.local_id = side == 0 ? "gw-a.contoso.example" : "gw-b.contoso.example";
    k.remote_id = side == 0 ? "gw-b.contoso.example" : "gw-a.contoso.example";
    k.auth = AuthMethod::kCertificate;
    const std::string me = side == 0 ? "a" : "b";
    k.certs = {pki + "/" + me + ".pem", pki + "/" + me + ".key", {pki + "/ca.pem"}};
    k.initiate = side == 0 ? Initiate::kAlways : Initiate::kNever;
    k.mode = TunnelMode::kPolicy;
    k.local_ts = {P(side == 0 ? "10.1.0.0/24" : "10.2.0.0/24")};
    k.remote_ts = {P(side == 0 ? "10.2.0.0/24" : "10.1.0.0/24")};
    k.route_source = A(side == 0 ? "10.1.0.1" : "10.2.0.1");
    return Vpn(side == 0 ? "a" : "b", {k});
  };
  Start("B", b, site(1));
  CharonService* ga = Start("A", a, site(0));
  ASSERT_TRUE(WaitFor([&] { return Ping(ha, "10.2.0.10"); }, 20000, [&] { PollAll(); }))
      << Fresh(ga).dump(1);
  EXPECT_TRUE(Ping(a, "10.2.0.10"));  // from the gateway itself, source 10.1.0.1
  const Json k = Conn(Fresh(ga), "s2s");
  EXPECT_EQ(k["mode"], "policy");
  EXPECT_EQ(k["ike_sas"][0]["remote_id"], "gw-b.contoso.example") << k.dump(1);
  EXPECT_EQ(k["ike_sas"][0]["child_sas"][0]["remote_ts"][0], "10.2.0.0/24");
  EXPECT_NE(ShOut("ip -n " + a + " route show 10.2.0.0/24").find("dev ipsec0 proto 242"),
            std::string::npos);
}

}  // namespace
}  // namespace hnv::s2s::test
