// GatewayTables: what the gateway's workers need to forward a compartment's
// transit traffic: which frames belong to which compartment, each
// compartment's IPv4 FIB, and its neighbours.
//
// Theory of operation. Three structures, each changed in place or swapped
// while workers read them without locks, reclaimed after an RCU grace period
// on the dataplane's rte_rcu_qsbr through its Reclaimer
// (dataplane/policy/reclaimer.h; workers report quiescence once per loop):
//  - GatewaySnapshot: the small structural state, immutable, published
//    through one atomic pointer: per compartment its interfaces (0 = into the
//    VM network on virtual policy port vm_port, MAC vm_mac; 1.. = external
//    port + VLAN + MAC + MTU) and FIB pointers; the classification of
//    external frames (port, VLAN or 0) -> (compartment, interface); and
//    vm_port -> compartment. Rebuilt on every SetCompartment/Remove.
//  - One FIB per compartment: an rte_lpm (IPv4) with rte_lpm_rcu_qsbr_add in
//    defer-queue mode, so a tbl8 group freed by a delete is reused only after
//    a grace period. The lpm's 24-bit next hop indexes the compartment's
//    adjacency array: immutable 8-byte entries (kind, interface, gateway),
//    shared by every route with the same next hop (refcounted); an index
//    whose last route went away is reused only after a grace period, so a
//    worker holding an index read a moment ago still finds its entry.
//    Route changes (SetRoute/RemoveRoute) edit the lpm in place: a reader
//    sees the old or the new next hop, never a torn one. rte_lpm has no
//    depth 0: the default route is an adjacency index in the snapshot.
//  - Neighbours: one RcuHashTable for all compartments, key
//    (compartment, interface, IP) -> MAC.
// IPv6: this version forwards IPv4 only. SetRoute rejects IPv6 prefixes;
// IPv6 transit is punted to the compartment namespace's kernel, which routes
// it and sends it back through the TAPs (slow path, but correct).
//
// Memory per compartment (Memory(id)), reserved when the compartment is set
// (nothing grows later): the lpm's tbl24, 2^24 x 4 B = 64 MiB whatever the
// route count (DPDK's DIR-24-8 layout), + tbl8 groups x 1 KiB (groups =
// max_routes x GatewayLimits::tbl8_percent / 100, at least 256: a route
// longer than /24 takes one group for its /24) + max_routes x 8 B of rules
// + the adjacency array, (max_routes + 1) x 8 B, + the defer queue (tbl8
// groups x 16 B). With max_routes 16,384: ~80.5 MiB; with 100,000: ~164.7 MiB
// (tests/bench/RESULTS.md).
// Memory comes from the DPDK heap. The tbl24 dominates: a gateway with many
// small compartments would want a smaller FIB (rte_fib with a RIB, DPDK 23+
// for RCU); stated, not done.
//
// Thread contract: snapshot(), FindNeighbor() and the views they return from
// registered RCU readers (workers; valid until their next quiescent state);
// everything else from the single control thread.
#pragma once

#include <rte_lpm.h>
#include <rte_rcu_qsbr.h>

#include <array>
#include <bit>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/packet/types.h"
#include "dataplane/policy/flat_map.h"
#include "dataplane/policy/gateway_limits.h"
#include "dataplane/policy/rcu_hash.h"
#include "dataplane/policy/tables.h"
#include "gateway/fastpath/feature.h"

namespace hnv::gateway {

struct GatewayLimits {
  uint32_t max_neighbors = 65536;  // all compartments together
  uint32_t tbl8_percent = 100;     // tbl8 groups per compartment, % of its max_routes
  std::string name = "gw";         // distinguishes several instances in one process
};

struct InterfaceLayout {
  uint16_t port = 0;  // external policy port (PortKind::kUnused in the HNV policy)
  uint16_t vlan = 0;  // 0 = untagged
  MacAddr mac;
  uint32_t mtu = 1500;  // IP MTU
  friend bool operator==(const InterfaceLayout&, const InterfaceLayout&) = default;
};

struct CompartmentLayout {
  uint16_t vm_port = 0;  // kFirstVirtualPort + id
  MacAddr vm_mac;        // the gateway CA's MAC
  uint32_t vm_mtu = 1458;
  std::vector<InterfaceLayout> external;  // interfaces 1..
  uint32_t max_routes = 16384;
  friend bool operator==(const CompartmentLayout&, const CompartmentLayout&) = default;
};

enum class NextHopKind : uint8_t {
  kForward,   // to `gateway` (or the destination itself) out of `iface`
  kLocal,     // one of the compartment's own addresses: punted
  kPunt,      // the kernel handles it (e.g. a route through a device we do not own)
  kBlackhole  // dropped
};
const char* NextHopKindName(NextHopKind k);

struct NextHop {
  NextHopKind kind = NextHopKind::kForward;
  uint8_t iface = 0;
  IpAddr gateway;  // unspecified = connected: the destination itself is the neighbour
  friend bool operator==(const NextHop&, const NextHop&) = default;
};

// ---- what the workers read ----

// One adjacency: immutable while any route (or a reader in its grace period)
// refers to it.
struct alignas(8) Adjacency {
  NextHopKind kind = NextHopKind::kBlackhole;
  uint8_t iface = 0;
  uint16_t pad = 0;
  uint32_t gateway = 0;  // IPv4, host order; 0 = connected
};
static_assert(sizeof(Adjacency) == 8);

// An entry is written whole (one 8-byte release store) before the lpm
// points at its index, and read whole (acquire: a plain load on x86), so a
// worker that found the index sees the entry written before.
inline Adjacency LoadAdjacency(const Adjacency* adj, uint32_t i) noexcept {
  return std::bit_cast<Adjacency>(
      __atomic_load_n(reinterpret_cast<const uint64_t*>(adj + i), __ATOMIC_ACQUIRE));
}
inline void StoreAdjacency(Adjacency* adj, uint32_t i, const Adjacency& a) noexcept {
  __atomic_store_n(reinterpret_cast<uint64_t*>(adj + i), std::bit_cast<uint64_t>(a), __ATOMIC_RELEASE);
}

struct IfaceView {
  uint16_t port = kNoPort;  // interface 0: the compartment's vm_port
  uint16_t vlan = 0;
  MacAddr mac;
  uint32_t mtu = 0;
};

struct CompartmentView {
  bool present = false;
  uint8_t iface_count = 0;  // interface 0 included
  uint16_t vm_port = kNoPort;
  uint32_t id = 0;
  std::array<IfaceView, kMaxInterfaces> ifaces{};
  const rte_lpm* lpm = nullptr;
  const Adjacency* adj = nullptr;
  // rte_lpm has no depth 0: the default route (0.0.0.0/0) is this adjacency,
  // used on an lpm miss; kNoDefault when there is none.
  static constexpr uint32_t kNoDefault = 0xffffffffu;
  uint32_t default_adj = kNoDefault;
  const FeatureChain* features = nullptr;  // none: the path skips the slots
};

struct GatewaySnapshot {
  static constexpr uint16_t kNone = 0xffff;
  uint64_t generation = 0;
  std::array<CompartmentView, kMaxCompartments> compartments{};
  FlatU32Map classify;                               // ClassifyKey -> compartment << 8 | iface
  std::array<uint16_t, kMaxPorts> vm_port_owner{};   // vm_port -> compartment, or kNone

  static constexpr uint32_t ClassifyKey(uint16_t port, uint16_t vlan) {
    return uint32_t{port} << 12 | (vlan & 0x0fffu);
  }
  const CompartmentView* Compartment(uint32_t id) const noexcept {
    return id < kMaxCompartments && compartments[id].present ? &compartments[id] : nullptr;
  }
};

struct NeighborKey {
  uint32_t scope = 0;  // compartment << 8 | interface
  IpAddr ip;
};
static_assert(sizeof(NeighborKey) == 24);

struct NeighborEntry {
  MacAddr mac;
  uint16_t pad = 0;
};

struct NeighborInfo {
  uint8_t iface = 0;
  IpAddr ip;
  MacAddr mac;
};

class GatewayTables {
 public:
  // Retires through `reclaimer` (the Dataplane's: every worker a registered
  // reader of its RCU variable), or through one of its own on `qsv`.
  static std::unique_ptr<GatewayTables> Create(const GatewayLimits& limits, Reclaimer& reclaimer,
                                               std::string* error);
  static std::unique_ptr<GatewayTables> Create(const GatewayLimits& limits, rte_rcu_qsbr* qsv,
                                               std::string* error);
  ~GatewayTables();
  GatewayTables(const GatewayTables&) = delete;
  GatewayTables& operator=(const GatewayTables&) = delete;

  // ---- reader side (workers) ----
  const GatewaySnapshot* snapshot() const noexcept {
    return snapshot_.load(std::memory_order_acquire);
  }
  // The neighbour's MAC, or nullptr. `ip_host` is an IPv4 address in host order.
  const NeighborEntry* FindNeighborV4(uint32_t compartment, uint8_t iface,
                                      uint32_t ip_host) const noexcept {
    // The NeighborKey bytes (scope, IpAddr{b[0..3] = address, zeros, family 4})
    // assembled in words: see rcu_hash.h, KeyWords.
    KeyWords<NeighborKey> k;
    const uint32_t be = HostToNet(ip_host);
    k.w[0] = (compartment << 8 | iface) | uint64_t{be} << 32;
    k.w[1] = 0;
    k.w[2] = uint64_t{static_cast<uint8_t>(Family::kV4)} << 32;
    return neighbors_.Find(k);
  }

  // ---- writer side (control thread) ----
  // Adds compartment `id` or changes its layout. Routes and neighbours are
  // kept (a changed max_routes rebuilds the FIB with the same routes;
  // neighbours of interfaces that no longer exist are removed).
  bool SetCompartment(uint32_t id, const CompartmentLayout& layout, std::string* error);
  // Removes the compartment with its routes and neighbours. Nothing of
  // another compartment changes. Memory comes back after a grace period.
  void RemoveCompartment(uint32_t id);

  // Adds or replaces the route for `dst` (IPv4 only, see above).
  bool SetRoute(uint32_t id, const IpPrefix& dst, const NextHop& nh, std::string* error);
  // False if there was no such route.
  bool RemoveRoute(uint32_t id, const IpPrefix& dst);

  bool SetNeighbor(uint32_t id, uint8_t iface, const IpAddr& ip, const MacAddr& mac,
                   std::string* error);

  // Replaces the compartment's features (feature.h): ordered by slot and
  // order, held in its snapshot view; the old ones are released after a
  // grace period. An empty list removes them (the path skips the slots).
  bool SetFeatures(uint32_t id, std::vector<std::shared_ptr<Feature>> features,
                   std::string* error);
  std::vector<std::shared_ptr<Feature>> Features(uint32_t id) const;
  void RemoveNeighbor(uint32_t id, uint8_t iface, const IpAddr& ip);

  // Hands back what a grace period has freed (cheap when idle).
  void Reclaim();
  // Waits for a grace period, then reclaims everything pending.
  void Synchronize();

  // ---- control-side views (hnvctl) ----
  bool HasCompartment(uint32_t id) const;
  const CompartmentLayout* Layout(uint32_t id) const;
  std::vector<std::pair<IpPrefix, NextHop>> Routes(uint32_t id) const;
  std::vector<NeighborInfo> Neighbors(uint32_t id) const;
  // Bytes reserved for the compartment's FIB (lpm + adjacency array), see above.
  size_t Memory(uint32_t id) const;
  uint32_t neighbor_count() const { return neighbors_.size(); }
  size_t pending_reclaim() const { return reclaimer_->pending(); }

 private:
  struct Compartment;
  explicit GatewayTables(const GatewayLimits& limits);
  bool Init(std::string* error);
  bool CreateFib(Compartment& c, uint32_t max_routes, std::string* error);
  bool AddToFib(Compartment& c, const IpPrefix& dst, const NextHop& nh, std::string* error);
  uint32_t AcquireAdjacency(Compartment& c, const NextHop& nh);
  void ReleaseAdjacency(Compartment& c, uint32_t index);
  void RemoveNeighborsOf(uint32_t id, uint8_t min_iface);
  void Publish();
  void Retire(std::function<void()> release);

  GatewayLimits limits_;
  // Declared before what retires through it (destroyed after it).
  std::unique_ptr<Reclaimer> own_reclaimer_;
  Reclaimer* reclaimer_ = nullptr;
  rte_rcu_qsbr* qsv_ = nullptr;
  uint64_t instance_;
  uint64_t generation_ = 0;
  uint64_t fib_serial_ = 0;
  std::atomic<const GatewaySnapshot*> snapshot_{nullptr};
  RcuHashTable<NeighborKey, NeighborEntry> neighbors_;
  std::array<std::unique_ptr<Compartment>, kMaxCompartments> compartments_;
};

}  // namespace hnv::gateway
