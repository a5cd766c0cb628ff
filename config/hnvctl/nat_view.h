// hnvctl's views of a compartment's NAT and load balancers (hnv-gateway,
// gateway/nat/nat_service.h). The results:
//   nat {"name", "address"?, "port"?, "limit"?} ->
//     {"name", "enabled", "addresses": [..], "sessions_live", "sessions_capacity",
//      "mappings", "hosts", "counters": {name: n}, "dropped": {reason: n},
//      "sessions": [{"protocol", "inside", "outside", "remote", "worker",
//                    "expires_in_s"}, ...]}
//   lb {"name"} ->
//     {"name", "connections", "counters": {..}, "dropped": {..},
//      "load_balancers": [{"name", "vip", "protocol", "port", "table_size", "health",
//        "backends": [{"address", "port", "weight", "healthy", "table_entries",
//                      "table_share", "checks"?, "last_error"?}, ...]}, ...]}
// Fields this client does not know are ignored; missing ones show as "-".
//
// Thread: any; pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "config/hnvctl/output.h"

namespace hnv::ctl {

// `hnvctl nat TENANT`: addresses, session totals, counters, non-zero drops
// by reason, then the sessions as a table.
Rendered RenderNat(const nlohmann::json& result);
// `hnvctl lb TENANT`: per load balancer its VIP and a table of its backends
// (health, weight, share of the Maglev table), then the counters.
Rendered RenderLb(const nlohmann::json& result);

}  // namespace hnv::ctl
