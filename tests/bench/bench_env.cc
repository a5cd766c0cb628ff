#include "tests/bench/bench_env.h"

#include <malloc.h>
#include <rte_malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>

#include "config/policy/validate.h"
#include "tests/bench/bench_policy.h"
#include "tests/lib/chapter_policy.h"

namespace hnv::bench {
namespace {

std::map<uint32_t, std::unique_ptr<BenchEnv>>& Envs() {
  static auto* envs = new std::map<uint32_t, std::unique_ptr<BenchEnv>>;
  return *envs;
}

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "bench setup: %s\n", msg.c_str());
  std::exit(2);
}

size_t MallocInUse() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

int g_pool_id = 0;

}  // namespace

uint16_t CountingSink::Send(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept {
  if (inspect != nullptr)
    for (uint16_t i = 0; i < n; ++i) inspect(inspect_arg, port, pkts[i]);
  sent[port] += n;
  rte_pktmbuf_free_bulk(pkts, n);
  return n;
}

BenchEnv& BenchEnv::Get(uint32_t records) {
  auto& envs = Envs();
  auto it = envs.find(records);
  if (it == envs.end()) {
    const std::string name = "b" + std::to_string(records);
    it = envs.emplace(records, std::unique_ptr<BenchEnv>(new BenchEnv(records, name))).first;
  }
  return *it->second;
}

void BenchEnv::DestroyAll() { Envs().clear(); }

BenchEnv::BenchEnv(uint32_t records, const std::string& name) : records_(records) {
  const auto t0 = std::chrono::steady_clock::now();
  TableLimits limits;  // the production defaults: 1,100,000 records
  limits.max_workers = 4;
  limits.name = name;
  const size_t qsv_size = rte_rcu_qsbr_get_memsize(limits.max_workers);
  qsv_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("bench_qsv", qsv_size, RTE_CACHE_LINE_SIZE));
  if (qsv_ == nullptr || rte_rcu_qsbr_init(qsv_, limits.max_workers) != 0) Die("rcu qsbr");
  std::string error;
  tables_ = PolicyTables::Create(limits, qsv_, &error);
  if (tables_ == nullptr) Die(error);

  remote_ = RemoteRecordsFor(records);
  size_t before = 0;
  {
    const Policy policy = BenchPolicy(records);
    // Validation sorts every record; worth it where it is quick, and the
    // policy's shape does not depend on the count.
    if (records <= 100'000) {
      const auto errors = ValidatePolicy(policy);
      if (!errors.empty()) Die("bench policy invalid: " + errors.front().ToString());
    }
    before = MallocInUse();
    if (!tables_->Apply(policy, &error)) Die("Apply: " + error);
  }
  for (const auto& p : tables_->Unresolved())
    tables_->LearnNeighbor(p.port, p.next_hop, ProviderGwMac());
  tables_->Synchronize();
  if (!tables_->Unresolved().empty()) Die("provider next hops left unresolved");
  if (tables_->record_count() != records)
    Die("CA table holds " + std::to_string(tables_->record_count()) + " records, wanted " +
        std::to_string(records));
  rd_index_ = tables_->RdIndex(test::ContosoRdid());
  // Every record is found through the readers' API: the CA entry by
  // (domain, CA), the L2 entry by (VSID, MAC). (DFGW records have neither:
  // they live in the snapshot.)
  uint32_t found = 0;
  bool l2_ok = true;
  tables_->ForEachRecord([&](const LookupRecord& r) {
    const CaEntry* ca = tables_->FindCa(rd_index_, r.ca);
    if (ca == nullptr) return;
    if (ca->mac == r.mac && ca->vsid == r.vsid) ++found;
    if (tables_->FindL2(r.vsid, r.mac) == nullptr) l2_ok = false;
  });
  if (found != records || !l2_ok)
    Die("readers find " + std::to_string(found) + " of " + std::to_string(records) + " CA records" +
        (l2_ok ? "" : " and miss L2 entries"));
  memory_ = tables_->Memory();
  const size_t after = MallocInUse();
  control_bytes_per_record_ = after > before ? static_cast<double>(after - before) / records : 0.0;
  setup_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "bench setup: %s: %u records (%u remote) in %.1f s\n", name.c_str(), records,
               remote_, setup_seconds_);
}

BenchEnv::~BenchEnv() {
  tables_.reset();
  rte_free(qsv_);
}

BenchWorker::BenchWorker(BenchEnv& env, uint32_t worker_id)
    : tables_(&env.tables()), qsv_(env.qsv()) {
  const std::string name = "bench_pool" + std::to_string(g_pool_id++);
  pool_ = CreatePacketPool(name.c_str(), 8191, SOCKET_ID_ANY);
  if (pool_ == nullptr) Die("packet pool: " + std::string(rte_strerror(rte_errno)));
  ctx_.worker_id = worker_id;
  ctx_.tables = tables_;
  ctx_.pool = pool_;
  ctx_.events = nullptr;  // nothing in these flows posts events; counted as lost if so
  ctx_.tx = &sink_;
  ctx_.counters = &counters_;
  if (!acl_sessions_.Init(AclSessions::kDefaultCapacity, 7)) Die("ACL session table");
  ctx_.acl_sessions = &acl_sessions_;
}

BenchWorker::~BenchWorker() {
  if (joined_) Leave();
  rte_mempool_free(pool_);
}

void BenchWorker::Join() {
  rte_rcu_qsbr_thread_register(qsv_, ctx_.worker_id);
  rte_rcu_qsbr_thread_online(qsv_, ctx_.worker_id);
  joined_ = true;
}

void BenchWorker::Leave() {
  rte_rcu_qsbr_thread_offline(qsv_, ctx_.worker_id);
  rte_rcu_qsbr_thread_unregister(qsv_, ctx_.worker_id);
  joined_ = false;
}

uint64_t BenchWorker::total_drops() const {
  uint64_t t = 0;
  for (uint64_t d : counters_.drops) t += d;
  return t;
}

std::string BenchWorker::DropSummary() const {
  std::string s;
  for (uint16_t i = 0; i < kDropCount; ++i) {
    if (counters_.drops[i] == 0) continue;
    if (!s.empty()) s += ", ";
    s += std::string(DropName(static_cast<Drop>(i))) + "=" + std::to_string(counters_.drops[i]);
  }
  if (counters_.events_lost != 0) {
    if (!s.empty()) s += ", ";
    s += "events_lost=" + std::to_string(counters_.events_lost);
  }
  return s;
}

}  // namespace hnv::bench
