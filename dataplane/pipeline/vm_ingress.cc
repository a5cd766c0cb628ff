#include "dataplane/pipeline/vm_ingress.h"

#include <algorithm>

#include "dataplane/pipeline/port_acl.h"
#include "dataplane/pipeline/port_guard.h"
#include "dataplane/pipeline/stage_util.h"

namespace hnv {

namespace {

// The burst loop, compiled twice: a port without ACLs carries no ACL branch
// per frame (kAcl false); one with them checks the frames that passed
// PortGuard together, after the loop (CheckPortAcls: its session lookups
// overlap), before they go on.
template <bool kAcl>
void IngressBurst(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n,
                  const Outputs<VmIngress::Edge>& out) noexcept {
  using Edge = VmIngress::Edge;
  const PortInfo& pi = ctx.snap->ports[port];
  const PortGuard guard(ctx, port, pi);
  [[maybe_unused]] const PortAclTable* const acl = pi.acl;
  if constexpr (kAcl) {
    if (acl->stateful && ctx.acl_sessions != nullptr) ctx.acl_sessions->Tick();
  }
  // Counted once per burst, not per frame (one port, read racily anyway).
  uint64_t rx_bytes = 0;
  [[maybe_unused]] rte_mbuf* kept[kAcl ? kBurstSize : 1];
  [[maybe_unused]] AclFrame frames[kAcl ? kBurstSize : 1];
  [[maybe_unused]] uint16_t nk = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    rx_bytes += rte_pktmbuf_pkt_len(m);
    PacketMeta* meta = Meta(m);
    meta->in_port = port;
    if (!MakeContiguous(m) || !Reparse(m)) {
      ctx.Discard(m, Drop::kMalformed);
      continue;
    }
    if (meta->pf.has_vlan) {
      ctx.Discard(m, Drop::kVlanFromVm);
      continue;
    }
    if (pi.vsid_index == FlatU32Map::kMissing) {
      ctx.Discard(m, Drop::kPortNoVsid);
      continue;
    }
    if ((pi.guards & kGuardAddresses) != 0 &&
        reinterpret_cast<const EthHdr*>(Data(m))->src != pi.mac) {
      ctx.Discard(m, Drop::kSrcMacSpoof);
      continue;
    }
    if (const Drop why = guard.Check(ctx, Data(m), meta->pf, rte_pktmbuf_data_len(m));
        why != Drop::kCount) {
      ctx.Discard(m, why);
      continue;
    }
    meta->vsid = pi.vsid;
    meta->vsid_index = pi.vsid_index;
    meta->src_vsid_index = pi.vsid_index;
    if constexpr (kAcl) {
      frames[nk] = AclFrame{Data(m), &meta->pf, rte_pktmbuf_pkt_len(m)};
      kept[nk++] = m;
      continue;
    }
    out.Push(ctx, Edge::kSwitch, m);
  }
  if constexpr (kAcl) {
    Drop why[kBurstSize];
    CheckPortAcls(ctx, *acl, PortAclTable::kOut, port, frames, nk, why);
    for (uint16_t i = 0; i < nk; ++i) {
      if (why[i] == Drop::kCount) out.Push(ctx, Edge::kSwitch, kept[i]);
      else ctx.Discard(kept[i], why[i]);
    }
  }
  ctx.counters->rx_packets[port] += n;
  ctx.counters->rx_bytes[port] += rx_bytes;
}

}  // namespace

void VmIngress::Process(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n,
                        const Outputs<Edge>& out) noexcept {
  if (ctx.snap->ports[port].acl == nullptr) [[likely]]
    IngressBurst<false>(ctx, port, pkts, n, out);
  else  // in bursts of at most kBurstSize (its ACL arrays)
    for (uint16_t b = 0; b < n; b += kBurstSize)
      IngressBurst<true>(ctx, port, pkts + b, static_cast<uint16_t>(std::min<int>(kBurstSize, n - b)), out);
}

namespace {

// Flow 4, local side: a VM whose MAC holds an L2Only record answered an ARP
// or NS; tell the control plane its CA so it becomes a Dynamic record.
// Only the MAC holding the record learns: a VM with Static records cannot
// claim further addresses by ARPing for them.
void MaybeLearnLocal(WorkerContext& ctx, rte_mbuf* m, const VsidInfo& v) noexcept {
  const uint8_t* f = Data(m);
  const ParsedFrame& pf = Meta(m)->pf;
  const MacAddr& port_mac = ctx.snap->ports[Meta(m)->in_port].mac;
  const IpAddr* pa = nullptr;
  for (const VsidInfo::LocalL2Only& l : v.l2only_local_macs)
    if (l.mac == port_mac) pa = &l.pa;
  if (pa == nullptr) return;
  Event e{};
  e.kind = Event::kLearn;
  e.vsid = v.vsid;
  e.pa = *pa;
  if (pf.l3 == L3Kind::kArp) {
    const auto* arp = pf.At<ArpHdr>(f, pf.l3_offset);
    e.ip = IpAddr::V4Raw(arp->spa);
    e.mac = arp->sha;
  } else if (const NdHdr* nd = NdOf(f, pf, rte_pktmbuf_data_len(m));
             nd != nullptr && nd->type == kIcmp6NeighborAdvert) {
    e.ip = IpAddr::V6Raw(nd->target);
    e.mac = reinterpret_cast<const EthHdr*>(f)->src;
  } else {
    return;
  }
  if (e.mac != port_mac || e.ip.IsUnspecified() || ctx.tables->FindCa(v.rd, e.ip) != nullptr)
    return;
  ctx.Post(e);
}

bool IsResolutionRequest(const uint8_t* f, const ParsedFrame& pf, uint32_t len) noexcept {
  if (pf.l3 == L3Kind::kArp) return pf.At<ArpHdr>(f, pf.l3_offset)->oper.ToHost() == kArpRequest;
  const NdHdr* nd = NdOf(f, pf, len);
  return nd != nullptr && nd->type == kIcmp6NeighborSolicit;
}

// An ARP request or NS asking for `target`.
bool IsResolutionRequestFor(const uint8_t* f, const ParsedFrame& pf, uint32_t len,
                            const IpAddr& target) noexcept {
  if (!IsResolutionRequest(f, pf, len)) return false;
  if (pf.l3 == L3Kind::kArp) return IpAddr::V4Raw(pf.At<ArpHdr>(f, pf.l3_offset)->tpa) == target;
  return IpAddr::V6Raw(NdOf(f, pf, len)->target) == target;
}

}  // namespace

void L2Switch::Process(WorkerContext& ctx, Burst& in, const Outputs<Edge>& out) noexcept {
  for (uint16_t base = 0; base < in.n; base += kBurstSize) {
    const uint16_t n = std::min<uint16_t>(static_cast<uint16_t>(in.n - base), kBurstSize);
    rte_mbuf* const* pkts = in.pkts + base;
    // Pass 1: the L2 lookups this chunk needs (unicast not to the DFGW MAC),
    // all at once, so their cache misses overlap (FindL2Bulk).
    UninitArray<KeyWords<L2Key>, kBurstSize> keys;
    const L2Entry* found[kBurstSize];
    uint8_t slot[kBurstSize];
    uint32_t nk = 0;
    const bool bulk = ctx.tables->L2BulkPays();
    for (uint16_t i = 0; bulk && i < n; ++i) {
      const PacketMeta* meta = Meta(pkts[i]);
      const VsidInfo& v = ctx.snap->vsids[meta->vsid_index];
      const MacAddr& dst = reinterpret_cast<const EthHdr*>(Data(pkts[i]))->dst;
      if (dst.IsMulticast() || (v.has_dfgw && dst == v.dfgw_mac)) continue;
      slot[i] = static_cast<uint8_t>(nk);
      keys[nk++] = PolicyTables::L2KeyOf(meta->vsid, dst);
    }
    if (nk != 0) ctx.tables->FindL2Bulk(keys.data(), nk, found);
    // Pass 2: each frame in order.
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      PacketMeta* meta = Meta(m);
      const VsidInfo& v = ctx.snap->vsids[meta->vsid_index];
      const uint8_t* f = Data(m);
      const MacAddr& dst = reinterpret_cast<const EthHdr*>(f)->dst;
      if (v.l2only_local && (meta->pf.l3 == L3Kind::kArp || meta->pf.l3 == L3Kind::kIpv6))
        MaybeLearnLocal(ctx, m, v);
      if (dst.IsMulticast()) {
        if (IsResolutionRequest(f, meta->pf, rte_pktmbuf_data_len(m))) {
          Flood(ctx, m, v, meta->in_port, /*keep_original=*/true);
          out.Push(ctx, Edge::kArpNd, m);
        } else {
          Flood(ctx, m, v, meta->in_port, /*keep_original=*/false);
        }
        continue;
      }
      if (v.has_dfgw && dst == v.dfgw_mac) {
        // A unicast ARP request / NS for the DFGW is a VM re-validating its
        // gateway entry (NUD probe): answered like the broadcast one.
        const bool probe = IsResolutionRequestFor(f, meta->pf, rte_pktmbuf_data_len(m), v.dfgw_ip);
        out.Push(ctx, probe ? Edge::kArpNd : Edge::kRouter, m);
        continue;
      }
      const L2Entry* e = bulk ? found[slot[i]] : ctx.tables->FindL2(meta->vsid, dst);
      if (e == nullptr) {
        ctx.Discard(m, Drop::kUnknownDstMac);
      } else if (e->peer == kLocalPeer) {
        if (e->port == meta->in_port) {
          ctx.Discard(m, Drop::kHairpin);
          continue;
        }
        ++ctx.counters->switched;
        ctx.Transmit(e->port, m);
      } else if (IsResolutionRequest(f, meta->pf, rte_pktmbuf_data_len(m))) {
        // A VM re-validating a remote neighbour (unicast ARP / NS): the filter
        // answers from policy as for the broadcast one; ARP never crosses the wire.
        out.Push(ctx, Edge::kArpNd, m);
      } else if (e->rule == TranslationRule::kNone) {
        ctx.Discard(m, Drop::kRuleNone);
      } else {
        meta->peer = e->peer;
        out.Push(ctx, Edge::kEncap, m);
      }
    }
  }
  in.n = 0;
}

}  // namespace hnv
