// What a host publishes (status, learned records) lives under its lease: it
// vanishes when the host stops refreshing it, comes back with a new lease,
// and a record learned on one host reaches the other hosts of the tenant
// through their mirrors.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "config/store/host_policy.h"
#include "config/store/host_publisher.h"
#include "config/store/store_mirror.h"
#include "config/store/writer.h"
#include "tests/unit/store/etcd_process.h"
#include "tests/unit/store/store_test_util.h"

namespace hnv::store {
namespace {

using test::WaitFor;

using namespace std::chrono_literals;

class HostPublisherTest : public test::EtcdSuite {};

TEST_F(HostPublisherTest, AStatusLivesUnderTheHostsLease) {
  HostPublisher pub(client_.get(), layout_, "host1", 2);
  ASSERT_TRUE(WaitFor([&] { return pub.lease() != 0; }));
  StatusDoc st;
  st.generation = 4;
  st.revision = 99;
  st.tenants = {{"contoso", 97}};
  ASSERT_TRUE(pub.Publish(st).ok());
  RangeResult r = client_->Get(layout_.Status("host1"));
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0].lease, pub.lease());
  std::string error;
  EXPECT_EQ(StatusFromJson(r.kvs[0].value, &error)->host, "host1");
  // The lease lost under its feet (revoked): written again with a new one.
  const int64_t first = pub.lease();
  ASSERT_TRUE(client_->LeaseRevoke(first).ok());
  ASSERT_TRUE(WaitFor([&] {
    RangeResult again = client_->Get(layout_.Status("host1"));
    return again.kvs.size() == 1 && again.kvs[0].lease != first;
  }));
  // The host dies (stops refreshing without revoking): gone within the TTL.
  pub.Stop(/*revoke=*/false);
  const auto stopped = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return client_->Get(layout_.Status("host1")).kvs.empty(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, 4s);
}

TEST_F(HostPublisherTest, ALearnedRecordReachesTheTenantsOtherHosts) {
  StoreWriter writer(client_.get(), layout_);
  ASSERT_EQ(writer.ApplyFiles(test::ChapterFiles()).outcome, WriteResult::Outcome::kApplied);
  // An L2Only VM on host2: its IPs are learned.
  WriteResult w = writer.ApplyChange(
      test::Change("new", config::Kind::kLookupRecord,
                   {{"customer_address", "0.0.0.0"},
                    {"vsid", 6000},
                    {"mac", "600060000204"},
                    {"provider_address", "192.168.0.33"},
                    {"type", "L2Only"}}),
      "");
  ASSERT_EQ(w.outcome, WriteResult::Outcome::kApplied) << w.ToString();
  StoreMirror gateway(client_.get(), layout_, "gateway");
  ASSERT_TRUE(gateway.Start().ok());
  auto learned_on_gateway = [&] {
    gateway.Poll(20ms);
    const std::optional<HostPolicy> hp = ComputeHostPolicy(gateway.state(), "gateway");
    for (const LookupRecord& r : hp->policy.records)
      if (r.type == RecordType::kDynamic && r.ca.ToString() == "10.0.1.150") return true;
    return false;
  };
  EXPECT_FALSE(learned_on_gateway());
  HostPublisher host2(client_.get(), layout_, "host2", 5);
  ASSERT_TRUE(WaitFor([&] { return host2.lease() != 0; }));
  ASSERT_TRUE(host2
                  .Learn(LookupRecord{*IpAddr::Parse("10.0.1.150"), 6000, *MacAddr::Parse("600060000204"),
                                      *IpAddr::Parse("192.168.0.33"), TranslationRule::kEncap,
                                      RecordType::kDynamic, ""})
                  .ok());
  ASSERT_TRUE(WaitFor(learned_on_gateway));
  // The VM's port goes on host2: its learned records go, everywhere.
  ASSERT_TRUE(host2.ForgetMac(6000, *MacAddr::Parse("600060000204")).ok());
  ASSERT_TRUE(WaitFor([&] { return !learned_on_gateway(); }));
  EXPECT_TRUE(client_->RangePrefix(layout_.LearnedPrefix()).kvs.empty());
  host2.Stop(/*revoke=*/true);
}

}  // namespace
}  // namespace hnv::store
