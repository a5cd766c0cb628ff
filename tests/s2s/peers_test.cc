// A supervised compartment against independent peers (plain_peer.h): an
// unmodified strongSwan and FRR configured by the test itself, as the lab's
// on-premises site will be; and point-to-site clients (plain strongSwan,
// EAP-MSCHAPv2 and certificates) getting virtual IPs from the pool.
#include <gtest/gtest.h>

#include "s2s/charon.h"
#include "s2s/frr.h"
#include "tests/s2s/plain_peer.h"

namespace hnv::s2s::test {
namespace {

class Peers : public NetTest {
 protected:
  void SetUp() override {
    NetTest::SetUp();
    if (IsSkipped()) return;
    gw_ = Ns("gw");
    site_ = Ns("site");
    Link(gw_, "203.0.113.1/24", site_, "203.0.113.2/24");
    vm_ = Host("vm", gw_, "10.1.0.1/24", "10.1.0.10/24");
    onprem_ = Host("onprem", site_, "10.2.0.1/24", "10.2.0.10/24");
    cleanups_.push_back([this] {
      std::string error;
      if (KeepLogs() && charon_) Sh("cp -r " + charon_->dir() + " " + base_ + "/gw-charon");
      if (KeepLogs() && frr_) Sh("cp -r " + frr_->dir() + " " + base_ + "/gw-frr");
      if (frr_) {
        EXPECT_TRUE(frr_->Stop(&error)) << error;
      }
      if (charon_) {
        EXPECT_TRUE(charon_->Stop(&error)) << error;
      }
      peer_frr_.reset();
      peer_.reset();
      for (auto& c : clients_) c.reset();
    });
  }

  void StartGateway(const TenantVpn& vpn) {
    const ServiceEnv env{vpn.tenant, gw_, Dir("gw")};
    charon_ = std::make_unique<CharonService>(env, refresher_);
    frr_ = std::make_unique<FrrService>(env, refresher_);
    std::string error;
    ASSERT_TRUE(charon_->Start(vpn, Clock::now(), &error)) << error;
    ASSERT_TRUE(frr_->Start(vpn, Clock::now(), &error)) << error;
  }
  void Poll() {
    if (charon_) charon_->Poll(Clock::now());
    if (frr_) frr_->Poll(Clock::now());
  }

  // The on-premises site, written by hand: route-based, responder, eBGP
  // AS 65002 over 10.255.0.2 <-> 10.255.0.1, announcing 10.2.0.0/24.
  // `configured` false: the site's charon runs without its connection (as
  // one that came back before its configuration was loaded).
  void StartSite(bool configured = true) {
    peer_ = std::make_unique<PlainStrongswan>(site_, Dir("site"));
    ASSERT_TRUE(peer_->Start(configured ? SiteSwanctl() : "connections {\n}\n")) << peer_->error();
    Sh("ip -n " + site_ + " addr add 10.255.0.2 peer 10.255.0.1 dev ipsec0");
  }
  static std::string SiteSwanctl() {
    return R"(connections {
    gw {
        version = 2
        local_addrs = 203.0.113.2
        remote_addrs = 203.0.113.1
        encap = yes
        mobike = no
        proposals = aes256gcm16-prfsha384-ecp384
        local {
            auth = psk
            id = onprem.example
        }
        remote {
            auth = psk
            id = gw.contoso.example
        }
        children {
            gw {
                local_ts = 0.0.0.0/0
                remote_ts = 0.0.0.0/0
                esp_proposals = aes256gcm16-ecp384
                start_action = none
            }
        }
    }
}
secrets {
    ike-gw {
        id-1 = onprem.example
        id-2 = gw.contoso.example
        secret = "on-premises shared secret"
    }
}
)";
  }
  void StartSiteFrr() {
    peer_frr_ = std::make_unique<PlainFrr>(site_, Dir("site-frr"));
    ASSERT_TRUE(peer_frr_->Start(R"(router bgp 65002
 bgp router-id 10.255.0.2
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor 10.255.0.1 remote-as 65001
 neighbor 10.255.0.1 timers 3 9
 neighbor 10.255.0.1 timers connect 2
 address-family ipv4 unicast
  network 10.2.0.0/24
  neighbor 10.255.0.1 activate
 exit-address-family
)"));
  }

  TenantVpn Gateway() {
    TenantVpn v = TwoSites(0, "contoso", "on-premises shared secret");
    v.connections[0].name = "onprem";
    v.connections[0].local_id = "gw.contoso.example";
    v.connections[0].remote_id = "onprem.example";
    v.connections[0].dpd_delay = 2;
    v.bgp.neighbors[0].connection = "onprem";
    return v;
  }

  bool Route(const std::string& ns, const char* prefix, const char* proto) {
    return ShOut("ip -n " + ns + " route show " + prefix).find(std::string("proto ") + proto) !=
           std::string::npos;
  }

  std::string gw_, site_, vm_, onprem_;
  std::unique_ptr<CharonService> charon_;
  std::unique_ptr<FrrService> frr_;
  std::unique_ptr<PlainStrongswan> peer_;
  std::unique_ptr<PlainFrr> peer_frr_;
  std::unique_ptr<PlainStrongswan> clients_[2];
};

TEST_F(Peers, IndependentSiteBgpTrafficAndPeerRestart) {
  StartSite();
  StartSiteFrr();
  StartGateway(Gateway());
  ASSERT_TRUE(WaitFor(
      [&] { return Route(gw_, "10.2.0.0/24", "bgp") && Route(site_, "10.1.0.0/24", "bgp"); }, 30000,
      [&] { Poll(); }))
      << Fresh(frr_).dump(1);
  EXPECT_TRUE(Ping(vm_, "10.2.0.10", 3));
  EXPECT_TRUE(Ping(onprem_, "10.1.0.10", 3));
  // 2 MB over TCP, byte-exact, both ways.
  Sh("head -c 2000000 /dev/urandom > " + base_ + "/blob");
  Sh("ip netns exec " + onprem_ + " sh -c 'timeout 20 nc -l -p 5001 > " + base_ +
     "/got' >/dev/null 2>&1 & sleep 0.5");
  EXPECT_EQ(Sh("ip netns exec " + vm_ + " timeout 20 nc -q1 10.2.0.10 5001 < " + base_ + "/blob"),
            0);
  EXPECT_TRUE(WaitFor(
      [&] { return ShOut("cmp " + base_ + "/blob " + base_ + "/got && echo same") == "same\n"; },
      10000));

  // The site's charon restarts (crash, no DELETE): the gateway's dead-peer
  // detection notices, and re-initiates; BGP comes back over the new SA.
  // Kill waits until the old charon is gone (UDP 500/4500 and ipsec0 free).
  peer_->Kill(SIGKILL);
  peer_.reset();
  StartSite();
  ASSERT_TRUE(WaitFor([&] { return Ping(vm_, "10.2.0.10"); }, 60000, [&] { Poll(); }))
      << Fresh(charon_).dump(1);
  const Json s = Fresh(charon_);
  EXPECT_EQ(s["connections"][0]["state"], "up") << s.dump(1);
  EXPECT_TRUE(WaitFor([&] { return Route(gw_, "10.2.0.0/24", "bgp"); }, 30000, [&] { Poll(); }));
}

// charon retries after timeouts by itself, not after a refusal: the gateway
// (CharonService::Poll) initiates an always-up connection without an SA
// again, every 10 s.
TEST_F(Peers, ASiteBackWithoutItsConfigurationIsInitiatedAgainOnceItHasIt) {
  StartSite(/*configured=*/false);
  StartGateway(Gateway());
  const auto refused = [&] {
    const Json s = Fresh(charon_);
    return s["connections"][0].value("last_error", std::string()).find("NO_PROPOSAL_CHOSEN") !=
           std::string::npos;
  };
  ASSERT_TRUE(WaitFor(refused, 30000, [&] { Poll(); })) << Fresh(charon_).dump(1);
  // The site loads its connection; it does not initiate (start_action none).
  PlainStrongswan::WriteText(peer_->dir() + "/swanctl.conf", SiteSwanctl());
  std::string out;
  ASSERT_EQ(peer_->Swanctl("--load-all --noprompt --file " + peer_->dir() + "/swanctl.conf", &out), 0)
      << out;
  const auto up = [&] { return Fresh(charon_)["connections"][0]["state"] == "up"; };
  ASSERT_TRUE(WaitFor(up, 40000, [&] { Poll(); })) << Fresh(charon_).dump(1);
  EXPECT_GE(Fresh(charon_)["reinitiated"].get<int>(), 1);
}

TEST_F(Peers, WithdrawnPrefixLeavesTheCompartment) {
  StartSite();
  StartSiteFrr();
  Sh("ip -n " + site_ + " addr add 10.2.9.1/24 dev lo");
  StartGateway(Gateway());
  ASSERT_TRUE(WaitFor([&] { return Route(gw_, "10.2.0.0/24", "bgp"); }, 30000, [&] { Poll(); }));
  ASSERT_EQ(Sh("vtysh --vty_socket " + base_ + "/site-frr/run --config_dir " + base_ +
               "/site-frr -c 'configure terminal' -c 'router bgp 65002' -c 'address-family ipv4 "
               "unicast' -c 'network 10.2.9.0/24'"),
            0);
  ASSERT_TRUE(WaitFor([&] { return Route(gw_, "10.2.9.0/24", "bgp"); }, 10000, [&] { Poll(); }));
  // From the moment the site's bgpd has the withdrawal (vtysh returns once
  // it is applied; vtysh's own start takes a second or more on a loaded
  // machine and is not what is measured).
  Sh("vtysh --vty_socket " + base_ + "/site-frr/run --config_dir " + base_ +
     "/site-frr -c 'configure terminal' -c 'router bgp 65002' -c 'address-family ipv4 unicast' "
     "-c 'no network 10.2.9.0/24'");
  const auto t0 = Clock::now();
  ASSERT_TRUE(WaitFor([&] { return !Route(gw_, "10.2.9.0/24", "bgp"); }, 10000, [&] { Poll(); }));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  std::printf("withdrawal to kernel route gone: %lld ms\n", static_cast<long long>(ms));
  EXPECT_LT(ms, 1000);
  EXPECT_TRUE(Route(gw_, "10.2.0.0/24", "bgp"));
}

TEST_F(Peers, FiltersRejectOwnPrefixesAndHonourAcceptList) {
  StartSite();
  StartSiteFrr();
  // The site announces the tenant's own LAN, a prefix outside the accept
  // list, and one inside it.
  Sh("ip -n " + site_ + " addr add 10.1.0.200/24 dev lo");
  Sh("ip -n " + site_ + " addr add 172.16.5.1/24 dev lo");
  Sh("ip -n " + site_ + " addr add 10.2.7.1/24 dev lo");
  TenantVpn v = Gateway();
  v.bgp.neighbors[0].accept = {PrefixMatch{P("10.2.0.0/16"), 0, 24}};
  StartGateway(v);
  for (const char* p : {"10.1.0.0/24", "172.16.5.0/24", "10.2.7.0/24"})
    ASSERT_EQ(Sh("vtysh --vty_socket " + base_ + "/site-frr/run --config_dir " + base_ +
                 "/site-frr -c 'configure terminal' -c 'router bgp 65002' -c 'address-family "
                 "ipv4 unicast' -c 'network " +
                 p + "'"),
              0);
  ASSERT_TRUE(WaitFor([&] { return Route(gw_, "10.2.7.0/24", "bgp"); }, 30000, [&] { Poll(); }));
  EXPECT_FALSE(Route(gw_, "172.16.5.0/24", "bgp"));
  // The tenant's own LAN keeps only its connected route.
  const std::string own = ShOut("ip -n " + gw_ + " route show 10.1.0.0/24");
  EXPECT_EQ(std::count(own.begin(), own.end(), '\n'), 1) << own;
  EXPECT_NE(own.find("proto kernel"), std::string::npos) << own;
  // And the site hears only what the tenant announces, none of what it learned.
  const std::string heard =
      ShOut("vtysh --vty_socket " + base_ + "/site-frr/run --config_dir " + base_ +
            "/site-frr -c 'show bgp ipv4 unicast neighbors 10.255.0.1 routes'");
  EXPECT_NE(heard.find("10.1.0.0/24"), std::string::npos) << heard;
  EXPECT_EQ(heard.find("10.2.7.0/24"), std::string::npos) << heard;
  EXPECT_EQ(heard.find("10.2.0.0/24"), std::string::npos) << heard;
}

TEST_F(Peers, PointToSiteEapAndCertificateClients) {
  const std::string pki = Dir("pki");
  ASSERT_TRUE(MakeCa(pki));
  ASSERT_TRUE(MakeCert(pki, "gw", "vpn.contoso.example"));
  ASSERT_TRUE(MakeCert(pki, "carol", "carol@contoso.example"));
  const std::string c1 = Ns("c1");
  const std::string c2 = Ns("c2");
  Link(gw_, "192.0.2.1/24", c1, "192.0.2.11/24");
  Link(gw_, "198.51.100.1/24", c2, "198.51.100.12/24");

  TenantVpn v;
  v.tenant = "contoso";
  v.file = "tenants/contoso.yaml";
  PointToSite& p = v.p2s;
  p.enabled = true;
  p.local_address = A("192.0.2.1");
  p.local_id = "vpn.contoso.example";
  p.server = {pki + "/gw.pem", pki + "/gw.key", {pki + "/ca.pem"}};
  p.users = {{"alice", "alice's password"}, {"bob", "bob's"}};
  p.pool = P("10.9.9.0/24");
  p.routes = {P("10.1.0.0/24")};
  StartGateway(v);

  auto client = [&](const std::string& ns, const std::string& gw, const std::string& local) {
    return "connections {\n home {\n  version = 2\n  remote_addrs = " + gw +
           "\n  vips = 0.0.0.0\n  encap = yes\n  proposals = aes256gcm16-prfsha384-ecp384\n" +
           local +
           "  remote {\n   auth = pubkey\n   id = vpn.contoso.example\n  }\n  children {\n"
           "   home {\n    remote_ts = 10.1.0.0/24\n    esp_proposals = aes256gcm16-ecp384\n"
           "    start_action = start\n   }\n  }\n }\n}\n" +
           (ns == c1
                ? "secrets {\n eap-alice {\n  id = alice\n  secret = \"alice's password\"\n }\n}\n"
                : "");
  };
  clients_[0] = std::make_unique<PlainStrongswan>(c1, Dir("c1"));
  Sh("mkdir -p " + base_ + "/c1/x509ca && cp " + pki + "/ca.pem " + base_ + "/c1/x509ca/");
  ASSERT_TRUE(clients_[0]->Start(
      client(c1, "192.0.2.1", "  local {\n   auth = eap-mschapv2\n   eap_id = alice\n  }\n")))
      << clients_[0]->error();
  // carol: certificate; the gateway's certificate connection listens on the
  // same address (charon picks the connection by the client's auth method).
  clients_[1] = std::make_unique<PlainStrongswan>(c2, Dir("c2"));
  Sh("mkdir -p " + base_ + "/c2/x509ca " + base_ + "/c2/x509 " + base_ + "/c2/private && cp " +
     pki + "/ca.pem " + base_ + "/c2/x509ca/ && cp " + pki + "/carol.pem " + base_ +
     "/c2/x509/ && cp " + pki + "/carol.key " + base_ + "/c2/private/");
  Sh("ip -n " + c2 + " route add 192.0.2.0/24 via 198.51.100.1");
  ASSERT_TRUE(clients_[1]->Start(client(
      c2, "192.0.2.1",
      "  local {\n   auth = pubkey\n   certs = carol.pem\n   id = carol@contoso.example\n  }\n")))
      << clients_[1]->error();

  ASSERT_TRUE(WaitFor([&] { return Ping(c1, "10.1.0.10") && Ping(c2, "10.1.0.10"); }, 30000,
                      [&] { Poll(); }))
      << Fresh(charon_).dump(1);
  const std::string vip1 = ShOut("ip -n " + c1 + " -4 -o addr show dev ipsec0");
  const std::string vip2 = ShOut("ip -n " + c2 + " -4 -o addr show dev ipsec0");
  EXPECT_NE(vip1.find("10.9.9."), std::string::npos) << vip1;
  EXPECT_NE(vip2.find("10.9.9."), std::string::npos) << vip2;
  EXPECT_NE(vip1.substr(vip1.find("10.9.9.")), vip2.substr(vip2.find("10.9.9."))) << vip1 << vip2;
  const Json s = Fresh(charon_);
  ASSERT_EQ(s["point_to_site"]["clients"].size(), 2u) << s.dump(1);
  bool eap = false;
  for (const Json& c : s["point_to_site"]["clients"])
    eap = eap || c.value("remote_eap_id", "") == "alice";
  EXPECT_TRUE(eap) << s.dump(1);
  // The pool is routed into the tunnel in the gateway's main table.
  EXPECT_NE(ShOut("ip -n " + gw_ + " route show 10.9.9.0/24").find("dev ipsec0 proto 242"),
            std::string::npos);
}

}  // namespace
}  // namespace hnv::s2s::test
