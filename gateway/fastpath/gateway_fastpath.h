// GatewayFastPath: the compartments' forwarding on the dataplane's workers
// (a WorkerExtension, dataplane/pipeline/extension.h).
//
// Theory of operation. Three inputs, one per extension entry point:
//  - Receive: bursts from external ethdev ports. A frame is classified by
//    (port, 802.1Q VLAN or 0) to (compartment, interface) through the
//    snapshot (none: drop kNoCompartment, counted per port in the global
//    counters). Its destination MAC must be the interface's MAC or a group
//    address (else kNotForUs). ARP, IPv6, other non-IPv4 and broadcast /
//    multicast are punted to the interface's TAP with the VLAN tag removed.
//    IPv4 (see "IPv4 forwarding" below): forwarded to another external
//    interface (ctx.Transmit on its port) or into the VM network: the frame
//    is rewritten as if the gateway CA sent it to its next hop (source MAC
//    vm_mac, destination the neighbour's MAC, no tag) and fed to the HNV
//    pipeline as received on the compartment's vm_port, one
//    Pipeline::ProcessRx per vm_port at the end of the burst (routing,
//    NVGRE encapsulation and the rest are the pipeline's).
//  - DeliverVirtual: what the HNV pipeline delivers to a compartment's
//    vm_port (decapsulated NVGRE, or routed locally). The same logic from
//    interface 0 (destination MAC vm_mac or a group address); a route back
//    into the VM network (hairpin) is punted: DeliverVirtual runs inside a
//    flush and must not re-enter the pipeline.
//  - Poll (worker 0 only): frames the kernel sent from the TAPs
//    (rings.from_kernel, mbuf->port = TapId). Interface 0: into the pipeline
//    as received on vm_port (consecutive frames of one compartment in one
//    ProcessRx); interface 1..: the interface's VLAN pushed, then
//    ctx.Transmit on its port. Unknown compartment or interface: freed and
//    counted (global kInjectUnknown).
// IPv4 forwarding: malformed (parse error, IHL/length) -> drop kMalformed;
// bad header checksum -> drop kBadChecksum; destination multicast/broadcast
// -> punt kGroup; TTL <= 1 -> punt kTtl (the kernel sends time-exceeded);
// FIB miss -> punt kNoRoute; kLocal -> punt kLocal; kPunt -> punt kRoute;
// kBlackhole -> drop kBlackhole; kForward: the neighbour (compartment, out
// interface, gateway or destination) missing -> punt kNoNeighbor (the kernel
// resolves it; the netlink mirror then installs it); IPv4 total length over
// the out interface's MTU -> punt kTooBig (the kernel fragments or sends
// frag-needed); then the Ethernet header is rewritten (source = out
// interface MAC, destination = neighbour MAC, 802.1Q tag pushed, replaced or
// removed), Ethernet padding trimmed, TTL decremented with an incremental
// checksum update. No headroom for a tag -> drop kNoHeadroom.
// Punt: the VLAN tag is removed, mbuf->port = TapIdOf(compartment, iface),
// offload flags cleared, then rte_ring_mp_enqueue_burst to rings.to_kernel
// once per burst; what does not fit is dropped (kPuntRingFull).
//
// Counters: per worker (cache-aligned, written by that worker only), per
// compartment (CompartmentCounters) and global; the control thread sums the
// workers (racy reads of monotonic values) minus a base set by
// ResetCounters (called when a compartment is (re)created).
//
// Thread contract: Receive/DeliverVirtual/Poll on workers (ctx.worker_id
// below the `workers` given to the constructor), noexcept, no allocation,
// lock, syscall, exception or std::string. Counters/ResetCounters/
// GlobalCounters from the control thread. The GatewayTables and rings must
// outlive this object.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <memory>

#include "dataplane/pipeline/extension.h"
#include "gateway/fastpath/gateway_tables.h"
#include "gateway/punt.h"

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
  X(kHairpin, "from the VM network back into it")

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
  X(kInjectUnknown, "from_kernel frame for an unknown compartment or interface")

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

class GatewayFastPath final : public WorkerExtension {
 public:
  GatewayFastPath(const GatewayTables* tables, PuntRings rings, uint32_t workers);
  ~GatewayFastPath() override;
  GatewayFastPath(const GatewayFastPath&) = delete;
  GatewayFastPath& operator=(const GatewayFastPath&) = delete;

  void Receive(WorkerContext& ctx, Pipeline& pipeline, uint16_t port, rte_mbuf** pkts,
               uint16_t n) noexcept override;
  void DeliverVirtual(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts,
                      uint16_t n) noexcept override;
  void Poll(WorkerContext& ctx, Pipeline& pipeline) noexcept override;

  // ---- control thread ----
  CompartmentCounters Counters(uint32_t id) const;
  void ResetCounters(uint32_t id);
  GlobalCounters Global() const;

 private:
  struct alignas(64) WorkerState {
    CompartmentCounters c[kMaxCompartments];
    GlobalCounters g;
  };
  struct Batch;  // one worker-side call's punts and frames for the pipeline

  // Forwards (or punts/drops) one IPv4 frame of compartment `cv` that came
  // in on interface `in_iface`; `pf` is its parse, `vlan_len` 0 or 4.
  void RouteV4(WorkerContext& ctx, WorkerState& w, const CompartmentView& cv, uint8_t in_iface,
               rte_mbuf* m, const ParsedFrame& pf, Batch& b) noexcept;
  void ToKernel(WorkerState& w, uint32_t compartment, uint8_t iface, rte_mbuf* m, Punt why,
                uint16_t l2_len, Batch& b) noexcept;
  void FlushPunts(Batch& b, WorkerState& w) noexcept;
  void HandleOne(WorkerContext& ctx, WorkerState& w, const CompartmentView& cv, uint8_t iface,
                 rte_mbuf* m, Batch& b) noexcept;
  WorkerState& StateOf(const WorkerContext& ctx) noexcept {
    return workers_[ctx.worker_id < worker_count_ ? ctx.worker_id : 0];
  }

  const GatewayTables* tables_;
  PuntRings rings_;
  uint32_t worker_count_;
  std::unique_ptr<WorkerState[]> workers_;
  std::unique_ptr<CompartmentCounters[]> base_;
};

}  // namespace hnv::gateway
