// Hash lookups alone, over the keys the pipeline benchmarks look up, so the
// full path's cost can be stated as a multiple of them:
//   BM_BareHashLookupBulk/N  rte_hash_lookup_bulk, 32 keys per call, on an
//                            rte_hash created exactly like the CA table
//                            (same size, flags, key and hash function) and
//                            holding the same N keys (routing domain, CA);
//   BM_BareHashLookup/N      the same keys one rte_hash_lookup at a time;
//   BM_FindCa/N, BM_FindCaBulk/N  the policy tables' own CA table
//                            (dataplane/policy/rcu_hash.h, not an rte_hash)
//                            through its reader API (one key / 32 keys per
//                            call, keys built as the pipeline builds them).
// Keys are drawn uniformly at random from the remote records, in the same
// sequence as BM_Encap's destinations; "ns_per_pkt" is per key here.
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/bench/bench_common.h"
#include "tests/bench/bench_policy.h"
#include "tests/bench/bench_traffic.h"

namespace hnv::bench {
namespace {

struct BareHash {
  rte_hash* hash = nullptr;
  std::vector<CaKey> keys;        // in lookup order
  std::vector<const void*> ptrs;  // &keys[i], as rte_hash_lookup_bulk takes them
  std::vector<KeyWords<CaKey>> words;  // keys[i] as the pipeline builds them
  ~BareHash() {
    if (hash != nullptr) rte_hash_free(hash);
  }
};

std::map<uint32_t, std::unique_ptr<BareHash>>& Bares() {
  static auto* bares = new std::map<uint32_t, std::unique_ptr<BareHash>>;
  return *bares;
}

// nullptr (after Fail) when it cannot be built.
BareHash* GetBare(benchmark::State& state, uint32_t records) {
  auto& bares = Bares();
  if (auto it = bares.find(records); it != bares.end()) return it->second.get();
  BenchEnv& env = BenchEnv::Get(records);
  auto b = std::make_unique<BareHash>();
  // As RcuHashTable::Init creates the CA table.
  const uint32_t capacity = env.tables().limits().max_records;
  const std::string name = "bare" + std::to_string(records);
  rte_hash_parameters params{};
  params.name = name.c_str();
  params.entries = capacity + capacity / 4 + 64;
  params.key_len = sizeof(CaKey);
  params.hash_func = rte_hash_crc;
  params.hash_func_init_val = 0;
  params.socket_id = SOCKET_ID_ANY;
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  b->hash = rte_hash_create(&params);
  if (b->hash == nullptr) {
    Fail(state, "rte_hash_create: " + std::string(rte_strerror(rte_errno)));
    return nullptr;
  }
  // Exactly the keys of the CA table: records with a CA, minus the DFGW ones.
  const uint32_t rd = env.rd_index();
  bool add_failed = false;
  env.tables().ForEachRecord([&](const LookupRecord& r) {
    if (r.ca.IsUnspecified() || env.tables().FindCa(rd, r.ca) == nullptr) return;
    CaKey k;
    k.rd = rd;
    k.ip = r.ca;
    if (rte_hash_add_key(b->hash, &k) < 0) add_failed = true;
  });
  if (add_failed || static_cast<uint32_t>(rte_hash_count(b->hash)) != env.records()) {
    Fail(state, "bare hash holds " + std::to_string(rte_hash_count(b->hash)) + " keys, wanted " +
                    std::to_string(env.records()));
    return nullptr;
  }
  const Traffic traffic(Flow::kEncap, 64, env.remote_records());
  b->keys.resize(traffic.sequence().size());
  b->ptrs.resize(traffic.sequence().size());
  b->words.resize(traffic.sequence().size());
  for (size_t i = 0; i < b->keys.size(); ++i) {
    b->keys[i].rd = rd;
    b->keys[i].ip = IpAddr::V4(RemoteCa(traffic.sequence()[i]));
    b->ptrs[i] = &b->keys[i];
    b->words[i] = PolicyTables::CaKeyOf(rd, b->keys[i].ip);
  }
  return bares.emplace(records, std::move(b)).first->second.get();
}

constexpr uint32_t kMask = Traffic::kSequenceLength - 1;

void BM_BareHashLookupBulk(benchmark::State& state, uint32_t records) {
  BareHash* b = GetBare(state, records);
  if (b == nullptr) return;
  int32_t positions[kBurst];
  if (rte_hash_lookup_bulk(b->hash, b->ptrs.data(), kBurst, positions) != 0) {
    Fail(state, "rte_hash_lookup_bulk failed");
    return;
  }
  for (int32_t p : positions)
    if (p < 0) return Fail(state, "a key of the sequence is missing");
  uint32_t pos = 0;
  uint64_t lookups = 0;
  for (auto _ : state) {
    rte_hash_lookup_bulk(b->hash, &b->ptrs[pos], kBurst, positions);
    benchmark::DoNotOptimize(positions);
    pos = (pos + kBurst) & kMask;
    lookups += kBurst;
  }
  ReportPackets(state, lookups);
  ReportTables(state, BenchEnv::Get(records));
}

void BM_BareHashLookup(benchmark::State& state, uint32_t records) {
  BareHash* b = GetBare(state, records);
  if (b == nullptr) return;
  uint32_t pos = 0;
  uint64_t lookups = 0;
  for (auto _ : state) {
    for (uint16_t i = 0; i < kBurst; ++i) {
      int32_t p = rte_hash_lookup(b->hash, b->ptrs[pos + i]);
      benchmark::DoNotOptimize(p);
    }
    pos = (pos + kBurst) & kMask;
    lookups += kBurst;
  }
  ReportPackets(state, lookups);
}

void BM_FindCa(benchmark::State& state, uint32_t records) {
  BareHash* b = GetBare(state, records);
  if (b == nullptr) return;
  const PolicyTables& t = BenchEnv::Get(records).tables();
  if (t.FindCa(b->keys[0].rd, b->keys[0].ip) == nullptr) return Fail(state, "CA missing");
  uint32_t pos = 0;
  uint64_t lookups = 0;
  for (auto _ : state) {
    for (uint16_t i = 0; i < kBurst; ++i) {
      const CaKey& k = b->keys[pos + i];
      const CaEntry* e = t.FindCa(k.rd, k.ip);
      benchmark::DoNotOptimize(e);
    }
    pos = (pos + kBurst) & kMask;
    lookups += kBurst;
  }
  ReportPackets(state, lookups);
}

void BM_FindCaBulk(benchmark::State& state, uint32_t records) {
  BareHash* b = GetBare(state, records);
  if (b == nullptr) return;
  const PolicyTables& t = BenchEnv::Get(records).tables();
  const CaEntry* out[kBurst];
  uint32_t pos = 0;
  uint64_t lookups = 0;
  for (auto _ : state) {
    t.FindCaBulk(&b->words[pos], kBurst, out);
    benchmark::DoNotOptimize(out);
    pos = (pos + kBurst) & kMask;
    lookups += kBurst;
  }
  ReportPackets(state, lookups);
}

}  // namespace

void RegisterHashBenchmarks() {
  for (uint32_t records : kRecordCounts) {
    const std::string n = "/" + std::to_string(records);
    benchmark::RegisterBenchmark(("BM_BareHashLookupBulk" + n).c_str(), BM_BareHashLookupBulk,
                                 records);
    benchmark::RegisterBenchmark(("BM_BareHashLookup" + n).c_str(), BM_BareHashLookup, records);
    benchmark::RegisterBenchmark(("BM_FindCaBulk" + n).c_str(), BM_FindCaBulk, records);
    benchmark::RegisterBenchmark(("BM_FindCa" + n).c_str(), BM_FindCa, records);
  }
}

void DestroyHashBenchmarks() { Bares().clear(); }

}  // namespace hnv::bench
