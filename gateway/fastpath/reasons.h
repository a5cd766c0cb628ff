// What the compartment path counts: why a frame was punted to the
// compartment's kernel, why it was dropped (each a named reason and a
// counter per compartment), and the drops of frames that belong to no
// compartment. Written by one worker each (per-worker copies), summed on
// the control thread (GatewayFastPath::Counters).
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/policy/tables.h"  // kMaxPorts

namespace hnv::gateway {

// Why a frame was punted to the compartment's kernel.
#define HNV_GW_PUNT_REASONS(X)                                                  \
  X(kGroup, "broadcast or multicast (Ethernet or IPv4 destination)")            \
  X(kArp, "ARP")                                                                \
  X(kIpv6, "IPv6 (not forwarded by the dataplane in this version)")             \
  X(kNotIp, "neither IPv4, IPv6 nor ARP")                                       \
  X(kTtl, "TTL <= 1: the kernel sends time-exceeded")                           \
  X(kNoRoute, "no route in the compartment FIB")                                \
  X(kLocal, "to one of the compartment's own addresses")                        \
  X(kRoute, "the route says punt (the kernel's business)")                      \
  X(kNoNeighbor, "next hop not resolved: the kernel resolves it")               \
  X(kTooBig, "larger than the out interface's MTU")                             \
  X(kHairpin, "from the VM network back into it")                               \
  X(kFeature, "a compartment feature (NAT, load balancer...) left it to the kernel")

// Why a frame of a compartment was dropped.
#define HNV_GW_DROP_REASONS(X)                                                  \
  X(kMalformed, "frame failed parsing or is not one segment")                   \
  X(kNotForUs, "unicast to a MAC that is not the interface's")                 \
  X(kBadChecksum, "IPv4 header checksum wrong")                                 \
  X(kBlackhole, "the route is a blackhole")                                     \
  X(kNoInterface, "the route's interface does not exist")                       \
  X(kNoHeadroom, "no headroom to push an 802.1Q tag")                           \
  X(kPuntRingFull, "the to_kernel ring was full")

// Frames that belong to no compartment.
#define HNV_GW_GLOBAL_DROPS(X)                                                  \
  X(kNoCompartment, "no compartment for the (port, VLAN) or vm_port")           \
  X(kUnclassifiable, "Ethernet/802.1Q header truncated or double-tagged")       \
  X(kInjectUnknown, "from_kernel frame for an unknown compartment or interface") \
  X(kHandoffGone, "handed to this worker for a compartment that is gone")

#define HNV_GW_ENUM(name, text) name,
enum class Punt : uint8_t { HNV_GW_PUNT_REASONS(HNV_GW_ENUM) kCount };
enum class GwDrop : uint8_t { HNV_GW_DROP_REASONS(HNV_GW_ENUM) kCount };
enum class GlobalDrop : uint8_t { HNV_GW_GLOBAL_DROPS(HNV_GW_ENUM) kCount };
#undef HNV_GW_ENUM
inline constexpr size_t kPuntCount = static_cast<size_t>(Punt::kCount);
inline constexpr size_t kGwDropCount = static_cast<size_t>(GwDrop::kCount);
inline constexpr size_t kGlobalDropCount = static_cast<size_t>(GlobalDrop::kCount);

// "kNoNeighbor" -> "no-neighbor"; and the explanation.
const char* PuntName(Punt p);
const char* PuntText(Punt p);
const char* GwDropName(GwDrop d);
const char* GwDropText(GwDrop d);
const char* GlobalDropName(GlobalDrop d);
const char* GlobalDropText(GlobalDrop d);

struct PacketsBytes {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

struct CompartmentCounters {
  PacketsBytes rx_vm;        // from the VM network (DeliverVirtual)
  PacketsBytes rx_external;  // from external interfaces (Receive)
  PacketsBytes fwd_external;  // forwarded out of an external interface
  PacketsBytes fwd_vm;        // forwarded into the VM network (to the pipeline)
  PacketsBytes inject_vm;     // from the kernel into the VM network
  PacketsBytes inject_external;  // from the kernel out of an external interface
  PacketsBytes punted;           // to the kernel, all reasons
  uint64_t punt[kPuntCount] = {};
  uint64_t drop[kGwDropCount] = {};

  uint64_t Punted(Punt p) const { return punt[static_cast<size_t>(p)]; }
  uint64_t Dropped(GwDrop d) const { return drop[static_cast<size_t>(d)]; }
};

struct GlobalCounters {
  uint64_t drop[kGlobalDropCount] = {};
  uint64_t no_compartment[kMaxPorts] = {};  // per port (kNoCompartment)
  uint64_t Dropped(GlobalDrop d) const { return drop[static_cast<size_t>(d)]; }
};

}  // namespace hnv::gateway
