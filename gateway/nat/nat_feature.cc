#include "gateway/nat/nat_feature.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "gateway/fastpath/gateway_tables.h"
#include "gateway/fastpath/gw_meta.h"
#include "nat/burst.h"
#include "nat/steering.h"

namespace hnv::gateway {
namespace {

using nat::Verdict;

// A chunk of the frames a feature takes (the others went on at once).
struct Chunk {
  rte_mbuf* m[nat::kBurstChunk];
  nat::Frame f[nat::kBurstChunk];
  Verdict v[nat::kBurstChunk];
  uint16_t n = 0;
  void Add(rte_mbuf* mb) noexcept {
    m[n] = mb;
    f[n] = nat::Frame{rte_pktmbuf_mtod(mb, uint8_t*), rte_pktmbuf_data_len(mb)};
    v[n] = Verdict{};
    ++n;
  }
};

uint64_t ClockBase() {
  static const uint64_t base = rte_rdtsc();
  return base;
}

inline uint64_t NowMs(const NatFeatureRules& r, uint64_t tsc) noexcept {
  return NatClockMs(tsc, r.tsc_per_ms);
}

// Runs `run(frames, n, verdicts)` over the frames of `f[0..n)` that `pick(i)`
// selects and puts their verdicts back in `v`.
template <typename Pick, typename Run>
void OnSubset(nat::Frame* f, uint16_t n, Verdict* v, Pick&& pick, Run&& run) {
  nat::Frame sf[nat::kBurstChunk];
  Verdict sv[nat::kBurstChunk];
  uint16_t idx[nat::kBurstChunk];
  uint16_t k = 0;
  for (uint16_t i = 0; i < n; ++i)
    if (pick(i)) {
      idx[k] = i;
      sf[k++] = f[i];
    }
  if (k == 0) return;
  run(sf, k, sv);
  for (uint16_t j = 0; j < k; ++j) v[idx[j]] = sv[j];
}

// Runs `first` over the frames, then `second` over those `first` passed
// (either may be absent).
template <typename First, typename Second>
void TwoStages(nat::Frame* f, uint16_t n, Verdict* v, bool has_first, First&& first,
               bool has_second, Second&& second) {
  if (has_first) first(f, n, v);
  if (!has_second) return;
  if (!has_first) {
    second(f, n, v);
    return;
  }
  OnSubset(f, n, v, [v](uint16_t i) { return v[i].edge == nat::Edge::kPass; }, second);
}

// A frame from the VM network to an address and port the NAT takes back in
// (NatRules::HairpinTarget). The route would hand it to the namespace's
// kernel, which holds the NAT's addresses; so the pre-route slot translates
// it outbound itself, and NatWorker::Outbound turns it around (kHairpin:
// then inbound, on the worker that owns the address). One filter test for
// any other destination.
bool InsideHairpin(const nat::NatRules& r, rte_mbuf* m) noexcept {
  const ParsedFrame& pf = Meta(m)->pf;
  const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
  nat::Endpoint dst{nat::Load32(d + pf.l3_offset + 16), 0};  // gw-input checked the IPv4 header
  if (!r.IsNatAddress(dst.addr)) return false;
  if (pf.l4_offset != 0 && pf.is_first_fragment && pf.l4_offset + 4u <= rte_pktmbuf_data_len(m))
    dst.port = nat::Load16(d + pf.l4_offset + 2);
  return r.HairpinTarget(pf.l4_proto, dst);
}

// The worker's NAT and LB state, or the trace's own (FeatureContext::trace).
nat::NatWorker* NaptOf(const NatFeatureRules& r, const FeatureContext& fc) noexcept {
  if (r.nat == nullptr) return nullptr;
  if (fc.trace) return r.trace_state != nullptr ? &r.trace_state->napt[0] : nullptr;
  return &r.nat_state->napt[fc.ctx.worker_id];
}
nat::LbWorker* LbOf(const NatFeatureRules& r, const FeatureContext& fc) noexcept {
  if (r.lb == nullptr) return nullptr;
  if (fc.trace) return r.trace_state != nullptr ? &r.trace_state->lb[0] : nullptr;
  return &r.lb_state->lb[fc.ctx.worker_id];
}

// Sends each frame of the chunk where its verdict says.
void Finish(FeatureContext& fc, const NatFeatureRules& r, Chunk& c,
            const Outputs<Feature::Edge>& out) noexcept {
  for (uint16_t i = 0; i < c.n; ++i) {
    rte_mbuf* m = c.m[i];
    GwMeta* gm = Gw(m);
    switch (c.v[i].edge) {
      case nat::Edge::kPass:
      case nat::Edge::kTranslated:
        out.Push(fc.ctx, Feature::Edge::kNext, m);
        break;
      case nat::Edge::kHairpin: {
        gm->flags |= GwMeta::kInbound | GwMeta::kHairpinOk;
        gm->resume = GwMeta::Resume::kPreRoute;
        const uint32_t owner =
            fc.ctx.workers <= 1
                ? fc.ctx.worker_id
                : nat::OwnerWorker(c.f[i].data, c.f[i].len, nat::Direction::kToNatAddress,
                                   fc.ctx.workers);
        fc.ctx.HandOff(owner, m);
        break;
      }
      case nat::Edge::kReply:  // a RST built in place: back out of the interface it came in on
        rte_pktmbuf_data_len(m) = static_cast<uint16_t>(c.f[i].len);
        rte_pktmbuf_pkt_len(m) = c.f[i].len;
        fc.ctx.Transmit(fc.cv.ifaces[gm->in_iface].port, m);
        break;
      case nat::Edge::kDrop:  // counted by nat/ under its reason
      default:
        rte_pktmbuf_free(m);
        break;
    }
  }
  (void)r;
  c.n = 0;
}

// Feeds the frames `take` selects to `run` in chunks; the rest go on.
template <typename Take, typename Run>
void Walk(FeatureContext& fc, const NatFeatureRules& r, Burst& in, const Outputs<Feature::Edge>& out,
          Take&& take, Run&& run) noexcept {
  Chunk c;
  for (uint16_t i = 0; i < in.n; ++i) {
    rte_mbuf* m = in.pkts[i];
    if (!take(m)) {
      out.Push(fc.ctx, Feature::Edge::kNext, m);
      continue;
    }
    c.Add(m);
    if (c.n == nat::kBurstChunk) {
      run(c);
      Finish(fc, r, c, out);
    }
  }
  if (c.n != 0) {
    run(c);
    Finish(fc, r, c, out);
  }
  in.n = 0;
}

}  // namespace

uint64_t NatClockMs(uint64_t tsc, uint64_t tsc_per_ms) noexcept {
  return (tsc - ClockBase()) / tsc_per_ms + 1000;
}

std::shared_ptr<NatWorkers> NatWorkers::CreateNat(const nat::NatSpec& spec, uint32_t workers,
                                                  uint64_t seed, std::string* error) {
  auto s = std::make_shared<NatWorkers>();
  s->workers = workers;
  s->napt = std::make_unique<nat::NatWorker[]>(workers);
  for (uint32_t w = 0; w < workers; ++w)
    if (!s->napt[w].Init(spec, static_cast<uint32_t>(spec.addresses.size()), w, workers,
                         seed + w, error))
      return nullptr;
  return s;
}

std::shared_ptr<NatWorkers> NatWorkers::CreateLb(uint32_t connections, uint32_t workers,
                                                 uint64_t seed, std::string* error) {
  auto s = std::make_shared<NatWorkers>();
  s->workers = workers;
  s->lb = std::make_unique<nat::LbWorker[]>(workers);
  const uint32_t share = (connections + workers - 1) / workers;
  for (uint32_t w = 0; w < workers; ++w)
    if (!s->lb[w].Init(share, seed + w, error)) return nullptr;
  return s;
}

bool NatPreRoute::Steer(const rte_mbuf* m, uint32_t workers, uint32_t* owner) const noexcept {
  const GwMeta* gm = Gw(m);
  const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(m);
  nat::Direction dir = nat::Direction::kFromOutside;
  if (gm->in_iface == 0) {
    dir = nat::Direction::kFromInside;
  } else if (r_->nat != nullptr) {
    const ParsedFrame& pf = Meta(const_cast<rte_mbuf*>(m))->pf;
    uint32_t dst;
    std::memcpy(&dst, d + pf.l3_offset + 16, 4);  // gw-input checked the IPv4 header
    if (r_->nat->PoolIndex(dst) != nat::NatRules::kNotPool) dir = nat::Direction::kToNatAddress;
  }
  *owner = nat::OwnerWorker(d, len, dir, workers);
  return true;
}

void NatPreRoute::Process(FeatureContext& fc, Burst& in, const Outputs<Edge>& out) noexcept {
  const NatFeatureRules& r = *r_;
  const uint64_t now = NowMs(r, fc.now_tsc);
  nat::NatWorker* nw = NaptOf(r, fc);
  nat::LbWorker* lw = LbOf(r, fc);
  if (nw != nullptr) nw->Tick(now);
  if (lw != nullptr) lw->Tick(now);
  // In from outside (or turned around): inbound. From the VM network: only
  // hairpins, translated outbound.
  const auto outside = [](const GwMeta* gm) {
    return gm->in_iface != 0 || (gm->flags & GwMeta::kInbound) != 0;
  };
  const nat::NatRules* nr = r.nat.get();
  Walk(
      fc, r, in, out,
      [&](rte_mbuf* m) { return outside(Gw(m)) || (nr != nullptr && InsideHairpin(*nr, m)); },
      [&](Chunk& c) {
        const auto inbound = [&](nat::Frame* f, uint16_t n, Verdict* v) {
          TwoStages(
              f, n, v, lw != nullptr,
              [&](nat::Frame* sf, uint16_t k, Verdict* sv) { lw->Inbound(*r.lb, sf, k, now, sv); },
              nw != nullptr,
              [&](nat::Frame* sf, uint16_t k, Verdict* sv) { nw->Inbound(*nr, sf, k, now, sv); });
        };
        OnSubset(c.f, c.n, c.v, [&](uint16_t i) { return outside(Gw(c.m[i])); }, inbound);
        if (nw != nullptr)
          OnSubset(c.f, c.n, c.v, [&](uint16_t i) { return !outside(Gw(c.m[i])); },
                   [&](nat::Frame* f, uint16_t n, Verdict* v) { nw->Outbound(*nr, f, n, now, v); });
      });
}

void NatPostRoute::Process(FeatureContext& fc, Burst& in, const Outputs<Edge>& out) noexcept {
  const NatFeatureRules& r = *r_;
  const uint64_t now = NowMs(r, fc.now_tsc);
  nat::NatWorker* nw = NaptOf(r, fc);
  const nat::LbRules* lb = r.lb.get();
  nat::LbWorker* lw = LbOf(r, fc);
  const uint64_t ifaces = r.nat_ifaces;
  Walk(
      fc, r, in, out,
      [ifaces](rte_mbuf* m) {
        const GwMeta* gm = Gw(m);
        return gm->in_iface == 0 && gm->out_iface != 0 && (gm->flags & GwMeta::kInbound) == 0 &&
               ((ifaces >> gm->out_iface) & 1) != 0;
      },
      [&](Chunk& c) {
        TwoStages(
            c.f, c.n, c.v, lw != nullptr,
            [&](nat::Frame* f, uint16_t n, Verdict* v) { lw->Outbound(*lb, f, n, v); },
            nw != nullptr,
            [&](nat::Frame* f, uint16_t n, Verdict* v) { nw->Outbound(*r.nat, f, n, now, v); });
      });
}

std::shared_ptr<NatWorkers> NatWorkers::CreateTrace(const nat::TenantNat& t, std::string* error) {
  std::shared_ptr<NatWorkers> s;
  if (t.nat.enabled) {
    nat::NatSpec small = t.nat;
    small.limits = nat::NatLimits{256, 256, 64};
    s = CreateNat(small, 1, 0x7472616365000000ull, error);
    if (!s) return nullptr;
  } else {
    s = std::make_shared<NatWorkers>();
    s->workers = 1;
  }
  if (!t.load_balancers.empty()) {
    std::shared_ptr<NatWorkers> lb = CreateLb(256, 1, 0x7472616365000000ull, error);
    if (!lb) return nullptr;
    s->lb = std::move(lb->lb);
  }
  return s;
}

std::vector<std::shared_ptr<Feature>> MakeNatFeatures(std::shared_ptr<const NatFeatureRules> r) {
  return {std::make_shared<NatPreRoute>(r), std::make_shared<NatPostRoute>(r)};
}

}  // namespace hnv::gateway
