// What the NAT and load-balancer features decide for each frame: an edge,
// and for drops a named reason with a counter (the dataplane's idiom,
// dataplane/pipeline/drop.h). The glue that runs a feature in a compartment
// slot maps the edges onto its own graph.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hnv::nat {

enum class Edge : uint8_t {
  kPass,        // not this feature's: untouched, continue
  kTranslated,  // rewritten in place, continue
  kHairpin,     // translated outbound, and now addressed to one of the NAT's own external
                // addresses: run it through the inbound side (RFC 4787 REQ-9), on the
                // worker OwnerWorker(kToNatAddress) names
  kReply,       // rewritten into an answer (a TCP RST): send it back where it came from
  kDrop,        // see the Drop reason
};

#define HNV_NAT_DROP_REASONS(X)                                                              \
  X(kNone, "-", "not dropped")                                                               \
  X(kMalformed, "any", "IPv4 header or L4 header truncated or inconsistent")                 \
  X(kFragment, "any", "IPv4 fragment (not translated in this version)")                     \
  X(kBadIcmpError, "any", "ICMP error whose embedded header is truncated or not ours")      \
  X(kIcmpUnsupported, "nat44", "ICMP message that is neither a query nor an error")        \
  X(kNoSession, "nat44", "unsolicited inbound: no mapping for the external address/port")   \
  X(kFiltered, "nat44", "inbound from an endpoint the mapping's filtering refuses")          \
  X(kIcmpErrorNoSession, "nat44", "ICMP error about a packet of no session")               \
  X(kNotFirst, "nat44", "outbound with no session that cannot open one (TCP not SYN, ICMP reply)") \
  X(kProtocol, "nat44", "IP protocol without ports from an address only the NAPT translates") \
  X(kPortsExhausted, "nat44", "no external port left on this worker's share")              \
  X(kSessionsFull, "nat44", "the compartment's session limit (this worker's share)")        \
  X(kHostLimit, "nat44", "the internal address reached its session limit")                 \
  X(kHostsFull, "nat44", "the table of internal addresses is full")                        \
  X(kTableFull, "nat44", "no slot in the session index")                                   \
  X(kHairpinOff, "nat44", "to one of the NAT's own addresses with hairpinning off")         \
  X(kNoBackend, "lb", "no healthy backend and empty_pool: drop")

enum class Drop : uint8_t {
#define HNV_NAT_DROP_ENUM(name, feature, text) name,
  HNV_NAT_DROP_REASONS(HNV_NAT_DROP_ENUM)
#undef HNV_NAT_DROP_ENUM
      kCount
};
inline constexpr size_t kDropCount = static_cast<size_t>(Drop::kCount);

const char* DropName(Drop d);     // "kPortsExhausted" -> "ports-exhausted"
const char* DropFeature(Drop d);  // "nat44", "lb", "any"
const char* DropText(Drop d);
const char* EdgeName(Edge e);

struct Verdict {
  Edge edge = Edge::kPass;
  Drop drop = Drop::kNone;
};

}  // namespace hnv::nat
