// Maglev's properties with the numbers: 100 backends, M = 65,537.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "nat/lb.h"
#include "nat/maglev.h"
#include "nat/model.h"

namespace hnv::nat {
namespace {

constexpr uint32_t kM = 65537;

std::vector<MaglevBackend> Backends(uint32_t n, uint32_t first = 1) {
  std::vector<MaglevBackend> b;
  for (uint32_t i = first; i < first + n; ++i) {
    const uint32_t addr = Be32::FromHost((10u << 24) | (1u << 16) | i).raw();
    b.push_back(MaglevBackend{MaglevId(addr, Be16::FromHost(8080).raw()), 1});
  }
  return b;
}

std::vector<uint32_t> Counts(const std::vector<uint16_t>& table, size_t n) {
  std::vector<uint32_t> c(n, 0);
  for (uint16_t e : table) {
    EXPECT_LT(e, n);
    if (e < n) ++c[e];
  }
  return c;
}

// The owner of each entry by backend identity (indexes shift when one goes).
std::vector<uint64_t> Owners(const std::vector<uint16_t>& table,
                             const std::vector<MaglevBackend>& b) {
  std::vector<uint64_t> o;
  o.reserve(table.size());
  for (uint16_t e : table) o.push_back(b[e].id);
  return o;
}

TEST(MaglevTest, Primes) {
  EXPECT_TRUE(IsPrime(65537));
  EXPECT_TRUE(IsPrime(251));
  EXPECT_TRUE(IsPrime(2));
  EXPECT_FALSE(IsPrime(65536));
  EXPECT_FALSE(IsPrime(1));
  EXPECT_FALSE(IsPrime(65535));
  EXPECT_TRUE(IsPrime(1000003));
}

TEST(MaglevTest, EqualWeightsShareEvenly) {
  const auto b = Backends(100);
  std::vector<uint16_t> t;
  BuildMaglev(b, kM, &t);
  ASSERT_EQ(t.size(), kM);
  const auto c = Counts(t, b.size());
  const double mean = static_cast<double>(kM) / 100;
  const auto [lo, hi] = std::minmax_element(c.begin(), c.end());
  EXPECT_LE(*hi / mean, 1.01) << "max/mean";
  EXPECT_GE(*lo / mean, 0.99) << "min/mean";
}

// Flows of the backends that stay: at most 1 % move when one backend goes,
// measured on the table (every entry is an equal share of the flow space)
// and on a million random flows.
TEST(MaglevTest, RemovingOneMovesFewOfTheOthersFlows) {
  const auto before = Backends(100);
  for (const size_t gone : {size_t{0}, size_t{37}, size_t{99}}) {
    auto after = before;
    after.erase(after.begin() + static_cast<long>(gone));
    std::vector<uint16_t> t1, t2;
    BuildMaglev(before, kM, &t1);
    BuildMaglev(after, kM, &t2);
    const auto o1 = Owners(t1, before), o2 = Owners(t2, after);
    uint32_t others = 0, moved = 0;
    for (uint32_t e = 0; e < kM; ++e) {
      if (o1[e] == before[gone].id) continue;
      ++others;
      moved += o1[e] != o2[e];
    }
    EXPECT_LE(static_cast<double>(moved) / others, 0.01) << moved << " of " << others;

    std::mt19937_64 rng(gone);
    uint64_t flows = 0, flows_moved = 0;
    for (int i = 0; i < 1'000'000; ++i) {
      const uint32_t e = MaglevEntry(rng(), kM);
      if (o1[e] == before[gone].id) continue;
      ++flows;
      flows_moved += o1[e] != o2[e];
    }
    EXPECT_LE(static_cast<double>(flows_moved) / flows, 0.01);
    // And the removed backend's flows are spread over the others.
    EXPECT_EQ(std::count(o2.begin(), o2.end(), before[gone].id), 0);
  }
}

TEST(MaglevTest, AddingOneMovesLittleBeyondItsShare) {
  const auto before = Backends(100);
  auto after = before;
  after.push_back(Backends(1, 200)[0]);
  std::vector<uint16_t> t1, t2;
  BuildMaglev(before, kM, &t1);
  BuildMaglev(after, kM, &t2);
  const auto o1 = Owners(t1, before), o2 = Owners(t2, after);
  uint32_t moved_between_old = 0, to_new = 0;
  for (uint32_t e = 0; e < kM; ++e) {
    if (o2[e] == after.back().id)
      ++to_new;
    else
      moved_between_old += o1[e] != o2[e];
  }
  EXPECT_NEAR(static_cast<double>(to_new) / kM, 1.0 / 101, 0.0005);
  EXPECT_LE(static_cast<double>(moved_between_old) / kM, 0.01);
}

// Each backend's share of the table is its weight's share, within 1 %.
TEST(MaglevTest, WeightsHonoured) {
  auto b = Backends(100);
  uint64_t total = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    b[i].weight = static_cast<uint32_t>(i % 4 + 1);
    total += b[i].weight;
  }
  std::vector<uint16_t> t;
  BuildMaglev(b, kM, &t);
  const auto c = Counts(t, b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    const double want = static_cast<double>(kM) * b[i].weight / total;
    EXPECT_NEAR(c[i] / want, 1.0, 0.01) << "backend " << i << " weight " << b[i].weight << ": "
                                        << c[i] << " entries, want " << want;
  }
  // A weight of 0 takes nothing; all 0: an empty table.
  b[5].weight = 0;
  BuildMaglev(b, kM, &t);
  EXPECT_EQ(Counts(t, b.size())[5], 0u);
  for (auto& x : b) x.weight = 0;
  BuildMaglev(b, kM, &t);
  EXPECT_TRUE(std::all_of(t.begin(), t.end(), [](uint16_t e) { return e == kMaglevEmpty; }));
}

TEST(MaglevTest, DeterministicAndSmallTables) {
  const auto b = Backends(7);
  std::vector<uint16_t> t1, t2;
  BuildMaglev(b, 251, &t1);
  BuildMaglev(b, 251, &t2);
  EXPECT_EQ(t1, t2);
  BuildMaglev(Backends(1), 251, &t1);
  EXPECT_TRUE(std::all_of(t1.begin(), t1.end(), [](uint16_t e) { return e == 0; }));
  // More backends than entries: every entry is taken, by distinct backends.
  BuildMaglev(Backends(300), 251, &t1);
  std::map<uint16_t, int> seen;
  for (uint16_t e : t1) ++seen[e];
  EXPECT_EQ(seen.size(), 251u);
}

// MaglevEntry maps hashes evenly onto 0..M-1.
TEST(MaglevTest, FlowHashesSpreadOverTheTable) {
  std::vector<uint32_t> hits(kM, 0);
  for (uint32_t c = 0; c < 1'000'000; ++c) {
    const uint64_t h = FlowHash(Proto::kTcp, Endpoint{c * 2654435761u, static_cast<uint16_t>(c)},
                                Endpoint{0x0a000001, 80});
    ++hits[MaglevEntry(h, kM)];
  }
  const auto [lo, hi] = std::minmax_element(hits.begin(), hits.end());
  EXPECT_GT(*lo, 0u);
  EXPECT_LT(*hi, 50u);  // mean 15.3: a Poisson tail, not a hot spot
}

}  // namespace
}  // namespace hnv::nat
