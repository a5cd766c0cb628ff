#include "dataplane/pipeline/port_acl.h"

#include "dataplane/pipeline/stage_util.h"

namespace hnv {
namespace {

constexpr uint32_t kSweepBudget = 32;  // records looked at per burst (Tick)

uint64_t MacOf(const uint8_t* p) {
  MacAddr m;
  std::memcpy(m.b.data(), p, 6);
  return m.AsU64();
}

uint16_t PortAt(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

bool InRange(uint16_t v, uint16_t first, uint16_t last) { return v >= first && v <= last; }

}  // namespace

bool AclSessions::Init(uint32_t capacity, uint64_t seed) {
  seed_ = HashSeed::From(seed);
  hz_ = rte_get_tsc_hz();
  if (hz_ == 0) hz_ = 1;
  return index_.Init(capacity) && pool_.Init(capacity);
}

void AclSessions::Close(uint32_t i) noexcept {
  index_.Erase(Hash(pool_[i].key), i);
  pool_.Give(i);
}

void AclSessions::Sweep(uint64_t now) noexcept {
  expired_ += pool_.Sweep(kSweepBudget, [&](uint32_t i) {
    if (now - pool_[i].last <= pool_[i].idle) return false;
    Close(i);
    return true;
  });
}

bool AclSessions::Admit(const Key& k) noexcept {
  const uint64_t now = now_;
  const uint32_t i = index_.Find(Hash(k), [&](uint32_t r) { return pool_[r].key == k; });
  if (i == FlowIndex::kNone) return false;
  if (now - pool_[i].last > pool_[i].idle) {
    Close(i);
    ++expired_;
    return false;
  }
  pool_[i].last = now;
  return true;
}

bool AclSessions::Open(const Key& k, uint32_t idle_seconds) noexcept {
  const uint32_t i = pool_.Take();
  if (i == RecordPool<Record>::kNone) {
    ++full_;
    return false;
  }
  Record& r = pool_[i];
  r.key = k;
  r.last = now_;
  r.idle = uint64_t{idle_seconds} * hz_;
  r.proto1 = 1;
  if (!index_.Insert(Hash(k), i)) {
    pool_.Give(i);
    ++full_;
    return false;
  }
  ++opened_;
  return true;
}

Drop CheckPortAcl(WorkerContext& ctx, const PortAclTable& t, PortAclTable::Dir d, uint16_t port,
                  const uint8_t* f, const ParsedFrame& pf, uint32_t bytes) noexcept {
  const PortAclTable::Rules& rules = t.dir[d];
  const EthHdr* eth = reinterpret_cast<const EthHdr*>(f);
  const uint64_t remote_mac = MacOf(d == PortAclTable::kOut ? eth->dst.b.data() : eth->src.b.data());
  bool decided = false;
  for (const AclRule& r : rules.mac) {
    if (r.mac != remote_mac) continue;
    if (r.action == AclAction::kDeny) return Drop::kAclDeny;
    decided = true;  // allowed by MAC: IP rules do not apply
    break;
  }
  const bool ip = pf.l3 == L3Kind::kIpv4 || pf.l3 == L3Kind::kIpv6;
  if (!ip) return Drop::kCount;
  IpWords src, dst;
  src.SetSrc(f, pf);
  dst.SetDst(f, pf);
  const IpWords& local = d == PortAclTable::kOut ? src : dst;
  const IpWords& remote = d == PortAclTable::kOut ? dst : src;
  const auto fam = static_cast<uint8_t>(local.fam);
  if (!decided) {
    for (const AclRule& r : rules.ip) {
      if (!r.ip.Match(remote.w[0], remote.w[1], fam)) continue;
      if (r.action == AclAction::kDeny) return Drop::kAclDeny;
      break;
    }
  }
  for (const AclRule& r : rules.meters) {
    if (!r.ip.Match(remote.w[0], remote.w[1], fam)) continue;
    ++ctx.counters->acl_meter_packets[r.meter_slot];
    ctx.counters->acl_meter_bytes[r.meter_slot] += bytes;
  }
  if (rules.ext.empty() && !t.stateful) return Drop::kCount;
  const uint8_t proto = pf.l4_proto;
  const bool has_ports =
      pf.l4_present && (proto == kIpProtoTcp || proto == kIpProtoUdp);
  uint16_t sport = 0, dport = 0;
  if (has_ports) {
    sport = PortAt(f + pf.l4_offset);
    dport = PortAt(f + pf.l4_offset + 2);
  }
  const uint16_t lport = d == PortAclTable::kOut ? sport : dport;
  const uint16_t rport = d == PortAclTable::kOut ? dport : sport;
  AclSessions::Key key{};
  AclSessions* sessions = t.stateful ? ctx.acl_sessions : nullptr;
  if (sessions != nullptr) {
    key = AclSessions::Key{{local.w[0], local.w[1]},
                           {remote.w[0], remote.w[1]},
                           uint64_t{port} | uint64_t{fam} << 16 | uint64_t{proto} << 24 |
                               uint64_t{lport} << 32 | uint64_t{rport} << 48};
    if (sessions->Admit(key)) return Drop::kCount;
  }
  for (const AclExtRule& r : rules.ext) {
    if (r.protocol != kAnyProtocol && r.protocol != proto) continue;
    if (!r.local.Match(local.w[0], local.w[1], fam) || !r.remote.Match(remote.w[0], remote.w[1], fam))
      continue;
    if (r.ports && (!has_ports || !InRange(lport, r.lp_first, r.lp_last) ||
                    !InRange(rport, r.rp_first, r.rp_last)))
      continue;
    if (r.action == AclAction::kDeny) return Drop::kAclExtendedDeny;
    if (r.stateful) {
      if (sessions == nullptr || !sessions->Open(key, r.idle_seconds)) return Drop::kAclSessionsFull;
    }
    return Drop::kCount;
  }
  return Drop::kCount;
}

}  // namespace hnv
