// The compartment features that run nat/ (NAT44 and the load balancer) in
// hnv-gateway's compartment path (gateway/fastpath/feature.h).
//
// Theory of operation. A compartment with NAT or load balancers gets two
// features sharing one NatFeatureRules:
//  - NatPreRoute (slot before the route decision): frames that came in on an
//    external interface (or were turned around by the post-route slot, a
//    hairpin: GwMeta::kInbound) go through LbWorker::Inbound (to a VIP ->
//    a backend) and then NatWorker::Inbound (port forwards, static NAT,
//    NAPT sessions): their destination is rewritten before the FIB sees it.
//    Frames from the VM network pass untouched.
//  - NatPostRoute (slot after it): frames from the VM network routed out of
//    an external interface the NAT applies to go through LbWorker::Outbound
//    (a backend's answer gets its VIP as source) and NatWorker::Outbound
//    (SNAT: port forwards, static NAT, NAPT). Everything else passes.
// Verdicts map onto the path: pass and translated go on (kNext); a drop is
// freed and counted in nat/'s counters by reason; a reply (an LB's TCP
// reset for an empty pool) leaves at once by the interface it came in on;
// a hairpin (outbound, translated, and now to one of the NAT's own
// addresses) is marked kInbound | kHairpinOk and handed to the worker that
// owns the NAT address's port (through the handoff ring, to itself too),
// where it resumes at the pre-route slot and is translated inbound.
//
// Flow affinity: NatPreRoute steers every frame of its compartment
// (nat/steering.h): from the VM network by the inside host, to a NAPT pool
// address by its port (worker w allocates the ports p % W == w), anything
// else from outside by its source. So both directions of a NAPT session and
// of a load-balanced connection meet on one worker, and the per-worker state
// (NatWorker, LbWorker) needs no lock.
//
// Per-worker state lives in NatWorkers, held by shared_ptr: a rule change
// builds new features (new NatRules / LbRules) that keep the same state
// when it is still valid (nat_service.h says when), so sessions of rules
// that stay keep flowing. Expiry: each feature ticks its worker's tables
// once per burst it sees (at most 32 records each).
//
// Thread: Process and Steer on workers (no allocation, lock, syscall or
// exception); construction and the rest on the control thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gateway/fastpath/feature.h"
#include "nat/lb.h"
#include "nat/model.h"
#include "nat/nat44.h"
#include "nat/nat_rules.h"

namespace hnv::gateway {

// One compartment's per-worker NAT and LB state (index = worker id).
struct NatWorkers {
  uint32_t workers = 0;
  std::unique_ptr<nat::NatWorker[]> napt;  // null without NAPT/static NAT
  std::unique_ptr<nat::LbWorker[]> lb;     // null without load balancers

  static std::shared_ptr<NatWorkers> CreateNat(const nat::NatSpec& spec, uint32_t workers,
                                               uint64_t seed, std::string* error);
  // One worker's, small (256 sessions and connections), for traces.
  static std::shared_ptr<NatWorkers> CreateTrace(const nat::TenantNat& t, std::string* error);
  static std::shared_ptr<NatWorkers> CreateLb(uint32_t connections, uint32_t workers,
                                              uint64_t seed, std::string* error);
};

// What both features of a compartment read; immutable once built.
struct NatFeatureRules {
  std::shared_ptr<const nat::NatRules> nat;  // null: no NAT
  std::shared_ptr<const nat::LbRules> lb;    // null: no load balancer
  std::shared_ptr<NatWorkers> nat_state;     // with `nat`
  std::shared_ptr<NatWorkers> lb_state;      // with `lb`
  // One small worker's state for `hnvctl trace` (FeatureContext::trace, the
  // control thread): a trace never touches the workers' sessions, so it
  // shows what the rules do with a frame of a new flow.
  std::shared_ptr<NatWorkers> trace_state;
  uint64_t nat_ifaces = 0;  // bit i: outbound NAT out of compartment interface i (1..)
  uint64_t tsc_per_ms = 1;
};

class NatPreRoute final : public Feature {
 public:
  explicit NatPreRoute(std::shared_ptr<const NatFeatureRules> r) : r_(std::move(r)) {}
  std::string_view name() const noexcept override { return "nat-in"; }
  FeatureSlot slot() const noexcept override { return FeatureSlot::kPreRoute; }
  bool steers() const noexcept override { return true; }
  bool Steer(const rte_mbuf* m, uint32_t workers, uint32_t* owner) const noexcept override;
  void Process(FeatureContext& fc, Burst& in, const Outputs<Edge>& out) noexcept override;

 private:
  std::shared_ptr<const NatFeatureRules> r_;
};

class NatPostRoute final : public Feature {
 public:
  explicit NatPostRoute(std::shared_ptr<const NatFeatureRules> r) : r_(std::move(r)) {}
  std::string_view name() const noexcept override { return "nat-out"; }
  FeatureSlot slot() const noexcept override { return FeatureSlot::kPostRoute; }
  void Process(FeatureContext& fc, Burst& in, const Outputs<Edge>& out) noexcept override;

 private:
  std::shared_ptr<const NatFeatureRules> r_;
};

// The tables' clock: milliseconds of the TSC since the first call (made when
// the first rules are built), plus 1000; 32-bit in the tables (49 days
// before it wraps, compared as signed differences).
uint64_t NatClockMs(uint64_t tsc, uint64_t tsc_per_ms) noexcept;

// Both features over `r`, for GatewayTables::SetFeatures.
std::vector<std::shared_ptr<Feature>> MakeNatFeatures(std::shared_ptr<const NatFeatureRules> r);

}  // namespace hnv::gateway
