// Internals of ValidatePolicy, shared by validate.cc (settings, routing
// domains, subnets, records) and validate_routes.cc (customer routes, provider
// addresses and routes, VM ports, the gateway's subnet): the error collector,
// address helpers, and the Validator whose passes learn the policy's shape.
// Not an API: use validate.h.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/policy/validate.h"

namespace hnv::validate_internal {

// ---------------------------------------------------------------------------
// Error collection. Checks run in whatever order their data dependencies
// need; errors are sorted into model order at the end.

enum class Section : uint8_t {
  kSettings,
  kRoutingDomains,
  kSubnets,
  kRecords,
  kCustomerRoutes,
  kProviderAddresses,
  kProviderRoutes,
  kVmPorts,
  kPortAcls,
  kPortExtendedAcls,
};
inline constexpr const char* kSectionNames[] = {
    "settings",        "routing_domains",    "subnets",         "records",
    "customer_routes", "provider_addresses", "provider_routes", "vm_ports",
    "port_acls",       "port_extended_acls",
};

// A field of a model struct: its rank is its position in the struct, so
// errors of one element come out in declaration order.
struct Field {
  uint8_t rank;
  const char* name;
};
namespace settings_f {
inline constexpr Field kUnderlayMtu{0, "underlay_mtu"};
inline constexpr Field kOuterTtl{3, "outer_ttl"};
inline constexpr Field kIcmpErrorsPerSecond{4, "icmp_errors_per_second"};
inline constexpr Field kIcmpErrorsBurst{5, "icmp_errors_burst"};
}  // namespace settings_f
namespace rd_f {
inline constexpr Field kRdid{0, "rdid"};
}
namespace subnet_f {
inline constexpr Field kVsid{0, "vsid"};
inline constexpr Field kRdid{1, "rdid"};
inline constexpr Field kPrefixes{2, "prefixes"};
}  // namespace subnet_f
namespace record_f {
inline constexpr Field kCa{0, "ca"};
inline constexpr Field kVsid{1, "vsid"};
inline constexpr Field kMac{2, "mac"};
inline constexpr Field kPa{3, "pa"};
inline constexpr Field kRule{4, "rule"};
inline constexpr Field kType{5, "type"};
}  // namespace record_f
namespace croute_f {
inline constexpr Field kRdid{0, "rdid"};
inline constexpr Field kVsid{1, "vsid"};
inline constexpr Field kDestination{2, "destination"};
inline constexpr Field kNextHop{3, "next_hop"};
}  // namespace croute_f
namespace paddr_f {
inline constexpr Field kAddress{0, "address"};
inline constexpr Field kPrefixLen{1, "prefix_len"};
inline constexpr Field kMac{2, "mac"};
inline constexpr Field kVlan{3, "vlan"};
}  // namespace paddr_f
namespace proute_f {
inline constexpr Field kDestination{0, "destination"};
inline constexpr Field kPort{1, "port"};
inline constexpr Field kNextHop{2, "next_hop"};
}  // namespace proute_f
namespace port_f {
inline constexpr Field kPort{1, "port"};
inline constexpr Field kMac{2, "mac"};
inline constexpr Field kVsid{3, "vsid"};
}  // namespace port_f
namespace acl_f {  // PortAcl and PortExtendedAcl
inline constexpr Field kVmName{0, "vm_name"};
inline constexpr Field kDirection{1, "direction"};
inline constexpr Field kAction{2, "action"};
inline constexpr Field kLocalIp{3, "local_ip"};
inline constexpr Field kRemoteIp{4, "remote_ip"};
inline constexpr Field kRemoteMac{5, "remote_mac"};
inline constexpr Field kLocalPort{6, "local_port"};
inline constexpr Field kRemotePort{7, "remote_port"};
inline constexpr Field kProtocol{8, "protocol"};
inline constexpr Field kWeight{9, "weight"};
inline constexpr Field kStateful{10, "stateful"};
}  // namespace acl_f

class Errors {
 public:
  void Add(Section s, size_t index, Field f, std::string message, int sub = -1) {
    entries_.push_back(Entry{s, static_cast<uint32_t>(index), f.rank, sub,
                             static_cast<uint32_t>(entries_.size()), f.name, std::move(message)});
  }

  // The errors in model order, with their paths; empties the collector.
  std::vector<PolicyError> Take();

 private:
  struct Entry {
    Section section;
    uint32_t index;
    uint8_t rank;
    int sub;
    uint32_t seq;
    const char* field;
    std::string message;
  };
  std::vector<Entry> entries_;
};

// "records[3]"
std::string Ref(Section s, size_t index);

// ---------------------------------------------------------------------------
// Address helpers.

inline int Fam(Family f) { return f == Family::kV4 ? 0 : 1; }
inline const char* FamilyName(Family f) { return f == Family::kV4 ? "IPv4" : "IPv6"; }
// Why `a` cannot be a host's own (unicast) address, or nullptr when it can.
const char* NotUnicastReason(const IpAddr& a);
// Why `m` cannot be a station's MAC, or nullptr.
const char* MacProblem(const MacAddr& m);
std::string MacMessage(const MacAddr& m, const char* problem);
// Why `p` is not a well-formed prefix (length fits, host bits clear), or "".
std::string PrefixShapeError(const IpPrefix& p);
IpAddr FirstHost(const IpPrefix& p);  // the DFGW of a subnet prefix
IpAddr LastAddr(const IpPrefix& p);
std::string RangeMessage(uint64_t v, uint64_t lo, uint64_t hi);  // "70 is outside 1..9"
std::string VsidRangeMessage(uint32_t vsid);

// Prefixes grouped by (family, length), each group sorted: "which prefix holds
// this address" costs O(groups * log n), and groups are few in practice.
class PrefixIndex {
 public:
  void Add(const IpPrefix& p, uint32_t value) {
    for (Group& g : groups_) {
      if (g.family == p.addr.family && g.len == p.len) {
        g.entries.emplace_back(p.addr, value);
        return;
      }
    }
    groups_.push_back(Group{p.addr.family, p.len, {{p.addr, value}}});
  }
  // Call once after the last Add.
  void Build() {
    for (Group& g : groups_) std::sort(g.entries.begin(), g.entries.end());
    std::sort(groups_.begin(), groups_.end(),
              [](const Group& a, const Group& b) { return a.len > b.len; });
  }
  // The value of the longest prefix holding `a` (the first added on a tie).
  std::optional<uint32_t> Find(const IpAddr& a) const {
    for (const Group& g : groups_) {
      if (g.family != a.family) continue;
      const IpAddr key = a.Masked(g.len);
      auto it = std::lower_bound(g.entries.begin(), g.entries.end(), key,
                                 [](const auto& e, const IpAddr& k) { return e.first < k; });
      if (it != g.entries.end() && it->first == key) return it->second;
    }
    return std::nullopt;
  }

 private:
  struct Group {
    Family family;
    uint8_t len;
    std::vector<std::pair<IpAddr, uint32_t>> entries;
  };
  std::vector<Group> groups_;
};

// ---------------------------------------------------------------------------
// What the passes learn about the policy.

struct RdInfo {
  bool has_family = false;
  Family family = Family::kV4;
  uint32_t family_subnet = 0;  // the prefix that fixed the family
  uint32_t family_prefix = 0;
  PrefixIndex subnets;  // valid subnet prefixes -> subnet index
  bool has_gateway = false;
  IpAddr gateway;
  uint32_t gateway_route = 0;
  uint32_t gateway_vsid = 0;
};

struct SubnetInfo {
  int rd = -1;
  bool prefix_error = false;  // some prefix was rejected: skip CA checks against it
  bool has[2] = {false, false};
  uint32_t prefix_index[2] = {0, 0};  // which of VirtualSubnet::prefixes was accepted
  IpPrefix prefix[2];
  IpAddr dfgw[2];
  IpAddr last[2];
};

class Validator {
 public:
  explicit Validator(const Policy& p) : p_(p) {}

  std::vector<PolicyError> Run();

  // ---- the pieces, for the incremental validator (validate_record.cc) ----
  // Learns everything but the records (settings, routing domains, subnets,
  // provider addresses and routes, customer routes and their gateways),
  // collecting their errors.
  void LearnShape();
  // One record's own rules (Run's per-record pass) as records[i].
  void CheckRecord(size_t i, const LookupRecord& r, int* rd, bool* is_dfgw);
  // Records i0 < i1 < ... share (rd, CA): each but the first is an error.
  void CheckCaRun(int rd, const IpAddr& ca, const std::vector<uint32_t>& indexes);
  // Records sharing (rd, MAC), in model order: (index, record).
  struct MacMember {
    uint32_t index;
    const LookupRecord* record;
  };
  void CheckMacRun(int rd, const std::vector<MacMember>& members);
  // The routing domain whose gateway sits on `vsid`, or -1.
  int GatewayRdOf(uint32_t vsid) const {
    auto it = gateway_vsids_.find(vsid);
    return it == gateway_vsids_.end() ? -1 : it->second;
  }
  const RdInfo& rd_info(int rd) const { return rds_[rd]; }
  // The gateway rule's error on records[i] / vm_ports[i], on VSID `vsid`.
  void AddGatewayRecordError(size_t i, uint32_t vsid, int rd);
  void AddGatewayPortError(size_t i, uint32_t vsid, int rd);
  // The routing domain of a record's VSID (-1 when unknown).
  int RdOfVsid(uint32_t vsid) const {
    const std::optional<uint32_t> s = SubnetOf(vsid);
    return s ? subnets_[*s].rd : -1;
  }
  Errors& errors() { return errors_; }

 private:
  std::string RdName(int rd) const { return p_.routing_domains[rd].rdid.ToString(); }
  std::string SubnetName(uint32_t subnet) const {
    return "virtual subnet " + std::to_string(p_.subnets[subnet].vsid);
  }
  // The subnet of a VSID, or nullopt.
  std::optional<uint32_t> SubnetOf(uint32_t vsid) const {
    auto it = vsid_subnet_.find(vsid);
    if (it == vsid_subnet_.end()) return std::nullopt;
    return it->second;
  }
  std::string RdFamilyOrigin(const RdInfo& rd) const {
    return Ref(Section::kSubnets, rd.family_subnet) + ".prefixes[" +
           std::to_string(rd.family_prefix) + "]";
  }
  std::string FamilyMismatch(const std::string& what, Family f, int rd) const {
    return what + " is " + FamilyName(f) + " but routing domain " + RdName(rd) + " is " +
           FamilyName(rds_[rd].family) + " (set by " + RdFamilyOrigin(rds_[rd]) +
           "); one address family per routing domain";
  }
  bool IsLocalPa(const IpAddr& a) const {
    for (const ProviderAddress& pa : p_.provider_addresses)
      if (pa.address == a) return true;
    return false;
  }

  int FindRd(const Guid& id) const {
    auto it = rd_index_.find(id);
    return it == rd_index_.end() ? -1 : it->second;
  }

  void CheckSettings();
  void CheckRoutingDomains();
  void CheckSubnets();
  void CheckSubnetOverlaps();
  void CheckProviderAddresses();
  void CheckProviderRoutes();
  void CheckRecords();
  void CheckRecordCa(size_t i, const LookupRecord& r, const std::optional<uint32_t>& subnet,
                     bool* is_dfgw);
  void CheckRecordUniqueness();
  std::string GatewayMessage(uint32_t vsid, int rd) const;
  void CheckCustomerRoutes();
  void CheckCustomerRouteNextHop(size_t i, int rd, const std::optional<uint32_t>& subnet);
  void CheckVmPorts();
  void CheckPortAcls();  // validate_acl.cc
  void CheckGatewaySubnets();

  const Policy& p_;
  Errors errors_;
  std::map<Guid, int> rd_index_;
  std::vector<RdInfo> rds_;
  std::unordered_map<uint32_t, uint32_t> vsid_subnet_;  // first subnet with that VSID
  std::vector<SubnetInfo> subnets_;
  std::vector<bool> dfgw_record_;  // records[i] is the DFGW record of its subnet
  std::vector<int> record_rd_;     // records[i]'s routing domain, or -1 when unknown
  PrefixIndex reach_;              // local PA subnets and provider routes
  bool has_pa_family_[2] = {false, false};
  std::unordered_map<uint32_t, int> gateway_vsids_;  // gateway VSID -> its (first) rd
};

}  // namespace hnv::validate_internal
