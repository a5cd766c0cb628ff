// Flow affinity for nat/: which worker owns a frame's NAT or load-balancer
// state, so that the dataplane's steering (receive-side, or a handoff ring)
// brings every packet of a connection, both directions, to that worker.
//
// The rule:
//  - kFromInside (from the VM network): the inside host's address hashed,
//    so all of one VM's sessions sit on one worker and its per-address
//    limit is that worker's alone. The inside host is the source, or for an
//    ICMP error the embedded packet's destination.
//  - kToNatAddress (to one of the NAPT's pool addresses, from outside or
//    hairpinned): the destination port (ICMP query identifier; for an ICMP
//    error the embedded packet's source port or identifier) modulo the
//    worker count: worker w allocates only the ports p with p % W == w
//    (NaptTable), so the port names the mapping's worker.
//  - kFromOutside (to anything else: load-balancer VIPs, static NAT, routed
//    traffic): the source (the client) hashed; for an ICMP error the
//    embedded destination. The load balancer tracks connections on this
//    worker; its return traffic is translated without state, anywhere.
// A frame the rule cannot read (not IPv4, truncated, a later fragment)
// goes by the hash of its source address, or to worker 0.
//
// The caller picks the direction: kToNatAddress when the destination is a
// pool address of the compartment (NatRules::PoolIndex), else kFromOutside.
//
// Pure: depends on the frame and the worker count only; any thread.
#pragma once

#include <cstdint>

namespace hnv::nat {

enum class Direction : uint8_t { kFromInside, kToNatAddress, kFromOutside };

uint32_t OwnerWorker(const uint8_t* frame, uint32_t len, Direction d, uint32_t workers) noexcept;

// The worker of an inside host (kFromInside), by its raw address.
inline uint32_t HostWorker(uint32_t addr_raw, uint32_t workers) {
  return workers <= 1 ? 0 : ((addr_raw * 0x9e3779b1u) >> 8) % workers;
}

}  // namespace hnv::nat
