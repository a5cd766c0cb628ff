// Feature: a function of a compartment's fast path that is not forwarding
// (NAT, load balancing, ...), plugged into ordered slots of the compartment
// path (gateway_path.h) without the path knowing what it does.
//
// Theory of operation. A compartment's transit path is
//   gw-input -> [steer] -> pre-route slot -> gw-route -> post-route slot -> gw-rewrite
// A feature declares its slot (before the route decision: where DNAT and a
// load balancer rewrite the destination; after it: where SNAT rewrites the
// source, knowing the out interface) and its order within the slot (low
// first). The compartment's features are an immutable FeatureChain held in
// its snapshot view (GatewayTables::SetFeatures): a compartment without
// features has no chain and pays one pointer test per burst.
//
// A feature's Process gets a burst of one compartment's IPv4 unicast
// frames, each parsed (PacketMeta::pf) and with its GwMeta (gw_meta.h: in
// interface; after the route, out interface and next hop). Each frame
// leaves by exactly one of: out.Push(kNext) to the next feature or stage;
// out.Push(kPunt) to the compartment's kernel (counted as Punt::kFeature);
// ctx.Transmit (e.g. a TCP reset it built in place); or its own drop, freed
// and counted under the feature's own named reasons. A feature that rewrites
// addresses must leave pf and the checksums valid for what follows.
//
// Flow affinity: with several workers both directions of a connection must
// meet on one worker, so per-worker state (sessions) needs no lock. The
// path hands each frame to its owner worker before the pre-route slot; the
// owner is the first feature's Steer() that answers, else a symmetric hash
// of the frame's addresses and ports (flow_hash.h). A feature whose
// translated flows would hash elsewhere (a NAT's return traffic to its
// external address) answers Steer for them.
//
// Thread contract: Process and Steer run on workers, noexcept, with no
// allocation, lock, syscall or exception; per-worker state is indexed by
// ctx.worker_id (sized for the dataplane's workers when the feature is made).
// Everything else (construction, configuration, status) is the control
// thread's. A feature stays alive until a grace period after its chain left
// the snapshot (GatewayTables holds it by shared_ptr and retires it).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <string_view>

#include "dataplane/pipeline/stage.h"

namespace hnv::gateway {

struct CompartmentView;

enum class FeatureSlot : uint8_t { kPreRoute, kPostRoute };

// What a feature's Process gets besides its burst.
struct FeatureContext {
  WorkerContext& ctx;
  const CompartmentView& cv;
  uint64_t now_tsc;  // rte_rdtsc(), read once per burst
  // The trace's own path (`hnvctl trace`, on the control thread): a feature
  // must leave the workers' state alone (it keeps a state of its own for
  // traces, or decides without state).
  bool trace = false;
};

class Feature {
 public:
  enum class Edge : uint8_t { kNext, kPunt, kCount };
  static constexpr EdgeNames<Edge> kEdges = {"next", "punt"};

  virtual ~Feature() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual FeatureSlot slot() const noexcept = 0;
  virtual int order() const noexcept { return 0; }
  // True when Steer may claim frames (the path asks only such features).
  virtual bool steers() const noexcept { return false; }
  // The worker that must see `m` (a frame of this compartment entering the
  // pre-route slot), or false to leave it to the symmetric flow hash.
  virtual bool Steer(const rte_mbuf* m, uint32_t workers, uint32_t* owner) const noexcept {
    (void)m, (void)workers, (void)owner;
    return false;
  }
  virtual void Process(FeatureContext& fc, Burst& in, const Outputs<Edge>& out) noexcept = 0;
};

// A compartment's features, by slot and order; what the snapshot holds.
struct FeatureChain {
  static constexpr uint8_t kMaxPerSlot = 8;
  Feature* pre[kMaxPerSlot] = {};
  Feature* post[kMaxPerSlot] = {};
  uint8_t n_pre = 0;
  uint8_t n_post = 0;
  bool steers = false;  // some feature overrides Steer (it is asked first)
};

}  // namespace hnv::gateway
