#include "dataplane/pipeline/arp_nd.h"

#include "dataplane/packet/build.h"
#include "dataplane/pipeline/nvgre_encap.h"
#include "dataplane/pipeline/stage_util.h"

namespace hnv {
namespace {

// Rewrites `m` into the answer "target is at mac" and sends it back.
void Answer(WorkerContext& ctx, rte_mbuf* m, bool is_arp, const MacAddr& mac,
            const IpAddr& target, const MacAddr& to_mac, const IpAddr& to_ip, bool router) noexcept {
  uint8_t* f = Data(m);
  const uint32_t cap = m->buf_len - m->data_off;
  uint8_t frame[128];
  const uint32_t len =
      is_arp ? BuildArpReply(frame, sizeof(frame), mac, target, to_mac, to_ip)
             : BuildNeighborAdvert(frame, sizeof(frame), mac, target, to_mac, to_ip, router);
  if (len == 0 || len > cap) return ctx.Discard(m, Drop::kNoMbuf);
  std::memcpy(f, frame, len);
  m->data_len = static_cast<uint16_t>(len);
  m->pkt_len = len;
  ++ctx.counters->arp_answered;
  ctx.Transmit(Meta(m)->in_port, m);
}

}  // namespace

void ArpNdResponder::Process(WorkerContext& ctx, Burst& in, const Outputs<Edge>& out) noexcept {
  Burst& to_encap = out[Edge::kEncap];
  for (uint16_t i = 0; i < in.n; ++i) {
    rte_mbuf* m = in.pkts[i];
    PacketMeta* meta = Meta(m);
    const VsidInfo& v = ctx.snap->vsids[meta->vsid_index];
    const uint8_t* f = Data(m);
    const ParsedFrame& pf = meta->pf;
    const bool is_arp = pf.l3 == L3Kind::kArp;
    IpAddr target, asker;
    MacAddr asker_mac = reinterpret_cast<const EthHdr*>(f)->src;
    if (is_arp) {
      const auto* arp = pf.At<ArpHdr>(f, pf.l3_offset);
      target = IpAddr::V4Raw(arp->tpa);
      asker = IpAddr::V4Raw(arp->spa);
      asker_mac = arp->sha;
    } else {
      const NdHdr* nd = NdOf(f, pf, rte_pktmbuf_data_len(m));
      target = IpAddr::V6Raw(nd->target);
      asker = SrcIp(f, pf);
    }
    if (asker.IsUnspecified() || asker == target) {  // DAD probe / gratuitous ARP
      ctx.Discard(m, Drop::kArpNotRequest);
      continue;
    }
    if (v.has_dfgw && target == v.dfgw_ip) {
      Answer(ctx, m, is_arp, v.dfgw_mac, target, asker_mac, asker, /*router=*/true);
      continue;
    }
    // A broadcast request was also flooded to the VSID's local ports; a
    // unicast one (a VM re-validating a neighbour) went nowhere else.
    const bool flooded = reinterpret_cast<const EthHdr*>(f)->dst.IsMulticast();
    const CaEntry* ca = ctx.tables->FindCa(v.rd, target);
    if (ca != nullptr && ca->vsid == v.vsid) {
      if (ca->peer == kLocalPeer && flooded) {
        ctx.Absorb(m);  // the local VM answers for itself (it got the flood)
      } else {
        Answer(ctx, m, is_arp, ca->mac, target, asker_mac, asker, /*router=*/false);
      }
      continue;
    }
    if (!v.l2only_peers.empty()) {
      for (uint32_t p : v.l2only_peers) {
        // A burst of requests times several L2Only PAs can outgrow the edge:
        // drain it into nvgre-encap rather than drop copies.
        if (to_encap.full()) NvgreEncap::Process(ctx, to_encap);
        rte_mbuf* c = rte_pktmbuf_copy(m, ctx.pool, 0, UINT32_MAX);
        if (c == nullptr) {
          ++ctx.counters->drops[static_cast<uint16_t>(Drop::kNoMbuf)];
          continue;
        }
        *Meta(c) = *meta;
        Meta(c)->peer = p;
        ++ctx.counters->l2only_arp;
        Push(ctx, to_encap, c);
      }
      ctx.Absorb(m);  // its copies went to the L2Only PAs
      continue;
    }
    if (v.l2only_local && flooded) {
      ctx.Absorb(m);  // a local VM with an L2Only record may answer
      continue;
    }
    ctx.Discard(m, Drop::kArpNoRecord);
  }
  in.n = 0;
}

}  // namespace hnv
