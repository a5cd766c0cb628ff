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
// session lives until it has been idle for its rule's IdleSessionTimeout
// (its last-seen time refreshed coarsely, kRefreshShift), checked on lookup
// and by a sweep of a few records at most every kSweepPeriodUs (Tick, which
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
  // A hit refreshes a session's last-seen time only when it is older than
  // 1/2^kRefreshShift s (~8 ms): a session may close up to that much before
  // its idle timeout, and a busy flow's record is written ~128 times a
  // second, not once per frame.
  static constexpr uint32_t kRefreshShift = 7;
  // The sweep of idle sessions runs at most once per kSweepPeriodUs (on a
  // burst's Tick) over kSweepBudget records: a pass over the default 65,536
  // records takes >= 2,048 sweeps (~0.1 s at line rate; longer when bursts
  // are rarer). A lookup that finds an idle session closes it anyway.
  static constexpr uint32_t kSweepPeriodUs = 50;
  static constexpr uint32_t kSweepBudget = 32;

  bool Init(uint32_t capacity, uint64_t seed);
  // Once per burst, before its checks: reads the clock (Admit and Open use
  // that time) and, at most once per kSweepPeriodUs, closes idle sessions
  // among the next kSweepBudget records (Sweep).
  void Tick() noexcept {
    now_ = rte_get_tsc_cycles() + offset_;
    if (now_ - last_sweep_ >= sweep_period_) [[unlikely]]
      Sweep(now_);
  }

  // The flow's key: words of the addresses (memory order) and the rest.
  struct Key {
    uint64_t local[2];
    uint64_t remote[2];
    uint64_t rest;  // port | family << 16 | protocol << 24 | local port << 32 | remote port << 48
    // Without a branch per word (the hit path's compare).
    friend bool operator==(const Key& a, const Key& b) noexcept {
      return ((a.local[0] ^ b.local[0]) | (a.local[1] ^ b.local[1]) | (a.remote[0] ^ b.remote[0]) |
              (a.remote[1] ^ b.remote[1]) | (a.rest ^ b.rest)) == 0;
    }
  };
  // A burst's lookups in stages (FlowIndex: Locate, Prefetch,
  // PrefetchRecords, then Admit).
  FlowIndex::Spot Locate(const Key& k) const noexcept { return index_.Locate(Hash(k)); }
  void Prefetch(const FlowIndex::Spot& w) const noexcept { index_.Prefetch(w); }
  // The candidates of the first bucket, for Admit; `*seen` is changes() then.
  uint32_t PrefetchRecords(const FlowIndex::Spot& w, uint32_t* seen) const noexcept {
    *seen = index_.changes();
    return index_.PrefetchRecords(w, [this](uint32_t r) { pool_.Prefetch(r); });
  }
  // True when a live session holds `k` (and refreshes it); an idle one is
  // closed on the way. `w` is Locate(k); `first` and `seen` what
  // PrefetchRecords gave (used while no session opened or closed since).
  // Inline: the hit path is the stateful ports' common case.
  bool Admit(const Key& k, const FlowIndex::Spot& w, uint32_t first, uint32_t seen) noexcept {
    auto holds = [&](uint32_t r) { return pool_[r].key == k; };
    const uint32_t i =
        seen == index_.changes() ? index_.FindAgain(w, first, holds) : index_.Find(w, holds);
    if (i == FlowIndex::kNone) return false;
    Record& r = pool_[i];
    const uint64_t idle_for = now_ - r.last;
    if (idle_for > r.idle) [[unlikely]] {
      Expire(i);
      return false;
    }
    // Refreshed coarsely (kRefreshShift): most frames of a busy flow read
    // the record and leave its cache line clean.
    if (idle_for > refresh_) r.last = now_;
    return true;
  }
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
  void Expire(uint32_t i) noexcept;  // Close, counted as expired
  void Sweep(uint64_t now) noexcept;

  FlowIndex index_;
  RecordPool<Record> pool_;
  HashSeed seed_;
  uint64_t hz_ = 1;
  uint64_t refresh_ = 0;       // TSC ticks a session's `last` may lag (hz >> kRefreshShift)
  uint64_t sweep_period_ = 0;  // TSC ticks between two sweeps (kSweepPeriodUs)
  uint64_t last_sweep_ = 0;
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
