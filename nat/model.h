// A tenant's NAT and load balancers as configured (config/yaml_nat.cc reads
// them from the `nat:` and `load_balancers:` sections of a tenant file):
// plain values, no DPDK, no I/O. The fast path is compiled from these
// (NatRules, nat_rules.h; LbRules, lb.h); the meaning of each field, its
// default and its limits are in config/README.md ("NAT and load balancers").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/packet/types.h"

namespace hnv::nat {

// RFC 4787 section 5: which inbound packets a mapping lets in.
enum class Filtering : uint8_t {
  kAddressAndPortDependent,  // only from a remote endpoint the inside host sent to (default)
  kEndpointIndependent,      // from anyone, once the mapping exists
};

// Idle timeouts in seconds. The defaults are the RFCs' minimums: RFC 5382
// REQ-5 (TCP established 2 h 4 min, transitory 4 min), RFC 4787 REQ-5 (UDP,
// its recommended 5 min), RFC 5508 REQ-1 (ICMP query 60 s).
struct Timeouts {
  uint32_t tcp_established = 7440;
  uint32_t tcp_transitory = 240;
  uint32_t udp = 300;
  uint32_t icmp = 60;
  friend bool operator==(const Timeouts&, const Timeouts&) = default;
};
inline constexpr uint32_t kMaxTimeoutSeconds = 7 * 24 * 3600;

struct NatLimits {
  uint32_t sessions = 262144;         // per compartment (split evenly over the workers)
  uint32_t sessions_per_host = 8192;  // per internal address
  uint32_t hosts = 16384;             // internal addresses with sessions at once
  friend bool operator==(const NatLimits&, const NatLimits&) = default;
};

// External ports (and ICMP query identifiers) the NAT allocates from.
struct PortRange {
  uint16_t first = 1024;
  uint16_t last = 65535;
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

// One-to-one: every packet between `internal` and the outside carries
// `external` instead, in both directions, for every protocol.
struct StaticNat {
  IpAddr external;
  IpAddr internal;
  friend bool operator==(const StaticNat&, const StaticNat&) = default;
};

// external:external_port <-> internal:internal_port for one protocol.
struct PortForward {
  uint8_t protocol = 6;  // kIpProtoTcp or kIpProtoUdp
  IpAddr external;
  uint16_t external_port = 0;
  IpAddr internal;
  uint16_t internal_port = 0;
  friend bool operator==(const PortForward&, const PortForward&) = default;
};

inline constexpr uint32_t kMaxPoolAddresses = 64;

struct NatSpec {
  bool enabled = false;            // the tenant file has a nat: section
  std::vector<IpAddr> addresses;   // NAPT pool (external addresses); may be empty
  // External interfaces whose outbound traffic is translated; empty = all.
  std::vector<std::string> interfaces;
  // Sources that are translated; config fills in the routing domain's
  // prefixes when none are given.
  std::vector<IpPrefix> internal;
  PortRange ports;
  Filtering filtering = Filtering::kAddressAndPortDependent;
  bool hairpinning = true;
  Timeouts timeouts;
  NatLimits limits;
  std::vector<StaticNat> static_nat;
  std::vector<PortForward> port_forwards;
  friend bool operator==(const NatSpec&, const NatSpec&) = default;
};

enum class EmptyPool : uint8_t {
  kDrop,   // no healthy backend: drop (counted)
  kReset,  // TCP: answer with a RST built in place; other protocols are dropped
};

enum class HealthKind : uint8_t { kNone, kTcp, kHttp };

struct HealthCheckSpec {
  HealthKind kind = HealthKind::kNone;  // kNone: every backend counts as healthy
  uint16_t port = 0;                    // 0 = the backend's port
  std::string path = "/";               // HTTP GET path
  uint32_t interval_ms = 2000;
  uint32_t timeout_ms = 1000;
  uint32_t rise = 2;  // consecutive successes before a down backend is up
  uint32_t fall = 3;  // consecutive failures before an up backend is down
  friend bool operator==(const HealthCheckSpec&, const HealthCheckSpec&) = default;
};

struct Backend {
  IpAddr address;  // a DIP in the VM network
  uint16_t port = 0;
  uint32_t weight = 1;
  friend bool operator==(const Backend&, const Backend&) = default;
};

inline constexpr uint32_t kDefaultMaglevSize = 65537;
// A Maglev table size must be prime. Trial division: for configuration
// checks, not the packet path.
constexpr bool IsPrime(uint32_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint32_t d = 3; static_cast<uint64_t>(d) * d <= n; d += 2)
    if (n % d == 0) return false;
  return true;
}
inline constexpr uint32_t kMaxBackends = 1024;
inline constexpr uint32_t kMaxWeight = 1000;

struct LoadBalancerSpec {
  std::string name;
  IpAddr vip;
  uint8_t protocol = 6;  // kIpProtoTcp or kIpProtoUdp
  uint16_t port = 0;
  uint32_t table_size = kDefaultMaglevSize;  // Maglev M, a prime
  EmptyPool empty_pool = EmptyPool::kDrop;
  uint32_t max_connections = 65536;  // tracked connections (split over the workers)
  Timeouts timeouts;
  std::vector<Backend> backends;
  HealthCheckSpec health;
  friend bool operator==(const LoadBalancerSpec&, const LoadBalancerSpec&) = default;
};

// Everything of one tenant that the nat/ library runs.
struct TenantNat {
  NatSpec nat;
  std::vector<LoadBalancerSpec> load_balancers;
  friend bool operator==(const TenantNat&, const TenantNat&) = default;
};

}  // namespace hnv::nat
