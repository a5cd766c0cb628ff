#include "dataplane/pipeline/nvgre_encap.h"

#include <rte_hash_crc.h>

#include "dataplane/packet/build.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/pipeline/gso.h"
#include "dataplane/pipeline/stage_util.h"

namespace hnv {

namespace {

// rte_hash_crc(p, 8 * n, h): its 8-byte steps on words loaded with memcpy
// (the frame's headers sit at any alignment), no copy, no length loop.
uint32_t CrcWords(const uint8_t* p, int n, uint32_t h) noexcept {
  for (int i = 0; i < n; ++i) {
    uint64_t w;
    std::memcpy(&w, p + 8 * i, 8);
    h = rte_hash_crc_8byte(w, h);
  }
  return h;
}

}  // namespace

uint8_t NvgreEncap::FlowId(const uint8_t* f, const ParsedFrame& pf) noexcept {
  uint32_t h = 0;
  if (pf.l3 == L3Kind::kIpv4) {
    h = CrcWords(pf.At<Ipv4Hdr>(f, pf.l3_offset)->src, 1, pf.l4_proto);  // src, dst
  } else if (pf.l3 == L3Kind::kIpv6) {
    h = CrcWords(pf.At<Ipv6Hdr>(f, pf.l3_offset)->src, 4, pf.l4_proto);
  } else {
    uint32_t tail;  // by MAC pair: 12 bytes
    std::memcpy(&tail, f + 8, 4);
    return static_cast<uint8_t>(rte_hash_crc_4byte(tail, CrcWords(f, 1, 0)));
  }
  if (pf.l4_present && (pf.l4_proto == kIpProtoTcp || pf.l4_proto == kIpProtoUdp)) {
    uint32_t ports;
    std::memcpy(&ports, f + pf.l4_offset, sizeof(ports));
    h = rte_hash_crc_4byte(ports, h);
  }
  return static_cast<uint8_t>(h ^ (h >> 8) ^ (h >> 16) ^ (h >> 24));
}

namespace {

// Sends ICMP "too big" for the inner packet of `m` back to its sender.
void SendTooBig(WorkerContext& ctx, rte_mbuf* m, uint32_t inner_mtu) noexcept {
  const PacketMeta* meta = Meta(m);
  const VsidInfo& src = ctx.snap->vsids[meta->src_vsid_index];
  const ParsedFrame& pf = meta->pf;
  if (!src.has_dfgw || (pf.l3 != L3Kind::kIpv4 && pf.l3 != L3Kind::kIpv6)) return;
  // An IPv4 sender without DF asked for fragmentation, which NVGRE never
  // does: it gets no ICMP (its packet is counted as kTooBig).
  if (pf.l3 == L3Kind::kIpv4 && !pf.At<Ipv4Hdr>(Data(m), pf.l3_offset)->dont_fragment()) return;
  const uint8_t* f = Data(m);
  // To the sending VM's adapter: the frame's source MAC is no longer the
  // VM's once the router has rewritten it (flows 5, 6).
  const MacAddr& vm_mac = ctx.snap->ports[meta->in_port].mac;
  SendIcmpError(ctx, meta->in_port, ctx.counters->icmp_too_big, [&](uint8_t* out, uint32_t cap) {
    return BuildIcmpTooBig(out, cap, src.dfgw_mac, vm_mac, src.dfgw_ip, f + pf.l3_offset,
                           pf.l3_len, inner_mtu);
  });
}

// Prepends the peer's outer headers and the NVGRE header to `m` (inner frame
// of VSID `vsid`) and transmits it on the peer's provider port.
inline __attribute__((always_inline)) void Encapsulate(WorkerContext& ctx, rte_mbuf* m,
                                                       const PeerEntry* peer, uint32_t vsid,
                                                       uint8_t flow_id) noexcept {
  uint8_t* h = reinterpret_cast<uint8_t*>(
      rte_pktmbuf_prepend(m, static_cast<uint16_t>(peer->hdr_len + sizeof(NvgreHdr))));
  if (h == nullptr) {
    ctx.Discard(m, Drop::kNoHeadroom);
    return;
  }
  // hdr_len is 34..58 (Ethernet + IPv4 .. + 802.1Q + IPv6): two fixed
  // 32-byte copies, the second ending at hdr_len, instead of a call to
  // memcpy with a variable length.
  static_assert(sizeof(peer->hdr) >= 32 && sizeof(peer->hdr) <= 64);
  if (peer->hdr_len >= 32) {
    std::memcpy(h, peer->hdr, 32);
    std::memcpy(h + peer->hdr_len - 32, peer->hdr + peer->hdr_len - 32, 32);
  } else {
    std::memcpy(h, peer->hdr, peer->hdr_len);
  }
  const uint32_t ip_total = rte_pktmbuf_pkt_len(m) - peer->ip_offset;
  if (peer->pa.is_v4()) {
    auto* ip = reinterpret_cast<Ipv4Hdr*>(h + peer->ip_offset);
    // From the template's checksum (total_length 0 there), not read back
    // from the bytes just copied into the frame.
    Be16 tmpl_checksum;
    std::memcpy(&tmpl_checksum, peer->hdr + peer->ip_offset + offsetof(Ipv4Hdr, checksum), 2);
    const Be16 total = Be16::FromHost(static_cast<uint16_t>(ip_total));
    ip->total_length = total;
    ip->checksum = ChecksumUpdate16(tmpl_checksum, Be16{}, total);
  } else {
    auto* ip = reinterpret_cast<Ipv6Hdr*>(h + peer->ip_offset);
    ip->payload_length = Be16::FromHost(static_cast<uint16_t>(ip_total - sizeof(Ipv6Hdr)));
  }
  auto* gre = reinterpret_cast<NvgreHdr*>(h + peer->hdr_len);
  gre->flags_version = Be16::FromHost(kNvgreFlags);
  gre->protocol = Be16::FromHost(kEtherTypeTeb);
  gre->key = Be32::FromHost(NvgreKey(vsid, flow_id));
  Meta(m)->out_port = peer->port;
  ++ctx.counters->encapsulated;
  ctx.Transmit(peer->port, m);
}

// A large segment (guest TSO, gso.h): split into inner frames that fit
// `inner_mtu` after encapsulation, at the sender's MSS or less (TCP takes
// smaller segments; a UDP datagram train cannot be cut smaller: too big),
// each encapsulated as an ordinary frame.
__attribute__((noinline)) void EncapLarge(WorkerContext& ctx, rte_mbuf* m, const PeerEntry* peer,
                                          uint32_t inner_mtu) noexcept {
  const PacketMeta* meta = Meta(m);
  const ParsedFrame& pf = meta->pf;
  const uint8_t* f = Data(m);
  uint32_t mss = m->tso_segsz;
  if (pf.l4_present && (pf.l4_proto == kIpProtoTcp || pf.l4_proto == kIpProtoUdp)) {
    const uint32_t l4_hdr = pf.l4_proto == kIpProtoTcp
                                ? pf.At<TcpHdr>(f, pf.l4_offset)->header_bytes()
                                : uint32_t{sizeof(UdpHdr)};
    const uint32_t room = inner_mtu - (pf.l4_offset - pf.l3_offset) - l4_hdr;
    if (mss > room) {
      if (pf.l4_proto == kIpProtoUdp) {
        if (ctx.snap->settings.mtu_policy != MtuPolicy::kClampMss) SendTooBig(ctx, m, inner_mtu);
        ctx.Discard(m, Drop::kTooBig);
        return;
      }
      mss = room;
    }
  }
  Segmenter seg;
  if (!seg.Start(m, pf, mss)) {
    ctx.Discard(m, Drop::kGsoUnsupported);
    return;
  }
  const uint8_t flow_id =
      ctx.snap->settings.flow_id_mode == FlowIdMode::kZero ? 0 : NvgreEncap::FlowId(f, pf);
  while (rte_mbuf* piece = seg.Next(ctx.pool)) {
    PacketMeta* pm = Meta(piece);
    pm->in_port = meta->in_port;
    pm->vsid = meta->vsid;
    pm->vsid_index = meta->vsid_index;
    pm->src_vsid_index = meta->src_vsid_index;
    pm->peer = meta->peer;
    Encapsulate(ctx, piece, peer, meta->vsid, flow_id);
  }
  if (seg.failed()) ++ctx.counters->drops[static_cast<uint16_t>(Drop::kNoMbuf)];
  ++ctx.counters->segmented;
  rte_pktmbuf_free(m);
}

}  // namespace

void NvgreEncap::Process(WorkerContext& ctx, Burst& in) noexcept {
  const HostSettings& cfg = ctx.snap->settings;
  const bool clamp = cfg.mtu_policy != MtuPolicy::kIcmp;
  for (uint16_t i = 0; i < in.n; ++i) {
    rte_mbuf* m = in.pkts[i];
    PacketMeta* meta = Meta(m);
    const PeerEntry* peer = ctx.tables->peer(meta->peer);
    if (peer == nullptr || peer->hdr_len == 0) {
      ctx.Discard(m, Drop::kNoPath);
      continue;
    }
    if (!peer->resolved) {
      ctx.tables->WantPeer(meta->peer);  // ask for its next hop again soon
      ctx.Discard(m, Drop::kPeerUnresolved);
      continue;
    }
    const ParsedFrame& pf = meta->pf;
    const uint32_t outer_ip = peer->pa.is_v4() ? sizeof(Ipv4Hdr) : sizeof(Ipv6Hdr);
    // Largest inner IP packet that fits: underlay MTU - outer IP - GRE - inner Ethernet.
    const uint32_t inner_mtu = cfg.underlay_mtu - outer_ip - sizeof(NvgreHdr) - sizeof(EthHdr);
    if (clamp && pf.l4_present && pf.l4_proto == kIpProtoTcp) {
      const uint32_t ip_hdr = pf.l4_offset - pf.l3_offset;
      const uint32_t tcp_len = pf.l3_offset + pf.l3_len - pf.l4_offset;
      if (ClampTcpMss(Data(m) + pf.l4_offset, tcp_len,
                      static_cast<uint16_t>(inner_mtu - ip_hdr - sizeof(TcpHdr))))
        ++ctx.counters->mss_clamped;
    }
    const uint32_t inner_len = rte_pktmbuf_pkt_len(m);
    if (outer_ip + sizeof(NvgreHdr) + inner_len > cfg.underlay_mtu) {
      // Every large segment is too big (gso.h, LargeSegmentFloor).
      if (IsLarge(m)) {
        EncapLarge(ctx, m, peer, inner_mtu);
        continue;
      }
      if (cfg.mtu_policy != MtuPolicy::kClampMss) SendTooBig(ctx, m, inner_mtu);
      ctx.Discard(m, Drop::kTooBig);
      continue;
    }
    const uint8_t flow_id =
        cfg.flow_id_mode == FlowIdMode::kZero ? 0 : FlowId(Data(m), pf);
    Encapsulate(ctx, m, peer, meta->vsid, flow_id);
  }
  in.n = 0;
}

}  // namespace hnv
