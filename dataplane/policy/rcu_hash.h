// RcuHashTable: a fixed-capacity map from a trivially copyable Key to an
// immutable Value, read by workers without locks while one control thread
// writes it.
//
// Theory of operation: keys live in an rte_hash created with lock-free
// reader/writer concurrency (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF) and
// extendable buckets, so a reader never blocks and never sees a torn entry.
// The hash stores a pointer to a Value slot in a pool sized at creation. A
// write never changes a slot a reader may hold: Upsert fills a fresh slot and
// swaps the pointer atomically; the old slot, like the key position of a
// removed key, is handed back only after an RCU grace period
// (rte_rcu_qsbr: every registered worker has reported a quiescent state since
// the change). Reclaim() does that hand-back and is called by the writer.
// A full table is an error returned to the writer, never an allocation.
//
// Thread contract: Find/FindBulk from any registered reader; everything else
// from the single writer thread only.
#pragma once

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace hnv {

// A key assembled by the reader in 64-bit words (registers), hashed from
// those words, and handed to rte_hash through word-sized stores. A key
// written field by field and read back at once by rte_hash's wider loads
// (8-byte CRC steps, 16-byte compares) cannot be store-forwarded: each such
// load waits until the stores reach the cache, i.e. until every older
// instruction has retired, including the previous packet's cache misses.
// That serialises lookups: PolicyTables::FindCa took 31 ns in cache and
// 438 ns at a million records that way, 9 and 72 ns with KeyWords
// (tests/bench, BM_FindCa). Same bytes, same hash: behaviour is unchanged.
template <typename Key>
struct KeyWords {
  static_assert(sizeof(Key) % 4 == 0);
  uint64_t w[(sizeof(Key) + 7) / 8] = {};

  // rte_hash_crc(&key, sizeof(Key), 0), the tables' hash function.
  uint32_t Hash() const noexcept {
    uint32_t h = 0;
    for (size_t i = 0; i < sizeof(Key) / 8; ++i) h = rte_hash_crc_8byte(w[i], h);
    if constexpr (sizeof(Key) % 8 != 0)
      h = rte_hash_crc_4byte(static_cast<uint32_t>(w[sizeof(Key) / 8]), h);
    return h;
  }
};

template <typename Key, typename Value>
class RcuHashTable {
  static_assert(std::is_trivially_copyable_v<Key> && std::is_trivially_copyable_v<Value>);

 public:
  RcuHashTable() = default;
  RcuHashTable(const RcuHashTable&) = delete;
  RcuHashTable& operator=(const RcuHashTable&) = delete;
  ~RcuHashTable() {
    if (hash_ != nullptr) rte_hash_free(hash_);
  }

  // Creates the table for `capacity` keys. `name` must be unique in the process.
  bool Init(const std::string& name, uint32_t capacity, rte_rcu_qsbr* qsv, std::string* error) {
    qsv_ = qsv;
    capacity_ = capacity;
    // Headroom: replaced values and removed keys stay taken until their grace
    // period ends, so a full table can still be updated.
    const uint32_t pool = capacity + capacity / 4 + 64;
    rte_hash_parameters params{};
    params.name = name.c_str();
    params.entries = pool;
    params.key_len = sizeof(Key);
    params.hash_func = rte_hash_crc;  // KeyWords::Hash computes the same
    params.hash_func_init_val = 0;
    params.socket_id = SOCKET_ID_ANY;
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    hash_ = rte_hash_create(&params);
    if (hash_ == nullptr) {
      *error = "rte_hash_create(" + name + ", " + std::to_string(capacity) +
               ") failed: " + rte_strerror(rte_errno);
      return false;
    }
    pool_ = pool;
    slots_ = std::make_unique<Value[]>(pool);
    free_slots_.reserve(pool);
    for (uint32_t i = pool; i > 0; --i) free_slots_.push_back(i - 1);
    return true;
  }

  // Reader side. The returned pointer is valid until the reader's next
  // quiescent state.
  const Value* Find(const Key& key) const noexcept {
    void* data = nullptr;
    if (rte_hash_lookup_data(hash_, &key, &data) < 0) return nullptr;
    return static_cast<const Value*>(data);
  }

  // As Find, for a key assembled in words (see KeyWords).
  const Value* Find(const KeyWords<Key>& kw) const noexcept {
    alignas(8) unsigned char key[sizeof(Key)];
    std::memcpy(key, kw.w, sizeof(Key));
    void* data = nullptr;
    if (rte_hash_lookup_with_hash_data(hash_, key, kw.Hash(), &data) < 0) return nullptr;
    return static_cast<const Value*>(data);
  }

  // As Find, for n keys assembled in words (n <= RTE_HASH_LOOKUP_BULK_MAX);
  // misses give nullptr; each value found is prefetched (it lives in a
  // separate pool: one more miss). A table of kBulkFrom keys or more is
  // searched with one rte_hash bulk lookup: the buckets and key slots of all
  // n keys are fetched before any is compared, so their cache misses overlap
  // instead of following one another (at 1,000,000 records: encap 200 ->
  // 115 ns, decap 700 -> 150 ns per packet). A smaller table stays in the
  // caches, where the bulk lookup's extra passes cost more than they save
  // (~5 ns per key at 1,000 records): its keys are looked up one after the
  // other, still all before the caller uses any result.
  static constexpr uint32_t kBulkFrom = 16384;
  void FindBulk(const KeyWords<Key>* kw, uint32_t n, const Value** out) const noexcept {
    void* data[RTE_HASH_LOOKUP_BULK_MAX];
    if (size_.load(std::memory_order_relaxed) < kBulkFrom) {
      for (uint32_t i = 0; i < n; ++i) {
        data[i] = nullptr;
        rte_hash_lookup_with_hash_data(hash_, kw[i].w, kw[i].Hash(), &data[i]);
      }
      for (uint32_t i = 0; i < n; ++i) {
        out[i] = static_cast<const Value*>(data[i]);
        if (out[i] != nullptr) rte_prefetch0(out[i]);
      }
      return;
    }
    const void* keys[RTE_HASH_LOOKUP_BULK_MAX];
    hash_sig_t sigs[RTE_HASH_LOOKUP_BULK_MAX];
    for (uint32_t i = 0; i < n; ++i) {
      keys[i] = kw[i].w;  // the Key's bytes, in order (little-endian words)
      sigs[i] = kw[i].Hash();
    }
    uint64_t hits = 0;
    rte_hash_lookup_with_hash_bulk_data(hash_, keys, sigs, n, &hits, data);
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = (hits >> i) & 1 ? static_cast<const Value*>(data[i]) : nullptr;
      if (out[i] != nullptr) rte_prefetch0(out[i]);
    }
  }

  // Looks up n keys (n <= RTE_HASH_LOOKUP_BULK_MAX); misses give nullptr.
  void FindBulk(const Key* const* keys, uint32_t n, const Value** out) const noexcept {
    void* data[RTE_HASH_LOOKUP_BULK_MAX];
    uint64_t hits = 0;
    rte_hash_lookup_bulk_data(hash_, reinterpret_cast<const void**>(const_cast<const Key**>(keys)),
                              n, &hits, data);
    for (uint32_t i = 0; i < n; ++i)
      out[i] = (hits >> i) & 1 ? static_cast<const Value*>(data[i]) : nullptr;
  }

  // Writer side. Inserts or replaces; false when the table is full.
  bool Upsert(const Key& key, const Value& value) {
    void* old = nullptr;
    const bool existed = rte_hash_lookup_data(hash_, &key, &old) >= 0;
    if (!existed && size() >= capacity_) return false;
    if (free_slots_.empty()) Reclaim();
    if (free_slots_.empty()) return false;
    const uint32_t slot = free_slots_.back();
    slots_[slot] = value;
    if (rte_hash_add_key_data(hash_, &key, &slots_[slot]) != 0) {
      Reclaim();  // key positions may be waiting for a grace period
      if (rte_hash_add_key_data(hash_, &key, &slots_[slot]) != 0) return false;
    }
    free_slots_.pop_back();
    if (existed) {
      Defer(SlotOf(old), -1);
    } else {
      size_.store(size() + 1, std::memory_order_relaxed);
    }
    return true;
  }

  // Removes the key; false if it was not there.
  bool Remove(const Key& key) {
    void* old = nullptr;
    if (rte_hash_lookup_data(hash_, &key, &old) < 0) return false;
    const int32_t pos = rte_hash_del_key(hash_, &key);
    if (pos < 0) return false;
    Defer(SlotOf(old), pos);
    size_.store(size() - 1, std::memory_order_relaxed);
    return true;
  }

  // Writer-side read of the current value (no grace-period concerns).
  const Value* Get(const Key& key) const { return Find(key); }

  // Returns to the pools what no reader can still hold. Cheap when idle.
  void Reclaim() {
    while (!deferred_.empty()) {
      const Deferred& d = deferred_.front();
      if (rte_rcu_qsbr_check(qsv_, d.token, false) != 1) break;
      if (d.position >= 0) rte_hash_free_key_with_position(hash_, d.position);
      free_slots_.push_back(d.slot);
      deferred_.pop_front();
    }
  }
  // Waits for a grace period, then reclaims everything pending.
  void Synchronize() {
    if (deferred_.empty()) return;
    rte_rcu_qsbr_synchronize(qsv_, RTE_QSBR_THRID_INVALID);
    Reclaim();
  }

  // Iterates all current entries (writer side).
  template <typename F>
  void ForEach(F&& f) const {
    const void* key;
    void* data;
    uint32_t next = 0;
    while (rte_hash_iterate(hash_, &key, &data, &next) >= 0)
      f(*static_cast<const Key*>(key), *static_cast<const Value*>(data));
  }

  uint32_t size() const { return size_.load(std::memory_order_relaxed); }
  uint32_t capacity() const { return capacity_; }
  size_t pending_reclaim() const { return deferred_.size(); }
  rte_hash* raw() const { return hash_; }
  // Bytes of the value pool; the rte_hash's own memory is measured by the
  // caller from the DPDK heap (it has no accessor).
  size_t ValuePoolBytes() const {
    return (sizeof(Value) + sizeof(uint32_t)) * pool_;
  }

 private:
  struct Deferred {
    uint64_t token;
    uint32_t slot;
    int32_t position;  // rte_hash key position to free, or -1
  };
  uint32_t SlotOf(void* p) const {
    return static_cast<uint32_t>(static_cast<Value*>(p) - slots_.get());
  }
  void Defer(uint32_t slot, int32_t position) {
    deferred_.push_back({rte_rcu_qsbr_start(qsv_), slot, position});
  }

  rte_hash* hash_ = nullptr;
  rte_rcu_qsbr* qsv_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t pool_ = 0;
  std::atomic<uint32_t> size_{0};  // written by the writer, read by FindBulk
  std::unique_ptr<Value[]> slots_;
  std::vector<uint32_t> free_slots_;
  std::deque<Deferred> deferred_;
};

}  // namespace hnv
