// Every reason the dataplane drops a frame, each with a name and a counter.
// Grouped by the stage that decides it; the stage's header documents when.
#pragma once

#include <cstdint>

namespace hnv {

#define HNV_DROP_REASONS(X)                                                    \
  /* any stage */                                                              \
  X(kMalformed, "any", "frame failed header parsing or is not one segment")   \
  X(kBurstOverflow, "any", "a stage's output burst was full")                  \
  X(kNoMbuf, "any", "mbuf pool empty when a copy or reply was needed")        \
  X(kTxFull, "tx", "the port's transmit queue did not take the frame")        \
  X(kUnknownPort, "rx", "frame from a port with no role in the policy")       \
  X(kHandoffFull, "handoff", "the owner worker's handoff ring was full (flow affinity)") \
  /* vm-ingress */                                                             \
  X(kVlanFromVm, "vm-ingress", "802.1Q-tagged frame from a VM adapter")       \
  X(kSrcMacSpoof, "vm-ingress", "source MAC is not the adapter's MAC")        \
  X(kPortNoVsid, "vm-ingress", "adapter's VSID is not in the policy")         \
  /* vm-ingress: port security (port_guard.h) */                              \
  X(kIpSpoof, "vm-ingress", "IP source is not an address of the adapter (anti-spoofing)") \
  X(kArpSpoof, "vm-ingress", "ARP sender MAC or address is not the adapter's (anti-spoofing)") \
  X(kNdSpoof, "vm-ingress", "ND link-layer address or NA target is not the adapter's (anti-spoofing)") \
  X(kDhcpGuard, "vm-ingress", "DHCP server message from an adapter with DhcpGuard on") \
  X(kRouterGuard, "vm-ingress", "router advertisement or redirect from an adapter with RouterGuard on") \
  /* port-acl: vm-ingress (from a VM) and delivery (to a VM), port_acl.h */  \
  X(kAclDeny, "port-acl", "a port ACL denies it (Add-VMNetworkAdapterAcl -Action Deny)") \
  X(kAclExtendedDeny, "port-acl", "an extended port ACL denies it (its highest-weight match is Deny)") \
  X(kAclSessionsFull, "port-acl", "a stateful ACL allowed it, but the worker's session table is full") \
  /* l2-switch */                                                              \
  X(kUnknownDstMac, "l2-switch", "no local port and no lookup record for the destination MAC") \
  X(kHairpin, "l2-switch", "destination is the ingress port")                 \
  X(kRuleNone, "l2-switch", "record uses TranslationMethodNone (not supported)") \
  /* arp-nd */                                                                 \
  X(kArpNoRecord, "arp-nd", "ARP/NS for an address with no record and no L2Only PA") \
  X(kArpNotRequest, "arp-nd", "ARP/ND message the filter does not answer")    \
  /* router */                                                                 \
  X(kNotIp, "router", "non-IP frame sent to the DFGW MAC")                    \
  X(kWrongFamily, "router", "IP family differs from the routing domain's")    \
  X(kTtlExpired, "router", "TTL / hop limit would reach zero")                \
  X(kNoRoute, "router", "no customer route for the destination")              \
  X(kNoRecord, "router", "no lookup record for the next hop")                 \
  X(kNoDfgw, "router", "the subnet has no DFGW record")                       \
  X(kToDfgw, "router", "non-echo traffic addressed to a DFGW address")        \
  /* nvgre-encap */                                                            \
  X(kNoPath, "nvgre-encap", "the remote PA has no provider path")             \
  X(kPeerUnresolved, "nvgre-encap", "provider next hop MAC not yet resolved") \
  X(kTooBig, "nvgre-encap", "inner packet exceeds the underlay MTU (ICMP sent when allowed)") \
  X(kNoHeadroom, "nvgre-encap", "mbuf headroom too small for outer headers")  \
  X(kGsoUnsupported, "gso", "large segment (guest TSO) that is not TCP/UDP over IPv4/IPv6") \
  /* provider-ingress */                                                       \
  X(kWrongVlan, "provider-ingress", "VLAN does not match a PA on this port")  \
  X(kNotForUs, "provider-ingress", "destination is not one of our PAs")       \
  X(kPaNotGre, "provider-ingress", "non-GRE, non-echo IP traffic to a PA")    \
  X(kOuterFragment, "provider-ingress", "fragmented NVGRE packet")            \
  X(kBadOuterChecksum, "provider-ingress", "outer IPv4 header checksum wrong") \
  /* nvgre-decap */                                                            \
  X(kBadGreFlags, "nvgre-decap", "GRE C/R/S set, K clear or reserved bits set") \
  X(kBadGreVersion, "nvgre-decap", "GRE version is not 0")                    \
  X(kNotTeb, "nvgre-decap", "GRE protocol is not 0x6558")                     \
  X(kReservedVsid, "nvgre-decap", "VSID 0..4095 or 0xFFFFFF")                 \
  X(kUnknownVsid, "nvgre-decap", "VSID not in the policy")                    \
  X(kInnerVlan, "nvgre-decap", "inner frame carries an 802.1Q tag")           \
  X(kMalformedInner, "nvgre-decap", "inner frame failed parsing")             \
  X(kSourceCheck, "nvgre-decap", "inner source does not belong to the outer source PA") \
  /* deliver */                                                                \
  X(kVsidMismatch, "deliver", "destination port is on another VSID")          \
  X(kNoLocalPort, "deliver", "no local port for the destination MAC")

enum class Drop : uint16_t {
#define HNV_DROP_ENUM(name, stage, text) name,
  HNV_DROP_REASONS(HNV_DROP_ENUM)
#undef HNV_DROP_ENUM
      kCount
};
inline constexpr uint16_t kDropCount = static_cast<uint16_t>(Drop::kCount);

const char* DropName(Drop d);   // "kSourceCheck" -> "source-check"
const char* DropStage(Drop d);
const char* DropText(Drop d);

}  // namespace hnv
