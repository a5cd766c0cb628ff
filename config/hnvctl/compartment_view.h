// hnvctl's views of hnv-gateway's compartments: the result of the request
// {"op": "compartments", "args": {} | {"name": NAME}}, which is
//   {"compartments": [{"name", "id", "namespace", "rdid", "file",
//     "interfaces": [{"name", "role" ("vm-network" | "external"), "ifindex",
//                     "mac", "vsid" (vm-network), "port", "vlan", "mtu",
//                     "addresses": ["10.0.2.2/24", ...]}, ...],
//     "routes": [{"destination", "next_hop", "interface", "metric", "origin",
//                 "table" ("main", "local", "220", ...), "fast_path"}, ...],
//     "neighbors": [{"ip", "mac", "interface"}, ...],
//     "fast_path": "main table" | "main table; the kernel decides ..." |
//                  "everything to the kernel: <why>",
//     "services": [{"name", "state" ("running" | "failed"), "summary",
//                   "detail": {...}, "error" (when failed)}, ...],
//     "counters": {"rx_vm": {"packets", "bytes"}, "rx_external": {..},
//                  "to_external": {..}, "to_vm": {..}, "injected": {..},
//                  "punted": {reason: packets, ...},
//                  "dropped": {reason: packets, ...}}}, ...]}
// A field the server leaves out shows as "-"; fields this client does not
// know are ignored, so a newer server still prints.
//
// Thread: any; pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "config/hnvctl/output.h"

namespace hnv::ctl {

// `hnvctl compartments`: a table, one line per compartment: name, id,
// namespace, RDID, the gateway VSID and CA (its vm-network interface), the
// external interfaces ("ext0 (external, VLAN 0) 10.1.3.2/24", several
// separated by "; "), and the packets forwarded (to_external + to_vm) and
// punted (every punt reason) in total.
Rendered RenderCompartments(const nlohmann::json& result);

// `hnvctl compartment NAME`: that compartment's identity (with what feeds
// its fast path), its services and their state, its interfaces, its routes
// (with their origin, their table when one is not main, and what the fast
// path does with them), its neighbours, and its counters: packets and bytes
// per direction, then every non-zero punt and drop reason. An error when the result holds
// no compartment of that name.
Rendered RenderCompartment(const nlohmann::json& result, const std::string& name);

}  // namespace hnv::ctl
