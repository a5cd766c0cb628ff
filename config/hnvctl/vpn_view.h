// hnvctl's view of a tenant's VPN on hnv-gateway (`hnvctl vpn show TENANT`):
// the result of {"op": "vpn", "args": {"name": TENANT}}, which is
//   {"tenant": NAME,
//    "charon": the "charon" service's status (s2s/README.md "Status"):
//      {"daemon": {"state", "pid", "restarts", ...},
//       "as_of": time of charon's answer the rest comes from (null: none yet),
//       "age_ms": its age, "vici_error": why the last query failed,
//       "connections": [{"name", "local", "peer", "mode", "state"
//         ("up" | "connecting" | "down" | "unknown": no answer yet), "last_error", "rekeys": {"ike", "child"},
//         "ike_sas": [{"state", "local", "remote", "local_id", "remote_id",
//           "algorithms", "established_since", "rekey_in_seconds",
//           "child_sas": [{"state", "mode", "udp_encapsulation", "spi_in",
//             "spi_out", "algorithms", "bytes_in", "packets_in", "bytes_out",
//             "packets_out", "installed_since", "local_ts", "remote_ts"}]}]}],
//       "point_to_site": {"pool", "clients": [IKE SAs]}}   (absent: no charon)
//    "frr": the "frr" service's status: {"daemons", "asn", "router_id",
//      "as_of", "age_ms", "vtysh_error" (as for charon),
//      "neighbors": [{"address", "remote_asn", "connection", "state",
//        "up_seconds", "prefixes_received", "prefixes_sent"}],
//      "routes": [{"prefix", "next_hop", "from", "as_path", "best"}]}  (absent: no BGP)
//    "routes": the compartment's routes with origin "bgp" or "s2s", as in
//      `hnvctl compartment` (with "fast_path")}
// Fields this client does not know are ignored; absent ones show as "-".
//
// Thread: any; pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "config/hnvctl/output.h"

namespace hnv::ctl {

// Connections (state, endpoints, error) with their IKE and CHILD SAs
// (algorithms, since, bytes and packets, rekeys), point-to-site clients, BGP
// neighbours, the BGP table, and the compartment's VPN routes with what the
// fast path does with them.
Rendered RenderVpn(const nlohmann::json& result);

}  // namespace hnv::ctl
