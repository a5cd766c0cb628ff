// vm-ingress and l2-switch: the Hyper-V switch's side of a VM network adapter.
//
// Theory of operation (VmIngress): input is frames received on VM ports.
// Each frame is tagged with its adapter's VSID (the chapter's out-of-band
// data) in PacketMeta. Drops: kMalformed (parse error or not linearizable),
// kVlanFromVm (VMs send untagged frames), kPortNoVsid, kSrcMacSpoof (source
// MAC is not the adapter's: a VM cannot claim another's MAC, unless its
// adapter has MacAddressSpoofing On), then port security (port_guard.h:
// kIpSpoof, kArpSpoof, kNdSpoof, kDhcpGuard, kRouterGuard). Output: the
// l2-switch input.
//
// Theory of operation (L2Switch): input is VSID-tagged frames from VMs.
//  - broadcast/multicast: flooded to the other local ports of the same VSID
//    (never to the provider network); ARP requests and IPv6 neighbour
//    solicitations also go to arp-nd, where the HNV filter answers for the
//    DFGW and for remote CAs.
//  - unicast to the VSID's DFGW MAC: to the router; but ARP requests and
//    neighbour solicitations for the DFGW address (a VM re-validating its
//    gateway entry, e.g. Linux NUD probes) to arp-nd, which answers them
//    like broadcast ones.
//  - unicast to a MAC known on the VSID: a local port (delivered as is,
//    flow 1, never encapsulated), or a remote record's PA (to nvgre-encap
//    with the same VSID, flow 3) — except unicast ARP requests / NS for a
//    remote MAC (neighbour re-validation), which go to arp-nd: ARP never
//    crosses the wire.
// Drops: kUnknownDstMac (no record: never flooded), kHairpin, kRuleNone.
// An ARP message or NA from a local VM whose MAC holds an L2Only record (and
// that names that MAC as sender) posts a learn event for the sender's
// address if the routing domain has no record for it (dynamic IP learning,
// flow 4).
// Burst: in two passes per 32 frames. The first builds the L2 key of every
// unicast frame not for the DFGW MAC and looks them all up at once
// (PolicyTables::FindL2Bulk: at a million records their cache misses
// overlap); the second decides each frame in order, as above, with its
// entry. No side effect happens in the first pass, so outputs and their
// order are those of one frame at a time. A small L2 table (under
// RcuHashTable::kBulkFrom keys, PolicyTables::L2BulkPays) stays in the
// caches: there the first pass is skipped and the second looks each frame
// up itself, which measured ~5 ns per frame cheaper (Encap, 1,000 records).
// Thread: worker-only; reads the snapshot and the L2/CA tables.
#pragma once

#include <string_view>

#include "dataplane/pipeline/stage.h"

namespace hnv {

class VmIngress final {
 public:
  static constexpr std::string_view kName = "vm-ingress";
  enum class Edge : uint8_t { kSwitch, kCount };
  static constexpr EdgeNames<Edge> kEdges = {"l2-switch"};
  static void Process(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n,
                      const Outputs<Edge>& out) noexcept;
};

class L2Switch final {
 public:
  static constexpr std::string_view kName = "l2-switch";
  enum class Edge : uint8_t { kArpNd, kRouter, kEncap, kCount };
  static constexpr EdgeNames<Edge> kEdges = {"arp-nd", "router", "nvgre-encap"};
  static void Process(WorkerContext& ctx, Burst& in, const Outputs<Edge>& out) noexcept;
};

}  // namespace hnv
