// FlowIndex against a std::unordered_map model: random inserts, finds and
// erases; and filled to the entries it was sized for, with random and with
// structured (NAT-like) keys, without a single failed insertion.
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include "dataplane/flow/flow_index.h"
#include "dataplane/flow/hash.h"

namespace hnv::nat {
namespace {

TEST(FlowIndexTest, AgreesWithAMap) {
  FlowIndex fi;
  ASSERT_TRUE(fi.Init(20000));
  std::unordered_map<uint32_t, uint64_t> model;  // value -> hash
  std::mt19937_64 rng(11);
  uint32_t next = 0;
  for (int op = 0; op < 200000; ++op) {
    const int what = static_cast<int>(rng() % 3);
    if (what == 0 && model.size() < 18000) {
      const uint64_t h = rng() & (op % 5 == 0 ? 0xffff00000000ffffull : ~0ull);  // collisions too
      ASSERT_TRUE(fi.Insert(h, next)) << op;
      model[next++] = h;
    } else if (what == 1 && !model.empty()) {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % std::min<size_t>(model.size(), 64)));
      ASSERT_TRUE(fi.Erase(it->second, it->first));
      EXPECT_EQ(fi.Find(it->second, [&](uint32_t v) { return v == it->first; }), FlowIndex::kNone);
      model.erase(it);
    } else if (!model.empty()) {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % std::min<size_t>(model.size(), 64)));
      EXPECT_EQ(fi.Find(it->second, [&](uint32_t v) { return v == it->first; }), it->first);
    }
    ASSERT_EQ(fi.size(), model.size());
  }
  for (const auto& [v, h] : model)
    ASSERT_EQ(fi.Find(h, [&, v = v](uint32_t x) { return x == v; }), v);
}

TEST(FlowIndexTest, FillsToItsSizeWithoutFailure) {
  constexpr uint32_t kN = 1 << 20;
  for (const int kind : {0, 1}) {
    FlowIndex fi;
    ASSERT_TRUE(fi.Init(kN));
    std::mt19937_64 rng(kind);
    const HashSeed seed = HashSeed::From(99);
    uint32_t failed = 0;
    for (uint32_t i = 0; i < kN; ++i) {
      // kind 1: NAT-like keys (4,096 hosts x ports x 4 remotes), seeded mix.
      const uint64_t h = kind == 0 ? rng()
                                   : Mix2(uint64_t{0x0a000000u + i / 4 % 4096} << 32 |
                                              (0xcb007100u + i % 4),
                                          uint64_t{1024 + i / 16384} << 32 | 53u << 16 | 1,
                                          seed);
      failed += !fi.Insert(h, i);
    }
    EXPECT_EQ(failed, 0u) << (kind ? "structured" : "random") << " keys";
    EXPECT_EQ(fi.size(), kN - failed);
  }
}

}  // namespace
}  // namespace hnv::nat
