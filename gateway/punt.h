// Frames between the workers and the compartments' TAP devices (the punt and
// inject path of the linux-cp pattern).
//
// Workers never touch a TAP: they enqueue what the kernel must see on
// `to_kernel` (multi-producer, single consumer) and take what the kernel sent
// from `from_kernel` (single producer, single consumer: the punt thread to
// worker 0). The punt thread (gateway/kernel/punt_io.h) does the reads and
// writes. In both rings an mbuf's `port` field carries the TapId, and frames
// are untagged Ethernet as the TAP sees them (the external side's 802.1Q tag
// is removed before a punt and pushed again on inject).
#pragma once

#include <rte_ring.h>

#include <cstdint>

#include "dataplane/policy/gateway_limits.h"

namespace hnv::gateway {

using TapId = uint16_t;
constexpr TapId TapIdOf(uint32_t compartment, uint8_t iface) {
  return static_cast<TapId>(compartment * kMaxInterfaces + iface);
}
constexpr uint32_t CompartmentOfTap(TapId t) { return t / kMaxInterfaces; }
constexpr uint8_t InterfaceOfTap(TapId t) { return static_cast<uint8_t>(t % kMaxInterfaces); }

struct PuntRings {
  rte_ring* to_kernel = nullptr;    // rte_mbuf*, MP/SC
  rte_ring* from_kernel = nullptr;  // rte_mbuf*, SP/SC
};

}  // namespace hnv::gateway
