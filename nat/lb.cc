#include "nat/lb.h"

#include <algorithm>
#include <cstddef>

#include "dataplane/packet/checksum.h"
#include "nat/burst.h"
#include "dataplane/flow/hash.h"

namespace hnv::nat {
namespace {

constexpr Verdict kPassed{Edge::kPass, Drop::kNone};
constexpr Verdict kDone{Edge::kTranslated, Drop::kNone};

uint32_t Raw(const IpAddr& a) { return Load32(a.b.data()); }
uint16_t RawPort(uint16_t host) { return Be16::FromHost(host).raw(); }
bool HasPorts(Kind k) { return k == Kind::kTcp || k == Kind::kUdp; }

// The fixed seed of FlowHash: the same on every worker and after restarts.
const HashSeed kFlowSeed{};

}  // namespace

uint64_t FlowHash(Proto p, Endpoint client, Endpoint vip) noexcept {
  return Mix2(static_cast<uint64_t>(client.addr) << 32 | vip.addr,
              static_cast<uint64_t>(client.port) << 32 | static_cast<uint64_t>(vip.port) << 16 |
                  static_cast<uint8_t>(p),
              kFlowSeed);
}

// ---- rules ----

std::unique_ptr<LbRules> LbRules::Build(const std::vector<LoadBalancerSpec>& lbs,
                                        const std::vector<std::vector<bool>>& healthy,
                                        const LbRules* previous, std::string* error) {
  auto r = std::unique_ptr<LbRules>(new LbRules());
  std::vector<std::pair<uint64_t, uint32_t>> by_vip, by_backend;
  for (size_t i = 0; i < lbs.size(); ++i) {
    const LoadBalancerSpec& lb = lbs[i];
    if (!lb.vip.is_v4() || (lb.protocol != kIpProtoTcp && lb.protocol != kIpProtoUdp) ||
        !IsPrime(lb.table_size) || lb.backends.size() > kMaxBackends) {
      *error = "load balancer " + lb.name + ": not an IPv4 TCP/UDP VIP with a prime table and " +
               "at most " + std::to_string(kMaxBackends) + " backends";
      return nullptr;
    }
    Vip v;
    v.vip = Endpoint{Raw(lb.vip), RawPort(lb.port)};
    v.proto = lb.protocol == kIpProtoTcp ? Proto::kTcp : Proto::kUdp;
    v.empty_pool = lb.empty_pool;
    v.timeouts = TimeoutsMs::From(lb.timeouts);
    v.m = lb.table_size;
    for (size_t j = 0; j < lb.backends.size(); ++j) {
      const Backend& b = lb.backends[j];
      if (!b.address.is_v4()) {
        *error = "load balancer " + lb.name + ": backend " + b.address.ToString() + " is not IPv4";
        return nullptr;
      }
      const Endpoint e{Raw(b.address), RawPort(b.port)};
      const bool up = i >= healthy.size() || j >= healthy[i].size() || healthy[i][j];
      v.backends.push_back(e);
      v.inputs.push_back(MaglevBackend{MaglevId(e.addr, e.port), up ? b.weight : 0});
      v.has_backend = v.has_backend || (up && b.weight > 0);
      by_backend.emplace_back(Key(v.proto, e), static_cast<uint32_t>(i));
    }
    const auto same = [&](const Vip& o) {
      return o.vip == v.vip && o.proto == v.proto && o.m == v.m && o.inputs.size() == v.inputs.size() &&
             std::equal(o.inputs.begin(), o.inputs.end(), v.inputs.begin(),
                        [](const MaglevBackend& a, const MaglevBackend& b) {
                          return a.id == b.id && a.weight == b.weight;
                        });
    };
    const Vip* old = nullptr;
    if (previous != nullptr) {
      for (const Vip& o : previous->vips_)
        if (same(o)) old = &o;
    }
    if (old != nullptr) {
      v.table = old->table;
      ++r->reused_;
    } else {
      auto table = std::make_shared<std::vector<uint16_t>>();
      BuildMaglev(v.inputs, v.m, table.get());
      v.table = std::move(table);
    }
    by_vip.emplace_back(Key(v.proto, v.vip), static_cast<uint32_t>(i));
    r->vips_.push_back(std::move(v));
  }
  if (previous != nullptr) r->Retire(*previous, &by_backend);
  r->by_vip_ = FlatU64Map(by_vip);
  r->by_backend_ = FlatU64Map(by_backend);
  return r;
}

// A backend that a change took out of a VIP that stays keeps its tracked
// connections (inbound hits go to the connection's backend), so its answers
// must still leave from the VIP: it stays in the reverse map, in no table.
// The newest kMaxBackends per VIP are kept; an endpoint that now serves a
// VIP is not retired.
void LbRules::Retire(const LbRules& previous, std::vector<std::pair<uint64_t, uint32_t>>* by_backend) {
  std::vector<uint64_t> taken;
  for (const auto& kv : *by_backend) taken.push_back(kv.first);
  std::sort(taken.begin(), taken.end());
  for (size_t i = 0; i < vips_.size(); ++i) {
    Vip& v = vips_[i];
    const Vip* old = previous.Find(v.proto, v.vip);
    if (old == nullptr) continue;
    auto retire = [&](const Endpoint& e) {
      const uint64_t k = Key(v.proto, e);
      if (v.retired.size() >= kMaxBackends || std::binary_search(taken.begin(), taken.end(), k) ||
          std::find(v.retired.begin(), v.retired.end(), e) != v.retired.end())
        return;
      v.retired.push_back(e);
      by_backend->emplace_back(k, static_cast<uint32_t>(i));
    };
    for (const Endpoint& e : old->backends) retire(e);
    for (const Endpoint& e : old->retired) retire(e);
  }
}

std::vector<uint32_t> LbRules::Shares(size_t vip) const {
  const Vip& v = vips_[vip];
  std::vector<uint32_t> n(v.backends.size(), 0);
  for (uint16_t b : *v.table)
    if (b < n.size()) ++n[b];
  return n;
}

// ---- worker ----

bool LbWorker::Init(uint32_t connections, uint64_t seed, std::string* error) {
  c_ = LbCounters{};
  seed_ = HashSeed::From(seed);
  if (!conns_.Init(std::max<uint32_t>(connections, 1)) ||
      !index_.Init(std::max<uint32_t>(connections, 1))) {
    *error = "out of memory for " + std::to_string(connections) + " connections";
    return false;
  }
  return true;
}

uint64_t LbWorker::Hash(Proto p, Endpoint client, Endpoint vip) const noexcept {
  return Mix2(static_cast<uint64_t>(client.addr) << 32 | vip.addr,
              static_cast<uint64_t>(client.port) << 32 | static_cast<uint64_t>(vip.port) << 16 |
                  static_cast<uint8_t>(p),
              seed_);
}

uint32_t LbWorker::Find(const FlowIndex::Spot& w, Proto p, Endpoint client,
                        Endpoint vip) const noexcept {
  const auto p1 = static_cast<uint8_t>(static_cast<uint8_t>(p) + 1);
  return index_.Find(w, [&](uint32_t i) {
    const Conn& c = conns_[i];
    return c.client_addr == client.addr && c.vip_addr == vip.addr &&
           c.client_port == client.port && c.vip_port == vip.port && c.proto1 == p1;
  });
}

bool LbWorker::Tracked(Proto p, Endpoint client, Endpoint vip, Endpoint* dip) const noexcept {
  const uint32_t i = Find(index_.Locate(Hash(p, client, vip)), p, client, vip);
  if (i == RecordPool<Conn>::kNone) return false;
  *dip = Endpoint{conns_[i].dip_addr, conns_[i].dip_port};
  return true;
}

void LbWorker::Remove(uint32_t i) noexcept {
  const Conn& c = conns_[i];
  const Proto p = static_cast<Proto>(c.proto1 - 1);
  index_.Erase(Hash(p, Endpoint{c.client_addr, c.client_port}, Endpoint{c.vip_addr, c.vip_port}),
               i);
  conns_.Give(i);
}

void LbWorker::Tick(uint64_t now_ms) noexcept {
  const auto now = static_cast<uint32_t>(now_ms);
  c_.conns_expired += conns_.Sweep(kExpireBudget, [&](uint32_t i) {
    if (!Expired(conns_[i].expires, now)) return false;
    Remove(i);
    return true;
  });
}

void LbWorker::Inbound(const LbRules& r, Frame* frames, uint16_t n, uint64_t now_ms,
                       Verdict* out) noexcept {
  const auto now = static_cast<uint32_t>(now_ms);
  PacketView v[kBurstChunk];
  Drop d[kBurstChunk];
  FlowIndex::Spot w[kBurstChunk];
  InStages(
      n,
      [&](uint16_t f, uint16_t i) {
        d[i] = ViewPacket(frames[f].data, frames[f].len, &v[i]);
        if (d[i] != Drop::kNone || !HasPorts(v[i].kind) || r.Find(v[i].proto, v[i].dst) == nullptr)
          return false;
        w[i] = index_.Locate(Hash(v[i].proto, v[i].src, v[i].dst));
        index_.Prefetch(w[i]);
        return true;
      },
      [&](uint16_t i) { index_.PrefetchRecords(w[i], [&](uint32_t c) { conns_.Prefetch(c); }); },
      [&](uint16_t f, uint16_t i, bool look) {
        out[f] = InOne(r, frames[f], v[i], d[i], look ? &w[i] : nullptr, now);
      });
}

Verdict LbWorker::InOne(const LbRules& r, Frame& f, PacketView& v, Drop view,
                        const FlowIndex::Spot* w, uint32_t now) noexcept {
  if (v.ip == nullptr) return kPassed;
  if (view == Drop::kNone && v.kind == Kind::kIcmpError) return InError(r, v, now);
  if (!HasPorts(v.kind)) return kPassed;
  const LbRules::Vip* vip = r.Find(v.proto, v.dst);
  if (vip == nullptr) return kPassed;
  if (view != Drop::kNone) return Dropped(view);
  const Endpoint client = v.src;
  const uint64_t h = Hash(v.proto, client, vip->vip);
  uint32_t i = Find(w != nullptr ? *w : index_.Locate(h), v.proto, client, vip->vip);
  if (i != RecordPool<Conn>::kNone && Expired(conns_[i].expires, now)) {
    Remove(i);
    ++c_.conns_expired;
    i = RecordPool<Conn>::kNone;
  }
  Endpoint dip;
  if (i == RecordPool<Conn>::kNone) {
    if (!vip->has_backend) {
      if (vip->empty_pool == EmptyPool::kReset && v.kind == Kind::kTcp &&
          (v.tcp_flags & kTcpRst) == 0) {
        BuildTcpReset(f, v);
        ++c_.resets;
        return Verdict{Edge::kReply, Drop::kNone};
      }
      return Dropped(Drop::kNoBackend);
    }
    const uint16_t b = (*vip->table)[MaglevEntry(FlowHash(v.proto, client, vip->vip), vip->m)];
    dip = vip->backends[b];
    if (conns_.empty_free_list()) Tick(now);  // reclaim a few before giving up
    i = conns_.Take();
    if (i != RecordPool<Conn>::kNone && !index_.Insert(h, i)) {
      conns_.Give(i);
      i = RecordPool<Conn>::kNone;
    }
    if (i == RecordPool<Conn>::kNone) {
      ++c_.untracked;
    } else {
      conns_[i] = Conn{client.addr, vip->vip.addr, client.port, vip->vip.port, dip.addr,
                       dip.port, static_cast<uint8_t>(static_cast<uint8_t>(v.proto) + 1), 0, now,
                       0, {}};
      ++c_.conns_created;
    }
  } else {
    dip = Endpoint{conns_[i].dip_addr, conns_[i].dip_port};
  }
  if (i != RecordPool<Conn>::kNone) {
    Conn& c = conns_[i];
    if (v.kind == Kind::kTcp) c.tcp = LbTcpTrack(c.tcp, v.tcp_flags);
    c.expires = now + vip->timeouts.For(v.proto, LbTcpEstablished(c.tcp));
  }
  RewriteEnd(v, Side::kDst, dip);
  ++c_.in_translated;
  return kDone;
}

// An error from outside about an answer of the VIP: the embedded packet went
// from the VIP to the client.
Verdict LbWorker::InError(const LbRules& r, PacketView& v, uint32_t now) noexcept {
  const LbRules::Vip* vip = r.Find(v.proto, v.inner_src);
  if (vip == nullptr || v.dst.addr != vip->vip.addr) return kPassed;
  const Endpoint client = v.inner_dst;
  const uint32_t i =
      Find(index_.Locate(Hash(v.proto, client, vip->vip)), v.proto, client, vip->vip);
  Endpoint dip;
  if (i != RecordPool<Conn>::kNone && !Expired(conns_[i].expires, now)) {
    dip = Endpoint{conns_[i].dip_addr, conns_[i].dip_port};
  } else if (vip->has_backend) {
    dip = vip->backends[(*vip->table)[MaglevEntry(FlowHash(v.proto, client, vip->vip), vip->m)]];
  } else {
    return Dropped(Drop::kIcmpErrorNoSession);
  }
  RewriteIcmpError(v, Side::kDst, dip);
  ++c_.icmp_errors;
  return kDone;
}

void LbWorker::Outbound(const LbRules& r, Frame* frames, uint16_t n, Verdict* out) noexcept {
  for (uint16_t i = 0; i < n; ++i) {
    PacketView v;
    const Drop view = ViewPacket(frames[i].data, frames[i].len, &v);
    Endpoint vip;
    if (v.ip == nullptr) {
      out[i] = kPassed;
    } else if (view == Drop::kNone && v.kind == Kind::kIcmpError) {
      // From a backend about a client's packet to it.
      if (r.Reverse(v.proto, v.inner_dst, &vip)) {
        RewriteIcmpError(v, Side::kSrc, vip);
        ++c_.icmp_errors;
        out[i] = kDone;
      } else {
        out[i] = kPassed;
      }
    } else if (HasPorts(v.kind) && r.Reverse(v.proto, v.src, &vip)) {
      if (view != Drop::kNone) {
        out[i] = Dropped(view);
      } else {
        RewriteEnd(v, Side::kSrc, vip);
        ++c_.out_translated;
        out[i] = kDone;
      }
    } else {
      out[i] = kPassed;
    }
  }
}

// ---- RST ----

void BuildTcpReset(Frame& f, const PacketView& v) noexcept {
  uint8_t* ip = v.ip;
  const uint8_t* tcp = v.l4;
  const uint16_t sport = Load16(tcp), dport = Load16(tcp + 2);
  const uint32_t seq = Be32::FromRaw(Load32(tcp + offsetof(TcpHdr, seq))).ToHost();
  const uint32_t ack = Be32::FromRaw(Load32(tcp + offsetof(TcpHdr, ack))).ToHost();
  const uint32_t header = (tcp[offsetof(TcpHdr, data_off)] >> 4) * 4u;
  const uint32_t payload = v.l4_len > header ? v.l4_len - header : 0;
  const uint8_t flags = v.tcp_flags;
  const uint32_t src = v.src.addr, dst = v.dst.addr;

  uint8_t mac[6];  // back to the sender
  std::memcpy(mac, f.data, 6);
  std::memcpy(f.data, f.data + 6, 6);
  std::memcpy(f.data + 6, mac, 6);

  // RFC 793: with an ACK, the RST's sequence number is that ACK; without,
  // it is 0 and it acknowledges everything the segment occupied.
  TcpHdr t{};
  t.src_port = Be16::FromRaw(dport);
  t.dst_port = Be16::FromRaw(sport);
  if (flags & kTcpAck) {
    t.seq = Be32::FromHost(ack);
    t.flags = kTcpRst;
  } else {
    const uint32_t len = payload + ((flags & kTcpSyn) ? 1 : 0) + ((flags & kTcpFin) ? 1 : 0);
    t.ack = Be32::FromHost(seq + len);
    t.flags = kTcpRst | kTcpAck;
  }
  t.data_off = 5 << 4;

  Ipv4Hdr h{};
  h.version_ihl = 0x45;
  h.total_length = Be16::FromHost(sizeof(Ipv4Hdr) + sizeof(TcpHdr));
  h.frag = Be16::FromHost(kIpv4DontFragment);
  h.ttl = 64;
  h.protocol = kIpProtoTcp;
  std::memcpy(h.src, &dst, 4);
  std::memcpy(h.dst, &src, 4);
  h.checksum = Ipv4HeaderChecksum(&h);
  t.checksum = L4ChecksumV4(&h, kIpProtoTcp, &t, sizeof(t));
  std::memcpy(ip, &h, sizeof(h));
  std::memcpy(ip + sizeof(h), &t, sizeof(t));
  f.len = static_cast<uint32_t>(ip - f.data) + sizeof(Ipv4Hdr) + sizeof(TcpHdr);
}

}  // namespace hnv::nat
