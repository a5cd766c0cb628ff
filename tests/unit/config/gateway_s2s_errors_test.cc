// Every validation error of the tenant file's site_to_site, bgp and
// point_to_site sections (and of the secrets file): exact "file:line:
// field: message" lines, and no config.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/unit/config/gateway_s2s_files.h"

namespace hnv::config {
namespace {

using namespace gwtest;  // NOLINT: the fixture files of these tests

struct Case {
  const char* name;
  std::string from;  // in kVpnSections
  std::string to;
  Lines errors;
  std::string secrets = kSecrets;
};

void Expect(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const Lines got = VpnErrors(Replace(kVpnSections, c.from, c.to), c.secrets);
    EXPECT_EQ(got, c.errors) << c.name;
    if (std::getenv("HNV_PRINT_ERRORS") != nullptr) {
      std::printf("CASE %s\n", c.name);
      for (const std::string& l : got) std::printf("  %s\n", l.c_str());
    }
  }
}

const std::string kA = "DIR/tenants/a.yaml:";

TEST(GatewayS2sErrors, SiteToSiteKeysAndValues) {
  Expect({
      {"unknown key with a suggestion",
       "  connections:\n",
       "  conections:\n",
       {kA + "18: site_to_site.connections: missing required key \"connections\"",
        kA + "19: site_to_site.conections: unknown key \"conections\"; did you mean "
             "\"connections\"?"}},
      {"connection: unknown key, missing keys",
       "      local_id: gw.contoso.example\n",
       "      local_idd: gw.contoso.example\n",
       {kA + "23: site_to_site.connections[0].local_idd: unknown key \"local_idd\"; did you mean "
             "\"local_id\"?"}},
      {"missing addresses",
       "      local_address: 10.1.3.2\n      peer_address: 10.1.3.100\n",
       "",
       {kA +
            "20: site_to_site.connections[0].local_address: missing required key \"local_address\"",
        kA +
            "20: site_to_site.connections[0].peer_address: missing required key \"peer_address\""}},
      {"name",
       "    - name: onprem\n",
       "    - name: on prem\n",
       {kA + "20: site_to_site.connections[0].name: \"on prem\" is not a name (letters, digits, "
             "'.', '_' and '-')"}},
      {"reserved name",
       "    - name: onprem\n",
       "    - name: p2s-eap\n      psk: onprem\n",
       {kA + "20: site_to_site.connections[0].name: \"p2s-eap\": names p2s and p2s-* are the "
             "point-to-site connections'"}},
      {"addresses",
       "      peer_address: 10.1.3.100\n",
       "      peer_address: 10.1.3\n",
       {kA +
        "22: site_to_site.connections[0].peer_address: 10.1.3 is not an IPv4 or IPv6 address"}},
      {"identity",
       "      local_id: gw.contoso.example\n",
       "      local_id: 'gw \"contoso\"'\n",
       {kA + "23: site_to_site.connections[0].local_id: \"gw \"contoso\"\" holds a character an "
             "identity cannot have ('\"', '\\' or a control character)"}},
      {"auth",
       "      local_id: gw.contoso.example\n",
       "      local_id: gw.contoso.example\n      auth: rsa\n",
       {kA +
        "24: site_to_site.connections[0].auth: rsa is not an auth method (psk or certificate)"}},
      {"timers and enums",
       "      local_id: gw.contoso.example\n",
       "      local_id: gw.contoso.example\n      dpd_delay: 3601\n      ike_rekey: 59\n      "
       "child_rekey: 1w\n      initiate: sometimes\n      mode: tunnel\n",
       {kA + "24: site_to_site.connections[0].dpd_delay: 3601 is outside 0..3600",
        kA + "25: site_to_site.connections[0].ike_rekey: 59 is outside 60..604800",
        kA + "26: site_to_site.connections[0].child_rekey: 1w is not seconds (an integer in "
             "60..604800)",
        kA + "27: site_to_site.connections[0].initiate: sometimes is not an initiate mode (always, "
             "on_traffic or never)",
        kA +
            "28: site_to_site.connections[0].mode: tunnel is not a tunnel mode (route or policy)"}},
      {"tunnel keys",
       "        peer: 10.255.0.2\n",
       "        peer: 10.255.0.2/32\n        remote: 10.255.0.3\n",
       {kA + "26: site_to_site.connections[0].tunnel.peer: 10.255.0.2/32 is not an IPv4 or IPv6 "
             "address",
        kA + "27: site_to_site.connections[0].tunnel.remote: unknown key \"remote\" (known keys: "
             "local, peer)"}},
      {"routes",
       "      routes: [10.2.0.0/24]\n",
       "      routes: [10.2.0.1/24, 10.2.0.0/33]\n",
       {kA + "27: site_to_site.connections[0].routes[0]: 10.2.0.1/24 has host bits set (did you "
             "mean 10.2.0.0/24?)",
        kA + "27: site_to_site.connections[0].routes[1]: 10.2.0.0/33: length 33 is longer than an "
             "IPv4 address"}},
  });
}

TEST(GatewayS2sErrors, SecretsAndCredentials) {
  Expect({
      {"psk without a secrets file",
       "  secrets: ../secrets/contoso.yaml\n  connections:\n",
       "  connections:\n",
       {kA + "19: site_to_site.connections[0]: a pre-shared key needs site_to_site.secrets, the "
             "file that holds the keys"}},
      {"no such key",
       "    - name: onprem\n",
       "    - name: onprem2\n",
       {kA +
        "20: site_to_site.connections[0]: no key \"onprem2\" in the psk: section of "
        "DIR/secrets/contoso.yaml (a connection's key has its name unless psk: names another)"}},
      {"psk names another key",
       "      local_id: gw.contoso.example\n",
       "      local_id: gw.contoso.example\n      psk: hq\n",
       {kA + "24: site_to_site.connections[0].psk: no key \"hq\" in the psk: section of "
             "DIR/secrets/contoso.yaml"}},
      {"secrets file missing",
       "  secrets: ../secrets/contoso.yaml\n  connections:\n",
       "  secrets: ../secrets/nothere.yaml\n  connections:\n",
       {kA + "18: site_to_site.secrets: cannot read DIR/secrets/nothere.yaml: No such file or "
             "directory"}},
      {"secrets file: short key, unknown section, bad user, not a map",
       "  pool: 10.9.9.0/24\n",
       "  pool: 10.9.9.0/24\n",
       {kA + "18: site_to_site.secrets: DIR/secrets/contoso.yaml:2: psk.onprem: a pre-shared key "
             "of 9 characters is too weak; use at least 16",
        kA + "18: site_to_site.secrets: DIR/secrets/contoso.yaml:3: psk.branch: expected a secret "
             "(text), got a list",
        kA + "18: site_to_site.secrets: DIR/secrets/contoso.yaml:5: eap.bad\\user: \"bad\\user\" "
             "is not a user name: \"bad\\user\" holds a character an identity cannot have ('\"', "
             "'\\' or a control character)",
        kA + "18: site_to_site.secrets: DIR/secrets/contoso.yaml:6: tokens: unknown key \"tokens\" "
             "(known keys: psk, eap)",
        kA + "20: site_to_site.connections[0]: no key \"onprem\" in the psk: section of "
             "DIR/secrets/contoso.yaml (a connection's key has its name unless psk: names another)",
        kA + "35: point_to_site.secrets: DIR/secrets/contoso.yaml has no eap: users"},
       "psk:\n  onprem: \"too short\"\n  branch: [a]\neap:\n  \"bad\\\\user\": \"x\"\ntokens: "
       "{}\n"},
      {"secrets file: YAML syntax",
       "  pool: 10.9.9.0/24\n",
       "  pool: 10.9.9.0/24\n",
       {kA + "18: site_to_site.secrets: DIR/secrets/contoso.yaml:2: end of map flow not found "
             "(YAML syntax error)"},
       "psk: {onprem: \"correct horse battery staple\"\n"},
      {"p2s secrets without eap users",
       "  pool: 10.9.9.0/24\n",
       "  pool: 10.9.9.0/24\n",
       {kA + "35: point_to_site.secrets: DIR/secrets/contoso.yaml has no eap: users"},
       "psk:\n  onprem: \"correct horse battery staple\"\n"},
      {"certificate auth: required files",
       "      local_id: gw.contoso.example\n",
       "      local_id: gw.contoso.example\n      auth: certificate\n",
       {kA + "20: site_to_site.connections[0].certificate: missing required key \"certificate\"",
        kA + "20: site_to_site.connections[0].private_key: missing required key \"private_key\"",
        kA + "20: site_to_site.connections[0].ca: missing required key \"ca\""}},
      {"certificate auth: psk is misplaced, files unreadable",
       "      local_id: gw.contoso.example\n",
       "      local_id: gw.contoso.example\n      auth: certificate\n      psk: onprem\n      "
       "certificate: ../pki/missing.pem\n      private_key: ../pki/gw.pem\n      ca: []\n",
       {kA + "25: site_to_site.connections[0].psk: auth is certificate: no pre-shared key",
        kA + "26: site_to_site.connections[0].certificate: cannot read DIR/pki/missing.pem: No "
             "such file or directory",
        kA + "27: site_to_site.connections[0].private_key: DIR/pki/gw.pem is readable by every "
             "user (mode 644); make it private (chmod o-rwx)",
        kA + "28: site_to_site.connections[0].ca: at least one CA certificate"}},
      {"psk auth: certificate keys misplaced",
       "      local_id: gw.contoso.example\n",
       "      local_id: gw.contoso.example\n      certificate: ../pki/gw.pem\n      private_key: "
       "../pki/gw.key\n      ca: [../pki/ca.pem]\n",
       {kA + "24: site_to_site.connections[0].certificate: auth is psk: no certificate (or set "
             "auth: certificate)",
        kA + "25: site_to_site.connections[0].private_key: auth is psk: no private key (or set "
             "auth: certificate)",
        kA + "26: site_to_site.connections[0].ca: auth is psk: no CA (or set auth: certificate)"}},
      {"private key readable by all",
       "  private_key: ../pki/gw.key\n",
       "  private_key: ../pki/gw.pem\n",
       {kA + "38: point_to_site.private_key: DIR/pki/gw.pem is readable by every user (mode 644); "
             "make it private (chmod o-rwx)"}},
      {"a path that cannot go into a file",
       "  certificate: ../pki/gw.pem\n",
       "  certificate: 'a\"b'\n",
       {kA + "37: point_to_site.certificate: \"a\"b\" is not a usable path (empty, or holds '\"', "
             "'\\' or a line break)"}},
  });
}

TEST(GatewayS2sErrors, Proposals) {
  Expect({
      {"unknown keyword, close to one",
       "      local_id: gw.contoso.example\n",
       "      local_id: gw.contoso.example\n      ike_proposals: [aes256gcm16-prfsha384-ecp38]\n",
       {kA + "24: site_to_site.connections[0].ike_proposals[0]: aes256gcm16-prfsha384-ecp38: "
             "\"ecp38\" is not a strongSwan algorithm (ecp384?)"}},
      {"IKE rules",
       "      local_id: gw.contoso.example\n",
       "      local_id: gw.contoso.example\n      ike_proposals: [aes256gcm16-ecp384, "
       "aes256-prfsha256-ecp384, aes256-sha256, aes256gcm16-sha256-prfsha256-ecp384, "
       "sha256-ecp384, aes256-aes256gcm16-sha256-ecp384, aes256-sha256-ecp384-esn]\n",
       {kA + "24: site_to_site.connections[0].ike_proposals[0]: aes256gcm16-ecp384: an IKE "
             "proposal with an AEAD cipher needs a PRF (e.g. prfsha384)",
        kA + "24: site_to_site.connections[0].ike_proposals[1]: aes256-prfsha256-ecp384: no "
             "integrity algorithm (e.g. sha256) for a non-AEAD cipher",
        kA + "24: site_to_site.connections[0].ike_proposals[2]: aes256-sha256: an IKE proposal "
             "needs a DH group (e.g. ecp384)",
        kA + "24: site_to_site.connections[0].ike_proposals[3]: "
             "aes256gcm16-sha256-prfsha256-ecp384: an AEAD cipher has its own integrity; drop the "
             "integrity algorithm",
        kA + "24: site_to_site.connections[0].ike_proposals[4]: sha256-ecp384: no encryption "
             "algorithm",
        kA + "24: site_to_site.connections[0].ike_proposals[5]: aes256-aes256gcm16-sha256-ecp384: "
             "AEAD (gcm, ccm, chacha20poly1305) and other encryption algorithms cannot share a "
             "proposal",
        kA + "24: site_to_site.connections[0].ike_proposals[6]: aes256-sha256-ecp384-esn: "
             "esn/noesn are for ESP proposals"}},
      {"ESP rules",
       "      local_id: gw.contoso.example\n",
       "      local_id: gw.contoso.example\n      esp_proposals: [aes256gcm16-prfsha256, aes256, "
       "aes256gcm16-ecp384-esn]\n",
       {kA + "24: site_to_site.connections[0].esp_proposals[0]: aes256gcm16-prfsha256: an ESP "
             "proposal has no PRF",
        kA + "24: site_to_site.connections[0].esp_proposals[1]: aes256: no integrity algorithm "
             "(e.g. sha256) for a non-AEAD cipher"}},
      {"empty list",
       "      local_id: gw.contoso.example\n",
       "      local_id: gw.contoso.example\n      esp_proposals: []\n",
       {kA + "24: site_to_site.connections[0].esp_proposals: an empty list of proposals"}},
  });
}

TEST(GatewayS2sErrors, SiteToSiteAgainstTheTenant) {
  Expect({
      {"local address not the tenant's",
       "      local_address: 10.1.3.2\n",
       "      local_address: 10.1.3.9\n",
       {kA + "21: site_to_site.connections[0].local_address: 10.1.3.9 is not an address of the "
             "tenant's external interfaces (10.1.3.2)"}},
      {"peer of another family",
       "      peer_address: 10.1.3.100\n",
       "      peer_address: 2001:db8::1\n",
       {kA + "22: site_to_site.connections[0].peer_address: 2001:db8::1 is not of the family of "
             "local_address 10.1.3.2"}},
      {"peer is the tenant",
       "      peer_address: 10.1.3.100\n",
       "      peer_address: 10.0.2.2\n",
       {kA + "22: site_to_site.connections[0].peer_address: 10.0.2.2 is an address of the tenant "
             "itself"}},
      {"same name, same peers",
       "      routes: [10.2.0.0/24]\n",
       "      routes: [10.2.0.0/24]\n    - name: onprem\n      local_address: 10.1.3.2\n      "
       "peer_address: 10.1.3.100\n      mode: policy\n      remote_ts: [10.3.0.0/24]\n",
       {kA + "28: site_to_site.connections[1].name: connection onprem is already defined at "
             "site_to_site.connections[0].name (line 20)",
        kA + "30: site_to_site.connections[1].peer_address: connection onprem "
             "(site_to_site.connections[0]) already joins 10.1.3.2 and 10.1.3.100"}},
      {"route-based without a tunnel, local_ts",
       "      tunnel:\n        local: 10.255.0.1\n        peer: 10.255.0.2\n",
       "      local_ts: [10.0.1.0/24]\n",
       {kA + "20: site_to_site.connections[0]: a route-based connection needs tunnel: {local, "
             "peer}, its addresses on ipsec0 (or mode: policy)"}},
      {"local_ts in route mode",
       "      routes: [10.2.0.0/24]\n",
       "      routes: [10.2.0.0/24]\n      local_ts: [10.0.1.0/24]\n",
       {kA + "28: site_to_site.connections[0].local_ts: a route-based connection carries what is "
             "routed into it; local_ts is for mode: policy"}},
      {"tunnel addresses",
       "        local: 10.255.0.1\n        peer: 10.255.0.2\n",
       "        local: 10.0.1.7\n        peer: 10.0.1.7\n",
       {kA + "25: site_to_site.connections[0].tunnel.local: 10.0.1.7 is inside the VM network's "
             "10.0.1.0/24",
        kA + "26: site_to_site.connections[0].tunnel.peer: 10.0.1.7 is inside the VM network's "
             "10.0.1.0/24",
        kA + "26: site_to_site.connections[0].tunnel.peer: tunnel.peer is tunnel.local"}},
      {"tunnel address family",
       "        local: 10.255.0.1\n",
       "        local: fd00::1\n",
       {kA + "25: site_to_site.connections[0].tunnel.local: fd00::1 is not IPv4, the family of the "
             "tenant's VM network"}},
      {"tunnel address on the external subnet",
       "        peer: 10.255.0.2\n",
       "        peer: 10.1.3.77\n",
       {kA + "26: site_to_site.connections[0].tunnel.peer: 10.1.3.77 is on an external subnet of "
             "the tenant; a tunnel's addresses are its own"}},
      {"routes: family, VM network, outside remote_ts",
       "      routes: [10.2.0.0/24]\n",
       "      routes: [fd00::/64, 10.0.0.0/16, 10.3.0.0/24]\n      remote_ts: [10.2.0.0/16]\n",
       {kA + "27: site_to_site.connections[0].routes[0]: fd00::/64 is not IPv4",
        kA + "27: site_to_site.connections[0].routes[1]: 10.0.0.0/16 overlaps the VM network's "
             "10.0.1.0/24",
        kA + "27: site_to_site.connections[0].routes[2]: 10.3.0.0/24 is outside the connection's "
             "remote_ts"}},
      {"two route-based tunnels",
       "      routes: [10.2.0.0/24]\n",
       "      routes: [10.2.0.0/24]\n    - name: branch\n      local_address: 10.1.3.2\n      "
       "peer_address: 198.51.100.7\n      tunnel: {local: 10.255.0.5, peer: 10.255.0.2}\n",
       {kA + "20: site_to_site.connections[0]: with several route-based connections each needs "
             "remote_ts, the destinations it carries (not overlapping the others'): "
             "kernel-libipsec picks a packet's tunnel by its selectors",
        kA + "28: site_to_site.connections[1]: with several route-based connections each needs "
             "remote_ts, the destinations it carries (not overlapping the others'): "
             "kernel-libipsec picks a packet's tunnel by its selectors",
        kA + "31: site_to_site.connections[1].tunnel: 10.255.0.2 is already a tunnel address of "
             "connection onprem"}},
      {"two route-based tunnels with overlapping selectors",
       "      routes: [10.2.0.0/24]\n",
       "      routes: [10.2.0.0/24]\n      remote_ts: [10.2.0.0/16]\n    - name: branch\n      "
       "local_address: 10.1.3.2\n      peer_address: 198.51.100.7\n      tunnel: {local: "
       "10.255.1.1, peer: 10.255.1.2}\n      remote_ts: [10.2.128.0/17]\n",
       {kA + "33: site_to_site.connections[1].remote_ts: 10.2.128.0/17 overlaps 10.2.0.0/16 of "
             "connection onprem"}},
      {"policy-based: tunnel and routes misplaced, no remote_ts",
       "      routes: [10.2.0.0/24]\n",
       "      routes: [10.2.0.0/24]\n      mode: policy\n",
       {kA + "20: site_to_site.connections[0]: a policy-based connection needs remote_ts",
        kA + "24: site_to_site.connections[0].tunnel: tunnel: is for mode: route",
        kA + "27: site_to_site.connections[0].routes: a policy-based connection routes its "
             "remote_ts; routes: is for mode: route",
        kA + "32: bgp.neighbors[0].connection: connection onprem is policy-based: BGP runs over "
             "route-based tunnels (zebra cannot resolve a next hop behind a policy)"}},
      {"policy-based: selectors",
       "      tunnel:\n        local: 10.255.0.1\n        peer: 10.255.0.2\n      routes: "
       "[10.2.0.0/24]\n",
       "      mode: policy\n      local_ts: [fd00::/64]\n      remote_ts: [10.0.0.0/8, "
       "fd01::/64]\n",
       {kA + "25: site_to_site.connections[0].local_ts[0]: fd00::/64 is not IPv4",
        kA + "26: site_to_site.connections[0].remote_ts[0]: 10.0.0.0/8 overlaps the VM network's "
             "10.0.1.0/24",
        kA + "26: site_to_site.connections[0].remote_ts[1]: fd01::/64 is not IPv4",
        kA + "30: bgp.neighbors[0].connection: connection onprem is policy-based: BGP runs over "
             "route-based tunnels (zebra cannot resolve a next hop behind a policy)",
        kA + "38: point_to_site.pool: 10.9.9.0/24 overlaps 10.0.0.0/8 of connection onprem"}},
      {"policy-based: a local selector without a compartment address",
       "      tunnel:\n        local: 10.255.0.1\n        peer: 10.255.0.2\n      routes: "
       "[10.2.0.0/24]\n",
       "      mode: policy\n      local_ts: [10.0.1.0/24, 10.0.0.0/16]\n      remote_ts: "
       "[10.2.0.0/16]\n",
       {kA + "25: site_to_site.connections[0].local_ts[0]: 10.0.1.0/24 holds none of the "
             "compartment's addresses (10.0.2.2, 10.1.3.2): kernel-libipsec takes the source of "
             "each local selector's route from it; use a prefix that holds one, e.g. 10.0.0.0/22",
        kA + "30: bgp.neighbors[0].connection: connection onprem is policy-based: BGP runs over "
             "route-based tunnels (zebra cannot resolve a next hop behind a policy)"}},
  });
}

TEST(GatewayS2sErrors, Bgp) {
  Expect({
      {"keys and values",
       "  asn: 65001\n",
       "  asn: 0\n  router_id: fd00::1\n  announce: [10.0.1.0]\n",
       {kA + "29: bgp.asn: 0 is outside 1..4294967295",
        kA + "30: bgp.router_id: fd00::1: a BGP router id is an IPv4 address",
        kA + "31: bgp.announce[0]: 10.0.1.0 is not an IP prefix (address/length, e.g. "
             "10.0.1.0/24)"}},
      {"missing asn", "  asn: 65001\n", "", {kA + "29: bgp.asn: missing required key \"asn\""}},
      {"neighbour keys",
       "      remote_asn: 65002\n",
       "      remote_as: 65002\n",
       {kA + "31: bgp.neighbors[0].remote_asn: missing required key \"remote_asn\"",
        kA + "32: bgp.neighbors[0].remote_as: unknown key \"remote_as\"; did you mean "
             "\"remote_asn\"?"}},
      {"neighbour without address or connection",
       "    - connection: onprem\n",
       "    - ebgp_multihop: 2\n",
       {kA + "31: bgp.neighbors[0]: a neighbour needs an address or a connection (its tunnel)"}},
      {"neighbour values",
       "      accept: [10.2.0.0/16 le 24]\n",
       "      accept: [10.2.0.0/16 le 24]\n      max_prefixes: 0\n      ebgp_multihop: 0\n      "
       "keepalive: 20\n      hold: 30\n",
       {kA + "31: bgp.neighbors[0]: keepalive 20 s is more than a third of hold 30 s",
        kA + "34: bgp.neighbors[0].max_prefixes: 0 is outside 1..1000000",
        kA + "35: bgp.neighbors[0].ebgp_multihop: 0 is outside 1..255"}},
      {"hold below 3",
       "      accept: [10.2.0.0/16 le 24]\n",
       "      accept: [10.2.0.0/16 le 24]\n      hold: 2\n",
       {kA + "34: bgp.neighbors[0].hold: 2 is outside 3..65535"}},
      {"accept shapes",
       "      accept: [10.2.0.0/16 le 24]\n",
       "      accept: [10.2.0.0/16 le 8, 10.2.0.0/16 ge 24 le 20, 10.2.0.0/16 le 24 ge 20, "
       "everything, 10.2.0.0/16 le, 10.2.0.0/16 le 33]\n",
       {kA + "33: bgp.neighbors[0].accept[0]: \"10.2.0.0/16 le 8\": le 8 must be above the prefix "
             "length 16 and at most 32",
        kA + "33: bgp.neighbors[0].accept[1]: \"10.2.0.0/16 ge 24 le 20\": ge is above le",
        kA + "33: bgp.neighbors[0].accept[2]: \"10.2.0.0/16 le 24 ge 20\" is not a prefix filter "
             "(\"10.2.0.0/16\", \"10.2.0.0/16 le 24\", \"10.2.0.0/16 ge 20 le 24\" or \"any\")",
        kA + "33: bgp.neighbors[0].accept[3]: \"everything\" is not a prefix filter "
             "(\"10.2.0.0/16\", \"10.2.0.0/16 le 24\", \"10.2.0.0/16 ge 20 le 24\" or \"any\")",
        kA + "33: bgp.neighbors[0].accept[4]: \"10.2.0.0/16 le\" is not a prefix filter "
             "(\"10.2.0.0/16\", \"10.2.0.0/16 le 24\", \"10.2.0.0/16 ge 20 le 24\" or \"any\")",
        kA + "33: bgp.neighbors[0].accept[5]: \"10.2.0.0/16 le 33\": le 33 must be above the "
             "prefix length 16 and at most 32"}},
      {"neighbour's connection",
       "    - connection: onprem\n",
       "    - connection: branch\n",
       {kA + "31: bgp.neighbors[0].connection: no connection branch in site_to_site.connections"}},
      {"address is not the tunnel peer",
       "    - connection: onprem\n",
       "    - connection: onprem\n      address: 10.255.0.9\n",
       {kA + "32: bgp.neighbors[0].address: 10.255.0.9 is not the tunnel peer 10.255.0.2 of "
             "connection onprem"}},
      {"address unreachable, own, twice",
       "    - connection: onprem\n      remote_asn: 65002\n",
       "    - address: 192.0.2.1\n      remote_asn: 65002\n    - address: 10.1.3.2\n      "
       "remote_asn: 65002\n    - address: 10.255.0.2\n      remote_asn: 65002\n    - connection: "
       "onprem\n      remote_asn: 65002\n",
       {kA + "31: bgp.neighbors[0].address: 192.0.2.1 is neither a tunnel peer nor on an external "
             "interface's subnet (set ebgp_multihop for a neighbour further away)",
        kA + "33: bgp.neighbors[1].address: 10.1.3.2 is an address of the tenant itself",
        kA + "37: bgp.neighbors[3]: a second neighbour 10.255.0.2"}},
      {"announce of another family",
       "  asn: 65001\n",
       "  asn: 65001\n  announce: [fd00::/64]\n",
       {kA + "30: bgp.announce[0]: fd00::/64 is not IPv4"}},
  });
}

TEST(GatewayS2sErrors, PointToSite) {
  Expect({
      {"keys",
       "  pool: 10.9.9.0/24\n",
       "  pol: 10.9.9.0/24\n",
       {kA + "35: point_to_site.pool: missing required key \"pool\"",
        kA + "39: point_to_site.pol: unknown key \"pol\"; did you mean \"pool\"?"}},
      {"no clients",
       "  secrets: ../secrets/contoso.yaml\n  local_address: 10.1.3.2\n",
       "  local_address: 10.1.3.2\n",
       {kA + "34: point_to_site: no client can connect: name a secrets file with eap: users, or "
             "client_ca for certificate clients, or both"}},
      {"pool size",
       "  pool: 10.9.9.0/24\n",
       "  pool: 10.9.9.0/31\n",
       {kA + "39: point_to_site.pool: 10.9.9.0/31: a pool is a /16../30"}},
      {"p2s local address not the tenant's",
       "  local_address: 10.1.3.2\n  certificate",
       "  local_address: 10.0.2.2\n  certificate",
       {kA + "36: point_to_site.local_address: 10.0.2.2 is not an address of the tenant's external "
             "interfaces (10.1.3.2)"}},
      {"pool family",
       "  pool: 10.9.9.0/24\n",
       "  pool: fd00::/120\n",
       {kA +
        "39: point_to_site.pool: fd00::/120 is not IPv4, the family of the tenant's VM network"}},
      {"pool overlaps the VM network",
       "  pool: 10.9.9.0/24\n",
       "  pool: 10.0.0.0/16\n",
       {kA + "39: point_to_site.pool: 10.0.0.0/16 overlaps the VM network's 10.0.1.0/24"}},
      {"pool overlaps an external subnet",
       "  pool: 10.9.9.0/24\n",
       "  pool: 10.1.3.128/25\n",
       {kA + "39: point_to_site.pool: 10.1.3.128/25 overlaps the external subnet of 10.1.3.2"}},
      {"pool overlaps a connection's routes",
       "  pool: 10.9.9.0/24\n",
       "  pool: 10.2.0.0/16\n",
       {kA + "39: point_to_site.pool: 10.2.0.0/16 overlaps 10.2.0.0/24 of connection onprem"}},
      {"identity and dns",
       "  pool: 10.9.9.0/24\n",
       "  pool: 10.9.9.0/24\n  local_id: \"\"\n  dns: [10.0.1.353]\n",
       {kA + "40: point_to_site.local_id: \"\" is not an identity (1..255 characters)",
        kA + "41: point_to_site.dns[0]: 10.0.1.353 is not an IPv4 or IPv6 address"}},
      {"pool holds a tunnel address",
       "  pool: 10.9.9.0/24\n",
       "  pool: 10.255.0.0/24\n",
       {kA + "39: point_to_site.pool: 10.255.0.0/24 holds a tunnel address of connection onprem"}},
      {"routes without a compartment address",
       "  pool: 10.9.9.0/24\n",
       "  pool: 10.9.9.0/24\n  routes: [10.0.1.0/24, fd00::/64, 10.0.2.0/24]\n",
       {kA + "40: point_to_site.routes[0]: 10.0.1.0/24 holds none of the compartment's addresses "
             "(10.0.2.2, 10.1.3.2): kernel-libipsec takes the source of each local selector's "
             "route from it; use a prefix that holds one, e.g. 10.0.0.0/22",
        kA + "40: point_to_site.routes[1]: fd00::/64 is not IPv4"}},
  });
}


TEST(GatewayS2sErrors, SecretsReadableByAll) {
  VpnFixture fx(kVpnSections);
  chmod(fx.dir.Path("secrets/contoso.yaml").c_str(), 0644);
  EXPECT_EQ(
      fx.Errors(),
      (Lines{kA + "18: site_to_site.secrets: DIR/secrets/contoso.yaml is readable by every "
                  "user (mode 644); make it private (chmod o-rwx)"}));  // once, where first named
}

TEST(GatewayS2sErrors, SectionsOnlyInTenantFiles) {
  // In the tenant's included policy file, and in the gateway file.
  VpnFixture fx("");
  fx.dir.Write("policy-1.yaml", PolicyFile('1', "6") + "bgp:\n  asn: 65001\n");
  fx.dir.Write("gw.yaml", kGateway + "point_to_site:\n  pool: 10.9.9.0/24\n");
  EXPECT_EQ(fx.Errors(),
            (Lines{"DIR/gw.yaml:13: point_to_site: only a tenant file has point_to_site; an "
                   "included file holds policy",
                   "DIR/policy-1.yaml:21: bgp: only a tenant file has bgp; an included file holds "
                   "policy"}));
}

TEST(GatewayS2sErrors, Ipv6TenantNeedsARouterId) {
  VpnFixture fx("bgp:\n  asn: 65001\n");
  fx.dir.Write("policy-1.yaml",
               "routing_domains:\n"
               "  - rdid: \"{12345678-1000-2000-3000-123456780001}\"\n"
               "    virtual_subnets:\n"
               "      - vsid: 6000\n"
               "        prefix: fd00:1::/64\n"
               "      - vsid: 6001\n"
               "        prefix: fd00:2::/64\n"
               "lookup_records:\n"
               "  - customer_address: fd00:2::2\n"
               "    vsid: 6001\n"
               "    mac: 600160010301\n"
               "    provider_address: 192.168.0.11\n");
  fx.dir.Write("tenants/a.yaml",
               "include: ../policy-1.yaml\n"
               "tenant:\n"
               "  name: contoso\n"
               "  rdid: \"{12345678-1000-2000-3000-123456780001}\"\n"
               "  vm_network:\n"
               "    vsid: 6001\n"
               "    address: fd00:2::2/64\n"
               "bgp:\n"
               "  asn: 65001\n");
  EXPECT_EQ(fx.Errors(), (Lines{kA + "8: bgp: an IPv6 tenant needs bgp.router_id (an IPv4 "
                                     "address, unique among its peers)"}));
}

}  // namespace
}  // namespace hnv::config
