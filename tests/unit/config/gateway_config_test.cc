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
    "host:\n"                      // 1
    "  name: gw\n"                 // 2
    "ports:\n"                     // 3
    "  - name: uplink\n"           // 4
    "    device: net_null0\n"      // 5
    "  - name: external\n"         // 6
    "    device: net_null1\n"      // 7
    "provider_addresses:\n"        // 8
    "  - address: 192.168.0.11\n"  // 9
    "    prefix_length: 24\n"      // 10
    "    mac: 223344556677\n"      // 11
    "    port: uplink\n";          // 12

// A tenant's shared policy: routing domain {...000N}, VSIDs V000 and V001
// (the gateway's), the gateway CA 10.0.2.2 on this gateway's PA.
std::string PolicyFile(char n, const std::string& v) {
  return "routing_domains:\n"  // 1
         "  - rdid: \"{12345678-1000-2000-3000-12345678000" +
         std::string(1, n) +
         "}\"\n"                   // 2
         "    virtual_subnets:\n"  // 3
         "      - vsid: " +
         v +
         "000\n"                          // 4
         "        prefix: 10.0.1.0/24\n"  // 5
         "      - vsid: " +
         v +
         "001\n"                          // 6
         "        prefix: 10.0.2.0/24\n"  // 7
         "    customer_routes:\n"         // 8
         "      - vsid: " +
         v +
         "001\n"                             // 9
         "        destination: 0.0.0.0/0\n"  // 10
         "        next_hop: 10.0.2.2\n"      // 11
         "lookup_records:\n"                 // 12
         "  - customer_address: 10.0.2.1\n"  // 13
         "    vsid: " +
         v +
         "001\n"  // 14
         "    mac: " +
         v + "001" + v +
         "0010300\n"                         // 15
         "    provider_address: local\n"     // 16
         "  - customer_address: 10.0.2.2\n"  // 17
         "    vsid: " +
         v +
         "001\n"  // 18
         "    mac: " +
         v + "001" + v +
         "0010301\n"                              // 19
         "    provider_address: 192.168.0.11\n";  // 20
}

// A tenant file including policy-<n>.yaml.
std::string Tenant(const std::string& name, char n, const std::string& v, const std::string& vlan) {
  return "include: ../policy-" + std::string(1, n) +
         ".yaml\n"    // 1
         "tenant:\n"  // 2
         "  name: " +
         name +
         "\n"  // 3
         "  rdid: \"{12345678-1000-2000-3000-12345678000" +
         std::string(1, n) +
         "}\"\n"            // 4
         "  vm_network:\n"  // 5
         "    vsid: " +
         v +
         "001\n"                       // 6
         "    address: 10.0.2.2/24\n"  // 7
         "  external:\n"               // 8
         "    - interface: ext0\n"     // 9
         "      port: external\n"      // 10
         "      vlan: " +
         vlan +
         "\n"  // 11
         "      mac: " +
         v + "001" + v +
         "0010302\n"                         // 12
         "      addresses: [10.1.3.2/24]\n"  // 13
         "  routes:\n"                       // 14
         "    - destination: 10.0.1.0/24\n"  // 15
         "      next_hop: 10.0.2.1\n";       // 16
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
  want.vm_ports = {
      VmPort{"compartment contoso", gateway::kFirstVirtualPort, test::Mac("600160010301"), 6001}};
  EXPECT_EQ(DumpPolicy(c.host.policy), DumpPolicy(want));
  ASSERT_EQ(c.host.policy.vm_ports.size(), 1u);
  EXPECT_EQ(c.host.policy.vm_ports[0].port, gateway::kFirstVirtualPort);
  EXPECT_EQ(c.host.policy.routing_domains.size(), 1u);
  EXPECT_EQ(c.host.policy.subnets.size(), 2u);
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The chapter's layout in a temp dir with a wrong MAC, then with a second
// tenant on the same port and VLAN: the messages config/README.md shows.
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

// One change to tenants/a.yaml and the exact errors it gives.
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
