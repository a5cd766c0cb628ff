#include "dataplane/pipeline/port_acl.h"

#include "dataplane/flow/in_stages.h"
#include "dataplane/pipeline/stage_util.h"

namespace hnv {
namespace {

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
  refresh_ = hz_ >> kRefreshShift;
  sweep_period_ = hz_ / 1'000'000 * kSweepPeriodUs;
  return index_.Init(capacity) && pool_.Init(capacity);
}

void AclSessions::Close(uint32_t i) noexcept {
  index_.Erase(Hash(pool_[i].key), i);
  pool_.Give(i);
}

void AclSessions::Expire(uint32_t i) noexcept {
  Close(i);
  ++expired_;
}

void AclSessions::Sweep(uint64_t now) noexcept {
  last_sweep_ = now;
  expired_ += pool_.Sweep(kSweepBudget, [&](uint32_t i) {
    if (now - pool_[i].last <= pool_[i].idle) return false;
    Close(i);
    return true;
  });
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

namespace {

// What the extended rules and the sessions need of a frame that passed the
// MAC and IP rules.
struct Pending {
  AclSessions::Key key;  // local/remote words and the rest (AclSessions::Key)
  FlowIndex::Spot spot;
  uint32_t first, seen;  // AclSessions::PrefetchRecords's
  uint8_t fam;
  uint8_t proto;
  bool has_ports;
  uint16_t lport, rport;
};

// An address of the frame as the words AclAddrMatch compares, written in
// place: word by word, as they are read back (no store-forwarding stall of
// a 16-byte copy of 8-byte stores, measured at ~10 ns per frame).
void LoadAddress(const uint8_t* a, bool v4, uint64_t* w) noexcept {
  if (v4) {
    uint32_t x;
    std::memcpy(&x, a, 4);
    w[0] = x;
    w[1] = 0;
  } else {
    std::memcpy(&w[0], a, 8);
    std::memcpy(&w[1], a + 8, 8);
  }
}

// MAC rules, IP rules and meters. Drop::kCount with *ext_needed set when the
// extended rules (or sessions) are to decide.
Drop FirstRules(WorkerContext& ctx, const PortAclTable& t, PortAclTable::Dir d, uint16_t port,
                const AclFrame& fr, Pending* p, bool* ext_needed) noexcept {
  *ext_needed = false;
  const PortAclTable::Rules& rules = t.dir[d];
  const uint8_t* f = fr.data;
  const ParsedFrame& pf = *fr.pf;
  bool decided = false;
  if (!rules.mac.empty()) {
    const EthHdr* eth = reinterpret_cast<const EthHdr*>(f);
    const uint64_t remote_mac =
        MacOf(d == PortAclTable::kOut ? eth->dst.b.data() : eth->src.b.data());
    for (const AclRule& r : rules.mac) {
      if (r.mac != remote_mac) continue;
      if (r.action == AclAction::kDeny) return Drop::kAclDeny;
      decided = true;  // allowed by MAC: IP rules do not apply
      break;
    }
  }
  const bool v4 = pf.l3 == L3Kind::kIpv4;
  if (!v4 && pf.l3 != L3Kind::kIpv6) return Drop::kCount;
  const uint8_t* src = v4 ? pf.At<Ipv4Hdr>(f, pf.l3_offset)->src : pf.At<Ipv6Hdr>(f, pf.l3_offset)->src;
  const uint8_t* dst = v4 ? pf.At<Ipv4Hdr>(f, pf.l3_offset)->dst : pf.At<Ipv6Hdr>(f, pf.l3_offset)->dst;
  const bool out = d == PortAclTable::kOut;
  LoadAddress(out ? src : dst, v4, p->key.local);
  LoadAddress(out ? dst : src, v4, p->key.remote);
  const auto fam = static_cast<uint8_t>(v4 ? Family::kV4 : Family::kV6);
  p->fam = fam;
  const uint64_t r0 = p->key.remote[0], r1 = p->key.remote[1];
  if (!decided && rules.IpVerdict(r0, r1, fam) == AclVerdict::kDeny) return Drop::kAclDeny;
  for (const AclRule& r : rules.meters) {
    if (!r.ip.Match(r0, r1, fam)) continue;
    ++ctx.counters->acl_meter_packets[r.meter_slot];
    ctx.counters->acl_meter_bytes[r.meter_slot] += fr.bytes;
  }
  if (rules.ext.empty() && !t.stateful) return Drop::kCount;
  p->proto = pf.l4_proto;
  p->has_ports = pf.l4_present && (p->proto == kIpProtoTcp || p->proto == kIpProtoUdp);
  uint16_t sport = 0, dport = 0;
  if (p->has_ports) {
    sport = PortAt(f + pf.l4_offset);
    dport = PortAt(f + pf.l4_offset + 2);
  }
  p->lport = out ? sport : dport;
  p->rport = out ? dport : sport;
  p->key.rest = uint64_t{port} | uint64_t{fam} << 16 | uint64_t{p->proto} << 24 |
                uint64_t{p->lport} << 32 | uint64_t{p->rport} << 48;
  *ext_needed = true;
  return Drop::kCount;
}

// A session of the flow, else the first extended rule (by weight) of the
// frame's protocol class that matches.
Drop ExtendedRules(const PortAclTable& t, PortAclTable::Dir d, AclSessions* sessions,
                   const Pending& p) noexcept {
  if (sessions != nullptr && sessions->Admit(p.key, p.spot, p.first, p.seen)) return Drop::kCount;
  const PortAclTable::Rules& rules = t.dir[d];
  const uint8_t fam = p.fam;
  const uint64_t* local = p.key.local;
  const uint64_t* remote = p.key.remote;
  for (const uint16_t k : rules.by_class[PortAclTable::ClassOf(p.proto)]) {
    const AclExtRule& r = rules.ext[k];
    if (r.protocol != kAnyProtocol && r.protocol != p.proto) continue;
    if (!r.local.Match(local[0], local[1], fam) || !r.remote.Match(remote[0], remote[1], fam))
      continue;
    if (r.ports && (!p.has_ports || !InRange(p.lport, r.lp_first, r.lp_last) ||
                    !InRange(p.rport, r.rp_first, r.rp_last)))
      continue;
    if (r.action == AclAction::kDeny) return Drop::kAclExtendedDeny;
    if (r.stateful) {
      if (sessions == nullptr || !sessions->Open(p.key, r.idle_seconds))
        return Drop::kAclSessionsFull;
    }
    return Drop::kCount;
  }
  return Drop::kCount;
}

}  // namespace

void CheckPortAcls(WorkerContext& ctx, const PortAclTable& t, PortAclTable::Dir d, uint16_t port,
                   const AclFrame* frames, uint16_t n, Drop* why) noexcept {
  AclSessions* sessions = t.stateful ? ctx.acl_sessions : nullptr;
  Pending p[kStageChunk];
  InStages(
      n,
      [&](uint16_t f, uint16_t i) {
        bool ext = false;
        why[f] = FirstRules(ctx, t, d, port, frames[f], &p[i], &ext);
        if (ext && sessions != nullptr) {
          p[i].spot = sessions->Locate(p[i].key);
          sessions->Prefetch(p[i].spot);
        }
        return ext;
      },
      [&](uint16_t i) {
        if (sessions != nullptr) p[i].first = sessions->PrefetchRecords(p[i].spot, &p[i].seen);
      },
      [&](uint16_t f, uint16_t i, bool ext) {
        if (ext) why[f] = ExtendedRules(t, d, sessions, p[i]);
      });
}

}  // namespace hnv
