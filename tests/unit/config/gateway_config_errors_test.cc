// LoadGatewayConfig's errors: every invalid gateway or tenant file gives its
// exact "file:line: field: message" lines, all of them, in file order, and
// no config; hnv-vswitch's LoadHostConfig keeps rejecting the gateway's
// sections.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "tests/unit/config/gateway_test_files.h"

namespace hnv::config {
namespace {

using namespace gwtest;  // NOLINT: the fixture files of these tests

struct TenantCase {
  const char* name;
  std::string from;
  std::string to;
  Lines errors;
};

void ExpectTenantCases(const std::vector<TenantCase>& cases) {
  for (const TenantCase& c : cases)
    EXPECT_EQ(TenantErrors(Replace(kTenantA, c.from, c.to)), c.errors) << c.name;
}

const std::string kA = "DIR/tenants/a.yaml:";

TEST(GatewayConfigErrors, KeysAndTypes) {
  ExpectTenantCases({
      {"unknown key, did you mean",
       "  vm_network:\n",
       "  vm_netwrok:\n",
       {kA + "3: tenant.vm_network: missing required key \"vm_network\"",
        kA + "5: tenant.vm_netwrok: unknown key \"vm_netwrok\"; did you mean \"vm_network\"?"}},
      {"missing key",
       "    vsid: 6001\n",
       "",
       {kA + "6: tenant.vm_network.vsid: missing required key \"vsid\""}},
      {"wrong type",
       "      addresses: [10.1.3.2/24]\n",
       "      addresses: 10.1.3.2/24\n",
       {kA + "13: tenant.external[0].addresses: expected a list, got \"10.1.3.2/24\""}},
      {"duplicate key",
       "  name: contoso\n",
       "  name: contoso\n  name: other\n",
       {kA + "4: tenant.name: duplicate key \"name\" (first at line 3)"}},
  });
}

TEST(GatewayConfigErrors, Values) {
  ExpectTenantCases({
      {"vlan",
       "      vlan: 10\n",
       "      vlan: 4095\n",
       {kA + "11: tenant.external[0].vlan: 4095 is outside 0..4094"}},
      {"multicast mac",
       "      mac: 600160010302\n",
       "      mac: 010000000001\n",
       {kA +
        "12: tenant.external[0].mac: 010000000001 is a multicast MAC; a unicast MAC is required"}},
      {"ifname",
       "    - interface: ext0\n",
       "    - interface: external-interface0\n",
       {kA + "9: tenant.external[0].interface: \"external-interface0\" is not a Linux interface "
             "name (1..15 characters, no '/', ':' or whitespace, not . or ..)"}},
      {"lo",
       "    - interface: ext0\n",
       "    - interface: lo\n",
       {kA + "9: tenant.external[0].interface: lo is the namespace's loopback interface; choose "
             "another name"}},
      {"name, namespace, max_routes",
       "  name: contoso\n",
       "  name: con.toso\n  namespace: -x\n  max_routes: 0\n",
       {kA + "3: tenant.name: \"con.toso\" is not a tenant name (letters, digits, '-' and '_')",
        kA + "4: tenant.namespace: \"-x\" is not a network namespace name (at most 255 letters, "
             "digits, '.', '_' and '-', not starting with '.' or '-')",
        kA + "5: tenant.max_routes: 0 is outside 1..16777216"}},
      {"no length",
       "    address: 10.0.2.2/24\n",
       "    address: 10.0.2.2\n",
       {kA + "7: tenant.vm_network.address: 10.0.2.2 has no prefix length (e.g. 10.0.2.2/24)"}},
      {"interface addresses",
       "      addresses: [10.1.3.2/24]\n",
       "      addresses: [10.1.3.0/24, 10.1.3.255/24, 10.1.3.2/33, x]\n",
       {kA + "13: tenant.external[0].addresses[0]: 10.1.3.0/24 is the network address of "
             "10.1.3.0/24; an interface address is one of its hosts",
        kA + "13: tenant.external[0].addresses[1]: 10.1.3.255/24 is the broadcast address of "
             "10.1.3.0/24; an interface address is one of its hosts",
        kA + "13: tenant.external[0].addresses[2]: 10.1.3.2/33: length 33 is outside 1..32",
        kA + "13: tenant.external[0].addresses[3]: x is not an interface address "
             "(address/length, e.g. 10.1.3.2/24)"}},
      {"route host bits",
       "    - destination: 10.0.1.0/24\n",
       "    - destination: 10.0.1.5/24\n",
       {kA + "15: tenant.routes[0].destination: 10.0.1.5/24 has host bits set (did you mean "
             "10.0.1.0/24?)"}},
  });
}

TEST(GatewayConfigErrors, InterfacesAndPorts) {
  ExpectTenantCases({
      {"uplink",
       "      port: external\n",
       "      port: uplink\n",
       {kA + "10: tenant.external[0].port: uplink carries the provider address 192.168.0.11 "
             "(provider_addresses[0], DIR/gw.yaml:9); an external interface is on a port "
             "without one"}},
      {"unknown port",
       "      port: external\n",
       "      port: ext\n",
       {kA + "10: tenant.external[0].port: ext is not a port of this gateway (its ports: "
             "uplink, external)"}},
      {"interface name twice",
       "    - interface: ext0\n",
       "    - interface: vmnet\n",
       {kA + "9: tenant.external[0].interface: vmnet is already the name of tenant.vm_network "
             "(line 5)"}},
      {"same (port, vlan) in one tenant",
       "      addresses: [10.1.3.2/24]\n",
       "      addresses: [10.1.3.2/24]\n    - interface: ext1\n      port: external\n"
       "      vlan: 10\n      mac: 600160010303\n",
       {kA + "16: tenant.external[1].vlan: port external VLAN 10 is already used by "
             "tenant.external[0] (line 11); a port and VLAN carry one external interface"}},
      {"own addresses",
       "      addresses: [10.1.3.2/24]\n",
       "      addresses: [10.0.2.2/24, 10.0.2.7/25]\n",
       {kA + "13: tenant.external[0].addresses[0]: 10.0.2.2 is already an address of vmnet, "
             "tenant.vm_network.address (line 7)",
        kA + "13: tenant.external[0].addresses[1]: 10.0.2.7/25 overlaps vmnet's subnet "
             "10.0.2.0/24, tenant.vm_network.address (line 7); each interface of a compartment "
             "is on its own subnet"}},
  });
}

TEST(GatewayConfigErrors, Routes) {
  ExpectTenantCases({
      {"not connected",
       "      next_hop: 10.0.2.1\n",
       "      next_hop: 10.9.9.1\n",
       {kA + "16: tenant.routes[0].next_hop: 10.9.9.1 is not on a connected subnet of this "
             "tenant (vmnet 10.0.2.0/24, ext0 10.1.3.0/24); give interface for a next hop "
             "elsewhere"}},
      {"unknown interface",
       "      next_hop: 10.0.2.1\n",
       "      next_hop: 10.0.2.1\n      interface: eth9\n",
       {kA + "17: tenant.routes[0].interface: eth9 is not an interface of this tenant (vmnet, "
             "ext0)"}},
      {"on-link without interface",
       "      next_hop: 10.0.2.1\n",
       "      metric: 5\n",
       {kA + "15: tenant.routes[0].interface: missing required key \"interface\" (a route "
             "without a next_hop is on-link through an interface)"}},
      {"own address",
       "      next_hop: 10.0.2.1\n",
       "      next_hop: 10.0.2.2\n",
       {kA + "16: tenant.routes[0].next_hop: 10.0.2.2 is this tenant's own address on vmnet, "
             "tenant.vm_network.address (line 7)"}},
      {"family",
       "      next_hop: 10.0.2.1\n",
       "      next_hop: fd00::1\n",
       {kA + "16: tenant.routes[0].next_hop: fd00::1 is IPv6 and the destination 10.0.1.0/24 "
             "IPv4"}},
      {"twice",
       "      next_hop: 10.0.2.1\n",
       "      next_hop: 10.0.2.1\n    - destination: 10.0.1.0/24\n      next_hop: 10.1.3.1\n",
       {kA + "17: tenant.routes[1].destination: 10.0.1.0/24 with metric 0 is already "
             "tenant.routes[0] (line 15)"}},
  });
}

TEST(GatewayConfigErrors, AgainstThePolicy) {
  ExpectTenantCases({
      {"rdid",
       "  rdid: \"{12345678-1000-2000-3000-123456780001}\"\n",
       "  rdid: \"{12345678-1000-2000-3000-123456780009}\"\n",
       {kA +
        "4: tenant.rdid: {12345678-1000-2000-3000-123456780009} is not a routing domain of "
        "this gateway's policy (its routing domains: {12345678-1000-2000-3000-123456780001})"}},
      {"vsid",
       "    vsid: 6001\n",
       "    vsid: 6002\n",
       {kA + "6: tenant.vm_network.vsid: 6002 is not a virtual subnet of this gateway's policy"}},
      {"outside",
       "    address: 10.0.2.2/24\n",
       "    address: 10.0.3.2/24\n",
       {kA + "7: tenant.vm_network.address: 10.0.3.2/24 is outside virtual subnet 6001 "
             "(10.0.2.0/24)"}},
      {"dfgw",
       "    address: 10.0.2.2/24\n",
       "    address: 10.0.2.1/24\n",
       {kA + "7: tenant.vm_network.address: 10.0.2.1 is the default gateway (DFGW) address of "
             "virtual subnet 6001 (10.0.2.0/24); the gateway CA is another one"}},
      {"network",
       "    address: 10.0.2.2/24\n",
       "    address: 10.0.2.0/24\n",
       {kA + "7: tenant.vm_network.address: 10.0.2.0 is the network address of virtual subnet "
             "6001 (10.0.2.0/24); the gateway CA is another one"}},
      {"broadcast",
       "    address: 10.0.2.2/24\n",
       "    address: 10.0.2.255/24\n",
       {kA + "7: tenant.vm_network.address: 10.0.2.255 is the broadcast address of virtual "
             "subnet 6001 (10.0.2.0/24); the gateway CA is another one"}},
      {"length",
       "    address: 10.0.2.2/24\n",
       "    address: 10.0.2.2/25\n",
       {kA + "7: tenant.vm_network.address: 10.0.2.2/25: the length is that of virtual subnet "
             "6001 (10.0.2.0/24), 24"}},
      {"no lookup record",
       "    address: 10.0.2.2/24\n",
       "    address: 10.0.2.3/24\n",
       {kA + "7: tenant.vm_network.address: no lookup record has 10.0.2.3 on virtual subnet "
             "6001; the gateway CA needs one (its MAC, and this gateway's provider address)"}},
      {"mac and mtu",
       "    address: 10.0.2.2/24\n",
       "    address: 10.0.2.2/24\n    mac: 600160010399\n    mtu: 1500\n",
       {kA + "8: tenant.vm_network.mac: 600160010399 is not the MAC of the lookup record of "
             "10.0.2.2, lookup_records[1] (DIR/policy-1.yaml:17): 600160010301",
        kA + "9: tenant.vm_network.mtu: 1500 is more than the VM network carries: underlay_mtu "
             "1500 - 42 (NVGRE over IPv4) = 1458"}},
  });
}

TEST(GatewayConfigErrors, LookupRecordOnAnotherHost) {
  Fixture f({{"a.yaml", kTenantA}});
  f.dir.Write("policy-1.yaml", Replace(PolicyFile('1', "6"), "provider_address: 192.168.0.11",
                                       "provider_address: 192.168.0.33"));
  EXPECT_EQ(f.Errors(),
            (Lines{kA + "7: tenant.vm_network.address: the lookup record of 10.0.2.2, "
                        "lookup_records[1] (DIR/policy-1.yaml:17), has the provider address "
                        "192.168.0.33, not one of this gateway's (192.168.0.11)"}));
}

TEST(GatewayConfigErrors, ConflictsAcrossTenantFiles) {
  const std::string kB = "DIR/tenants/b.yaml:";
  EXPECT_EQ(Fixture({{"a.yaml", kTenantA}, {"b.yaml", Replace(kTenantB, "vlan: 20", "vlan: 10")}})
                .Errors(),
            (Lines{kB + "11: tenant.external[0].vlan: port external VLAN 10 is already used by "
                        "tenant.external[0] of tenant contoso (DIR/tenants/a.yaml:11); a port and "
                        "VLAN carry one external interface"}));
  EXPECT_EQ(Fixture({{"a.yaml", kTenantA},
                     {"b.yaml", Replace(kTenantB, "name: fabrikam", "name: contoso")}})
                .Errors(),
            (Lines{kB + "3: tenant.name: contoso is already the tenant name of "
                        "DIR/tenants/a.yaml:3; a tenant's name is unique on the gateway"}));
  EXPECT_EQ(Fixture({{"a.yaml", kTenantA},
                     {"b.yaml", Replace(kTenantB, "name: fabrikam",
                                        "name: fabrikam\n  namespace: hnv-contoso")}})
                .Errors(),
            (Lines{kB + "4: tenant.namespace: hnv-contoso is already the namespace of tenant "
                        "contoso (DIR/tenants/a.yaml:3)"}));
  EXPECT_EQ(
      Fixture({{"a.yaml", kTenantA}, {"b.yaml", Tenant("fabrikam", '1', "6", "20")}}).Errors(),
      (Lines{kB + "4: tenant.rdid: {12345678-1000-2000-3000-123456780001} is already the "
                  "routing domain of tenant contoso (DIR/tenants/a.yaml:4); one tenant per "
                  "routing domain"}));
  EXPECT_EQ(Fixture({{"a.yaml", Replace(kTenantA, "    vsid: 6001\n", "    vsid: 7001\n")},
                     {"b.yaml", kTenantB}})
                .Errors(),
            (Lines{kA + "6: tenant.vm_network.vsid: 7001 is a virtual subnet of routing domain "
                        "{12345678-1000-2000-3000-123456780002}, not of this tenant's "
                        "{12345678-1000-2000-3000-123456780001}"}));
}

TEST(GatewayConfigErrors, SectionsInTheWrongFile) {
  EXPECT_EQ(TenantErrors(Replace(kTenantA, "tenant:\n",
                                 "host:\n  name: x\nports: []\ngateway: {}\n"
                                 "vm_network_adapters: []\ntenant:\n")),
            (Lines{kA + "2: host: only the gateway file (DIR/gw.yaml) has a host section",
                   kA + "4: ports: ports belong in the gateway file (DIR/gw.yaml); a tenant file "
                        "and the files it includes hold a tenant and its policy",
                   kA + "5: gateway: only the gateway file (DIR/gw.yaml) has a gateway section",
                   kA + "6: vm_network_adapters: a gateway has no VM network adapters; a "
                        "tenant's interface into its VM network is tenant.vm_network in its "
                        "tenant file"}));
  EXPECT_EQ(Fixture({{"a.yaml", kTenantA}}, kGateway + "tenant:\n  name: x\n").Errors(),
            (Lines{"DIR/gw.yaml:13: tenant: a tenant is a file of its own in the tenants "
                   "directory (DIR/tenants), not a section of the gateway file"}));
  Fixture included({{"a.yaml", kTenantA}});
  included.dir.Write("policy-1.yaml", PolicyFile('1', "6") + "tenant:\n  name: x\n");
  EXPECT_EQ(included.Errors(),
            (Lines{"DIR/policy-1.yaml:21: tenant: only a tenant file (in DIR/tenants) has a "
                   "tenant section; an included file holds policy"}));
  EXPECT_EQ(
      Fixture({{"a.yaml", kTenantA}, {"b.yaml", ""}, {"c.yaml", "include: ../policy-2.yaml\n"}})
          .Errors(),
      (Lines{"DIR/tenants/b.yaml: tenant: missing required key \"tenant\" (the file is empty)",
             "DIR/tenants/c.yaml:1: tenant: missing required key \"tenant\""}));
  Fixture twice({{"a.yaml", kTenantA}}, kGateway + "include: tenants/b.yaml\n");
  twice.dir.Write("tenants/b.yaml", "lookup_records: []\n");
  EXPECT_EQ(twice.Errors(),
            (Lines{"DIR/tenants/b.yaml: this file is included by the gateway file's "
                   "configuration, but every *.yaml in the tenants directory is a tenant file, "
                   "read on its own"}));
}

TEST(GatewayConfigErrors, GatewaySection) {
  EXPECT_EQ(
      Fixture({{"a.yaml", kTenantA}}, kGateway + "gateway:\n  tenants_dir: nothere\n").Errors(),
      (Lines{"DIR/gw.yaml:14: gateway.tenants_dir: cannot read the tenants directory "
             "DIR/nothere: No such file or directory"}));
  EXPECT_EQ(Fixture({{"a.yaml", kTenantA}},
                    kGateway + "gateway:\n  tenants_dir: ''\n  namespace_prefix: .x\n"
                               "  state_dir: var/x\n  tenant_dir: x\n")
                .Errors(),
            (Lines{"DIR/gw.yaml:14: gateway.tenants_dir: an empty path is not a directory",
                   "DIR/gw.yaml:15: gateway.namespace_prefix: \".x\" is not a namespace prefix "
                   "(letters, digits, '.', '_' and '-', not starting with '.' or '-')",
                   "DIR/gw.yaml:16: gateway.state_dir: \"var/x\" is not an absolute path",
                   "DIR/gw.yaml:17: gateway.tenant_dir: unknown key \"tenant_dir\"; did you mean "
                   "\"tenants_dir\"?"}));
  std::string ports = "  - name: external\n    device: net_null1\n";
  for (int i = 2; i <= 64; ++i)
    ports +=
        "  - name: p" + std::to_string(i) + "\n    device: net_null" + std::to_string(i) + "\n";
  EXPECT_EQ(Fixture({{"a.yaml", kTenantA}},
                    Replace(kGateway, "  - name: external\n    device: net_null1\n", ports))
                .Errors(),
            (Lines{"DIR/gw.yaml:132: ports[64].name: a gateway has at most 64 ports (policy ports "
                   "64.. are its compartments' interfaces into their VM networks)"}));
}

TEST(GatewayConfigErrors, PolicyErrorsAboutTheCompartmentAreAtTheTenant) {
  // The routing domain's gateway is 10.0.2.3: the compartment's VmPort (CA
  // 10.0.2.2's MAC) on the gateway VSID breaks "the gateway is on its own
  // VSID", reported at the tenant's vm_network.
  Fixture f({{"a.yaml", kTenantA}});
  f.dir.Write("policy-1.yaml",
              Replace(PolicyFile('1', "6"), "next_hop: 10.0.2.2", "next_hop: 10.0.2.3"));
  EXPECT_EQ(f.Errors(),
            (Lines{kA + "6: tenant.vm_network.vsid: 6001 is the subnet of the gateway 10.0.2.3 "
                        "(routing_domains[0].customer_routes[0] (DIR/policy-1.yaml:9)); the "
                        "gateway is on its own VSID, shared only with the default gateway record",
                   "DIR/policy-1.yaml:18: lookup_records[1].vsid: 6001 is the subnet of the "
                   "gateway 10.0.2.3 (routing_domains[0].customer_routes[0] (line 9)); the "
                   "gateway is on its own VSID, shared only with the default gateway record"}));
}

TEST(GatewayConfigVswitch, LoadHostConfigRejectsTheGatewaySections) {
  TempDir dir;
  const std::string host =
      "host:\n  name: h\nports:\n  - name: uplink\n    device: net_null0\n"
      "tenant:\n  name: contoso\ngateway:\n  tenants_dir: tenants\n";
  const LoadResult r = LoadHostConfig(dir.Write("h.yaml", host));
  EXPECT_FALSE(r.config.has_value());
  Lines got;
  for (const ConfigError& e : r.errors) got.push_back(e.ToString());
  const std::string known =
      " (known keys: include, host, ports, provider_addresses, provider_routes, "
      "vm_network_adapters, routing_domains, lookup_records)";
  EXPECT_EQ(got, (Lines{dir.Path("h.yaml") + ":6: tenant: unknown key \"tenant\"" + known,
                        dir.Path("h.yaml") + ":8: gateway: unknown key \"gateway\"" + known}));
}

}  // namespace
}  // namespace hnv::config
