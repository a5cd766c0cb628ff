// deliver after nvgre-decap with big tables: the local VM port of a
// decapsulated frame comes from the snapshot's (VSID, MAC) -> port map
// (Snapshot::local_macs), not from the L2 table, which here holds 20,000
// remote MACs (enough for the stages' bulk-lookup branch). The map must
// follow vm_ports through every Apply: a port added receives, a port
// removed no longer does, and the drop reasons stay those of the L2 table
// (kNoLocalPort for a remote or unknown MAC, kVsidMismatch for a port whose
// VSID is not the frame's).
#include <gtest/gtest.h>

#include "tests/unit/pipeline/big_vsid.h"

namespace hnv::test::pipe {
namespace {

constexpr uint32_t kRecords = kBigRecords;
constexpr uint16_t kPortA = 5;
constexpr uint16_t kPortB = 6;
const MacAddr kMacA = Mac("601060100001");
const MacAddr kMacB = Mac("601060100002");
const IpAddr kCaA = Ip("10.16.255.250");
const IpAddr kCaB = Ip("10.16.255.251");

// Host 1 with VSID 6010 (20,000 remote records over 50 PAs) and two local
// VMs on it, A and B; `with_a` / `with_b` say which have their VM port.
Policy BigHost1(bool with_a, bool with_b) {
  return Host1WithBigVsid({{"A", kPortA, kMacA, kCaA, with_a}, {"B", kPortB, kMacB, kCaB, with_b}});
}

// Record i's VM sends `inner` to a local VM, NVGRE from its PA to Host 1.
Frame FromRemote(uint32_t i, const MacAddr& to_mac, const IpAddr& to_ca) {
  const Frame inner = Ping(to_mac, BigMac(i), BigCa(i), to_ca);
  return Encap(kPa1Mac, kRouterMac, BigPa(i), kPa1, kVsid6010, 0, inner);
}
Frame InnerOf(uint32_t i, const MacAddr& to_mac, const IpAddr& to_ca) {
  return Ping(to_mac, BigMac(i), BigCa(i), to_ca);
}

class DeliverBigTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = std::make_unique<PipelineHarness>(BigHost1(true, false), BigLimits());
    h_->ResolveNeighbors(kRouterMac);
    ASSERT_GT(h_->tables().record_count(), kRecords);
    ASSERT_TRUE(h_->tables().L2BulkPays()) << "the L2 table is too small to be a big one";
  }
  // A burst of 32 frames from records 0, 613, 1226, ... to (mac, ca).
  std::vector<TxFrame> SendBurst(const MacAddr& mac, const IpAddr& ca, std::vector<Frame>* inner) {
    std::vector<Frame> in;
    for (uint32_t k = 0; k < 32; ++k) {
      const uint32_t i = k * 613 % kRecords;
      in.push_back(FromRemote(i, mac, ca));
      if (inner != nullptr) inner->push_back(InnerOf(i, mac, ca));
    }
    h_->ResetCounters();
    return h_->RunBurst(kUplink, in);
  }
  std::unique_ptr<PipelineHarness> h_;
};

TEST_F(DeliverBigTablesTest, DecapsulatedFramesReachTheLocalPort) {
  std::vector<Frame> inner;
  const auto tx = SendBurst(kMacA, kCaA, &inner);
  std::vector<TxFrame> want;
  for (const Frame& f : inner) want.push_back({kPortA, f});
  ExpectTx(tx, want);
  EXPECT_EQ(h_->total_drops(), 0u);
  EXPECT_EQ(h_->counters().decapsulated, 32u);
  EXPECT_EQ(h_->tables().snapshot()->local_macs.size(), ChapterHost1().vm_ports.size() + 1);
}

TEST_F(DeliverBigTablesTest, PortsFollowVmPortsThroughApply) {
  // B has records but no VM port yet: its frames have nowhere to go.
  ExpectNothing(SendBurst(kMacB, kCaB, nullptr));
  EXPECT_EQ(h_->drops(Drop::kNoLocalPort), 32u);
  EXPECT_EQ(h_->total_drops(), 32u);

  // B's port added: B receives, A still does.
  h_->Apply(BigHost1(true, true));
  std::vector<Frame> to_b;
  auto tx = SendBurst(kMacB, kCaB, &to_b);
  std::vector<TxFrame> want;
  for (const Frame& f : to_b) want.push_back({kPortB, f});
  ExpectTx(tx, want);
  EXPECT_EQ(h_->total_drops(), 0u);
  std::vector<Frame> to_a;
  tx = SendBurst(kMacA, kCaA, &to_a);
  want.clear();
  for (const Frame& f : to_a) want.push_back({kPortA, f});
  ExpectTx(tx, want);

  // A's port removed (its records stay): A no longer receives, B does.
  h_->Apply(BigHost1(false, true));
  EXPECT_EQ(h_->tables().snapshot()->local_macs.size(), ChapterHost1().vm_ports.size() + 1);
  ExpectNothing(SendBurst(kMacA, kCaA, nullptr));
  EXPECT_EQ(h_->drops(Drop::kNoLocalPort), 32u);
  EXPECT_EQ(h_->total_drops(), 32u);
  to_b.clear();
  tx = SendBurst(kMacB, kCaB, &to_b);
  want.clear();
  for (const Frame& f : to_b) want.push_back({kPortB, f});
  ExpectTx(tx, want);
  EXPECT_EQ(h_->total_drops(), 0u);
}

TEST_F(DeliverBigTablesTest, RemoteMacIsNoLocalPort) {
  // Record 7's MAC is in the L2 table, but remote: never delivered, never
  // sent back out.
  ExpectNothing(h_->Run(kUplink, FromRemote(3, BigMac(7), BigCa(7))));
  ExpectOnlyDrop(*h_, Drop::kNoLocalPort);
}

TEST_F(DeliverBigTablesTest, PortOfAnotherVsidIsVsidMismatch) {
  // Not a valid policy (validation refuses a port twice), but the tables
  // take it: port 5 ends up on VSID 6000, and A's frames must not reach it.
  Policy p = BigHost1(true, false);
  p.vm_ports.push_back(VmPort{"A-on-6000", kPortA, kMacB, 6000});
  h_->Apply(p);
  ExpectNothing(h_->Run(kUplink, FromRemote(3, kMacA, kCaA)));
  ExpectOnlyDrop(*h_, Drop::kVsidMismatch);
}

TEST_F(DeliverBigTablesTest, BroadcastFloodsToTheVsidsPorts) {
  h_->Apply(BigHost1(true, true));
  const Frame inner = PacketBuilder()
                          .Eth(MacAddr::Broadcast(), BigMac(3))
                          .Ipv4(BigCa(3), Ip("10.16.255.255"))
                          .Udp(68, 67)
                          .Payload(16)
                          .Build();
  h_->ResetCounters();
  const auto tx = h_->Run(kUplink, Encap(kPa1Mac, kRouterMac, BigPa(3), kPa1, kVsid6010, 0, inner));
  ExpectTx(tx, {{kPortA, inner}, {kPortB, inner}});
  EXPECT_EQ(h_->total_drops(), 0u);
}

}  // namespace
}  // namespace hnv::test::pipe
