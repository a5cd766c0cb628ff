// router: the distributed router (the DFGW every host answers for).
//
// Theory of operation: input is IP frames a VM sent to its VSID's DFGW MAC.
//  - Echo requests to a DFGW address of the routing domain (".1" of any of
//    its subnets) are answered in place (the chapter's "ping 10.0.1.1").
//  - Otherwise: longest-prefix match on the routing domain's customer
//    routes; the next hop is the destination itself (on-link) or the route's
//    gateway CA (the 0.0.0.0/0 wildcard to the gateway, flow 6); the next
//    hop's lookup record gives MAC, VSID and PA. The frame is rewritten:
//    destination MAC = record MAC, source MAC = destination subnet's DFGW
//    MAC, TTL / hop limit - 1, VSID = the destination's (flows 2 and 5). A
//    local PA delivers to the local port (flow 2, never encapsulated); a
//    remote PA goes to nvgre-encap. Routing never leaves the routing domain:
//    routes and records are keyed by it.
//  - A packet arriving with TTL / hop limit 1 is dropped (kTtlExpired) and
//    its sender gets ICMP time exceeded from its own subnet's DFGW
//    (icmp_time_exceeded), unless the packet is an ICMP error, a later
//    fragment or multicast (MayAnswerWithIcmpError), or the worker has sent
//    its share of ICMP errors (icmp_rate_limited; SendIcmpError).
// Drops: kNotIp, kWrongFamily, kTtlExpired, kNoRoute, kNoRecord, kToDfgw,
// kNoLocalPort, kRuleNone.
// Burst: in two passes per 32 frames. The first finds each IP frame's route
// (FindRoute, one probe per prefix length present in the domain) and looks
// the next hops' CA entries up at once (FindCaBulk: at a million records
// their cache misses overlap); the second decides each frame in order as
// above. No side effect happens in the first pass.
// Thread: worker-only.
#pragma once

#include <string_view>

#include "dataplane/pipeline/stage.h"

namespace hnv {

class Router final {
 public:
  static constexpr std::string_view kName = "router";
  enum class Edge : uint8_t { kEncap, kCount };
  static constexpr EdgeNames<Edge> kEdges = {"nvgre-encap"};
  static void Process(WorkerContext& ctx, Burst& in, const Outputs<Edge>& out) noexcept;
};

}  // namespace hnv
