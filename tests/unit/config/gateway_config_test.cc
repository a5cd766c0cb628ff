// LoadGatewayConfig: the chapter's gateway (config/examples/chapter/gateway)
// must give exactly the expected GatewayConfig and compartment; ids must be
// stable; every invalid file must give its exact "file:line: field: message"
// errors and no config; hnv-vswitch's LoadHostConfig keeps rejecting the
// gateway's sections.
#include "config/gateway_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "dataplane/policy/policy_dump.h"
#include "tests/lib/chapter_policy.h"

namespace hnv::config {
namespace {

namespace fs = std::filesystem;
using Lines = std::vector<std::string>;
using gateway::CompartmentSpec;
using gateway::ExternalSpec;
using gateway::IfAddress;
using gateway::StaticRoute;

fs::path SourceDir() {
  if (const char* env = std::getenv("HNV_SOURCE_DIR")) return env;
  return fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

fs::path ChapterDir() { return SourceDir() / "config" / "examples" / "chapter"; }

std::string Join(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& e : errors) out += e.ToString() + "\n";
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "hnv-gwconfig-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string Write(const std::string& name, const std::string& text) const {
    const fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string Path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
    ADD_FAILURE() << "\"" << from << "\" is not in the text exactly once";
    return text;
  }
  return text.replace(at, from.size(), to);
}

IpAddr Ip(const char* s) { return test::Ip(s); }
IfAddress If(const char* addr, uint8_t len) { return IfAddress{Ip(addr), len}; }

// The gateway file of the tests below (line numbers in the comments).
const std::string kGateway =
    "host:\n"                        // 1
    "  name: gw\n"                   // 2
    "ports:\n"                       // 3
    "  - name: uplink\n"             // 4
    "    device: net_null0\n"        // 5
    "  - name: external\n"           // 6
    "    device: net_null1\n"        // 7
    "provider_addresses:\n"          // 8
    "  - address: 192.168.0.11\n"    // 9
    "    prefix_length: 24\n"        // 10
    "    mac: 223344556677\n"        // 11
    "    port: uplink\n";            // 12

// A tenant's shared policy: routing domain {...000N}, VSIDs V000 and V001
// (the gateway's), the gateway CA 10.0.2.2 on this gateway's PA.
std::string PolicyFile(char n, const std::string& v) {
  return "routing_domains:\n"                                             // 1
         "  - rdid: \"{12345678-1000-2000-3000-12345678000" + std::string(1, n) + "}\"\n"  // 2
         "    virtual_subnets:\n"                                         // 3
         "      - vsid: " + v + "000\n"                                   // 4
         "        prefix: 10.0.1.0/24\n"                                  // 5
         "      - vsid: " + v + "001\n"                                   // 6
         "        prefix: 10.0.2.0/24\n"                                  // 7
         "    customer_routes:\n"                                         // 8
         "      - vsid: " + v + "001\n"                                   // 9
         "        destination: 0.0.0.0/0\n"                               // 10
         "        next_hop: 10.0.2.2\n"                                   // 11
         "lookup_records:\n"                                              // 12
         "  - customer_address: 10.0.2.1\n"                               // 13
         "    vsid: " + v + "001\n"                                       // 14
         "    mac: " + v + "001" + v + "0010300\n"                             // 15
         "    provider_address: local\n"                                  // 16
         "  - customer_address: 10.0.2.2\n"                               // 17
         "    vsid: " + v + "001\n"                                       // 18
         "    mac: " + v + "001" + v + "0010301\n"                             // 19
         "    provider_address: 192.168.0.11\n";                          // 20
}

// A tenant file including policy-<n>.yaml.
std::string Tenant(const std::string& name, char n, const std::string& v,
                   const std::string& vlan) {
  return "include: ../policy-" + std::string(1, n) + ".yaml\n"           // 1
         "tenant:\n"                                                       // 2
         "  name: " + name + "\n"                                          // 3
         "  rdid: \"{12345678-1000-2000-3000-12345678000" + std::string(1, n) + "}\"\n"  // 4
         "  vm_network:\n"                                                 // 5
         "    vsid: " + v + "001\n"                                        // 6
         "    address: 10.0.2.2/24\n"                                      // 7
         "  external:\n"                                                   // 8
         "    - interface: ext0\n"                                         // 9
         "      port: external\n"                                          // 10
         "      vlan: " + vlan + "\n"                                      // 11
         "      mac: " + v + "001" + v + "0010302\n"                            // 12
         "      addresses: [10.1.3.2/24]\n"                                // 13
         "  routes:\n"                                                     // 14
         "    - destination: 10.0.1.0/24\n"                                // 15
         "      next_hop: 10.0.2.1\n";                                     // 16
}

const std::string kTenantA = Tenant("contoso", '1', "6", "10");
const std::string kTenantB = Tenant("fabrikam", '2', "7", "20");

// A gateway directory: gw.yaml, policy-1.yaml, policy-2.yaml and the given
// tenant files (name -> text) in tenants/.
struct Fixture {
  TempDir dir;
  std::string gateway;
  explicit Fixture(const std::map<std::string, std::string>& tenants,
                   const std::string& gateway_text = kGateway) {
    gateway = dir.Write("gw.yaml", gateway_text);
    dir.Write("policy-1.yaml", PolicyFile('1', "6"));
    dir.Write("policy-2.yaml", PolicyFile('2', "7"));
    fs::create_directories(dir.Path("tenants"));
    for (const auto& [name, text] : tenants) dir.Write("tenants/" + name, text);
  }
  GatewayLoadResult Load(const std::map<std::string, uint32_t>& previous = {}) const {
    return LoadGatewayConfig(gateway, previous);
  }
  // The errors with the directory shown as "DIR/".
  Lines Errors() const {
    const GatewayLoadResult r = Load();
    EXPECT_EQ(r.config.has_value(), r.errors.empty());
    EXPECT_FALSE(r.config.has_value()) << "an invalid configuration gives no config";
    Lines out;
    for (const ConfigError& e : r.errors) {
      std::string s = e.ToString();
      for (size_t at; (at = s.find(dir.Path(""))) != std::string::npos;)
        s.replace(at, dir.Path("").size(), "DIR/");
      out.push_back(s);
    }
    return out;
  }
};

Lines TenantErrors(const std::string& tenant_a) { return Fixture({{"a.yaml", tenant_a}}).Errors(); }

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
  want.vm_ports = {VmPort{"compartment contoso", gateway::kFirstVirtualPort,
                          test::Mac("600160010301"), 6001}};
  EXPECT_EQ(DumpPolicy(c.host.policy), DumpPolicy(want));
  ASSERT_EQ(c.host.policy.vm_ports.size(), 1u);
  EXPECT_EQ(c.host.policy.vm_ports[0].port, gateway::kFirstVirtualPort);
  EXPECT_EQ(c.host.policy.routing_domains.size(), 1u);
  EXPECT_EQ(c.host.policy.subnets.size(), 2u);
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
  d6.Write("policy-1.yaml",
           Replace(PolicyFile('1', "6"), "provider_address: 192.168.0.11", "provider_address: fd00::11"));
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
  EXPECT_EQ(b.vm_port, gateway::kFirstVirtualPort + 1);
  EXPECT_EQ(b.vm_mac, test::Mac("700170010301"));
  ASSERT_EQ(c.host.policy.vm_ports.size(), 2u);
  EXPECT_EQ(c.host.policy.vm_ports[0].port, gateway::kFirstVirtualPort);
  EXPECT_EQ(c.host.policy.vm_ports[0].vm_name, "compartment contoso");
  EXPECT_EQ(c.host.policy.vm_ports[1].port, gateway::kFirstVirtualPort + 1);
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
  EXPECT_EQ(moved.config->compartments[2].vm_port, gateway::kFirstVirtualPort + 7);
  EXPECT_EQ(moved.config->host.policy.vm_ports[2].port, gateway::kFirstVirtualPort + 7);

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

TEST(GatewayConfigErrors, Probe) {
  for (const std::string& e : TenantErrors(Replace(kTenantA, "  vm_network:\n", "  vm_netwrok:\n")))
    ADD_FAILURE() << e;
}

}  // namespace
}  // namespace hnv::config
