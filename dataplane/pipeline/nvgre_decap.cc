#include "dataplane/pipeline/nvgre_decap.h"

#include <algorithm>

#include "dataplane/pipeline/stage_util.h"

namespace hnv {
namespace {

bool PeerIs(const WorkerContext& ctx, uint32_t id, const IpWords& pa) noexcept {
  return ctx.tables->PeerHasPa(id, pa.w[0], pa.w[1], pa.family());
}

// The inner frame's claimed source IP: the IP source, an ARP sender or an
// NA target; zero (unspecified) for anything else.
void InnerSourceIp(const uint8_t* f, const ParsedFrame& pf, uint32_t len, IpWords* ip) noexcept {
  if (pf.l3 == L3Kind::kIpv4) [[likely]] {
    ip->SetV4(pf.At<Ipv4Hdr>(f, pf.l3_offset)->src);
  } else if (pf.l3 == L3Kind::kIpv6) {
    if (const NdHdr* nd = NdOf(f, pf, len); nd != nullptr && nd->type == kIcmp6NeighborAdvert)
      ip->SetV6(nd->target);
    else
      ip->SetV6(pf.At<Ipv6Hdr>(f, pf.l3_offset)->src);
  } else if (pf.l3 == L3Kind::kArp) {
    ip->SetV4(pf.At<ArpHdr>(f, pf.l3_offset)->spa);
  } else {
    ip->SetZero();
  }
}

// Its claimed source MAC: the ARP sender's, else the Ethernet source. Read
// only when the source IP alone does not decide (pass 2's rarer checks).
MacAddr InnerSourceMac(const uint8_t* f, const ParsedFrame& pf) noexcept {
  if (pf.l3 == L3Kind::kArp) return pf.At<ArpHdr>(f, pf.l3_offset)->sha;
  return reinterpret_cast<const EthHdr*>(f)->src;
}

// A source address that must have a lookup record to be believed.
bool RoutableSource(const IpWords& ip, Family family) noexcept {
  if (ip.IsZero() || ip.family() != family) return false;
  const bool link_local =
      ip.family() == Family::kV6 && ip.Byte(0) == 0xfe && (ip.Byte(1) & 0xc0) == 0x80;
  return !link_local;
}

// A frame past the checks of pass 1, waiting for its source check.
struct Decapsulated {
  rte_mbuf* m;
  const VsidInfo* v;
  uint32_t vsid;
  uint32_t vsid_index;  // of v in the snapshot
  IpWords outer_src;
  IpWords src_ip;  // zero: unspecified, no CA lookup
};

// Pass 1 for one frame: the GRE checks, the outer headers removed, the inner
// frame parsed, its claimed source. False when the frame was dropped.
bool Decapsulate(WorkerContext& ctx, rte_mbuf* m, Decapsulated* d) noexcept {
  PacketMeta* meta = Meta(m);
  const ParsedFrame& outer = meta->pf;  // until Reparse below overwrites it
  const uint8_t* f = Data(m);
  const auto* gre = outer.At<NvgreHdr>(f, outer.l4_offset);
  const uint16_t fv = gre->flags_version.ToHost();
  if ((fv & kGreVersionMask) != 0) {
    ctx.Discard(m, Drop::kBadGreVersion);
    return false;
  }
  if (fv != kNvgreFlags) {
    ctx.Discard(m, Drop::kBadGreFlags);
    return false;
  }
  if (gre->protocol.ToHost() != kEtherTypeTeb) {
    ctx.Discard(m, Drop::kNotTeb);
    return false;
  }
  // Copied out before use: in the frame the key sits at a 2-byte boundary,
  // and calling a member of a misaligned Be32 (gre->vsid()) is undefined.
  const Be32 key = gre->key;
  const uint32_t vsid = key.ToHost() >> 8;
  if (!IsValidVsid(vsid)) {
    ctx.Discard(m, Drop::kReservedVsid);
    return false;
  }
  const uint32_t vi = ctx.snap->vsid_index.Find(vsid);
  if (vi == FlatU32Map::kMissing) {
    ctx.Discard(m, Drop::kUnknownVsid);
    return false;
  }
  const VsidInfo* v = &ctx.snap->vsids[vi];
  d->outer_src.SetSrc(f, outer);
  const uint32_t inner_off = outer.l4_offset + sizeof(NvgreHdr);
  const uint32_t outer_end = outer.l3_offset + outer.l3_len;
  if (outer_end < inner_off + sizeof(EthHdr)) {
    ctx.Discard(m, Drop::kMalformedInner);
    return false;
  }
  // What rte_pktmbuf_adj + rte_pktmbuf_trim do to a one-segment mbuf (the
  // frame is contiguous: provider-ingress), without their segment walk and
  // checks: inner_off + 14 <= outer_end <= data_len (parsed above).
  const auto inner_len = static_cast<uint16_t>(outer_end - inner_off);
  m->data_off = static_cast<uint16_t>(m->data_off + inner_off);
  m->data_len = inner_len;
  m->pkt_len = inner_len;
  if (!Reparse(m)) {
    ctx.Discard(m, Drop::kMalformedInner);
    return false;
  }
  if (meta->pf.has_vlan) {
    ctx.Discard(m, Drop::kInnerVlan);
    return false;
  }
  d->m = m;
  d->v = v;
  d->vsid = vsid;
  d->vsid_index = vi;
  InnerSourceIp(Data(m), meta->pf, inner_len, &d->src_ip);
  return true;
}

// Pass 2 for one frame: the source check given the CA entry of its source
// (nullptr when none or not looked up), then to deliver.
void CheckSource(WorkerContext& ctx, const Decapsulated& d, const CaEntry* ca,
                 const Outputs<NvgreDecap::Edge>& out) noexcept {
  rte_mbuf* m = d.m;
  PacketMeta* meta = Meta(m);
  const VsidInfo* v = d.v;
  const IpWords& src_ip = d.src_ip;
  const IpWords& outer_src = d.outer_src;
  const bool has_src = !src_ip.IsZero();
  bool ok = ca != nullptr && PeerIs(ctx, ca->peer, outer_src);
  const L2Entry* l2 = nullptr;
  MacAddr src_mac{};
  if (!ok) {
    src_mac = InnerSourceMac(Data(m), meta->pf);
    // The MAC vouches for the sender only where no CA can: an L2Only
    // record (its addresses are being learned), or a frame without a
    // routable source of the VSID's family (DHCP from 0.0.0.0, ARP
    // probes, IPv6 link-local, non-IP). Otherwise a host could send any
    // source address from behind one of its VMs' MACs.
    l2 = ctx.tables->FindL2(d.vsid, src_mac);
    ok = l2 != nullptr && PeerIs(ctx, l2->peer, outer_src) &&
         (l2->type == RecordType::kL2Only || !RoutableSource(src_ip, v->family));
  }
  if (!ok) {
    for (uint32_t p : v->wildcard_peers)
      if (PeerIs(ctx, p, outer_src)) ok = true;
  }
  if (!ok && has_src) {
    // Return traffic through a gateway (flow 6): a source without a record
    // that the routing domain routes via a next hop whose PA is the sender.
    const RouteEntry* r = ctx.tables->FindRoute(v->rd, src_ip.ToIpAddr());
    if (r != nullptr && !r->on_link) {
      const CaEntry* gw = ctx.tables->FindCa(v->rd, r->next_hop);
      ok = gw != nullptr && PeerIs(ctx, gw->peer, outer_src);
    }
  }
  if (!ok) {
    ctx.Discard(m, Drop::kSourceCheck);
    return;
  }
  if (ca == nullptr && l2 != nullptr && l2->type == RecordType::kL2Only && has_src &&
      (meta->pf.l3 == L3Kind::kArp ||
       NdOf(Data(m), meta->pf, rte_pktmbuf_data_len(m)) != nullptr)) {
    Event e{};
    e.kind = Event::kLearn;
    e.vsid = d.vsid;
    e.ip = src_ip.ToIpAddr();
    e.mac = src_mac;
    e.pa = outer_src.ToIpAddr();
    ctx.Post(e);
  }
  meta->vsid = d.vsid;
  meta->vsid_index = d.vsid_index;
  ++ctx.counters->decapsulated;
  out.Push(ctx, NvgreDecap::Edge::kDeliver, m);
}

}  // namespace

void NvgreDecap::Process(WorkerContext& ctx, Burst& in, const Outputs<Edge>& out) noexcept {
  for (uint16_t base = 0; base < in.n; base += kBurstSize) {
    const uint16_t n = std::min<uint16_t>(static_cast<uint16_t>(in.n - base), kBurstSize);
    // Pass 1: decapsulate; the CA lookups of the inner sources all at once
    // (FindCaBulk), so their cache misses overlap.
    UninitArray<Decapsulated, kBurstSize> d;
    UninitArray<KeyWords<CaKey>, kBurstSize> keys;
    const CaEntry* found[kBurstSize];
    uint8_t slot[kBurstSize];
    uint32_t nd = 0, nk = 0;
    for (uint16_t i = 0; i < n; ++i) {
      Decapsulated& cur = d[nd];
      if (!Decapsulate(ctx, in.pkts[base + i], &cur)) continue;
      if (!cur.src_ip.IsZero()) {
        slot[nd] = static_cast<uint8_t>(nk);
        keys[nk++] = cur.src_ip.CaKeyIn(cur.v->rd);
      } else {
        slot[nd] = kBurstSize;  // no lookup
      }
      ++nd;
    }
    if (nk != 0) ctx.tables->FindCaBulk(keys.data(), nk, found);
    // Pass 2: the source checks, in order.
    for (uint32_t j = 0; j < nd; ++j)
      CheckSource(ctx, d[j], slot[j] == kBurstSize ? nullptr : found[slot[j]], out);
  }
  in.n = 0;
}

void Deliver::Process(WorkerContext& ctx, Burst& in) noexcept {
  const Snapshot& snap = *ctx.snap;
  for (uint16_t i = 0; i < in.n; ++i) {
    rte_mbuf* m = in.pkts[i];
    const PacketMeta* meta = Meta(m);
    const MacAddr& dst = reinterpret_cast<const EthHdr*>(Data(m))->dst;
    if (dst.IsMulticast()) {
      const VsidInfo& v = snap.vsids[meta->vsid_index];
      if (v.local_ports.empty()) {  // nobody to deliver to: counted, not lost
        ctx.Discard(m, Drop::kNoLocalPort);
        continue;
      }
      Flood(ctx, m, v, kNoPort, /*keep_original=*/false);
      continue;
    }
    uint16_t port;
    if (!snap.local_macs.Find(meta->vsid, dst, &port)) {
      ctx.Discard(m, Drop::kNoLocalPort);
      continue;
    }
    if (port >= kMaxPorts || snap.ports[port].vsid != meta->vsid) {
      ctx.Discard(m, Drop::kVsidMismatch);
      continue;
    }
    ctx.Transmit(port, m);
  }
  in.n = 0;
}

}  // namespace hnv
