// The kernel side of a compartment's tunnels: addresses on ipsec0 and the
// routes into it, in the namespace's main table with protocol 242
// (kRouteProtocolS2s), so that zebra, the netlink mirror and `ip route` see
// them like any other route:
//   route-based   <tunnel_local> peer <tunnel_peer> on ipsec0;
//                 each static route via <tunnel_peer> dev ipsec0
//   policy-based  each remote traffic selector dev ipsec0 [src <route_source>]
//   point-to-site the pool dev ipsec0
// kernel-libipsec picks the SA of a packet it reads from ipsec0 by its
// policies; the routes only bring the packets there.
//
// ipsec0 exists while charon runs and disappears with it, with everything on
// it (RECIPES.md §1 pitfall 7), so the charon service reconciles after every
// start and every change: it lists what is there (`ip -j`), removes what is
// no longer wanted (only protocol 242 routes, only non-link-local addresses
// of ipsec0) and adds what is missing, in one `ip -batch`.
//
// Thread: any; runs `ip`.
#pragma once

#include <string>
#include <vector>

#include "s2s/spec.h"

namespace hnv::s2s {

struct TunnelAddress {
  IpAddr local;
  IpAddr peer;
  friend bool operator==(const TunnelAddress&, const TunnelAddress&) = default;
};

struct TunnelRoute {
  IpPrefix destination;
  IpAddr via;  // unspecified: on the device
  IpAddr src;  // unspecified: none
  friend bool operator==(const TunnelRoute&, const TunnelRoute&) = default;
};

struct TunnelNet {
  std::vector<TunnelAddress> addresses;
  std::vector<TunnelRoute> routes;
  friend bool operator==(const TunnelNet&, const TunnelNet&) = default;
};

TunnelNet WantedTunnelNet(const TenantVpn& vpn);

// Parses `ip -j addr show dev ipsec0` and `ip -j route show proto 242`
// (both families' outputs concatenated is not JSON: call once per output).
bool ParseAddresses(const std::string& ip_json, std::vector<TunnelAddress>* out,
                    std::string* error);
bool ParseRoutes(const std::string& ip_json, std::vector<TunnelRoute>* out, std::string* error);

// The `ip -batch` commands that turn `have` into `want`; "" when nothing.
std::string TunnelNetBatch(const TunnelNet& have, const TunnelNet& want);

// Lists, diffs and applies in namespace `netns`; `scratch` is a file path for
// the batch. False with *error when ipsec0 is missing or `ip` fails.
bool ReconcileTunnelNet(const std::string& netns, const TunnelNet& want, const std::string& scratch,
                        std::string* error);

}  // namespace hnv::s2s
