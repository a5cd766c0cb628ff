// The stages' per-burst lookups above RcuHashTable::kBulkFrom keys, where
// they switch from one lookup per frame to DPDK's bulk lookup with
// precomputed hashes (the other unit tests use small tables and only reach
// the per-frame branch). Host 1 with 20,000 remote records on VSID 6010
// (10.16.0.0/16, 50 remote PAs) and a local VM there; every burst mixes
// known and unknown destinations, so the verdict of each frame, and the
// order of what leaves, must be what one lookup per frame would give.
#include <gtest/gtest.h>

#include <random>

#include "tests/unit/pipeline/pipeline_test_util.h"

namespace hnv::test::pipe {
namespace {

constexpr uint32_t kVsid6010 = 6010;
constexpr uint32_t kRecords = 20'000;
constexpr uint16_t kLocalPort = 5;
const MacAddr kLocalMac = Mac("601060100001");
const IpAddr kLocalCa = Ip("10.16.255.250");
const IpAddr kDfgw6010 = Ip("10.16.0.1");
const MacAddr kDfgw6010Mac = Mac("601060100000");

IpAddr CaOf(uint32_t i) { return IpAddr::V4(0x0a100000u + 2 + i); }  // 10.16.0.2 ..
MacAddr MacOf(uint32_t i) {
  return MacAddr{{0x60, 0x10, 0x61, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                  static_cast<uint8_t>(i)}};
}
IpAddr PaOf(uint32_t i) { return IpAddr::V4(0xc0a80000u + 100 + i % 50); }  // 192.168.0.100 ..

Policy BigHost1() {
  Policy p = ChapterHost1();
  p.subnets.push_back(VirtualSubnet{kVsid6010, ContosoRdid(), {Prefix("10.16.0.0/16")}});
  CustomerRoute r;
  r.rdid = ContosoRdid();
  r.vsid = kVsid6010;
  r.destination = Prefix("10.16.0.0/16");
  r.next_hop = Ip("0.0.0.0");
  p.customer_routes.push_back(r);
  p.records.push_back(MakeRecord(kDfgw6010, kVsid6010, kDfgw6010Mac, kPa1));
  p.records.push_back(MakeRecord(kLocalCa, kVsid6010, kLocalMac, kPa1));
  for (uint32_t i = 0; i < kRecords; ++i) p.records.push_back(MakeRecord(CaOf(i), kVsid6010, MacOf(i), PaOf(i)));
  p.vm_ports.push_back(VmPort{"Local6010", kLocalPort, kLocalMac, kVsid6010});
  return p;
}

TableLimits BigLimits() {
  TableLimits l = SmallLimitsForTest();
  l.max_records = 32'768;
  return l;
}

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
      const MacAddr dst = known ? MacOf(i) : MacAddr{{0x60, 0x10, 0x7f, 0, 0, static_cast<uint8_t>(k)}};
      in.push_back(Ping(dst, kLocalMac, kLocalCa, CaOf(i)));
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
      EXPECT_EQ(o.dst, PaOf(static_cast<uint32_t>(want[k]))) << "round " << round << " frame " << k;
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
      const IpAddr dst = known ? CaOf(i) : IpAddr::V4(0x0a10fe00u + static_cast<uint32_t>(k));  // no record
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
      EXPECT_EQ(o.dst, PaOf(i)) << "round " << round << " frame " << k;
      EXPECT_EQ(o.vsid, kVsid6010);  // the destination's VSID in the key (flow 5)
      EXPECT_EQ(o.inner, Ping(MacOf(i), kDfgw6010Mac, kC1, CaOf(i), 32, 63));
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
      const IpAddr pa = honest ? PaOf(i) : PaOf(i + 1);
      const Frame f = Ping(kLocalMac, MacOf(i), CaOf(i), kLocalCa);
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
