#include "dataplane/pipeline/port_guard.h"

#include "dataplane/pipeline/stage_util.h"

namespace hnv {
namespace {

constexpr uint16_t kDhcp6ServerPort = 547;
constexpr uint8_t kIcmp6RouterAdvert = 134;
constexpr uint8_t kIcmp6Redirect = 137;
constexpr uint8_t kIpv6HopByHop = 0;

uint16_t PortAt(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

bool IsLinkLocal(const uint8_t* a) { return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; }

bool IsZero(const uint8_t* a, int n) {
  for (int i = 0; i < n; ++i)
    if (a[i] != 0) return false;
  return true;
}

// Where an ND message's options start, after its fixed part; 0: not ND.
uint32_t NdFixedBytes(uint8_t type) {
  switch (type) {
    case kIcmp6RouterSolicit:
      return 8;
    case kIcmp6RouterAdvert:
      return 16;
    case kIcmp6NeighborSolicit:
    case kIcmp6NeighborAdvert:
      return 24;
    case kIcmp6Redirect:
      return 40;
    default:
      return 0;
  }
}

}  // namespace

bool PortGuard::LinkLocalOk(const uint8_t* a) const noexcept {
  if (a[11] != 0xff || a[12] != 0xfe) return true;  // not EUI-64: names no MAC
  const auto& m = pi_.mac.b;
  return a[8] == (m[0] ^ 0x02) && a[9] == m[1] && a[10] == m[2] && a[13] == m[3] && a[14] == m[4] &&
         a[15] == m[5];
}

bool PortGuard::MayUse(const WorkerContext& ctx, const IpAddr& ip, bool routes) const noexcept {
  uint64_t w[2];
  std::memcpy(w, ip.b.data(), 16);
  if (ip.is_v4() ? binding_.HasV4(static_cast<uint32_t>(w[0])) : binding_.HasV6(w[0], w[1]))
    return true;
  if (binding_.wildcard) return true;
  if (pi_.vsid_index == FlatU32Map::kMissing) return false;
  const VsidInfo& v = ctx.snap->vsids[pi_.vsid_index];
  // The CA table is the authority (a CA beyond the binding's inline few, or
  // bound since it was published).
  if (const CaEntry* ca = ctx.tables->FindCa(v.rd, ip))
    return ca->mac == pi_.mac && ca->vsid == pi_.vsid;
  if (binding_.l2only && v.MayLearn(ip)) return true;  // free: may be claimed
  if (!routes) return false;
  // Routed through this VM (a router or gateway VM): the domain's route for
  // the source has a next hop that is a CA of this port.
  const RouteEntry* r = ctx.tables->FindRoute(v.rd, ip);
  if (r == nullptr || r->on_link) return false;
  const CaEntry* gw = ctx.tables->FindCa(v.rd, r->next_hop);
  return gw != nullptr && gw->mac == pi_.mac && gw->vsid == pi_.vsid;
}

Drop PortGuard::CheckSlow(const WorkerContext& ctx, const uint8_t* f, const ParsedFrame& pf,
                          uint32_t len) const noexcept {
  switch (pf.l3) {
    case L3Kind::kIpv4:
      return CheckIpv4(ctx, f, pf);
    case L3Kind::kIpv6:
      return CheckIpv6(ctx, f, pf, len);
    case L3Kind::kArp:
      return CheckArp(ctx, f, pf);
    default:
      return Drop::kCount;
  }
}

Drop PortGuard::CheckIpv4(const WorkerContext& ctx, const uint8_t* f,
                          const ParsedFrame& pf) const noexcept {
  const auto* ip = pf.At<Ipv4Hdr>(f, pf.l3_offset);
  const uint8_t* l4 = f + pf.l4_offset;
  const bool udp = pf.l4_proto == kIpProtoUdp && pf.l4_present;
  if ((guards_ & kGuardAddresses) != 0) {
    if (IsZero(ip->src, 4)) {
      // A DHCP client before it has an address.
      if (!udp || PortAt(l4 + 2) != kDhcpServerPort) return Drop::kIpSpoof;
    } else if (!MayUse(ctx, IpAddr::V4Raw(ip->src), /*routes=*/true)) {
      return Drop::kIpSpoof;
    }
  }
  if ((guards_ & kGuardDhcp) != 0 && udp && PortAt(l4) == kDhcpServerPort) return Drop::kDhcpGuard;
  if ((guards_ & kGuardRouter) != 0 && pf.l4_proto == kIpProtoIcmp && pf.l4_present &&
      (l4[0] == kIcmpRedirect || l4[0] == kIcmpRouterAdvert))
    return Drop::kRouterGuard;
  return Drop::kCount;
}

Drop PortGuard::CheckIpv6(const WorkerContext& ctx, const uint8_t* f, const ParsedFrame& pf,
                          uint32_t len) const noexcept {
  const auto* ip = pf.At<Ipv6Hdr>(f, pf.l3_offset);
  const uint8_t* l4 = f + pf.l4_offset;
  const bool icmp6 = pf.l4_proto == kIpProtoIcmp6 && pf.l4_present;
  const bool addresses = (guards_ & kGuardAddresses) != 0;
  const uint32_t end = pf.l3_offset + pf.l3_len < len ? pf.l3_offset + pf.l3_len : len;
  if (addresses) {
    if (IsZero(ip->src, 16)) {
      // :: is for DAD (an NS) and MLD, whose reports come behind a
      // hop-by-hop header (Router Alert; RFC 3810 5.2.13: from :: while the
      // interface has no valid link-local address yet).
      const bool mld = pf.l4_proto == kIpv6HopByHop && pf.l4_offset + 2u <= end &&
                       f[pf.l4_offset] == kIpProtoIcmp6;
      if (!icmp6 && !mld) return Drop::kIpSpoof;
    } else if (IsLinkLocal(ip->src)) {
      if (!LinkLocalOk(ip->src)) return Drop::kIpSpoof;
    } else if (!MayUse(ctx, IpAddr::V6Raw(ip->src), /*routes=*/true)) {
      return Drop::kIpSpoof;
    }
  }
  if (icmp6) {
    const uint8_t type = l4[0];
    if ((guards_ & kGuardRouter) != 0 && (type == kIcmp6RouterAdvert || type == kIcmp6Redirect))
      return Drop::kRouterGuard;
    const uint32_t fixed = NdFixedBytes(type);
    if (addresses && fixed != 0) {
      uint32_t off = pf.l4_offset + fixed;
      if (off > end) return Drop::kNdSpoof;  // too short to say what it claims
      if (type == kIcmp6NeighborAdvert) {
        const uint8_t* target = l4 + 8;
        const bool own = IsLinkLocal(target) ? LinkLocalOk(target)
                                             : MayUse(ctx, IpAddr::V6Raw(target), /*routes=*/false);
        if (!own) return Drop::kNdSpoof;
      }
      // Every link-layer address option must be the port's MAC.
      while (off + 2 <= end) {
        const uint8_t opt = f[off];
        const uint32_t olen = f[off + 1] * 8u;
        if (olen == 0 || off + olen > end) return Drop::kNdSpoof;
        if ((opt == kNdOptSourceLinkAddr || opt == kNdOptTargetLinkAddr) &&
            (olen < 8 || std::memcmp(f + off + 2, pi_.mac.b.data(), 6) != 0))
          return Drop::kNdSpoof;
        off += olen;
      }
    }
  }
  if ((guards_ & kGuardDhcp) != 0 && pf.l4_proto == kIpProtoUdp && pf.l4_present &&
      PortAt(l4) == kDhcp6ServerPort)
    return Drop::kDhcpGuard;
  return Drop::kCount;
}

Drop PortGuard::CheckArp(const WorkerContext& ctx, const uint8_t* f,
                         const ParsedFrame& pf) const noexcept {
  if ((guards_ & kGuardAddresses) == 0) return Drop::kCount;
  const auto* arp = pf.At<ArpHdr>(f, pf.l3_offset);
  if (arp->sha != pi_.mac) return Drop::kArpSpoof;
  if (IsZero(arp->spa, 4)) return Drop::kCount;  // a probe (RFC 5227)
  return MayUse(ctx, IpAddr::V4Raw(arp->spa), /*routes=*/false) ? Drop::kCount : Drop::kArpSpoof;
}

}  // namespace hnv
