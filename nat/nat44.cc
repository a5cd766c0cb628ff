#include "nat/nat44.h"

#include <algorithm>

#include "nat/burst.h"
#include "nat/tcp_state.h"

namespace hnv::nat {
namespace {

constexpr uint8_t kIcmpTimestampRequest = 13;
constexpr uint8_t kIcmpTimestampReply = 14;

// ICMP sessions have no remote port: the identifier is the inside's.
Endpoint Remote(const PacketView& v, Endpoint e) {
  if (v.proto == Proto::kIcmp) e.port = 0;
  return e;
}
bool HasPorts(Kind k) { return k == Kind::kTcp || k == Kind::kUdp; }
bool Sessioned(Kind k) { return HasPorts(k) || k == Kind::kIcmpQuery; }
bool QueryRequest(uint8_t t) { return t == kIcmpEchoRequest || t == kIcmpTimestampRequest; }
bool QueryReply(uint8_t t) { return t == kIcmpEchoReply || t == kIcmpTimestampReply; }
// Only a SYN (no ACK, no RST) opens a TCP session.
bool OpensTcp(uint8_t flags) { return (flags & (kTcpSyn | kTcpAck | kTcpRst)) == kTcpSyn; }

constexpr Verdict kPassed{Edge::kPass, Drop::kNone};
constexpr Verdict kDone{Edge::kTranslated, Drop::kNone};

// A static address rewrite: ports stay, fragments and portless protocols
// get the address only.
void StaticRewrite(PacketView& v, Side side, uint32_t addr) {
  if (Sessioned(v.kind))
    RewriteEnd(v, side, Endpoint{addr, side == Side::kSrc ? v.src.port : v.dst.port});
  else
    RewriteAddress(v, side, addr);
}

}  // namespace

bool NatWorker::Init(const NatSpec& spec, uint32_t pool_size, uint32_t worker, uint32_t workers,
                     uint64_t seed, std::string* error) {
  c_ = NatCounters{};
  napt_ = pool_size > 0;
  if (!napt_) return true;
  NaptConfig nc;
  nc.worker = worker;
  nc.workers = std::max<uint32_t>(workers, 1);
  nc.sessions = (spec.limits.sessions + nc.workers - 1) / nc.workers;
  nc.sessions_per_host = spec.limits.sessions_per_host;
  nc.hosts = spec.limits.hosts;
  nc.ports = spec.ports;
  nc.addresses = pool_size;
  nc.seed = seed;
  return table_.Init(nc, error);
}

void NatWorker::Tick(uint64_t now_ms) noexcept {
  if (napt_) c_.sessions_expired += table_.Expire(static_cast<uint32_t>(now_ms), kExpireBudget);
}

// ---- outbound ----

void NatWorker::Outbound(const NatRules& r, Frame* frames, uint16_t n, uint64_t now_ms,
                         Verdict* out) noexcept {
  const auto now = static_cast<uint32_t>(now_ms);
  PacketView v[kBurstChunk];
  Drop d[kBurstChunk];
  Spot w[kBurstChunk];
  InStages(
      n,
      [&](uint16_t f, uint16_t i) {
        d[i] = ViewPacket(frames[f].data, frames[f].len, &v[i]);
        if (!napt_ || d[i] != Drop::kNone || !Sessioned(v[i].kind) || !r.IsInternal(v[i].src.addr))
          return false;
        w[i] = table_.LocateOut(table_.HashOut(v[i].proto, v[i].src, Remote(v[i], v[i].dst)));
        table_.PrefetchOut(w[i]);
        return true;
      },
      [&](uint16_t i) { table_.PrefetchOutRecords(w[i]); },
      [&](uint16_t f, uint16_t i, bool look) {
        out[f] = OutOne(r, v[i], d[i], look ? &w[i] : nullptr, now);
      });
}

Verdict NatWorker::AfterOut(const NatRules& r, const PacketView& v) noexcept {
  if (!r.IsNatAddress(v.dst.addr)) return kDone;
  ++c_.hairpins;  // OutOne refused it already when hairpinning is off
  return Verdict{Edge::kHairpin, Drop::kNone};
}

Verdict NatWorker::Refresh(const NatRules& r, uint32_t i, const PacketView& v, bool outbound,
                           uint32_t now) noexcept {
  Session& s = table_.at(i);
  if (v.kind == Kind::kTcp) s.tcp = TcpTrack(s.tcp, v.tcp_flags, outbound);
  s.expires = now + r.timeouts().For(v.proto, TcpEstablished(s.tcp));
  return kDone;
}

Verdict NatWorker::OutOne(const NatRules& r, PacketView& v, Drop view, const Spot* w,
                          uint32_t now) noexcept {
  if (v.ip == nullptr) return kPassed;  // not IPv4 (or no IPv4 header at all)
  if (view == Drop::kNone && v.kind == Kind::kIcmpError) return OutError(r, v, now);
  uint32_t ext_addr = 0;
  const bool is_static = r.StaticOut(v.src.addr, &ext_addr);
  // Refused before anything is translated or a session opened.
  if (!r.hairpinning() && r.IsNatAddress(v.dst.addr) &&
      (is_static || r.IsInternal(v.src.addr)))
    return Dropped(Drop::kHairpinOff);
  if (view == Drop::kFragment && is_static) {
    StaticRewrite(v, Side::kSrc, ext_addr);
    ++c_.out_static;
    return AfterOut(r, v);
  }
  if (view != Drop::kNone)
    return is_static || r.IsInternal(v.src.addr) ? Dropped(view) : kPassed;
  Endpoint ext;
  if (HasPorts(v.kind) && r.ForwardOut(v.proto, v.src, &ext)) {
    RewriteEnd(v, Side::kSrc, ext);
    ++c_.out_static;
    return AfterOut(r, v);
  }
  if (is_static) {
    StaticRewrite(v, Side::kSrc, ext_addr);
    ++c_.out_static;
    return AfterOut(r, v);
  }
  if (w == nullptr) {  // not a NAPT lookup (Outbound decided)
    if (!napt_ || !r.IsInternal(v.src.addr)) return kPassed;
    return Dropped(Drop::kProtocol);
  }

  const Endpoint rem = Remote(v, v.dst);
  uint32_t i = table_.FindOut(*w, v.proto, v.src, rem);
  if (i != NaptTable::kNone && Expired(table_.at(i).expires, now)) {
    table_.Remove(i);
    ++c_.sessions_expired;
    i = NaptTable::kNone;
  }
  if (i == NaptTable::kNone) {
    if ((v.kind == Kind::kTcp && !OpensTcp(v.tcp_flags)) ||
        (v.kind == Kind::kIcmpQuery && !QueryRequest(v.icmp_type)))
      return Dropped(Drop::kNotFirst);
    if (Drop why = table_.Create(v.proto, v.src, rem, r.Preferred(v.src.addr), now, &i);
        why != Drop::kNone)
      return Dropped(why);
    ++c_.sessions_created;
  }
  Refresh(r, i, v, /*outbound=*/true, now);
  const Session& s = table_.at(i);
  RewriteEnd(v, Side::kSrc, Endpoint{r.pool_address(s.ext_idx), s.ext_port});
  ++c_.out_napt;
  return AfterOut(r, v);
}

// An error from the inside about a packet that came in: the embedded
// packet's destination is the inside end, its source the remote one.
Verdict NatWorker::OutError(const NatRules& r, PacketView& v, uint32_t now) noexcept {
  const Endpoint inside = v.inner_dst;
  Endpoint to;
  uint32_t ext_addr = 0;
  if (v.proto != Proto::kIcmp && r.ForwardOut(v.proto, inside, &to)) {
    ++c_.out_static;
  } else if (r.StaticOut(inside.addr, &ext_addr)) {
    to = Endpoint{ext_addr, inside.port};
    ++c_.out_static;
  } else {
    if (!napt_ || !r.IsInternal(inside.addr)) return kPassed;
    const Endpoint rem = Remote(v, v.inner_src);
    const uint32_t i = table_.FindOut(v.proto, inside, rem);
    if (i == NaptTable::kNone || Expired(table_.at(i).expires, now))
      return Dropped(Drop::kIcmpErrorNoSession);
    to = Endpoint{r.pool_address(table_.at(i).ext_idx), table_.at(i).ext_port};
    ++c_.out_napt;
  }
  RewriteIcmpError(v, Side::kSrc, to);
  ++c_.icmp_errors;
  return kDone;
}

// ---- inbound ----

void NatWorker::Inbound(const NatRules& r, Frame* frames, uint16_t n, uint64_t now_ms,
                        Verdict* out) noexcept {
  const auto now = static_cast<uint32_t>(now_ms);
  PacketView v[kBurstChunk];
  Drop d[kBurstChunk];
  Spot w[kBurstChunk];
  InStages(
      n,
      [&](uint16_t f, uint16_t i) {
        d[i] = ViewPacket(frames[f].data, frames[f].len, &v[i]);
        if (!napt_ || d[i] != Drop::kNone || !Sessioned(v[i].kind)) return false;
        const int pi = r.PoolIndex(v[i].dst.addr);
        if (pi == NatRules::kNotPool) return false;
        w[i] = table_.LocateIn(table_.HashIn(v[i].proto, static_cast<uint8_t>(pi), v[i].dst.port,
                                             Remote(v[i], v[i].src)));
        table_.PrefetchIn(w[i]);
        return true;
      },
      [&](uint16_t i) { table_.PrefetchInRecords(w[i]); },
      [&](uint16_t f, uint16_t i, bool look) {
        out[f] = InOne(r, v[i], d[i], look ? &w[i] : nullptr, now);
      });
}

Verdict NatWorker::InOne(const NatRules& r, PacketView& v, Drop view, const Spot* w,
                         uint32_t now) noexcept {
  if (v.ip == nullptr) return kPassed;
  if (view == Drop::kNone && v.kind == Kind::kIcmpError) return InError(r, v, now);
  if (!r.IsNatAddress(v.dst.addr)) return kPassed;
  uint32_t in_addr = 0;
  const bool is_static = r.StaticIn(v.dst.addr, &in_addr);
  const int pi = r.PoolIndex(v.dst.addr);
  // Traffic for the compartment itself: its own pool address, or a port
  // forward's address on a port that is not forwarded.
  const bool local = pi == NatRules::kNotPool ? !is_static : r.pool_local(static_cast<uint32_t>(pi));
  if (view == Drop::kFragment && is_static) {
    StaticRewrite(v, Side::kDst, in_addr);
    ++c_.in_static;
    return kDone;
  }
  Endpoint in;
  if (view == Drop::kNone && HasPorts(v.kind) && r.ForwardIn(v.proto, v.dst, &in)) {
    RewriteEnd(v, Side::kDst, in);
    ++c_.in_static;
    return kDone;
  }
  if (local && (view != Drop::kNone || pi == NatRules::kNotPool)) {
    ++c_.in_local;
    return kPassed;
  }
  if (view != Drop::kNone) return Dropped(view);
  if (is_static) {
    StaticRewrite(v, Side::kDst, in_addr);
    ++c_.in_static;
    return kDone;
  }
  if (!napt_ || pi == NatRules::kNotPool) return kPassed;
  const auto xi = static_cast<uint8_t>(pi);
  auto unsolicited = [&] {
    if (!local) return Dropped(Drop::kNoSession);
    ++c_.in_local;
    return kPassed;
  };
  if (!Sessioned(v.kind) || (v.kind == Kind::kIcmpQuery && !QueryReply(v.icmp_type)))
    return unsolicited();

  const Endpoint rem = Remote(v, v.src);
  uint32_t i = w != nullptr ? table_.FindIn(*w, v.proto, xi, v.dst.port, rem)
                            : table_.FindIn(v.proto, xi, v.dst.port, rem);
  if (i != NaptTable::kNone && Expired(table_.at(i).expires, now)) {
    table_.Remove(i);
    ++c_.sessions_expired;
    i = NaptTable::kNone;
  }
  if (i == NaptTable::kNone) {
    Endpoint inside;
    if (!table_.MappingOf(v.proto, xi, v.dst.port, &inside)) return unsolicited();
    if (r.filtering() != Filtering::kEndpointIndependent ||
        (v.kind == Kind::kTcp && !OpensTcp(v.tcp_flags)))
      return Dropped(Drop::kFiltered);
    if (Drop why = table_.Create(v.proto, inside, rem, xi, now, &i); why != Drop::kNone)
      return Dropped(why);
    ++c_.sessions_created;
  }
  Refresh(r, i, v, /*outbound=*/false, now);
  RewriteEnd(v, Side::kDst, table_.at(i).in_end());
  ++c_.in_napt;
  return kDone;
}

// An error from outside about a packet we sent: the embedded packet's source
// is our external end, its destination the remote one.
Verdict NatWorker::InError(const NatRules& r, PacketView& v, uint32_t now) noexcept {
  if (!r.IsNatAddress(v.dst.addr)) return kPassed;
  const Endpoint ext = v.inner_src;
  Endpoint to;
  uint32_t in_addr = 0;
  if (v.proto != Proto::kIcmp && r.ForwardIn(v.proto, ext, &to)) {
    ++c_.in_static;
  } else if (r.StaticIn(ext.addr, &in_addr)) {
    to = Endpoint{in_addr, ext.port};
    ++c_.in_static;
  } else {
    const int pi = r.PoolIndex(ext.addr);
    if (!napt_ || pi == NatRules::kNotPool) return kPassed;
    const auto xi = static_cast<uint8_t>(pi);
    const Endpoint rem = Remote(v, v.inner_dst);
    const uint32_t i = table_.FindIn(v.proto, xi, ext.port, rem);
    if (i == NaptTable::kNone || Expired(table_.at(i).expires, now)) {
      if (r.pool_local(xi)) {  // about the namespace's own traffic, maybe
        ++c_.in_local;
        return kPassed;
      }
      return Dropped(Drop::kIcmpErrorNoSession);
    }
    to = table_.at(i).in_end();
    ++c_.in_napt;
  }
  RewriteIcmpError(v, Side::kDst, to);
  ++c_.icmp_errors;
  return kDone;
}

}  // namespace hnv::nat
