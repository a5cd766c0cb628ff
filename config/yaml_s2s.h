// Internals of LoadGatewayConfig (gateway_config.h): a tenant file's
// `site_to_site:`, `bgp:` and `point_to_site:` sections (config/README.md
// "Site-to-site VPN, BGP and point-to-site") read into an TenantVpn
// (config/vpn_spec.h), in the two phases of a load:
//  1. ReadVpn (yaml_s2s.cc): keys, types and values of one file, including
//     the strongSwan proposal syntax and the secrets files it names (read
//     here: a key that is missing from them is an error of this load);
//  2. CheckVpns (yaml_s2s_check.cc), only when phase 1 found nothing: against
//     the tenant (its external addresses, VM network) and the policy (the
//     routing domain's prefixes, the defaults of `announce`, `routes` and
//     `local_ts`), and across the tenant's own connections, neighbours and
//     pool.
//
// Not an API: use gateway_config.h. Thread: any; allocates, reads files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/vpn_spec.h"
#include "config/yaml_origin.h"
#include "config/yaml_policy.h"
#include "config/yaml_reader.h"
#include "config/yaml_tenant.h"

namespace hnv::config::yaml {

// `accept: [any]` as read, before phase 2 knows the neighbour's family.
inline constexpr uint8_t kAcceptAny = 255;

// The root keys of the three sections.
inline constexpr std::string_view kVpnRootKeys[] = {"site_to_site", "bgp", "point_to_site"};

struct VpnDraft {
  int file = 0;  // the tenant file
  std::string file_name;
  TenantVpn vpn;  // as read; defaults and the tenant's values come in phase 2
  bool has_site_to_site = false;
  bool has_bgp = false;
  FieldOrigin site_to_site, bgp, point_to_site;
  struct Conn {
    FieldOrigin item, name, local_address, peer_address, tunnel, tunnel_local, tunnel_peer;
    FieldOrigin remote_ts, local_ts, routes, psk;
    bool has_local_id = false, has_remote_id = false;
    bool has_local_ts = false, has_remote_ts = false, has_tunnel = false;
    std::vector<FieldOrigin> route_items, remote_ts_items, local_ts_items;
  };
  std::vector<Conn> conns;  // parallel to vpn.connections
  struct Neighbor {
    FieldOrigin item, address, connection;
    bool has_address = false, has_accept = false;
  };
  std::vector<Neighbor> neighbors;  // parallel to vpn.bgp.neighbors
  FieldOrigin router_id, announce;
  bool has_router_id = false, has_announce = false;
  std::vector<FieldOrigin> announce_items;
  FieldOrigin p2s_local_address, pool, p2s_routes;
  std::vector<FieldOrigin> p2s_route_items;
  bool has_p2s_local_id = false, has_p2s_routes = false;
};

// Phase 1: the three sections of one file's root mapping (a VpnDraft with
// nothing set when it has none). `own` says whether the file is a tenant
// file: the sections belong to no other file.
VpnDraft ReadVpn(Reader& r, const Map& root, bool own);

// Phase 2, for every tenant (drafts and tenants matched by file): fills the
// defaults and checks against the tenant and the policy; returns the
// tenants' TenantVpn by tenant name (tenants without sections included,
// empty).
std::map<std::string, TenantVpn> CheckVpns(std::vector<VpnDraft>* drafts,
                                           const std::vector<TenantDraft>& tenants,
                                           const PolicyBuilder& b, ErrorList* errors);

// Values of the schema, for both phases. Each returns "" when fine.
//   A strongSwan proposal ("aes256gcm16-prfsha384-ecp384"): known keywords,
//   an encryption algorithm, integrity unless it is AEAD, a PRF for IKE
//   with AEAD, a DH group for IKE, none of PRF for ESP.
std::string ProposalProblem(const std::string& proposal, bool ike);
//   An IKE identity: 1..255 printable characters, no '"' or '\'.
std::string IdentityProblem(const std::string& id);

}  // namespace hnv::config::yaml
