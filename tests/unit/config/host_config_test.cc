// LoadHostConfig: the chapter's hosts from config/examples/chapter must give
// exactly the policy fixtures of tests/lib/chapter_policy.h (their full Get-*
// dump), and every invalid file must give its exact "file:line: field:
// message" errors, all of them, in file order.
#include "config/host_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/policy/policy_dump.h"
#include "tests/lib/chapter_policy.h"
#include "tests/unit/config/host_config_test_util.h"

namespace hnv::config {
namespace {

using namespace test_util;  // NOLINT: the shared helpers
namespace fs = std::filesystem;

fs::path SourceDir() {
  if (const char* env = std::getenv("HNV_SOURCE_DIR")) return env;
  // tests/unit/config/host_config_test.cc -> the repository.
  return fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

fs::path ChapterDir() { return SourceDir() / "config" / "examples" / "chapter"; }


// ---------------------------------------------------------------------------
// The chapter's hosts.

// What the Get-* dump does not show: routing domains, subnets, settings.
void ExpectSameShape(const Policy& got, const Policy& want) {
  ASSERT_EQ(got.routing_domains.size(), want.routing_domains.size());
  for (size_t i = 0; i < got.routing_domains.size(); ++i) {
    EXPECT_EQ(got.routing_domains[i].rdid, want.routing_domains[i].rdid);
    EXPECT_EQ(got.routing_domains[i].name, want.routing_domains[i].name);
  }
  ASSERT_EQ(got.subnets.size(), want.subnets.size());
  for (size_t i = 0; i < got.subnets.size(); ++i) {
    EXPECT_EQ(got.subnets[i].vsid, want.subnets[i].vsid);
    EXPECT_EQ(got.subnets[i].rdid, want.subnets[i].rdid);
    EXPECT_EQ(got.subnets[i].prefixes, want.subnets[i].prefixes);
  }
  EXPECT_EQ(got.settings.underlay_mtu, want.settings.underlay_mtu);
  EXPECT_EQ(got.settings.mtu_policy, want.settings.mtu_policy);
  EXPECT_EQ(got.settings.flow_id_mode, want.settings.flow_id_mode);
  EXPECT_EQ(got.settings.outer_ttl, want.settings.outer_ttl);
}

void ExpectPorts(const HostConfig& c, const std::vector<std::string>& names) {
  ASSERT_EQ(c.ports.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(c.ports[i].index, i);
    EXPECT_EQ(c.ports[i].name, names[i]);
    EXPECT_EQ(c.ports[i].device, "net_af_packet" + std::to_string(i) + ",iface=" + names[i]);
  }
}

TEST(HostConfigChapter, Host1IsTheChapterFixture) {
  const std::string path = (ChapterDir() / "host1.yaml").string();
  const LoadResult r = LoadHostConfig(path);
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  ASSERT_TRUE(r.config);
  const Policy want = test::ChapterHost1();
  EXPECT_EQ(DumpPolicy(r.config->policy), DumpPolicy(want));
  ExpectSameShape(r.config->policy, want);
  EXPECT_EQ(r.config->host_name, "host1");
  EXPECT_EQ(r.config->control_socket, "/run/hnv/host1.sock");
  ExpectPorts(*r.config, {"uplink", "vm1", "vm2"});
  EXPECT_EQ(r.config->files,
            (Lines{path, (ChapterDir() / "contoso.yaml").lexically_normal().string()}));
}

TEST(HostConfigChapter, Host2IsTheChapterFixture) {
  const LoadResult r = LoadHostConfig((ChapterDir() / "host2.yaml").string());
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  const Policy want = test::ChapterHost2();
  EXPECT_EQ(DumpPolicy(r.config->policy), DumpPolicy(want));
  ExpectSameShape(r.config->policy, want);
  EXPECT_EQ(r.config->host_name, "host2");
  ExpectPorts(*r.config, {"uplink", "vm1"});
}

TEST(HostConfigChapter, GatewayHostIsTheChapterFixture) {
  const LoadResult r = LoadHostConfig((ChapterDir() / "gateway-host.yaml").string());
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  const Policy want = test::ChapterGatewayHost();
  EXPECT_EQ(DumpPolicy(r.config->policy), DumpPolicy(want));
  ExpectSameShape(r.config->policy, want);
  // No control_socket in the file: the default.
  EXPECT_EQ(r.config->control_socket, "/run/hnv/gateway-host.sock");
  ExpectPorts(*r.config, {"uplink", "vm1"});
}

// The full example of config/README.md: every ```yaml block that starts with
// "# file: NAME" is written out, and the host file must load.
TEST(HostConfigReadme, FullExampleLoads) {
  std::ifstream in(SourceDir() / "config" / "README.md");
  ASSERT_TRUE(in) << "config/README.md";
  TempDir dir;
  std::string line, name, block, host;
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
      if (block.find("\nhost:") != std::string::npos || block.rfind("host:", 0) == 0) host = name;
    } else if (in_block) {
      if (block.empty() && name.empty() && line.rfind("# file: ", 0) == 0) name = line.substr(8);
      block += line + "\n";
    }
  }
  ASSERT_GE(files, 2);
  ASSERT_FALSE(host.empty());
  const LoadResult r = LoadHostConfig(dir.Path(host));
  EXPECT_TRUE(r.errors.empty()) << Join(r.errors);
}

// ---------------------------------------------------------------------------
// Spellings the schema accepts.

TEST(HostConfigValues, BaseFileLoadsAndLocalIsTheHostsPa) {
  TempDir dir;
  const LoadResult r = LoadHostConfig(dir.Write("h.yaml", kBase));
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  const Policy& p = r.config->policy;
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.records[0].pa, test::Ip("192.168.0.22"));
  EXPECT_EQ(p.records[0].rule, TranslationRule::kEncap);  // defaults
  EXPECT_EQ(p.records[0].type, RecordType::kStatic);
  EXPECT_EQ(p.customer_routes[0].next_hop, test::Ip("0.0.0.0"));
  EXPECT_EQ(p.customer_routes[0].metric, 0u);
  EXPECT_EQ(p.provider_addresses[0].port, 0);
  EXPECT_EQ(p.vm_ports[0].port, 1);
  EXPECT_EQ(r.config->control_socket, "/run/hnv/t.sock");
}

TEST(HostConfigValues, ChapterEnumSpellingsAndAllMacForms) {
  TempDir dir;
  std::string text = kBase;
  text = Replace(text, "    mac: 600060000100\n",
                 "    mac: 60-00-60-00-01-00\n    rule: encap\n    type: STATIC\n");
  text = Replace(text, "    mac: 600060000101\n    provider_address",
                 "    mac: 60:00:60:00:01:01\n    rule: TranslationMethodNone\n"
                 "    type: static\n    vm_name: Contoso1\n    provider_address");
  text +=
      "  - customer_address: 0.0.0.0\n"
      "    vsid: 6000\n"
      "    mac: 600060000102\n"
      "    provider_address: 192.168.0.22\n"
      "    rule: TranslationMethodEncap\n"
      "    type: l2only\n";
  const LoadResult r = LoadHostConfig(dir.Write("h.yaml", text));
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  const Policy& p = r.config->policy;
  ASSERT_EQ(p.records.size(), 3u);
  EXPECT_EQ(p.records[0].mac, test::Mac("600060000100"));
  EXPECT_EQ(p.records[0].rule, TranslationRule::kEncap);
  EXPECT_EQ(p.records[1].mac, test::Mac("600060000101"));
  EXPECT_EQ(p.records[1].rule, TranslationRule::kNone);
  EXPECT_EQ(p.records[1].vm_name, "Contoso1");
  EXPECT_EQ(p.records[2].type, RecordType::kL2Only);
}

TEST(HostConfigValues, PortSecuritySwitchesAndTheirDefaults) {
  TempDir dir;
  LoadResult r = LoadHostConfig(dir.Write("h.yaml", kBase));
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  // Enforced by default: anti-spoofing, DhcpGuard, RouterGuard.
  EXPECT_FALSE(r.config->policy.vm_ports[0].mac_address_spoofing);
  EXPECT_TRUE(r.config->policy.vm_ports[0].dhcp_guard);
  EXPECT_TRUE(r.config->policy.vm_ports[0].router_guard);
  r = LoadHostConfig(dir.Write("h.yaml", Replace(kBase, "    port: vm1\n",
                                                 "    port: vm1\n"
                                                 "    mac_address_spoofing: On\n"
                                                 "    dhcp_guard: off\n"
                                                 "    router_guard: \"Off\"\n")));
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  EXPECT_TRUE(r.config->policy.vm_ports[0].mac_address_spoofing);
  EXPECT_FALSE(r.config->policy.vm_ports[0].dhcp_guard);
  EXPECT_FALSE(r.config->policy.vm_ports[0].router_guard);
}

TEST(HostConfigValues, SettingsAndProviderRoutes) {
  TempDir dir;
  std::string text = Replace(kBase, "  name: t\n",
                             "  name: t\n"
                             "  control_socket: /tmp/t.sock\n"
                             "  settings:\n"
                             "    underlay_mtu: 9000\n"
                             "    mtu_policy: clamp-mss\n"
                             "    flow_id: zero\n"
                             "    outer_ttl: 16\n"
                             "    icmp_errors_per_second: 0\n"
                             "    icmp_errors_burst: 7\n");
  text = Replace(text, "    port: uplink\n",
                 "    vlan: 100\n    port: uplink\n"
                 "provider_routes:\n"
                 "  - destination: 10.20.0.0/16\n"
                 "    port: uplink\n"
                 "    next_hop: 192.168.0.1\n");
  const LoadResult r = LoadHostConfig(dir.Write("h.yaml", text));
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  const Policy& p = r.config->policy;
  EXPECT_EQ(r.config->control_socket, "/tmp/t.sock");
  EXPECT_EQ(p.settings.underlay_mtu, 9000u);
  EXPECT_EQ(p.settings.mtu_policy, MtuPolicy::kClampMss);
  EXPECT_EQ(p.settings.flow_id_mode, FlowIdMode::kZero);
  EXPECT_EQ(p.settings.outer_ttl, 16);
  EXPECT_EQ(p.settings.icmp_errors_per_second, 0u);
  EXPECT_EQ(p.settings.icmp_errors_burst, 7u);
  EXPECT_EQ(p.provider_addresses[0].vlan, 100);
  ASSERT_EQ(p.provider_routes.size(), 1u);
  EXPECT_EQ(p.provider_routes[0].destination, test::Prefix("10.20.0.0/16"));
  EXPECT_EQ(p.provider_routes[0].next_hop, test::Ip("192.168.0.1"));
}

// `local` is the first PA of the CA's family, else the first PA (IPv6 CAs
// over IPv4 PAs).
TEST(HostConfigValues, LocalPicksTheCasFamily) {
  TempDir dir;
  const std::string text = Replace(kBase, "provider_addresses:\n",
                                   "provider_addresses:\n"
                                   "  - address: fd00:ffff::22\n"
                                   "    prefix_length: 64\n"
                                   "    mac: 324455667789\n"
                                   "    port: uplink\n");
  const LoadResult r = LoadHostConfig(dir.Write("h.yaml", text));
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  EXPECT_EQ(r.config->policy.records[0].pa, test::Ip("192.168.0.22"));
}

TEST(HostConfigValues, PrefixesListAndIncludeOnceInADiamond) {
  TempDir dir;
  // h includes a and b; both include common, which is read once.
  dir.Write("common.yaml",
            "routing_domains:\n"
            "  - rdid: \"{12345678-1000-2000-3000-123456780002}\"\n"
            "    virtual_subnets:\n"
            "      - vsid: 7000\n"
            "        prefixes: [fd00:1::/64]\n");
  dir.Write("sub/a.yaml", "include: ../common.yaml\n");
  dir.Write("sub/b.yaml", "include:\n  - ../common.yaml\n");
  const LoadResult r =
      LoadHostConfig(dir.Write("h.yaml", "include: [sub/a.yaml, sub/b.yaml]\n" + kBase));
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  EXPECT_EQ(r.config->files, (Lines{dir.Path("h.yaml"), dir.Path("sub/a.yaml"),
                                    dir.Path("common.yaml"), dir.Path("sub/b.yaml")}));
  ASSERT_EQ(r.config->policy.subnets.size(), 2u);
  EXPECT_EQ(r.config->policy.subnets[1].prefixes,
            std::vector<IpPrefix>{test::Prefix("fd00:1::/64")});
}

// ---------------------------------------------------------------------------
// Syntax and schema errors: reported all at once, validation not run.

TEST(HostConfigErrors, UnknownKey) {
  EXPECT_EQ(Errors(Replace(kBase, "    mac: 600060000100", "    macc: 600060000100")),
            (Lines{
                "DIR/h.yaml:27: lookup_records[0].mac: missing required key \"mac\"",
                "DIR/h.yaml:29: lookup_records[0].macc: unknown key \"macc\"; did you mean "
                "\"mac\"?",
            }));
  EXPECT_EQ(Errors(kBase + "tenants: []\n"),
            (Lines{"DIR/h.yaml:35: tenants: unknown key \"tenants\" (known keys: include, host, "
                   "ports, provider_addresses, provider_routes, vm_network_adapters, "
                   "routing_domains, lookup_records)"}));
}

TEST(HostConfigErrors, WrongType) {
  EXPECT_EQ(Errors(Replace(kBase, "  name: t\n", "  name: [t]\n")),
            (Lines{"DIR/h.yaml:2: host.name: expected a name, got a list"}));
  EXPECT_EQ(Errors(Replace(kBase, "        prefix: 10.0.1.0/24", "        prefix: {a: 1}")),
            (Lines{"DIR/h.yaml:22: routing_domains[0].virtual_subnets[0].prefix: expected an IP "
                   "prefix, got a mapping"}));
  EXPECT_EQ(Errors(Replace(kBase, "lookup_records:\n", "lookup_records: 10.0.1.1\nx:\n")),
            (Lines{"DIR/h.yaml:26: lookup_records: expected a list, got \"10.0.1.1\"",
                   "DIR/h.yaml:27: x: unknown key \"x\" (known keys: include, host, ports, "
                   "provider_addresses, provider_routes, vm_network_adapters, routing_domains, "
                   "lookup_records)"}));
}

TEST(HostConfigErrors, ValuesThatDoNotParse) {
  std::string text = Replace(kBase, "    mac: 600060000100", "    mac: 60006000010");
  text = Replace(text, "    virtual_subnets:\n      - vsid: 6000",
                 "    virtual_subnets:\n      - vsid: abc");
  text = Replace(text, "customer_address: 10.0.1.101", "customer_address: 10.0.1.1o1");
  text = Replace(text, "    prefix_length: 24", "    prefix_length: 300");
  text = Replace(text, "        destination: 10.0.1.0/24", "        destination: 10.0.1.5/24");
  text = Replace(text, "    provider_address: local", "    provider_address: locale");
  EXPECT_EQ(Errors(text),
            (Lines{
                "DIR/h.yaml:10: provider_addresses[0].prefix_length: 300 is outside 8..128",
                "DIR/h.yaml:21: routing_domains[0].virtual_subnets[0].vsid: abc is not a VSID (an "
                "integer in 4096..16777214)",
                "DIR/h.yaml:25: routing_domains[0].customer_routes[0].destination: 10.0.1.5/24 has "
                "host bits set (did you mean 10.0.1.0/24?)",
                "DIR/h.yaml:29: lookup_records[0].mac: 60006000010 is not a MAC address "
                "(600060000101, 60-00-60-00-01-01 or 60:00:60:00:01:01)",
                "DIR/h.yaml:30: lookup_records[0].provider_address: locale is not an IPv4 or IPv6 "
                "address, nor \"local\"",
                "DIR/h.yaml:31: lookup_records[1].customer_address: 10.0.1.1o1 is not an IPv4 or "
                "IPv6 address",
            }));
}

TEST(HostConfigErrors, EnumsAndGuids) {
  std::string text = Replace(kBase, "    mac: 600060000100\n",
                             "    mac: 600060000100\n    type: Statik\n    rule: nvgre\n");
  text = Replace(text, "  - rdid: \"{12345678-1000-2000-3000-123456780001}\"",
                 "  - rdid: {12345678-1000-2000-3000-123456780001}");
  EXPECT_EQ(Errors(text),
            (Lines{
                "DIR/h.yaml:19: routing_domains[0].rdid: {12345678-1000-2000-3000-123456780001} "
                "must be quoted: unquoted braces make a YAML mapping (write "
                "\"{12345678-1000-2000-3000-123456780001}\")",
                "DIR/h.yaml:30: lookup_records[0].type: Statik is not a lookup record type "
                "(Static, Dynamic, L2Only or GatewayWildcard)",
                "DIR/h.yaml:31: lookup_records[0].rule: nvgre is not a translation rule "
                "(TranslationMethodEncap, encap, TranslationMethodNone or none)",
            }));
  EXPECT_EQ(Errors(Replace(kBase, "  name: t\n", "  name: t\n  settings:\n    flow_id: random\n")),
            (Lines{"DIR/h.yaml:4: host.settings.flow_id: random is not a flow ID mode (entropy "
                   "or zero)"}));
}

TEST(HostConfigErrors, PortSecuritySwitch) {
  EXPECT_EQ(Errors(Replace(kBase, "    port: vm1\n", "    port: vm1\n    dhcp_guard: maybe\n")),
            (Lines{"DIR/h.yaml:18: vm_network_adapters[0].dhcp_guard: maybe is not On or Off (On, "
                   "Off, true or false)"}));
  EXPECT_EQ(Errors(Replace(kBase, "    port: vm1\n", "    port: vm1\n    dhcp_gaurd: On\n")),
            (Lines{"DIR/h.yaml:18: vm_network_adapters[0].dhcp_gaurd: unknown key \"dhcp_gaurd\"; "
                   "did you mean \"dhcp_guard\"?"}));
}

TEST(HostConfigErrors, DuplicateYamlKey) {
  EXPECT_EQ(Errors(Replace(kBase, "    mac: 600060000100\n",
                           "    mac: 600060000100\n    mac: 600060000199\n")),
            (Lines{"DIR/h.yaml:30: lookup_records[0].mac: duplicate key \"mac\" (first at line "
                   "29)"}));
}

TEST(HostConfigErrors, MissingRequiredKeys) {
  std::string text = Replace(kBase, "    device: net_null1\n", "");
  text = Replace(text, "        prefix: 10.0.1.0/24\n", "");
  EXPECT_EQ(Errors(text),
            (Lines{
                "DIR/h.yaml:6: ports[1].device: missing required key \"device\"",
                "DIR/h.yaml:20: routing_domains[0].virtual_subnets[0].prefix: missing required "
                "key \"prefix\" (or \"prefixes\")",
            }));
  EXPECT_EQ(Errors(Replace(kBase, "    mac: 600060000100", "    mac:")),
            (Lines{"DIR/h.yaml:29: lookup_records[0].mac: required key \"mac\" has no value"}));
  EXPECT_EQ(Errors("ports: []\n"), (Lines{"DIR/h.yaml:1: host: missing required key \"host\""}));
  EXPECT_EQ(Errors(""), (Lines{"DIR/h.yaml: host: missing required key \"host\" (the file is "
                               "empty)"}));
}

TEST(HostConfigErrors, YamlSyntax) {
  EXPECT_EQ(Errors(Replace(kBase, "  name: t\n", "  name: t\n bad: [1\n")),
            (Lines{"DIR/h.yaml:3: end of map not found (YAML syntax error at column 2)"}));
}

TEST(HostConfigErrors, PortNames) {
  std::string text = Replace(kBase, "    port: vm1", "    port: vm9");
  text = Replace(text, "  - name: vm1\n    device: net_null1",
                 "  - name: uplink\n    device: net_null0");
  EXPECT_EQ(Errors(text),
            (Lines{
                "DIR/h.yaml:6: ports[1].name: uplink is already the name of ports[0] (line 4)",
                "DIR/h.yaml:7: ports[1].device: net_null0 is already the device of port uplink "
                "(line 4)",
                "DIR/h.yaml:17: vm_network_adapters[0].port: vm9 is not a port of this host (its "
                "ports: uplink, uplink)",
            }));
}

// A VnetPort's device arguments (dataplane/runtime/vnet_args.h) are checked
// with the file and line; valid ones load.
TEST(HostConfigErrors, VnetPortArguments) {
  EXPECT_EQ(Errors(Replace(kBase, "device: net_null1", "device: hnv_vnet1,iface=vm1,gso=0")),
            Lines{});
  EXPECT_EQ(Errors(Replace(kBase, "device: net_null1", "device: hnv_vnet1,iface=vm1,gso=2")),
            (Lines{"DIR/h.yaml:7: ports[1].device: 'hnv_vnet1,iface=vm1,gso=2': gso=2 is not a "
                   "number in 0..1"}));
  EXPECT_EQ(Errors(Replace(kBase, "device: net_null1", "device: hnv_vnet1,tso=1")),
            (Lines{"DIR/h.yaml:7: ports[1].device: 'hnv_vnet1,tso=1': unknown argument 'tso' "
                   "(iface, rx_frames, tx_frames, gso)"}));
  EXPECT_EQ(Errors(Replace(kBase, "device: net_null1", "device: hnv_vnet1")),
            (Lines{"DIR/h.yaml:7: ports[1].device: 'hnv_vnet1': needs iface=<interface name> (at "
                   "most 15 characters)"}));
}

TEST(HostConfigErrors, LocalWithoutAProviderAddress) {
  const std::string text = Replace(kBase,
                                   "provider_addresses:\n"
                                   "  - address: 192.168.0.22\n"
                                   "    prefix_length: 24\n"
                                   "    mac: 324455667788\n"
                                   "    port: uplink\n",
                                   "");
  EXPECT_EQ(Errors(text),
            (Lines{"DIR/h.yaml:25: lookup_records[0].provider_address: local stands for this "
                   "host's provider address, but the host has none (provider_addresses is "
                   "empty)"}));
}

TEST(HostConfigErrors, MissingFiles) {
  EXPECT_EQ(Errors("include: nothere.yaml\n" + kBase),
            (Lines{"DIR/h.yaml:1: include: cannot read DIR/nothere.yaml: No such file or "
                   "directory"}));
  EXPECT_EQ(Errors("include:\n  - a.yaml\n  - sub/../b.yaml\n" + kBase),
            (Lines{
                "DIR/h.yaml:2: include[0]: cannot read DIR/a.yaml: No such file or directory",
                "DIR/h.yaml:3: include[1]: cannot read DIR/b.yaml: No such file or directory",
            }));
  const LoadResult r = LoadHostConfig("/nonexistent/host.yaml");
  EXPECT_EQ(Strings(r.errors),
            (Lines{"/nonexistent/host.yaml: cannot read /nonexistent/host.yaml: No such file or "
                   "directory"}));
}

TEST(HostConfigErrors, IncludeCycle) {
  TempDir dir;
  dir.Write("a.yaml", "# a\ninclude: [b.yaml]\n");
  dir.Write("b.yaml", "# b\n\ninclude:\n  - a.yaml\n");
  const LoadResult r = LoadHostConfig(dir.Write("h.yaml", "include: a.yaml\n" + kBase));
  const std::string a = dir.Path("a.yaml");
  const std::string b = dir.Path("b.yaml");
  EXPECT_EQ(Strings(r.errors),
            (Lines{b + ":4: include[0]: include cycle: " + a + " -> " + b + " -> " + a}));

  // Including itself.
  const LoadResult self = LoadHostConfig(dir.Write("s.yaml", kBase + "include: s.yaml\n"));
  const std::string s = dir.Path("s.yaml");
  EXPECT_EQ(Strings(self.errors), (Lines{s + ":35: include: include cycle: " + s + " -> " + s}));
}

TEST(HostConfigErrors, HostSectionInAnIncludedFile) {
  TempDir dir;
  dir.Write("t.yaml", "host:\n  name: other\n");
  const LoadResult r = LoadHostConfig(dir.Write("h.yaml", kBase + "include: t.yaml\n"));
  EXPECT_EQ(Strings(r.errors),
            (Lines{dir.Path("t.yaml") + ":1: host: only the host file (" + dir.Path("h.yaml") +
                   ") has a host section; an included file holds policy"}));
}

// ---------------------------------------------------------------------------
// ValidatePolicy's errors, at the YAML file, line and field.

TEST(HostConfigErrors, VsidOutOfRange) {
  EXPECT_EQ(Errors(Replace(kBase, "customer_address: 10.0.1.101\n    vsid: 6000",
                           "customer_address: 10.0.1.101\n    vsid: 70000000")),
            (Lines{"DIR/h.yaml:32: lookup_records[1].vsid: 70000000 is outside 4096..16777214"}));
  // Too large for the model: found while reading, same words.
  EXPECT_EQ(
      Errors(Replace(kBase, "customer_address: 10.0.1.101\n    vsid: 6000",
                     "customer_address: 10.0.1.101\n    vsid: 99999999999")),
      (Lines{"DIR/h.yaml:32: lookup_records[1].vsid: 99999999999 is outside 4096..16777214"}));
}

TEST(HostConfigErrors, DuplicateVsidNamesTheFirstSubnet) {
  EXPECT_EQ(Errors(Replace(kBase, "        prefix: 10.0.1.0/24\n",
                           "        prefix: 10.0.1.0/24\n"
                           "      - vsid: 6000\n"
                           "        prefix: 10.0.3.0/24\n")),
            (Lines{"DIR/h.yaml:23: routing_domains[0].virtual_subnets[1].vsid: 6000 is already "
                   "the VSID of routing_domains[0].virtual_subnets[0] (line 21); VSIDs are "
                   "unique"}));
}

TEST(HostConfigErrors, DuplicateCaInARoutingDomain) {
  const std::string dup =
      "  - customer_address: 10.0.1.101\n"  // 35
      "    vsid: 6000\n"
      "    mac: 600060000102\n"
      "    provider_address: 192.168.0.22\n";
  EXPECT_EQ(Errors(kBase + dup),
            (Lines{"DIR/h.yaml:35: lookup_records[2].customer_address: 10.0.1.101 is already "
                   "used by lookup_records[1] (line 31) in routing domain " +
                   kRdid + "; a CA is unique inside its routing domain"}));

  // The second record in an included file: the error is there, at its line,
  // and names the first with its file.
  TempDir dir;
  dir.Write("more.yaml", "# more records\nlookup_records:\n" + dup);
  const LoadResult r = LoadHostConfig(dir.Write("h.yaml", kBase + "include: more.yaml\n"));
  EXPECT_EQ(Strings(r.errors),
            (Lines{dir.Path("more.yaml") +
                   ":3: lookup_records[0].customer_address: 10.0.1.101 is already used by "
                   "lookup_records[1] (" +
                   dir.Path("h.yaml") + ":31) in routing domain " + kRdid +
                   "; a CA is unique inside its routing domain"}));
}

TEST(HostConfigErrors, CaOutsideItsSubnet) {
  EXPECT_EQ(Errors(Replace(kBase, "customer_address: 10.0.1.101", "customer_address: 10.0.2.101")),
            (Lines{"DIR/h.yaml:31: lookup_records[1].customer_address: 10.0.2.101 is outside the "
                   "prefix of virtual subnet 6000 (10.0.1.0/24)"}));
}

TEST(HostConfigErrors, PortNumbersBecomeNames) {
  EXPECT_EQ(Errors(Replace(kBase, "    port: vm1", "    port: uplink")),
            (Lines{"DIR/h.yaml:17: vm_network_adapters[0].port: uplink (port 0) is the uplink "
                   "port of provider_addresses[0] (line 9)"}));
}

TEST(HostConfigErrors, SettingsOutOfRange) {
  EXPECT_EQ(
      Errors(Replace(kBase, "  name: t\n", "  name: t\n  settings:\n    underlay_mtu: 100\n")),
      (Lines{"DIR/h.yaml:4: host.settings.underlay_mtu: 100 is outside 1280..9216"}));
  EXPECT_EQ(Errors(Replace(kBase, "  name: t\n",
                           "  name: t\n  settings:\n    icmp_errors_per_second: 1000001\n"
                           "    icmp_errors_burst: 0\n")),
            (Lines{"DIR/h.yaml:4: host.settings.icmp_errors_per_second: 1000001 is outside "
                   "0..1000000",
                   "DIR/h.yaml:5: host.settings.icmp_errors_burst: 0 is outside 1..100000"}));
}

// A host file, a tenant network file and a tenant records file: errors in two
// of them, each at its own file and line, in file order.
TEST(HostConfigErrors, PolicySplitAcrossThreeFiles) {
  TempDir dir;
  const std::string host =
      "include:\n"
      "  - tenant/net.yaml\n"
      "  - tenant/records.yaml\n"
      "host:\n"
      "  name: t\n"
      "ports:\n"
      "  - name: uplink\n"
      "    device: net_null0\n"
      "provider_addresses:\n"
      "  - address: 192.168.0.22\n"
      "    prefix_length: 24\n"
      "    mac: 324455667788\n"
      "    port: uplink\n";
  const std::string net =
      "routing_domains:\n"
      "  - rdid: \"{12345678-1000-2000-3000-123456780001}\"\n"
      "    name: Contoso\n"
      "    virtual_subnets:\n"
      "      - vsid: 6000\n"
      "        prefix: 10.0.1.0/24\n"
      "    customer_routes:\n"
      "      - vsid: 6000\n"
      "        destination: 10.0.1.0/24\n"
      "      - vsid: 6000\n"
      "        destination: 10.0.9.0/24\n";  // 11: on-link outside 10.0.1.0/24
  const std::string records =
      "lookup_records:\n"
      "  - customer_address: 10.0.1.1\n"
      "    vsid: 6000\n"
      "    mac: 600060000100\n"
      "    provider_address: local\n"
      "  - customer_address: 10.0.1.101\n"
      "    vsid: 6000\n"
      "    mac: 01005e000001\n"  // 8: multicast
      "    provider_address: 192.168.0.22\n";
  dir.Write("tenant/net.yaml", net);
  dir.Write("tenant/records.yaml", records);
  const LoadResult r = LoadHostConfig(dir.Write("host.yaml", host));
  EXPECT_EQ(Strings(r.errors),
            (Lines{
                dir.Path("tenant/net.yaml") +
                    ":11: routing_domains[0].customer_routes[1].destination: 10.0.9.0/24 is "
                    "on-link on virtual subnet 6000, whose prefix is 10.0.1.0/24; an on-link "
                    "route stays inside its subnet's prefix",
                dir.Path("tenant/records.yaml") +
                    ":8: lookup_records[1].mac: 01005E000001 is a multicast MAC; a unicast MAC "
                    "is required",
            }));

  // Schema errors in two files likewise, and validation does not run.
  dir.Write("tenant/net.yaml", Replace(net, "    name: Contoso", "    nmae: Contoso"));
  dir.Write("tenant/records.yaml", Replace(records, "    vsid: 6000\n    mac: 01005e000001",
                                           "    vsid: 6OOO\n    mac: 01005e000001"));
  const LoadResult r2 = LoadHostConfig(dir.Path("host.yaml"));
  EXPECT_EQ(Strings(r2.errors),
            (Lines{
                dir.Path("tenant/net.yaml") +
                    ":3: routing_domains[0].nmae: unknown key \"nmae\"; did you mean \"name\"?",
                dir.Path("tenant/records.yaml") +
                    ":7: lookup_records[1].vsid: 6OOO is not a VSID (an integer in "
                    "4096..16777214)",
            }));
  EXPECT_EQ(r2.errors[0].file, dir.Path("tenant/net.yaml"));
  EXPECT_EQ(r2.errors[0].line, 3);
  EXPECT_EQ(r2.errors[0].field, "routing_domains[0].nmae");
}

}  // namespace
}  // namespace hnv::config
