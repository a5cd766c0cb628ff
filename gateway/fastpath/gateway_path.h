// The compartment path: what a compartment's transit frames go through on
// a worker, as stages (dataplane/pipeline/stage.h) over bursts of one
// compartment's frames, wired once in CompartmentPath's constructor:
//
//   gw-input -+-> gw-steer -+-> pre-route features -> gw-route -+-> post-route features -> gw-rewrite -+-> external port (tx)
//             |             +-> owner worker (handoff)          |                                     +-> VM network (pipeline)
//             +-> punt / drop                                   +-> punt / drop                       +-> punt / drop
//
// Theory of operation (per stage; every frame carries its GwMeta, gw_meta.h):
//  - gw-input: the interface checks. Destination MAC the interface's or a
//    group address (else drop kNotForUs); the frame parses (IPv4 may be
//    truncated past its header; else drop kMalformed); from the VM network
//    no 802.1Q tag (drop kMalformed). ARP -> punt kArp; IPv6 -> punt kIpv6;
//    other non-IPv4 -> punt kGroup or kNotIp; IPv4: group destination MAC ->
//    punt kGroup; bad header checksum -> drop kBadChecksum; multicast or
//    broadcast destination -> punt kGroup; TTL <= 1 -> punt kTtl (the kernel
//    sends time-exceeded). The rest leaves by kSteer.
//  - gw-steer (only with several workers): each frame goes to the worker
//    that owns its flow (feature.h, "Flow affinity"): on this one by kPreRoute,
//    else handed off (it resumes at the pre-route slot there).
//  - pre-route / post-route slots: the compartment's features in order
//    (feature.h); absent features cost one test per burst.
//  - gw-route: the compartment FIB, looked up for the whole burst at once
//    (rte_lpm_lookup_bulk). A miss takes the default route (held in the
//    snapshot) or is punted kNoRoute; kLocal -> punt kLocal; kPunt -> punt
//    kRoute; kBlackhole -> drop kBlackhole; kForward: an interface the
//    compartment does not have -> drop kNoInterface; from the VM network back
//    into it -> punt kHairpin (unless a feature marked it kHairpinOk); else
//    GwMeta gets the out interface and the next hop (the route's gateway or
//    the destination) and the frame leaves by kPostRoute.
//  - gw-rewrite: the next hop's neighbour entry (missing -> punt kNoNeighbor:
//    the kernel resolves it and the mirror installs it); an IPv4 total length
//    over the out interface's MTU -> punt kTooBig (the kernel fragments or
//    sends frag-needed); then the Ethernet header is rewritten (source = out
//    interface MAC, destination = neighbour MAC, 802.1Q tag pushed, replaced
//    or removed; no headroom -> drop kNoHeadroom), padding trimmed and the
//    TTL decremented with an incremental checksum update. Out of an external
//    interface: ctx.Transmit on its port. Into the VM network: the frame is
//    what the gateway CA sends to its next hop, fed to the HNV pipeline as
//    received on the compartment's vm_port at the end of the caller's burst
//    (or, inside a flush, where the pipeline may not be re-entered, handed to
//    this worker's next loop iteration).
// Punts: the VLAN tag is removed, mbuf->port = TapIdOf(compartment,
// in_iface), offload flags cleared; collected and enqueued to the punt ring
// once per call (GwBatch); what does not fit is dropped (kPuntRingFull).
//
// Thread: worker-only; noexcept; no allocation, lock or syscall.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <string_view>

#include "dataplane/pipeline/stage.h"
#include "gateway/fastpath/feature.h"
#include "gateway/fastpath/gateway_tables.h"
#include "gateway/fastpath/gw_meta.h"
#include "gateway/fastpath/reasons.h"
#include "gateway/punt.h"

namespace hnv::gateway {

// One worker's gateway state: its counters (read by the control thread
// through GatewayFastPath::PublishCounters).
struct alignas(64) GwWorkerState {
  CompartmentCounters c[kMaxCompartments];
  GlobalCounters g;
};

// The terminals of one entry-point call: frames for the kernel and for the
// VM network, handed on once at the end (at most kBurstSize of each: a call
// takes at most one burst).
struct GwBatch {
  rte_mbuf* punt[kBurstSize];
  // Recorded before the enqueue: once in the ring an mbuf is the punt thread's.
  uint32_t punt_bytes[kBurstSize];
  uint16_t punt_compartment[kBurstSize];
  Punt punt_why[kBurstSize];
  uint16_t n_punt = 0;
  rte_mbuf* to_vm[kBurstSize];
  uint16_t n_vm = 0;
};

// What every stage of the compartment path works with.
struct GwContext {
  WorkerContext& ctx;
  GwWorkerState& w;
  GwBatch& batch;
  const GatewayTables& tables;
  const CompartmentView& cv;
  CompartmentCounters& c;  // w.c[cv.id]
  bool in_flush;           // inside DeliverVirtual: the pipeline may not be re-entered

  void Drop(rte_mbuf* m, GwDrop why) noexcept {
    ++c.drop[static_cast<size_t>(why)];
    rte_pktmbuf_free(m);
  }
  // To the kernel through the TAP of the interface the frame came in on.
  void PuntFrame(rte_mbuf* m, Punt why) noexcept;
};

class GwInput final {
 public:
  static constexpr std::string_view kName = "gw-input";
  enum class Edge : uint8_t { kSteer, kCount };
  static constexpr EdgeNames<Edge> kEdges = {"gw-steer"};
  static void Process(GwContext& g, Burst& in, const Outputs<Edge>& out) noexcept;
};

class GwSteer final {
 public:
  static constexpr std::string_view kName = "gw-steer";
  enum class Edge : uint8_t { kPreRoute, kCount };
  static constexpr EdgeNames<Edge> kEdges = {"pre-route"};
  static void Process(GwContext& g, Burst& in, const Outputs<Edge>& out) noexcept;
};

class GwRoute final {
 public:
  static constexpr std::string_view kName = "gw-route";
  enum class Edge : uint8_t { kPostRoute, kCount };
  static constexpr EdgeNames<Edge> kEdges = {"post-route"};
  static void Process(GwContext& g, Burst& in, const Outputs<Edge>& out) noexcept;
};

class GwRewrite final {
 public:
  static constexpr std::string_view kName = "gw-rewrite";
  // A terminal stage: out of a port (ctx.Transmit), into the VM network
  // (GwBatch::to_vm), to the kernel or dropped.
  enum class Edge : uint8_t { kCount };
  static constexpr EdgeNames<Edge> kEdges = {};
  static void Process(GwContext& g, Burst& in) noexcept;
};

class PathTracer;  // path_trace.h

// The graph above for one worker (bursts and wiring).
class CompartmentPath {
 public:
  CompartmentPath() noexcept;
  CompartmentPath(const CompartmentPath&) = delete;
  CompartmentPath& operator=(const CompartmentPath&) = delete;

  // Runs `in` (frames of g.cv with their GwMeta's compartment and in_iface
  // set) from gw-input, or from the pre-route slot for frames another worker
  // handed over (already through gw-input and gw-steer). Empties `in`.
  void FromInput(GwContext& g, Burst& in) noexcept;
  void FromPreRoute(GwContext& g, Burst& in) noexcept;
  // `hnvctl trace` only (path_trace.h): called once per stage per burst when set.
  void set_tracer(PathTracer* t) noexcept { tracer_ = t; }

 private:
  void FromPreRoute(GwContext& g, Burst& in, bool enter) noexcept;
  // Runs the features of one slot over `in`; returns the burst the frames
  // that went on are in (`in` itself when the slot is empty).
  Burst& RunSlot(GwContext& g, Feature* const* features, uint8_t n, Burst& in) noexcept;

  Burst to_steer_, to_pre_, to_post_;
  Burst feature_a_, feature_b_, feature_punt_;
  const Outputs<GwInput::Edge> input_;
  const Outputs<GwSteer::Edge> steer_;
  const Outputs<GwRoute::Edge> route_;
  // A slot runs its features alternating between two bursts.
  const Outputs<Feature::Edge> into_a_, into_b_;
  PathTracer* tracer_ = nullptr;
};

}  // namespace hnv::gateway
