// A tenant file's `nat:` and `load_balancers:` (config/yaml_nat.h): a valid
// file read into GatewayConfig::nat, and every invalid one's exact
// "file:line: field: message" lines (golden), with no config.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "tests/unit/config/gateway_test_files.h"

namespace hnv::config {
namespace {

using namespace gwtest;  // NOLINT: the fixture files of these tests

// Appended to kTenantA (16 lines): line numbers in the comments.
const std::string kNat =
    "nat:\n"                                                          // 17
    "  addresses: [10.1.3.10, 10.1.3.2]\n"                            // 18
    "  interfaces: [ext0]\n"                                          // 19
    "  ports: {first: 1024, last: 65535}\n"                           // 20
    "  filtering: endpoint-independent\n"                             // 21
    "  hairpinning: true\n"                                           // 22
    "  timeouts: {udp: 120}\n"                                        // 23
    "  limits: {sessions: 100000, sessions_per_host: 1000, hosts: 500}\n"  // 24
    "  static:\n"                                                     // 25
    "    - external: 10.1.3.20\n"                                     // 26
    "      internal: 10.0.1.120\n"                                    // 27
    "  port_forwards:\n"                                              // 28
    "    - protocol: tcp\n"                                           // 29
    "      external: 10.1.3.2\n"                                      // 30
    "      external_port: 80\n"                                       // 31
    "      internal: 10.0.1.102\n"                                    // 32
    "      internal_port: 8080\n"                                     // 33
    "load_balancers:\n"                                               // 34
    "  - name: web\n"                                                 // 35
    "    vip: 10.1.3.50\n"                                            // 36
    "    protocol: tcp\n"                                             // 37
    "    port: 443\n"                                                 // 38
    "    empty_pool: reset\n"                                         // 39
    "    backends:\n"                                                 // 40
    "      - address: 10.0.1.11\n"                                    // 41
    "        port: 8443\n"                                            // 42
    "      - address: 10.0.1.12\n"                                    // 43
    "        port: 8443\n"                                            // 44
    "        weight: 3\n"                                             // 45
    "    health_check:\n"                                             // 46
    "      type: http\n"                                              // 47
    "      path: /healthz\n"                                          // 48
    "      interval_ms: 1000\n";                                      // 49

const std::string kA = "DIR/tenants/a.yaml:";

TEST(NatConfig, ReadsTheSections) {
  Fixture f({{"a.yaml", kTenantA + kNat}});
  const GatewayLoadResult r = f.Load();
  ASSERT_TRUE(r.config) << Join(r.errors);
  ASSERT_EQ(r.config->compartments.size(), 1u);
  const nat::TenantNat& t = r.config->compartments[0].nat;
  const nat::NatSpec& n = t.nat;
  EXPECT_TRUE(n.enabled);
  EXPECT_EQ(n.addresses, (std::vector<IpAddr>{Ip("10.1.3.10"), Ip("10.1.3.2")}));
  EXPECT_EQ(n.interfaces, std::vector<std::string>{"ext0"});
  // The routing domain's IPv4 prefixes by default.
  EXPECT_EQ(n.internal, (std::vector<IpPrefix>{*IpPrefix::Parse("10.0.1.0/24"),
                                               *IpPrefix::Parse("10.0.2.0/24")}));
  EXPECT_EQ(n.filtering, nat::Filtering::kEndpointIndependent);
  EXPECT_EQ(n.timeouts, (nat::Timeouts{7440, 240, 120, 60}));
  EXPECT_EQ(n.limits, (nat::NatLimits{100000, 1000, 500}));
  EXPECT_EQ(n.static_nat, (std::vector<nat::StaticNat>{{Ip("10.1.3.20"), Ip("10.0.1.120")}}));
  EXPECT_EQ(n.port_forwards,
            (std::vector<nat::PortForward>{{6, Ip("10.1.3.2"), 80, Ip("10.0.1.102"), 8080}}));
  ASSERT_EQ(t.load_balancers.size(), 1u);
  const nat::LoadBalancerSpec& lb = t.load_balancers[0];
  EXPECT_EQ(lb.name, "web");
  EXPECT_EQ(lb.vip, Ip("10.1.3.50"));
  EXPECT_EQ(lb.port, 443);
  EXPECT_EQ(lb.table_size, 65537u);
  EXPECT_EQ(lb.empty_pool, nat::EmptyPool::kReset);
  EXPECT_EQ(lb.backends, (std::vector<nat::Backend>{{Ip("10.0.1.11"), 8443, 1},
                                                    {Ip("10.0.1.12"), 8443, 3}}));
  EXPECT_EQ(lb.health.kind, nat::HealthKind::kHttp);
  EXPECT_EQ(lb.health.path, "/healthz");
  EXPECT_EQ(lb.health.interval_ms, 1000u);
  // A tenant without the sections has an empty, disabled spec.
  Fixture plain({{"a.yaml", kTenantA}});
  const GatewayLoadResult p = plain.Load();
  ASSERT_TRUE(p.config) << Join(p.errors);
  ASSERT_EQ(p.config->compartments.size(), 1u);
  EXPECT_EQ(p.config->compartments[0].nat, nat::TenantNat{});
}

struct Case {
  const char* name;
  std::string from, to;
  Lines errors;
};

void ExpectCases(const std::vector<Case>& cases) {
  for (const Case& c : cases)
    EXPECT_EQ(TenantErrors(kTenantA + Replace(kNat, c.from, c.to)), c.errors) << c.name;
}

TEST(NatConfigErrors, KeysAndValues) {
  ExpectCases({
      {"unknown key", "  hairpinning: true\n", "  hairpining: true\n",
       {kA + "22: nat.hairpining: unknown key \"hairpining\"; did you mean \"hairpinning\"?"}},
      {"filtering", "endpoint-independent", "full-cone",
       {kA + "21: nat.filtering: full-cone is not a filtering behaviour "
             "(address-and-port-dependent or endpoint-independent)"}},
      {"port range", "{first: 1024, last: 65535}", "{first: 0, last: 70000}",
       {kA + "20: nat.ports.first: 0 is outside 1..65535",
        kA + "20: nat.ports.last: 70000 is outside 1..65535"}},
      {"timeout", "{udp: 120}", "{udp: 0, tcp_established: 604801}",
       {kA + "23: nat.timeouts.tcp_established: 604801 is outside 1..604800",
        kA + "23: nat.timeouts.udp: 0 is outside 1..604800"}},
      {"protocol", "    - protocol: tcp\n", "    - protocol: sctp\n",
       {kA + "29: nat.port_forwards[0].protocol: sctp is not a protocol (tcp or udp)"}},
      {"health path", "      path: /healthz\n", "      path: healthz now\n",
       {kA + "48: load_balancers[0].health_check.path: \"healthz now\" is not a URL path "
             "(starting with '/', no spaces or control characters)"}},
      {"weight", "        weight: 3\n", "        weight: 1001\n",
       {kA + "45: load_balancers[0].backends[1].weight: 1001 is outside 0..1000"}},
  });
}

TEST(NatConfigErrors, AddressesAndInterfaces) {
  ExpectCases({
      {"pool address not on an external subnet", "[10.1.3.10, 10.1.3.2]", "[10.1.4.10, 10.1.3.2]",
       {kA + "18: nat.addresses[0]: 10.1.4.10 is not on an external interface of this tenant "
             "(its external subnets: ext0 10.1.3.0/24); a pool address must be reachable there"}},
      {"pool address twice", "[10.1.3.10, 10.1.3.2]", "[10.1.3.10, 10.1.3.10]",
       {kA + "18: nat.addresses[1]: 10.1.3.10 is already nat.addresses[0] (line 18)"}},
      {"broadcast", "[10.1.3.10, 10.1.3.2]", "[10.1.3.255]",
       {kA + "18: nat.addresses[0]: 10.1.3.255 is the network or broadcast address of ext0's "
             "10.1.3.0/24"}},
      {"ipv6", "[10.1.3.10, 10.1.3.2]", "[fd00::1]",
       {kA + "18: nat.addresses[0]: fd00::1 is IPv6; NAT44 and the load balancer translate "
             "IPv4"}},
      {"interface", "  interfaces: [ext0]\n", "  interfaces: [vmnet, ext0, ext9]\n",
       {kA + "19: nat.interfaces[0]: vmnet is not an external interface of this tenant (ext0)",
        kA + "19: nat.interfaces[2]: ext9 is not an external interface of this tenant (ext0)"}},
      {"limits", "sessions_per_host: 1000", "sessions_per_host: 200000",
       {kA + "24: nat.limits: sessions_per_host 200000 is above sessions 100000"}},
  });
}

TEST(NatConfigErrors, OverlappingMappings) {
  ExpectCases({
      {"static on a pool address", "    - external: 10.1.3.20\n", "    - external: 10.1.3.10\n",
       {kA + "26: nat.static[0].external: 10.1.3.10 is a NAT pool address; a static mapping "
             "needs an address of its own"}},
      {"forward in the dynamic range", "      external_port: 80\n", "      external_port: 8080\n",
       {kA + "31: nat.port_forwards[0].external_port: 8080 is in the NAT's port range "
             "1024-65535 on its pool address 10.1.3.2; forward a port outside it, or from "
             "another address"}},
      {"forward from a static address", "      external: 10.1.3.2\n",
       "      external: 10.1.3.20\n",
       {kA + "30: nat.port_forwards[0].external: 10.1.3.20 is the static mapping nat.static[0] "
             "(line 26), which forwards every port already"}},
      {"forward twice",
       "      internal_port: 8080\n",
       "      internal_port: 8080\n"
       "    - protocol: tcp\n"
       "      external: 10.1.3.2\n"
       "      external_port: 80\n"
       "      internal: 10.0.1.102\n"
       "      internal_port: 8080\n",
       {kA + "36: nat.port_forwards[1].external_port: tcp 10.1.3.2:80 is already forwarded by "
             "nat.port_forwards[0] (line 29)",
        kA + "38: nat.port_forwards[1].internal_port: tcp 10.0.1.102:8080 is already the inside "
             "end of nat.port_forwards[0] (line 29); its answers could not tell which to use"}},
      {"VIP on the static address", "    vip: 10.1.3.50\n", "    vip: 10.1.3.20\n",
       {kA + "36: load_balancers[0].vip: 10.1.3.20 is the static mapping nat.static[0] (line "
             "26)'s external address"}},
      {"VIP on a forwarded port", "    vip: 10.1.3.50\n    protocol: tcp\n    port: 443\n",
       "    vip: 10.1.3.2\n    protocol: tcp\n    port: 80\n",
       {kA + "38: load_balancers[0].port: tcp 10.1.3.2:80 is already forwarded by "
             "nat.port_forwards[0] (line 29)"}},
      {"backend that is forwarded", "      - address: 10.0.1.11\n        port: 8443\n",
       "      - address: 10.0.1.102\n        port: 8080\n",
       {kA + "42: load_balancers[0].backends[0].port: tcp 10.0.1.102:8080 is the inside end of "
             "nat.port_forwards[0] (line 29); its answers could not tell which to use"}},
  });
}

TEST(NatConfigErrors, LoadBalancers) {
  ExpectCases({
      {"VIP not on an attachment", "    vip: 10.1.3.50\n", "    vip: 192.0.2.50\n",
       {kA + "36: load_balancers[0].vip: 192.0.2.50 is not on an external interface of this "
             "tenant (its external subnets: ext0 10.1.3.0/24); a VIP must be reachable there"}},
      {"table not prime", "    empty_pool: reset\n", "    empty_pool: reset\n    table_size: 65536\n",
       {kA + "40: load_balancers[0].table_size: 65536 is not a prime (Maglev needs one; 65537 "
             "is)"}},
      {"table too small for the pool",
       "    backends:\n      - address: 10.0.1.11\n        port: 8443\n"
       "      - address: 10.0.1.12\n        port: 8443\n        weight: 3\n",
       "    table_size: 251\n    backends:\n" + [] {
         std::string s;
         for (int i = 0; i < 26; ++i)
           s += "      - {address: 10.0.1." + std::to_string(20 + i) + ", port: 80}\n";
         return s;
       }(),
       {kA + "40: load_balancers[0].table_size: 251 entries for 26 backends: the table needs at "
             "least 10 entries per backend for even shares"}},
      {"reset for udp", "    protocol: tcp\n", "    protocol: udp\n",
       {kA + "39: load_balancers[0].empty_pool: reset answers TCP only; a udp load balancer "
             "drops (empty_pool: drop)"}},
      {"backend twice", "      - address: 10.0.1.12\n", "      - address: 10.0.1.11\n",
       {kA + "43: load_balancers[0].backends[1]: tcp 10.0.1.11:8443 is already "
             "load_balancers[0].backends[0] (line 41); a backend's port serves one load "
             "balancer (its answers are translated by it)"}},
      {"name twice",
       "      interval_ms: 1000\n",
       "      interval_ms: 1000\n"
       "  - name: web\n"
       "    vip: 10.1.3.50\n"
       "    protocol: udp\n"
       "    port: 53\n"
       "    backends: [{address: 10.0.1.11, port: 53}]\n",
       {kA + "50: load_balancers[1].name: web is already the name of load_balancers[0] (line "
             "35)"}},
      {"health timeout above interval", "      interval_ms: 1000\n",
       "      interval_ms: 1000\n      timeout_ms: 2000\n",
       {kA + "50: load_balancers[0].health_check.timeout_ms: 2000 is above interval_ms 1000"}},
      {"no backends", "    backends:\n      - address: 10.0.1.11\n        port: 8443\n"
                      "      - address: 10.0.1.12\n        port: 8443\n        weight: 3\n",
       "    backends: []\n",
       {kA + "40: load_balancers[0].backends: a load balancer needs at least one backend"}},
  });
}

// Phase 2: against the routing domain's virtual subnets.
TEST(NatConfigErrors, InsideAddressesInTheVmNetwork) {
  ExpectCases({
      {"unknown DIP subnet", "      - address: 10.0.1.12\n", "      - address: 10.0.9.12\n",
       {kA + "43: load_balancers[0].backends[1].address: 10.0.9.12 is not in a virtual subnet of "
             "routing domain {12345678-1000-2000-3000-123456780001} (its IPv4 subnets: "
             "10.0.1.0/24 (VSID 6000), 10.0.2.0/24 (VSID 6001))"}},
      {"static inside elsewhere", "      internal: 10.0.1.120\n", "      internal: 172.16.0.1\n",
       {kA + "27: nat.static[0].internal: 172.16.0.1 is not in a virtual subnet of routing "
             "domain {12345678-1000-2000-3000-123456780001} (its IPv4 subnets: 10.0.1.0/24 "
             "(VSID 6000), 10.0.2.0/24 (VSID 6001))"}},
      {"the gateway itself", "      internal: 10.0.1.102\n", "      internal: 10.0.2.2\n",
       {kA + "32: nat.port_forwards[0].internal: 10.0.2.2 is the gateway's own address in the "
             "VM network"}},
  });
}

// config/README.md's example, appended to the chapter's tenant file, loads.
TEST(NatConfig, ReadmeExampleLoads) {
  const std::string readme = ReadText(SourceDir() / "config" / "README.md");
  const size_t at = readme.find("Example (after the `tenant:` section");
  ASSERT_NE(at, std::string::npos);
  const size_t begin = readme.find("```yaml\n", at) + 8;
  const size_t end = readme.find("```", begin);
  const std::string example = readme.substr(begin, end - begin);
  TempDir dir;
  dir.Write("contoso.yaml", ReadText(ChapterDir() / "contoso.yaml"));
  dir.Write("gateway/gateway.yaml", ReadText(ChapterDir() / "gateway" / "gateway.yaml"));
  dir.Write("gateway/tenants/contoso.yaml",
            ReadText(ChapterDir() / "gateway" / "tenants" / "contoso.yaml") + example);
  const GatewayLoadResult r = LoadGatewayConfig(dir.Path("gateway/gateway.yaml"));
  ASSERT_TRUE(r.config) << Join(r.errors);
  ASSERT_EQ(r.config->compartments.size(), 1u);
  EXPECT_EQ(r.config->compartments[0].nat.nat.addresses.size(), 2u);
  EXPECT_EQ(r.config->compartments[0].nat.nat.port_forwards.size(), 1u);
  ASSERT_EQ(r.config->compartments[0].nat.load_balancers.size(), 1u);
  EXPECT_EQ(r.config->compartments[0].nat.load_balancers[0].backends.size(), 2u);
}

TEST(NatConfigErrors, OnlyInTenantFiles) {
  Fixture f({{"a.yaml", kTenantA}}, kGateway + "nat:\n  addresses: [10.1.3.10]\n");
  EXPECT_EQ(f.Errors(), Lines{"DIR/gw.yaml:13: nat: nat belongs in a tenant file (beside its "
                              "tenant: section)"});
}

}  // namespace
}  // namespace hnv::config
