// nat_bench: nat/'s fast path per core, in memory, bursts of 32, 64-byte
// frames (Ethernet + IPv4 + UDP/TCP + payload, no FCS).
//
//   BM_NatEstablished/N  outbound (or inbound) packets of random existing
//                        sessions among N (each internal endpoint talks to
//                        8 remotes: N/8 mappings); Mpps, and the tables'
//                        bytes per session
//   BM_NatNewSessions    outbound packets that each open a session (and a
//                        mapping): sessions/s; the table is refilled from
//                        empty (untimed) when three quarters full
//   BM_LbHit             packets of 1,000,000 tracked connections to a VIP
//                        with 100 backends
//   BM_LbMiss            new connections: Maglev lookup and tracking
//   BM_MaglevBuild/N     building a 65,537-entry table for N backends
//   BM_Generate          writing the frames alone (the cost every packet
//                        benchmark includes; subtract it for the NAT's own)
//
// Frames are written in place from a session number (addresses and ports
// only: the NAT updates checksums incrementally and never verifies them),
// so the random sessions cost cache misses as a real table does.
// Figures are per core and provisional on a shared machine; run them alone:
//   flock /work/.heavy.lock build/tests/bench/nat_bench --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "nat/lb.h"
#include "nat/maglev.h"
#include "nat/nat44.h"
#include "nat/nat_rules.h"

namespace hnv::nat::bench {
namespace {

constexpr uint16_t kBurst = 32;
constexpr uint32_t kFanOut = 8;      // remotes per internal endpoint
constexpr uint32_t kHosts = 4096;    // internal addresses 10.0.0.0/20
constexpr uint32_t kFrameLen = 64;

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "nat_bench setup: %s\n", msg.c_str());
  std::exit(2);
}

uint32_t Be(uint32_t host) { return Be32::FromHost(host).raw(); }
uint16_t Be(uint16_t host) { return Be16::FromHost(host).raw(); }

// A burst of 64-byte IPv4 frames whose 5-tuples are written per packet.
struct Burst {
  alignas(64) uint8_t bytes[kBurst][kFrameLen];
  Frame frames[kBurst];
  Verdict verdicts[kBurst];
  explicit Burst(uint8_t proto) {
    std::memset(bytes, 0, sizeof(bytes));
    for (uint16_t i = 0; i < kBurst; ++i) {
      uint8_t* f = bytes[i];
      f[12] = 0x08;  // IPv4
      uint8_t* ip = f + 14;
      ip[0] = 0x45;
      ip[3] = kFrameLen - 14;  // total length 50
      ip[8] = 64;
      ip[9] = proto;
      uint8_t* l4 = ip + 20;
      if (proto == kIpProtoUdp) l4[5] = kFrameLen - 34;  // UDP length 30
      if (proto == kIpProtoTcp) l4[12] = 5 << 4;
      frames[i] = Frame{f, kFrameLen};
    }
  }
  void Set(uint16_t i, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
           uint8_t tcp_flags = 0) {
    uint8_t* ip = bytes[i] + 14;
    Store32(ip + 12, src);
    Store32(ip + 16, dst);
    Store16(ip + 20, sport);
    Store16(ip + 22, dport);
    ip[20 + 13] = tcp_flags;
    frames[i].len = kFrameLen;
  }
};

// Session s of a table of n: internal endpoint (host, port) = mapping s / kFanOut,
// remote = one of kFanOut per mapping.
struct SessionShape {
  static uint32_t Host(uint32_t m) { return Be((10u << 24) | (m % kHosts)); }
  static uint16_t Port(uint32_t m) { return Be(static_cast<uint16_t>(1024 + m / kHosts)); }
  static uint32_t Remote(uint32_t s) { return Be(0xcb007100u + s % kFanOut); }  // 203.0.113.x
  static uint16_t RemotePort() { return Be(uint16_t{53}); }
};

uint64_t Next(uint64_t* x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

// A NAT holding n established UDP sessions, and where each mapping went.
struct NatEnv {
  NatSpec spec;
  std::unique_ptr<NatRules> rules;
  NatWorker worker;
  std::vector<uint32_t> ext;  // per mapping: pool index << 16 | external port (host order)
  uint32_t sessions = 0;

  explicit NatEnv(uint32_t n) : sessions(n) {
    const uint32_t mappings = n / kFanOut;
    const uint32_t addresses = (mappings + 64511) / 64512;
    if (addresses > kMaxPoolAddresses) Die("too many sessions");
    spec.enabled = true;
    for (uint32_t a = 0; a < addresses; ++a) spec.addresses.push_back(IpAddr::V4(0xc6336400u + a));
    spec.internal = {*IpPrefix::Parse("10.0.0.0/8")};
    spec.limits = NatLimits{n, n / kHosts + 64, kHosts};
    std::string error;
    rules = NatRules::Build(spec, {}, &error);
    if (!rules || !worker.Init(spec, addresses, 0, 1, 1234, &error)) Die(error);
    ext.assign(mappings, 0);
    Burst b(kIpProtoUdp);
    for (uint32_t s = 0; s < n; s += kBurst) {
      for (uint16_t i = 0; i < kBurst; ++i) {
        const uint32_t x = s + i, m = x / kFanOut;
        b.Set(i, SessionShape::Host(m), SessionShape::Port(m), SessionShape::Remote(x),
              SessionShape::RemotePort());
      }
      worker.Outbound(*rules, b.frames, kBurst, 0, b.verdicts);
      for (uint16_t i = 0; i < kBurst; ++i) {
        if (b.verdicts[i].edge != Edge::kTranslated) Die(std::string("fill: ") + DropName(b.verdicts[i].drop));
        const uint32_t m = (s + i) / kFanOut;
        const uint32_t src = Load32(b.bytes[i] + 14 + 12);
        const int pi = rules->PoolIndex(src);
        ext[m] = static_cast<uint32_t>(pi) << 16 |
                 Be16::FromRaw(Load16(b.bytes[i] + 34)).ToHost();
      }
    }
    if (worker.table().sessions() != n) Die("fill: wrong session count");
  }
};

// MiB of this process's memory on transparent huge pages (the tables ask
// for them; a fragmented host may not give them, and TLB misses then add to
// every lookup).
double HugeMiB() {
  FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
  if (f == nullptr) return -1;
  char line[256];
  double kb = -1;
  while (std::fgets(line, sizeof(line), f) != nullptr)
    if (std::sscanf(line, "AnonHugePages: %lf kB", &kb) == 1) break;
  std::fclose(f);
  return kb / 1024;
}

void Report(benchmark::State& state, uint64_t packets) {
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.counters["Mpps"] = benchmark::Counter(static_cast<double>(packets) / 1e6,
                                              benchmark::Counter::kIsRate);
  state.counters["ns_per_pkt"] = benchmark::Counter(static_cast<double>(packets) * 1e-9,
                                                    benchmark::Counter::kIsRate |
                                                        benchmark::Counter::kInvert);
}

NatEnv& EnvOf(uint32_t n) {
  static std::unique_ptr<NatEnv> env;
  if (!env || env->sessions != n) {
    env.reset();
    env = std::make_unique<NatEnv>(n);
  }
  return *env;
}

// Established sessions, outbound (arg 1 = 0) or inbound (1).
void BM_NatEstablished(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  const bool inbound = state.range(1) == 1;
  NatEnv& env = EnvOf(n);
  Burst b(kIpProtoUdp);
  uint64_t rng = 88172645463325252ull, packets = 0, now = 1000;
  for (auto _ : state) {
    for (uint16_t i = 0; i < kBurst; ++i) {
      const auto s = static_cast<uint32_t>(Next(&rng) % n);
      const uint32_t m = s / kFanOut;
      if (inbound) {
        const uint32_t e = env.ext[m];
        b.Set(i, SessionShape::Remote(s), SessionShape::RemotePort(),
              env.rules->pool_address(e >> 16), Be(static_cast<uint16_t>(e & 0xffff)));
      } else {
        b.Set(i, SessionShape::Host(m), SessionShape::Port(m), SessionShape::Remote(s),
              SessionShape::RemotePort());
      }
    }
    if (inbound)
      env.worker.Inbound(*env.rules, b.frames, kBurst, now, b.verdicts);
    else
      env.worker.Outbound(*env.rules, b.frames, kBurst, now, b.verdicts);
    env.worker.Tick(now);
    packets += kBurst;
    if ((packets & 0xffff) == 0) ++now;
  }
  for (const Verdict& v : b.verdicts)
    if (v.edge != Edge::kTranslated) state.SkipWithError("a packet was not translated");
  Report(state, packets);
  const NaptTable& t = env.worker.table();
  state.counters["sessions"] = t.sessions();
  state.counters["B_per_session"] = static_cast<double>(t.bytes()) / t.sessions();
  state.counters["B_per_session_grows"] = static_cast<double>(t.per_session_bytes());
  state.counters["huge_MiB"] = HugeMiB();
  state.counters["first_bucket"] =
      (inbound ? t.in_index() : t.out_index()).FirstBucketShare();
}
BENCHMARK(BM_NatEstablished)
    ->ArgsProduct({{1 << 12, 1 << 20, 16 << 20}, {0, 1}})
    ->ArgNames({"sessions", "inbound"})
    ->Unit(benchmark::kNanosecond);

// New sessions: every packet a new internal endpoint (a new mapping and a
// new session); the table (capacity 1 Mi) is rebuilt untimed when 3/4 full.
void BM_NatNewSessions(benchmark::State& state) {
  constexpr uint32_t kCap = 1 << 20;
  NatSpec spec;
  spec.enabled = true;
  for (uint32_t a = 0; a < 16; ++a) spec.addresses.push_back(IpAddr::V4(0xc6336400u + a));
  spec.internal = {*IpPrefix::Parse("10.0.0.0/8")};
  spec.limits = NatLimits{kCap, kCap, 1 << 16};
  std::string error;
  auto rules = NatRules::Build(spec, {}, &error);
  auto worker = std::make_unique<NatWorker>();
  if (!rules || !worker->Init(spec, 16, 0, 1, 99, &error)) Die(error);
  Burst b(kIpProtoUdp);
  uint64_t packets = 0, created = 0;
  uint32_t next = 0;
  for (auto _ : state) {
    if (next + kBurst > kCap / 4 * 3) {
      state.PauseTiming();
      worker = std::make_unique<NatWorker>();
      if (!worker->Init(spec, 16, 0, 1, 99 + packets, &error)) Die(error);
      next = 0;
      state.ResumeTiming();
    }
    for (uint16_t i = 0; i < kBurst; ++i, ++next)
      b.Set(i, Be((10u << 24) | (next % 65536)), Be(static_cast<uint16_t>(1024 + next / 65536)),
            Be(0xcb007100u), Be(uint16_t{53}));
    worker->Outbound(*rules, b.frames, kBurst, 1000, b.verdicts);
    worker->Tick(1000);
    packets += kBurst;
  }
  created = worker->counters().sessions_created;
  for (const Verdict& v : b.verdicts)
    if (v.edge != Edge::kTranslated) state.SkipWithError(DropName(v.drop));
  Report(state, packets);
  state.counters["sessions_per_s"] =
      benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
  benchmark::DoNotOptimize(created);
}
BENCHMARK(BM_NatNewSessions)->Unit(benchmark::kNanosecond);

// ---- load balancer ----

LoadBalancerSpec Vip100() {
  LoadBalancerSpec lb;
  lb.name = "web";
  lb.vip = IpAddr::V4(0xc6336432u);  // 198.51.100.50
  lb.protocol = kIpProtoTcp;
  lb.port = 80;
  for (uint32_t i = 0; i < 100; ++i)
    lb.backends.push_back(Backend{IpAddr::V4((10u << 24) | (1u << 8) | (i + 1)), 8080, 1});
  return lb;
}

uint32_t Client(uint32_t c) { return Be(0x64400000u + c % (1u << 20)); }  // 100.64.0.0/12
uint16_t ClientPort(uint32_t c) { return Be(static_cast<uint16_t>(1024 + c / (1u << 20))); }

void BM_LbHit(benchmark::State& state) {
  constexpr uint32_t kConns = 1'000'000;
  static std::unique_ptr<LbRules> rules;
  static std::unique_ptr<LbWorker> lb;
  const uint32_t vip = Be(0xc6336432u);
  Burst b(kIpProtoTcp);
  if (!lb) {
    std::string error;
    rules = LbRules::Build({Vip100()}, {}, nullptr, &error);
    lb = std::make_unique<LbWorker>();
    if (!rules || !lb->Init(kConns, 5, &error)) Die(error);
    for (uint32_t c = 0; c < kConns; c += kBurst) {
      for (uint16_t i = 0; i < kBurst; ++i)
        b.Set(i, Client(c + i), ClientPort(c + i), vip, Be(uint16_t{80}), kTcpSyn);
      lb->Inbound(*rules, b.frames, kBurst, 0, b.verdicts);
    }
    if (lb->connections() != kConns) Die("LB fill");
  }
  uint64_t rng = 7, packets = 0;
  for (auto _ : state) {
    for (uint16_t i = 0; i < kBurst; ++i) {
      const auto c = static_cast<uint32_t>(Next(&rng) % kConns);
      b.Set(i, Client(c), ClientPort(c), vip, Be(uint16_t{80}), kTcpAck);
    }
    lb->Inbound(*rules, b.frames, kBurst, 1000, b.verdicts);
    lb->Tick(1000);
    packets += kBurst;
  }
  for (const Verdict& v : b.verdicts)
    if (v.edge != Edge::kTranslated) state.SkipWithError("not translated");
  if (lb->counters().conns_created != kConns) state.SkipWithError("a miss among the hits");
  Report(state, packets);
  state.counters["B_per_conn"] = static_cast<double>(lb->bytes()) / kConns;
}
BENCHMARK(BM_LbHit)->Unit(benchmark::kNanosecond);

void BM_LbMiss(benchmark::State& state) {
  constexpr uint32_t kCap = 1 << 20;
  std::string error;
  auto rules = LbRules::Build({Vip100()}, {}, nullptr, &error);
  auto lb = std::make_unique<LbWorker>();
  if (!rules || !lb->Init(kCap, 5, &error)) Die(error);
  const uint32_t vip = Be(0xc6336432u);
  Burst b(kIpProtoTcp);
  uint64_t packets = 0;
  uint32_t next = 0;
  for (auto _ : state) {
    if (next + kBurst > kCap / 4 * 3) {
      state.PauseTiming();
      lb = std::make_unique<LbWorker>();
      if (!lb->Init(kCap, 5 + packets, &error)) Die(error);
      next = 0;
      state.ResumeTiming();
    }
    for (uint16_t i = 0; i < kBurst; ++i, ++next)
      b.Set(i, Client(next), ClientPort(next), vip, Be(uint16_t{80}), kTcpSyn);
    lb->Inbound(*rules, b.frames, kBurst, 1000, b.verdicts);
    lb->Tick(1000);
    packets += kBurst;
  }
  for (const Verdict& v : b.verdicts)
    if (v.edge != Edge::kTranslated) state.SkipWithError("not translated");
  if (lb->counters().untracked != 0) state.SkipWithError("untracked connections");
  Report(state, packets);
}
BENCHMARK(BM_LbMiss)->Unit(benchmark::kNanosecond);

void BM_MaglevBuild(benchmark::State& state) {
  std::vector<MaglevBackend> backends;
  for (int64_t i = 0; i < state.range(0); ++i)
    backends.push_back(
        MaglevBackend{MaglevId(Be(static_cast<uint32_t>(0x0a000000 + i)), Be(uint16_t{80})), 1});
  std::vector<uint16_t> table;
  for (auto _ : state) {
    BuildMaglev(backends, kDefaultMaglevSize, &table);
    benchmark::DoNotOptimize(table.data());
  }
}
BENCHMARK(BM_MaglevBuild)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

// The frame writing every packet benchmark does, alone.
void BM_Generate(benchmark::State& state) {
  Burst b(kIpProtoUdp);
  uint64_t rng = 3, packets = 0;
  for (auto _ : state) {
    for (uint16_t i = 0; i < kBurst; ++i) {
      const auto s = static_cast<uint32_t>(Next(&rng) % (1u << 20));
      b.Set(i, SessionShape::Host(s / kFanOut), SessionShape::Port(s / kFanOut), SessionShape::Remote(s),
            SessionShape::RemotePort());
    }
    benchmark::DoNotOptimize(b.bytes);
    benchmark::ClobberMemory();
    packets += kBurst;
  }
  Report(state, packets);
}
BENCHMARK(BM_Generate)->Unit(benchmark::kNanosecond);

}  // namespace
}  // namespace hnv::nat::bench

BENCHMARK_MAIN();
