#include "dataplane/pipeline/provider_ingress.h"

#include "dataplane/packet/build.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/pipeline/stage_util.h"

namespace hnv {
namespace {

const LocalPa* PaOn(const Snapshot& s, uint16_t port, uint16_t vlan, const IpAddr& a) noexcept {
  for (const LocalPa& p : s.pas)
    if (p.port == port && p.vlan == vlan && p.addr == a) return &p;
  return nullptr;
}

// As above for an address in words (the GRE path: no IpAddr built, no memcmp).
const LocalPa* PaOn(const Snapshot& s, uint16_t port, uint16_t vlan, const IpWords& a) noexcept {
  for (const LocalPa& p : s.pas)
    if (p.port == port && p.vlan == vlan && a.Is(p.addr)) return &p;
  return nullptr;
}

bool PortHasVlan(const Snapshot& s, uint16_t port, uint16_t vlan) noexcept {
  for (const LocalPa& p : s.pas)
    if (p.port == port && p.vlan == vlan) return true;
  return false;
}

void PostNeighbor(WorkerContext& ctx, uint16_t port, const IpAddr& ip, const MacAddr& mac) noexcept {
  if (ip.IsUnspecified() || mac.IsMulticast() || mac.IsZero()) return;
  Event e{};
  e.kind = Event::kNeighbor;
  e.port = port;
  e.ip = ip;
  e.mac = mac;
  ctx.Post(e);
}

void Reply(WorkerContext& ctx, rte_mbuf* m, const uint8_t* frame, uint32_t len, uint16_t port) noexcept {
  if (len == 0 || len > static_cast<uint32_t>(m->buf_len - m->data_off))
    return ctx.Discard(m, Drop::kNoMbuf);
  std::memcpy(Data(m), frame, len);
  m->data_len = static_cast<uint16_t>(len);
  m->pkt_len = len;
  ctx.Transmit(port, m);
}

void HandleArp(WorkerContext& ctx, rte_mbuf* m, uint16_t port, uint16_t vlan) noexcept {
  const ParsedFrame& pf = Meta(m)->pf;
  const auto* arp = pf.At<ArpHdr>(Data(m), pf.l3_offset);
  const IpAddr spa = IpAddr::V4Raw(arp->spa);
  const IpAddr tpa = IpAddr::V4Raw(arp->tpa);
  const LocalPa* pa = PaOn(*ctx.snap, port, vlan, tpa);
  if (pa != nullptr) PostNeighbor(ctx, port, spa, arp->sha);
  if (pa == nullptr || arp->oper.ToHost() != kArpRequest) {
    ctx.Discard(m, pa == nullptr ? Drop::kNotForUs : Drop::kArpNotRequest);
    return;
  }
  uint8_t frame[64];
  const uint32_t len = BuildArpReply(frame, sizeof(frame), pa->mac, pa->addr, arp->sha, spa, vlan);
  ++ctx.counters->arp_answered;
  Reply(ctx, m, frame, len, port);
}

// ND for a PA: answer solicitations, learn from advertisements.
bool HandleNd(WorkerContext& ctx, rte_mbuf* m, uint16_t port, uint16_t vlan) noexcept {
  const uint8_t* f = Data(m);
  const ParsedFrame& pf = Meta(m)->pf;
  const NdHdr* nd = NdOf(f, pf, rte_pktmbuf_data_len(m));
  if (nd == nullptr) return false;
  const IpAddr target = IpAddr::V6Raw(nd->target);
  const LocalPa* pa = PaOn(*ctx.snap, port, vlan, target);
  MacAddr ll;
  const bool has_ll = NdLinkAddr(f, pf, rte_pktmbuf_data_len(m), &ll);
  if (nd->type == kIcmp6NeighborAdvert) {
    if (has_ll) PostNeighbor(ctx, port, target, ll);
    ctx.Discard(m, Drop::kArpNotRequest);
    return true;
  }
  const IpAddr src = SrcIp(f, pf);
  if (pa == nullptr || src.IsUnspecified()) {
    ctx.Discard(m, pa == nullptr ? Drop::kNotForUs : Drop::kArpNotRequest);
    return true;
  }
  const MacAddr to_mac = has_ll ? ll : reinterpret_cast<const EthHdr*>(f)->src;
  PostNeighbor(ctx, port, src, to_mac);
  uint8_t frame[128];
  const uint32_t len =
      BuildNeighborAdvert(frame, sizeof(frame), pa->mac, pa->addr, to_mac, src, false, vlan);
  ++ctx.counters->arp_answered;
  Reply(ctx, m, frame, len, port);
  return true;
}

}  // namespace

void ProviderIngress::Process(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n,
                              const Outputs<Edge>& out) noexcept {
  // Counted once per burst, not per frame (one port, read racily anyway).
  uint64_t rx_bytes = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    rx_bytes += rte_pktmbuf_pkt_len(m);
    PacketMeta* meta = Meta(m);
    meta->in_port = port;
    if (!MakeContiguous(m) || !Reparse(m)) {
      ctx.Discard(m, Drop::kMalformed);
      continue;
    }
    const ParsedFrame& pf = meta->pf;
    const uint16_t vlan = pf.has_vlan ? pf.vlan_id : 0;
    uint8_t* f = Data(m);
    // The usual frame, IP to one of our PAs, finds its PA at once; on a
    // miss, the port and VLAN decide between kWrongVlan and the rest.
    const LocalPa* pa = nullptr;
    if (pf.l3 == L3Kind::kIpv4 || pf.l3 == L3Kind::kIpv6) [[likely]] {
      IpWords dst;
      dst.SetDst(f, pf);
      pa = PaOn(*ctx.snap, port, vlan, dst);
    }
    if (pa == nullptr && !PortHasVlan(*ctx.snap, port, vlan)) {
      ctx.Discard(m, Drop::kWrongVlan);
      continue;
    }
    if (pf.l3 == L3Kind::kArp) {
      HandleArp(ctx, m, port, vlan);
      continue;
    }
    if (pf.l3 != L3Kind::kIpv4 && pf.l3 != L3Kind::kIpv6) {
      ctx.Discard(m, Drop::kNotForUs);
      continue;
    }
    if (pf.l3 == L3Kind::kIpv6 && pf.l4_proto == kIpProtoIcmp6 && HandleNd(ctx, m, port, vlan))
      continue;
    // On a shared segment in promiscuous mode, frames for another host's MAC
    // are not ours even if they carry one of our addresses.
    if (pa == nullptr || reinterpret_cast<const EthHdr*>(f)->dst != pa->mac) {
      ctx.Discard(m, Drop::kNotForUs);
      continue;
    }
    if (pf.l3 == L3Kind::kIpv4 && !Ipv4HeaderChecksumOk(pf.At<Ipv4Hdr>(f, pf.l3_offset))) {
      ctx.Discard(m, Drop::kBadOuterChecksum);
      continue;
    }
    if (pf.l4_proto == kIpProtoGre) {
      if (pf.is_fragment) {
        ctx.Discard(m, Drop::kOuterFragment);
        continue;
      }
      out.Push(ctx, Edge::kDecap, m);
      continue;
    }
    const bool echo = pf.l4_present && ((pf.l4_proto == kIpProtoIcmp && f[pf.l4_offset] == kIcmpEchoRequest) ||
                                        (pf.l4_proto == kIpProtoIcmp6 && f[pf.l4_offset] == kIcmp6EchoRequest));
    if (echo && !pf.is_fragment && EchoRequestToReplyInPlace(f, pf)) {
      // From the PA's MAC, not the request's destination MAC swapped in: that
      // may be broadcast, or another host's (a promiscuous uplink).
      reinterpret_cast<EthHdr*>(f)->src = pa->mac;
      ++ctx.counters->echo_answered;
      ctx.Transmit(port, m);
      continue;
    }
    ctx.Discard(m, Drop::kPaNotGre);
  }
  ctx.counters->rx_packets[port] += n;
  ctx.counters->rx_bytes[port] += rx_bytes;
}

}  // namespace hnv
