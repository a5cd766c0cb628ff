#include "gateway/fastpath/gateway_path.h"

#include <rte_cycles.h>
#include <rte_lpm.h>

#include <cstring>

#include "dataplane/packet/checksum.h"
#include "dataplane/pipeline/flow_hash.h"
#include "dataplane/pipeline/stage_util.h"
#include "gateway/fastpath/path_trace.h"

namespace hnv::gateway {
namespace {

constexpr uint16_t kEthLen = sizeof(EthHdr);
constexpr uint16_t kVlanLen = sizeof(VlanTag);

inline void Add(PacketsBytes& pb, const rte_mbuf* m) noexcept {
  ++pb.packets;
  pb.bytes += rte_pktmbuf_pkt_len(m);
}

// Removes an in-band 802.1Q tag (l2_len 18) so the frame is plain Ethernet.
inline void StripTag(rte_mbuf* m, uint16_t l2_len) noexcept {
  if (l2_len != kEthLen + kVlanLen) return;
  uint8_t* d = Data(m);
  std::memmove(d + kVlanLen, d, 2 * sizeof(MacAddr));
  rte_pktmbuf_adj(m, kVlanLen);
}

// Writes a fresh Ethernet header (with a tag when vlan != 0) in front of the
// L3 packet that starts at `l2_len`; trims anything after `l3_len` bytes of
// it (Ethernet padding). False when there is no headroom for the tag.
inline bool RewriteL2(rte_mbuf* m, uint16_t l2_len, uint16_t l3_len, const MacAddr& dst,
                      const MacAddr& src, uint16_t vlan, uint16_t ether_type) noexcept {
  const uint32_t want_len = uint32_t{l2_len} + l3_len;
  if (rte_pktmbuf_data_len(m) > want_len) rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - want_len);
  const uint16_t new_l2 = vlan != 0 ? kEthLen + kVlanLen : kEthLen;
  if (new_l2 < l2_len) {
    rte_pktmbuf_adj(m, l2_len - new_l2);
  } else if (new_l2 > l2_len) {
    if (rte_pktmbuf_prepend(m, new_l2 - l2_len) == nullptr) return false;
  }
  uint8_t* d = Data(m);
  std::memcpy(d, dst.b.data(), 6);
  std::memcpy(d + 6, src.b.data(), 6);
  if (vlan != 0) {
    const Be16 tpid = Be16::FromHost(kEtherTypeVlan);
    const Be16 tci = Be16::FromHost(vlan);
    std::memcpy(d + 12, &tpid, 2);
    std::memcpy(d + 14, &tci, 2);
  }
  const Be16 type = Be16::FromHost(ether_type);
  std::memcpy(d + new_l2 - 2, &type, 2);
  m->ol_flags = 0;
  m->vlan_tci = 0;
  return true;
}

inline bool IsGroupV4(uint32_t dst_host) noexcept {
  return (dst_host >> 28) == 0xe || dst_host == 0xffffffffu;
}

inline Ipv4Hdr* Ip4(rte_mbuf* m) noexcept {
  return reinterpret_cast<Ipv4Hdr*>(Data(m) + Meta(m)->pf.l3_offset);
}

inline uint32_t DstHost(const Ipv4Hdr* ip) noexcept {
  uint32_t be;
  std::memcpy(&be, ip->dst, 4);
  return HostToNet(be);
}

}  // namespace

void GwContext::PuntFrame(rte_mbuf* m, Punt why) noexcept {
  StripTag(m, Meta(m)->pf.l3_offset);
  m->ol_flags = 0;
  m->vlan_tci = 0;
  m->port = TapIdOf(cv.id, Gw(m)->in_iface);
  GwBatch& b = batch;
  b.punt[b.n_punt] = m;
  b.punt_bytes[b.n_punt] = rte_pktmbuf_pkt_len(m);
  b.punt_compartment[b.n_punt] = static_cast<uint16_t>(cv.id);
  b.punt_why[b.n_punt++] = why;
}

void GwInput::Process(GwContext& g, Burst& in, const Outputs<Edge>& out) noexcept {
  for (uint16_t i = 0; i < in.n; ++i) {
    rte_mbuf* m = in.pkts[i];
    const uint8_t iface = Gw(m)->in_iface;
    ParsedFrame& pf = Meta(m)->pf;
    const ParseError err = ParseFrame(Data(m), rte_pktmbuf_data_len(m), &pf);
    const auto* eth = reinterpret_cast<const EthHdr*>(Data(m));
    const bool group = eth->dst.IsMulticast();
    if (!group && eth->dst != g.cv.ifaces[iface].mac) {
      g.Drop(m, GwDrop::kNotForUs);
      continue;
    }
    if ((err != ParseError::kOk && !(err == ParseError::kTruncatedL4 && pf.l3 == L3Kind::kIpv4)) ||
        (iface == 0 && pf.has_vlan)) {  // from the VM network frames are untagged
      g.Drop(m, GwDrop::kMalformed);
      continue;
    }
    switch (pf.l3) {
      case L3Kind::kIpv4:
        break;
      case L3Kind::kArp:
        g.PuntFrame(m, Punt::kArp);
        continue;
      case L3Kind::kIpv6:
        g.PuntFrame(m, Punt::kIpv6);
        continue;
      default:
        g.PuntFrame(m, group ? Punt::kGroup : Punt::kNotIp);
        continue;
    }
    if (group) {
      g.PuntFrame(m, Punt::kGroup);
      continue;
    }
    const Ipv4Hdr* ip = Ip4(m);
    if (!Ipv4HeaderChecksumOk(ip)) {
      g.Drop(m, GwDrop::kBadChecksum);
      continue;
    }
    if (IsGroupV4(DstHost(ip))) {
      g.PuntFrame(m, Punt::kGroup);
      continue;
    }
    if (ip->ttl <= 1) {
      g.PuntFrame(m, Punt::kTtl);
      continue;
    }
    out.Push(g.ctx, Edge::kSteer, m);
  }
  in.n = 0;
}

void GwSteer::Process(GwContext& g, Burst& in, const Outputs<Edge>& out) noexcept {
  const uint32_t workers = g.ctx.workers;
  const FeatureChain* chain = g.cv.features;
  for (uint16_t i = 0; i < in.n; ++i) {
    rte_mbuf* m = in.pkts[i];
    uint32_t owner = workers;
    if (chain != nullptr && chain->steers) {
      for (uint8_t f = 0; f < chain->n_pre + chain->n_post && owner == workers; ++f) {
        const Feature* ft = f < chain->n_pre ? chain->pre[f] : chain->post[f - chain->n_pre];
        uint32_t o;
        if (ft->steers() && ft->Steer(m, workers, &o) && o < workers) owner = o;
      }
    }
    if (owner == workers) owner = OwnerOfFlow(SymmetricFlowHash(Data(m), Meta(m)->pf), workers);
    if (owner == g.ctx.worker_id) {
      out.Push(g.ctx, Edge::kPreRoute, m);
    } else {
      Gw(m)->resume = GwMeta::Resume::kPreRoute;
      g.ctx.HandOff(owner, m);
    }
  }
  in.n = 0;
}

void GwRoute::Process(GwContext& g, Burst& in, const Outputs<Edge>& out) noexcept {
  const CompartmentView& cv = g.cv;
  for (uint16_t base = 0; base < in.n; base += kBurstSize) {
    const uint16_t n = in.n - base < kBurstSize ? in.n - base : kBurstSize;
    rte_mbuf* const* pkts = in.pkts + base;
    uint32_t dst[kBurstSize];
    uint32_t hop[kBurstSize];
    for (uint16_t i = 0; i < n; ++i) dst[i] = DstHost(Ip4(pkts[i]));
    rte_lpm_lookup_bulk(cv.lpm, dst, hop, n);
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      uint32_t nh = hop[i] & 0x00ffffffu;
      if ((hop[i] & RTE_LPM_LOOKUP_SUCCESS) == 0) {
        if (cv.default_adj == CompartmentView::kNoDefault) {
          g.PuntFrame(m, Punt::kNoRoute);
          continue;
        }
        nh = cv.default_adj;
      }
      const Adjacency a = LoadAdjacency(cv.adj, nh);
      switch (a.kind) {
        case NextHopKind::kForward:
          break;
        case NextHopKind::kLocal:
          g.PuntFrame(m, Punt::kLocal);
          continue;
        case NextHopKind::kPunt:
          g.PuntFrame(m, Punt::kRoute);
          continue;
        case NextHopKind::kBlackhole:
        default:
          g.Drop(m, GwDrop::kBlackhole);
          continue;
      }
      GwMeta* gm = Gw(m);
      if (a.iface >= cv.iface_count) {
        g.Drop(m, GwDrop::kNoInterface);
        continue;
      }
      if (a.iface == 0 && gm->in_iface == 0 && (gm->flags & GwMeta::kHairpinOk) == 0) {
        g.PuntFrame(m, Punt::kHairpin);  // the kernel routes hairpins
        continue;
      }
      gm->out_iface = a.iface;
      gm->next_hop = a.gateway != 0 ? a.gateway : dst[i];
      out.Push(g.ctx, Edge::kPostRoute, m);
    }
  }
  in.n = 0;
}

void GwRewrite::Process(GwContext& g, Burst& in) noexcept {
  const CompartmentView& cv = g.cv;
  for (uint16_t i = 0; i < in.n; ++i) {
    rte_mbuf* m = in.pkts[i];
    const GwMeta* gm = Gw(m);
    const ParsedFrame& pf = Meta(m)->pf;
    const NeighborEntry* nb = g.tables.FindNeighborV4(cv.id, gm->out_iface, gm->next_hop);
    if (nb == nullptr) {
      g.PuntFrame(m, Punt::kNoNeighbor);
      continue;
    }
    const IfaceView& out = cv.ifaces[gm->out_iface];
    if (pf.l3_len > out.mtu) {
      g.PuntFrame(m, Punt::kTooBig);
      continue;
    }
    if (!RewriteL2(m, pf.l3_offset, pf.l3_len, nb->mac, out.mac, out.vlan, kEtherTypeIpv4)) {
      g.Drop(m, GwDrop::kNoHeadroom);
      continue;
    }
    Ipv4DecrementTtl(
        reinterpret_cast<Ipv4Hdr*>(Data(m) + (out.vlan != 0 ? kEthLen + kVlanLen : kEthLen)));
    if (gm->out_iface != 0) {
      Add(g.c.fwd_external, m);
      g.ctx.Transmit(out.port, m);
    } else if (!g.in_flush) {
      Add(g.c.fwd_vm, m);
      g.batch.to_vm[g.batch.n_vm++] = m;
    } else {
      // Inside a flush the pipeline may not be re-entered: this worker's
      // next loop iteration feeds it (ReceiveHandoff, kToVm).
      Add(g.c.fwd_vm, m);
      Gw(m)->resume = GwMeta::Resume::kToVm;
      g.ctx.HandOff(g.ctx.worker_id, m);
    }
  }
  in.n = 0;
}

CompartmentPath::CompartmentPath() noexcept
    : input_(to_steer_),
      steer_(to_pre_),
      route_(to_post_),
      into_a_(feature_a_, feature_punt_),
      into_b_(feature_b_, feature_punt_) {}

Burst& CompartmentPath::RunSlot(GwContext& g, Feature* const* features, uint8_t n,
                                Burst& in) noexcept {
  Burst* cur = &in;
  FeatureContext fc{g.ctx, g.cv, rte_rdtsc(), tracer_ != nullptr};
  for (uint8_t f = 0; f < n && cur->n != 0; ++f) {
    const bool to_a = cur != &feature_a_;
    features[f]->Process(fc, *cur, to_a ? into_a_ : into_b_);
    cur->n = 0;
    cur = to_a ? &feature_a_ : &feature_b_;
    for (uint16_t i = 0; i < feature_punt_.n; ++i) g.PuntFrame(feature_punt_.pkts[i], Punt::kFeature);
    feature_punt_.n = 0;
  }
  return *cur;
}

void CompartmentPath::FromInput(GwContext& g, Burst& in) noexcept {
  if (tracer_ != nullptr) [[unlikely]] tracer_->Enter(g, in);
  GwInput::Process(g, in, input_);
  if (tracer_ != nullptr) [[unlikely]] tracer_->After(GwInput::kName, g, to_steer_);
  if (g.ctx.workers > 1) {
    GwSteer::Process(g, to_steer_, steer_);
    if (tracer_ != nullptr) [[unlikely]] tracer_->After(GwSteer::kName, g, to_pre_);
    FromPreRoute(g, to_pre_, false);
  } else {
    FromPreRoute(g, to_steer_, false);
  }
}

void CompartmentPath::FromPreRoute(GwContext& g, Burst& in) noexcept { FromPreRoute(g, in, true); }

void CompartmentPath::FromPreRoute(GwContext& g, Burst& in, bool enter) noexcept {
  if (tracer_ != nullptr && enter) [[unlikely]] tracer_->Enter(g, in);
  const FeatureChain* chain = g.cv.features;
  Burst& routed_in = chain == nullptr ? in : RunSlot(g, chain->pre, chain->n_pre, in);
  if (tracer_ != nullptr && chain != nullptr) [[unlikely]] tracer_->After("pre-route features", g, routed_in);
  GwRoute::Process(g, routed_in, route_);
  if (tracer_ != nullptr) [[unlikely]] tracer_->After(GwRoute::kName, g, to_post_);
  Burst& rewrite_in =
      chain == nullptr ? to_post_ : RunSlot(g, chain->post, chain->n_post, to_post_);
  if (tracer_ != nullptr && chain != nullptr) [[unlikely]] tracer_->After("post-route features", g, rewrite_in);
  GwRewrite::Process(g, rewrite_in);
  if (tracer_ != nullptr) [[unlikely]] {
    const Burst none{};  // a terminal stage: its frames are sent, queued or freed
    tracer_->After(GwRewrite::kName, g, none);
  }
  to_post_.n = 0;
}

}  // namespace hnv::gateway
