// Per-host policy from the store: the chapter's lab imported from its YAML
// gives each host exactly the policy its own YAML gives it (as sets: the
// store orders by name), a stable dump (golden files), and a migration
// changes every host's records at once.
#include <gtest/gtest.h>

#include <algorithm>

#include "config/gateway_config.h"
#include "config/json_model.h"
#include "config/store/host_policy.h"
#include "config/store/import.h"
#include "config/policy/policy_dump.h"
#include "tests/unit/store/store_test_util.h"

namespace hnv::store {
namespace {

using test::ChapterDir;
using test::ChapterFiles;

// Every section of a policy as sorted canonical JSON: equal when the two
// policies hold the same elements, whatever their order.
std::string Canonical(const Policy& p) {
  std::string out;
  for (config::Kind kind : config::kAllKinds) {
    nlohmann::json a = config::KindToJson(p, kind);
    std::vector<std::string> items;
    for (const auto& e : a) items.push_back(e.dump());
    std::sort(items.begin(), items.end());
    out += std::string(config::KindName(kind)) + ":\n";
    for (const std::string& i : items) out += "  " + i + "\n";
  }
  return out;
}

class ChapterStore : public ::testing::Test {
 protected:
  void SetUp() override {
    im_ = ImportFiles(ChapterFiles(), StoreState());
    ASSERT_TRUE(im_.errors.empty()) << test::Join(im_.errors);
    state_ = test::StateOf(im_);
  }
  ImportResult im_;
  StoreState state_;
};

TEST_F(ChapterStore, ImportMakesTheChaptersDocuments) {
  std::vector<std::string> hosts, vms;
  for (const auto& [name, h] : state_.hosts) hosts.push_back(name);
  EXPECT_EQ(hosts, (std::vector<std::string>{"gateway", "host1", "host2"}));
  ASSERT_EQ(state_.tenants.size(), 1u);
  const TenantDoc& t = state_.tenants.at("contoso");
  EXPECT_EQ(t.routing_domain.rdid.ToString(), "{12345678-1000-2000-3000-123456780001}");
  EXPECT_EQ(t.local_records.size(), 2u);  // the two DFGWs
  ASSERT_TRUE(t.gateway);
  EXPECT_EQ(t.gateway->host, "gateway");
  EXPECT_EQ(t.gateway->spec.netns, "hnv-contoso");
  for (const auto& [name, vm] : state_.vms.at("contoso")) vms.push_back(name + "@" + vm.host + ":" + vm.port);
  EXPECT_EQ(vms, (std::vector<std::string>{"Contoso1@host1:vm1", "Contoso2@host1:vm2",
                                           "Contoso3@host2:vm1", "contoso-600160010301@gateway:"}));
  EXPECT_EQ(state_.vms.at("contoso").at("Contoso3").addresses.front().ToString(), "10.0.1.103");
  EXPECT_EQ(state_.placement.at("host1").at("contoso"),
            (std::set<std::string>{"Contoso1", "Contoso2"}));
  EXPECT_EQ(state_.host_vms.at("gateway").at("contoso"),
            (std::set<std::string>{"contoso-600160010301"}));
}

TEST_F(ChapterStore, EachHostGetsWhatItsOwnYamlGivesIt) {
  for (const std::string host : {"host1", "host2"}) {
    config::LoadResult yaml = config::LoadHostConfig((ChapterDir() / (host + ".yaml")).string());
    ASSERT_TRUE(yaml.config) << test::Join(yaml.errors);
    std::optional<HostPolicy> hp = ComputeHostPolicy(state_, host);
    ASSERT_TRUE(hp);
    EXPECT_TRUE(hp->errors.empty()) << hp->errors.front();
    EXPECT_EQ(Canonical(hp->policy), Canonical(yaml.config->policy)) << host;
    EXPECT_EQ(hp->tenants, std::vector<std::string>{"contoso"});
    EXPECT_EQ(hp->ports.size(), yaml.config->ports.size());
  }
  config::GatewayLoadResult gw =
      config::LoadGatewayConfig((ChapterDir() / "gateway" / "gateway.yaml").string());
  ASSERT_TRUE(gw.config) << test::Join(gw.errors);
  std::optional<HostPolicy> hp = ComputeHostPolicy(state_, "gateway");
  ASSERT_TRUE(hp);
  EXPECT_EQ(Canonical(hp->policy), Canonical(gw.config->host.policy));
  ASSERT_EQ(hp->compartments.size(), 1u);
  config::CompartmentSpec expected = gw.config->compartments.front();
  expected.file.clear();
  EXPECT_EQ(hp->compartments.front(), expected);
}

TEST_F(ChapterStore, PolicyDumpsAreStable) {
  for (const std::string host : {"host1", "host2", "gateway"}) {
    std::optional<HostPolicy> hp = ComputeHostPolicy(state_, host);
    ASSERT_TRUE(hp);
    const std::string dump = DumpPolicy(hp->policy);
    EXPECT_EQ(dump, test::Golden("chapter_" + host + ".txt", dump)) << host;
  }
}

TEST_F(ChapterStore, AHostCarriesOnlyTheTenantsWithAVmOnIt) {
  // Fabrikam: a second tenant with one VM on host2 only.
  test::TempDir dir;
  const std::string f = dir.Write("fabrikam.yaml", test::FabrikamYaml("192.168.0.33"));
  ImportResult more = ImportFiles({f}, state_);
  ASSERT_TRUE(more.errors.empty()) << test::Join(more.errors);
  test::PutAll(more, &state_);
  EXPECT_EQ(ComputeHostPolicy(state_, "host1")->tenants, std::vector<std::string>{"contoso"});
  std::optional<HostPolicy> h2 = ComputeHostPolicy(state_, "host2");
  EXPECT_EQ(h2->tenants, (std::vector<std::string>{"contoso", "fabrikam"}));
  // The same CA in two routing domains: both on host2, each in its own.
  size_t with_ca = 0;
  for (const LookupRecord& r : h2->policy.records) with_ca += r.ca.ToString() == "10.0.1.101";
  EXPECT_EQ(with_ca, 2u);
  EXPECT_EQ(ComputeHostPolicy(state_, "nosuch"), std::nullopt);
}

TEST_F(ChapterStore, AMigratedVmsRecordsCarryItsNewHostsPaEverywhere) {
  VmDoc c3 = state_.vms.at("contoso").at("Contoso3");
  c3.host = "host1";
  c3.port = "";
  state_.Erase(state_.layout().Placement("host2", "contoso", "Contoso3"));
  state_.Put(KeyValue{state_.layout().Vm("contoso", "Contoso3"), ToJson(c3), 0, 100, 2, 0});
  for (const std::string host : {"host1", "gateway"}) {
    std::optional<HostPolicy> hp = ComputeHostPolicy(state_, host);
    const auto r = std::find_if(hp->policy.records.begin(), hp->policy.records.end(),
                                [](const LookupRecord& x) { return x.ca.ToString() == "10.0.1.103"; });
    ASSERT_NE(r, hp->policy.records.end());
    EXPECT_EQ(r->pa.ToString(), "192.168.0.22") << host;
  }
  // host2 has no VM of Contoso left: it carries nothing.
  std::optional<HostPolicy> h2 = ComputeHostPolicy(state_, "host2");
  EXPECT_TRUE(h2->tenants.empty());
  EXPECT_TRUE(h2->policy.records.empty());
  EXPECT_EQ(h2->policy.provider_addresses.size(), 1u);
}

TEST_F(ChapterStore, LearnedRecordsReachTheTenantsHostsWhileTheVmIsWhereTheySay) {
  // An L2Only VM on host2 whose IPs are learned.
  VmDoc l2;
  l2.name = "Learner";
  l2.tenant = "contoso";
  l2.vsid = 6000;
  l2.mac = *MacAddr::Parse("600060000204");
  l2.type = RecordType::kL2Only;
  l2.host = "host2";
  const Layout& L = state_.layout();
  state_.Put(KeyValue{L.Vm("contoso", "Learner"), ToJson(l2), 0, 50, 1, 0});
  LearnedDoc d;
  d.host = "host2";
  d.record = LookupRecord{*IpAddr::Parse("10.0.1.150"), 6000, l2.mac, *IpAddr::Parse("192.168.0.33"),
                          TranslationRule::kEncap, RecordType::kDynamic, ""};
  state_.Put(KeyValue{L.Learned("host2", 6000, d.record.ca), ToJson(d), 0, 51, 1, 0});
  // The same record learned by host1 (the other end of the ARP exchange).
  d.host = "host1";
  state_.Put(KeyValue{L.Learned("host1", 6000, d.record.ca), ToJson(d), 0, 52, 1, 0});
  auto learned_on = [&](const std::string& host) {
    size_t n = 0;
    const std::optional<HostPolicy> hp = ComputeHostPolicy(state_, host);
    for (const LookupRecord& r : hp->policy.records)
      n += r.type == RecordType::kDynamic && r.ca.ToString() == "10.0.1.150";
    return n;
  };
  EXPECT_EQ(learned_on("host1"), 1u);
  EXPECT_EQ(learned_on("gateway"), 1u);
  // A learned CA that a static record holds is not taken.
  d.record.ca = *IpAddr::Parse("10.0.1.101");
  state_.Put(KeyValue{L.Learned("host2", 6000, d.record.ca), ToJson(d), 0, 53, 1, 0});
  size_t dup = 0;
  const std::optional<HostPolicy> h1 = ComputeHostPolicy(state_, "host1");
  for (const LookupRecord& r : h1->policy.records) dup += r.ca.ToString() == "10.0.1.101";
  EXPECT_EQ(dup, 1u);
  // The VM moves: its old learned records no longer say where it is.
  l2.host = "host1";
  state_.Put(KeyValue{L.Vm("contoso", "Learner"), ToJson(l2), 0, 54, 2, 0});
  EXPECT_EQ(learned_on("host1"), 0u);
  EXPECT_EQ(learned_on("gateway"), 0u);
}

}  // namespace
}  // namespace hnv::store
