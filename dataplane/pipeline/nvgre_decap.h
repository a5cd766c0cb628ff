// nvgre-decap: NVGRE decapsulation with the RFC 7637 checks and the source
// check, then delivery to the local ports of the VSID.
//
// Theory of operation (NvgreDecap): input is GRE packets addressed to one of
// our PAs (provider-ingress checked the outer headers). GRE must be exactly
// C=0 R=0 K=1 S=0 with reserved bits and version 0 (kBadGreFlags,
// kBadGreVersion), protocol 0x6558 (kNotTeb); the VSID is the key's upper 24
// bits (the FlowID never changes it), outside 0..4095 and 0xFFFFFF
// (kReservedVsid) and known (kUnknownVsid). The inner frame is bounded by
// the outer IP length, must parse (kMalformedInner) and carry no 802.1Q tag
// (kInnerVlan). Source check (kSourceCheck): the inner source IP (or ARP
// sender) must belong to a record in the VSID's routing domain whose PA is
// the outer source, or the inner source MAC to a record on the VSID with
// that PA (an L2Only record; any record when the frame has no routable
// source IP of the VSID's family: unspecified, IPv6 link-local, non-IP), or
// the outer source must hold a GatewayWildcard record
// for the VSID, or the routing domain's customer route for the inner source
// IP must have a next hop whose record's PA is the outer source (a gateway
// forwarding return traffic from outside the VM network, flow 6). An ARP / NA whose sender has no record but whose MAC holds
// an L2Only record at the outer source posts a learn event (flow 4).
// Output: deliver, with PacketMeta.vsid set and the outer headers removed.
// Burst: in two passes per 32 frames. The first runs every check up to the
// inner frame's claimed source (drops happen there) and looks the sources'
// CA entries up at once (PolicyTables::FindCaBulk: at a million records
// their cache misses overlap); the second runs the source check of each
// surviving frame in order (its rarer lookups, L2 / wildcard / route, one at
// a time) and pushes it to deliver, so deliver sees the frames in order.
//
// Theory of operation (Deliver): input is decapsulated frames. Unicast goes
// to the local port holding the destination MAC on that VSID (kNoLocalPort,
// kVsidMismatch otherwise: never re-encapsulated); broadcast and multicast go
// to every local port of the VSID (kNoLocalPort when it has none here).
// The unicast lookup is the snapshot's (VSID, MAC) -> local port map
// (Snapshot::local_macs, built from vm_ports like the L2 table's local
// entries, which are the only ones deliver can use), not the L2 table: with
// a million remote MACs there, its lookup cost a cache miss per frame.
// Thread: worker-only.
#pragma once

#include <string_view>

#include "dataplane/pipeline/stage.h"

namespace hnv {

class NvgreDecap final {
 public:
  static constexpr std::string_view kName = "nvgre-decap";
  enum class Edge : uint8_t { kDeliver, kCount };
  static constexpr EdgeNames<Edge> kEdges = {"deliver"};
  static void Process(WorkerContext& ctx, Burst& in, const Outputs<Edge>& out) noexcept;
};

class Deliver final {
 public:
  static constexpr std::string_view kName = "deliver";
  // A terminal stage: every frame leaves by ctx.Transmit or a drop.
  enum class Edge : uint8_t { kCount };
  static constexpr EdgeNames<Edge> kEdges = {};
  static void Process(WorkerContext& ctx, Burst& in) noexcept;
};

}  // namespace hnv
