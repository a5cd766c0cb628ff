// PortAclTable: a VM adapter's port ACLs (model.h: PortAcl, PortExtendedAcl,
// Hyper-V's Add-VMNetworkAdapterAcl and -ExtendedAcl) compiled into the form
// the workers evaluate (pipeline/port_acl.h).
//
// Theory of operation. Rules are split by direction (the VM's: kOut for what
// it sends, kIn for what is delivered to it; a Both rule goes into each) and
// sorted so that the first match decides:
//  - MAC rules (remote MAC: the destination of what the VM sends, the source
//    of what it receives), Deny before Allow; a MAC rule that matches decides
//    before any IP rule.
//  - IP rules (remote address), longest prefix first, Deny before Allow at
//    equal length: Hyper-V's "most specific wins, Deny over Allow". ANY is
//    the shortest of all (length 0 in both families).
//  - Meter rules count what they match (every matching one) and decide
//    nothing; each has a slot in the workers' counters (meter_slot).
//  - Extended rules, largest weight first; they see IP packets only.
// Nothing matches: allowed (Hyper-V allows what no rule names). IP and
// extended rules see only IPv4/IPv6 frames; ARP and ND's link layer are
// left to MAC rules (and anti-spoofing).
//
// A table is immutable: a snapshot (tables.h) owns its ports' tables and is
// retired with them after a grace period.
// Thread: Compile on the control thread; readers on workers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/policy/model.h"

namespace hnv {

inline constexpr uint16_t kMaxAclMeters = 256;  // meter rules per host (slots in WorkerCounters)
inline constexpr uint16_t kNoMeter = 0xffff;

// An address as a frame's words (16 bytes as two memory-order words, family).
struct AclAddrMatch {
  uint64_t w[2] = {0, 0};     // the prefix, masked
  uint64_t mask[2] = {0, 0};  // 0 for ANY
  uint8_t fam = 0;            // 0: either family (ANY); else 4 or 6
  uint8_t len = 0;
  bool Match(uint64_t lo, uint64_t hi, uint8_t f) const noexcept {
    return (fam == 0 || fam == f) && (((lo & mask[0]) ^ w[0]) | ((hi & mask[1]) ^ w[1])) == 0;
  }
  static AclAddrMatch From(const AclAddress& a);
};

struct AclRule {
  AclAddrMatch ip;
  uint64_t mac = 0;  // MacAddr::AsU64 when by_mac
  bool by_mac = false;
  AclAction action = AclAction::kAllow;
  uint16_t meter_slot = kNoMeter;
};

struct AclExtRule {
  AclAddrMatch local, remote;
  uint16_t lp_first = 0, lp_last = 65535, rp_first = 0, rp_last = 65535;
  bool ports = false;  // a port range is set: matches TCP/UDP only
  uint16_t protocol = kAnyProtocol;
  AclAction action = AclAction::kAllow;
  bool stateful = false;
  uint32_t idle_seconds = kDefaultIdleSessionTimeout;
  uint32_t weight = 0;
};

struct PortAclTable {
  enum Dir : uint8_t { kOut = 0, kIn = 1 };
  struct Rules {
    std::vector<AclRule> mac;     // Deny first
    std::vector<AclRule> ip;      // longest first, Deny first at equal length
    std::vector<AclRule> meters;
    std::vector<AclExtRule> ext;  // largest weight first
  };
  Rules dir[2];
  bool stateful = false;  // some extended rule is stateful: sessions are kept
};

// The table of adapter `vm_name`'s rules, or none (nullptr) when it has
// none. `meter_slot(acl, dir)` gives each meter rule its counter slot.
template <typename SlotOf>
std::unique_ptr<PortAclTable> CompilePortAcls(const std::string& vm_name,
                                              const std::vector<PortAcl>& acls,
                                              const std::vector<PortExtendedAcl>& ext,
                                              SlotOf&& meter_slot);

// Internals of CompilePortAcls (port_acl.cc).
void AddPortAcl(PortAclTable& t, const PortAcl& a, PortAclTable::Dir d, uint16_t slot);
void AddExtendedAcl(PortAclTable& t, const PortExtendedAcl& a);
void SortPortAcls(PortAclTable& t);

template <typename SlotOf>
std::unique_ptr<PortAclTable> CompilePortAcls(const std::string& vm_name,
                                              const std::vector<PortAcl>& acls,
                                              const std::vector<PortExtendedAcl>& ext,
                                              SlotOf&& meter_slot) {
  std::unique_ptr<PortAclTable> t;
  auto table = [&]() -> PortAclTable& {
    if (!t) t = std::make_unique<PortAclTable>();
    return *t;
  };
  for (const PortAcl& a : acls) {
    if (a.vm_name != vm_name) continue;
    for (PortAclTable::Dir d : {PortAclTable::kOut, PortAclTable::kIn}) {
      const auto bit = static_cast<uint8_t>(d == PortAclTable::kIn ? AclDirection::kInbound
                                                                   : AclDirection::kOutbound);
      if ((static_cast<uint8_t>(a.direction) & bit) == 0) continue;
      AddPortAcl(table(), a, d, a.action == AclAction::kMeter ? meter_slot(a, d) : kNoMeter);
    }
  }
  for (const PortExtendedAcl& a : ext)
    if (a.vm_name == vm_name) AddExtendedAcl(table(), a);
  if (t) SortPortAcls(*t);
  return t;
}

}  // namespace hnv
