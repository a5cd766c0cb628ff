// NaptTable: one worker's NAPT state for one compartment: sessions, the
// endpoint-independent mappings they share, the external ports of this
// worker's share, and the session count of each internal address.
//
// Theory of operation. A *mapping* (RFC 4787) binds an internal endpoint
// (protocol, address, port or ICMP identifier) to an external one (pool
// address, port); a *session* is a mapping plus the remote endpoint it talks
// to. Mappings are endpoint-independent: every session of one internal
// endpoint uses its mapping, whatever the remote. A mapping lives as long as
// it has sessions; its port then goes back to the end of the free queue (so
// it is reused last).
//
// Records and indexes, all sized in Init from the limits (a full one is a
// counted failure of Create, never an allocation):
//  - sessions: an array of 32-byte records; free ones on a free list.
//    Each holds both ends' keys, its expiry and TCP state, and links in a
//    ring with the other sessions of its mapping.
//  - out index: (protocol, internal endpoint, remote endpoint) -> session;
//    in index: (protocol, pool address, external port, remote endpoint) ->
//    session (FlowIndex: keys are checked against the record).
//  - mapping index: (protocol, internal endpoint) -> (pool address,
//    protocol, external port), checked through the port table.
//  - port table, per pool address and protocol: for each port of this
//    worker's share, one session of its mapping (or none), so an external
//    endpoint leads to its mapping's ring; and the free ports, a FIFO
//    filled in a random order (RFC 6056 port randomisation).
//  - hosts: internal address -> its session count (open addressing).
// Memory per session, both directions, with its own mapping: 32 (record)
// + 2 x 6.4 / 0.9 (session index slots) + 6.4 / 0.9 (mapping slot) + 4
// (port table slot) = about 57 bytes; tests/bench measures it.
//
// Worker shares (flow affinity): with W workers, worker w owns the external
// ports p (and ICMP identifiers) of the range with p % W == w, so the
// destination port of an inbound packet names its worker (steering.h), and
// holds at most its share of the compartment's sessions.
//
// Expiry is lazy and amortised: a session is dead once `now` passes its
// expiry (the caller checks on every hit), and Expire() frees at most
// `budget` records per call, walking the array round-robin; Create() frees
// a few more when the table is full. No sweep ever stops the worker.
//
// Thread: one worker; Init allocates, nothing else does; no lock, syscall
// or exception.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/flow/flow_index.h"
#include "dataplane/flow/hash.h"
#include "nat/model.h"
#include "nat/packet.h"
#include "dataplane/flow/record_pool.h"
#include "nat/tcp_state.h"

namespace hnv::nat {

struct Session {
  Endpoint in_end() const { return Endpoint{in_addr, in_port}; }
  Endpoint rem_end() const { return Endpoint{rem_addr, rem_port}; }
  bool live() const { return proto1 != 0; }
  Proto proto() const { return static_cast<Proto>(proto1 - 1); }

  uint32_t in_addr;   // internal address (raw)
  uint32_t rem_addr;  // remote address (raw)
  uint16_t in_port;   // internal port or ICMP identifier (raw)
  uint16_t rem_port;  // remote port (raw); 0 for ICMP
  uint16_t ext_port;  // external port or identifier (raw)
  uint8_t ext_idx;    // pool address index
  uint8_t proto1;     // Proto + 1; 0 = free record
  uint32_t expires;   // ms clock (wraps; compared as a signed difference)
  uint8_t tcp;        // TcpBits (tcp_state.h)
  uint8_t pad[3];
  uint32_t prev, next;  // the mapping's ring; next is the free list when free
};
static_assert(sizeof(Session) == 32);

struct NaptConfig {
  uint32_t worker = 0;
  uint32_t workers = 1;
  uint32_t sessions = 1024;          // this worker's capacity
  uint32_t sessions_per_host = 1024;
  uint32_t hosts = 1024;
  PortRange ports;
  uint32_t addresses = 1;  // pool size, 1..kMaxPoolAddresses
  uint64_t seed = 1;       // hash and port-order seed
};

class NaptTable {
 public:
  static constexpr uint32_t kNone = FlowIndex::kNone;

  // False with *error when the configuration is unusable or memory fails.
  bool Init(const NaptConfig& c, std::string* error);

  uint64_t HashOut(Proto p, Endpoint in, Endpoint rem) const noexcept {
    return Mix(static_cast<uint64_t>(in.addr) << 32 | rem.addr,
               static_cast<uint64_t>(in.port) << 32 | static_cast<uint64_t>(rem.port) << 16 |
                   static_cast<uint8_t>(p));
  }
  uint64_t HashIn(Proto p, uint8_t ext_idx, uint16_t ext_port, Endpoint rem) const noexcept {
    return Mix(static_cast<uint64_t>(ext_idx) << 32 | rem.addr,
               static_cast<uint64_t>(ext_port) << 32 | static_cast<uint64_t>(rem.port) << 16 |
                   0x100u | static_cast<uint8_t>(p));
  }
  // A burst's lookups in stages (FlowIndex): Locate, Prefetch, then
  // PrefetchRecords, then Find, each over the whole burst.
  using Spot = FlowIndex::Spot;
  Spot LocateOut(uint64_t h) const noexcept { return out_.Locate(h); }
  Spot LocateIn(uint64_t h) const noexcept { return in_.Locate(h); }
  void PrefetchOut(const Spot& w) const noexcept { out_.Prefetch(w); }
  void PrefetchIn(const Spot& w) const noexcept { in_.Prefetch(w); }
  void PrefetchOutRecords(const Spot& w) const noexcept {
    out_.PrefetchRecords(w, [&](uint32_t i) { sessions_.Prefetch(i); });
  }
  void PrefetchInRecords(const Spot& w) const noexcept {
    in_.PrefetchRecords(w, [&](uint32_t i) { sessions_.Prefetch(i); });
  }

  uint32_t FindOut(const Spot& w, Proto p, Endpoint in, Endpoint rem) const noexcept {
    const uint8_t p1 = static_cast<uint8_t>(static_cast<uint8_t>(p) + 1);
    return out_.Find(w, [&](uint32_t i) {
      const Session& s = sessions_[i];
      return s.in_addr == in.addr && s.rem_addr == rem.addr && s.in_port == in.port &&
             s.rem_port == rem.port && s.proto1 == p1;
    });
  }
  uint32_t FindIn(const Spot& w, Proto p, uint8_t ext_idx, uint16_t ext_port,
                  Endpoint rem) const noexcept {
    const uint8_t p1 = static_cast<uint8_t>(static_cast<uint8_t>(p) + 1);
    return in_.Find(w, [&](uint32_t i) {
      const Session& s = sessions_[i];
      return s.rem_addr == rem.addr && s.ext_port == ext_port && s.rem_port == rem.port &&
             s.ext_idx == ext_idx && s.proto1 == p1;
    });
  }
  uint32_t FindOut(Proto p, Endpoint in, Endpoint rem) const noexcept {
    return FindOut(LocateOut(HashOut(p, in, rem)), p, in, rem);
  }
  uint32_t FindIn(Proto p, uint8_t ext_idx, uint16_t ext_port, Endpoint rem) const noexcept {
    return FindIn(LocateIn(HashIn(p, ext_idx, ext_port, rem)), p, ext_idx, ext_port, rem);
  }

  // Records 0..records()-1; the live ones have Session::live().
  uint32_t records() const { return sessions_.capacity(); }
  Session& at(uint32_t i) noexcept { return sessions_[i]; }
  const Session& at(uint32_t i) const noexcept { return sessions_[i]; }

  // The external end of the mapping of (p, in), if it has one.
  bool FindMapping(Proto p, Endpoint in, uint8_t* ext_idx, uint16_t* ext_port) const noexcept;
  // The internal end of the mapping holding (p, ext_idx, ext_port), if any.
  bool MappingOf(Proto p, uint8_t ext_idx, uint16_t ext_port, Endpoint* in) const noexcept;

  // A new session of (p, in) with `rem`, using the mapping of (p, in) or a
  // new one (a port from pool address `preferred` first, then the others).
  // `now` lets it reclaim expired records when the table is full. kNone on
  // success with *index set, else the reason.
  Drop Create(Proto p, Endpoint in, Endpoint rem, uint8_t preferred, uint32_t now,
              uint32_t* index) noexcept;
  void Remove(uint32_t i) noexcept;
  // Frees expired sessions among the next `budget` records; returns how many.
  uint32_t Expire(uint32_t now, uint32_t budget) noexcept;

  // Worker share of the port space.
  bool OwnsPort(uint16_t port_host) const noexcept {
    return port_host >= cfg_.ports.first && port_host <= cfg_.ports.last &&
           port_host % cfg_.workers == cfg_.worker;
  }
  uint32_t sessions() const { return sessions_.live(); }
  uint32_t capacity() const { return cfg_.sessions; }
  uint32_t hosts() const { return host_count_; }
  uint32_t mappings() const { return map_.size(); }
  uint32_t free_ports(uint8_t ext_idx, Proto p) const;
  uint32_t SessionsOf(uint32_t in_addr) const noexcept;
  // Bytes of every table, and of those that grow with sessions (the fixed
  // rest is the port tables, per pool address).
  size_t bytes() const;
  size_t per_session_bytes() const;
  const NaptConfig& config() const { return cfg_; }
  const FlowIndex& out_index() const { return out_; }
  const FlowIndex& in_index() const { return in_; }

 private:
  struct PortPool {  // one pool address, one protocol
    std::unique_ptr<uint32_t[]> head;  // per port slot: a session of its mapping, or kNone
    std::unique_ptr<uint16_t[]> fifo;  // free ports (host order)
    uint32_t take = 0, put = 0;        // fifo positions (monotonic; mod `slots`)
  };
  struct Host {
    uint32_t addr;
    uint32_t count;  // 0 = empty slot
  };

  uint64_t Mix(uint64_t a, uint64_t b) const noexcept { return Mix2(a, b, seed_); }
  uint64_t HashMapping(Proto p, Endpoint in) const noexcept {
    return Mix(static_cast<uint64_t>(in.addr) << 16 | in.port,
               0x200u | static_cast<uint8_t>(p));
  }
  static uint32_t Handle(uint8_t ext_idx, Proto p, uint16_t port_host) {
    return static_cast<uint32_t>(ext_idx) << 18 | static_cast<uint32_t>(p) << 16 | port_host;
  }
  PortPool& Pool(uint8_t ext_idx, Proto p) { return pools_[ext_idx * kProtoCount + uint32_t(p)]; }
  const PortPool& Pool(uint8_t ext_idx, Proto p) const {
    return pools_[ext_idx * kProtoCount + uint32_t(p)];
  }
  uint32_t Slot(uint16_t port_host) const { return (port_host - base_port_) / cfg_.workers; }
  bool TakePort(uint8_t preferred, Proto p, uint8_t* ext_idx, uint16_t* port_host) noexcept;
  // Host table: the slot of `addr` or of the empty slot where it would go.
  uint32_t HostSlot(uint32_t addr) const noexcept;
  void HostRelease(uint32_t addr) noexcept;

  NaptConfig cfg_;
  HashSeed seed_;
  RecordPool<Session> sessions_;
  FlowIndex out_, in_, map_;
  std::vector<PortPool> pools_;
  uint32_t port_slots_ = 0;  // ports of this worker's share
  uint16_t base_port_ = 0;   // the first of them
  std::unique_ptr<Host[]> hosts_;
  uint32_t host_mask_ = 0;
  uint32_t host_count_ = 0;
};

}  // namespace hnv::nat
