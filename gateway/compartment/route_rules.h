// RulePlan: what a compartment namespace's IPv4 routing rules leave to the
// fast path, which forwards from the main table only.
//
// Theory of operation. The kernel walks the rules by priority; the fast path
// can stand in for it only where the walk reaches the main table for every
// packet before anything else could decide. PlanRules looks at the IPv4
// rules (IPv6 is not in the fast path) and finds main's rule: the
// unconditional "from all lookup main" of lowest priority (32766 by
// default). Then, for every rule of a lower or equal priority (an equal
// priority counts as "before": the kernel orders equal priorities by
// insertion, which the mirror cannot see):
//  - unconditional "lookup local": ignored (the compartment's own addresses
//    are local entries of the fast path anyway); "nop": ignored;
//  - unconditional "lookup T": T is a punt table: each of its routes'
//    prefixes, and every main route at or inside one of them, is punted to
//    the kernel (which consults T first and decides);
//  - anything else (a selector the fast path cannot represent, a goto,
//    blackhole, unreachable or prohibit action): the whole compartment is
//    punted (punt_all says why).
// No unconditional main rule at all punts the whole compartment too. Rules
// after main change nothing: a miss in main is punted, and the kernel then
// walks on to them (strongSwan's route-based table 220 at 32767).
//
// Thread: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gateway/kernel/fib_rule.h"

namespace hnv::gateway {

struct RulePlan {
  uint32_t main_priority = 0;
  // Tables looked up, by an unconditional rule, before main -> that rule's priority.
  std::map<uint32_t, uint32_t> punt_tables;
  // Tables looked up by an unconditional rule after main (for the status).
  std::map<uint32_t, uint32_t> later_tables;
  // Non-empty: the whole compartment is punted; why ("rule 100: from
  // 10.1.0.0/16 lookup 100 precedes main and has a selector ...").
  std::string punt_all;
  // The fast_path column of a route while punt_all: "punt (rule 100 precedes main)".
  std::string punt_all_route;

  bool punt_table(uint32_t table) const { return punt_tables.count(table) != 0; }
  // One line for `hnvctl compartment`: "main table", "main table; the kernel
  // decides the prefixes of table 220 (rule 220: from all lookup 220)",
  // "everything to the kernel: ...".
  std::string Summary() const;
  friend bool operator==(const RulePlan&, const RulePlan&) = default;
};

RulePlan PlanRules(const std::vector<MirrorRule>& rules);

}  // namespace hnv::gateway
