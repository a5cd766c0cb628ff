#include "gateway/kernel/fib_rule.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <map>

#include "dataplane/packet/types.h"

namespace hnv::gateway {
namespace {

constexpr uint32_t kUnset = 0xffffffffu;  // FRA_SUPPRESS_*: "not set"

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%x", v);
  return buf;
}

// "10.1.0.0/16" from an FRA_SRC/FRA_DST payload and the header's length.
std::string PrefixText(const nlattr* a, uint8_t family, uint8_t len) {
  const auto* p = static_cast<const uint8_t*>(nla_data(a));
  const int n = nla_len(a);
  IpAddr addr;
  if (family == AF_INET && n >= 4)
    addr = IpAddr::V4Raw(p);
  else if (family == AF_INET6 && n >= 16)
    addr = IpAddr::V6Raw(p);
  else
    return "?/" + std::to_string(len);
  return addr.ToString() + "/" + std::to_string(len);
}

std::string Range(const nlattr* a, size_t width) {
  // fib_rule_uid_range {u32 start, end} or fib_rule_port_range {u16 start, end}.
  if (static_cast<size_t>(nla_len(a)) < 2 * width) return "?";
  const auto* p = static_cast<const uint8_t*>(nla_data(a));
  uint32_t lo = 0, hi = 0;
  if (width == 4) {
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
  } else {
    uint16_t l, h;
    std::memcpy(&l, p, 2);
    std::memcpy(&h, p + 2, 2);
    lo = l;
    hi = h;
  }
  return lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
}

std::string Name(const nlattr* a) {
  const auto* p = static_cast<const char*>(nla_data(a));
  return std::string(p, strnlen(p, static_cast<size_t>(nla_len(a))));
}

void Add(std::string* s, const std::string& word) { *s += (s->empty() ? "" : " ") + word; }

}  // namespace

std::string RouteTableName(uint32_t table) {
  switch (table) {
    case RT_TABLE_MAIN:
      return "main";
    case RT_TABLE_LOCAL:
      return "local";
    case RT_TABLE_DEFAULT:
      return "default";
    default:
      return std::to_string(table);
  }
}

std::string MirrorRule::ToString() const {
  std::string s = std::to_string(priority) + ": " + (selectors.empty() ? "from all" : selectors);
  switch (action) {
    case FR_ACT_TO_TBL:
      return s + " lookup " + RouteTableName(table);
    case FR_ACT_GOTO:
      return s + " goto " + std::to_string(goto_target);
    case FR_ACT_NOP:
      return s + " nop";
    case FR_ACT_BLACKHOLE:
      return s + " blackhole";
    case FR_ACT_UNREACHABLE:
      return s + " unreachable";
    case FR_ACT_PROHIBIT:
      return s + " prohibit";
    default:
      return s + " action " + std::to_string(action);
  }
}

bool ParseRule(const nlmsghdr* h, MirrorRule* out) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(fib_rule_hdr))) return false;
  const auto* frh = static_cast<const fib_rule_hdr*>(nlmsg_data(h));
  MirrorRule r;
  r.family = frh->family;
  r.action = frh->action;
  r.table = frh->table;
  // The selectors by the place `ip rule` prints them in (the kernel's
  // attribute order is its own business); unknown attributes last.
  enum Place {
    kFrom,
    kTo,
    kTos,
    kMark,
    kIif,
    kOif,
    kL3mdev,
    kUid,
    kProto,
    kSport,
    kDport,
    kTun,
    kRealms,
    kSuppressLen,
    kSuppressGroup,
    kUnknown
  };
  std::map<int, std::string> words;
  if (frh->tos != 0) words[kTos] = "tos " + Hex(frh->tos);
  uint32_t fwmark = 0, fwmask = 0;
  bool has_mark = false;
  const nlattr* a;
  int rem;
  nlmsg_for_each_attr(a, h, sizeof(fib_rule_hdr), rem) {
    const int type = nla_type(a);
    const bool u32 = nla_len(a) >= 4;
    const uint32_t v = u32 ? nla_get_u32(a) : 0;
    switch (type) {
      case FRA_TABLE:
        if (u32) r.table = v;
        break;
      case FRA_PRIORITY:
        r.priority = v;
        break;
      case FRA_GOTO:
        r.goto_target = v;
        break;
      case FRA_PROTOCOL:
      case FRA_PAD:
        break;
      case FRA_SRC:
        words[kFrom] = "from " + PrefixText(a, frh->family, frh->src_len);
        break;
      case FRA_DST:
        words[kTo] = "to " + PrefixText(a, frh->family, frh->dst_len);
        break;
      case FRA_IIFNAME:
        words[kIif] = "iif " + Name(a);
        break;
      case FRA_OIFNAME:
        words[kOif] = "oif " + Name(a);
        break;
      case FRA_FWMARK:
        fwmark = v;
        has_mark = true;
        break;
      case FRA_FWMASK:
        fwmask = v;
        has_mark = true;
        break;
      case FRA_SUPPRESS_PREFIXLEN:
        if (v != kUnset) words[kSuppressLen] = "suppress_prefixlength " + std::to_string(v);
        break;
      case FRA_SUPPRESS_IFGROUP:
        if (v != kUnset) words[kSuppressGroup] = "suppress_ifgroup " + std::to_string(v);
        break;
      case FRA_FLOW:
        words[kRealms] = "realms " + Hex(v);
        break;
      case FRA_TUN_ID:
        words[kTun] = "tun_id";
        break;
      case FRA_L3MDEV:
        words[kL3mdev] = "l3mdev";
        break;
      case FRA_UID_RANGE:
        words[kUid] = "uidrange " + Range(a, 4);
        break;
      case FRA_IP_PROTO:
        words[kProto] = "ipproto " + std::to_string(*static_cast<const uint8_t*>(nla_data(a)));
        break;
      case FRA_SPORT_RANGE:
        words[kSport] = "sport " + Range(a, 2);
        break;
      case FRA_DPORT_RANGE:
        words[kDport] = "dport " + Range(a, 2);
        break;
      default:
        words[kUnknown + type] = "attribute " + std::to_string(type);
        break;
    }
  }
  if (frh->src_len != 0 && words.count(kFrom) == 0)
    words[kFrom] = "from ?/" + std::to_string(frh->src_len);
  if (frh->dst_len != 0 && words.count(kTo) == 0)
    words[kTo] = "to ?/" + std::to_string(frh->dst_len);
  if (has_mark) words[kMark] = "fwmark " + Hex(fwmark) + "/" + Hex(fwmask);
  const bool invert = (frh->flags & FIB_RULE_INVERT) != 0;
  if (invert || !words.empty()) {
    if (words.count(kFrom) == 0) words[kFrom] = "from all";
    r.selectors = invert ? "not" : "";
    for (const auto& [place, word] : words) Add(&r.selectors, word);
  }
  *out = r;
  return true;
}

}  // namespace hnv::gateway
