// The compartment path's feature slots (gateway/fastpath/feature.h) with
// trivial features: a destination rewrite before the route decision (where
// DNAT and the load balancer go), a source rewrite after it (where SNAT
// goes), ordering, punts, hairpins a feature allows, and no allocation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/packet/checksum.h"
#include "dataplane/pipeline/nvgre_encap.h"
#include "tests/lib/alloc_counter.h"
#include "tests/unit/gateway/gateway_harness.h"

namespace hnv::gateway::test {
namespace {

using namespace hnv::test::pipe;  // the chapter's constants and frame helpers
using hnv::test::Ip;
using hnv::test::PacketBuilder;

uint8_t FlowIdOf(const Frame& inner) {
  const ParsedFrame pf = Parse(inner);
  return NvgreEncap::FlowId(inner.data(), pf);
}

Frame FromHost1(const Frame& inner) {
  return Encap(kPaGwMac, kPa1Mac, kPa1, kPaGw, 6001, FlowIdOf(inner), inner);
}

Frame FromPhysical(const IpAddr& dst, uint8_t ttl = 64) {
  return PacketBuilder().Eth(kContosoExtMac, kPhysicalMac).Ipv4(kPhysical, dst).Ttl(ttl).Icmp().Payload(32).Build();
}

// Rewrites one IPv4 address of a frame (ICMP: only the header checksum
// covers it), as a NAT would, with an incremental checksum update.
void RewriteAddress(rte_mbuf* m, bool dst, const IpAddr& to) {
  auto* ip = reinterpret_cast<Ipv4Hdr*>(Data(m) + Meta(m)->pf.l3_offset);
  uint8_t* a = dst ? ip->dst : ip->src;
  for (int w = 0; w < 2; ++w) {
    Be16 old_word, new_word;
    std::memcpy(&old_word, a + 2 * w, 2);
    std::memcpy(&new_word, to.b.data() + 2 * w, 2);
    ip->checksum = ChecksumUpdate16(ip->checksum, old_word, new_word);
  }
  std::memcpy(a, to.b.data(), 4);
}

bool DstIs(rte_mbuf* m, const IpAddr& a) {
  const auto* ip = reinterpret_cast<const Ipv4Hdr*>(Data(m) + Meta(m)->pf.l3_offset);
  return std::memcmp(ip->dst, a.b.data(), 4) == 0;
}

// Appends its name to `log` once per burst it sees, passes everything on.
class TraceFeature : public Feature {
 public:
  TraceFeature(std::string name, FeatureSlot slot, int order, std::vector<std::string>* log)
      : name_(std::move(name)), slot_(slot), order_(order), log_(log) {}
  std::string_view name() const noexcept override { return name_; }
  FeatureSlot slot() const noexcept override { return slot_; }
  int order() const noexcept override { return order_; }
  void Process(FeatureContext& fc, Burst& in, const Outputs<Edge>& out) noexcept override {
    if (log_ != nullptr) log_->push_back(name_);
    for (uint16_t i = 0; i < in.n; ++i) {
      Inspect(in.pkts[i]);
      out.Push(fc.ctx, Edge::kNext, in.pkts[i]);
    }
  }
  virtual void Inspect(rte_mbuf*) noexcept {}
  uint64_t seen = 0;

 private:
  std::string name_;
  FeatureSlot slot_;
  int order_;
  std::vector<std::string>* log_;
};

// Before the route: frames to `from` go to `to` instead (a one-to-one DNAT).
class RewriteDst final : public TraceFeature {
 public:
  RewriteDst(IpAddr from, IpAddr to)
      : TraceFeature("rewrite-dst", FeatureSlot::kPreRoute, 0, nullptr), from_(from), to_(to) {}
  void Inspect(rte_mbuf* m) noexcept override {
    ++seen;
    if (!DstIs(m, from_)) return;
    RewriteAddress(m, /*dst=*/true, to_);
    Gw(m)->flags |= GwMeta::kHairpinOk;
  }

 private:
  IpAddr from_, to_;
};

// After the route: frames leaving by an external interface get `to` as
// their source (a many-to-one SNAT); records the out interfaces seen.
class RewriteSrcOut final : public TraceFeature {
 public:
  explicit RewriteSrcOut(IpAddr to)
      : TraceFeature("rewrite-src", FeatureSlot::kPostRoute, 0, nullptr), to_(to) {}
  void Inspect(rte_mbuf* m) noexcept override {
    ++seen;
    out_ifaces |= 1u << Gw(m)->out_iface;
    if (Gw(m)->out_iface != 0) RewriteAddress(m, /*dst=*/false, to_);
  }
  uint32_t out_ifaces = 0;

 private:
  IpAddr to_;
};

// Leaves every frame to the kernel.
class PuntAll final : public Feature {
 public:
  std::string_view name() const noexcept override { return "punt-all"; }
  FeatureSlot slot() const noexcept override { return FeatureSlot::kPreRoute; }
  void Process(FeatureContext& fc, Burst& in, const Outputs<Edge>& out) noexcept override {
    for (uint16_t i = 0; i < in.n; ++i) out.Push(fc.ctx, Edge::kPunt, in.pkts[i]);
  }
};

class GatewayFeatures : public ::testing::Test {
 protected:
  void SetUp() override {
    SetUpContoso(h_.gw());
    h_.fp().ResetCounters(kContoso);
  }
  void Set(std::vector<std::shared_ptr<Feature>> f) {
    std::string error;
    ASSERT_TRUE(h_.gw().SetFeatures(kContoso, std::move(f), &error)) << error;
  }
  CompartmentCounters C() { return h_.fp().Counters(kContoso); }
  GatewayHarness h_;
};

TEST_F(GatewayFeatures, APreRouteRewriteChangesTheRouteDecision) {
  // 10.1.3.200 is on the external subnet; rewritten to Contoso1 before the
  // route, the frame goes into the VM network instead.
  const IpAddr vip = Ip("10.1.3.200");
  const Frame routed = Ping(kC1Mac, kDfgw6000Mac, kPhysical, kC1, 32, 62);
  const auto want = Encap(kPa1Mac, kPaGwMac, kPaGw, kPa1, 6000, FlowIdOf(routed), routed);

  auto f = std::make_shared<RewriteDst>(vip, kC1);
  Set({f});
  ExpectTx(h_.RunExternal(kExtPort, {FromPhysical(vip)}), {{kUplink, want}});
  EXPECT_EQ(f->seen, 1u);
  EXPECT_EQ(C().fwd_vm.packets, 1u) << Describe(C());

  // Without the feature the same frame is the external subnet's business.
  Set({});
  ExpectNothing(h_.RunExternal(kExtPort, {FromPhysical(vip)}));
  EXPECT_EQ(C().Punted(Punt::kNoNeighbor), 1u) << Describe(C());
  EXPECT_EQ(f->seen, 1u);  // no longer asked
}

TEST_F(GatewayFeatures, APostRouteFeatureSeesTheOutInterfaceAndRewritesTheSource) {
  auto f = std::make_shared<RewriteSrcOut>(kExtAddr);
  Set({f});
  const Frame inner = Ping(kMtGwMac, kDfgw6001Mac, kC1, kPhysical, 32, 63);
  const Frame want = PacketBuilder()
                         .Eth(kPhysicalMac, kContosoExtMac)
                         .Ipv4(kExtAddr, kPhysical)
                         .Ttl(62)
                         .Icmp()
                         .Payload(32)
                         .Build();
  ExpectTx(h_.RunUplink({FromHost1(inner)}), {{kExtPort, want}});
  EXPECT_EQ(f->out_ifaces, 1u << 1);  // interface 1, the external one
  EXPECT_EQ(C().fwd_external.packets, 1u) << Describe(C());
}

TEST_F(GatewayFeatures, FeaturesRunBySlotThenOrder) {
  std::vector<std::string> log;
  Set({std::make_shared<TraceFeature>("post", FeatureSlot::kPostRoute, 0, &log),
       std::make_shared<TraceFeature>("pre-2", FeatureSlot::kPreRoute, 2, &log),
       std::make_shared<TraceFeature>("pre-1", FeatureSlot::kPreRoute, 1, &log)});
  ExpectTx(h_.RunUplink({FromHost1(Ping(kMtGwMac, kDfgw6001Mac, kC1, kPhysical, 32, 63))}),
           {{kExtPort, PacketBuilder()
                           .Eth(kPhysicalMac, kContosoExtMac)
                           .Ipv4(kC1, kPhysical)
                           .Ttl(62)
                           .Icmp()
                           .Payload(32)
                           .Build()}});
  EXPECT_EQ(log, (std::vector<std::string>{"pre-1", "pre-2", "post"}));
}

TEST_F(GatewayFeatures, AFeaturesPuntReachesTheKernelCounted) {
  Set({std::make_shared<PuntAll>()});
  const Frame in = FromPhysical(kC1);
  ExpectNothing(h_.RunExternal(kExtPort, {in}));
  EXPECT_EQ(C().Punted(Punt::kFeature), 1u) << Describe(C());
  const std::vector<Punted> p = h_.DrainPunts();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].tap, TapIdOf(kContoso, 1));
  EXPECT_TRUE(p[0].bytes == in) << hnv::test::FrameDiff(in, p[0].bytes);
}

TEST_F(GatewayFeatures, AHairpinAFeatureTranslatedIsForwardedNotPunted) {
  // Contoso1 -> 10.0.2.50 (an address of the VM network side of the
  // gateway), rewritten to Contoso3: from the VM network back into it.
  const IpAddr vip = Ip("10.0.2.50");
  const Frame inner = Ping(kMtGwMac, kDfgw6001Mac, kC1, vip, 32, 63);
  ExpectNothing(h_.RunUplink({FromHost1(inner)}));
  EXPECT_EQ(C().Punted(Punt::kNoRoute) + C().Punted(Punt::kHairpin), 1u) << Describe(C());
  h_.DrainPunts();

  Set({std::make_shared<RewriteDst>(vip, kC3)});
  // Delivered inside a flush, the frame is fed to the pipeline at the next
  // loop iteration (handed to this worker), routed to VSID 6000 on Host 2.
  const Frame routed = Ping(kC3Mac, kDfgw6000Mac, kC1, kC3, 32, 61);
  ExpectTx(h_.RunUplink({FromHost1(inner)}),
           {{kUplink, Encap(kPa2Mac, kPaGwMac, kPaGw, kPa2, 6000, FlowIdOf(routed), routed)}});
  EXPECT_EQ(h_.DrainPunts().size(), 0u);
  EXPECT_EQ(C().fwd_vm.packets, 1u) << Describe(C());
}

TEST_F(GatewayFeatures, NoHeapAllocationPerPacketWithFeatures) {
  if (!hnv::test::kAllocCounting) GTEST_SKIP() << "no allocation counting under ThreadSanitizer";
  Set({std::make_shared<RewriteDst>(Ip("10.1.3.200"), kC1), std::make_shared<RewriteSrcOut>(kExtAddr)});
  h_.sink().capture = false;
  const Frame f = FromPhysical(Ip("10.1.3.200"));
  std::vector<rte_mbuf*> m(64 * kBurstSize);
  for (auto& x : m) x = h_.MakeMbuf(f);
  h_.RunExternalMbufs(kExtPort, m.data(), kBurstSize);  // warm-up
  hnv::test::AllocCounter count;
  for (size_t off = kBurstSize; off < m.size(); off += kBurstSize) {
    h_.BeginIteration();
    h_.fp().Receive(h_.ctx(), h_.pipeline(), kExtPort, m.data() + off, kBurstSize);
    h_.EndIteration();
  }
  EXPECT_EQ(count.count(), 0u);
  EXPECT_EQ(C().fwd_vm.packets, m.size()) << Describe(C());
}

}  // namespace
}  // namespace hnv::gateway::test
