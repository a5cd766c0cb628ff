// The tenant file's site_to_site, bgp and point_to_site sections: what a
// valid file loads into (defaults from the tenant and the policy), and the
// golden files the s2s renderers make of it (input YAML -> exact
// strongswan.conf, swanctl.conf, secrets.conf, zebra.conf, bgpd.conf).
// HNV_UPDATE_GOLDEN=1 rewrites the golden files (review the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "s2s/render.h"
#include "tests/unit/config/gateway_s2s_files.h"

namespace hnv::config {
namespace {

using namespace gwtest;  // NOLINT: the fixture files of these tests

IpPrefix Pfx(const char* s) { return IpPrefix::Parse(s).value(); }

// The tenant's VPN as loaded (its compartment's spec), or nullptr.
const s2s::TenantVpn* VpnOf(const GatewayLoadResult& r, const std::string& tenant) {
  for (const CompartmentSpec& c : r.config->compartments)
    if (c.name == tenant) return &c.vpn;
  return nullptr;
}

TEST(GatewayS2s, SectionsLoadWithTheirDefaults) {
  VpnFixture fx(kVpnSections);
  const GatewayLoadResult r = fx.Load();
  ASSERT_TRUE(r.config) << Join(r.errors);
  ASSERT_NE(VpnOf(r, "contoso"), nullptr);
  const s2s::TenantVpn& v = *VpnOf(r, "contoso");
  EXPECT_EQ(v.tenant, "contoso");
  ASSERT_EQ(v.connections.size(), 1u);
  const s2s::Connection& k = v.connections[0];
  EXPECT_EQ(k.name, "onprem");
  EXPECT_EQ(k.local_address, Ip("10.1.3.2"));
  EXPECT_EQ(k.peer_address, Ip("10.1.3.100"));
  EXPECT_EQ(k.local_id, "gw.contoso.example");
  EXPECT_EQ(k.remote_id, "10.1.3.100");  // default: the peer's address
  EXPECT_EQ(k.auth, s2s::AuthMethod::kPsk);
  EXPECT_EQ(k.psk, "correct horse battery staple");  // the key named like the connection
  EXPECT_EQ(k.ike_proposals, std::vector<std::string>{"aes256gcm16-prfsha384-ecp384"});
  EXPECT_EQ(k.esp_proposals, std::vector<std::string>{"aes256gcm16-ecp384"});
  EXPECT_EQ(k.initiate, s2s::Initiate::kAlways);
  EXPECT_EQ(k.mode, s2s::TunnelMode::kRoute);
  EXPECT_EQ(k.tunnel_local, Ip("10.255.0.1"));
  EXPECT_EQ(k.local_ts, std::vector<IpPrefix>{Pfx("0.0.0.0/0")});
  EXPECT_EQ(k.remote_ts, std::vector<IpPrefix>{Pfx("0.0.0.0/0")});
  EXPECT_EQ(k.routes, std::vector<IpPrefix>{Pfx("10.2.0.0/24")});

  EXPECT_EQ(v.bgp.asn, 65001u);
  EXPECT_EQ(v.bgp.router_id, Ip("10.0.2.2"));  // default: the gateway CA
  EXPECT_EQ(v.bgp.announce, (std::vector<IpPrefix>{Pfx("10.0.1.0/24"), Pfx("10.0.2.0/24")}));
  ASSERT_EQ(v.bgp.neighbors.size(), 1u);
  const s2s::BgpNeighbor& n = v.bgp.neighbors[0];
  EXPECT_EQ(n.address, Ip("10.255.0.2"));  // the connection's tunnel peer
  EXPECT_EQ(n.update_source, Ip("10.255.0.1"));
  EXPECT_EQ(n.remote_asn, 65002u);
  EXPECT_EQ(n.accept, (std::vector<s2s::PrefixMatch>{{Pfx("10.2.0.0/16"), 0, 24}}));
  // Rejected: the VM network and longer, and every prefix covering the peer.
  ASSERT_EQ(v.bgp.reject.size(), 2u + 32u);
  EXPECT_EQ(v.bgp.reject[0], (s2s::PrefixMatch{Pfx("10.0.1.0/24"), 0, 32}));
  EXPECT_EQ(v.bgp.reject[2], (s2s::PrefixMatch{Pfx("0.0.0.0/1"), 0, 0}));
  EXPECT_EQ(v.bgp.reject.back(), (s2s::PrefixMatch{Pfx("10.1.3.100/32"), 0, 0}));

  EXPECT_TRUE(v.p2s.enabled);
  EXPECT_EQ(v.p2s.local_id, "10.1.3.2");
  EXPECT_EQ(v.p2s.users,
            (std::vector<std::pair<std::string, std::string>>{{"alice", "alice's password"}}));
  EXPECT_EQ(v.p2s.server.certificate, fx.dir.Path("pki/gw.pem"));
  EXPECT_EQ(v.p2s.pool, Pfx("10.9.9.0/24"));
  // Default: one prefix over the VM network, holding the gateway CA (kernel-libipsec
  // needs a compartment address inside each local selector).
  EXPECT_EQ(v.p2s.routes, std::vector<IpPrefix>{Pfx("10.0.0.0/22")});
}

TEST(GatewayS2s, TenantsWithoutSectionsHaveAnEmptyVpn) {
  Fixture fx({{"a.yaml", kTenantA}, {"b.yaml", kTenantB}});
  const GatewayLoadResult r = fx.Load();
  ASSERT_TRUE(r.config) << Join(r.errors);
  ASSERT_EQ(r.config->compartments.size(), 2u);
  EXPECT_FALSE(VpnOf(r, "contoso")->NeedsCharon());
  EXPECT_FALSE(VpnOf(r, "fabrikam")->NeedsFrr());
}

TEST(GatewayS2s, PolicyBasedCertificatesAndOptions) {
  VpnFixture fx(
      "site_to_site:\n"
      "  connections:\n"
      "    - name: branch\n"
      "      local_address: 10.1.3.2\n"
      "      peer_address: 198.51.100.7\n"
      "      auth: certificate\n"
      "      certificate: ../pki/gw.pem\n"
      "      private_key: ../pki/gw.key\n"
      "      ca: [../pki/ca.pem]\n"
      "      remote_id: \"CN=branch, O=Contoso\"\n"
      "      mode: policy\n"
      "      remote_ts: [10.7.0.0/16]\n"
      "      initiate: never\n"
      "      dpd_delay: 0\n"
      "      ike_proposals: [aes256-sha256-modp3072, chacha20poly1305-prfsha256-curve25519]\n"
      "      esp_proposals: [aes256-sha256]\n");
  const GatewayLoadResult r = fx.Load();
  ASSERT_TRUE(r.config) << Join(r.errors);
  const s2s::Connection& k = VpnOf(r, "contoso")->connections.at(0);
  EXPECT_EQ(k.auth, s2s::AuthMethod::kCertificate);
  EXPECT_EQ(k.certs.ca, std::vector<std::string>{fx.dir.Path("pki/ca.pem")});
  EXPECT_EQ(k.remote_id, "CN=branch, O=Contoso");
  EXPECT_EQ(k.local_id, "10.1.3.2");
  EXPECT_EQ(k.mode, s2s::TunnelMode::kPolicy);
  // Policy-based: the VM network is the local side by default (one prefix
  // over it that holds the gateway CA), and the gateway CA is the source of
  // what the compartment sends.
  EXPECT_EQ(k.local_ts, std::vector<IpPrefix>{Pfx("10.0.0.0/22")});
  EXPECT_EQ(k.route_source, Ip("10.0.2.2"));
  EXPECT_EQ(k.initiate, s2s::Initiate::kNever);
  EXPECT_EQ(k.dpd_delay, 0u);
  EXPECT_EQ(k.ike_proposals.size(), 2u);
}

TEST(GatewayS2s, NeighbourOnTheExternalSubnetAndAcceptAny) {
  VpnFixture fx(
      "bgp:\n"
      "  asn: 4200000000\n"
      "  router_id: 192.0.2.9\n"
      "  announce: [10.0.1.0/24]\n"
      "  neighbors:\n"
      "    - address: 10.1.3.254\n"
      "      remote_asn: 64512\n"
      "      accept: [any, 10.5.0.0/16 ge 20 le 24]\n"
      "      max_prefixes: 50\n"
      "      keepalive: 5\n"
      "      hold: 15\n");
  const GatewayLoadResult r = fx.Load();
  ASSERT_TRUE(r.config) << Join(r.errors);
  const s2s::Bgp& b = VpnOf(r, "contoso")->bgp;
  EXPECT_EQ(b.asn, 4200000000u);
  EXPECT_EQ(b.router_id, Ip("192.0.2.9"));
  EXPECT_EQ(b.neighbors[0].connection, "");
  EXPECT_TRUE(b.neighbors[0].update_source.IsUnspecified());
  EXPECT_EQ(b.neighbors[0].accept, (std::vector<s2s::PrefixMatch>{{Pfx("0.0.0.0/0"), 0, 32},
                                                                  {Pfx("10.5.0.0/16"), 20, 24}}));
  EXPECT_EQ(b.neighbors[0].max_prefixes, 50u);
  EXPECT_FALSE(VpnOf(r, "contoso")->NeedsCharon());
  EXPECT_TRUE(VpnOf(r, "contoso")->NeedsFrr());
}

// The example of config/README.md ("Site-to-site VPN, BGP and
// point-to-site"), with its secrets file, loads.
TEST(GatewayS2s, ReadmeExampleLoads) {
  const std::string readme = ReadText(SourceDir() / "config" / "README.md");
  auto block = [&](const std::string& first_line) {
    const size_t at = readme.find(first_line);
    EXPECT_NE(at, std::string::npos) << first_line;
    if (at == std::string::npos) return std::string();
    return readme.substr(at, readme.find("```", at) - at);
  };
  std::string sections = block("# tenants/contoso.yaml (after tenant:)");
  for (size_t at; (at = sections.find("/etc/hnv/pki/")) != std::string::npos;)
    sections.replace(at, 13, "../pki/");
  VpnFixture fx(sections, block("# ../secrets/contoso.yaml (chmod 600)"));
  fx.dir.Write("pki/vpn.pem", "-----BEGIN CERTIFICATE-----\n");
  chmod(fx.dir.Write("pki/vpn.key", "-----BEGIN PRIVATE KEY-----\n").c_str(), 0600);
  const GatewayLoadResult r = fx.Load();
  ASSERT_TRUE(r.config) << Join(r.errors);
  const s2s::TenantVpn& v = *VpnOf(r, "contoso");
  EXPECT_EQ(v.connections.at(0).remote_id, "onprem.contoso.example");
  EXPECT_EQ(v.connections.at(0).psk, "a long random pre-shared key");
  EXPECT_EQ(v.bgp.neighbors.at(0).address, Ip("169.254.10.2"));
  EXPECT_EQ(v.p2s.users.at(0).first, "alice");
}

// --- golden files ---

std::string GoldenDir() { return HNV_S2S_GOLDEN_DIR; }

// The rendered files with the temp dir shown as DIR/.
void ExpectGolden(const std::string& case_name, const std::vector<s2s::RenderedFile>& files,
                  const std::string& temp) {
  const bool update = std::getenv("HNV_UPDATE_GOLDEN") != nullptr;
  for (const s2s::RenderedFile& f : files) {
    std::string text = f.text;
    for (size_t at; (at = text.find(temp)) != std::string::npos;)
      text.replace(at, temp.size(), "DIR/");
    const std::string name = case_name + "/" + (f.symlink ? f.name + ".link" : f.name);
    const std::string path = GoldenDir() + "/" + name;
    if (update) {
      fs::create_directories(fs::path(path).parent_path());
      std::ofstream(path) << text;
      continue;
    }
    EXPECT_EQ(text, ReadText(path)) << "golden file " << name << " (HNV_UPDATE_GOLDEN=1 rewrites)";
  }
}

TEST(GatewayS2sGolden, RouteBasedWithBgpAndPointToSite) {
  VpnFixture fx(kVpnSections);
  const GatewayLoadResult r = fx.Load();
  ASSERT_TRUE(r.config) << Join(r.errors);
  const s2s::TenantVpn& v = *VpnOf(r, "contoso");
  const std::string state = "/var/lib/hnv/gw/contoso";
  ExpectGolden("contoso-route-bgp-p2s", s2s::RenderCharon(v, state + "/charon"), fx.dir.Path(""));
  ExpectGolden("contoso-route-bgp-p2s", s2s::RenderFrr(v, state + "/frr"), fx.dir.Path(""));
}

TEST(GatewayS2sGolden, TwoTunnelsPolicyAndCertificates) {
  VpnFixture fx(
      "site_to_site:\n"
      "  secrets: ../secrets/contoso.yaml\n"
      "  connections:\n"
      "    - name: onprem\n"
      "      local_address: 10.1.3.2\n"
      "      peer_address: 10.1.3.100\n"
      "      tunnel: {local: 169.254.10.1, peer: 169.254.10.2}\n"
      "      remote_ts: [10.2.0.0/16]\n"
      "      initiate: on_traffic\n"
      "    - name: branch\n"
      "      local_address: 10.1.3.2\n"
      "      peer_address: 198.51.100.7\n"
      "      auth: certificate\n"
      "      certificate: ../pki/gw.pem\n"
      "      private_key: ../pki/gw.key\n"
      "      ca: [../pki/ca.pem]\n"
      "      local_id: gw.contoso.example\n"
      "      remote_id: \"CN=branch, O=Contoso\"\n"
      "      mode: policy\n"
      "      local_ts: [10.0.0.0/16]\n"
      "      remote_ts: [10.7.0.0/16, 10.8.0.0/16]\n"
      "      initiate: never\n"
      "      ike_rekey: 28800\n"
      "      child_rekey: 1800\n"
      "bgp:\n"
      "  asn: 65001\n"
      "  neighbors:\n"
      "    - address: 169.254.10.2\n"
      "      remote_asn: 65002\n"
      "    - address: 10.1.3.254\n"
      "      remote_asn: 65003\n"
      "      accept: [10.50.0.0/16 le 24]\n");
  const GatewayLoadResult r = fx.Load();
  ASSERT_TRUE(r.config) << Join(r.errors);
  const s2s::TenantVpn& v = *VpnOf(r, "contoso");
  ExpectGolden("contoso-two-tunnels", s2s::RenderCharon(v, "/var/lib/hnv/gw/contoso/charon"),
               fx.dir.Path(""));
  ExpectGolden("contoso-two-tunnels", s2s::RenderFrr(v, "/var/lib/hnv/gw/contoso/frr"),
               fx.dir.Path(""));
}

}  // namespace
}  // namespace hnv::config
