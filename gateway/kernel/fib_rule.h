// A routing policy rule (`ip rule`) as the netlink mirror reports it, and
// its parsing from an RTM_NEWRULE/RTM_DELRULE message.
//
// Theory of operation: the kernel walks a namespace's rules by ascending
// priority; each rule that matches a packet (its selectors: source and
// destination prefix, in/out interface, fwmark, TOS, UID range, protocol,
// ports, ...) either looks up one table (FR_ACT_TO_TBL; the lookup may find
// no route, then the walk goes on), jumps (goto), does nothing (nop), or ends
// the walk (blackhole, unreachable, prohibit). A fresh namespace has three:
// 0 `lookup local`, 32766 `lookup main`, 32767 `lookup default`.
//
// ParseRule reads the fixed header (struct fib_rule_hdr) and walks *every*
// attribute: those that only describe the rule (FRA_TABLE, FRA_PRIORITY,
// FRA_PROTOCOL, FRA_GOTO, FRA_PAD; FRA_SUPPRESS_PREFIXLEN and
// FRA_SUPPRESS_IFGROUP when they say "unset", -1, as the kernel sends them on
// every rule) are taken; any other attribute, a non-zero src_len, dst_len or
// TOS in the header, or the "not" flag (FIB_RULE_INVERT) is a selector and is
// written into MirrorRule::selectors in `ip rule` words. An attribute this
// code does not know (a newer kernel's) counts as a selector too
// ("attribute 30"), so a rule is only ever taken for "every packet" when it
// is one.
//
// Thread: pure functions.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <string>

namespace hnv::gateway {

struct MirrorRule {
  uint8_t family = 0;  // AF_INET, AF_INET6
  uint32_t priority = 0;
  uint8_t action = 0;        // FR_ACT_TO_TBL, FR_ACT_GOTO, FR_ACT_NOP, FR_ACT_BLACKHOLE, ...
  uint32_t table = 0;        // the table looked up (FR_ACT_TO_TBL)
  uint32_t goto_target = 0;  // FR_ACT_GOTO: the priority jumped to
  // What restricts the rule, in `ip rule` words ("from 10.1.0.0/16 fwmark
  // 0x1/0xff"); empty when the rule applies to every packet ("from all").
  std::string selectors;

  bool unconditional() const { return selectors.empty(); }
  // "100: from all lookup 100", "10: from 10.1.0.0/16 iif eth0 lookup main"
  std::string ToString() const;
  friend bool operator==(const MirrorRule&, const MirrorRule&) = default;
  friend auto operator<=>(const MirrorRule&, const MirrorRule&) = default;
};

// "main", "local", "default" or the number.
std::string RouteTableName(uint32_t table);

// Parses an RTM_NEWRULE/RTM_DELRULE (or a dump part) message. False for a
// message too short to hold a rule.
bool ParseRule(const nlmsghdr* h, MirrorRule* out);

}  // namespace hnv::gateway
