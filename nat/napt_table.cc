#include "nat/napt_table.h"

#include <algorithm>
#include <bit>

namespace hnv::nat {
namespace {

uint16_t ToHost(uint16_t raw) { return Be16::FromRaw(raw).ToHost(); }
uint16_t ToRaw(uint16_t host) { return Be16::FromHost(host).raw(); }

uint32_t HostHash(uint32_t addr) { return (addr * 0x9e3779b1u) ^ (addr >> 15); }

}  // namespace

bool NaptTable::Init(const NaptConfig& c, std::string* error) {
  if (c.workers == 0 || c.worker >= c.workers) {
    *error = "worker " + std::to_string(c.worker) + " of " + std::to_string(c.workers);
    return false;
  }
  if (c.addresses == 0 || c.addresses > kMaxPoolAddresses) {
    *error = std::to_string(c.addresses) + " pool addresses (1.." +
             std::to_string(kMaxPoolAddresses) + ")";
    return false;
  }
  if (c.sessions == 0 || c.sessions >= kNone / 2 || c.hosts == 0 || c.sessions_per_host == 0) {
    *error = "a limit is zero or too large";
    return false;
  }
  uint32_t base = c.ports.first;
  while (base % c.workers != c.worker) ++base;
  if (c.ports.first > c.ports.last || base > c.ports.last) {
    *error = "the port range " + std::to_string(c.ports.first) + "-" +
             std::to_string(c.ports.last) + " has no port for worker " + std::to_string(c.worker) +
             " of " + std::to_string(c.workers);
    return false;
  }
  cfg_ = c;
  seed_ = HashSeed::From(c.seed);
  uint64_t rng = c.seed ^ 0x5bd1e995u;  // the ports' order
  base_port_ = static_cast<uint16_t>(base);
  port_slots_ = (c.ports.last - base) / c.workers + 1;

  pools_.clear();
  pools_.resize(static_cast<size_t>(c.addresses) * kProtoCount);
  for (PortPool& pool : pools_) {
    pool.head = std::make_unique<uint32_t[]>(port_slots_);
    std::fill_n(pool.head.get(), port_slots_, kNone);
    pool.fifo = std::make_unique<uint16_t[]>(port_slots_);
    for (uint32_t i = 0; i < port_slots_; ++i)
      pool.fifo[i] = static_cast<uint16_t>(base_port_ + i * c.workers);
    for (uint32_t i = port_slots_; i > 1; --i)  // Fisher-Yates
      std::swap(pool.fifo[i - 1], pool.fifo[SplitMix(&rng) % i]);
    pool.take = 0;
    pool.put = port_slots_;
  }

  if (!sessions_.Init(c.sessions) || !out_.Init(c.sessions) || !in_.Init(c.sessions) ||
      !map_.Init(c.sessions)) {
    *error = "out of memory for " + std::to_string(c.sessions) + " sessions";
    return false;
  }

  const uint32_t host_slots = std::bit_ceil(std::max<uint32_t>(16, c.hosts * 2));
  hosts_ = std::make_unique<Host[]>(host_slots);  // value-initialised: every count 0
  host_mask_ = host_slots - 1;
  host_count_ = 0;
  return true;
}

bool NaptTable::FindMapping(Proto p, Endpoint in, uint8_t* ext_idx,
                            uint16_t* ext_port) const noexcept {
  const uint32_t h = map_.Find(HashMapping(p, in), [&](uint32_t handle) {
    const uint32_t head = Pool(static_cast<uint8_t>(handle >> 18), p).head[Slot(handle & 0xffff)];
    return head != kNone && sessions_[head].in_addr == in.addr && sessions_[head].in_port == in.port;
  });
  if (h == kNone) return false;
  *ext_idx = static_cast<uint8_t>(h >> 18);
  *ext_port = ToRaw(static_cast<uint16_t>(h & 0xffff));
  return true;
}

bool NaptTable::MappingOf(Proto p, uint8_t ext_idx, uint16_t ext_port,
                          Endpoint* in) const noexcept {
  const uint16_t port = ToHost(ext_port);
  if (ext_idx >= cfg_.addresses || !OwnsPort(port)) return false;
  const uint32_t head = Pool(ext_idx, p).head[Slot(port)];
  if (head == kNone) return false;
  *in = sessions_[head].in_end();
  return true;
}

bool NaptTable::TakePort(uint8_t preferred, Proto p, uint8_t* ext_idx,
                         uint16_t* port_host) noexcept {
  for (uint32_t k = 0; k < cfg_.addresses; ++k) {
    const auto a = static_cast<uint8_t>((preferred + k) % cfg_.addresses);
    PortPool& pool = Pool(a, p);
    if (pool.take == pool.put) continue;
    *port_host = pool.fifo[pool.take % port_slots_];
    ++pool.take;
    *ext_idx = a;
    return true;
  }
  return false;
}

uint32_t NaptTable::HostSlot(uint32_t addr) const noexcept {
  uint32_t i = HostHash(addr) & host_mask_;
  while (hosts_[i].count != 0 && hosts_[i].addr != addr) i = (i + 1) & host_mask_;
  return i;
}

uint32_t NaptTable::SessionsOf(uint32_t addr) const noexcept { return hosts_[HostSlot(addr)].count; }

// Backward-shift deletion: the entries after the hole that may move into it
// do, so lookups never need tombstones.
void NaptTable::HostRelease(uint32_t addr) noexcept {
  uint32_t i = HostSlot(addr);
  if (hosts_[i].count == 0 || --hosts_[i].count != 0) return;
  --host_count_;
  uint32_t j = i;
  while (true) {
    j = (j + 1) & host_mask_;
    if (hosts_[j].count == 0) break;
    const uint32_t k = HostHash(hosts_[j].addr) & host_mask_;
    // Move j into the hole at i unless its home k lies cyclically in (i, j].
    const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (!stays) {
      hosts_[i] = hosts_[j];
      i = j;
    }
  }
  hosts_[i].count = 0;
}

Drop NaptTable::Create(Proto p, Endpoint in, Endpoint rem, uint8_t preferred, uint32_t now,
                       uint32_t* index) noexcept {
  if (sessions_.empty_free_list()) Expire(now, 256);  // before the host lookup: it moves hosts
  const uint32_t hs = HostSlot(in.addr);
  const bool host_new = hosts_[hs].count == 0;
  if (!host_new && hosts_[hs].count >= cfg_.sessions_per_host) return Drop::kHostLimit;
  if (host_new && host_count_ >= cfg_.hosts) return Drop::kHostsFull;
  if (sessions_.empty_free_list()) return Drop::kSessionsFull;

  uint8_t xi = 0;
  uint16_t xport = 0;  // raw
  const uint64_t mh = HashMapping(p, in);
  const bool new_map = !FindMapping(p, in, &xi, &xport);
  uint16_t port_host = ToHost(xport);
  if (new_map) {
    if (!TakePort(preferred, p, &xi, &port_host)) return Drop::kPortsExhausted;
    xport = ToRaw(port_host);
  }
  PortPool& pool = Pool(xi, p);
  auto give_back = [&] {
    if (!new_map) return;
    // Undo TakePort: the port goes back where it was taken from.
    --pool.take;
    pool.fifo[pool.take % port_slots_] = port_host;
  };

  const uint32_t i = sessions_.Take();
  const uint64_t ho = HashOut(p, in, rem);
  const uint64_t hi = HashIn(p, xi, xport, rem);
  const bool indexed = out_.Insert(ho, i);
  const bool both = indexed && in_.Insert(hi, i);
  if (!both || (new_map && !map_.Insert(mh, Handle(xi, p, port_host)))) {
    if (indexed) out_.Erase(ho, i);
    if (both) in_.Erase(hi, i);
    give_back();
    sessions_.Give(i);
    return Drop::kTableFull;
  }

  Session& s = sessions_[i];
  s = Session{in.addr, rem.addr, in.port, rem.port, xport, xi,
              static_cast<uint8_t>(static_cast<uint8_t>(p) + 1), now, 0, {}, i, i};
  uint32_t& head = pool.head[Slot(port_host)];
  if (head == kNone) {
    head = i;
  } else {  // into the mapping's ring, after its head
    Session& h = sessions_[head];
    s.prev = head;
    s.next = h.next;
    sessions_[h.next].prev = i;
    h.next = i;
  }
  if (host_new) {
    hosts_[hs] = Host{in.addr, 1};
    ++host_count_;
  } else {
    ++hosts_[hs].count;
  }
  *index = i;
  return Drop::kNone;
}

void NaptTable::Remove(uint32_t i) noexcept {
  Session& s = sessions_[i];
  if (!s.live()) return;
  const Proto p = s.proto();
  out_.Erase(HashOut(p, s.in_end(), s.rem_end()), i);
  in_.Erase(HashIn(p, s.ext_idx, s.ext_port, s.rem_end()), i);
  const uint16_t port_host = ToHost(s.ext_port);
  PortPool& pool = Pool(s.ext_idx, p);
  uint32_t& head = pool.head[Slot(port_host)];
  if (s.next == i) {  // the mapping's last session: the mapping and its port go
    head = kNone;
    map_.Erase(HashMapping(p, s.in_end()), Handle(s.ext_idx, p, port_host));
    pool.fifo[pool.put % port_slots_] = port_host;
    ++pool.put;
  } else {
    sessions_[s.prev].next = s.next;
    sessions_[s.next].prev = s.prev;
    if (head == i) head = s.next;
  }
  HostRelease(s.in_addr);
  sessions_.Give(i);
}

uint32_t NaptTable::Expire(uint32_t now, uint32_t budget) noexcept {
  return sessions_.Sweep(budget, [&](uint32_t i) {
    if (!Expired(sessions_[i].expires, now)) return false;
    Remove(i);
    return true;
  });
}

uint32_t NaptTable::free_ports(uint8_t ext_idx, Proto p) const {
  if (ext_idx >= cfg_.addresses) return 0;
  const PortPool& pool = Pool(ext_idx, p);
  return pool.put - pool.take;
}

size_t NaptTable::per_session_bytes() const {
  const size_t grows = sessions_.bytes() + out_.bytes() + in_.bytes() + map_.bytes();
  return grows / std::max<uint32_t>(cfg_.sessions, 1);
}

size_t NaptTable::bytes() const {
  const size_t ports = pools_.size() * static_cast<size_t>(port_slots_) *
                       (sizeof(uint32_t) + sizeof(uint16_t));
  return sessions_.bytes() + out_.bytes() + in_.bytes() + map_.bytes() + ports +
         (static_cast<size_t>(host_mask_) + 1) * sizeof(Host);
}

}  // namespace hnv::nat
