// arp-nd: the HNV filter answering address resolution from policy.
//
// Theory of operation: input is ARP requests and IPv6 neighbour
// solicitations from VMs (the switch has already flooded them to the other
// local ports of the VSID). The filter answers, on the VM's own port:
//  - for the subnet's DFGW (".1" / first address) with the DFGW MAC of its
//    lookup record (flows 2, 5, 6; an NA carries the router flag);
//  - for a CA whose record on this VSID has a remote PA, with the record's
//    MAC (proxy ARP, flow 3: ARP never crosses the wire).
// A CA whose record is local is left to the VM itself (it got the flood).
// With no record, the request is sent as unicast NVGRE to every PA holding
// an L2Only record on the VSID (flow 4), via nvgre-encap (whose input this
// stage runs when it fills: requests x PAs may exceed one burst); if there
// is none it is dropped as kArpNoRecord (never flooded onto the provider
// network).
// Drops: kArpNoRecord, kArpNotRequest (gratuitous ARP, DAD probes), kNoMbuf.
// Thread: worker-only.
#pragma once

#include <string_view>

#include "dataplane/pipeline/stage.h"

namespace hnv {

class ArpNdResponder final {
 public:
  static constexpr std::string_view kName = "arp-nd";
  enum class Edge : uint8_t { kEncap, kCount };
  static constexpr EdgeNames<Edge> kEdges = {"nvgre-encap"};
  static void Process(WorkerContext& ctx, Burst& in, const Outputs<Edge>& out) noexcept;
};

}  // namespace hnv
