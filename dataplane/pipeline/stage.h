// The stage contract: one idiom for every fast path of the project (the HNV
// pipeline here, hnv-gateway's compartment path in gateway/fastpath/).
//
// Theory of operation. A stage is a class with
//   static constexpr std::string_view kName;             // "l2-switch"
//   enum class Edge : uint8_t { kArpNd, kRouter, kEncap, kCount };
//   static constexpr EdgeNames<Edge> kEdges = {"arp-nd", "router", "nvgre-encap"};
//   static void Process(WorkerContext& ctx, Burst& in, Outputs<Edge>& out) noexcept;
// A burst comes in; each frame leaves by exactly one of
//  - a named edge: pushed to the input burst of the next stage (out.Push);
//  - a drop: freed and counted under a named reason (the dataplane's
//    Drop enum through ctx.Discard, or the program's own reasons, e.g.
//    hnv-gateway's per-compartment ones);
//  - a terminal: transmitted on a port (ctx.Transmit), handed to another
//    worker or to the kernel (hnv-gateway's punt), or consumed by design
//    (ctx.Absorb).
// A source stage (the first after receive) takes the received array instead
// of a Burst. Stages never call each other except to drain a successor
// whose input is full (arp-nd runs nvgre-encap), and keep the order of the
// frames they pass on.
//
// Wiring. Each program builds its graph once, where it can be read: an
// Outputs<Edge> is constructed from exactly one burst per edge, in Edge
// order, so an unconnected edge does not compile (the graph is checked
// before anything runs). Pipeline's constructor (pipeline.cc) is the HNV
// graph; GatewayPath's (gateway/fastpath/gateway_path.cc) the compartment
// path.
//
// Cost: an Outputs is an array of burst pointers built once per worker; a
// push is the same store into a burst as before, through a pointer the
// stage loads once per burst.
// Thread: worker-only; no allocation, lock or syscall.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "dataplane/pipeline/context.h"

namespace hnv {

// Appends `m` to burst `b`; a full burst drops it as kBurstOverflow.
inline void Push(WorkerContext& ctx, Burst& b, rte_mbuf* m) noexcept {
  if (b.full()) return ctx.Discard(m, Drop::kBurstOverflow);
  b.pkts[b.n++] = m;
}

template <typename Edge>
inline constexpr size_t kEdgeCount = static_cast<size_t>(Edge::kCount);

// The names of a stage's edges (usually its successors' names), in Edge order.
template <typename Edge>
using EdgeNames = std::array<std::string_view, kEdgeCount<Edge>>;

// A stage's outputs: one burst per named edge.
template <typename Edge>
class Outputs {
 public:
  template <typename... Bursts>
  explicit Outputs(Bursts&... to) noexcept : to_{&to...} {
    static_assert(sizeof...(Bursts) == kEdgeCount<Edge>, "every edge of the stage must be connected");
  }
  Outputs(const Outputs&) = delete;
  Outputs& operator=(const Outputs&) = delete;

  Burst& operator[](Edge e) const noexcept { return *to_[static_cast<size_t>(e)]; }
  // Pushes `m` to edge `e` (hnv::Push below).
  void Push(WorkerContext& ctx, Edge e, rte_mbuf* m) const noexcept;

 private:
  Burst* to_[kEdgeCount<Edge>];
};

template <typename Edge>
inline void Outputs<Edge>::Push(WorkerContext& ctx, Edge e, rte_mbuf* m) const noexcept {
  hnv::Push(ctx, (*this)[e], m);
}

}  // namespace hnv
