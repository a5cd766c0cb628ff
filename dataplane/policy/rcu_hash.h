// RcuHashTable: a fixed-capacity map from a trivially copyable Key to an
// immutable Value, read by workers without locks while one control thread
// writes it.
//
// Theory of operation. The table is built for the per-packet lookups of a
// million records, where what counts is how many cache lines a lookup must
// wait for, one after the other:
//  - Buckets of one cache line: 10 entries of a 16-bit signature and a
//    32-bit slot index, plus a counter of the keys that hash here but had
//    to live elsewhere. A key's bucket is the low bits of its CRC32; the
//    signature is the high 16 bits.
//  - Slots hold the key and its value together: a found key's value is in
//    the line that was compared, so a lookup costs two cache lines (bucket,
//    slot), and a burst fetches all its buckets, then all its slots, before
//    comparing anything (FindBulk), so those misses overlap. DPDK's rte_hash
//    needs three (bucket, key slot, data) and more work per key.
//  - A key goes to its primary bucket; when that is full, to an alternate
//    bucket derived from the primary and the signature, then to a small
//    stash. Keys never move once placed (no cuckoo displacement), which is
//    what lets readers go without a change counter or retry: a key present
//    for the whole of a lookup is always found. The primary's counter tells
//    a reader whether to look further; with the bucket count sized for at
//    most 3 keys per bucket on average, a full primary is rare (2.6e-4 of
//    the keys at 1,100,000 records) and a full alternate rarer still.
// Concurrency: the writer fills a slot, then publishes it with a release
// store of the slot index and then of the signature (0 = empty). A change
// of value writes a fresh slot and swaps the index; a removal clears the
// signature. A slot a reader may hold (replaced or removed) goes back to the
// free list only after an RCU grace period (rte_rcu_qsbr: every registered
// reader has reported a quiescent state since), through the Reclaimer
// (reclaimer.h) the table is given, or its own. A bucket entry may be
// reused at once: a reader that still sees the old signature follows the
// index to a slot whose key it compares, so it can only miss the key that
// was removed. A full table is an error returned to the writer, never an
// allocation. Buckets and slots live in HugeRegions (huge_region.h: 2 MiB
// pages where the kernel gives them, fewer TLB misses).
//
// Thread contract: Find/FindBulk from any registered reader; everything else
// from the single writer thread only.
#pragma once

#include <emmintrin.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dataplane/policy/huge_region.h"
#include "dataplane/policy/reclaimer.h"
#include "dataplane/policy/tsan.h"  // HNV_THREAD_SANITIZER

namespace hnv {

// A key assembled by the reader in 64-bit words (registers) and hashed from
// those words. A key written field by field and read back at once by wider
// loads cannot be store-forwarded: each such load waits until the stores
// reach the cache, i.e. until every older instruction has retired, including
// the previous packet's cache misses. That serialised lookups (31 ns in
// cache, 438 ns at a million records with rte_hash; 9 and 72 ns with
// KeyWords).
template <typename Key>
struct KeyWords {
  static_assert(sizeof(Key) % 4 == 0);
  uint64_t w[(sizeof(Key) + 7) / 8] = {};

  // rte_hash_crc(&key, sizeof(Key), 0): the tables' hash function.
  uint32_t Hash() const noexcept {
    uint32_t h = 0;
    for (size_t i = 0; i < sizeof(Key) / 8; ++i) h = rte_hash_crc_8byte(w[i], h);
    if constexpr (sizeof(Key) % 8 != 0)
      h = rte_hash_crc_4byte(static_cast<uint32_t>(w[sizeof(Key) / 8]), h);
    return h;
  }
  static KeyWords Of(const Key& key) noexcept {
    KeyWords kw;
    std::memcpy(kw.w, &key, sizeof(Key));
    return kw;
  }
};

template <typename Key, typename Value>
class RcuHashTable {
  static_assert(std::is_trivially_copyable_v<Key> && std::is_trivially_copyable_v<Value>);

 public:
  static constexpr uint32_t kBucketEntries = 10;
  static constexpr uint32_t kStashEntries = 64;
  // FindBulk takes at most this many keys per call.
  static constexpr uint32_t kMaxBulk = 64;
  // Tables this small stay in the caches; stages may then look keys up one
  // by one instead of collecting a burst of keys first (PolicyTables::L2BulkPays).
  static constexpr uint32_t kBulkFrom = 16384;

  RcuHashTable() = default;
  // With a shared reclaimer, what this table retired runs first (after a
  // grace period: by now no reader may hold its slots anyway).
  ~RcuHashTable() {
    if (reclaimer_ != nullptr && own_reclaimer_ == nullptr) reclaimer_->Synchronize();
  }
  RcuHashTable(const RcuHashTable&) = delete;
  RcuHashTable& operator=(const RcuHashTable&) = delete;

  // Creates the table for `capacity` keys. `name` appears in its errors.
  // Slots are retired through `reclaimer` (shared with other tables of one
  // writer), or with `qsv` through a Reclaimer of the table's own.
  bool Init(const std::string& name, uint32_t capacity, rte_rcu_qsbr* qsv, std::string* error) {
    own_reclaimer_ = Reclaimer::Create(qsv, name, capacity / 4 + 64, error);
    return own_reclaimer_ != nullptr && Init(name, capacity, own_reclaimer_.get(), error);
  }
  bool Init(const std::string& name, uint32_t capacity, Reclaimer* reclaimer, std::string* error) {
    reclaimer_ = reclaimer;
    capacity_ = capacity;
    // Headroom: replaced values and removed keys keep their slots until
    // their grace period ends, so a full table can still be updated.
    pool_ = capacity + capacity / 4 + 64;
    const uint32_t buckets = std::bit_ceil(std::max<uint32_t>(pool_ / 3, 2));
    mask_ = buckets - 1;
    if (!bucket_mem_.Allocate(sizeof(Bucket) * buckets) ||
        !slot_mem_.Allocate(sizeof(Slot) * size_t{pool_})) {
      *error = "cannot map the " + name + " table for " + std::to_string(capacity) + " entries (" +
               std::to_string((sizeof(Bucket) * buckets + sizeof(Slot) * pool_) >> 20) + " MiB)";
      return false;
    }
    buckets_ = static_cast<Bucket*>(bucket_mem_.data());
    slots_ = static_cast<Slot*>(slot_mem_.data());
    free_slots_.reserve(pool_);
    for (uint32_t i = pool_; i > 0; --i) free_slots_.push_back(i - 1);
    return true;
  }

  // ---- reader side. A returned pointer is valid until the reader's next
  // quiescent state.

  const Value* Find(const Key& key) const noexcept { return Find(KeyWords<Key>::Of(key)); }
  const Value* Find(const KeyWords<Key>& kw) const noexcept {
    const uint32_t h = kw.Hash();
    const Slot* s = FindFrom(kw, h, Primary(h), 0);
    return s == nullptr ? nullptr : &s->value;
  }

  // As Find, for n <= kMaxBulk keys; misses give nullptr. In three passes
  // over the keys: hash and fetch every bucket; match signatures and fetch
  // every candidate slot; compare keys. The cache misses of all n keys so
  // overlap instead of following one another.
  void FindBulk(const KeyWords<Key>* kw, uint32_t n, const Value** out) const noexcept {
    uint32_t hash[kMaxBulk];
    uint32_t cand[kMaxBulk];  // slot index, or kNone
    uint16_t hits[kMaxBulk];  // signature matches in the primary, as bits
    for (uint32_t i = 0; i < n; ++i) {
      hash[i] = kw[i].Hash();
      rte_prefetch0(&buckets_[Primary(hash[i])]);
    }
    for (uint32_t i = 0; i < n; ++i) {
      const Bucket& b = buckets_[Primary(hash[i])];
      hits[i] = Matches(b, Sig(hash[i]));
      cand[i] = kNone;
      if (hits[i] != 0) {
        cand[i] = b.slot[std::countr_zero(hits[i])].load(std::memory_order_acquire);
        PrefetchSlot(cand[i]);
      }
    }
    for (uint32_t i = 0; i < n; ++i) {
      const Slot* s = nullptr;
      if (cand[i] != kNone && SameKey(slots_[cand[i]], kw[i])) {
        s = &slots_[cand[i]];
      } else {
        // Another signature match, the alternate bucket or the stash: rare.
        s = FindFrom(kw[i], hash[i], Primary(hash[i]), cand[i] == kNone ? 0 : 1);
      }
      out[i] = s == nullptr ? nullptr : &s->value;
    }
  }

  // ---- writer side

  // Inserts or replaces; false when the table is full.
  bool Upsert(const Key& key, const Value& value) {
    const KeyWords<Key> kw = KeyWords<Key>::Of(key);
    const uint32_t h = kw.Hash();
    const Where at = Locate(kw, h);
    if (!at.found && size() >= capacity_) return false;
    if (free_slots_.empty()) Reclaim();
    if (free_slots_.empty()) return false;
    const uint32_t slot = free_slots_.back();
    std::memcpy(&slots_[slot].key, &key, sizeof(Key));
    slots_[slot].value = value;
    if (at.found) {
      const uint32_t old = at.e.slot->load(std::memory_order_relaxed);
      at.e.slot->store(slot, std::memory_order_release);
      free_slots_.pop_back();
      Defer(old);
      return true;
    }
    const Entry e = FreeEntry(h);
    if (e.sig == nullptr) return false;  // primary, alternate and stash all full
    free_slots_.pop_back();
    if (e.bucket != &buckets_[Primary(h)]) {
      Bucket& p = buckets_[Primary(h)];
      p.elsewhere.store(p.elsewhere.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      if (e.bucket == nullptr) stash_used_.store(stash_used_.load() + 1, std::memory_order_relaxed);
    }
    e.slot->store(slot, std::memory_order_relaxed);
    e.sig->store(Sig(h), std::memory_order_release);
    size_.store(size() + 1, std::memory_order_relaxed);
    return true;
  }

  // Removes the key; false if it was not there.
  bool Remove(const Key& key) {
    const KeyWords<Key> kw = KeyWords<Key>::Of(key);
    const uint32_t h = kw.Hash();
    const Where at = Locate(kw, h);
    if (!at.found) return false;
    const uint32_t old = at.e.slot->load(std::memory_order_relaxed);
    at.e.sig->store(0, std::memory_order_release);
    if (at.e.bucket != &buckets_[Primary(h)]) {
      Bucket& p = buckets_[Primary(h)];
      p.elsewhere.store(p.elsewhere.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
      if (at.e.bucket == nullptr) stash_used_.store(stash_used_.load() - 1, std::memory_order_relaxed);
    }
    Defer(old);
    size_.store(size() - 1, std::memory_order_relaxed);
    return true;
  }

  // Writer-side read of the current value (no grace-period concerns).
  const Value* Get(const Key& key) const { return Find(key); }

  // Returns to the free list what no reader can still hold. Cheap when idle.
  void Reclaim() { reclaimer_->Reclaim(); }
  // Waits for a grace period, then reclaims everything pending.
  void Synchronize() { reclaimer_->Synchronize(); }

  // Iterates all current entries (writer side).
  template <typename F>
  void ForEach(F&& f) const {
    auto visit = [&](const std::atomic<uint16_t>& sig, const std::atomic<uint32_t>& slot) {
      if (sig.load(std::memory_order_relaxed) == 0) return;
      const Slot& s = slots_[slot.load(std::memory_order_relaxed)];
      f(s.key, s.value);
    };
    for (uint32_t b = 0; b <= mask_; ++b)
      for (uint32_t i = 0; i < kBucketEntries; ++i) visit(buckets_[b].sig[i], buckets_[b].slot[i]);
    for (uint32_t i = 0; i < kStashEntries; ++i) visit(stash_sig_[i], stash_slot_[i]);
  }

  uint32_t size() const { return size_.load(std::memory_order_relaxed); }
  uint32_t capacity() const { return capacity_; }
  // Slots waiting for their grace period (and, with a shared reclaimer,
  // whatever else waits there).
  size_t pending_reclaim() const { return reclaimer_->pending(); }
  // Keys living outside their primary bucket (alternate or stash), and in
  // the stash: the table's health (tests, diagnostics).
  uint32_t displaced() const {
    uint32_t n = 0;
    for (uint32_t b = 0; b <= mask_; ++b) n += buckets_[b].elsewhere.load(std::memory_order_relaxed);
    return n;
  }
  uint32_t stashed() const { return stash_used_.load(std::memory_order_relaxed); }
  uint32_t bucket_count() const { return mask_ + 1; }
  // The primary and alternate bucket of `key` (tests build colliding keys
  // with it).
  std::pair<uint32_t, uint32_t> BucketsOf(const Key& key) const noexcept {
    const uint32_t h = KeyWords<Key>::Of(key).Hash();
    return {Primary(h), Alternate(Primary(h), Sig(h))};
  }
  // The readers' memory (buckets and key/value slots) and the writer's own (free list).
  size_t TableBytes() const { return bucket_mem_.bytes() + slot_mem_.bytes(); }
  size_t WriterBytes() const { return sizeof(uint32_t) * free_slots_.capacity(); }

 private:
  static constexpr uint32_t kNone = 0xffffffffu;

  struct Slot {
    Key key;
    Value value;
  };
  struct alignas(64) Bucket {
    std::atomic<uint32_t> elsewhere;  // keys whose primary this is, placed elsewhere
    std::atomic<uint16_t> sig[kBucketEntries];
    std::atomic<uint32_t> slot[kBucketEntries];
  };
  static_assert(sizeof(Bucket) == 64 && offsetof(Bucket, sig) == 4);
  static_assert(std::atomic<uint16_t>::is_always_lock_free && sizeof(std::atomic<uint16_t>) == 2);

  // One entry: its signature and slot index, and its bucket (nullptr: stash).
  struct Entry {
    std::atomic<uint16_t>* sig = nullptr;
    std::atomic<uint32_t>* slot = nullptr;
    Bucket* bucket = nullptr;
  };
  struct Where {
    bool found = false;
    Entry e;
  };

  static uint16_t Sig(uint32_t h) noexcept {
    const uint16_t s = static_cast<uint16_t>(h >> 16);
    return s == 0 ? 1 : s;
  }
  uint32_t Primary(uint32_t h) const noexcept { return h & mask_; }
  uint32_t Alternate(uint32_t primary, uint16_t sig) const noexcept {
    return (primary ^ ((uint32_t{sig} * 0x5bd1e995u) | 1u)) & mask_;
  }

  // Bit i set: entry i of `b` holds signature `sig`. One 16-byte compare for
  // entries 0-7, one 4-byte for 8-9; the two 16-bit lane masks are packed to
  // bytes (all-ones saturates to 0xff) so that one movemask gives a bit per
  // entry. The upper lanes of the 4-byte load are zero and never match: a
  // signature is never 0 (Sig). The loads are plain (vector) loads of atomics
  // the writer stores with release: on x86 each 2-byte lane is read whole,
  // and the fence keeps the slot loads after them.
  static uint16_t Matches(const Bucket& b, uint16_t sig) noexcept {
#ifdef HNV_THREAD_SANITIZER
    // ThreadSanitizer cannot see the vector loads as atomic: the same
    // protocol with one acquire load per entry, so it checks the rest.
    uint16_t bits = 0;
    for (uint32_t i = 0; i < kBucketEntries; ++i)
      if (b.sig[i].load(std::memory_order_acquire) == sig) bits |= uint16_t(1u << i);
    return bits;
#endif
    const auto* p = reinterpret_cast<const unsigned char*>(&b.sig[0]);
    const __m128i want = _mm_set1_epi16(static_cast<short>(sig));
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hi = _mm_cvtsi32_si128(*reinterpret_cast<const volatile int*>(p + 16));
    const __m128i eq = _mm_packs_epi16(_mm_cmpeq_epi16(lo, want), _mm_cmpeq_epi16(hi, want));
    std::atomic_thread_fence(std::memory_order_acquire);
    return static_cast<uint16_t>(_mm_movemask_epi8(eq) & ((1u << kBucketEntries) - 1));
  }

  static bool SameKey(const Slot& s, const KeyWords<Key>& kw) noexcept {
    return std::memcmp(&s.key, kw.w, sizeof(Key)) == 0;
  }
  void PrefetchSlot(uint32_t slot) const noexcept {
    const auto* p = reinterpret_cast<const char*>(&slots_[slot]);
    rte_prefetch0(p);
    rte_prefetch0(p + sizeof(Slot) - 1);
  }

  // The slot holding `kw` in bucket b, skipping the first `skip` signature
  // matches, or nullptr.
  const Slot* InBucket(const Bucket& b, const KeyWords<Key>& kw, uint16_t sig, uint32_t skip) const noexcept {
    for (uint32_t hits = Matches(b, sig); hits != 0; hits &= hits - 1) {
      if (skip > 0) {
        --skip;
        continue;
      }
      const Slot& s = slots_[b.slot[std::countr_zero(hits)].load(std::memory_order_acquire)];
      if (SameKey(s, kw)) return &s;
    }
    return nullptr;
  }
  // The full search from the primary bucket, skipping its first `skip` matches.
  const Slot* FindFrom(const KeyWords<Key>& kw, uint32_t h, uint32_t primary, uint32_t skip) const noexcept {
    const uint16_t sig = Sig(h);
    const Bucket& p = buckets_[primary];
    if (const Slot* s = InBucket(p, kw, sig, skip); s != nullptr) return s;
    if (p.elsewhere.load(std::memory_order_acquire) == 0) return nullptr;
    if (const Slot* s = InBucket(buckets_[Alternate(primary, sig)], kw, sig, 0); s != nullptr) return s;
    if (stash_used_.load(std::memory_order_acquire) == 0) return nullptr;
    for (uint32_t i = 0; i < kStashEntries; ++i) {
      if (stash_sig_[i].load(std::memory_order_acquire) != sig) continue;
      const Slot& s = slots_[stash_slot_[i].load(std::memory_order_acquire)];
      if (SameKey(s, kw)) return &s;
    }
    return nullptr;
  }

  // Writer: where `kw` is stored, if it is.
  Where Locate(const KeyWords<Key>& kw, uint32_t h) {
    Where w;
    const uint16_t sig = Sig(h);
    auto check = [&](std::atomic<uint16_t>& s, std::atomic<uint32_t>& slot, Bucket* b) {
      if (s.load(std::memory_order_relaxed) != sig ||
          !SameKey(slots_[slot.load(std::memory_order_relaxed)], kw))
        return false;
      w.e = Entry{&s, &slot, b};
      w.found = true;
      return true;
    };
    Bucket* p = &buckets_[Primary(h)];
    for (uint32_t i = 0; i < kBucketEntries; ++i)
      if (check(p->sig[i], p->slot[i], p)) return w;
    if (p->elsewhere.load(std::memory_order_relaxed) == 0) return w;
    Bucket* a = &buckets_[Alternate(Primary(h), sig)];
    for (uint32_t i = 0; i < kBucketEntries; ++i)
      if (check(a->sig[i], a->slot[i], a)) return w;
    for (uint32_t i = 0; stashed() != 0 && i < kStashEntries; ++i)
      if (check(stash_sig_[i], stash_slot_[i], nullptr)) return w;
    return w;
  }
  // Writer: a free entry for a new key, primary bucket first.
  Entry FreeEntry(uint32_t h) {
    Bucket* p = &buckets_[Primary(h)];
    Bucket* a = &buckets_[Alternate(Primary(h), Sig(h))];
    for (Bucket* b : {p, a})
      for (uint32_t i = 0; i < kBucketEntries; ++i)
        if (b->sig[i].load(std::memory_order_relaxed) == 0) return Entry{&b->sig[i], &b->slot[i], b};
    for (uint32_t i = 0; i < kStashEntries; ++i)
      if (stash_sig_[i].load(std::memory_order_relaxed) == 0)
        return Entry{&stash_sig_[i], &stash_slot_[i], nullptr};
    return Entry{};
  }

  void Defer(uint32_t slot) {
    reclaimer_->Retire(
        [](void* t, uint64_t s) {
          static_cast<RcuHashTable*>(t)->free_slots_.push_back(static_cast<uint32_t>(s));
        },
        this, slot);
  }

  HugeRegion bucket_mem_;
  HugeRegion slot_mem_;
  Bucket* buckets_ = nullptr;
  Slot* slots_ = nullptr;
  uint32_t mask_ = 0;
  Reclaimer* reclaimer_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t pool_ = 0;
  std::atomic<uint32_t> size_{0};
  std::atomic<uint32_t> stash_used_{0};
  std::atomic<uint16_t> stash_sig_[kStashEntries] = {};
  std::atomic<uint32_t> stash_slot_[kStashEntries] = {};
  std::vector<uint32_t> free_slots_;
  // Last: destroyed first, it hands back what is pending while the free
  // list still exists.
  std::unique_ptr<Reclaimer> own_reclaimer_;
};

}  // namespace hnv
