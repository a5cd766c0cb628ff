#include "gateway/compartment/route_rules.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>

namespace hnv::gateway {

RulePlan PlanRules(const std::vector<MirrorRule>& all) {
  std::vector<const MirrorRule*> rules;
  for (const MirrorRule& r : all)
    if (r.family == AF_INET) rules.push_back(&r);
  std::stable_sort(rules.begin(), rules.end(), [](const MirrorRule* a, const MirrorRule* b) {
    return a->priority < b->priority;
  });
  RulePlan p;
  const MirrorRule* main = nullptr;
  for (const MirrorRule* r : rules) {
    if (r->action == FR_ACT_TO_TBL && r->table == RT_TABLE_MAIN && r->unconditional()) {
      main = r;
      break;
    }
  }
  if (main == nullptr) {
    p.punt_all = "no rule looks up the main table for every packet";
    p.punt_all_route = "punt (no rule for main)";
    return p;
  }
  p.main_priority = main->priority;
  for (const MirrorRule* r : rules) {
    if (r == main || r->action == FR_ACT_NOP) continue;
    const bool lookup = r->action == FR_ACT_TO_TBL && r->unconditional();
    if (r->priority > main->priority) {
      if (lookup && r->table != RT_TABLE_MAIN && r->table != RT_TABLE_LOCAL)
        p.later_tables.emplace(r->table, r->priority);
      continue;
    }
    if (lookup) {
      if (r->table != RT_TABLE_LOCAL && r->table != RT_TABLE_MAIN)
        p.punt_tables.emplace(r->table, r->priority);
      continue;
    }
    p.punt_all =
        "rule " + r->ToString() + " precedes main" +
        (r->unconditional() ? std::string() : " and has a selector the fast path cannot represent");
    p.punt_all_route = "punt (rule " + std::to_string(r->priority) + " precedes main)";
    p.punt_tables.clear();
    return p;
  }
  return p;
}

std::string RulePlan::Summary() const {
  if (!punt_all.empty()) return "everything to the kernel: " + punt_all;
  std::string s = "main table";
  if (punt_tables.empty()) return s;
  s += "; the kernel decides the prefixes of";
  bool first = true;
  for (const auto& [table, priority] : punt_tables) {
    s += std::string(first ? "" : ",") + " table " + RouteTableName(table) + " (rule " +
         std::to_string(priority) + " precedes main)";
    first = false;
  }
  return s;
}

}  // namespace hnv::gateway
