// Fixture files for the tests of the tenant file's site_to_site, bgp and
// point_to_site sections (gateway_s2s_test.cc, gateway_s2s_errors_test.cc):
// gateway_test_files.h's tenant A (contoso: VM network 10.0.1.0/24 and
// 10.0.2.0/24, gateway CA 10.0.2.2, external 10.1.3.2/24) with the three
// sections from line 17, a secrets file and certificate files (contents are
// not parsed at load: only their presence and modes are checked).
#pragma once

#include <sys/stat.h>

#include "tests/unit/config/gateway_test_files.h"

namespace hnv::config::gwtest {

inline const std::string kVpnSections =
    "site_to_site:\n"                       // 17
    "  secrets: ../secrets/contoso.yaml\n"  // 18
    "  connections:\n"                      // 19
    "    - name: onprem\n"                  // 20
    "      local_address: 10.1.3.2\n"       // 21
    "      peer_address: 10.1.3.100\n"      // 22
    "      local_id: gw.contoso.example\n"  // 23
    "      tunnel:\n"                       // 24
    "        local: 10.255.0.1\n"           // 25
    "        peer: 10.255.0.2\n"            // 26
    "      routes: [10.2.0.0/24]\n"         // 27
    "bgp:\n"                                // 28
    "  asn: 65001\n"                        // 29
    "  neighbors:\n"                        // 30
    "    - connection: onprem\n"            // 31
    "      remote_asn: 65002\n"             // 32
    "      accept: [10.2.0.0/16 le 24]\n"   // 33
    "point_to_site:\n"                      // 34
    "  secrets: ../secrets/contoso.yaml\n"  // 35
    "  local_address: 10.1.3.2\n"           // 36
    "  certificate: ../pki/gw.pem\n"        // 37
    "  private_key: ../pki/gw.key\n"        // 38
    "  pool: 10.9.9.0/24\n";                // 39

inline const std::string kSecrets =
    "psk:\n"                                          // 1
    "  onprem: \"correct horse battery staple\"\n"    // 2
    "  branch: \"another key, 16 chars at least\"\n"  // 3
    "eap:\n"                                          // 4
    "  alice: \"alice's password\"\n";                // 5

// The gateway directory with tenant A plus `sections`, the secrets file (mode
// 0600) and pki/{gw.pem, gw.key (0600), ca.pem}.
struct VpnFixture : Fixture {
  explicit VpnFixture(const std::string& sections, const std::string& secrets = kSecrets)
      : Fixture({{"a.yaml", kTenantA + sections}}) {
    chmod(dir.Write("secrets/contoso.yaml", secrets).c_str(), 0600);
    dir.Write("pki/gw.pem", "-----BEGIN CERTIFICATE-----\n");
    chmod(dir.Write("pki/gw.key", "-----BEGIN PRIVATE KEY-----\n").c_str(), 0600);
    dir.Write("pki/ca.pem", "-----BEGIN CERTIFICATE-----\n");
  }
};

inline Lines VpnErrors(const std::string& sections, const std::string& secrets = kSecrets) {
  return VpnFixture(sections, secrets).Errors();
}

}  // namespace hnv::config::gwtest
