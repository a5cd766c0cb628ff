// provider-ingress: the HNV filter's PAs on the physical network.
//
// Theory of operation: input is frames received on an uplink port. A frame
// must carry the VLAN of a PA on that port (or none, for untagged PAs); IP
// must be addressed to a PA and to that PA's MAC (kNotForUs otherwise).
//  - ARP requests / neighbour solicitations for a PA are answered with the
//    PA's own MAC; ARP replies, requests and NAs from other hosts teach the
//    control thread provider neighbours (an event), which resolves the next
//    hops of the encapsulation templates.
//  - Echo requests to a PA are answered (a PA is pingable, like Windows').
//  - IPv4/IPv6 GRE to a PA goes to nvgre-decap; the outer IPv4 header
//    checksum is verified and fragments are refused (NVGRE is never
//    fragmented).
// Drops: kMalformed, kWrongVlan, kNotForUs, kPaNotGre, kOuterFragment,
// kBadOuterChecksum, kArpNotRequest.
// Thread: worker-only.
#pragma once

#include <string_view>

#include "dataplane/pipeline/stage.h"

namespace hnv {

class ProviderIngress final {
 public:
  static constexpr std::string_view kName = "provider-ingress";
  enum class Edge : uint8_t { kDecap, kCount };
  static constexpr EdgeNames<Edge> kEdges = {"nvgre-decap"};
  static void Process(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n,
                      const Outputs<Edge>& out) noexcept;
};

}  // namespace hnv
