// Port security on what a VM adapter sends (run by vm-ingress on each frame,
// after its source MAC check): anti-spoofing and Hyper-V's DHCP and router
// guards, per the adapter's switches (PortInfo::guards, from VmPort).
//
// Theory of operation. With anti-spoofing (MacAddressSpoofing Off, the
// default) a VM speaks only for itself:
//  - IPv4 / IPv6 source: a CA its records give it on its VSID (its port's
//    PortBinding, else the CA table: that CA's record has the port's VSID
//    and MAC), or a free CA of its subnet when it holds an L2Only record
//    (dynamic learning: the learned Dynamic record binds it), or anything
//    with a GatewayWildcard record of its MAC, or a source the routing
//    domain routes through the VM (a customer route whose next hop is a CA
//    of this port: a router or gateway VM, as nvgre-decap's source check
//    allows on the far side). 0.0.0.0 only to DHCP servers (UDP to port 67),
//    :: only in ICMPv6 (DAD, MLD); link-local IPv6 sources are not bound to
//    records, but one whose interface id is in modified EUI-64 form must be
//    derived from the port's MAC (it names a MAC). Otherwise kIpSpoof.
//  - ARP: the sender MAC must be the port's, the sender address 0.0.0.0 (a
//    probe) or one the port may use as above (without routes); else
//    kArpSpoof. Replies, requests and gratuitous ARP alike: receivers take
//    the sender pair into their caches from all of them.
//  - Neighbour discovery (RS, RA, NS, NA, redirect): every source or target
//    link-layer address option must be the port's MAC, and an NA's target
//    an address of the port (link-local as for sources); else kNdSpoof.
// DhcpGuard drops DHCP server messages (UDP from port 67; DHCPv6 from port
// 547): kDhcpGuard. RouterGuard drops ICMP redirects and router
// advertisements (ICMPv4 5 and 9, ICMPv6 134 and 137): kRouterGuard.
// MacAddressSpoofing On turns the address checks off (the source MAC
// check in vm-ingress included); the guards stay as set.
//
// Cost. The binding is loaded once per burst; an IPv4 frame from one of
// its port's first CAs costs a few compares inline (and a look at the UDP
// port or ICMP type when the guards are on).
// Everything else goes to the out-of-line slow path.
// Thread: worker-only; reads the snapshot, the tables and the port's binding.
#pragma once

#include "dataplane/pipeline/context.h"

namespace hnv {

class PortGuard {
 public:
  static constexpr uint8_t kDhcpServerPort = 67;
  static constexpr uint8_t kIcmpRedirect = 5;
  static constexpr uint8_t kIcmpRouterAdvert = 9;

  PortGuard(const WorkerContext& ctx, uint16_t port, const PortInfo& pi) noexcept
      : pi_(pi), binding_(ctx.tables->Binding(port)), guards_(pi.guards) {}

  // Drop::kCount when the frame may go on, else why it is dropped. `f` is
  // the frame, parsed into `pf`, `len` its length.
  Drop Check(const WorkerContext& ctx, const uint8_t* f, const ParsedFrame& pf,
             uint32_t len) const noexcept {
    if (guards_ == 0) return Drop::kCount;
    if (pf.l3 == L3Kind::kIpv4) [[likely]] {
      uint32_t src;
      std::memcpy(&src, f + pf.l3_offset + offsetof(Ipv4Hdr, src), 4);
      if ((guards_ & kGuardAddresses) == 0 || binding_.HasV4(src)) [[likely]] {
        // Its own source: only a DHCP server message or an ICMP redirect /
        // router advertisement is left to drop (as CheckIpv4 decides).
        const uint8_t* l4 = f + pf.l4_offset;
        if (!pf.l4_present) return Drop::kCount;
        if (pf.l4_proto == kIpProtoUdp) {
          if ((guards_ & kGuardDhcp) == 0 || l4[0] != 0 || l4[1] != kDhcpServerPort)
            return Drop::kCount;
        } else if (pf.l4_proto == kIpProtoIcmp) {
          if ((guards_ & kGuardRouter) == 0 ||
              (l4[0] != kIcmpRedirect && l4[0] != kIcmpRouterAdvert))
            return Drop::kCount;
        } else {
          return Drop::kCount;
        }
      }
    }
    return CheckSlow(ctx, f, pf, len);
  }

 private:
  Drop CheckSlow(const WorkerContext& ctx, const uint8_t* f, const ParsedFrame& pf,
                 uint32_t len) const noexcept;
  Drop CheckIpv4(const WorkerContext& ctx, const uint8_t* f, const ParsedFrame& pf) const noexcept;
  Drop CheckIpv6(const WorkerContext& ctx, const uint8_t* f, const ParsedFrame& pf,
                 uint32_t len) const noexcept;
  Drop CheckArp(const WorkerContext& ctx, const uint8_t* f, const ParsedFrame& pf) const noexcept;
  // Whether the port may use `ip` as a source (routes: also what the
  // routing domain routes through it).
  bool MayUse(const WorkerContext& ctx, const IpAddr& ip, bool routes) const noexcept;
  // A link-local address: true when it is not in EUI-64 form or is the port's.
  bool LinkLocalOk(const uint8_t* a) const noexcept;

  const PortInfo& pi_;
  const PortBinding& binding_;
  uint8_t guards_;
};

}  // namespace hnv
