// FlowIndex: a hash index from a flow's key to a 32-bit record number, for
// per-worker flow tables (nat/'s NAT sessions and mappings and load-balancer
// connections, the port ACLs' stateful sessions: pipeline/port_acl.h).
// Single-threaded: one worker owns it, reads and writes.
//
// Theory of operation. The index stores no keys: a slot holds a 15-bit
// signature of the key's hash and the record number, and the caller says
// whether a candidate record holds the key (the records hold their keys
// anyway). A bucket is one cache line of 10 slots (2-byte tags, 4-byte
// values), so a slot costs 6.4 bytes. Each key has two candidate buckets
// (cuckoo hashing): the first from the hash's low half, the second at an
// offset derived from the signature, so that an entry's other bucket is
// known from its bucket and tag alone (the tag's low bit says which of the
// two it is in) and entries can be moved without their keys. Insertion
// takes a free slot in either bucket, else moves entries along a path to a
// free slot found by a bounded random walk (read-only until a path is
// found, so a failed insertion changes nothing); at the 90% load the index
// is sized for, insertions practically never fail, and when one does the
// caller counts a full table.
//
// Lookups cost two cache lines at most (one usually: insertions prefer the
// first bucket); Prefetch and PrefetchRecords let a burst fetch buckets and
// records before it looks.
// The bucket count is any integer (a hash is mapped onto it by a multiply,
// not a mask), so memory follows the configured limit, not a power of two.
//
// Allocation only in Init (a HugeRegion); no allocation, lock or syscall in
// any other member.
#pragma once

#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "dataplane/policy/huge_region.h"

namespace hnv {

class FlowIndex {
 public:
  static constexpr uint32_t kNone = 0xffffffffu;
  static constexpr uint32_t kSlots = 10;

  // Room for `entries` at `load` (0 < load <= 1). False when memory fails.
  bool Init(uint32_t entries, double load = 0.9);

  // Where a key's entry can be: its first bucket and its tag (the second
  // bucket follows from them, computed only when a lookup gets there). A
  // burst's lookups compute it once and use it in every stage.
  struct Spot {
    uint32_t b1;
    uint16_t tag;  // with the low bit clear (first bucket)
  };
  // Tags are never 0: the signature has its top bit set.
  Spot Locate(uint64_t hash) const noexcept {
    const uint16_t sig = static_cast<uint16_t>((hash >> 49) | 0x4000);
    const uint32_t b1 = static_cast<uint32_t>((static_cast<uint64_t>(static_cast<uint32_t>(hash)) *
                                               nb_) >> 32);
    return Spot{b1, static_cast<uint16_t>(sig << 1)};
  }

  // The record number of the entry whose record `match(record)` accepts, or
  // kNone. `hash` is the key's 64-bit hash (the caller's: a good mix).
  template <typename Match>
  uint32_t Find(const Spot& w, Match&& match) const noexcept {
    if (uint32_t r = Scan(buckets_[w.b1], w.tag, match); r != kNone) return r;
    return Scan(buckets_[Other(w.b1, w.tag)], static_cast<uint16_t>(w.tag | 1), match);
  }
  template <typename Match>
  uint32_t Find(uint64_t hash, Match&& match) const noexcept {
    return Find(Locate(hash), match);
  }
  // Find, starting from the first bucket's candidates `first` that
  // PrefetchRecords returned, valid while changes() has not moved since
  // (the caller checks; FindAgain then spares the bucket's tag compare).
  template <typename Match>
  uint32_t FindAgain(const Spot& w, uint32_t first, Match&& match) const noexcept {
    for (uint32_t m = first; m != 0; m &= m - 1) {
      const uint32_t v = buckets_[w.b1].value[__builtin_ctz(m) / 2];
      if (match(v)) return v;
    }
    return Scan(buckets_[Other(w.b1, w.tag)], static_cast<uint16_t>(w.tag | 1), match);
  }
  // Counts insertions and removals: a mask of candidates is stale once it moves.
  uint32_t changes() const { return changes_; }
  // A burst's lookups in stages, so their cache misses overlap:
  //   Prefetch(spot) for every key (its first bucket: where most entries
  //   are), then PrefetchRecords(spot, f) for every key (f(record) for each
  //   candidate of the first bucket, or the second bucket when the first has
  //   none; it returns the candidates), then Find (or FindAgain with them).
  void Prefetch(const Spot& w) const noexcept { __builtin_prefetch(&buckets_[w.b1]); }
  void Prefetch(uint64_t hash) const noexcept { Prefetch(Locate(hash)); }
  template <typename F>
  uint32_t PrefetchRecords(const Spot& w, F&& f) const noexcept {
    const uint32_t first = Matches(buckets_[w.b1], w.tag);
    if (first == 0) {
      __builtin_prefetch(&buckets_[Other(w.b1, w.tag)]);
      return 0;
    }
    for (uint32_t m = first; m != 0; m &= m - 1) f(buckets_[w.b1].value[__builtin_ctz(m) / 2]);
    return first;
  }
  // Adds record `value` under `hash` (the caller made sure the key is not
  // present). False when no slot could be found: the index is unchanged.
  bool Insert(uint64_t hash, uint32_t value) noexcept;
  // Removes record `value` filed under `hash`. False when it is not there.
  bool Erase(uint64_t hash, uint32_t value) noexcept;

  uint32_t size() const { return size_; }
  // The share of entries in their first bucket (a lookup's one cache line):
  // for benchmarks and tuning; walks the whole index.
  double FirstBucketShare() const noexcept {
    uint64_t first = 0, all = 0;
    for (uint32_t b = 0; b < nb_; ++b)
      for (uint32_t i = 0; i < kSlots; ++i) {
        all += buckets_[b].tag[i] != 0;
        first += buckets_[b].tag[i] != 0 && (buckets_[b].tag[i] & 1) == 0;
      }
    return all == 0 ? 1.0 : static_cast<double>(first) / static_cast<double>(all);
  }
  size_t bytes() const { return region_.bytes(); }
  uint32_t buckets() const { return nb_; }

 private:
  struct alignas(64) Bucket {
    uint16_t tag[kSlots];  // signature << 1 | (1 in the second bucket); 0 in an empty slot
    uint32_t value[kSlots];
  };
  static_assert(sizeof(Bucket) == 64);
  // The other bucket of an entry with tag `tag` in bucket `b`.
  uint32_t Other(uint32_t b, uint16_t tag) const noexcept {
    const uint32_t off = 1 + static_cast<uint32_t>((static_cast<uint64_t>(tag >> 1 & 0x3fff) *
                                                    (nb_ - 1)) >> 14);
    if ((tag & 1) == 0) return b + off >= nb_ ? b + off - nb_ : b + off;
    return b >= off ? b - off : b + nb_ - off;
  }
  // Bit 2*i set: slot i holds `tag` (two bits per slot, as SSE2's byte
  // mask of 16-bit lanes gives them: no loop to compact them; a set bit's
  // slot is its index / 2).
  static uint32_t Matches(const Bucket& bk, uint16_t tag) noexcept {
#if defined(__SSE2__)
    const __m128i t = _mm_set1_epi16(static_cast<short>(tag));
    // Tags 0-7, then tags 8-9 (the first two lanes of the next 16 bytes:
    // the rest are values, masked off).
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bk.tag));
    const __m128i hi =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const char*>(&bk) + 16));
    const auto m0 = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi16(lo, t))) & 0x5555;
    const auto m1 = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi16(hi, t))) & 0x5;
    return m0 | m1 << 16;
#else
    uint32_t m = 0;
    for (uint32_t i = 0; i < kSlots; ++i) m |= static_cast<uint32_t>(bk.tag[i] == tag) << (2 * i);
    return m;
#endif
  }
  template <typename Match>
  static uint32_t Scan(const Bucket& bk, uint16_t tag, Match& match) noexcept {
    for (uint32_t m = Matches(bk, tag); m != 0; m &= m - 1) {
      const uint32_t v = bk.value[__builtin_ctz(m) / 2];
      if (match(v)) return v;
    }
    return kNone;
  }
  static int FreeSlot(const Bucket& bk) noexcept {
    for (uint32_t i = 0; i < kSlots; ++i)
      if (bk.tag[i] == 0) return static_cast<int>(i);
    return -1;
  }
  bool Displace(uint32_t start, uint16_t tag, uint32_t value) noexcept;

  HugeRegion region_;
  Bucket* buckets_ = nullptr;
  uint32_t nb_ = 0;
  uint32_t size_ = 0;
  uint32_t changes_ = 0;
  uint64_t rng_ = 0x9e3779b97f4a7c15ull;
};

}  // namespace hnv
