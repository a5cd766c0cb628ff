// gateway_bench: transit through one hnv-gateway compartment whose FIB holds
// 100,000 IPv4 routes (random /16../32 outside 10/8, plus the chapter's
// real ones), one core, in memory, bursts of 32, 64-byte frames (without FCS;
// the inner frame for NVGRE).
//
//   BM_ExtToVm   external port -> compartment FIB -> HNV pipeline as from the
//                gateway CA (router 6001 -> 6000, NVGRE encap) -> uplink
//   BM_VmToExt   NVGRE from Host 1 on the uplink -> provider ingress, decap,
//                deliver to vm_port -> compartment FIB -> external port
//   BM_ExtToExt  external port 1 -> FIB (destinations drawn from the 100,000
//                random routes, so lookups miss the caches as in a real
//                table) -> external port 2: the gateway's own cost alone
//   BM_NatVmToExt BM_VmToExt through a NAPT (gateway/nat/nat_feature.h on
//                the compartment, issue 11): 4,096 UDP flows of Contoso1 and
//                Contoso2 (source ports 1024..) to 10.1.3.10..249:5000, each
//                with its session, opened in the warm-up: the timed loop
//                runs on established sessions (SNAT to 10.1.3.254)
//   BM_NatExtToVm the answers to those flows (to 10.1.3.254 and the ports the
//                NAPT gave them, taken from the translated frames) -> NAPT
//                (DNAT back to the VM) -> FIB -> HNV pipeline -> uplink; the
//                NAT's counterpart of BM_ExtToVm
//                (both install the NAT features for their run and remove
//                them after, so the other benchmarks run without NAT)
//   BM_RefillOnly the per-burst mbuf alloc + template copy + free alone
//   BM_Workers/threads:N  N workers (benchmark threads, each with its own
//                WorkerContext, pipeline and mbuf pool) each receiving both
//                directions (external -> VM network and NVGRE back) of
//                flows spread over all: with 2, each frame whose flow the
//                other worker owns is handed to it (flow affinity, gw-steer)
//                and finished there; the figure is all workers' frames per
//                second (scaling from 1 to 2 workers)
//
// Every benchmark checks during a warm-up that all frames leave on the
// expected port with no drop and no punt, and fails otherwise. The FIB's
// memory (GatewayTables::Memory) is reported as a context line and counter.
#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "dataplane/pipeline/context.h"
#include "dataplane/pipeline/nvgre_encap.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/policy/tables.h"
#include "gateway/fastpath/gateway_fastpath.h"
#include "gateway/fastpath/gateway_tables.h"
#include "gateway/nat/nat_feature.h"
#include "tests/lib/chapter_policy.h"
#include "tests/lib/eal_env.h"
#include "tests/lib/packet_builder.h"

namespace hnv::gateway::bench {
namespace {

using hnv::test::Ip;
using hnv::test::Mac;
using hnv::test::PacketBuilder;
using hnv::test::Prefix;
using Frame = std::vector<uint8_t>;

constexpr uint16_t kUplink = 0, kExt1 = 1, kExt2 = 2;
constexpr uint32_t kId = 0;
constexpr uint16_t kVmPort = kFirstVirtualPort + kId;
constexpr uint32_t kRandomRoutes = 100'000;
constexpr size_t kTemplates = 4096;  // distinct frames per benchmark, cycled

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "gateway_bench setup: %s\n", msg.c_str());
  std::exit(2);
}

// Frees in bulk and counts per port; virtual ports go to the fast path.
// With `capture` set (outside the timed loops), keeps a copy of what leaves
// on `capture_port`.
class Sink final : public TxSink {
 public:
  uint16_t Send(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override {
    if (port >= kFirstVirtualPort && port < kFirstVirtualPort + kMaxCompartments) {
      fp->DeliverVirtual(*ctx, port, pkts, n);
      return n;
    }
    if (capture != nullptr && port == capture_port)
      for (uint16_t i = 0; i < n; ++i) {
        const auto* d = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
        capture->emplace_back(d, d + rte_pktmbuf_data_len(pkts[i]));
      }
    sent[port] += n;
    rte_pktmbuf_free_bulk(pkts, n);
    return n;
  }
  GatewayFastPath* fp = nullptr;
  WorkerContext* ctx = nullptr;
  uint64_t sent[kMaxPorts] = {};
  std::vector<Frame>* capture = nullptr;
  uint16_t capture_port = 0;
};

// One of BM_Workers' workers.
struct Worker {
  rte_mempool* pool = nullptr;
  Sink sink;
  WorkerCounters counters;
  WorkerContext ctx;
  Pipeline pipeline;
};
constexpr uint32_t kMaxBenchWorkers = 2;

struct Env {
  rte_rcu_qsbr* qsv = nullptr;
  rte_mempool* pool = nullptr;
  std::unique_ptr<PolicyTables> tables;
  std::unique_ptr<GatewayTables> gw;
  std::unique_ptr<GatewayFastPath> fp;
  rte_ring* to_kernel = nullptr;
  rte_ring* from_kernel = nullptr;
  Sink sink;
  WorkerCounters counters;
  WorkerContext ctx;
  Pipeline pipeline;
  std::vector<IpPrefix> random_routes;
  size_t fib_bytes = 0;
  double fib_load_s = 0;
  // BM_Workers: per worker count, a fast path for that many, and handoff rings.
  std::unique_ptr<GatewayFastPath> fp_n[kMaxBenchWorkers + 1];
  rte_ring* handoff[kMaxBenchWorkers] = {};
  Worker workers[kMaxBenchWorkers];
};

Env& GetEnv() {
  static Env* env = [] {
    auto* e = new Env;
    const size_t sz = rte_rcu_qsbr_get_memsize(kMaxBenchWorkers);
    e->qsv = static_cast<rte_rcu_qsbr*>(rte_zmalloc("gbqsv", sz, RTE_CACHE_LINE_SIZE));
    if (e->qsv == nullptr || rte_rcu_qsbr_init(e->qsv, kMaxBenchWorkers) != 0) Die("rcu");
    for (uint32_t w = 0; w < kMaxBenchWorkers; ++w) rte_rcu_qsbr_thread_register(e->qsv, w);
    e->pool = CreatePacketPool("gbpool", 8191, SOCKET_ID_ANY);
    e->to_kernel = rte_ring_create("gbk", 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
    e->from_kernel = rte_ring_create("gbf", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (e->pool == nullptr || e->to_kernel == nullptr || e->from_kernel == nullptr) Die("pool/rings");
    TableLimits limits;
    limits.max_records = 4096;
    limits.max_routes = 1024;
    limits.max_workers = 2;
    limits.name = "gb";
    std::string error;
    e->tables = PolicyTables::Create(limits, e->qsv, &error);
    if (e->tables == nullptr) Die(error);
    Policy p = hnv::test::ChapterGatewayHost();
    // The compartment's port, trusted as hnv-gateway makes it
    // (config/gateway_config.cc AddVmPort: the tenant's router, no VM's).
    for (VmPort& v : p.vm_ports)
      if (v.vm_name == "MT-GW") {
        v.port = kVmPort;
        v.Trust();
      }
    if (!e->tables->Apply(p, &error)) Die(error);
    e->tables->LearnNeighbor(kUplink, Ip("192.168.0.22"), Mac("324455667788"));
    e->tables->LearnNeighbor(kUplink, Ip("192.168.0.33"), Mac("445566778899"));
    e->tables->Synchronize();

    GatewayLimits gl;
    gl.name = "gb";
    e->gw = GatewayTables::Create(gl, e->qsv, &error);
    if (e->gw == nullptr) Die(error);
    CompartmentLayout l;
    l.vm_port = kVmPort;
    l.vm_mac = Mac("600160010301");
    l.external = {{kExt1, 0, Mac("600160010302"), 1500}, {kExt2, 0, Mac("600160010303"), 1500}};
    l.max_routes = kRandomRoutes + 1024;
    if (!e->gw->SetCompartment(kId, l, &error)) Die(error);
    auto route = [&](const char* pfx, NextHop nh) {
      if (!e->gw->SetRoute(kId, Prefix(pfx), nh, &error)) Die(error);
    };
    route("10.1.3.0/24", {NextHopKind::kForward, 1, {}});
    route("10.0.1.0/24", {NextHopKind::kForward, 0, Ip("10.0.2.1")});
    route("10.0.2.2/32", {NextHopKind::kLocal, 0, {}});
    route("10.1.3.2/32", {NextHopKind::kLocal, 0, {}});
    if (!e->gw->SetNeighbor(kId, 0, Ip("10.0.2.1"), Mac("600160010300"), &error)) Die(error);
    for (int i = 1; i <= 250; ++i)
      if (!e->gw->SetNeighbor(kId, 1, Ip("10.1.3." + std::to_string(i)), Mac("02c0c0c0c0" + std::to_string(10 + i % 90)), &error))
        Die(error);
    for (int i = 1; i <= 16; ++i)
      if (!e->gw->SetNeighbor(kId, 2, Ip("10.2.0." + std::to_string(i)), Mac("02d0d0d0d0" + std::to_string(10 + i)), &error))
        Die(error);
    // 100,000 random prefixes /16../32 outside 10/8 and 127/8, forwarded to
    // one of 16 routers on interface 2.
    std::mt19937 rng(2024);
    std::set<IpPrefix> seen;
    const auto t0 = std::chrono::steady_clock::now();
    while (e->random_routes.size() < kRandomRoutes) {
      const uint32_t a = 0x0b000000u + rng() % (0xdf000000u - 0x0b000000u);
      if ((a >> 24) == 127) continue;
      const int len = 16 + static_cast<int>(rng() % 17);
      IpPrefix pfx{IpAddr::V4(a).Masked(len), static_cast<uint8_t>(len)};
      if (!seen.insert(pfx).second) continue;
      const IpAddr gw = IpAddr::V4(0x0a020000u + 1 + rng() % 16);
      if (!e->gw->SetRoute(kId, pfx, {NextHopKind::kForward, 2, gw}, &error)) Die(error);
      e->random_routes.push_back(pfx);
    }
    e->fib_load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    e->gw->Synchronize();
    e->fib_bytes = e->gw->Memory(kId);
    e->fp = std::make_unique<GatewayFastPath>(e->gw.get(), PuntRings{e->to_kernel, e->from_kernel}, 1);
    e->fp->ResetCounters(kId);
    e->ctx.worker_id = 0;
    e->ctx.tables = e->tables.get();
    e->ctx.pool = e->pool;
    e->ctx.tx = &e->sink;
    e->ctx.counters = &e->counters;
    e->sink.fp = e->fp.get();
    for (uint32_t n = 1; n <= kMaxBenchWorkers; ++n)
      e->fp_n[n] = std::make_unique<GatewayFastPath>(e->gw.get(), PuntRings{e->to_kernel, e->from_kernel}, n);
    for (uint32_t w = 0; w < kMaxBenchWorkers; ++w) {
      Worker& k = e->workers[w];
      k.pool = CreatePacketPool(("gbw" + std::to_string(w)).c_str(), 8191, SOCKET_ID_ANY);
      e->handoff[w] = rte_ring_create(("gbh" + std::to_string(w)).c_str(), 4096, SOCKET_ID_ANY, RING_F_SC_DEQ);
      if (k.pool == nullptr || e->handoff[w] == nullptr) Die("worker pool/ring");
      k.ctx.worker_id = w;
      k.ctx.handoff = e->handoff;
      k.ctx.tables = e->tables.get();
      k.ctx.pool = k.pool;
      k.ctx.tx = &k.sink;
      k.ctx.counters = &k.counters;
      k.sink.ctx = &k.ctx;
    }
    e->sink.ctx = &e->ctx;
    rte_rcu_qsbr_thread_online(e->qsv, 0);
    return e;
  }();
  return *env;
}

// 64-byte UDP frame (without FCS): 14 + 20 + 8 + 22.
Frame Udp64(const MacAddr& dst, const MacAddr& src, const IpAddr& s, const IpAddr& d, uint8_t ttl,
            uint16_t sport = 4000, uint16_t dport = 5000) {
  return PacketBuilder().Eth(dst, src).Ipv4(s, d).Ttl(ttl).Udp(sport, dport).Payload(22).Build();
}

// The NAPT of the BM_Nat* benchmarks: pool 10.1.3.254 on ext1 (not a
// neighbour, not a destination of the flows), internal 10.0.1.0/24, one
// worker, no per-host cap below the flows' count.
const IpAddr kNatPool = Ip("10.1.3.254");
std::shared_ptr<NatFeatureRules> NatRulesForBench() {
  static std::shared_ptr<NatFeatureRules> rules = [] {
    nat::NatSpec spec;
    spec.enabled = true;
    spec.addresses = {kNatPool};
    spec.internal = {Prefix("10.0.1.0/24")};
    spec.limits.sessions_per_host = spec.limits.sessions;
    std::string error;
    auto r = std::make_shared<NatFeatureRules>();
    r->nat = nat::NatRules::Build(spec, {Ip("10.0.2.2"), Ip("10.1.3.2")}, &error);
    if (r->nat == nullptr) Die(error);
    r->nat_state = NatWorkers::CreateNat(spec, 1, 1, &error);
    if (r->nat_state == nullptr) Die(error);
    r->nat_ifaces = uint64_t{1} << 1;  // compartment interface 1: ext1
    r->tsc_per_ms = std::max<uint64_t>(rte_get_tsc_hz() / 1000, 1);
    NatClockMs(rte_rdtsc(), r->tsc_per_ms);  // starts the tables' clock
    return r;
  }();
  return rules;
}

enum class Flow { kExtToVm, kVmToExt, kExtToExt, kNatVmToExt, kNatExtToVm };

// NVGRE from Host 1 carrying `inner` (a frame Contoso1/2 sent to the gateway).
Frame FromHost1(const Frame& inner) {
  ParsedFrame pf;
  ParseFrame(inner.data(), static_cast<uint32_t>(inner.size()), &pf);
  return PacketBuilder()
      .Eth(Mac("223344556677"), Mac("324455667788"))
      .Ipv4(Ip("192.168.0.22"), Ip("192.168.0.11"))
      .DontFragment()
      .Nvgre(6001, NvgreEncap::FlowId(inner.data(), pf))
      .Payload(inner)
      .Build();
}
struct Burst {
  rte_mbuf* pkts[kBurstSize];
};
void RunBurst(Env& e, Flow f, Burst& b);
std::vector<Frame> NatAnswers();

std::vector<Frame> Templates(Flow f) {
  Env& e = GetEnv();
  std::mt19937 rng(7);
  std::vector<Frame> out;
  const IpAddr cas[] = {Ip("10.0.1.101"), Ip("10.0.1.102"), Ip("10.0.1.103")};
  for (size_t i = 0; i < kTemplates; ++i) {
    switch (f) {
      case Flow::kExtToVm: {
        const IpAddr src = IpAddr::V4(0x0a010300u + 1 + static_cast<uint32_t>(rng() % 250));
        out.push_back(Udp64(Mac("600160010302"), Mac("02c0c0c0c064"), src, cas[rng() % 3], 64));
        break;
      }
      case Flow::kVmToExt: {
        // 10.1.3.10..249: resolved neighbours, not the compartment's own .2.
        const IpAddr dst = IpAddr::V4(0x0a010300u + 10 + static_cast<uint32_t>(rng() % 240));
        const IpAddr src = rng() % 2 ? cas[0] : cas[1];  // on Host 1
        out.push_back(FromHost1(Udp64(Mac("600160010301"), Mac("600160010300"), src, dst, 63)));
        break;
      }
      case Flow::kNatVmToExt: {  // flow i: its own source port, so its own session
        const IpAddr dst = IpAddr::V4(0x0a010300u + 10 + static_cast<uint32_t>(i % 240));
        out.push_back(FromHost1(Udp64(Mac("600160010301"), Mac("600160010300"), cas[i % 2], dst, 63,
                                      static_cast<uint16_t>(1024 + i), 5000)));
        break;
      }
      case Flow::kNatExtToVm:
        return NatAnswers();
      case Flow::kExtToExt: {
        const IpPrefix& p = e.random_routes[rng() % e.random_routes.size()];
        const uint32_t host = p.len == 32 ? 0 : rng() & ((1u << (32 - p.len)) - 1);
        out.push_back(Udp64(Mac("600160010302"), Mac("02c0c0c0c064"), Ip("10.1.3.100"),
                            IpAddr::V4(p.addr.v4_host() | host), 64));
        break;
      }
    }
  }
  return out;
}

bool FromUplink(Flow f) { return f == Flow::kVmToExt || f == Flow::kNatVmToExt; }
uint16_t InPort(Flow f) { return FromUplink(f) ? kUplink : kExt1; }
uint16_t OutPort(Flow f) {
  switch (f) {
    case Flow::kExtToVm:
    case Flow::kNatExtToVm: return kUplink;
    case Flow::kExtToExt: return kExt2;
    default: return kExt1;
  }
}

// Allocates and fills one burst from the templates, `next` cycling.
inline bool Refill(rte_mempool* pool, const std::vector<Frame>& t, size_t& next, Burst& b) {
  if (rte_pktmbuf_alloc_bulk(pool, b.pkts, kBurstSize) != 0) return false;
  for (uint16_t i = 0; i < kBurstSize; ++i) {
    const Frame& f = t[next];
    next = (next + 1) % t.size();
    std::memcpy(rte_pktmbuf_append(b.pkts[i], static_cast<uint16_t>(f.size())), f.data(), f.size());
  }
  return true;
}

// Not inlined: count_instructions.sh measures it (callgrind, per frame).
[[gnu::noinline]] void RunBurst(Env& e, Flow f, Burst& b) {
  e.ctx.snap = e.tables->snapshot();
  if (FromUplink(f))
    e.pipeline.ProcessRx(e.ctx, kUplink, b.pkts, kBurstSize);
  else
    e.fp->Receive(e.ctx, e.pipeline, InPort(f), b.pkts, kBurstSize);
  e.ctx.FlushTx();
  rte_rcu_qsbr_quiescent(e.qsv, 0);
}

std::string Losses(const Env& e, uint16_t out) {
  std::string s = "sent on port " + std::to_string(out) + ": " + std::to_string(e.sink.sent[out]) + ";";
  for (uint16_t d = 0; d < kDropCount; ++d)
    if (e.counters.drops[d] != 0)
      s += std::string(" ") + DropName(static_cast<Drop>(d)) + "=" + std::to_string(e.counters.drops[d]);
  const CompartmentCounters c = e.fp->Counters(kId);
  for (size_t i = 0; i < kPuntCount; ++i)
    if (c.punt[i] != 0) s += std::string(" punt:") + PuntName(static_cast<Punt>(i)) + "=" + std::to_string(c.punt[i]);
  for (size_t i = 0; i < kGwDropCount; ++i)
    if (c.drop[i] != 0) s += std::string(" drop:") + GwDropName(static_cast<GwDrop>(i)) + "=" + std::to_string(c.drop[i]);
  return s;
}

uint64_t HnvDrops(const Env& e) {
  uint64_t d = 0;
  for (uint64_t x : e.counters.drops) d += x;
  return d;
}
uint64_t GwLosses(const Env& e) {
  const CompartmentCounters c = e.fp->Counters(kId);
  uint64_t d = c.punted.packets;
  for (uint64_t x : c.drop) d += x;
  const GlobalCounters g = e.fp->Global();
  for (uint64_t x : g.drop) d += x;
  return d;
}

void BM_Flow(benchmark::State& state, Flow f) {
  Env& e = GetEnv();
  const std::vector<Frame> t = Templates(f);
  size_t next = 0;
  Burst b;
  // Warm-up with checks: everything leaves on the expected port.
  const uint64_t sent0 = e.sink.sent[OutPort(f)], drops0 = HnvDrops(e), loss0 = GwLosses(e);
  for (int i = 0; i < 256; ++i) {
    if (!Refill(e.pool, t, next, b)) return state.SkipWithError("mbuf pool empty");
    RunBurst(e, f, b);
  }
  if (e.sink.sent[OutPort(f)] - sent0 != 256u * kBurstSize || HnvDrops(e) != drops0 ||
      GwLosses(e) != loss0) {
    static std::string msg;  // SkipWithError keeps the pointer
    msg = "warm-up: frames were dropped, punted or left elsewhere: " + Losses(e, OutPort(f));
    return state.SkipWithError(msg.c_str());
  }
  const uint64_t start = e.sink.sent[OutPort(f)];
  for (auto _ : state) {
    if (!Refill(e.pool, t, next, b)) return state.SkipWithError("mbuf pool empty");
    RunBurst(e, f, b);
  }
  const uint64_t pkts = state.iterations() * kBurstSize;
  if (e.sink.sent[OutPort(f)] - start != pkts || HnvDrops(e) != drops0 || GwLosses(e) != loss0)
    return state.SkipWithError("timed loop: frames were dropped, punted or left elsewhere");
  state.SetItemsProcessed(static_cast<int64_t>(pkts));
  state.counters["Mpps"] = benchmark::Counter(static_cast<double>(pkts) / 1e6, benchmark::Counter::kIsRate);
  state.counters["ns/pkt"] = benchmark::Counter(static_cast<double>(pkts) / 1e9,
                                                benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["fib_MiB"] = static_cast<double>(e.fib_bytes) / (1 << 20);
}

// The answers to kNatVmToExt's flows: each flow's frame sent once through
// the NAPT (opening its session, or finding it), the translated frames kept
// off ext1, and each turned around (source = the remote end, destination =
// the pool address and port the NAPT chose).
std::vector<Frame> NatAnswers() {
  Env& e = GetEnv();
  const std::vector<Frame> out = Templates(Flow::kNatVmToExt);
  std::vector<Frame> seen, answers;
  e.sink.capture = &seen;
  e.sink.capture_port = kExt1;
  size_t next = 0;
  Burst b;
  for (size_t i = 0; i < out.size(); i += kBurstSize) {
    if (!Refill(e.pool, out, next, b)) Die("mbuf pool empty");
    RunBurst(e, Flow::kNatVmToExt, b);
  }
  e.sink.capture = nullptr;
  for (const Frame& f : seen) {
    ParsedFrame pf;
    if (ParseFrame(f.data(), static_cast<uint32_t>(f.size()), &pf) != ParseError::kOk) continue;
    const uint8_t* ip = f.data() + pf.l3_offset;
    const uint8_t* l4 = f.data() + pf.l4_offset;
    const IpAddr src = IpAddr::V4Raw(ip + 12), dst = IpAddr::V4Raw(ip + 16);
    const auto port = [](const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); };
    if (!(src == kNatPool)) continue;
    answers.push_back(Udp64(Mac("600160010302"), Mac("02c0c0c0c064"), dst, src, 64, port(l4 + 2), port(l4)));
  }
  if (answers.size() != out.size())
    Die("NAT answers: " + std::to_string(answers.size()) + " of " + std::to_string(out.size()) +
        " flows left translated");
  return answers;
}

// BM_Flow with the NAT features on the compartment for its run.
void BM_Nat(benchmark::State& state, Flow f) {
  Env& e = GetEnv();
  std::shared_ptr<NatFeatureRules> r = NatRulesForBench();
  std::string error;
  if (!e.gw->SetFeatures(kId, MakeNatFeatures(r), &error)) return state.SkipWithError(error.c_str());
  BM_Flow(state, f);
  state.counters["sessions"] = static_cast<double>(r->nat_state->napt[0].table().sessions());
  if (!e.gw->SetFeatures(kId, {}, &error)) Die("removing the NAT features: " + error);
}

// One worker of BM_Workers: alternately a burst from the external port and
// one from the uplink, then what the other worker handed over (as the worker
// loop takes it at the top of its next iteration).
void BM_Workers(benchmark::State& state) {
  Env& e = GetEnv();
  const auto n = static_cast<uint32_t>(state.threads());
  const auto w = static_cast<uint32_t>(state.thread_index());
  if (n > kMaxBenchWorkers) return state.SkipWithError("at most 2 workers");
  Worker& k = e.workers[w];
  GatewayFastPath& fp = *e.fp_n[n];
  k.ctx.workers = n;
  k.sink.fp = &fp;
  // Each worker draws its own frames of both directions (seeded apart).
  static const std::vector<Frame> ext = Templates(Flow::kExtToVm);
  static const std::vector<Frame> vm = Templates(Flow::kVmToExt);
  size_t next_ext = w * 1031, next_vm = w * 2053;
  Burst b;
  uint64_t received = 0;
  rte_rcu_qsbr_thread_online(e.qsv, w);
  auto iteration = [&](bool from_ext) {
    if (!Refill(k.pool, from_ext ? ext : vm, from_ext ? next_ext : next_vm, b)) return false;
    k.ctx.snap = e.tables->snapshot();
    for (int round = 0; round < 2; ++round) {  // as the worker loop does
      rte_mbuf* h[kBurstSize];
      const unsigned got = rte_ring_sc_dequeue_burst(e.handoff[w], reinterpret_cast<void**>(h), kBurstSize, nullptr);
      if (got == 0) break;
      fp.ReceiveHandoff(k.ctx, k.pipeline, h, static_cast<uint16_t>(got));
    }
    if (from_ext) fp.Receive(k.ctx, k.pipeline, kExt1, b.pkts, kBurstSize);
    else k.pipeline.ProcessRx(k.ctx, kUplink, b.pkts, kBurstSize);
    k.ctx.FlushTx();
    rte_rcu_qsbr_quiescent(e.qsv, w);
    received += kBurstSize;
    return true;
  };
  bool from_ext = (w & 1) == 0;
  for (auto _ : state) {
    if (!iteration(from_ext)) return state.SkipWithError("mbuf pool empty");
    from_ext = !from_ext;
  }
  rte_rcu_qsbr_thread_offline(e.qsv, w);
  // A worker descheduled for a while (other work on this VM) lets its peer's
  // handoff ring fill: counted, reported, tolerated up to 1 %.
  const uint64_t full = k.counters.drops[static_cast<uint16_t>(Drop::kHandoffFull)];
  static thread_local std::string dropped;  // SkipWithError keeps the pointer
  dropped = "frames were dropped:";
  uint64_t other = 0;
  for (uint16_t d = 0; d < kDropCount; ++d) {
    if (k.counters.drops[d] == 0) continue;
    dropped += std::string(" ") + DropName(static_cast<Drop>(d)) + "=" + std::to_string(k.counters.drops[d]);
    if (static_cast<Drop>(d) != Drop::kHandoffFull) other += k.counters.drops[d];
  }
  if (other != 0 || full * 100 > received) return state.SkipWithError(dropped.c_str());
  state.counters["handoff_full"] = static_cast<double>(full);
  state.SetItemsProcessed(static_cast<int64_t>(received));
  state.counters["Mpps"] = benchmark::Counter(static_cast<double>(received) / 1e6, benchmark::Counter::kIsRate);
  state.counters["handed_off"] = static_cast<double>(k.counters.handoff_out);
}

void BM_RefillOnly(benchmark::State& state) {
  Env& e = GetEnv();
  const std::vector<Frame> t = Templates(Flow::kExtToVm);
  size_t next = 0;
  Burst b;
  for (auto _ : state) {
    if (!Refill(e.pool, t, next, b)) return state.SkipWithError("mbuf pool empty");
    rte_pktmbuf_free_bulk(b.pkts, kBurstSize);
  }
  const uint64_t pkts = state.iterations() * kBurstSize;
  state.counters["ns/pkt"] = benchmark::Counter(static_cast<double>(pkts) / 1e9,
                                                benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace
}  // namespace hnv::gateway::bench

int main(int argc, char** argv) {
  using namespace hnv::gateway::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::string pages;  // HNV_BENCH_HUGE_DIR: hugepages (tests/lib/eal_env.h)
  if (!hnv::test::StartEalForBench(&pages)) return 1;
  Env& e = GetEnv();
  benchmark::AddCustomContext("eal", pages);
  benchmark::AddCustomContext("fib", std::to_string(e.random_routes.size() + 4) + " routes, " +
                                         std::to_string(e.fib_bytes >> 20) + " MiB (Memory()), loaded in " +
                                         std::to_string(e.fib_load_s) + " s");
  benchmark::RegisterBenchmark("BM_ExtToVm", BM_Flow, Flow::kExtToVm);
  benchmark::RegisterBenchmark("BM_VmToExt", BM_Flow, Flow::kVmToExt);
  benchmark::RegisterBenchmark("BM_ExtToExt", BM_Flow, Flow::kExtToExt);
  benchmark::RegisterBenchmark("BM_NatVmToExt", BM_Nat, Flow::kNatVmToExt);
  benchmark::RegisterBenchmark("BM_NatExtToVm", BM_Nat, Flow::kNatExtToVm);
  benchmark::RegisterBenchmark("BM_RefillOnly", BM_RefillOnly);
  benchmark::RegisterBenchmark("BM_Workers", BM_Workers)->Threads(1)->Threads(2)->UseRealTime();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
