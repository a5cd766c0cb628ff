// PrefixTable: longest-prefix match for many scopes (routing domains,
// gateway compartments) of IPv4 and IPv6 prefixes, in one RCU hash table,
// with memory that grows with the prefixes, not the scopes.
//
// Theory of operation. One RcuHashTable (rcu_hash.h) maps (scope, length,
// masked prefix) to a value. Each scope has a mask of the prefix lengths it
// holds, per family (IPv4 /0../32 in one word, IPv6 /0../128 in three); a
// lookup probes only those lengths, longest first, and stops at the first
// hit. So a scope costs 32 bytes of masks (plus, on the writer's side, a
// count per length) until it holds prefixes, and a lookup costs one probe
// per length the scope uses: a tenant with a default route, its subnets and
// a few host routes costs three or four. FindV4Bulk looks a burst of one
// scope up length by length, each round for every frame still unresolved
// at once (RcuHashTable::FindBulk), so the cache misses of a round overlap.
//
// Concurrency: the table changes while readers look up (RCU hash:
// Upsert/Remove publish with release stores; replaced slots come back after
// a grace period through the Reclaimer). A length's mask bit is set (release)
// after its first prefix is in the table and cleared after its last is
// gone, so a reader that sees the bit finds what was published before; one
// that misses a bit set a moment ago sees the table as it was before that
// prefix came.
//
// Thread contract: Find*/FindV4Bulk from registered RCU readers; the rest
// from the single writer thread.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/packet/types.h"
#include "dataplane/policy/rcu_hash.h"

namespace hnv {

struct PrefixKey {
  uint32_t scope = 0;
  uint8_t len = 0;
  uint8_t zero[3] = {0, 0, 0};
  IpAddr prefix;  // masked to len
};
static_assert(sizeof(PrefixKey) == 28);

template <typename Value>
class PrefixTable {
 public:
  static constexpr uint32_t kMaxBulk = RcuHashTable<PrefixKey, Value>::kMaxBulk;

  // Room for `capacity` prefixes over scopes 0..max_scopes-1.
  bool Init(const std::string& name, uint32_t capacity, uint32_t max_scopes, Reclaimer* reclaimer,
            std::string* error) {
    max_scopes_ = max_scopes;
    masks_ = std::make_unique<Masks[]>(max_scopes);
    return table_.Init(name, capacity, reclaimer, error);
  }
  bool Init(const std::string& name, uint32_t capacity, uint32_t max_scopes, rte_rcu_qsbr* qsv,
            std::string* error) {
    max_scopes_ = max_scopes;
    masks_ = std::make_unique<Masks[]>(max_scopes);
    return table_.Init(name, capacity, qsv, error);
  }

  // ---- readers

  // The longest prefix of `scope` holding the address given as its 16
  // bytes in two little-endian words and its family (stage_util.h, IpWords).
  const Value* Find(uint32_t scope, uint64_t lo, uint64_t hi, Family f) const noexcept {
    if (scope >= max_scopes_) return nullptr;
    const Masks& m = masks_[scope];
    KeyWords<PrefixKey> k;
    k.w[3] = static_cast<uint8_t>(f);  // family, zero pad
    if (f == Family::kV4) {
      uint64_t bits = m.v4.load(std::memory_order_acquire);
      const uint32_t host = HostToNet(static_cast<uint32_t>(lo));
      k.w[2] = 0;
      while (bits != 0) {
        const int len = 63 - std::countl_zero(bits);
        bits &= ~(uint64_t{1} << len);
        k.w[0] = scope | uint64_t{static_cast<uint8_t>(len)} << 32;
        k.w[1] = HostToNet(MaskV4(host, len));
        if (const Value* v = table_.Find(k)) return v;
      }
      return nullptr;
    }
    for (int w = 2; w >= 0; --w) {
      uint64_t bits = m.v6[w].load(std::memory_order_acquire);
      while (bits != 0) {
        const int bit = 63 - std::countl_zero(bits);
        bits &= ~(uint64_t{1} << bit);
        const int len = w * 64 + bit;
        k.w[0] = scope | uint64_t{static_cast<uint8_t>(len)} << 32;
        k.w[1] = Keep(lo, len);
        k.w[2] = Keep(hi, len - 64);
        if (const Value* v = table_.Find(k)) return v;
      }
    }
    return nullptr;
  }
  const Value* Find(uint32_t scope, const IpAddr& dst) const noexcept {
    uint64_t w[2];
    std::memcpy(w, dst.b.data(), 16);
    return Find(scope, w[0], w[1], dst.family);
  }

  // n <= kMaxBulk IPv4 destinations (host order) of one scope: out[i] the
  // longest prefix's value, or nullptr.
  void FindV4Bulk(uint32_t scope, const uint32_t* dst, uint32_t n, const Value** out) const noexcept {
    for (uint32_t i = 0; i < n; ++i) out[i] = nullptr;
    if (scope >= max_scopes_) return;
    uint64_t bits = masks_[scope].v4.load(std::memory_order_acquire);
    uint8_t todo[kMaxBulk];
    uint32_t left = n;
    for (uint32_t i = 0; i < n; ++i) todo[i] = static_cast<uint8_t>(i);
    KeyWords<PrefixKey> keys[kMaxBulk];
    const Value* found[kMaxBulk];
    while (bits != 0 && left != 0) {
      const int len = 63 - std::countl_zero(bits);
      bits &= ~(uint64_t{1} << len);
      for (uint32_t j = 0; j < left; ++j) {
        keys[j].w[0] = scope | uint64_t{static_cast<uint8_t>(len)} << 32;
        keys[j].w[1] = HostToNet(MaskV4(dst[todo[j]], len));
        keys[j].w[2] = 0;
        keys[j].w[3] = static_cast<uint8_t>(Family::kV4);
      }
      table_.FindBulk(keys, left, found);
      uint32_t still = 0;
      for (uint32_t j = 0; j < left; ++j) {
        if (found[j] != nullptr) out[todo[j]] = found[j];
        else todo[still++] = todo[j];
      }
      left = still;
    }
  }

  // ---- writer

  // Adds or replaces the value of `p` in `scope`; false when the table is
  // full (nothing changed).
  bool Upsert(uint32_t scope, const IpPrefix& p, const Value& v) {
    if (scope >= max_scopes_) return false;
    const PrefixKey k = KeyOf(scope, p);
    const bool existed = table_.Get(k) != nullptr;
    if (!table_.Upsert(k, v)) return false;
    if (!existed) Count(scope, p, +1);
    return true;
  }
  // False if `p` was not in `scope`.
  bool Remove(uint32_t scope, const IpPrefix& p) {
    if (scope >= max_scopes_ || !table_.Remove(KeyOf(scope, p))) return false;
    Count(scope, p, -1);
    return true;
  }
  const Value* Get(uint32_t scope, const IpPrefix& p) const {
    return scope < max_scopes_ ? table_.Get(KeyOf(scope, p)) : nullptr;
  }
  // f(scope, prefix, value) for every entry.
  template <typename F>
  void ForEach(F&& f) const {
    table_.ForEach([&](const PrefixKey& k, const Value& v) { f(k.scope, IpPrefix{k.prefix, k.len}, v); });
  }

  uint32_t size() const { return table_.size(); }
  size_t pending_reclaim() const { return table_.pending_reclaim(); }
  void Reclaim() { table_.Reclaim(); }
  void Synchronize() { table_.Synchronize(); }
  // Memory: what readers touch, what the writer keeps, per scope.
  size_t TableBytes() const { return table_.TableBytes(); }
  size_t WriterBytes() const { return table_.WriterBytes() + counts_.capacity() * sizeof(Counts); }
  static constexpr size_t kPerScopeBytes = 32 + sizeof(uint32_t) * (33 + 129);

 private:
  struct Masks {
    std::atomic<uint64_t> v4{0};  // bit len set: some prefix of that length exists
    std::atomic<uint64_t> v6[3] = {0, 0, 0};
  };
  // Prefixes per family and length: IPv4 /0../32 at [0..32], IPv6 /0../128
  // at [33..161]. (One count per length for both families lost an IPv6
  // prefix whose length an IPv4 one of the scope already had.)
  static constexpr size_t kV6Counts = 33;
  using Counts = std::array<uint32_t, kV6Counts + 129>;

  static uint32_t MaskV4(uint32_t host, int len) noexcept {
    return len == 0 ? 0 : host & (~uint32_t{0} << (32 - len));
  }
  // The first `n` bits (0..64) of a word holding 8 address bytes in memory
  // order: the big-endian mask, byte-swapped to the word's order.
  static uint64_t Keep(uint64_t word, int n) noexcept {
    if (n <= 0) return 0;
    if (n >= 64) return word;
    return word & ByteSwap(~uint64_t{0} << (64 - n));
  }
  static PrefixKey KeyOf(uint32_t scope, const IpPrefix& p) {
    PrefixKey k;
    k.scope = scope;
    k.len = p.len;
    k.prefix = p.addr.Masked(p.len);
    return k;
  }
  void Count(uint32_t scope, const IpPrefix& p, int delta) {
    if (counts_.size() <= scope) counts_.resize(scope + 1, Counts{});
    uint32_t& count = counts_[scope][(p.addr.is_v4() ? 0 : kV6Counts) + p.len];
    const uint32_t before = count;
    count = static_cast<uint32_t>(static_cast<int>(count) + delta);
    if ((before == 0) == (count == 0)) return;
    Masks& m = masks_[scope];
    const uint64_t bit = uint64_t{1} << (p.len % 64);
    std::atomic<uint64_t>& word = p.addr.is_v4() ? m.v4 : m.v6[p.len / 64];
    if (count > 0) word.fetch_or(bit, std::memory_order_release);
    else word.fetch_and(~bit, std::memory_order_release);
  }

  RcuHashTable<PrefixKey, Value> table_;
  std::unique_ptr<Masks[]> masks_;
  uint32_t max_scopes_ = 0;
  std::vector<Counts> counts_;  // writer side, grown as scopes are used
};

}  // namespace hnv
