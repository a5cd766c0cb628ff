// The stages' per-burst lookups above RcuHashTable::kBulkFrom keys, where
// they switch from one lookup per frame to the table's bulk lookup
// (rcu_hash.h FindBulk); the other unit tests use small tables and only
// reach the per-frame branch. Host 1 with 20,000 remote records on VSID 6010
// (10.16.0.0/16, 50 remote PAs) and a local VM there; every burst mixes
// known and unknown destinations, so the verdict of each frame, and the
// order of what leaves, must be what one lookup per frame would give.
#include <gtest/gtest.h>

#include <random>

#include "tests/unit/pipeline/big_vsid.h"

namespace hnv::test::pipe {
namespace {

constexpr uint32_t kRecords = kBigRecords;
constexpr uint16_t kLocalPort = 5;
const MacAddr kLocalMac = Mac("601060100001");
const IpAddr kLocalCa = Ip("10.16.255.250");

Policy BigHost1() { return Host1WithBigVsid({{"Local6010", kLocalPort, kLocalMac, kLocalCa}}); }

struct Outer {
  IpAddr dst;
  uint32_t vsid = 0;
  Frame inner;
};
// The outer IPv4 destination, the VSID and the inner frame of an NVGRE frame
// from the harness (untagged PA): Ethernet 14 + IPv4 20 + GRE 8.
Outer Decode(const Frame& f) {
  Outer o;
  if (f.size() < 42) return o;
  o.dst = IpAddr::V4Raw(f.data() + 30);
  o.vsid = uint32_t{f[38]} << 16 | uint32_t{f[39]} << 8 | f[40];
  o.inner.assign(f.begin() + 42, f.end());
  return o;
}

class BulkLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = std::make_unique<PipelineHarness>(BigHost1(), BigLimits());
    h_->ResolveNeighbors(kRouterMac);
    ASSERT_TRUE(h_->tables().L2BulkPays()) << "the table is too small to reach the bulk branch";
  }
  std::unique_ptr<PipelineHarness> h_;
  std::mt19937 rng_{6010};
};

TEST_F(BulkLookupTest, SwitchedToRemoteMacsInOrder) {
  std::uniform_int_distribution<uint32_t> pick(0, kRecords - 1);
  for (int round = 0; round < 20; ++round) {
    std::vector<Frame> in;
    std::vector<int> want;  // record index, or -1 for an unknown MAC (dropped)
    for (int k = 0; k < 32; ++k) {
      const bool known = k % 5 != 3;
      const uint32_t i = pick(rng_);
      const MacAddr dst = known ? BigMac(i) : MacAddr{{0x60, 0x10, 0x7f, 0, 0, static_cast<uint8_t>(k)}};
      in.push_back(Ping(dst, kLocalMac, kLocalCa, BigCa(i)));
      want.push_back(known ? static_cast<int>(i) : -1);
    }
    h_->ResetCounters();
    const auto tx = h_->RunBurst(kLocalPort, in);
    size_t t = 0;
    for (size_t k = 0; k < in.size(); ++k) {
      if (want[k] < 0) continue;
      ASSERT_LT(t, tx.size()) << "round " << round << " frame " << k << ": nothing left";
      const Outer o = Decode(tx[t].bytes);
      EXPECT_EQ(tx[t].port, kUplink);
      EXPECT_EQ(o.dst, BigPa(static_cast<uint32_t>(want[k]))) << "round " << round << " frame " << k;
      EXPECT_EQ(o.vsid, kVsid6010);
      EXPECT_EQ(o.inner, in[k]) << "round " << round << " frame " << k;
      ++t;
    }
    EXPECT_EQ(t, tx.size());
    EXPECT_EQ(h_->drops(Drop::kUnknownDstMac), 6u);  // k = 3, 8, ..., 28
  }
}

TEST_F(BulkLookupTest, RoutedToRemoteCasInOrder) {
  std::uniform_int_distribution<uint32_t> pick(0, kRecords - 1);
  for (int round = 0; round < 20; ++round) {
    std::vector<Frame> in;
    std::vector<int> want;
    for (int k = 0; k < 32; ++k) {
      const bool known = k % 7 != 2;
      const uint32_t i = pick(rng_);
      const IpAddr dst = known ? BigCa(i) : IpAddr::V4(0x0a10fe00u + static_cast<uint32_t>(k));  // no record
      in.push_back(Ping(kDfgw6000Mac, kC1Mac, kC1, dst, 32, 64));
      want.push_back(known ? static_cast<int>(i) : -1);
    }
    h_->ResetCounters();
    const auto tx = h_->RunBurst(kC1Port, in);
    size_t t = 0;
    for (size_t k = 0; k < in.size(); ++k) {
      if (want[k] < 0) continue;
      ASSERT_LT(t, tx.size()) << "round " << round << " frame " << k << ": nothing left";
      const auto i = static_cast<uint32_t>(want[k]);
      const Outer o = Decode(tx[t].bytes);
      EXPECT_EQ(o.dst, BigPa(i)) << "round " << round << " frame " << k;
      EXPECT_EQ(o.vsid, kVsid6010);  // the destination's VSID in the key (flow 5)
      EXPECT_EQ(o.inner, Ping(BigMac(i), kDfgw6010Mac, kC1, BigCa(i), 32, 63));
      ++t;
    }
    EXPECT_EQ(t, tx.size());
    EXPECT_EQ(h_->drops(Drop::kNoRecord), 5u);  // k = 2, 9, 16, 23, 30
  }
}

TEST_F(BulkLookupTest, DecapsulatedWithSourceCheckInOrder) {
  std::uniform_int_distribution<uint32_t> pick(0, kRecords - 1);
  for (int round = 0; round < 20; ++round) {
    std::vector<Frame> in, inner;
    std::vector<bool> pass;
    for (int k = 0; k < 32; ++k) {
      const uint32_t i = pick(rng_);
      // Every fourth frame claims record i's CA but comes from another PA.
      const bool honest = k % 4 != 1;
      const IpAddr pa = honest ? BigPa(i) : BigPa(i + 1);
      const Frame f = Ping(kLocalMac, BigMac(i), BigCa(i), kLocalCa);
      in.push_back(Encap(ChapterHost1().provider_addresses.at(0).mac, kRouterMac, pa, kPa1, kVsid6010, 0, f));
      inner.push_back(f);
      pass.push_back(honest);
    }
    h_->ResetCounters();
    const auto tx = h_->RunBurst(kUplink, in);
    size_t t = 0;
    for (size_t k = 0; k < in.size(); ++k) {
      if (!pass[k]) continue;
      ASSERT_LT(t, tx.size()) << "round " << round << " frame " << k << ": nothing left";
      EXPECT_EQ(tx[t].port, kLocalPort);
      EXPECT_EQ(tx[t].bytes, inner[k]) << "round " << round << " frame " << k;
      ++t;
    }
    EXPECT_EQ(t, tx.size());
    EXPECT_EQ(h_->drops(Drop::kSourceCheck), 8u);
  }
}

}  // namespace
}  // namespace hnv::test::pipe
