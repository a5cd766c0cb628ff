// Shared by the compartment tests: the daemon's handles a compartment plugs
// into, real (GatewayTables on an RCU variable without readers, a
// GatewayFastPath over two rings, a PuntIo thread over a small pool, a state
// directory under /tmp), and a tenant spec whose namespace has the test
// process's prefix, so KernelTest's TearDown removes it whatever happens.
#pragma once

#include <rte_malloc.h>

#include <filesystem>
#include <map>

#include "gateway/compartment/compartment.h"
#include "gateway/compartment/standard_services.h"
#include "tests/lib/eal_env.h"
#include "tests/lib/packet_builder.h"
#include "tests/unit/gateway_kernel/kernel_fixture.h"
#include "tests/unit/gateway_kernel/punt_rig.h"

namespace hnv::gateway::test {

class CompartmentTest : public KernelTest {
 protected:
  static constexpr uint32_t kId = 5;

  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(hnv::test::StartEalForTest());
    static int serial = 0;
    const std::string id = std::to_string(getpid() % 100000) + "_" + std::to_string(serial++);
    qsv_ = static_cast<rte_rcu_qsbr*>(
        rte_zmalloc(("hnvut_q" + id).c_str(), rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE));
    ASSERT_NE(qsv_, nullptr);
    ASSERT_EQ(rte_rcu_qsbr_init(qsv_, 1), 0);
    GatewayLimits limits;
    limits.max_neighbors = 256;
    limits.name = "ck" + id;
    std::string error;
    tables_ = GatewayTables::Create(limits, qsv_, &error);
    ASSERT_TRUE(tables_) << error;
    ASSERT_TRUE(rig_.Create(511));
    fastpath_ = std::make_unique<GatewayFastPath>(tables_.get(), rig_.rings, 1);
    punt_ = PuntIo::Create(rig_.pool, rig_.rings, &error);
    ASSERT_TRUE(punt_) << error;
    ASSERT_TRUE(punt_->Start(&error)) << error;
    char tmpl[] = "/tmp/hnvut-state-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    state_dir_ = tmpl;
  }

  void TearDown() override {
    punt_.reset();
    fastpath_.reset();
    if (tables_) tables_->Synchronize();
    tables_.reset();
    rig_.Free();
    rte_free(qsv_);
    if (!state_dir_.empty()) std::filesystem::remove_all(state_dir_);
    KernelTest::TearDown();
  }

  // The chapter's Contoso compartment, in a namespace of this test.
  CompartmentSpec Spec() const {
    CompartmentSpec s;
    s.name = "contoso";
    s.id = kId;
    s.netns = NsPrefix() + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    s.max_routes = 1024;
    s.vsid = 6001;
    s.vm_address = {hnv::test::Ip("10.0.2.2"), 24};
    s.vm_mac = hnv::test::Mac("60:01:60:01:03:01");
    s.vm_port = kFirstVirtualPort + kId;
    ExternalSpec e;
    e.interface = "ext0";
    e.port_name = "external";
    e.port = 1;
    e.mac = hnv::test::Mac("60:01:60:01:03:02");
    e.addresses = {{hnv::test::Ip("10.1.3.2"), 24}};
    s.external.push_back(e);
    s.routes.push_back({IpPrefix::Parse("10.0.1.0/24").value(), hnv::test::Ip("10.0.2.1"), "", 0});
    s.file = "tenants/contoso.yaml";
    return s;
  }

  CompartmentEnv Env(std::vector<ServiceFactory> extra = {}) const {
    CompartmentEnv env{tables_.get(), fastpath_.get(), punt_.get(), state_dir_, StandardServices()};
    env.services.insert(env.services.end(), extra.begin(), extra.end());
    return env;
  }

  // The compartment's FIB as the fast path holds it: prefix -> kind.
  std::map<std::string, std::string> FibNow() const {
    std::map<std::string, std::string> out;
    for (const auto& [p, nh] : tables_->Routes(kId)) out[p.ToString()] = NextHopKindName(nh.kind);
    return out;
  }

  // Polls the compartment (as the daemon's loop does) until pred() or `ms`.
  static bool Until(Compartment& c, const std::function<bool()>& pred, int ms = 2000) {
    return WaitFor(pred, ms, [&] {
      c.Poll();
      usleep(2000);
    });
  }

  bool NamespaceExists(const std::string& name) const {
    for (const std::string& n : NetNamespace::List(name))
      if (n == name) return true;
    return false;
  }

  rte_rcu_qsbr* qsv_ = nullptr;
  std::unique_ptr<GatewayTables> tables_;
  PuntRig rig_;
  std::unique_ptr<GatewayFastPath> fastpath_;
  std::unique_ptr<PuntIo> punt_;
  std::string state_dir_;
};

}  // namespace hnv::gateway::test
