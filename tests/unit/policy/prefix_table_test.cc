// PrefixTable (dataplane/policy/prefix_table.h): the longest prefix of the
// right scope, for IPv4 and IPv6, against a brute-force reference over
// random prefixes and changes; the bulk IPv4 lookup agrees with the single
// one; a length's mask bit goes with the last prefix of that length (of its
// family) and scopes never see each other's prefixes.
#include <gtest/gtest.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <map>
#include <random>
#include <vector>

#include "dataplane/policy/prefix_table.h"

namespace hnv {
namespace {

class PrefixTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    qsv_ = static_cast<rte_rcu_qsbr*>(
        rte_zmalloc("prefix_table_qsv", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE));
    ASSERT_NE(qsv_, nullptr);
    rte_rcu_qsbr_init(qsv_, 1);
    std::string error;
    ASSERT_TRUE(table_.Init("prefix_table_test", 8192, 16, qsv_, &error)) << error;
  }
  void TearDown() override {
    table_.Synchronize();
    rte_free(qsv_);
  }

  // The reference: the longest prefix of `scope` holding `a`.
  const uint32_t* Reference(uint32_t scope, const IpAddr& a) const {
    const uint32_t* best = nullptr;
    int best_len = -1;
    for (const auto& [key, value] : ref_) {
      const auto& [s, p] = key;
      if (s != scope || p.addr.family != a.family || a.Masked(p.len) != p.addr) continue;
      if (p.len > best_len) {
        best = &value;
        best_len = p.len;
      }
    }
    return best;
  }
  void Expect(uint32_t scope, const IpAddr& a) const {
    const uint32_t* want = Reference(scope, a);
    const uint32_t* got = table_.Find(scope, a);
    ASSERT_EQ(want == nullptr, got == nullptr) << "scope " << scope << " " << a.ToString();
    if (want != nullptr) {
      EXPECT_EQ(*want, *got) << "scope " << scope << " " << a.ToString();
    }
  }

  rte_rcu_qsbr* qsv_ = nullptr;
  PrefixTable<uint32_t> table_;
  std::map<std::pair<uint32_t, IpPrefix>, uint32_t> ref_;
};

IpAddr V6(std::array<uint8_t, 16> b) { return IpAddr::V6Raw(b.data()); }

IpAddr RandomV6(std::mt19937& rng) {
  std::array<uint8_t, 16> b{};
  // Few distinct high bits so that prefixes of many lengths overlap.
  b[0] = 0x20;
  b[1] = 0x01;
  for (size_t i = 2; i < 16; ++i) b[i] = static_cast<uint8_t>(rng() % 4);
  return V6(b);
}

TEST_F(PrefixTableTest, LongestPrefixAgainstReferenceBothFamilies) {
  std::mt19937 rng(7);
  for (int step = 0; step < 6000; ++step) {
    const uint32_t scope = rng() % 4;
    const bool v4 = rng() % 2 == 0;
    const IpAddr a = v4 ? IpAddr::V4(0x0a000000u | (rng() % 4) << 16 | (rng() % 4) << 8 | rng() % 4)
                        : RandomV6(rng);
    const uint8_t len = static_cast<uint8_t>(rng() % ((v4 ? 32 : 128) + 1));
    const IpPrefix p{a.Masked(len), len};
    if (rng() % 3 == 0) {
      const bool had = ref_.erase({scope, p}) == 1;
      EXPECT_EQ(table_.Remove(scope, p), had);
    } else {
      const uint32_t v = static_cast<uint32_t>(step);
      ASSERT_TRUE(table_.Upsert(scope, p, v));
      ref_[{scope, p}] = v;
    }
    if (step % 50 == 0) table_.Reclaim();
    // Probe addresses near what the table holds, in every scope.
    for (int probe = 0; probe < 4; ++probe) {
      const bool pv4 = rng() % 2 == 0;
      Expect(rng() % 5, pv4 ? IpAddr::V4(0x0a000000u | (rng() % 4) << 16 | (rng() % 4) << 8 | rng() % 4)
                            : RandomV6(rng));
    }
  }
  EXPECT_EQ(table_.size(), ref_.size());
  size_t seen = 0;
  table_.ForEach([&](uint32_t scope, const IpPrefix& p, uint32_t v) {
    ++seen;
    auto it = ref_.find({scope, p});
    ASSERT_NE(it, ref_.end()) << p.ToString();
    EXPECT_EQ(it->second, v);
  });
  EXPECT_EQ(seen, ref_.size());
}

TEST_F(PrefixTableTest, BulkV4AgreesWithSingleLookups) {
  std::mt19937 rng(11);
  for (int i = 0; i < 400; ++i) {
    const uint8_t len = static_cast<uint8_t>(rng() % 33);
    const IpAddr a = IpAddr::V4(0xc0a80000u | (rng() & 0xffffu));
    ASSERT_TRUE(table_.Upsert(3, IpPrefix{a.Masked(len), len}, static_cast<uint32_t>(i)));
  }
  uint32_t dst[PrefixTable<uint32_t>::kMaxBulk];
  const uint32_t* out[PrefixTable<uint32_t>::kMaxBulk];
  for (int round = 0; round < 50; ++round) {
    const uint32_t n = 1 + rng() % PrefixTable<uint32_t>::kMaxBulk;
    for (uint32_t i = 0; i < n; ++i) dst[i] = (rng() % 2 ? 0xc0a80000u : 0x0a000000u) | (rng() & 0xffffu);
    table_.FindV4Bulk(3, dst, n, out);
    for (uint32_t i = 0; i < n; ++i) {
      EXPECT_EQ(out[i], table_.Find(3, IpAddr::V4(dst[i]))) << i;
    }
  }
}

TEST_F(PrefixTableTest, DefaultRoutesHostRoutesAndScopesApart) {
  const IpPrefix v4_default{IpAddr::V4(0), 0};
  const IpPrefix v6_default{V6({}), 0};
  const IpPrefix host{IpAddr::V4(0x0a000105u), 32};
  ASSERT_TRUE(table_.Upsert(1, v4_default, 1));
  ASSERT_TRUE(table_.Upsert(1, host, 2));
  ASSERT_TRUE(table_.Upsert(2, v6_default, 3));
  EXPECT_EQ(*table_.Find(1, IpAddr::V4(0x08080808u)), 1u);
  EXPECT_EQ(*table_.Find(1, IpAddr::V4(0x0a000105u)), 2u);
  EXPECT_EQ(table_.Find(1, V6({})), nullptr);  // scope 1 has no IPv6 default
  EXPECT_EQ(table_.Find(2, IpAddr::V4(0x08080808u)), nullptr);
  EXPECT_EQ(*table_.Find(2, V6({})), 3u);
  EXPECT_EQ(table_.Find(99, IpAddr::V4(0x08080808u)), nullptr);  // beyond max_scopes
  EXPECT_FALSE(table_.Upsert(16, host, 4));
  // An IPv6 /32 of scope 1 must not clear IPv4 /32's bit when it goes.
  const IpPrefix v6_32{V6({0x20, 0x01, 0x0d, 0xb8}), 32};
  ASSERT_TRUE(table_.Upsert(1, v6_32, 5));
  ASSERT_TRUE(table_.Remove(1, v6_32));
  EXPECT_EQ(*table_.Find(1, IpAddr::V4(0x0a000105u)), 2u);
  ASSERT_TRUE(table_.Remove(1, host));
  EXPECT_EQ(*table_.Find(1, IpAddr::V4(0x0a000105u)), 1u);
  EXPECT_FALSE(table_.Remove(1, host));
}

}  // namespace
}  // namespace hnv
