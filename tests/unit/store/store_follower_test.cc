// A host following the store (StoreFollower) against a real etcd: it hands
// its owner the host's policy computed from the store, and a new one only
// when something the host carries changed; it publishes what the owner
// applied under its lease, follows the store's generation without a new
// policy, refuses a store whose policy for the host is invalid (the last one
// keeps running and the status says why), publishes the records learned of
// its own VMs (and only those) and forgets them with the VM's port, and
// keeps its policy while the store is unreachable, then catches up; a writer
// waits for exactly the hosts its write concerns (WaitForHosts).
#include <gtest/gtest.h>

#include <chrono>

#include "config/policy/policy_dump.h"
#include "config/store/host_policy.h"
#include "config/store/store_follower.h"
#include "config/store/store_status.h"
#include "config/store/writer.h"
#include "tests/unit/store/etcd_process.h"
#include "tests/unit/store/store_test_util.h"
#include "tests/unit/store/tcp_proxy.h"

namespace hnv::store {
namespace {

using namespace std::chrono_literals;
using Outcome = WriteResult::Outcome;
using test::WaitFor;

LookupRecord Dynamic(const char* ca, const char* mac, const char* pa) {
  return LookupRecord{*IpAddr::Parse(ca),  6000, *MacAddr::Parse(mac), *IpAddr::Parse(pa),
                      TranslationRule::kEncap, RecordType::kDynamic, ""};
}

bool HasRecord(const FollowedPolicy& p, const std::string& ca, RecordType type) {
  for (const LookupRecord& r : p.policy.policy.records)
    if (r.ca.ToString() == ca && r.type == type) return true;
  return false;
}

class StoreFollowerTest : public test::EtcdSuite {
 protected:
  void SetUp() override {
    EtcdSuite::SetUp();
    writer_ = std::make_unique<StoreWriter>(client_.get(), layout_);
    // The chapter's lab, host1 with a spare port vm3 (Contoso3 migrates there).
    std::vector<std::string> files = test::ChapterFiles();
    files[0] = (test::ChapterDir() / "host1-spare-port.yaml").string();
    WriteResult r = writer_->ApplyFiles(files);
    ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  }
  FollowerOptions Options(const std::string& host) {
    FollowerOptions o;
    o.host = host;
    o.layout = layout_;
    o.status_ttl_s = 5;
    o.status_interval = 100ms;
    return o;
  }
  std::string Expected(const std::string& host) {
    StoreState s(layout_);
    EXPECT_TRUE(LoadState(*client_, &s).ok());
    const std::optional<HostPolicy> hp = ComputeHostPolicy(s, host);
    return hp ? DumpPolicy(hp->policy) : "";
  }
  std::optional<StatusDoc> Status(const std::string& host) {
    RangeResult r = client_->Get(layout_.Status(host));
    if (r.kvs.empty()) return std::nullopt;
    std::string error;
    return StatusFromJson(r.kvs[0].value, &error);
  }
  // Takes policies until one computed at `revision` or later comes (10 s).
  std::optional<FollowedPolicy> TakeAt(StoreFollower& f, int64_t revision) {
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < end) {
      std::optional<FollowedPolicy> p = f.Take(100ms);
      if (p && p->revision >= revision) return p;
    }
    return std::nullopt;
  }
  WriteResult Change(const std::string& op, config::Kind kind, nlohmann::json object) {
    WriteResult r = writer_->ApplyChange(test::Change(op, kind, std::move(object)), "");
    EXPECT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
    return r;
  }
  std::unique_ptr<StoreWriter> writer_;
};

TEST_F(StoreFollowerTest, HandsOverTheHostsPolicyAndPublishesWhatWasApplied) {
  StoreFollower host1(client_.get(), Options("host1"));
  host1.Start();
  std::optional<FollowedPolicy> p = host1.Take(10s);
  ASSERT_TRUE(p.has_value()) << host1.health().last_error;
  EXPECT_EQ(DumpPolicy(p->policy.policy), Expected("host1"));
  EXPECT_EQ(p->generation, 1u);
  EXPECT_EQ(p->policy.tenants, std::vector<std::string>{"contoso"});
  EXPECT_EQ(p->host.ports.size(), 4u);  // uplink, vm1, vm2, vm3
  // Nothing is published until the owner says it applied it.
  EXPECT_FALSE(Status("host1").has_value());
  host1.Applied(*p, true, {}, p->policy.policy.records.size());
  ASSERT_TRUE(WaitFor([&] { return Status("host1").has_value(); }));
  StatusDoc st = *Status("host1");
  EXPECT_EQ(st.generation, 1u);
  EXPECT_EQ(st.revision, p->revision);
  EXPECT_EQ(st.tenants.at("contoso"), p->tenant_revisions.at("contoso"));
  EXPECT_TRUE(st.errors.empty());

  // Contoso3 moves to host1: a new policy, at the write's revision or later.
  WriteResult w = writer_->MigrateVm("Contoso3", "host1", "vm3");
  ASSERT_EQ(w.outcome, Outcome::kApplied) << w.ToString();
  p = TakeAt(host1, w.revision);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(DumpPolicy(p->policy.policy), Expected("host1"));
  EXPECT_EQ(p->generation, 2u);
  host1.Applied(*p, true, {}, p->policy.policy.records.size());
  ASSERT_TRUE(WaitFor([&] { return Status("host1")->generation == 2; }));
  EXPECT_GE(Status("host1")->tenants.at("contoso"), w.revision);

  // A tenant host1 does not carry: no new policy, but the status follows
  // the store's generation (the running policy is what generation 3 says).
  test::TempDir dir;
  w = writer_->ApplyFiles({dir.Write("fabrikam.yaml", test::FabrikamYaml("192.168.0.33"))});
  ASSERT_EQ(w.outcome, Outcome::kApplied) << w.ToString();
  EXPECT_FALSE(host1.Take(500ms).has_value());
  ASSERT_TRUE(WaitFor([&] { return Status("host1")->generation == 3; }));
  EXPECT_EQ(host1.health().applied_generation, 3u);
  EXPECT_EQ(host1.health().incomplete, 0u) << host1.health().last_error;
  host1.Stop(/*revoke=*/true);
  EXPECT_FALSE(Status("host1").has_value()) << "a clean stop takes the status with it";
}

TEST_F(StoreFollowerTest, WaitingForTheHostsAWriteConcerns) {
  StoreFollower host1(client_.get(), Options("host1"));
  StoreFollower host2(client_.get(), Options("host2"));
  host1.Start();
  host2.Start();
  for (StoreFollower* f : {&host1, &host2}) {
    std::optional<FollowedPolicy> p = f->Take(10s);
    ASSERT_TRUE(p.has_value());
    f->Applied(*p, true, {}, 0);
  }
  StoreStatus s;
  ASSERT_TRUE(WaitFor([&] { return ReadStoreStatus(*client_, layout_, &s).ok() && s.status.size() == 2; }));
  EXPECT_EQ(s.generation, 1u);
  EXPECT_EQ(s.hosts.size(), 3u);  // the gateway has no status: not running
  EXPECT_EQ(s.status.at("host1").generation, 1u);
  // Contoso3 to host1: host1, host2 and the gateway are concerned; host1 and
  // host2 apply it, the gateway (not running) does not.
  WriteResult w = writer_->MigrateVm("Contoso3", "host1", "vm3");
  ASSERT_EQ(w.outcome, Outcome::kApplied) << w.ToString();
  for (StoreFollower* f : {&host1, &host2}) {
    std::optional<FollowedPolicy> p = TakeAt(*f, w.revision);
    ASSERT_TRUE(p.has_value());
    f->Applied(*p, true, {}, 0);
  }
  std::map<std::string, HostReached> reached;
  std::string error;
  EXPECT_FALSE(WaitForHosts(*client_, layout_, w.hosts, w.revision, 1s, &reached, &error));
  EXPECT_EQ(error, "");
  ASSERT_EQ(reached.size(), 3u);
  EXPECT_FALSE(reached.at("gateway").status.has_value());
  EXPECT_GE(reached.at("host1").status->revision, w.revision);
  EXPECT_GE(reached.at("host2").status->revision, w.revision);
  EXPECT_TRUE(WaitForHosts(*client_, layout_, {"host1", "host2"}, w.revision, 1s, &reached, &error));
  host1.Stop(true);
  host2.Stop(true);
}

TEST_F(StoreFollowerTest, AnInvalidPolicyIsRefusedAndTheLastOneKeeps) {
  StoreFollower host2(client_.get(), Options("host2"));
  host2.Start();
  std::optional<FollowedPolicy> p = host2.Take(10s);
  ASSERT_TRUE(p.has_value());
  host2.Applied(*p, true, {}, p->policy.policy.records.size());
  // Written behind the writer's back (without the generation, so the
  // follower waits for it in vain, then takes the state as it is): a second
  // VM with Contoso1's CA.
  VmDoc bad = writer_->state().vms.at("contoso").at("Contoso3");
  bad.name = "Impostor";
  bad.mac = *MacAddr::Parse("600060000299");
  bad.addresses = {*IpAddr::Parse("10.0.1.101")};
  bad.port = "";
  ASSERT_TRUE(client_->Put(layout_.Vm("contoso", "Impostor"), ToJson(bad)).ok());
  EXPECT_FALSE(host2.Take(1s).has_value());
  ASSERT_TRUE(WaitFor([&] { return !Status("host2")->errors.empty(); }));
  const StatusDoc st = *Status("host2");
  EXPECT_EQ(st.generation, 1u) << "the policy applied before still runs";
  EXPECT_NE(st.errors[0].find("is invalid"), std::string::npos) << st.errors[0];
  EXPECT_NE(st.errors[0].find("10.0.1.101"), std::string::npos) << st.errors[0];
  // Removed again: a valid policy comes, equal to the store's.
  int64_t rev = 0;
  ASSERT_TRUE(client_->Delete(layout_.Vm("contoso", "Impostor"), "", &rev).ok());
  p = TakeAt(host2, rev);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(DumpPolicy(p->policy.policy), Expected("host2"));
  EXPECT_NE(p->incomplete.find("without it"), std::string::npos) << p->incomplete;
  EXPECT_EQ(host2.health().incomplete, 2u);
  host2.Applied(*p, true, {}, 0);
  ASSERT_TRUE(WaitFor([&] { return Status("host2")->errors.empty(); }));
  host2.Stop(true);
}

TEST_F(StoreFollowerTest, RecordsLearnedOfItsOwnVmsArePublishedAndGoWithThePort) {
  // An L2Only VM on host2 (its address is learned).
  Change("new", config::Kind::kLookupRecord,
         {{"customer_address", "0.0.0.0"}, {"vsid", 6000}, {"mac", "600060000204"},
          {"provider_address", "192.168.0.33"}, {"type", "L2Only"}});
  StoreFollower host2(client_.get(), Options("host2"));
  StoreFollower gateway(client_.get(), Options("gateway"));
  host2.Start();
  gateway.Start();
  ASSERT_TRUE(host2.Take(10s).has_value());
  ASSERT_TRUE(gateway.Take(10s).has_value());
  // Learned of a VM elsewhere (host1's PA): not host2's to publish.
  host2.Learned(Dynamic("10.0.1.160", "600060000101", "192.168.0.22"));
  // Learned of its own L2Only VM: published, and in host2's next policy at
  // once (before the store's echo) and in the gateway's.
  host2.Learned(Dynamic("10.0.1.150", "600060000204", "192.168.0.33"));
  std::optional<FollowedPolicy> p = host2.Take(10s);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(HasRecord(*p, "10.0.1.150", RecordType::kDynamic));
  ASSERT_TRUE(WaitFor([&] { return client_->RangePrefix(layout_.LearnedPrefix()).kvs.size() == 1; }));
  EXPECT_EQ(client_->RangePrefix(layout_.LearnedPrefix()).kvs[0].key,
            layout_.Learned("host2", 6000, *IpAddr::Parse("10.0.1.150")));
  std::optional<FollowedPolicy> g;
  ASSERT_TRUE(WaitFor([&] {
    if (auto next = gateway.Take(); next) g = std::move(next);
    return g && HasRecord(*g, "10.0.1.150", RecordType::kDynamic);
  }));
  // The VM's port goes: its learned records leave the store and every policy.
  host2.PortGone(6000, *MacAddr::Parse("600060000204"));
  ASSERT_TRUE(WaitFor([&] {
    if (auto next = host2.Take(); next) p = std::move(next);
    return !HasRecord(*p, "10.0.1.150", RecordType::kDynamic);
  }));
  ASSERT_TRUE(WaitFor([&] { return client_->RangePrefix(layout_.LearnedPrefix()).kvs.empty(); }));
  ASSERT_TRUE(WaitFor([&] {
    if (auto next = gateway.Take(); next) g = std::move(next);
    return !HasRecord(*g, "10.0.1.150", RecordType::kDynamic);
  }));
  host2.Stop(true);
  gateway.Stop(true);
}

TEST_F(StoreFollowerTest, KeepsItsPolicyWhileTheStoreIsAwayAndCatchesUp) {
  test::TcpProxy proxy(etcd_->client_port());
  std::unique_ptr<EtcdClient> through = ClientThrough(proxy, 500);
  StoreFollower host1(through.get(), Options("host1"));
  host1.Start();
  std::optional<FollowedPolicy> p = host1.Take(10s);
  ASSERT_TRUE(p.has_value());
  host1.Applied(*p, true, {}, 0);
  ASSERT_TRUE(WaitFor([&] { return Status("host1").has_value(); }));
  proxy.Cut();
  ASSERT_TRUE(WaitFor([&] { return !host1.health().connected; }));
  // Changes while host1 cannot see the store: nothing reaches it.
  WriteResult w = writer_->MigrateVm("Contoso3", "host1", "vm3");
  ASSERT_EQ(w.outcome, Outcome::kApplied) << w.ToString();
  EXPECT_FALSE(host1.Take(1s).has_value());
  // Back: the change arrives (resumed from host1's revision), and the status
  // follows.
  proxy.Restore();
  p = TakeAt(host1, w.revision);
  ASSERT_TRUE(p.has_value()) << host1.health().last_error;
  EXPECT_EQ(DumpPolicy(p->policy.policy), Expected("host1"));
  EXPECT_EQ(p->incomplete, "");
  host1.Applied(*p, true, {}, 0);
  ASSERT_TRUE(WaitFor([&] { return Status("host1")->revision >= w.revision; }));
  EXPECT_GE(host1.health().disconnects, 1);
  host1.Stop(true);
}

}  // namespace
}  // namespace hnv::store
