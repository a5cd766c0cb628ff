// LoadGatewayConfig: the chapter's gateway (config/examples/chapter/gateway)
// and config/README.md's example must give exactly the expected GatewayConfig
// and compartment; the defaults; tenants with overlapping CA space; stable
// ids. The errors are in gateway_config_errors_test.cc.
#include "config/gateway_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "config/policy/policy_dump.h"
#include "tests/lib/chapter_policy.h"
#include "tests/unit/config/gateway_test_files.h"

namespace hnv::config {
namespace {

using namespace gwtest;  // NOLINT: the fixture files of these tests

// ---------------------------------------------------------------------------
// The chapter's gateway.

CompartmentSpec ChapterContoso() {
  CompartmentSpec s;
  s.name = "contoso";
  s.id = 0;
  s.rdid = test::ContosoRdid();
  s.netns = "hnv-contoso";
  s.max_routes = 16384;
  s.vm_interface = "vmnet";
  s.vsid = 6001;
  s.vm_address = If("10.0.2.2", 24);
  s.vm_mac = test::Mac("600160010301");
  s.vm_port = 64;
  s.vm_mtu = 1458;
  ExternalSpec ext;
  ext.interface = "ext0";
  ext.port_name = "external";
  ext.port = 1;
  ext.vlan = 0;
  ext.mac = test::Mac("600160010302");
  ext.addresses = {If("10.1.3.2", 24)};
  ext.mtu = 1500;
  s.external = {ext};
  s.routes = {StaticRoute{test::Prefix("10.0.1.0/24"), Ip("10.0.2.1"), "vmnet", 0}};
  s.file = (ChapterDir() / "gateway" / "tenants" / "contoso.yaml").string();
  return s;
}

TEST(GatewayConfigChapter, ExampleIsTheExpectedConfig) {
  const std::string path = (ChapterDir() / "gateway" / "gateway.yaml").string();
  const GatewayLoadResult r = LoadGatewayConfig(path);
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  ASSERT_TRUE(r.config);
  const GatewayConfig& c = *r.config;
  EXPECT_EQ(c.host.host_name, "gateway");
  EXPECT_EQ(c.host.control_socket, "/run/hnv/gateway.sock");
  ASSERT_EQ(c.host.ports.size(), 2u);
  EXPECT_EQ(c.host.ports[0].name, "uplink");
  EXPECT_EQ(c.host.ports[0].device, "net_af_packet0,iface=uplink");
  EXPECT_EQ(c.host.ports[1].index, 1);
  EXPECT_EQ(c.host.ports[1].name, "external");
  EXPECT_EQ(c.host.ports[1].device, "net_af_packet1,iface=external");
  EXPECT_EQ(c.namespace_prefix, "hnv-");
  EXPECT_EQ(c.state_dir, "/var/lib/hnv/gateway");
  const std::string tenants = (ChapterDir() / "gateway" / "tenants").string();
  EXPECT_EQ(c.tenants_dir, tenants);
  EXPECT_EQ(c.tenant_files, Lines{tenants + "/contoso.yaml"});
  EXPECT_EQ(c.host.files, (Lines{path, tenants + "/contoso.yaml",
                                 (ChapterDir() / "contoso.yaml").lexically_normal().string()}));
  ASSERT_EQ(c.compartments.size(), 1u);
  EXPECT_EQ(c.compartments[0], ChapterContoso());

  // The policy is the gateway host's of the chapter, with the compartment's
  // interface into VSID 6001 as the local VM adapter MT-GW's NIC was.
  Policy want = test::ChapterGatewayHost();
  want.vm_ports = {
      VmPort{"compartment contoso", kFirstVirtualPort, test::Mac("600160010301"), 6001}};
  // The compartment is the tenant's router: a trusted port, no port security.
  want.vm_ports[0].Trust();
  EXPECT_EQ(DumpPolicy(c.host.policy), DumpPolicy(want));
  ASSERT_EQ(c.host.policy.vm_ports.size(), 1u);
  EXPECT_EQ(c.host.policy.vm_ports[0].port, kFirstVirtualPort);
  EXPECT_EQ(c.host.policy.routing_domains.size(), 1u);
  EXPECT_EQ(c.host.policy.subnets.size(), 2u);
}

TEST(GatewayConfigChapter, ReadmeErrorsOnTheChapterLayout) {
  TempDir dir;
  const std::string d = dir.Path("");
  auto errors = [&] {
    Lines got;
    for (const ConfigError& e : LoadGatewayConfig(dir.Path("gateway/gateway.yaml")).errors)
      got.push_back(e.ToString());
    return got;
  };
  dir.Write("contoso.yaml", ReadText(ChapterDir() / "contoso.yaml"));
  const std::string tenant = ReadText(ChapterDir() / "gateway" / "tenants" / "contoso.yaml");
  dir.Write("gateway/gateway.yaml", ReadText(ChapterDir() / "gateway" / "gateway.yaml"));
  dir.Write("gateway/tenants/contoso.yaml",
            Replace(tenant, "mac: 600160010301", "mac: 600160010399"));
  EXPECT_EQ(errors(), (Lines{d +
                             "gateway/tenants/contoso.yaml:14: tenant.vm_network.mac: "
                             "600160010399 is not the MAC of the lookup record of 10.0.2.2, "
                             "lookup_records[4] (" +
                             d + "contoso.yaml:56): 600160010301"}));

  dir.Write("gateway/tenants/contoso.yaml", tenant);
  dir.Write("policy-2.yaml", PolicyFile('2', "7"));
  std::string fabrikam = Replace(tenant, "../../contoso.yaml", "../../policy-2.yaml");
  fabrikam = Replace(fabrikam, "name: contoso", "name: fabrikam");
  fabrikam = Replace(fabrikam, "namespace: hnv-contoso", "namespace: hnv-fabrikam");
  fabrikam = Replace(fabrikam, "123456780001", "123456780002");
  dir.Write("gateway/tenants/fabrikam.yaml", fabrikam);
  EXPECT_EQ(errors(), (Lines{d +
                             "gateway/tenants/fabrikam.yaml:20: tenant.external[0].vlan: port "
                             "external VLAN 0 is already used by tenant.external[0] of tenant "
                             "contoso (" +
                             d +
                             "gateway/tenants/contoso.yaml:20); a port and VLAN carry one "
                             "external interface"}));
}

// config/README.md's gateway example: every ```yaml block that starts with
// "# gateway file: NAME", next to the chapter's contoso.yaml, loads and gives
// the chapter's compartment.
TEST(GatewayConfigChapter, ReadmeExampleLoads) {
  std::ifstream in(SourceDir() / "config" / "README.md");
  ASSERT_TRUE(in) << "config/README.md";
  TempDir dir;
  dir.Write("contoso.yaml", ReadText(ChapterDir() / "contoso.yaml"));
  std::string line, name, block;
  bool in_block = false;
  int files = 0;
  while (std::getline(in, line)) {
    if (!in_block && line == "```yaml") {
      in_block = true;
      name.clear();
      block.clear();
    } else if (in_block && line == "```") {
      in_block = false;
      if (name.empty()) continue;
      dir.Write(name, block);
      ++files;
    } else if (in_block) {
      if (block.empty() && line.rfind("# gateway file: ", 0) == 0) name = line.substr(16);
      block += line + "\n";
    }
  }
  ASSERT_EQ(files, 2);
  const GatewayLoadResult r = LoadGatewayConfig(dir.Path("gateway/gateway.yaml"));
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  ASSERT_EQ(r.config->compartments.size(), 1u);
  CompartmentSpec want = ChapterContoso();
  want.file = dir.Path("gateway/tenants/contoso.yaml");
  EXPECT_EQ(r.config->compartments[0], want);
}

TEST(GatewayConfigChapter, DefaultsOfTheOptionalKeys) {
  // Without namespace, mac, interface, mtu, vlan, metric and the gateway
  // section: the documented defaults.
  std::string t = kTenantA;
  t = Replace(t, "      vlan: 10\n", "");
  Fixture f({{"a.yaml", t}});
  const GatewayLoadResult r = f.Load();
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  const GatewayConfig& c = *r.config;
  EXPECT_EQ(c.namespace_prefix, "hnv-");
  EXPECT_EQ(c.state_dir, "/var/lib/hnv/gw");
  EXPECT_EQ(c.tenants_dir, f.dir.Path("tenants"));
  EXPECT_EQ(c.tenant_files, Lines{f.dir.Path("tenants/a.yaml")});
  ASSERT_EQ(c.compartments.size(), 1u);
  const CompartmentSpec& s = c.compartments[0];
  EXPECT_EQ(s.netns, "hnv-contoso");
  EXPECT_EQ(s.vm_interface, "vmnet");
  EXPECT_EQ(s.vm_mac, test::Mac("600160010301"));  // from the lookup record of 10.0.2.2
  EXPECT_EQ(s.vm_mtu, 1458u);
  EXPECT_EQ(s.max_routes, 16384u);
  EXPECT_EQ(s.file, f.dir.Path("tenants/a.yaml"));
  ASSERT_EQ(s.external.size(), 1u);
  EXPECT_EQ(s.external[0].vlan, 0);
  EXPECT_EQ(s.external[0].mtu, 1500u);
  ASSERT_EQ(s.routes.size(), 1u);
  EXPECT_EQ(s.routes[0].interface, "");
  EXPECT_EQ(s.routes[0].metric, 0u);
}

TEST(GatewayConfigChapter, GatewaySectionAndIpv6Underlay) {
  // An IPv6 PA: the VM network's MTU is underlay_mtu - 62.
  const std::string gw =
      Replace(kGateway, "  name: gw\n", "  name: gw\n  settings:\n    underlay_mtu: 9000\n") +
      "gateway:\n  tenants_dir: t\n  namespace_prefix: gw1-\n  state_dir: /srv/gw\n";
  Fixture f({}, gw);
  f.dir.Write("t/contoso.yaml", kTenantA);
  const GatewayLoadResult r = f.Load();
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  EXPECT_EQ(r.config->tenants_dir, f.dir.Path("t"));
  EXPECT_EQ(r.config->state_dir, "/srv/gw");
  ASSERT_EQ(r.config->compartments.size(), 1u);
  EXPECT_EQ(r.config->compartments[0].netns, "gw1-contoso");
  EXPECT_EQ(r.config->compartments[0].vm_mtu, 9000u - 42u);

  TempDir d6;
  d6.Write("gw.yaml",
           "host:\n  name: gw\nports:\n  - name: uplink\n    device: net_null0\n"
           "  - name: external\n    device: net_null1\n"
           "provider_addresses:\n  - address: fd00::11\n    prefix_length: 64\n"
           "    mac: 223344556677\n    port: uplink\n");
  d6.Write("policy-1.yaml", Replace(PolicyFile('1', "6"), "provider_address: 192.168.0.11",
                                    "provider_address: fd00::11"));
  d6.Write("tenants/a.yaml", kTenantA);
  const GatewayLoadResult r6 = LoadGatewayConfig(d6.Path("gw.yaml"));
  ASSERT_TRUE(r6.errors.empty()) << Join(r6.errors);
  EXPECT_EQ(r6.config->compartments[0].vm_mtu, 1500u - 62u);
}

TEST(GatewayConfigTenants, SameCaPrefixOnTwoVlansLoads) {
  Fixture f({{"a.yaml", kTenantA}, {"b.yaml", kTenantB}});
  const GatewayLoadResult r = f.Load();
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  const GatewayConfig& c = *r.config;
  ASSERT_EQ(c.compartments.size(), 2u);
  const CompartmentSpec& a = c.compartments[0];
  const CompartmentSpec& b = c.compartments[1];
  EXPECT_EQ(a.name, "contoso");
  EXPECT_EQ(b.name, "fabrikam");
  EXPECT_EQ(a.vm_address, b.vm_address);
  EXPECT_EQ(a.external[0].addresses, b.external[0].addresses);
  EXPECT_EQ(a.external[0].port, b.external[0].port);
  EXPECT_EQ(a.external[0].vlan, 10);
  EXPECT_EQ(b.external[0].vlan, 20);
  EXPECT_EQ(a.id, 0u);
  EXPECT_EQ(b.id, 1u);
  EXPECT_EQ(b.vm_port, kFirstVirtualPort + 1);
  EXPECT_EQ(b.vm_mac, test::Mac("700170010301"));
  ASSERT_EQ(c.host.policy.vm_ports.size(), 2u);
  EXPECT_EQ(c.host.policy.vm_ports[0].port, kFirstVirtualPort);
  EXPECT_EQ(c.host.policy.vm_ports[0].vm_name, "compartment contoso");
  EXPECT_EQ(c.host.policy.vm_ports[1].port, kFirstVirtualPort + 1);
  EXPECT_EQ(c.host.policy.vm_ports[1].vsid, 7001u);
  EXPECT_EQ(c.host.policy.routing_domains.size(), 2u);
}

std::map<std::string, uint32_t> Ids(const GatewayLoadResult& r) {
  std::map<std::string, uint32_t> ids;
  if (r.config)
    for (const CompartmentSpec& s : r.config->compartments) ids[s.name] = s.id;
  return ids;
}

TEST(GatewayConfigTenants, IdsAreStableAndFreedIdsAreReused) {
  const std::string c = Tenant("c", '3', "8", "30");
  Fixture f({{"a.yaml", kTenantA}, {"b.yaml", kTenantB}, {"c.yaml", c}});
  f.dir.Write("policy-3.yaml", PolicyFile('3', "8"));
  using Map = std::map<std::string, uint32_t>;
  const GatewayLoadResult first = f.Load();
  ASSERT_TRUE(first.errors.empty()) << Join(first.errors);
  EXPECT_EQ(Ids(first), (Map{{"contoso", 0}, {"fabrikam", 1}, {"c", 2}}));

  // Kept ids first; new tenants take the lowest free ones in file order.
  EXPECT_EQ(Ids(f.Load({{"fabrikam", 0}, {"gone", 1}})),
            (Map{{"contoso", 1}, {"fabrikam", 0}, {"c", 2}}));
  EXPECT_EQ(Ids(f.Load({{"c", 7}})), (Map{{"contoso", 0}, {"fabrikam", 1}, {"c", 7}}));
  const GatewayLoadResult moved = f.Load({{"c", 7}});
  EXPECT_EQ(moved.config->compartments[2].vm_port, kFirstVirtualPort + 7);
  EXPECT_EQ(moved.config->host.policy.vm_ports[2].port, kFirstVirtualPort + 7);

  // contoso removed, d added: d takes contoso's freed id 0, the others keep theirs.
  fs::remove(f.dir.Path("tenants/a.yaml"));
  f.dir.Write("tenants/d.yaml", Replace(kTenantA, "name: contoso", "name: d"));
  EXPECT_EQ(Ids(f.Load(Ids(first))), (Map{{"fabrikam", 1}, {"c", 2}, {"d", 0}}));
}

TEST(GatewayConfigTenants, OnlyYamlFilesDirectlyInTheDirectory) {
  Fixture f({{"a.yaml", kTenantA}});
  f.dir.Write("tenants/notes.txt", "not yaml");
  f.dir.Write("tenants/.#a.yaml", "an editor's lock file");
  f.dir.Write("tenants/sub/b.yaml", kTenantB);
  const GatewayLoadResult r = f.Load();
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  EXPECT_EQ(r.config->tenant_files, Lines{f.dir.Path("tenants/a.yaml")});

  Fixture empty({});
  const GatewayLoadResult none = empty.Load();
  ASSERT_TRUE(none.errors.empty()) << Join(none.errors);
  EXPECT_TRUE(none.config->compartments.empty());
  EXPECT_TRUE(none.config->host.policy.vm_ports.empty());
}

// One change to tenants/a.yaml and the exact errors it gives.
}  // namespace
}  // namespace hnv::config
