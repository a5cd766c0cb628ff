#include "dataplane/policy/port_acl.h"

#include <algorithm>
#include <cstring>

namespace hnv {

AclAddrMatch AclAddrMatch::From(const AclAddress& a) {
  AclAddrMatch m;
  if (a.any) return m;
  const IpPrefix& p = a.prefix;
  m.fam = static_cast<uint8_t>(p.addr.family);
  m.len = p.len;
  // The mask as bytes in memory order, so it applies to words loaded from a frame.
  uint8_t mask[16] = {};
  for (int i = 0; i < p.len; ++i) mask[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
  uint8_t addr[16] = {};
  std::memcpy(addr, p.addr.b.data(), p.addr.is_v4() ? 4 : 16);
  for (int i = 0; i < 16; ++i) addr[i] &= mask[i];
  std::memcpy(m.mask, mask, 16);
  std::memcpy(m.w, addr, 16);
  return m;
}

void AddPortAcl(PortAclTable& t, const PortAcl& a, PortAclTable::Dir d, uint16_t slot) {
  if (a.action == AclAction::kMeter && slot == kNoMeter) return;  // no counter left
  AclRule r;
  r.by_mac = a.by_mac;
  r.action = a.action;
  r.meter_slot = slot;
  if (a.by_mac) r.mac = a.remote_mac.AsU64();
  else r.ip = AclAddrMatch::From(a.remote_ip);
  PortAclTable::Rules& rules = t.dir[d];
  if (a.action == AclAction::kMeter) rules.meters.push_back(r);
  else if (a.by_mac) rules.mac.push_back(r);
  else rules.ip.push_back(r);
}

void AddExtendedAcl(PortAclTable& t, const PortExtendedAcl& a) {
  AclExtRule r;
  r.local = AclAddrMatch::From(a.local_ip);
  r.remote = AclAddrMatch::From(a.remote_ip);
  r.lp_first = a.local_port.first;
  r.lp_last = a.local_port.last;
  r.rp_first = a.remote_port.first;
  r.rp_last = a.remote_port.last;
  r.ports = !a.local_port.IsAny() || !a.remote_port.IsAny();
  r.protocol = a.protocol;
  r.action = a.action;
  r.stateful = a.stateful && a.action == AclAction::kAllow;
  r.idle_seconds = a.idle_session_timeout;
  r.weight = a.weight;
  t.stateful |= r.stateful;
  t.dir[a.direction == AclDirection::kInbound ? PortAclTable::kIn : PortAclTable::kOut]
      .ext.push_back(r);
}

void AclPrefixIndex::Build(const std::vector<AclRule>& rules, uint8_t fam) {
  lengths.clear();
  std::vector<const AclRule*> mine;
  for (const AclRule& r : rules)
    if (r.ip.fam == 0 || r.ip.fam == fam) mine.push_back(&r);
  uint32_t size = 2;
  while (size < 2 * mine.size()) size *= 2;
  slots.assign(size, Slot{});
  slot_mask = size - 1;
  for (const AclRule* r : mine) {
    if (lengths.empty() || lengths.back().len != r->ip.len)  // `rules` is longest first
      lengths.push_back(Length{r->ip.len, {r->ip.mask[0], r->ip.mask[1]}});
    const AclVerdict v = r->action == AclAction::kDeny ? AclVerdict::kDeny : AclVerdict::kAllow;
    for (uint32_t i = Hash(r->ip.w[0], r->ip.w[1], r->ip.len) & slot_mask;;
         i = (i + 1) & slot_mask) {
      Slot& s = slots[i];
      if (s.verdict == AclVerdict::kNone) {
        s = Slot{{r->ip.w[0], r->ip.w[1]}, r->ip.len, v};
        break;
      }
      if (s.len == r->ip.len && s.w[0] == r->ip.w[0] && s.w[1] == r->ip.w[1]) {
        s.verdict = std::max(s.verdict, v);  // Deny over Allow
        break;
      }
    }
  }
}

AclVerdict IpVerdictByScanForTest(const PortAclTable::Rules& r, uint64_t lo, uint64_t hi,
                                  uint8_t fam) {
  for (const AclRule& x : r.ip)
    if (x.ip.Match(lo, hi, fam))
      return x.action == AclAction::kDeny ? AclVerdict::kDeny : AclVerdict::kAllow;
  return AclVerdict::kNone;
}

void SortPortAcls(PortAclTable& t) {
  auto deny_first = [](const AclRule& a, const AclRule& b) {
    return (a.action == AclAction::kDeny) > (b.action == AclAction::kDeny);
  };
  for (PortAclTable::Rules& r : t.dir) {
    std::stable_sort(r.mac.begin(), r.mac.end(), deny_first);
    std::stable_sort(r.ip.begin(), r.ip.end(), [&](const AclRule& a, const AclRule& b) {
      if (a.ip.len != b.ip.len) return a.ip.len > b.ip.len;
      return deny_first(a, b);
    });
    std::stable_sort(r.ext.begin(), r.ext.end(),
                     [](const AclExtRule& a, const AclExtRule& b) { return a.weight > b.weight; });
    r.ip4.Build(r.ip, 4);
    r.ip6.Build(r.ip, 6);
    for (auto& c : r.by_class) c.clear();
    for (size_t i = 0; i < r.ext.size(); ++i) {
      const AclExtRule& x = r.ext[i];
      const auto idx = static_cast<uint16_t>(i);
      if (x.protocol == kAnyProtocol || x.protocol == 6) r.by_class[PortAclTable::kTcp].push_back(idx);
      if (x.protocol == kAnyProtocol || x.protocol == 17) r.by_class[PortAclTable::kUdp].push_back(idx);
      if (x.protocol != 6 && x.protocol != 17 && !x.ports) r.by_class[PortAclTable::kOther].push_back(idx);
    }
  }
}

}  // namespace hnv
