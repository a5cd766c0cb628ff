// Fixture files for the LoadGatewayConfig tests (gateway_config_test.cc,
// gateway_config_errors_test.cc): a gateway file, two tenants' shared policy
// files and their tenant files in a temp dir, with their line numbers in the
// comments the expected errors refer to.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "tests/lib/chapter_policy.h"
#include "tests/unit/config/host_config_test_util.h"

namespace hnv::config::gwtest {

namespace fs = std::filesystem;
using test_util::Lines;

inline fs::path SourceDir() {
  if (const char* env = std::getenv("HNV_SOURCE_DIR")) return env;
  return fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

inline fs::path ChapterDir() { return SourceDir() / "config" / "examples" / "chapter"; }

// The host YAML tests' temporary directory, Join and Replace.
using test_util::Join;
using test_util::Replace;
using test_util::TempDir;

inline IpAddr Ip(const char* s) { return test::Ip(s); }
inline IfAddress If(const char* addr, uint8_t len) { return IfAddress{Ip(addr), len}; }

// The gateway file of the tests below (line numbers in the comments).
inline const std::string kGateway =
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
inline std::string PolicyFile(char n, const std::string& v) {
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
inline std::string Tenant(const std::string& name, char n, const std::string& v,
                          const std::string& vlan) {
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

inline const std::string kTenantA = Tenant("contoso", '1', "6", "10");
inline const std::string kTenantB = Tenant("fabrikam", '2', "7", "20");

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

inline Lines TenantErrors(const std::string& tenant_a) {
  return Fixture({{"a.yaml", tenant_a}}).Errors();
}

inline std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The chapter's layout in a temp dir with a wrong MAC, then with a second

}  // namespace hnv::config::gwtest
