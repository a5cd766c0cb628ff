// Dataplane benchmarks: the full pipeline (Pipeline::ProcessRx + flush into a
// sink that frees) on in-memory mbufs, one core, bursts of 32; the cost of
// refilling those mbufs on its own; bare hash lookups; policy updates with
// traffic running (hash_bench.cc, update_bench.cc). Run with
// tests/bench/run_benchmarks.sh; RESULTS.md explains every number.
//
// Each pipeline benchmark iteration allocates 32 mbufs, copies the template
// frame into each and patches the record it is for (bench_traffic.h), then
// runs the burst as a worker's loop iteration does. BM_RefillOnly/<flow>/<len>
// measures the refill (alloc + copy + patch + free) alone, so the pipeline's
// own cost is BM_<Flow> - BM_RefillOnly.
#include <rte_eal.h>
#include <rte_errno.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/packet/checksum.h"
#include "dataplane/packet/headers.h"
#include "tests/bench/bench_common.h"
#include "tests/bench/bench_policy.h"
#include "tests/bench/bench_traffic.h"
#include "tests/lib/eal_env.h"

namespace hnv::bench {
namespace {

bool g_failed = false;

constexpr uint32_t kFrameLens[] = {64, 1500};
constexpr Flow kFlows[] = {Flow::kEncap, Flow::kDecap, Flow::kRouteLocal, Flow::kRouteEncap};

const char* FlowTitle(Flow f) {
  switch (f) {
    case Flow::kEncap:
      return "Encap";
    case Flow::kDecap:
      return "Decap";
    case Flow::kRouteLocal:
      return "RouteLocal";
    case Flow::kRouteEncap:
      return "RouteEncap";
  }
  return "?";
}

// ------------------------------------------------------------ output checks

uint32_t ReadAddr(const uint8_t* p) {
  uint32_t be;
  std::memcpy(&be, p, 4);
  return HostToNet(be);
}

MacAddr ReadMac(const uint8_t* p) {
  MacAddr m;
  std::memcpy(m.b.data(), p, 6);
  return m;
}

bool IpChecksumOk(const uint8_t* ip) {
  return Ipv4HeaderChecksumOk(reinterpret_cast<const Ipv4Hdr*>(ip));
}

// Checks what the sink receives during the warm-up: the right port, length,
// and headers derived from the right record. Not used while timing.
struct OutputCheck {
  Flow flow;
  uint32_t wire_len;
  uint32_t remote;
  uint64_t moves;  // of the records, so far (bench_env.h)
  uint64_t checked = 0;
  std::string error;

  void Bad(const std::string& what) {
    if (error.empty()) error = what;
  }

  void Check(uint16_t port, const rte_mbuf* m) {
    ++checked;
    const auto* f = rte_pktmbuf_mtod(m, const uint8_t*);
    const uint32_t len = rte_pktmbuf_data_len(m);
    constexpr uint32_t kEth = sizeof(EthHdr), kIp = sizeof(Ipv4Hdr);
    constexpr uint32_t kOuter = kEth + kIp + sizeof(NvgreHdr);
    switch (flow) {
      case Flow::kEncap:
      case Flow::kRouteEncap: {
        if (port != kUplinkPort)
          return Bad("encapsulated frame left by port " + std::to_string(port));
        if (len != wire_len + kOuter) return Bad("encapsulated length " + std::to_string(len));
        if (f[kEth + 9] != kIpProtoGre) return Bad("outer protocol is not GRE");
        if (!IpChecksumOk(f + kEth) || !IpChecksumOk(f + kOuter + kEth))
          return Bad("IPv4 header checksum wrong");
        const auto* gre = reinterpret_cast<const NvgreHdr*>(f + kEth + kIp);
        if (gre->vsid() != kVsidA) return Bad("GRE key VSID " + std::to_string(gre->vsid()));
        const uint32_t r = ReadAddr(f + kOuter + kEth + 16) - kFirstRemoteCa;
        const uint64_t moved = moves / remote + (r < moves % remote ? 1 : 0);
        if (ReadAddr(f + kEth + 16) != RemotePa(MovedPaIndex(r, moved)))
          return Bad("outer destination is not the record's PA");
        if (ReadMac(f + kOuter) != MacFromU64(RemoteMacU64(r)))
          return Bad("inner destination MAC is not the record's");
        if (flow == Flow::kRouteEncap && f[kOuter + kEth + 8] != 63)
          return Bad("routed packet's TTL was not decremented");
        return;
      }
      case Flow::kDecap:
        if (port != kBenchAPort)
          return Bad("decapsulated frame left by port " + std::to_string(port));
        if (len + kOuter != wire_len) return Bad("decapsulated length " + std::to_string(len));
        if (ReadMac(f) != BenchAMac()) return Bad("inner destination MAC changed");
        if (!IpChecksumOk(f + kEth)) return Bad("IPv4 header checksum wrong");
        return;
      case Flow::kRouteLocal: {
        const uint32_t k = ReadAddr(f + kEth + 16) - kFirstBenchBCa;
        if (port != kFirstBenchBPort + k) return Bad("routed frame left by the wrong port");
        if (len != wire_len) return Bad("routed length " + std::to_string(len));
        if (ReadMac(f) != BenchBMac(k) || ReadMac(f + 6) != DfgwBMac())
          return Bad("routed MACs not rewritten");
        if (f[kEth + 8] != 63) return Bad("routed packet's TTL was not decremented");
        if (!IpChecksumOk(f + kEth)) return Bad("IPv4 header checksum wrong");
        return;
      }
    }
  }
  static void Hook(void* self, uint16_t port, const rte_mbuf* m) {
    static_cast<OutputCheck*>(self)->Check(port, m);
  }
};

uint64_t Delivered(const BenchWorker& w, Flow flow) {
  const CountingSink& s = w.sink();
  switch (flow) {
    case Flow::kEncap:
    case Flow::kRouteEncap:
      return s.sent[kUplinkPort];
    case Flow::kDecap:
      return s.sent[kBenchAPort];
    case Flow::kRouteLocal: {
      uint64_t t = 0;
      for (uint16_t k = 0; k < kBenchBCount; ++k) t += s.sent[kFirstBenchBPort + k];
      return t;
    }
  }
  return 0;
}

uint64_t SentTotal(const BenchWorker& w) {
  uint64_t t = 0;
  for (uint64_t s : w.sink().sent) t += s;
  return t;
}

// ------------------------------------------------------------ benchmarks

// BenchA's port ACLs for BM_Acl: `rules` rules that BenchA's traffic
// (10.x) matches none of, all scanned per frame, in both directions:
// stateless, IP rules (Both) on remote /32s of 172.16/16; stateful, extended
// rules (both directions) on 172.16 remote /32s below one stateful Allow ANY
// of weight 1, whose session then admits every frame of a flow.
Policy AclPolicy(uint32_t records, uint32_t rules, bool stateful) {
  Policy p = BenchPolicy(records);
  for (uint32_t i = 0; i < rules; ++i) {
    AclAddress a{false, IpPrefix{IpAddr::V4(0xac100000u + i), 32}};
    if (!stateful) {
      p.port_acls.push_back(
          PortAcl{"BenchA", AclDirection::kBoth, AclAction::kDeny, false, a, MacAddr{}});
      continue;
    }
    PortExtendedAcl x;
    x.vm_name = "BenchA";
    x.direction = i % 2 == 0 ? AclDirection::kInbound : AclDirection::kOutbound;
    x.action = AclAction::kDeny;
    x.remote_ip = a;
    x.weight = 10 + i;
    if (i + 2 >= rules) {  // the last two: a stateful Allow ANY each way
      x.action = AclAction::kAllow;
      x.remote_ip = AclAddress{};
      x.stateful = true;
      x.weight = 1;
    }
    p.port_extended_acls.push_back(x);
  }
  return p;
}

void BM_Pipeline(benchmark::State& state, Flow flow, uint32_t records, uint32_t frame_len) {
  BenchEnv& env = BenchEnv::Get(records);
  Traffic traffic(flow, frame_len, env.remote_records());
  BenchWorker w(env, 0);
  w.Join();
  const uint16_t port = traffic.rx_port();
  rte_mbuf* pkts[kBurst];

  // Where the update benchmark has moved the records (decap sends from there).
  const std::atomic<uint64_t>* moves = &env.moves();
  // Warm-up with every output checked; then only counted.
  OutputCheck check{flow, traffic.wire_len(), env.remote_records(), moves->load()};
  w.sink().inspect = &OutputCheck::Hook;
  w.sink().inspect_arg = &check;
  constexpr int kWarmBursts = 256;
  for (int i = 0; i < kWarmBursts && traffic.Refill(w.pool(), pkts, kBurst, moves); ++i)
    w.RunBurst(port, pkts, kBurst);
  w.sink().inspect = nullptr;
  if (!check.error.empty() || w.total_drops() != 0 || check.checked != kWarmBursts * kBurst) {
    Fail(state, "warm-up: " + (check.error.empty() ? w.DropSummary() : check.error) + " (" +
                    std::to_string(check.checked) + " frames out)");
    return;
  }
  const uint64_t drops0 = w.total_drops(), delivered0 = Delivered(w, flow), sent0 = SentTotal(w);

  uint64_t bursts = 0;
  for (auto _ : state) {
    if (!traffic.Refill(w.pool(), pkts, kBurst, moves)) {
      Fail(state, "mbuf pool empty");
      break;
    }
    w.RunBurst(port, pkts, kBurst);
    ++bursts;
  }
  w.Leave();
  const uint64_t packets = bursts * kBurst;
  const uint64_t delivered = Delivered(w, flow) - delivered0;
  if (w.total_drops() != drops0 || delivered != packets || SentTotal(w) - sent0 != packets) {
    Fail(state, std::to_string(packets - delivered) + " of " + std::to_string(packets) +
                    " not delivered: " + w.DropSummary());
    return;
  }
  ReportPackets(state, packets);
  state.SetBytesProcessed(static_cast<int64_t>(packets * frame_len));
  ReportTables(state, env);
}

// BM_Pipeline at 1,000 records and 64 bytes with `policy` (BenchPolicy
// changed) applied for this run only.
constexpr uint32_t kVariantRecords = 1'000;
void BM_PipelineWith(benchmark::State& state, Flow flow, const Policy& policy) {
  BenchEnv& env = BenchEnv::Get(kVariantRecords);
  std::string error;
  if (!env.tables().Apply(policy, &error)) {
    Fail(state, "Apply: " + error);
    return;
  }
  env.tables().Synchronize();
  BM_Pipeline(state, flow, kVariantRecords, 64);
  if (!env.tables().Apply(BenchPolicy(kVariantRecords), &error)) Fail(state, "Apply: " + error);
  env.tables().Synchronize();
}

// With `rules` port ACLs on BenchA (AclPolicy).
void BM_Acl(benchmark::State& state, Flow flow, uint32_t rules, bool stateful) {
  BM_PipelineWith(state, flow, AclPolicy(kVariantRecords, rules, stateful));
}

// With port security off on every VM adapter (-MacAddressSpoofing On,
// -DhcpGuard Off, -RouterGuard Off): what the default anti-spoofing costs
// is BM_Encap/1000/64 (on, the default) against this (issue 17).
void BM_PortSecurityOff(benchmark::State& state, Flow flow) {
  Policy p = BenchPolicy(kVariantRecords);
  for (VmPort& v : p.vm_ports) v.Trust();
  BM_PipelineWith(state, flow, p);
}

void BM_RefillOnly(benchmark::State& state, Flow flow, uint32_t frame_len) {
  // The refill does not read the tables; the smallest env gives the sequence
  // its record range (the cost does not depend on it).
  BenchEnv& env = BenchEnv::Get(kRecordCounts[0]);
  Traffic traffic(flow, frame_len, env.remote_records());
  BenchWorker w(env, 0);
  rte_mbuf* pkts[kBurst];
  uint64_t bursts = 0;
  for (auto _ : state) {
    if (!traffic.Refill(w.pool(), pkts, kBurst, &env.moves())) {
      Fail(state, "mbuf pool empty");
      break;
    }
    benchmark::DoNotOptimize(pkts[kBurst - 1]->buf_addr);
    benchmark::ClobberMemory();
    rte_pktmbuf_free_bulk(pkts, kBurst);
    ++bursts;
  }
  ReportPackets(state, bursts * kBurst);
}

}  // namespace

void Fail(benchmark::State& state, const std::string& why) {
  g_failed = true;
  std::fprintf(stderr, "FAILED: %s\n", why.c_str());
  state.SkipWithError(why.c_str());
}

bool AnyFailed() { return g_failed; }

void ReportPackets(benchmark::State& state, uint64_t packets) {
  using benchmark::Counter;
  const auto n = static_cast<double>(packets);
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.counters["Mpps"] = Counter(n / 1e6, Counter::kIsRate);
  // (n * 1e-9 / t)^-1 = t / n in nanoseconds.
  state.counters["ns_per_pkt"] = Counter(n * 1e-9, Counter::kIsRate | Counter::kInvert);
}

void ReportTables(benchmark::State& state, const BenchEnv& env) {
  const TableMemory& m = env.memory();
  state.counters["records"] = static_cast<double>(env.records());
  state.counters["bytes_per_record"] = static_cast<double>(m.per_record_bytes);
  state.counters["table_bytes"] = static_cast<double>(m.table_bytes);
  state.counters["pool_bytes"] = static_cast<double>(m.pool_bytes);
  state.counters["ctl_bytes_per_record"] = env.control_bytes_per_record();
}

void RegisterPipelineBenchmarks() {
  for (Flow flow : kFlows) {
    for (uint32_t records : kRecordCounts) {
      for (uint32_t len : kFrameLens) {
        const std::string name = std::string("BM_") + FlowTitle(flow) + "/" +
                                 std::to_string(records) + "/" + std::to_string(len);
        benchmark::RegisterBenchmark(name.c_str(), BM_Pipeline, flow, records, len);
      }
    }
  }
  // Port ACLs (issue 17): encap and decap at 1,000 records and 64 bytes,
  // against BM_Encap/1000/64 and BM_Decap/1000/64 of the same run.
  for (Flow flow : {Flow::kEncap, Flow::kDecap}) {
    for (uint32_t rules : {10u, 100u}) {
      for (bool stateful : {false, true}) {
        const std::string name = std::string("BM_Acl/") + FlowTitle(flow) + "/" +
                                 std::to_string(rules) + (stateful ? "/stateful" : "/stateless");
        benchmark::RegisterBenchmark(name.c_str(), BM_Acl, flow, rules, stateful);
      }
    }
  }
  for (Flow flow : {Flow::kEncap, Flow::kDecap})
    benchmark::RegisterBenchmark((std::string("BM_PortSecurityOff/") + FlowTitle(flow)).c_str(),
                                 BM_PortSecurityOff, flow);
  for (Flow flow : kFlows) {
    for (uint32_t len : kFrameLens) {
      const std::string name =
          std::string("BM_RefillOnly/") + FlowName(flow) + "/" + std::to_string(len);
      benchmark::RegisterBenchmark(name.c_str(), BM_RefillOnly, flow, len);
    }
  }
}

}  // namespace hnv::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::string pages;  // HNV_BENCH_HUGE_DIR: hugepages (tests/lib/eal_env.h)
  if (!hnv::test::StartEalForBench(&pages)) return 1;
  benchmark::AddCustomContext("eal", pages);
  benchmark::AddCustomContext("burst", std::to_string(hnv::bench::kBurst));
  hnv::bench::RegisterPipelineBenchmarks();
  hnv::bench::RegisterHashBenchmarks();
  hnv::bench::RegisterUpdateBenchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  hnv::bench::DestroyHashBenchmarks();
  hnv::bench::BenchEnv::DestroyAll();
  rte_eal_cleanup();
  return hnv::bench::AnyFailed() ? 1 : 0;
}
