// RcuHashTable (dataplane/policy/rcu_hash.h): the same answers as a
// std::unordered_map over random operations, keys that overflow their
// bucket into the alternate bucket and the stash, a table that is full, and
// readers on another thread that never miss a key that stays and never see
// a value of another key while the writer churns the same buckets.
#include <gtest/gtest.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "dataplane/policy/rcu_hash.h"

namespace hnv {
namespace {

struct TestKey {
  uint32_t a = 0;
  uint32_t b = 0;
  uint32_t c = 0;
  uint32_t d = 0;
};
struct TestValue {
  uint64_t check = 0;  // CheckOf(key): proves the value belongs to the key
  uint64_t version = 0;
};

uint64_t CheckOf(const TestKey& k) {
  return (uint64_t{k.a} * 0x9e3779b97f4a7c15ull) ^ (uint64_t{k.b} << 32 | k.c) ^ k.d;
}
uint64_t Id(const TestKey& k) { return uint64_t{k.a} << 32 | k.b; }
TestKey KeyOf(uint64_t id) { return TestKey{static_cast<uint32_t>(id >> 32), static_cast<uint32_t>(id), 7, 9}; }

using Table = RcuHashTable<TestKey, TestValue>;

class RcuHashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    qsv_ = static_cast<rte_rcu_qsbr*>(
        rte_zmalloc("rcu_hash_qsv", rte_rcu_qsbr_get_memsize(2), RTE_CACHE_LINE_SIZE));
    ASSERT_NE(qsv_, nullptr);
    rte_rcu_qsbr_init(qsv_, 2);
  }
  void TearDown() override { rte_free(qsv_); }

  std::unique_ptr<Table> Make(uint32_t capacity) {
    auto t = std::make_unique<Table>();
    std::string error;
    EXPECT_TRUE(t->Init("rcu_hash_test", capacity, qsv_, &error)) << error;
    return t;
  }

  rte_rcu_qsbr* qsv_ = nullptr;
};

TEST_F(RcuHashTest, AgreesWithAMapOverRandomOperations) {
  auto t = Make(3000);
  std::unordered_map<uint64_t, TestValue> model;
  std::mt19937_64 rng(42);
  uint64_t version = 0;
  for (int op = 0; op < 200'000; ++op) {
    const uint64_t id = rng() % 4000;  // more keys than capacity: the table fills
    const TestKey k = KeyOf(id);
    switch (rng() % 3) {
      case 0: {
        const TestValue v{CheckOf(k), ++version};
        const bool full = !model.count(id) && model.size() >= 3000;
        ASSERT_EQ(t->Upsert(k, v), !full) << "op " << op;
        if (!full) model[id] = v;
        break;
      }
      case 1:
        ASSERT_EQ(t->Remove(k), model.erase(id) == 1) << "op " << op;
        break;
      default: {
        const TestValue* v = t->Find(k);
        auto it = model.find(id);
        ASSERT_EQ(v != nullptr, it != model.end()) << "op " << op;
        if (v != nullptr) {
          ASSERT_EQ(v->version, it->second.version);
        }
      }
    }
    if (op % 1000 == 0) t->Reclaim();
  }
  ASSERT_EQ(t->size(), model.size());
  // Every entry once, with its value; bulk lookups agree with single ones.
  std::map<uint64_t, uint64_t> seen;
  t->ForEach([&](const TestKey& k, const TestValue& v) { seen[Id(k)] = v.version; });
  ASSERT_EQ(seen.size(), model.size());
  for (const auto& [id, v] : model) ASSERT_EQ(seen[id], v.version);
  for (uint64_t base = 0; base < 4000; base += 64) {
    KeyWords<TestKey> kw[64];
    const TestValue* out[64];
    for (uint32_t i = 0; i < 64; ++i) kw[i] = KeyWords<TestKey>::Of(KeyOf(base + i));
    t->FindBulk(kw, 64, out);
    for (uint32_t i = 0; i < 64; ++i) {
      auto it = model.find(base + i);
      ASSERT_EQ(out[i] != nullptr, it != model.end()) << base + i;
      if (out[i] != nullptr) {
        EXPECT_EQ(out[i]->version, it->second.version);
      }
    }
  }
  t->Synchronize();
  EXPECT_EQ(t->pending_reclaim(), 0u);
}

TEST_F(RcuHashTest, KeysOfOneBucketSpillToTheAlternateAndTheStashThenTheTableIsFull) {
  // capacity 100: a pool of 189 slots, 64 buckets.
  auto t = Make(100);
  ASSERT_EQ(t->bucket_count(), 64u);
  // 84 keys with the same primary AND the same alternate bucket: 10 fit in
  // each bucket, the other 64 in the stash; the 85th finds no room.
  std::vector<TestKey> keys;
  uint32_t alternate = t->bucket_count();  // that of the first key found with primary 5
  for (uint64_t id = 0; keys.size() < 85; ++id) {
    ASSERT_LT(id, 10'000'000u) << "could not build colliding keys";
    const TestKey k = KeyOf(id);
    const auto [p, a] = t->BucketsOf(k);
    if (p != 5) continue;
    if (alternate == t->bucket_count()) alternate = a;
    if (a == alternate) keys.push_back(k);
  }
  for (uint32_t i = 0; i < 84; ++i)
    ASSERT_TRUE(t->Upsert(keys[i], TestValue{CheckOf(keys[i]), i})) << "key " << i;
  EXPECT_EQ(t->displaced(), 74u);  // 10 in the alternate, 64 in the stash
  EXPECT_EQ(t->stashed(), 64u);
  EXPECT_FALSE(t->Upsert(keys[84], TestValue{CheckOf(keys[84]), 84})) << "no room left";
  EXPECT_EQ(t->size(), 84u);
  for (uint32_t i = 0; i < 84; ++i) {
    const TestValue* v = t->Find(keys[i]);
    ASSERT_NE(v, nullptr) << "key " << i;
    EXPECT_EQ(v->version, i);
  }
  EXPECT_EQ(t->Find(keys[84]), nullptr);
  // Bulk lookups find them in all three places.
  KeyWords<TestKey> kw[64];
  const TestValue* out[64];
  for (uint32_t i = 0; i < 64; ++i) kw[i] = KeyWords<TestKey>::Of(keys[20 + i]);
  t->FindBulk(kw, 64, out);
  for (uint32_t i = 0; i < 64; ++i) {
    ASSERT_NE(out[i], nullptr) << "key " << 20 + i;
    EXPECT_EQ(out[i]->version, 20 + i);
  }
  // Removing a key of the primary bucket makes room there; the counts follow.
  ASSERT_TRUE(t->Remove(keys[0]));
  ASSERT_TRUE(t->Remove(keys[83]));  // from the stash
  EXPECT_EQ(t->stashed(), 63u);
  EXPECT_EQ(t->displaced(), 73u);
  ASSERT_TRUE(t->Upsert(keys[84], TestValue{CheckOf(keys[84]), 84}));
  EXPECT_EQ(t->displaced(), 73u) << "the new key went to its primary bucket";
  // Updates in every place keep the key where it is.
  for (uint32_t i = 1; i < 83; ++i) ASSERT_TRUE(t->Upsert(keys[i], TestValue{CheckOf(keys[i]), 1000 + i}));
  for (uint32_t i = 1; i < 83; ++i) ASSERT_EQ(t->Find(keys[i])->version, 1000 + i);
  EXPECT_EQ(t->stashed(), 63u);
  for (uint32_t i = 1; i < 83; ++i) ASSERT_TRUE(t->Remove(keys[i]));
  ASSERT_TRUE(t->Remove(keys[84]));
  EXPECT_EQ(t->size(), 0u);
  EXPECT_EQ(t->displaced(), 0u);
  EXPECT_EQ(t->stashed(), 0u);
}

TEST_F(RcuHashTest, ReadersNeverMissAStayingKeyNorSeeAnotherKeysValueWhileTheWriterChurns) {
  // A small table: stable keys stay (their values change), churn keys are
  // added and removed all the time in the same buckets, so entries are
  // reused at once and slots only after grace periods.
  constexpr uint32_t kStable = 600;
  constexpr uint32_t kChurn = 1200;
  auto t = Make(kStable + kChurn);
  for (uint32_t i = 0; i < kStable; ++i)
    ASSERT_TRUE(t->Upsert(KeyOf(i), TestValue{CheckOf(KeyOf(i)), 0}));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0}, missing{0}, foreign{0}, phantom{0};
  std::thread reader([&] {
    ASSERT_EQ(rte_rcu_qsbr_thread_register(qsv_, 1), 0);
    rte_rcu_qsbr_thread_online(qsv_, 1);
    KeyWords<TestKey> kw[32];
    const TestValue* out[32];
    uint32_t next = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (uint32_t i = 0; i < 32; ++i) kw[i] = KeyWords<TestKey>::Of(KeyOf((next + i) % kStable));
      t->FindBulk(kw, 32, out);
      for (uint32_t i = 0; i < 32; ++i) {
        const TestKey k = KeyOf((next + i) % kStable);
        if (out[i] == nullptr) ++missing;
        else if (out[i]->check != CheckOf(k)) ++foreign;
      }
      // Keys never inserted: never found.
      const TestKey absent = KeyOf(1'000'000 + next);
      if (t->Find(absent) != nullptr) ++phantom;
      const TestKey stable = KeyOf(next % kStable);
      const TestValue* v = t->Find(stable);
      if (v == nullptr) ++missing;
      else if (v->check != CheckOf(stable)) ++foreign;
      lookups += 34;
      next += 32;
      rte_rcu_qsbr_quiescent(qsv_, 1);
    }
    rte_rcu_qsbr_thread_offline(qsv_, 1);
    rte_rcu_qsbr_thread_unregister(qsv_, 1);
  });
  std::mt19937 rng(7);
  uint64_t writes = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (std::chrono::steady_clock::now() < until && writes < 5'000'000) {
    for (int j = 0; j < 256; ++j, ++writes) {
      const uint32_t r = rng();
      if (r % 4 == 0) {
        const TestKey k = KeyOf(r % kStable);
        if (!t->Upsert(k, TestValue{CheckOf(k), writes})) t->Synchronize();
      } else {
        const TestKey k = KeyOf(kStable + r % kChurn);
        if (r % 2 == 0) {
          if (!t->Upsert(k, TestValue{CheckOf(k), writes})) t->Synchronize();
        } else {
          t->Remove(k);
        }
      }
    }
    t->Reclaim();
  }
  stop = true;
  reader.join();
  EXPECT_GT(lookups.load(), 10'000u) << "the reader did not run";
  EXPECT_GT(writes, 10'000u);
  EXPECT_EQ(missing.load(), 0u) << "a key that stayed was not found";
  EXPECT_EQ(foreign.load(), 0u) << "a lookup returned another key's value";
  EXPECT_EQ(phantom.load(), 0u) << "a key never inserted was found";
  for (uint32_t i = 0; i < kStable; ++i) ASSERT_NE(t->Find(KeyOf(i)), nullptr);
  t->Synchronize();
  EXPECT_EQ(t->pending_reclaim(), 0u);
}


// The big tables' memory: zeroed, aligned, and on 2 MiB pages unless the
// kernel's transparent huge pages are off ("never"); small ones on 4 KiB.
size_t AnonHugeKiB(const void* addr) {
  FILE* f = std::fopen("/proc/self/smaps", "r");
  if (f == nullptr) return 0;
  char line[512];
  bool in = false;
  size_t kib = 0;
  const auto a = reinterpret_cast<uintptr_t>(addr);
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && std::strchr(line, '-') < std::strchr(line, ' ')) {
      in = a >= lo && a < hi;
      continue;
    }
    if (in && std::sscanf(line, "AnonHugePages: %zu kB", &kib) == 1) break;
  }
  std::fclose(f);
  return in ? kib : 0;
}

TEST(HugeRegionTest, BigRegionsAreOnHugePagesSmallOnesAreNot) {
  std::string mode;
  if (FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r"); f != nullptr) {
    char buf[128] = {};
    if (std::fgets(buf, sizeof(buf), f) != nullptr) mode = buf;
    std::fclose(f);
  }
  HugeRegion big;
  ASSERT_TRUE(big.Allocate(size_t{9} << 20));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big.data()) % HugeRegion::kHugePage, 0u);
  const auto* b = static_cast<const unsigned char*>(big.data());
  for (size_t i = 0; i < big.bytes(); i += 4096) ASSERT_EQ(b[i], 0) << i;
  if (mode.find("[never]") != std::string::npos) {
    EXPECT_EQ(AnonHugeKiB(big.data()), 0u);
  } else {
    EXPECT_GE(AnonHugeKiB(big.data()), 2048u) << "no 2 MiB page behind a 9 MiB table (THP: " << mode << ")";
  }
  HugeRegion small;
  ASSERT_TRUE(small.Allocate(100'000));
  EXPECT_EQ(AnonHugeKiB(small.data()), 0u);
  EXPECT_EQ(static_cast<const unsigned char*>(small.data())[99'999], 0);
}

}  // namespace
}  // namespace hnv
