// Writing the store against a real etcd: the chapter's files become the
// documented keys in one transaction; every whole-store rule refuses what
// breaks it (at the YAML line) and writes nothing; a writer that read an
// older store gets a conflict and never a mixed state; a migration is one
// transaction; the chapter's cmdlets change the right documents.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "config/store/host_policy.h"
#include "config/store/writer.h"
#include "config/policy/policy_dump.h"
#include "tests/unit/store/etcd_process.h"
#include "tests/unit/store/store_test_util.h"

namespace hnv::store {
namespace {

using Outcome = WriteResult::Outcome;
using test::ChapterDir;
using test::ChapterFiles;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class StoreWriterTest : public test::EtcdSuite {
 protected:
  void SetUp() override {
    EtcdSuite::SetUp();
    writer_ = std::make_unique<StoreWriter>(client_.get(), layout_);
  }
  // Applies the chapter's lab; fails the test unless written.
  void ApplyChapter() {
    WriteResult r = writer_->ApplyFiles(ChapterFiles());
    ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  }
  // Every key under the test's root, relative to it.
  std::vector<std::string> Keys() {
    std::vector<std::string> out;
    for (const KeyValue& kv : client_->RangePrefix(layout_.root()).kvs)
      out.push_back(kv.key.substr(layout_.root().size()));
    return out;
  }
  std::string Value(const std::string& key) {
    RangeResult r = client_->Get(layout_.root() + key);
    return r.kvs.empty() ? "" : r.kvs[0].value;
  }
  // The generation key's number (the text before the manifest).
  std::string GenerationNumber() {
    const std::string v = Value("generation");
    return v.substr(0, v.find(' '));
  }
  StoreState Read() {
    StoreState s(layout_);
    EXPECT_TRUE(LoadState(*client_, &s).ok());
    return s;
  }
  // A host file like the chapter's host1 with one more VM port, vm3.
  std::string Host1WithVm3() {
    std::string text = ReadFile(ChapterDir() / "host1.yaml");
    text.replace(text.find("  - contoso.yaml"), 16, "  - " + (ChapterDir() / "contoso.yaml").string());
    text.replace(text.find("provider_addresses:"), 0,
                 "  - name: vm3\n    device: net_af_packet3,iface=vm3\n\n");
    return dir_.Write("host1.yaml", text);
  }

  std::unique_ptr<StoreWriter> writer_;
  test::TempDir dir_;
};

TEST_F(StoreWriterTest, TheChaptersFilesBecomeTheDocumentedKeysInOneTransaction) {
  WriteResult r = writer_->ApplyFiles(ChapterFiles());
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  EXPECT_EQ(r.generation, 1u);
  EXPECT_EQ(r.hosts, (std::set<std::string>{"gateway", "host1", "host2"}));
  EXPECT_EQ(r.tenants, std::set<std::string>{"contoso"});
  EXPECT_EQ(Keys(), (std::vector<std::string>{
                        "generation",
                        "hosts/gateway",
                        "hosts/host1",
                        "hosts/host2",
                        "placement/gateway/contoso/contoso-600160010301",
                        "placement/host1/contoso/Contoso1",
                        "placement/host1/contoso/Contoso2",
                        "placement/host2/contoso/Contoso3",
                        "tenants/contoso/spec",
                        "tenants/contoso/vms/Contoso1",
                        "tenants/contoso/vms/Contoso2",
                        "tenants/contoso/vms/Contoso3",
                        "tenants/contoso/vms/contoso-600160010301",
                    }));
  // The generation says what the transaction touched (for the hosts' mirrors).
  EXPECT_EQ(Value("generation"), R"(1 {"hosts":["gateway","host1","host2"],)"
                                 R"("placement":["gateway","host1","host2"],"tenants":["contoso"]})");
  EXPECT_EQ(Value("tenants/contoso/vms/Contoso3"),
            R"({"addresses":["10.0.1.103"],"host":"host2","mac":"600060000203","name":"Contoso3",)"
            R"("port":"vm1","rule":"TranslationMethodEncap","tenant":"contoso","type":"Static",)"
            R"("vm_name":"","vsid":6000})");
  // All of it at one revision: one transaction.
  std::set<int64_t> revisions;
  for (const KeyValue& kv : client_->RangePrefix(layout_.root()).kvs) revisions.insert(kv.mod_revision);
  EXPECT_EQ(revisions.size(), 1u);
  EXPECT_EQ(*revisions.begin(), r.revision);
  // The same files again change nothing, not even the generation.
  StoreWriter other(client_.get(), layout_);
  EXPECT_EQ(other.ApplyFiles(ChapterFiles()).outcome, Outcome::kUnchanged);
  EXPECT_EQ(GenerationNumber(), "1");
  // What was read back computes the same policies.
  const StoreState s = Read();
  EXPECT_EQ(DumpPolicy(ComputeHostPolicy(s, "host1")->policy),
            test::Golden("chapter_host1.txt", DumpPolicy(ComputeHostPolicy(s, "host1")->policy)));
}

struct RuleCase {
  const char* name;
  const char* file;  // written as tenant.yaml (or host3.yaml when it has host:)
  const char* expected;  // the errors, "%D/" standing for the file's directory
};

class WholeStoreRules : public StoreWriterTest, public ::testing::WithParamInterface<RuleCase> {};

TEST_P(WholeStoreRules, RefusedAtTheYamlLineAndNothingWritten) {
  ApplyChapter();
  const std::vector<std::string> before = Keys();
  const std::string text = GetParam().file;
  const bool host = text.find("host:") != std::string::npos;
  std::string body = text;
  for (size_t p; (p = body.find("%C")) != std::string::npos;)
    body.replace(p, 2, (ChapterDir() / "contoso.yaml").string());
  const std::string f = dir_.Write(host ? "host3.yaml" : "tenant.yaml", body);
  WriteResult r = writer_->ApplyFiles({f});
  std::string expected = GetParam().expected;
  for (size_t p; (p = expected.find("%D/")) != std::string::npos;)
    expected.replace(p, 3, dir_.path().string() + "/");
  for (size_t p; (p = expected.find("%C")) != std::string::npos;)
    expected.replace(p, 2, (ChapterDir() / "contoso.yaml").string());
  EXPECT_EQ(r.outcome, Outcome::kInvalid);
  EXPECT_EQ(test::Join(r.errors), expected);
  EXPECT_EQ(Keys(), before);
  EXPECT_EQ(GenerationNumber(), "1");
}

INSTANTIATE_TEST_SUITE_P(
    Store, WholeStoreRules,
    ::testing::Values(
        RuleCase{"VsidUniqueInTheDataCenter", R"(routing_domains:
  - rdid: "{12345678-1000-2000-3000-123456780002}"
    name: Fabrikam
    virtual_subnets:
      - vsid: 6000
        prefix: 10.7.0.0/24
)",
                 "%D/tenant.yaml:5: routing_domains[0].virtual_subnets[0].vsid: 6000 is already a "
                 "virtual subnet of tenant contoso (tenants/contoso/spec.virtual_subnets[0].vsid); "
                 "a VSID is unique in the data center\n"},
        RuleCase{"RdidUniqueInTheDataCenter", R"(routing_domains:
  - rdid: "{12345678-1000-2000-3000-123456780001}"
    name: Fabrikam
    virtual_subnets:
      - vsid: 7000
        prefix: 10.7.0.0/24
)",
                 "%D/tenant.yaml:2: routing_domains[0].rdid: {12345678-1000-2000-3000-123456780001} "
                 "is already the routing domain of tenant contoso (tenants/contoso/spec.rdid); an "
                 "RDID is unique in the data center\n"},
        RuleCase{"CaUniqueInsideARoutingDomain", R"(routing_domains:
  - rdid: "{12345678-1000-2000-3000-123456780002}"
    name: Fabrikam
    virtual_subnets:
      - vsid: 7000
        prefix: 10.0.1.0/24
lookup_records:
  - customer_address: 10.0.1.101
    vsid: 7000
    mac: 700070000101
    provider_address: 192.168.0.22
  - customer_address: 10.0.1.101
    vsid: 7000
    mac: 700070000102
    provider_address: 192.168.0.33
)",
                 "%D/tenant.yaml:12: lookup_records[1].customer_address: 10.0.1.101 is already used by "
                 "lookup_records[0] (line 8) in routing domain {12345678-1000-2000-3000-123456780002}; "
                 "a CA is unique inside its routing domain\n"},
        RuleCase{"MacUniqueInsideARoutingDomain", R"(routing_domains:
  - rdid: "{12345678-1000-2000-3000-123456780002}"
    name: Fabrikam
    virtual_subnets:
      - vsid: 7000
        prefix: 10.0.1.0/24
lookup_records:
  - customer_address: 10.0.1.101
    vsid: 7000
    mac: 700070000101
    provider_address: 192.168.0.22
  - customer_address: 10.0.1.102
    vsid: 7000
    mac: 700070000101
    provider_address: 192.168.0.22
    vm_name: Other
)",
                 "%D/tenant.yaml:14: lookup_records[1].mac: 700070000101 is already used by "
                 "lookup_records[0] (line 8) in routing domain {12345678-1000-2000-3000-123456780002}; "
                 "a MAC is unique inside its routing domain (only an L2Only record and its Dynamic "
                 "records share one) (on host host1)\n"},
        RuleCase{"VmsOnKnownHosts", R"(routing_domains:
  - rdid: "{12345678-1000-2000-3000-123456780002}"
    name: Fabrikam
    virtual_subnets:
      - vsid: 7000
        prefix: 10.0.1.0/24
lookup_records:
  - customer_address: 10.0.1.101
    vsid: 7000
    mac: 700070000101
    provider_address: 192.168.0.99
)",
                 "%D/tenant.yaml:11: lookup_records[0].provider_address: 192.168.0.99 is not a provider "
                 "address of any host (gateway 192.168.0.11, host1 192.168.0.22, host2 192.168.0.33)\n"},
        RuleCase{"VmNameUniqueInTheDataCenter", R"(routing_domains:
  - rdid: "{12345678-1000-2000-3000-123456780002}"
    name: Fabrikam
    virtual_subnets:
      - vsid: 7000
        prefix: 10.0.1.0/24
lookup_records:
  - customer_address: 10.0.1.101
    vsid: 7000
    mac: 700070000101
    provider_address: 192.168.0.22
    vm_name: Contoso1
)",
                 "%D/tenant.yaml:12: lookup_records[0].vm_name: VM Contoso1 is already a VM of tenant "
                 "contoso; a VM name is unique in the data center\n"},
        RuleCase{"PaUniqueInTheDataCenter", R"(include: %C
host:
  name: host3
ports:
  - name: uplink
    device: net_af_packet0,iface=uplink
provider_addresses:
  - address: 192.168.0.22
    prefix_length: 24
    mac: 324455667799
    port: uplink
)",
                 "%D/host3.yaml:8: provider_addresses[0].address: 192.168.0.22 is already a provider "
                 "address of host host1; a PA belongs to one host in the data center\n"},
        RuleCase{"AHostFileIsCheckedAsItsDaemonChecksIt", R"(include: %C
host:
  name: host3
ports:
  - name: uplink
    device: net_af_packet0,iface=uplink
  - name: vm1
    device: net_af_packet1,iface=vm1
provider_addresses:
  - address: 192.168.1.44
    prefix_length: 24
    mac: 324455667799
    port: uplink
vm_network_adapters:
  - vm_name: Contoso4
    mac: 600060000204
    vsid: 6000
    port: vm1
)",
                 "%C:44: lookup_records[1].provider_address: 192.168.0.22 is unreachable: not on the "
                 "subnet of a provider address of this host and no provider route covers it\n"
                 "%C:49: lookup_records[2].provider_address: 192.168.0.22 is unreachable: not on the "
                 "subnet of a provider address of this host and no provider route covers it\n"
                 "%C:54: lookup_records[3].provider_address: 192.168.0.33 is unreachable: not on the "
                 "subnet of a provider address of this host and no provider route covers it\n"
                 "%C:59: lookup_records[4].provider_address: 192.168.0.11 is unreachable: not on the "
                 "subnet of a provider address of this host and no provider route covers it\n"}),
    [](const ::testing::TestParamInfo<RuleCase>& i) { return std::string(i.param.name); });


TEST_F(StoreWriterTest, AHostFileAloneKeepsTheTenantsCompartment) {
  ApplyChapter();
  // host1.yaml again (it includes contoso.yaml, so Contoso is among its
  // tenants): without the gateway's file, the compartment stays.
  WriteResult r = writer_->ApplyFiles({ChapterFiles()[0]});
  EXPECT_EQ(r.outcome, Outcome::kUnchanged) << r.ToString();
  EXPECT_TRUE(Read().tenants.at("contoso").gateway.has_value());
  // With the gateway's file (which still has Contoso's tenant file) too.
  r = writer_->ApplyFiles({ChapterFiles()[0], ChapterFiles()[2]});
  EXPECT_EQ(r.outcome, Outcome::kUnchanged) << r.ToString();
}

TEST_F(StoreWriterTest, PasMustBeRoutableFromEveryHostThatCarriesTheTenant) {
  ApplyChapter();
  // host3 on another provider subnet, routed to the chapter's; the
  // chapter's hosts have no route back.
  const std::string f = dir_.Write("host3.yaml", R"(host:
  name: host3
ports:
  - name: uplink
    device: net_af_packet0,iface=uplink
  - name: vm1
    device: net_af_packet1,iface=vm1
provider_addresses:
  - address: 192.168.1.44
    prefix_length: 24
    mac: 324455667799
    port: uplink
provider_routes:
  - destination: 192.168.0.0/24
    port: uplink
    next_hop: 192.168.1.1
)");
  WriteResult r = writer_->ApplyFiles({f});
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();  // carries nothing yet
  const std::vector<std::string> before = Keys();
  r = writer_->ApplyChange(test::Change("new", config::Kind::kLookupRecord,
                                      {{"customer_address", "10.0.1.104"},
                                       {"vsid", 6000},
                                       {"mac", "600060000204"},
                                       {"provider_address", "192.168.1.44"},
                                       {"vm_name", "Contoso4"}}),
                           "");
  EXPECT_EQ(r.outcome, Outcome::kInvalid);
  EXPECT_EQ(test::Join(r.errors),
            "store: tenants/contoso/vms/Contoso4.host: 192.168.1.44 is unreachable: not on the "
            "subnet of a provider address of this host and no provider route covers it (on hosts "
            "gateway, host1, host2)\n");
  EXPECT_EQ(Keys(), before);
  // With the route back on every host it is fine.
  for (const std::string h : {"host1", "host2", "gateway"}) {
    r = writer_->ApplyChange(test::Change("new", config::Kind::kProviderRoute,
                                        {{"destination", "192.168.1.0/24"},
                                         {"port", "uplink"},
                                         {"next_hop", "192.168.0.1"}}),
                             h);
    ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  }
  r = writer_->ApplyChange(test::Change("new", config::Kind::kLookupRecord,
                                      {{"customer_address", "10.0.1.104"},
                                       {"vsid", 6000},
                                       {"mac", "600060000204"},
                                       {"provider_address", "192.168.1.44"},
                                       {"vm_name", "Contoso4"}}),
                           "");
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  EXPECT_EQ(r.hosts, (std::set<std::string>{"gateway", "host1", "host2", "host3"}));
  EXPECT_EQ(Value("placement/host3/contoso/Contoso4"), "");
}

TEST_F(StoreWriterTest, APortCarriesOneVmWhateverItsTenant) {
  ApplyChapter();
  const std::string f = dir_.Write("fabrikam.yaml", test::FabrikamYaml("192.168.0.22"));
  WriteResult r = writer_->ApplyFiles({f});
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  r = writer_->ApplyChange(test::Change("new", config::Kind::kVmNetworkAdapter,
                                      {{"vm_name", "Fabrikam1"},
                                       {"port", "vm1"},
                                       {"mac", "700070000101"},
                                       {"vsid", 7000}}),
                           "host1");
  EXPECT_EQ(r.outcome, Outcome::kInvalid);
  EXPECT_EQ(test::Join(r.errors),
            "store: tenants/fabrikam/vms/Fabrikam1.port: port vm1 of host host1 is already the "
            "adapter of VM Contoso1 of tenant contoso; a port carries one VM\n");
  // A VM network adapter change names its host.
  r = writer_->ApplyChange(test::Change("remove", config::Kind::kVmNetworkAdapter,
                                      {{"vm_name", "Contoso1"}}),
                           "");
  EXPECT_EQ(test::Join(r.errors),
            "remove vm-network-adapter: in the store, a vm-network-adapter change names its host "
            "(hnvctl --store URL --host NAME)\n");
}

TEST_F(StoreWriterTest, AWriterThatReadAnOlderStoreGetsAConflictAndWritesNothing) {
  ApplyChapter();
  StoreWriter stale(client_.get(), layout_);
  ASSERT_TRUE(stale.Refresh().ok());
  // Another writer changes the store meanwhile.
  const std::string f = dir_.Write("fabrikam.yaml", test::FabrikamYaml("192.168.0.33"));
  ASSERT_EQ(writer_->ApplyFiles({f}).outcome, Outcome::kApplied);
  const std::vector<std::string> before = Keys();
  // The stale writer's change was valid when it read the store; it is
  // refused as a whole, not half written.
  WriteResult r = stale.MigrateVm("Contoso3", "host1", "vm2");
  EXPECT_EQ(r.outcome, Outcome::kInvalid) << r.ToString();  // vm2 is Contoso2's
  r = stale.ApplyChange(test::Change("new", config::Kind::kLookupRecord,
                                   {{"customer_address", "10.0.1.104"},
                                    {"vsid", 6000},
                                    {"mac", "600060000204"},
                                    {"provider_address", "192.168.0.33"}}),
                        "");
  EXPECT_EQ(r.outcome, Outcome::kConflict);
  EXPECT_EQ(r.message, "new lookup-record: conflict: another writer changed the store after it was "
                       "read (generation 1 read, now 2 (revision " +
                           std::to_string(client_->Get(layout_.Generation()).kvs[0].mod_revision) +
                           ")); nothing was written: read the store again and retry");
  EXPECT_EQ(Keys(), before);
  EXPECT_EQ(GenerationNumber(), "2");
  // Read again, validated again, written.
  r = stale.ApplyChange(test::Change("new", config::Kind::kLookupRecord,
                                   {{"customer_address", "10.0.1.104"},
                                    {"vsid", 6000},
                                    {"mac", "600060000204"},
                                    {"provider_address", "192.168.0.33"}}),
                        "");
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  EXPECT_EQ(r.generation, 3u);
}

TEST_F(StoreWriterTest, ConcurrentWritersNeverLeaveAMixedState) {
  ApplyChapter();
  // Eight writers at once, each a tenant of 20 VMs: with no retries some
  // conflict; each tenant is in the store whole or not at all.
  constexpr int kWriters = 8;
  std::vector<std::string> files;
  for (int w = 0; w < kWriters; ++w) {
    std::string text = "routing_domains:\n  - rdid: \"{12345678-1000-2000-3000-1234567800" +
                       std::to_string(10 + w) + "}\"\n    name: T" + std::to_string(w) +
                       "\n    virtual_subnets:\n      - vsid: " + std::to_string(8000 + w) +
                       "\n        prefix: 10.9.0.0/24\nlookup_records:\n";
    for (int v = 0; v < 20; ++v)
      text += "  - customer_address: 10.9.0." + std::to_string(10 + v) + "\n    vsid: " +
              std::to_string(8000 + w) + "\n    mac: 7000" + std::to_string(10 + w) + "0000" +
              std::to_string(10 + v) + "\n    provider_address: 192.168.0." +
              (v % 2 ? "22" : "33") + "\n";
    files.push_back(dir_.Write("t" + std::to_string(w) + ".yaml", text));
  }
  std::atomic<int> applied{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::unique_ptr<EtcdClient> c = etcd_->Connect();
      StoreWriter sw(c.get(), layout_);
      sw.Refresh();
      WriteResult r = sw.ApplyFiles({files[w]});
      if (r.outcome == Outcome::kApplied) ++applied;
      if (r.outcome == Outcome::kConflict) ++conflicts;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(applied + conflicts, kWriters);
  EXPECT_GE(applied, 1);
  StoreState s = Read();
  EXPECT_EQ(s.generation, 1u + static_cast<uint64_t>(applied.load()));
  EXPECT_EQ(s.tenants.size(), 1u + static_cast<size_t>(applied.load()));
  for (const auto& [name, t] : s.tenants)
    EXPECT_EQ(s.vms.at(name).size(), name == "contoso" ? 4u : 20u) << name;
  // With retries every writer gets through, re-validated against the others.
  std::vector<std::thread> again;
  std::atomic<int> ok{0};
  for (int w = 0; w < kWriters; ++w) {
    again.emplace_back([&, w] {
      std::unique_ptr<EtcdClient> c = etcd_->Connect();
      StoreWriter sw(c.get(), layout_);
      sw.set_retries(50);
      if (sw.ApplyFiles({files[w]}).ok()) ++ok;
    });
  }
  for (std::thread& t : again) t.join();
  EXPECT_EQ(ok, kWriters);
  EXPECT_EQ(Read().tenants.size(), 1u + kWriters);
}

TEST_F(StoreWriterTest, AMigrationIsOneTransaction) {
  WriteResult r = writer_->ApplyFiles({Host1WithVm3(), ChapterFiles()[1], ChapterFiles()[2]});
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  r = writer_->MigrateVm("Contoso3", "host1", "vm1");
  EXPECT_EQ(r.outcome, Outcome::kInvalid);
  EXPECT_EQ(test::Join(r.errors),
            "store: tenants/contoso/vms/Contoso3.port: vm1 (port 1) is already the port of "
            "tenants/contoso/vms/Contoso1 (Contoso1) (on host host1)\n");
  EXPECT_EQ(test::Join(writer_->MigrateVm("Contoso9", "host1").errors),
            "migrate: no VM named Contoso9 in the store\n");
  EXPECT_EQ(test::Join(writer_->MigrateVm("Contoso3", "host9").errors),
            "migrate: no host named host9 in the store\n");
  const int64_t before = client_->Get(layout_.Generation()).kvs[0].mod_revision;
  r = writer_->MigrateVm("Contoso3", "host1", "vm3");
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  EXPECT_EQ(r.puts, 2u);     // the VM, its new placement (+ the generation)
  EXPECT_EQ(r.deletes, 1u);  // its old placement
  EXPECT_EQ(r.hosts, (std::set<std::string>{"gateway", "host1", "host2"}));
  EXPECT_EQ(r.revision, before + 1);
  EXPECT_EQ(Value("generation"), R"(2 {"hosts":[],"placement":["host1","host2"],"tenants":["contoso"]})");
  EXPECT_EQ(Value("placement/host2/contoso/Contoso3"), "");
  EXPECT_TRUE(client_->Get(layout_.Placement("host2", "contoso", "Contoso3")).kvs.empty());
  EXPECT_EQ(client_->Get(layout_.Placement("host1", "contoso", "Contoso3")).kvs.size(), 1u);
  const StoreState s = Read();
  for (const std::string h : {"host1", "gateway"}) {
    const std::optional<HostPolicy> hp = ComputeHostPolicy(s, h);
    for (const LookupRecord& rec : hp->policy.records) {
      if (rec.ca.ToString() == "10.0.1.103") {
        EXPECT_EQ(rec.pa.ToString(), "192.168.0.22") << h;
      }
    }
  }
  EXPECT_TRUE(ComputeHostPolicy(s, "host2")->tenants.empty());
  EXPECT_EQ(writer_->MigrateVm("Contoso3", "host1", "vm3").outcome, Outcome::kUnchanged);
}

TEST_F(StoreWriterTest, TheChaptersCmdletsChangeTheRightDocuments) {
  ApplyChapter();
  using config::Kind;
  // A VM by its lookup record: on the host of its PA.
  WriteResult r = writer_->ApplyChange(test::Change("new", Kind::kLookupRecord,
                                                  {{"customer_address", "10.0.1.104"},
                                                   {"vsid", 6000},
                                                   {"mac", "600060000204"},
                                                   {"provider_address", "192.168.0.33"},
                                                   {"rule", "TranslationMethodEncap"}}),
                                       "");
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  EXPECT_EQ(Value("tenants/contoso/vms/contoso-600060000204"),
            R"({"addresses":["10.0.1.104"],"host":"host2","mac":"600060000204","name":"contoso-600060000204",)"
            R"("port":"","rule":"TranslationMethodEncap","tenant":"contoso","type":"Static",)"
            R"("vm_name":"","vsid":6000})");
  // Its adapter on host2, by name: the VM takes the adapter's name.
  r = writer_->ApplyChange(test::Change("new", Kind::kVmNetworkAdapter,
                                      {{"vm_name", "Contoso4"}, {"port", "vm1"},
                                       {"mac", "600060000204"}, {"vsid", 6000}}),
                           "host2");
  EXPECT_EQ(r.outcome, Outcome::kInvalid);  // vm1 is Contoso3's
  EXPECT_EQ(test::Join(r.errors),
            "store: tenants/contoso/vms/Contoso4.port: vm1 (port 1) is already the port of "
            "tenants/contoso/vms/Contoso3 (Contoso3) (on host host2)\n");
  // Set-NetVirtualizationLookupRecord moves it to host1.
  r = writer_->ApplyChange(test::Change("set", Kind::kLookupRecord,
                                      {{"customer_address", "10.0.1.104"},
                                       {"vsid", 6000},
                                       {"provider_address", "192.168.0.22"}}),
                           "");
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  EXPECT_EQ(Read().vms.at("contoso").at("contoso-600060000204").host, "host1");
  EXPECT_EQ(client_->Get(layout_.Placement("host1", "contoso", "contoso-600060000204")).kvs.size(), 1u);
  // Same CA again: the host's own words.
  r = writer_->ApplyChange(test::Change("new", Kind::kLookupRecord,
                                      {{"customer_address", "10.0.1.104"},
                                       {"vsid", 6000},
                                       {"mac", "600060000299"},
                                       {"provider_address", "192.168.0.22"}}),
                           "");
  EXPECT_EQ(test::Join(r.errors),
            "new lookup-record: lookup-record vsid, customer_address already exists (use set to "
            "change it)\n");
  // A record of an unknown VSID, and one without a VSID.
  r = writer_->ApplyChange(test::Change("new", Kind::kLookupRecord,
                                      {{"customer_address", "10.0.1.5"}, {"vsid", 9999},
                                       {"mac", "600060000299"}, {"provider_address", "192.168.0.22"}}),
                           "");
  EXPECT_EQ(test::Join(r.errors),
            "new lookup-record: vsid: 9999 is not a virtual subnet of any tenant in the store\n");
  // A DFGW record is the tenant's local record, whatever PA it is given.
  r = writer_->ApplyChange(test::Change("set", Kind::kLookupRecord,
                                      {{"customer_address", "10.0.1.1"}, {"vsid", 6000},
                                       {"mac", "600060000199"}}),
                           "");
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  StoreState s = Read();
  EXPECT_EQ(s.tenants.at("contoso").local_records.front().mac.ToCompactString(), "600060000199");
  // A customer route, a provider route on one host.
  r = writer_->ApplyChange(test::Change("new", Kind::kCustomerRoute,
                                      {{"rdid", "{12345678-1000-2000-3000-123456780001}"},
                                       {"vsid", 6001},
                                       {"destination", "10.5.0.0/16"},
                                       {"next_hop", "10.0.2.2"}}),
                           "");
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  EXPECT_EQ(r.hosts, (std::set<std::string>{"gateway", "host1", "host2"}));
  r = writer_->ApplyChange(test::Change("new", Kind::kProviderRoute,
                                      {{"destination", "10.20.0.0/16"}, {"port", "uplink"},
                                       {"next_hop", "192.168.0.1"}}),
                           "host2");
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  s = Read();
  EXPECT_EQ(s.hosts.at("host2").provider_routes.size(), 1u);
  EXPECT_EQ(s.hosts.at("host1").provider_routes.size(), 0u);
  // Remove the record: the VM goes.
  r = writer_->ApplyChange(test::Change("remove", Kind::kLookupRecord,
                                      {{"customer_address", "10.0.1.104"}, {"vsid", 6000}}),
                           "");
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  EXPECT_EQ(Read().vms.at("contoso").count("contoso-600060000204"), 0u);
  EXPECT_TRUE(client_->Get(layout_.Placement("host1", "contoso", "contoso-600060000204")).kvs.empty());
}

TEST_F(StoreWriterTest, RemovingAHostThatStillCarriesVmsIsRefused) {
  ApplyChapter();
  WriteResult r = writer_->RemoveHost("host2");
  EXPECT_EQ(r.outcome, Outcome::kInvalid);
  EXPECT_EQ(test::Join(r.errors),
            "store: tenants/contoso/vms/Contoso3.host: host host2 is not in the store (hosts: "
            "gateway, host1)\n");
  r = writer_->RemoveTenant("contoso");
  ASSERT_EQ(r.outcome, Outcome::kApplied) << r.ToString();
  EXPECT_EQ(Keys(), (std::vector<std::string>{"generation", "hosts/gateway", "hosts/host1",
                                              "hosts/host2"}));
  ASSERT_EQ(writer_->RemoveHost("host2").outcome, Outcome::kApplied);
}
}  // namespace
}  // namespace hnv::store
