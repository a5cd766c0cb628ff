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
//    the shortest of all (length 0 in both families). Workers do not scan
//    them: per family an AclPrefixIndex holds each distinct (length,
//    prefix) with its verdict (Deny when any rule of it denies) and is
//    searched longest length first, so a frame costs one hash probe per
//    distinct length present (one for 100 host rules), whatever the number
//    of rules. `ip` keeps the rules in the order above (the definition the
//    index is tested against: IpVerdictByScan).
//  - Meter rules count what they match (every matching one) and decide
//    nothing; each has a slot in the workers' counters (meter_slot).
//  - Extended rules, largest weight first; they see IP packets only. Per
//    protocol class of a frame (TCP, UDP, other) `by_class` lists the rules
//    that can match it at all (the right protocol, no ports for "other"), so
//    a TCP frame skips the UDP rules and the ICMP ones.
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

// Verdicts of the IP rules.
enum class AclVerdict : uint8_t { kNone = 0, kAllow = 1, kDeny = 2 };

// The IP rules of one family as a longest-prefix match (see above).
struct AclPrefixIndex {
  struct Length {
    uint8_t len;
    uint64_t mask[2];  // memory-order words, as AclAddrMatch's
  };
  struct Slot {
    uint64_t w[2] = {0, 0};  // the masked prefix
    uint8_t len = 0;
    AclVerdict verdict = AclVerdict::kNone;  // kNone: an empty slot
  };
  std::vector<Length> lengths;  // present, longest first
  std::vector<Slot> slots;      // open addressing, linear probing, at most half full
  uint32_t slot_mask = 0;

  static uint32_t Hash(uint64_t a, uint64_t b, uint8_t len) noexcept {
    const uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull) ^ (uint64_t{len} << 56)) *
                       0xff51afd7ed558ccdull;
    return static_cast<uint32_t>(h >> 32);
  }
  // The verdict of the longest prefix holding (lo, hi), or kNone.
  AclVerdict Lookup(uint64_t lo, uint64_t hi) const noexcept {
    for (const Length& l : lengths) {
      const uint64_t a = lo & l.mask[0], b = hi & l.mask[1];
      for (uint32_t i = Hash(a, b, l.len) & slot_mask;; i = (i + 1) & slot_mask) {
        const Slot& s = slots[i];
        if (s.verdict == AclVerdict::kNone) break;
        if (s.len == l.len && s.w[0] == a && s.w[1] == b) return s.verdict;
      }
    }
    return AclVerdict::kNone;
  }
  // Builds the index of `rules` (IP rules) that can match family `fam`.
  void Build(const std::vector<AclRule>& rules, uint8_t fam);
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
  // A frame's protocol class for `by_class`.
  enum Class : uint8_t { kTcp = 0, kUdp = 1, kOther = 2 };
  static Class ClassOf(uint8_t proto) noexcept {
    return proto == 6 ? kTcp : proto == 17 ? kUdp : kOther;
  }
  struct Rules {
    std::vector<AclRule> mac;     // Deny first
    std::vector<AclRule> ip;      // longest first, Deny first at equal length
    AclPrefixIndex ip4, ip6;      // `ip` as the workers look it up
    std::vector<AclRule> meters;
    std::vector<AclExtRule> ext;  // largest weight first
    std::vector<uint16_t> by_class[3];  // indexes into ext that a class can match, in order
    AclVerdict IpVerdict(uint64_t lo, uint64_t hi, uint8_t fam) const noexcept {
      return (fam == 4 ? ip4 : ip6).Lookup(lo, hi);
    }
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

// Internals of CompilePortAcls (port_acl.cc). SortPortAcls also builds the
// lookups (ip4/ip6, by_class).
void AddPortAcl(PortAclTable& t, const PortAcl& a, PortAclTable::Dir d, uint16_t slot);
void AddExtendedAcl(PortAclTable& t, const PortExtendedAcl& a);
void SortPortAcls(PortAclTable& t);

// The IP rules' verdict by the definition: the first rule of `ip` (in its
// order) that matches. What IpVerdict must give; for tests.
AclVerdict IpVerdictByScanForTest(const PortAclTable::Rules& r, uint64_t lo, uint64_t hi,
                                  uint8_t fam);

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
