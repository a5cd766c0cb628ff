// The s2s library's names for the tenant's VPN model (config/vpn_spec.h:
// plain values that config/ builds from the YAML), and what only s2s knows.
#pragma once

#include <cstdint>

#include "config/vpn_spec.h"

namespace hnv::s2s {

using config::AuthMethod;
using config::Bgp;
using config::BgpNeighbor;
using config::Certificates;
using config::Connection;
using config::Initiate;
using config::kDefaultEspProposal;
using config::kDefaultIkeProposal;
using config::PointToSite;
using config::PrefixMatch;
using config::TenantVpn;
using config::TunnelMode;

// Routes the s2s services install in a compartment's namespace (over
// ipsec0: tunnels' static routes, policy-based traffic selectors, the
// point-to-site pool) carry this rtm_protocol, next to the gateway's own 241
// ("hnv") and FRR's 186 ("bgp"), so they can be listed and reconciled.
inline constexpr uint8_t kRouteProtocolS2s = 242;

// The TUN device of strongSwan's kernel-libipsec (userspace ESP): one per
// charon, so one per compartment namespace.
inline constexpr const char* kTunnelDevice = "ipsec0";

}  // namespace hnv::s2s
