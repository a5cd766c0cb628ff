// GatewayTables on its own: validation, FIB contents as the workers see them
// (rte_lpm + adjacency), neighbours, removal and reclamation.
#include <gtest/gtest.h>
#include <rte_malloc.h>

#include <map>
#include <random>

#include "gateway/fastpath/gateway_tables.h"
#include "tests/lib/chapter_policy.h"
#include "tests/unit/gateway/gateway_harness.h"

namespace hnv::gateway::test {
namespace {

using hnv::test::Ip;
using hnv::test::Mac;
using hnv::test::Prefix;

class TablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    qsv_ = static_cast<rte_rcu_qsbr*>(
        rte_zmalloc("tqsv", rte_rcu_qsbr_get_memsize(2), RTE_CACHE_LINE_SIZE));
    ASSERT_EQ(rte_rcu_qsbr_init(qsv_, 2), 0);
    GatewayLimits l;
    l.max_neighbors = 64;
    l.name = "tt" + std::to_string(serial_++);
    std::string error;
    t_ = GatewayTables::Create(l, qsv_, &error);
    ASSERT_TRUE(t_ != nullptr) << error;
  }
  void TearDown() override {
    t_.reset();
    rte_free(qsv_);
  }
  // What a worker finds for `dst` in compartment `id`.
  const Adjacency* Lookup(uint32_t id, const char* dst) {
    const CompartmentView* v = t_->snapshot()->Compartment(id);
    if (v == nullptr) return nullptr;
    uint32_t nh = 0;
    if (rte_lpm_lookup(v->lpm, Ip(dst).v4_host(), &nh) != 0) {
      if (v->default_adj == CompartmentView::kNoDefault) return nullptr;
      nh = v->default_adj;
    }
    return &v->adj[nh];
  }

  static inline int serial_ = 0;
  rte_rcu_qsbr* qsv_ = nullptr;
  std::unique_ptr<GatewayTables> t_;
  std::string error_;
};

TEST_F(TablesTest, RejectsBadLayoutsWithAClearMessage) {
  CompartmentLayout l = ContosoLayout();
  EXPECT_FALSE(t_->SetCompartment(kMaxCompartments, l, &error_));
  EXPECT_NE(error_.find("id must be below"), std::string::npos) << error_;
  CompartmentLayout bad = l;
  bad.vm_mac = MacAddr::Broadcast();
  EXPECT_FALSE(t_->SetCompartment(0, bad, &error_));
  EXPECT_NE(error_.find("vm_mac"), std::string::npos) << error_;
  bad = l;
  bad.external.push_back(bad.external[0]);
  EXPECT_FALSE(t_->SetCompartment(0, bad, &error_));
  EXPECT_NE(error_.find("used twice"), std::string::npos) << error_;
  bad = l;
  bad.external[0].vlan = 4095;
  EXPECT_FALSE(t_->SetCompartment(0, bad, &error_));
  EXPECT_NE(error_.find("vlan"), std::string::npos) << error_;
  ASSERT_TRUE(t_->SetCompartment(0, l, &error_)) << error_;
  // Another compartment may not take the same (port, VLAN) or vm_port.
  CompartmentLayout other = l;
  other.vm_port = kContosoVmPort + 1;
  EXPECT_FALSE(t_->SetCompartment(1, other, &error_));
  EXPECT_NE(error_.find("belongs to compartment 0"), std::string::npos) << error_;
  other.external[0].vlan = 7;
  EXPECT_TRUE(t_->SetCompartment(1, other, &error_)) << error_;
  other.vm_port = kContosoVmPort;
  EXPECT_FALSE(t_->SetCompartment(1, other, &error_));
  EXPECT_NE(error_.find("vm_port"), std::string::npos) << error_;
}

TEST_F(TablesTest, SnapshotClassifiesAndMapsVmPorts) {
  ASSERT_TRUE(t_->SetCompartment(3, ContosoLayout(10), &error_)) << error_;
  const GatewaySnapshot* s = t_->snapshot();
  EXPECT_EQ(s->classify.Find(GatewaySnapshot::ClassifyKey(kExtPort, 10)), 3u << 8 | 1);
  EXPECT_EQ(s->classify.Find(GatewaySnapshot::ClassifyKey(kExtPort, 0)), FlatU32Map::kMissing);
  EXPECT_EQ(s->vm_port_owner[kContosoVmPort], 3);
  ASSERT_NE(s->Compartment(3), nullptr);
  EXPECT_EQ(s->Compartment(3)->iface_count, 2);
  EXPECT_EQ(s->Compartment(3)->ifaces[1].mac, kContosoExtMac);
  EXPECT_EQ(s->Compartment(0), nullptr);
}

TEST_F(TablesTest, RoutesReplaceRemoveAndShareAdjacencies) {
  SetUpContoso(*t_);
  EXPECT_EQ(t_->Routes(kContoso).size(), 4u);
  const Adjacency* a = Lookup(kContoso, "10.0.1.77");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->kind, NextHopKind::kForward);
  EXPECT_EQ(a->iface, 0);
  EXPECT_EQ(a->gateway, Ip("10.0.2.1").v4_host());
  a = Lookup(kContoso, "10.1.3.2");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->kind, NextHopKind::kLocal);
  EXPECT_EQ(Lookup(kContoso, "8.8.8.8"), nullptr);

  // Replace: same prefix, another next hop.
  ASSERT_TRUE(t_->SetRoute(kContoso, Prefix("10.0.1.0/24"), {NextHopKind::kBlackhole, 0, {}}, &error_));
  EXPECT_EQ(Lookup(kContoso, "10.0.1.77")->kind, NextHopKind::kBlackhole);
  EXPECT_EQ(t_->Routes(kContoso).size(), 4u);
  // A default route, then removal of the more specific one falls back to it.
  ASSERT_TRUE(t_->SetRoute(kContoso, Prefix("0.0.0.0/0"), {NextHopKind::kForward, 1, Ip("10.1.3.1")}, &error_));
  EXPECT_TRUE(t_->RemoveRoute(kContoso, Prefix("10.0.1.0/24")));
  EXPECT_FALSE(t_->RemoveRoute(kContoso, Prefix("10.0.1.0/24")));
  a = Lookup(kContoso, "10.0.1.77");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->iface, 1);
  EXPECT_EQ(a->gateway, Ip("10.1.3.1").v4_host());
  EXPECT_EQ(Lookup(kContoso, "8.8.8.8")->iface, 1);
  EXPECT_TRUE(t_->RemoveRoute(kContoso, Prefix("0.0.0.0/0")));
  EXPECT_EQ(Lookup(kContoso, "8.8.8.8"), nullptr);
  // /32s and /25s use tbl8 groups.
  for (int i = 0; i < 200; ++i) {
    const IpPrefix p = Prefix("10.50." + std::to_string(i) + ".128/25");
    ASSERT_TRUE(t_->SetRoute(kContoso, p, {NextHopKind::kForward, 1, Ip("10.1.3.1")}, &error_)) << error_;
  }
  EXPECT_EQ(Lookup(kContoso, "10.50.7.200")->gateway, Ip("10.1.3.1").v4_host());
  EXPECT_EQ(Lookup(kContoso, "10.50.7.100"), nullptr);
  for (int i = 0; i < 200; ++i)
    EXPECT_TRUE(t_->RemoveRoute(kContoso, Prefix("10.50." + std::to_string(i) + ".128/25")));
  t_->Synchronize();
  EXPECT_EQ(t_->pending_reclaim(), 0u);
}

// The FIB as the workers read it (rte_lpm, its adjacencies, the default
// route in the snapshot) against a map of the routes probed at every length,
// longest first, through 6,000 random sets, replacements and removals of routes of every
// length 0..32 that nest (a few first octets), with next hops drawn from a
// small set so adjacencies are shared, freed and reused.
TEST_F(TablesTest, FibAgreesWithANaiveLongestPrefixMatchThroughRandomChanges) {
  CompartmentLayout layout = ContosoLayout();
  layout.max_routes = 4096;
  ASSERT_TRUE(t_->SetCompartment(kContoso, layout, &error_)) << error_;
  std::mt19937 rng(4291);
  const std::vector<NextHop> hops = {
      {NextHopKind::kForward, 0, Ip("10.0.2.1")}, {NextHopKind::kForward, 1, Ip("10.1.3.1")},
      {NextHopKind::kForward, 1, Ip("10.1.3.7")}, {NextHopKind::kForward, 1, IpAddr{}},
      {NextHopKind::kLocal, 0, IpAddr{}},         {NextHopKind::kPunt, 0, IpAddr{}},
      {NextHopKind::kBlackhole, 0, IpAddr{}}};
  const uint32_t first_octets[] = {10, 11, 12, 100, 200};
  auto random_addr = [&] {
    return IpAddr::V4(first_octets[rng() % 5] << 24 | (rng() & 0x00ffffff));
  };
  // Mostly /8../32, so that the default route and the short ones stay the
  // answer for part of the space; now and then /0 or /1../7.
  auto random_len = [&] {
    const uint32_t r = rng() % 40;
    return static_cast<int>(r == 0 ? 0 : r == 1 ? 1 + rng() % 7 : 8 + rng() % 25);
  };
  std::map<IpPrefix, NextHop> model;
  auto check = [&](int addresses) {
    for (int i = 0; i < addresses; ++i) {
      // Some addresses anywhere: only the default or a short route has them.
      const IpAddr a = i % 5 == 0 ? IpAddr::V4(static_cast<uint32_t>(rng())) : random_addr();
      const NextHop* want = nullptr;
      int best = 32;
      for (; best >= 0 && want == nullptr; --best) {
        auto it = model.find(IpPrefix{a.Masked(best), static_cast<uint8_t>(best)});
        if (it != model.end()) want = &it->second;
      }
      ++best;  // the length found
      const Adjacency* got = Lookup(kContoso, a.ToString().c_str());
      if (want == nullptr) {
        ASSERT_EQ(got, nullptr) << a.ToString();
        continue;
      }
      ASSERT_NE(got, nullptr) << a.ToString() << " want /" << best;
      ASSERT_EQ(got->kind, want->kind) << a.ToString() << " /" << best;
      if (want->kind != NextHopKind::kForward) continue;
      ASSERT_EQ(got->iface, want->iface) << a.ToString() << " /" << best;
      ASSERT_EQ(got->gateway, want->gateway.IsUnspecified() ? 0 : want->gateway.v4_host())
          << a.ToString() << " /" << best;
    }
  };
  for (int step = 0; step < 6000; ++step) {
    const int len = random_len();
    const IpPrefix p{random_addr().Masked(len), static_cast<uint8_t>(len)};
    if (rng() % 3 == 0) {
      EXPECT_EQ(t_->RemoveRoute(kContoso, p), model.erase(p) == 1) << p.ToString();
    } else {
      const NextHop& nh = hops[rng() % hops.size()];
      ASSERT_TRUE(t_->SetRoute(kContoso, p, nh, &error_)) << error_;
      model[p] = nh;
    }
    if (step % 500 == 499) {
      check(2000);
      t_->Synchronize();  // adjacency indexes and tbl8 groups freed, then reused
    }
  }
  EXPECT_EQ(t_->Routes(kContoso).size(), model.size());
  for (const auto& [p, nh] : model) ASSERT_TRUE(t_->RemoveRoute(kContoso, p)) << p.ToString();
  EXPECT_EQ(Lookup(kContoso, "10.1.2.3"), nullptr);
  t_->Synchronize();
  EXPECT_EQ(t_->pending_reclaim(), 0u);
}

TEST_F(TablesTest, RejectsIpv6AndBadRoutes) {
  SetUpContoso(*t_);
  EXPECT_FALSE(t_->SetRoute(kContoso, Prefix("fd00::/64"), {}, &error_));
  EXPECT_NE(error_.find("IPv6"), std::string::npos) << error_;
  EXPECT_NE(error_.find("punted"), std::string::npos) << error_;
  EXPECT_FALSE(t_->SetRoute(kContoso, Prefix("10.7.0.0/16"), {NextHopKind::kForward, 5, {}}, &error_));
  EXPECT_NE(error_.find("interface 5"), std::string::npos) << error_;
  EXPECT_FALSE(t_->SetRoute(9, Prefix("10.7.0.0/16"), {}, &error_));
  EXPECT_NE(error_.find("does not exist"), std::string::npos) << error_;
}

TEST_F(TablesTest, FullFibIsAnError) {
  CompartmentLayout l = ContosoLayout();
  l.max_routes = 4;
  ASSERT_TRUE(t_->SetCompartment(0, l, &error_));
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(t_->SetRoute(0, Prefix("10.0." + std::to_string(i) + ".0/24"), {NextHopKind::kLocal, 0, {}}, &error_));
  EXPECT_FALSE(t_->SetRoute(0, Prefix("10.0.9.0/24"), {NextHopKind::kLocal, 0, {}}, &error_));
  EXPECT_NE(error_.find("FIB full"), std::string::npos) << error_;
  // Replacing an existing one still works.
  EXPECT_TRUE(t_->SetRoute(0, Prefix("10.0.1.0/24"), {NextHopKind::kPunt, 0, {}}, &error_)) << error_;
  // Growing max_routes rebuilds the FIB with the same routes.
  l.max_routes = 64;
  ASSERT_TRUE(t_->SetCompartment(0, l, &error_)) << error_;
  EXPECT_EQ(t_->Routes(0).size(), 4u);
  EXPECT_EQ(Lookup(0, "10.0.1.9")->kind, NextHopKind::kPunt);
  EXPECT_EQ(Lookup(0, "10.0.2.9")->kind, NextHopKind::kLocal);
  EXPECT_TRUE(t_->SetRoute(0, Prefix("10.0.9.0/24"), {NextHopKind::kLocal, 0, {}}, &error_)) << error_;
  l.max_routes = 2;
  EXPECT_FALSE(t_->SetCompartment(0, l, &error_));
  EXPECT_NE(error_.find("below"), std::string::npos) << error_;
}

TEST_F(TablesTest, NeighboursPerCompartmentAndInterface) {
  SetUpContoso(*t_);
  CompartmentLayout other = ContosoLayout(20);
  other.vm_port = kContosoVmPort + 1;
  ASSERT_TRUE(t_->SetCompartment(1, other, &error_));
  ASSERT_TRUE(t_->SetNeighbor(1, 1, Ip("10.1.3.100"), Mac("02000000aa01"), &error_));
  const uint32_t ip = Ip("10.1.3.100").v4_host();
  ASSERT_NE(t_->FindNeighborV4(0, 1, ip), nullptr);
  EXPECT_EQ(t_->FindNeighborV4(0, 1, ip)->mac, kPhysicalMac);
  EXPECT_EQ(t_->FindNeighborV4(1, 1, ip)->mac, Mac("02000000aa01"));
  EXPECT_EQ(t_->FindNeighborV4(0, 0, ip), nullptr);
  EXPECT_FALSE(t_->SetNeighbor(0, 3, Ip("10.1.3.1"), kPhysicalMac, &error_));
  EXPECT_NE(error_.find("interface 3"), std::string::npos);
  EXPECT_EQ(t_->Neighbors(0).size(), 2u);
  t_->RemoveNeighbor(0, 1, Ip("10.1.3.100"));
  EXPECT_EQ(t_->FindNeighborV4(0, 1, ip), nullptr);
  EXPECT_NE(t_->FindNeighborV4(1, 1, ip), nullptr);
  // Removing compartment 0 leaves compartment 1 alone.
  t_->RemoveCompartment(0);
  EXPECT_EQ(t_->FindNeighborV4(0, 0, Ip("10.0.2.1").v4_host()), nullptr);
  EXPECT_NE(t_->FindNeighborV4(1, 1, ip), nullptr);
  EXPECT_TRUE(t_->Routes(0).empty());
  EXPECT_EQ(t_->snapshot()->Compartment(0), nullptr);
  EXPECT_NE(t_->snapshot()->Compartment(1), nullptr);
  t_->Synchronize();
  EXPECT_EQ(t_->pending_reclaim(), 0u);
  EXPECT_EQ(t_->neighbor_count(), 1u);
}

TEST_F(TablesTest, RemovedCompartmentStaysReadableUntilItsGracePeriod) {
  SetUpContoso(*t_);
  ASSERT_EQ(rte_rcu_qsbr_thread_register(qsv_, 1), 0);
  rte_rcu_qsbr_thread_online(qsv_, 1);
  const GatewaySnapshot* held = t_->snapshot();
  t_->RemoveCompartment(kContoso);
  t_->Reclaim();  // the reader has not been quiescent: nothing may go
  EXPECT_GT(t_->pending_reclaim(), 0u);
  uint32_t nh = 0;
  ASSERT_EQ(rte_lpm_lookup(held->Compartment(kContoso)->lpm, Ip("10.0.1.5").v4_host(), &nh), 0);
  EXPECT_EQ(held->Compartment(kContoso)->adj[nh].kind, NextHopKind::kForward);
  rte_rcu_qsbr_quiescent(qsv_, 1);
  rte_rcu_qsbr_thread_offline(qsv_, 1);
  rte_rcu_qsbr_thread_unregister(qsv_, 1);
  t_->Reclaim();
  EXPECT_EQ(t_->pending_reclaim(), 0u);
  // The id can be reused at once.
  SetUpContoso(*t_);
  EXPECT_EQ(t_->Routes(kContoso).size(), 4u);
}

TEST_F(TablesTest, MemoryIsStated) {
  SetUpContoso(*t_);
  const size_t m = t_->Memory(kContoso);
  EXPECT_GE(m, size_t{64} << 20);  // the tbl24
  EXPECT_LT(m, size_t{70} << 20);  // 1,024 routes: 64 MiB + ~1 MiB of tbl8 groups
  EXPECT_EQ(t_->Memory(5), 0u);
}

}  // namespace
}  // namespace hnv::gateway::test
