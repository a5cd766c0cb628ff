// A tenant's compartment as configured (config/gateway_config.h builds these
// from the per-tenant YAML): plain values, no DPDK, no kernel state. The
// gateway (gateway/compartment/) builds its namespaces, TAPs and fast-path
// tables from them.
//
// A compartment is one routing domain's stack inside hnv-gateway: a Linux
// network namespace whose interfaces are TAP devices mirroring the
// compartment's dataplane interfaces (interface 0: into the VM network, the
// gateway CA on the gateway VSID; interfaces 1..: external attachments, each
// an external dataplane port and an optional 802.1Q VLAN).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/packet/types.h"
#include "config/vpn_spec.h"
#include "dataplane/policy/gateway_limits.h"
#include "nat/model.h"

namespace hnv::config {

// An interface address: address and prefix length (host bits allowed).
struct IfAddress {
  IpAddr addr;
  uint8_t len = 0;
  // "10.1.3.2/24"
  std::string ToString() const { return addr.ToString() + "/" + std::to_string(len); }
  friend bool operator==(const IfAddress&, const IfAddress&) = default;
};

struct ExternalSpec {
  std::string interface;  // name in the namespace, e.g. "ext0" (IFNAMSIZ-1 max)
  std::string port_name;  // the gateway's external dataplane port
  uint16_t port = 0;      // its policy port index
  uint16_t vlan = 0;      // 0 = untagged
  MacAddr mac;
  std::vector<IfAddress> addresses;
  uint32_t mtu = 1500;
  friend bool operator==(const ExternalSpec&, const ExternalSpec&) = default;
};

struct StaticRoute {
  IpPrefix destination;
  IpAddr next_hop;        // unspecified = on-link (then `interface` is required)
  std::string interface;  // optional when the next hop is on a connected subnet
  uint32_t metric = 0;
  friend bool operator==(const StaticRoute&, const StaticRoute&) = default;
};

struct CompartmentSpec {
  std::string name;       // the tenant's name; unique on the gateway
  uint32_t id = 0;        // 0..kMaxCompartments-1, stable while the tenant exists
  Guid rdid;
  std::string netns;      // namespace name (/run/netns/<netns>)
  uint32_t max_routes = 16384;  // IPv4 FIB size
  // Interface 0: into the VM network.
  std::string vm_interface = "vmnet";
  uint32_t vsid = 0;      // the gateway VSID
  IfAddress vm_address;   // the gateway CA and its subnet's length (10.0.2.2/24)
  MacAddr vm_mac;         // the MAC of the gateway CA's lookup record
  uint16_t vm_port = 0;   // kFirstVirtualPort + id
  uint32_t vm_mtu = 1458; // underlay MTU minus the NVGRE overhead
  std::vector<ExternalSpec> external;  // interfaces 1..
  std::vector<StaticRoute> routes;
  // Its site-to-site connections, BGP and point-to-site (s2s, issue 12):
  // empty (TenantVpn{}) when the tenant file has none of those sections.
  TenantVpn vpn;
  // NAT and load balancers (nat/model.h); empty when the tenant file has
  // neither a nat: nor a load_balancers: section.
  nat::TenantNat nat;
  std::string file;       // the tenant file, for messages
  friend bool operator==(const CompartmentSpec&, const CompartmentSpec&) = default;
};

}  // namespace hnv::config
