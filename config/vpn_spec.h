// A tenant's VPN and BGP as configured: site-to-site IKEv2/IPsec connections,
// BGP, point-to-site remote access. Plain values, no DPDK, no kernel state
// (as compartment_spec.h): config/yaml_s2s.cc builds them from the tenant
// file's `site_to_site:`, `bgp:` and `point_to_site:` sections, secrets
// already read from the secrets file; s2s/ (s2s/render.h, s2s/charon.h,
// s2s/frr.h) turns them into strongSwan's and FRR's files and runs the
// daemons.
//
// Every address, prefix and name here has been validated: renderers trust
// them (names are letters, digits, '.', '_', '-'; identities and proposals
// are checked against the characters strongSwan's parser treats specially).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/packet/types.h"

namespace hnv::config {

// AES-GCM-256 with ECP-384 (RFC 8221/8247 "MUST"-class suites as of 2024).
inline constexpr const char* kDefaultIkeProposal = "aes256gcm16-prfsha384-ecp384";
inline constexpr const char* kDefaultEspProposal = "aes256gcm16-ecp384";

// X.509 credentials: absolute paths of PEM (or DER) files.
struct Certificates {
  std::string certificate;      // ours
  std::string private_key;      // ours
  std::vector<std::string> ca;  // trust anchors for the peer's certificate
  friend bool operator==(const Certificates&, const Certificates&) = default;
};

enum class AuthMethod : uint8_t { kPsk, kCertificate };
enum class TunnelMode : uint8_t { kRoute, kPolicy };
// When the gateway brings the tunnel up: at once and whenever it goes down
// (swanctl start_action=start), on the first packet (trap), or only when the
// peer does (none: the gateway responds).
enum class Initiate : uint8_t { kAlways, kOnTraffic, kNever };

struct Connection {
  std::string name;      // unique in the tenant; the swanctl connection and child name
  IpAddr local_address;  // one of the tenant's external addresses
  IpAddr peer_address;
  std::string local_id;  // IKE identities; default the addresses
  std::string remote_id;
  AuthMethod auth = AuthMethod::kPsk;
  std::string psk;     // kPsk: the key (from the secrets file)
  Certificates certs;  // kCertificate
  std::vector<std::string> ike_proposals{kDefaultIkeProposal};
  std::vector<std::string> esp_proposals{kDefaultEspProposal};
  uint32_t dpd_delay = 10;      // seconds; 0 = no dead-peer detection
  uint32_t ike_rekey = 14400;   // seconds
  uint32_t child_rekey = 3600;  // seconds
  Initiate initiate = Initiate::kAlways;
  TunnelMode mode = TunnelMode::kRoute;
  // kRoute: the tunnel's inner point-to-point addresses on ipsec0 (BGP runs
  // between them) and the static routes sent over it (via tunnel_peer).
  IpAddr tunnel_local;
  IpAddr tunnel_peer;
  std::vector<IpPrefix> routes;
  // Traffic selectors. kRoute: local 0/0, remote 0/0 unless narrowed (the
  // tunnel peer is always in it). kPolicy: what the tunnel carries; the
  // remote ones are routed into ipsec0 with route_source as source (the
  // gateway CA when it is inside local_ts, so the compartment itself can
  // reach the site; unspecified otherwise).
  std::vector<IpPrefix> local_ts;
  std::vector<IpPrefix> remote_ts;
  IpAddr route_source;
  friend bool operator==(const Connection&, const Connection&) = default;
};

// One FRR prefix-list entry: `prefix`, with lengths ge..le when set (0 = not
// set): "10.2.0.0/16 le 24".
struct PrefixMatch {
  IpPrefix prefix;
  uint8_t ge = 0;
  uint8_t le = 0;
  friend bool operator==(const PrefixMatch&, const PrefixMatch&) = default;
};

struct BgpNeighbor {
  IpAddr address;
  uint32_t remote_asn = 0;
  std::string connection;     // a route-based connection it runs over; "" = an external attachment
  IpAddr update_source;       // the connection's tunnel_local; unspecified for external neighbours
  uint8_t ebgp_multihop = 0;  // 0 = directly connected
  // Accepted from the neighbour, in order, after the rejected prefixes of
  // Bgp::reject. Empty accepts nothing.
  std::vector<PrefixMatch> accept;
  uint32_t max_prefixes = 1000;  // the session is reset above this
  uint16_t keepalive = 10;       // seconds
  uint16_t hold = 30;
  friend bool operator==(const BgpNeighbor&, const BgpNeighbor&) = default;
};

struct Bgp {
  uint32_t asn = 0;  // 0: no BGP for this tenant
  IpAddr router_id;
  std::vector<IpPrefix> announce;  // the VM network's prefixes unless configured
  // Never accepted from any neighbour, whatever its accept list says: the
  // VM network's own prefixes and more specific ones (a site must not take
  // the tenant's own subnets), and every prefix that covers an IKE peer (its
  // tunnel would then be routed through itself).
  std::vector<PrefixMatch> reject;
  std::vector<BgpNeighbor> neighbors;
  friend bool operator==(const Bgp&, const Bgp&) = default;
};

struct PointToSite {
  bool enabled = false;
  IpAddr local_address;  // one of the tenant's external addresses
  std::string local_id;  // default the address
  // The gateway authenticates itself with a certificate (clients require it
  // for EAP); `server.ca` are the CAs that sign client certificates (empty:
  // no certificate clients).
  Certificates server;
  // EAP-MSCHAPv2 users (name, password) from the secrets file; empty: no
  // password clients.
  std::vector<std::pair<std::string, std::string>> users;
  IpPrefix pool;                 // clients' virtual IPs
  std::vector<IpPrefix> routes;  // what clients reach (their remote TS): the VM network
  std::vector<IpAddr> dns;
  std::vector<std::string> ike_proposals{kDefaultIkeProposal};
  std::vector<std::string> esp_proposals{kDefaultEspProposal};
  friend bool operator==(const PointToSite&, const PointToSite&) = default;
};

// Everything s2s runs for one tenant compartment.
struct TenantVpn {
  std::string tenant;
  std::string file;  // the tenant file, for the generated files' headers
  std::vector<Connection> connections;
  Bgp bgp;
  PointToSite p2s;
  bool NeedsCharon() const { return !connections.empty() || p2s.enabled; }
  bool NeedsFrr() const { return bgp.asn != 0; }
  friend bool operator==(const TenantVpn&, const TenantVpn&) = default;
};

}  // namespace hnv::config
