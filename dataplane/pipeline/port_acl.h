// Port ACLs in the fast path: a VM adapter's compiled rules
// (policy/port_acl.h) applied to what it sends (vm-ingress, after PortGuard:
// direction kOut) and to what is delivered to it (WorkerContext::FlushPort,
// whatever the path: switched, routed, decapsulated, flooded, answered:
// direction kIn).
//
// Theory of operation. CheckPortAcls decides a burst of frames, each by:
// MAC rules, then IP rules (the longest matching prefix decides, Deny over
// Allow: policy/port_acl.h's AclPrefixIndex; a Deny is Drop::kAclDeny),
// meter rules (each match counts packets and bytes in the worker's
// acl_meter_* slots), then, for IP packets, the extended rules: a stateful
// session of the frame's flow admits it at once (either direction);
// otherwise the first rule by weight decides (Deny: Drop::kAclExtendedDeny),
// and a stateful Allow opens a session (a full table: Drop::kAclSessionsFull).
// A flow is (port, family, protocol, local address, remote address, local
// port, remote port), local/remote being the VM's side and the other side
// whatever the direction, so the replies of a session find it.
//
// Sessions (AclSessions) are per worker: the worker that receives the
// adapter's port (Dataplane::AttachPort: port % workers) owns its sessions.
// What it sends is checked there (vm-ingress); a frame for it flushed by
// another worker is handed to the owner first (FlushPort, ctx.HandOff) when
// its table is stateful, so both directions of a flow meet one table. A
// session lives until it has been idle for its rule's IdleSessionTimeout,
// checked on lookup and by a sweep of a few records per burst (Tick, which
// also reads the clock once for the burst).
//
// Cost. A port without ACLs pays one predictable branch per burst in
// vm-ingress and one per flush. IP rules cost a hash probe per distinct
// prefix length; MAC, meter and extended rules are scanned (extended ones
// only those of the frame's protocol class). The session lookups of a
// burst are done in stages (flow/in_stages.h): every frame's FlowIndex
// bucket is prefetched, then its candidate records, then each frame is
// decided in order (so a session opened by a frame admits the next ones of
// the burst), and the cache misses of the burst overlap.
// Thread: worker-only; no allocation, lock or syscall (AclSessions::Init
// allocates, on the control thread, before the workers start).
#pragma once

#include <rte_cycles.h>

#include <cstdint>

#include "dataplane/flow/flow_index.h"
#include "dataplane/flow/hash.h"
#include "dataplane/flow/record_pool.h"
#include "dataplane/pipeline/context.h"
#include "dataplane/policy/port_acl.h"

namespace hnv {

class AclSessions {
 public:
  static constexpr uint32_t kDefaultCapacity = 1u << 16;  // per worker

  bool Init(uint32_t capacity, uint64_t seed);
  // Once per burst, before its checks: reads the clock (Admit and Open use
  // that time) and closes a few idle sessions.
  void Tick() noexcept {
    now_ = rte_get_tsc_cycles() + offset_;
    Sweep(now_);
  }

  // The flow's key: words of the addresses (memory order) and the rest.
  struct Key {
    uint64_t local[2];
    uint64_t remote[2];
    uint64_t rest;  // port | family << 16 | protocol << 24 | local port << 32 | remote port << 48
    friend bool operator==(const Key&, const Key&) = default;
  };
  // A burst's lookups in stages (FlowIndex: Locate, Prefetch,
  // PrefetchRecords, then Admit).
  FlowIndex::Spot Locate(const Key& k) const noexcept { return index_.Locate(Hash(k)); }
  void Prefetch(const FlowIndex::Spot& w) const noexcept { index_.Prefetch(w); }
  void PrefetchRecords(const FlowIndex::Spot& w) const noexcept {
    index_.PrefetchRecords(w, [this](uint32_t r) { pool_.Prefetch(r); });
  }
  // True when a live session holds `k` (and refreshes it); an idle one is
  // closed on the way. `w` is Locate(k).
  bool Admit(const Key& k, const FlowIndex::Spot& w) noexcept;
  bool Admit(const Key& k) noexcept { return Admit(k, Locate(k)); }
  // Opens a session for `k`, idle after `idle_seconds`. False when full.
  bool Open(const Key& k, uint32_t idle_seconds) noexcept;

  uint32_t live() const { return pool_.live(); }
  uint64_t opened() const { return opened_; }
  uint64_t expired() const { return expired_; }
  uint64_t full() const { return full_; }
  // Moves this table's clock forward (tests of the idle timeout).
  void AdvanceClockForTest(uint32_t seconds) { offset_ += uint64_t{seconds} * hz_; }

 private:
  struct Record {
    Key key;
    uint64_t last = 0;  // TSC of the last frame
    uint64_t idle = 0;  // TSC ticks
    uint32_t next = 0;
    uint8_t proto1 = 0;  // RecordPool: 0 = free
  };
  uint64_t Hash(const Key& k) const noexcept {
    return Mix2(k.local[0] ^ k.remote[1] ^ k.rest, k.local[1] ^ (k.remote[0] * 0x9e3779b97f4a7c15ull),
                seed_);
  }
  void Close(uint32_t i) noexcept;
  void Sweep(uint64_t now) noexcept;

  FlowIndex index_;
  RecordPool<Record> pool_;
  HashSeed seed_;
  uint64_t hz_ = 1;
  uint64_t offset_ = 0;
  uint64_t now_ = 0;  // TSC at the last Tick
  uint64_t opened_ = 0, expired_ = 0, full_ = 0;
};

// A frame to check: its bytes, as parsed, and its length.
struct AclFrame {
  const uint8_t* data;
  const ParsedFrame* pf;
  uint32_t bytes;
};

// For each of the `n` frames of port `port`: why[i] = Drop::kCount when it
// passes `t` in direction `d`, else why it is dropped. In order: a frame's
// session is there for the frames after it.
void CheckPortAcls(WorkerContext& ctx, const PortAclTable& t, PortAclTable::Dir d, uint16_t port,
                   const AclFrame* frames, uint16_t n, Drop* why) noexcept;

}  // namespace hnv
