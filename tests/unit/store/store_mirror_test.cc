// A host's mirror of the store against a real etcd: it holds what the host
// needs and nothing else, follows changes (a migration, a new tenant on the
// host, a tenant that leaves it), resumes after a cut without losing the
// changes made meanwhile, and reads whole again what was compacted meanwhile.
// Throughout, the policy computed from the mirror equals the one computed
// from the whole store.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "config/store/host_policy.h"
#include "config/store/store_mirror.h"
#include "config/store/writer.h"
#include "config/policy/policy_dump.h"
#include "tests/unit/store/etcd_process.h"
#include "tests/unit/store/store_test_util.h"
#include "tests/unit/store/tcp_proxy.h"

namespace hnv::store {
namespace {

using namespace std::chrono_literals;
using Outcome = WriteResult::Outcome;

class StoreMirrorTest : public test::EtcdSuite {
 protected:
  void SetUp() override {
    EtcdSuite::SetUp();
    writer_ = std::make_unique<StoreWriter>(client_.get(), layout_);
    WriteResult r = writer_->ApplyFiles(test::ChapterFiles());
    ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  }
  // The host's policy from the whole store, as a writer reads it.
  std::string Expected(const std::string& host) {
    StoreState s(layout_);
    EXPECT_TRUE(LoadState(*client_, &s).ok());
    const std::optional<HostPolicy> hp = ComputeHostPolicy(s, host);
    return hp ? DumpPolicy(hp->policy) : "";
  }
  static std::string Actual(const StoreMirror& m) {
    const std::optional<HostPolicy> hp = ComputeHostPolicy(m.state(), m.host());
    return hp ? DumpPolicy(hp->policy) : "";
  }
  // The store's policy generation, as a writer reads it.
  uint64_t StoreGeneration() {
    StoreState s(layout_);
    EXPECT_TRUE(LoadState(*client_, &s).ok());
    return s.generation;
  }
  // Polls until the mirror holds the whole store's policy and generation (or
  // 10 s). Both: after a reconnection etcd catches the watches up one by one
  // (up to 100 ms apart), so a tenant's changes may be in before the
  // generation key's event that makes them whole (store_mirror.h).
  bool Converges(StoreMirror& m) {
    const std::string want = Expected(m.host());
    const uint64_t want_generation = StoreGeneration();
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < end) {
      m.Poll(50ms);
      if (Actual(m) == want && m.state().generation == want_generation) return true;
    }
    ADD_FAILURE() << "mirror of " << m.host() << " (generation " << m.state().generation << ", store's "
                  << want_generation << "):\n" << Actual(m) << "\nstore:\n" << want
                  << "\nerrors: " << (m.errors().empty() ? "" : m.errors().front())
                  << " connected " << m.connected() << " disconnects " << m.disconnects() << " " << m.disconnect_reason();
    return false;
  }
  void MoveRecords(const std::string& ca, const std::string& pa) {
    WriteResult r = writer_->ApplyChange(
        test::Change("set", config::Kind::kLookupRecord,
                     {{"customer_address", ca}, {"vsid", 6000}, {"provider_address", pa}}),
        "");
    ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  }
  void AddFabrikamOn(const std::string& pa) {
    WriteResult r = writer_->ApplyFiles({dir_.Write("fabrikam.yaml", test::FabrikamYaml(pa))});
    ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  }
  // Waits until the mirror saw its stream break.
  static void WaitCut(StoreMirror& m) {
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (m.disconnects() == 0 && std::chrono::steady_clock::now() < end) m.Poll(50ms);
    ASSERT_EQ(m.disconnects(), 1);
  }

  // A mirror of `host` through a relay the test cuts (proxy_), started and
  // current; with `cut`, cut at once and seen so.
  StoreMirror& MirrorThroughProxy(const std::string& host, bool cut) {
    proxy_ = std::make_unique<test::TcpProxy>(etcd_->client_port());
    via_ = ClientThrough(*proxy_);
    EXPECT_NE(via_, nullptr);
    mirror_ = std::make_unique<StoreMirror>(via_.get(), layout_, host);
    EXPECT_TRUE(mirror_->Start().ok());
    EXPECT_TRUE(Converges(*mirror_));
    if (cut) {
      proxy_->Cut();
      WaitCut(*mirror_);
    }
    return *mirror_;
  }

  std::unique_ptr<StoreWriter> writer_;
  test::TempDir dir_;
  std::unique_ptr<test::TcpProxy> proxy_;
  std::unique_ptr<EtcdClient> via_;
  std::unique_ptr<StoreMirror> mirror_;  // destroyed first
};

TEST_F(StoreMirrorTest, HoldsWhatTheHostNeedsAndFollowsChanges) {
  StoreMirror m(client_.get(), layout_, "host2");
  ASSERT_TRUE(m.Start().ok());
  EXPECT_EQ(Actual(m), Expected("host2"));
  EXPECT_EQ(Actual(m), test::Golden("chapter_host2.txt", Actual(m)));
  EXPECT_EQ(m.state().generation, 1u);
  // A tenant without a VM here is not read.
  AddFabrikamOn("192.168.0.22");
  ASSERT_TRUE(Converges(m));
  EXPECT_EQ(m.state().tenants.count("fabrikam"), 0u);
  EXPECT_EQ(m.state().vms.count("fabrikam"), 0u);
  EXPECT_EQ(m.state().generation, 2u);
  // A VM of it moves here: the tenant is read and followed from then on.
  ASSERT_EQ(writer_->MigrateVm("Fabrikam1", "host2").outcome, Outcome::kApplied);
  ASSERT_TRUE(Converges(m));
  EXPECT_EQ(m.state().tenants.count("fabrikam"), 1u);
  EXPECT_EQ(m.tenant_revisions().count("fabrikam"), 1u);
  // Contoso3 leaves: host2 drops Contoso.
  ASSERT_EQ(writer_->MigrateVm("Contoso3", "host1", "").outcome, Outcome::kInvalid);  // vm1 taken
  MoveRecords("10.0.1.103", "192.168.0.22");
  ASSERT_TRUE(Converges(m));
  EXPECT_EQ(m.state().tenants.count("contoso"), 0u);
  EXPECT_EQ(m.tenant_revisions().count("contoso"), 0u);
  EXPECT_EQ(m.resyncs(), 0);
  EXPECT_TRUE(m.errors().empty()) << m.errors().front();
}

TEST_F(StoreMirrorTest, ResumesAfterACutWithTheChangesMadeMeanwhile) {
  StoreMirror& m = MirrorThroughProxy("host1", /*cut=*/true);
  const std::string before = Actual(m);
  // Changes while the host cannot see the store: it keeps its last policy.
  AddFabrikamOn("192.168.0.22");
  MoveRecords("10.0.1.103", "192.168.0.11");
  m.Poll(300ms);
  EXPECT_EQ(Actual(m), before);
  EXPECT_NE(Expected("host1"), before);
  proxy_->Restore();
  ASSERT_TRUE(Converges(m));
  EXPECT_EQ(m.state().tenants.count("fabrikam"), 1u);
  EXPECT_EQ(m.resyncs(), 0);  // resumed from its revision, nothing read whole
  EXPECT_EQ(m.state().generation, 3u);
  EXPECT_TRUE(m.errors().empty()) << m.errors().front();
}

TEST_F(StoreMirrorTest, ReadsWholeAgainWhatWasCompactedWhileCut) {
  StoreMirror& m = MirrorThroughProxy("host1", /*cut=*/true);
  AddFabrikamOn("192.168.0.22");
  MoveRecords("10.0.1.102", "192.168.0.33");
  // A VM that leaves host1's tenant while cut: the deletion is compacted away.
  ASSERT_EQ(writer_->RemoveTenant("fabrikam").outcome, Outcome::kApplied);
  AddFabrikamOn("192.168.0.22");
  int64_t rev = 0;
  ASSERT_TRUE(client_->Put(layout_.root() + "unrelated", "x", 0, &rev).ok());
  ASSERT_TRUE(client_->Compact(rev).ok());
  proxy_->Restore();
  ASSERT_TRUE(Converges(m));
  EXPECT_GE(m.resyncs(), 1);
  EXPECT_EQ(m.state().vms.at("contoso").at("Contoso2").host, "host2");
  EXPECT_EQ(m.state().generation, 5u);
  // And it goes on following.
  ASSERT_EQ(writer_->MigrateVm("Contoso2", "host1", "vm2").outcome, Outcome::kApplied);
  ASSERT_TRUE(Converges(m));
  MoveRecords("10.0.1.101", "192.168.0.33");
  ASSERT_TRUE(Converges(m));
  EXPECT_TRUE(m.errors().empty()) << m.errors().front();
  ASSERT_TRUE(Converges(m));
}

// A write spread over several of the mirror's watches (Contoso3's records
// moved: its VM document, host1's placement, the generation), their
// responses delivered one at a time in a chosen order, as etcd may after a
// reconnection (it catches watches up one by one): the state is whole at
// the write's revision only once every watch the write touched delivered
// it, and until then says the revision before.
TEST_F(StoreMirrorTest, AWriteIsWholeOnlyOnceEveryWatchItTouchedDeliveredIt) {
  // Cut: from now on only what the test delivers reaches the mirror.
  StoreMirror& m = MirrorThroughProxy("host1", /*cut=*/true);
  const std::string generation = layout_.Generation();
  const std::string vm = layout_.Vm("contoso", "Contoso3");
  const std::string placement = layout_.Placement("host1", "contoso", "Contoso3");
  // The response of the watch that holds `key`: its event at `revision`.
  auto deliver = [&](const std::string& key, int64_t revision) {
    WatchUpdate u;
    u.watch_id = m.WatchOfForTest(key);
    ASSERT_NE(u.watch_id, 0) << key;
    u.revision = revision;
    RangeResult r = client_->Get(key, revision);
    ASSERT_TRUE(r.status.ok());
    WatchEvent e;
    if (r.kvs.empty()) {
      e.is_delete = true;
      e.kv.key = key;
      e.kv.mod_revision = revision;
    } else {
      ASSERT_EQ(r.kvs[0].mod_revision, revision) << key << " is not part of the write";
      e.kv = r.kvs[0];
    }
    u.events.push_back(e);
    m.DeliverForTest(std::move(u));
  };
  const std::vector<std::vector<std::string>> orders = {
      {vm, generation, placement}, {generation, placement, vm}, {placement, vm, generation}};
  const char* pas[] = {"192.168.0.22", "192.168.0.33", "192.168.0.22"};  // to host1, back, again
  for (size_t i = 0; i < orders.size(); ++i) {
    SCOPED_TRACE("order " + std::to_string(i));
    const int64_t before = m.revision();
    MoveRecords("10.0.1.103", pas[i]);
    const int64_t w = client_->Get(generation).kvs[0].mod_revision;
    for (size_t k = 0; k < orders[i].size(); ++k) {
      deliver(orders[i][k], w);
      m.Poll();
      if (k + 1 < orders[i].size()) {
        EXPECT_FALSE(m.consistent()) << "after " << orders[i][k];
        EXPECT_EQ(m.revision(), before) << "after " << orders[i][k];
        EXPECT_NE(m.Waiting(), "");
      }
    }
    EXPECT_TRUE(m.consistent()) << m.Waiting();
    EXPECT_EQ(m.revision(), w);
    EXPECT_EQ(Actual(m), Expected("host1"));
  }
  // A policy key changed without the generation (behind the writers' back):
  // waited for until taken as it is.
  int64_t rev = 0;
  ASSERT_TRUE(client_->Delete(layout_.Vm("contoso", "Contoso1"), "", &rev).ok());
  deliver(layout_.Vm("contoso", "Contoso1"), rev);
  m.Poll();
  EXPECT_FALSE(m.consistent());
  EXPECT_NE(m.Waiting().find("without it"), std::string::npos) << m.Waiting();
  EXPECT_NE(m.AcceptIncomplete(), "");
  EXPECT_TRUE(m.consistent());
  EXPECT_EQ(m.revision(), rev);
  EXPECT_EQ(Actual(m), Expected("host1"));
}

}  // namespace
}  // namespace hnv::store
