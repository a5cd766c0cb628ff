// nvgre-encap: NVGRE encapsulation toward a remote PA (RFC 7637).
//
// Theory of operation: input is inner frames with PacketMeta.vsid (the
// destination's VSID) and PacketMeta.peer (the remote PA). The peer's
// prebuilt template gives the outer Ethernet (+802.1Q for the PA's VLAN) and
// outer IPv4 (DF set: NVGRE is never fragmented) or IPv6 header; GRE is
// C=0 K=1 S=0 version 0, protocol 0x6558, key = VSID << 8 | FlowID, FlowID
// from a hash of the inner flow (or 0 when configured). CA and PA families
// are independent. MTU (DESIGN §3): with MSS clamping on, TCP SYNs get their
// MSS lowered so segments fit the underlay after encapsulation; a packet that
// still does not fit is dropped as kTooBig and, with ICMP on, answered with
// ICMP "fragmentation needed" (IPv4 with DF) or ICMPv6 "packet too big" from
// the sender's DFGW, so nothing is lost silently (within the worker's share
// of ICMP errors: settings.icmp_errors_*, counted in icmp_rate_limited).
// Output: the provider port of the peer. Drops: kNoPath, kPeerUnresolved,
// kTooBig, kNoHeadroom.
// Thread: worker-only.
#pragma once

#include <string_view>

#include "dataplane/pipeline/stage.h"

namespace hnv {

class NvgreEncap final {
 public:
  static constexpr std::string_view kName = "nvgre-encap";
  // A terminal stage: every frame leaves by ctx.Transmit or a drop.
  enum class Edge : uint8_t { kCount };
  static constexpr EdgeNames<Edge> kEdges = {};
  static void Process(WorkerContext& ctx, Burst& in) noexcept;
  // The FlowID for an inner frame: 8 bits of a hash over its IP 5-tuple.
  static uint8_t FlowId(const uint8_t* frame, const ParsedFrame& pf) noexcept;
};

}  // namespace hnv
