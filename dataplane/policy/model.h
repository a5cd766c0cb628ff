// The HNV policy as the chapter defines it (section "Control plane"): routing
// domains, virtual subnets, lookup records, customer routes, provider
// addresses and provider routes. Plain values, owned by the control thread;
// the worker-side tables (tables.h) are compiled from them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/packet/types.h"

namespace hnv {

enum class TranslationRule : uint8_t {
  kEncap,  // TranslationMethodEncap: NVGRE
  kNone,   // TranslationMethodNone: no encapsulation
};

enum class RecordType : uint8_t {
  kStatic,
  kDynamic,          // learned from ARP/ND against an L2Only record
  kL2Only,           // CA unspecified: the MAC is known, its IPs are learned
  kGatewayWildcard,  // the PA may source any inner address on this VSID
};

struct RoutingDomain {
  Guid rdid;
  std::string name;  // optional, for display
};

struct VirtualSubnet {
  uint32_t vsid = 0;
  Guid rdid;
  std::vector<IpPrefix> prefixes;  // one per family in use; the first address is the DFGW
};

struct LookupRecord {
  IpAddr ca;  // unspecified for kL2Only and kGatewayWildcard
  uint32_t vsid = 0;
  MacAddr mac;
  IpAddr pa;
  TranslationRule rule = TranslationRule::kEncap;
  RecordType type = RecordType::kStatic;
  std::string vm_name;  // display only
};

struct CustomerRoute {
  Guid rdid;
  uint32_t vsid = 0;
  IpPrefix destination;
  IpAddr next_hop;  // unspecified (0.0.0.0 / ::) = on-link
  uint32_t metric = 0;
};

struct ProviderAddress {
  IpAddr address;
  uint8_t prefix_len = 0;
  MacAddr mac;
  uint16_t vlan = 0;  // 0 = untagged
  uint16_t port = 0;  // the dataplane port (InterfaceIndex in the chapter)
};

struct ProviderRoute {
  IpPrefix destination;
  uint16_t port = 0;
  IpAddr next_hop;  // unspecified = on-link
};

// A VM network adapter attached to this host's switch, with its port
// security: Hyper-V's Set-VMNetworkAdapter switches. Unlike Hyper-V (whose
// guards default to Off), both guards are on by default here, and so is
// anti-spoofing (config/README.md, "Port security").
struct VmPort {
  std::string vm_name;
  uint16_t port = 0;
  MacAddr mac;
  uint32_t vsid = 0;
  // -MacAddressSpoofing On: the adapter may speak for others. Off (the
  // default): its frames must carry its MAC, and its IP sources, ARP senders
  // and ND link-layer options / NA targets must be its own (its records'
  // CAs on its VSID, a free CA it may learn with an L2Only record, any
  // address with a GatewayWildcard record, addresses routed through it).
  bool mac_address_spoofing = false;
  bool dhcp_guard = true;    // -DhcpGuard On: DHCP server messages from the VM dropped
  bool router_guard = true;  // -RouterGuard On: router advertisements and redirects dropped

  // No port security: the port of a router that forwards others' sources
  // and may send redirects (a gateway compartment's interface).
  void Trust() {
    mac_address_spoofing = true;
    dhcp_guard = false;
    router_guard = false;
  }
};

// Port ACLs: Hyper-V's Add-VMNetworkAdapterAcl and -ExtendedAcl, per VM
// adapter (by its vm_name). Directions are the VM's: inbound is toward it.
enum class AclDirection : uint8_t { kInbound = 1, kOutbound = 2, kBoth = 3 };
enum class AclAction : uint8_t { kAllow, kDeny, kMeter };

// An ACL address: ANY (every IPv4 and IPv6 address), or a prefix (a host
// address is a /32 or /128; 0.0.0.0/0 is every IPv4 address only).
struct AclAddress {
  bool any = true;
  IpPrefix prefix;
  friend bool operator==(const AclAddress&, const AclAddress&) = default;
};

// A TCP/UDP port or range; 0..65535 is any port.
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 65535;
  bool IsAny() const { return first == 0 && last == 65535; }
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

// Add-VMNetworkAdapterAcl: by the remote IP address (prefix) or the remote
// MAC. For IP rules the longest matching prefix decides, Deny over Allow at
// equal length; a MAC rule that matches decides before IP rules. Meter
// rules (IP only) count the traffic they match and decide nothing.
struct PortAcl {
  std::string vm_name;
  AclDirection direction = AclDirection::kBoth;
  AclAction action = AclAction::kAllow;
  bool by_mac = false;
  AclAddress remote_ip;  // when !by_mac
  MacAddr remote_mac;    // when by_mac
};

inline constexpr uint16_t kAnyProtocol = 256;
inline constexpr uint32_t kDefaultIdleSessionTimeout = 255;  // seconds, as Hyper-V's WMI default

// Add-VMNetworkAdapterExtendedAcl: the rule with the largest weight that
// matches decides (weights are unique per adapter and direction). A
// stateful Allow also allows the replies of the sessions it let through,
// until they have been idle for idle_session_timeout seconds.
struct PortExtendedAcl {
  std::string vm_name;
  AclDirection direction = AclDirection::kInbound;  // kInbound or kOutbound
  AclAction action = AclAction::kAllow;             // kAllow or kDeny
  AclAddress local_ip;
  AclAddress remote_ip;
  PortRange local_port;
  PortRange remote_port;
  uint16_t protocol = kAnyProtocol;  // an IP protocol number, or kAnyProtocol
  uint32_t weight = 0;
  bool stateful = false;
  uint32_t idle_session_timeout = kDefaultIdleSessionTimeout;
};

// What to do with an inner packet that no longer fits the underlay MTU once
// encapsulated (DESIGN §3 "MTU").
enum class MtuPolicy : uint8_t {
  kIcmp,         // drop it and send ICMP frag-needed / ICMPv6 packet-too-big to the VM
  kClampMss,     // rewrite the MSS of TCP SYNs so TCP never sends too much; others as kIcmp
  kIcmpAndClamp  // both (the default)
};

enum class FlowIdMode : uint8_t {
  kEntropy,  // FlowID = hash of the inner flow (default)
  kZero,     // FlowID always 0, for peers that match the whole key
};

struct HostSettings {
  uint32_t underlay_mtu = 1500;  // IP MTU of the provider network
  MtuPolicy mtu_policy = MtuPolicy::kIcmpAndClamp;
  FlowIdMode flow_id_mode = FlowIdMode::kEntropy;
  uint8_t outer_ttl = 64;
  // ICMP errors the distributed router sends (time exceeded, too big), per
  // worker: up to `burst` at once, then `per_second` (0: none at all).
  uint32_t icmp_errors_per_second = 1000;
  uint32_t icmp_errors_burst = 50;
};
inline constexpr uint32_t kMaxIcmpErrorsPerSecond = 1'000'000;
inline constexpr uint32_t kMaxIcmpErrorsBurst = 100'000;

// One host's complete policy. The control plane validates a Policy as a whole
// (config/policy/validate.h) before anything of it reaches the dataplane.
struct Policy {
  HostSettings settings;
  std::vector<RoutingDomain> routing_domains;
  std::vector<VirtualSubnet> subnets;
  std::vector<LookupRecord> records;
  std::vector<CustomerRoute> customer_routes;
  std::vector<ProviderAddress> provider_addresses;
  std::vector<ProviderRoute> provider_routes;
  std::vector<VmPort> vm_ports;
  std::vector<PortAcl> port_acls;
  std::vector<PortExtendedAcl> port_extended_acls;
};

}  // namespace hnv
