#include "dataplane/pipeline/router.h"

#include <algorithm>

#include "dataplane/packet/build.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/pipeline/stage_util.h"

namespace hnv {
namespace {

bool IsEchoRequest(const uint8_t* f, const ParsedFrame& pf) noexcept {
  if (!pf.l4_present) return false;
  if (pf.l3 == L3Kind::kIpv4)
    return pf.l4_proto == kIpProtoIcmp && f[pf.l4_offset] == kIcmpEchoRequest;
  return pf.l4_proto == kIpProtoIcmp6 && f[pf.l4_offset] == kIcmp6EchoRequest;
}

// True when `dst` is the DFGW address of a subnet of the routing domain;
// `r` is the route for `dst` (looked up once per packet by the caller).
bool IsDfgwAddress(const WorkerContext& ctx, const VsidInfo& v, const RouteEntry* r,
                   const IpWords& dst) noexcept {
  if (v.has_dfgw && dst.Is(v.dfgw_ip)) return true;
  if (r == nullptr || !r->on_link) return false;
  const VsidInfo* dv = ctx.snap->Vsid(r->vsid);
  return dv != nullptr && dv->rd == v.rd && dv->has_dfgw && dst.Is(dv->dfgw_ip);
}

// A packet whose TTL / hop limit ends at the distributed router: ICMP time
// exceeded from the sender's DFGW to the sender's adapter (traceroute shows
// the DFGW as the first hop). Not about ICMP errors, later fragments or
// multicast (MayAnswerWithIcmpError). The caller drops `m` itself.
void SendTimeExceeded(WorkerContext& ctx, rte_mbuf* m, const VsidInfo& v) noexcept {
  const PacketMeta* meta = Meta(m);
  const ParsedFrame& pf = meta->pf;
  const uint8_t* f = Data(m);
  if (!v.has_dfgw || !MayAnswerWithIcmpError(f, pf)) return;
  const MacAddr& vm_mac = ctx.snap->ports[meta->in_port].mac;
  SendIcmpError(ctx, meta->in_port, ctx.counters->icmp_time_exceeded,
                [&](uint8_t* out, uint32_t cap) {
                  return BuildIcmpTimeExceeded(out, cap, v.dfgw_mac, vm_mac, v.dfgw_ip,
                                               f + pf.l3_offset, pf.l3_len);
                });
}

}  // namespace

void Router::Process(WorkerContext& ctx, Burst& in, const Outputs<Edge>& out) noexcept {
  for (uint16_t base = 0; base < in.n; base += kBurstSize) {
    const uint16_t n = std::min<uint16_t>(static_cast<uint16_t>(in.n - base), kBurstSize);
    rte_mbuf* const* pkts = in.pkts + base;
    // Pass 1: the route of every IP frame of the right family, and the CA
    // entries of the next hops all at once (FindCaBulk).
    const RouteEntry* routes[kBurstSize];
    UninitArray<KeyWords<CaKey>, kBurstSize> keys;
    const CaEntry* found[kBurstSize];
    uint8_t slot[kBurstSize];
    uint32_t nk = 0;
    for (uint16_t i = 0; i < n; ++i) {
      const PacketMeta* meta = Meta(pkts[i]);
      const VsidInfo& v = ctx.snap->vsids[meta->vsid_index];
      const ParsedFrame& pf = meta->pf;
      routes[i] = nullptr;
      if ((pf.l3 != L3Kind::kIpv4 && pf.l3 != L3Kind::kIpv6) ||
          (pf.l3 == L3Kind::kIpv4) != (v.family == Family::kV4))
        continue;
      // The address in words, straight from the frame: an IpAddr built from
      // a 4-byte copy and read back as words (the route and CA keys, the
      // DFGW compare) stalls on store forwarding (stage_util.h, IpWords).
      IpWords dst;
      dst.SetDst(Data(pkts[i]), pf);
      const RouteEntry* route = ctx.tables->FindRoute(v.rd, dst.w[0], dst.w[1], dst.family());
      routes[i] = route;
      if (route == nullptr) continue;
      slot[i] = static_cast<uint8_t>(nk);
      keys[nk++] = route->on_link ? dst.CaKeyIn(v.rd) : PolicyTables::CaKeyOf(v.rd, route->next_hop);
    }
    if (nk != 0) ctx.tables->FindCaBulk(keys.data(), nk, found);
    // Pass 2: each frame in order.
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      PacketMeta* meta = Meta(m);
      const VsidInfo& v = ctx.snap->vsids[meta->vsid_index];
      uint8_t* f = Data(m);
      const ParsedFrame& pf = meta->pf;
      if (pf.l3 != L3Kind::kIpv4 && pf.l3 != L3Kind::kIpv6) {
        ctx.Discard(m, Drop::kNotIp);
        continue;
      }
      if ((pf.l3 == L3Kind::kIpv4) != (v.family == Family::kV4)) {
        ctx.Discard(m, Drop::kWrongFamily);
        continue;
      }
      IpWords dst;
      dst.SetDst(f, pf);
      const RouteEntry* route = routes[i];
      if (IsDfgwAddress(ctx, v, route, dst)) {
        if (IsEchoRequest(f, pf) && EchoRequestToReplyInPlace(f, pf)) {
          ++ctx.counters->echo_answered;
          ctx.Transmit(meta->in_port, m);
        } else {
          ctx.Discard(m, Drop::kToDfgw);
        }
        continue;
      }
      auto* ip4 = reinterpret_cast<Ipv4Hdr*>(f + pf.l3_offset);
      auto* ip6 = reinterpret_cast<Ipv6Hdr*>(f + pf.l3_offset);
      if ((pf.l3 == L3Kind::kIpv4 ? ip4->ttl : ip6->hop_limit) <= 1) {
        SendTimeExceeded(ctx, m, v);
        ctx.Discard(m, Drop::kTtlExpired);
        continue;
      }
      if (route == nullptr) {
        ctx.Discard(m, Drop::kNoRoute);
        continue;
      }
      const CaEntry* ca = found[slot[i]];
      const VsidInfo* dv = ca != nullptr ? ctx.snap->Vsid(ca->vsid) : nullptr;
      if (dv == nullptr) {
        ctx.Discard(m, Drop::kNoRecord);
        continue;
      }
      auto* eth = reinterpret_cast<EthHdr*>(f);
      eth->dst = ca->mac;
      eth->src = dv->has_dfgw ? dv->dfgw_mac : v.dfgw_mac;
      if (pf.l3 == L3Kind::kIpv4) {
        Ipv4DecrementTtl(ip4);
      } else {
        --ip6->hop_limit;
      }
      meta->vsid = ca->vsid;
      meta->vsid_index = static_cast<uint32_t>(dv - ctx.snap->vsids.data());
      ++ctx.counters->routed;
      if (ca->peer == kLocalPeer) {
        const L2Entry* l2 = ctx.tables->FindL2(ca->vsid, ca->mac);
        if (l2 == nullptr || l2->peer != kLocalPeer) {
          ctx.Discard(m, Drop::kNoLocalPort);
          continue;
        }
        ctx.Transmit(l2->port, m);
      } else if (ca->rule == TranslationRule::kNone) {
        ctx.Discard(m, Drop::kRuleNone);
      } else {
        meta->peer = ca->peer;
        out.Push(ctx, Edge::kEncap, m);
      }
    }
  }
  in.n = 0;
}

}  // namespace hnv
