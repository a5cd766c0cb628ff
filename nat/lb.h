// The load balancer: a VIP (address, protocol, port) on an external
// attachment in front of weighted backends (DIPs) in the VM network.
//
// LbRules (control thread builds, workers read; immutable): per VIP its
// backends, its Maglev table over the healthy ones (maglev.h), what an
// empty pool does, its timeouts; and the reverse map (backend address,
// protocol, port) -> VIP for the answers. A pool change (health, weights,
// configuration) builds new LbRules; a VIP whose table inputs did not
// change keeps its table (shared, not rebuilt).
//
// LbWorker: one worker's connection tracking, and the two directions.
//
// Theory of operation.
// Inbound (before the route decision, from an external interface): a frame
// to a VIP (TCP/UDP) looks up its connection (protocol, client, VIP). A hit
// (not idle past its timeout) goes to the connection's backend, whatever
// the pool is now: an existing connection keeps its DIP across pool changes
// (health, weights, and a backend taken out of the configuration: that one
// stays "retired" in the reverse map while its VIP exists, so its answers
// still leave from the VIP).
// A miss takes the backend of the flow's Maglev entry and tracks it (when
// the table is full, the frame still goes there, counted as untracked).
// The destination is rewritten to the backend (address and port); the
// client's address is preserved (the VM network's default route returns
// through the gateway). An ICMP error about one of the VIP's answers goes
// to the connection's backend with its embedded packet translated. No
// healthy backend: empty_pool kReset answers a TCP segment (not a RST) with
// a RST built in place (Edge::kReply: MACs, addresses and ports swapped,
// RFC 793's sequence rules, the frame shortened to the headers); otherwise
// the frame is dropped (kNoBackend). A frame not to a VIP: kPass.
// Outbound (after the route decision, from the VM network): a frame from a
// backend's (address, protocol, port) gets the VIP's as source: stateless,
// on any worker (config/ makes each backend endpoint belong to one VIP).
// ICMP errors from a backend about a client's packet likewise.
//
// Connections are tracked only from the client side (the answers are
// stateless): TCP is established once the client acknowledged after its
// SYN, transitory before, after its FIN or a RST (tcp_state.h); UDP and the
// others by idle time. Steering: OwnerWorker(kFromOutside), by the client.
//
// Thread: an LbWorker belongs to one worker; no allocation, lock, syscall
// or exception after Init.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/policy/flat_map.h"
#include "dataplane/flow/flow_index.h"
#include "dataplane/flow/hash.h"
#include "nat/maglev.h"
#include "nat/model.h"
#include "nat/packet.h"
#include "nat/reasons.h"
#include "dataplane/flow/record_pool.h"
#include "nat/tcp_state.h"

namespace hnv::nat {

class LbRules {
 public:
  struct Vip {
    Endpoint vip;
    Proto proto = Proto::kTcp;
    EmptyPool empty_pool = EmptyPool::kDrop;
    TimeoutsMs timeouts;
    std::vector<Endpoint> backends;                      // every configured backend
    std::shared_ptr<const std::vector<uint16_t>> table;  // Maglev, over the healthy ones
    uint32_t m = 0;
    std::vector<MaglevBackend> inputs;  // what the table was built from
    bool has_backend = false;           // some entry names a backend
    // Backends a configuration change removed while the VIP stayed: still
    // answered from the VIP (their connections go on), never chosen again.
    std::vector<Endpoint> retired;
  };

  // `healthy[i][j]`: backend j of load balancer i may take new connections
  // (missing entries count as healthy). `previous` (may be null) lends its
  // tables to VIPs whose inputs are unchanged.
  static std::unique_ptr<LbRules> Build(const std::vector<LoadBalancerSpec>& lbs,
                                        const std::vector<std::vector<bool>>& healthy,
                                        const LbRules* previous, std::string* error);

  const Vip* Find(Proto p, Endpoint dst) const noexcept {
    const uint32_t i = by_vip_.Find(Key(p, dst));
    return i == FlatU64Map::kMissing ? nullptr : &vips_[i];
  }
  // The VIP end of a backend end.
  bool Reverse(Proto p, Endpoint backend, Endpoint* vip) const noexcept {
    const uint32_t i = by_backend_.Find(Key(p, backend));
    if (i == FlatU64Map::kMissing) return false;
    *vip = vips_[i].vip;
    return true;
  }
  const std::vector<Vip>& vips() const { return vips_; }
  // Entries of the table per backend (for hnvctl's "share of the table").
  std::vector<uint32_t> Shares(size_t vip) const;
  // How many VIPs reused a table of `previous`.
  uint32_t reused() const { return reused_; }

 private:
  void Retire(const LbRules& previous, std::vector<std::pair<uint64_t, uint32_t>>* by_backend);
  static uint64_t Key(Proto p, Endpoint e) {
    return static_cast<uint64_t>(e.addr) << 24 | static_cast<uint64_t>(p) << 16 | e.port;
  }
  std::vector<Vip> vips_;
  FlatU64Map by_vip_, by_backend_;
  uint32_t reused_ = 0;
};

struct alignas(64) LbCounters {
  uint64_t in_translated = 0;   // client -> backend
  uint64_t out_translated = 0;  // backend -> client (reverse)
  uint64_t icmp_errors = 0;
  uint64_t conns_created = 0;
  uint64_t conns_expired = 0;
  uint64_t untracked = 0;  // forwarded by Maglev with the connection table full
  uint64_t resets = 0;     // RSTs answered for an empty pool
  uint64_t drop[kDropCount] = {};
  uint64_t Dropped(Drop d) const { return drop[static_cast<size_t>(d)]; }
};

// A tracked connection: client -> VIP, and the backend it was given.
struct Conn {
  uint32_t client_addr;
  uint32_t vip_addr;
  uint16_t client_port;
  uint16_t vip_port;
  uint32_t dip_addr;
  uint16_t dip_port;
  uint8_t proto1;  // Proto + 1; 0 = free
  uint8_t tcp;     // LbTcpTrack state
  uint32_t expires;
  uint32_t next;
  uint32_t pad;
};
static_assert(sizeof(Conn) == 32);

class LbWorker {
 public:
  static constexpr uint32_t kExpireBudget = 32;

  // Room for `connections` tracked connections (this worker's share).
  bool Init(uint32_t connections, uint64_t seed, std::string* error);

  void Inbound(const LbRules& r, Frame* frames, uint16_t n, uint64_t now_ms,
               Verdict* out) noexcept;
  void Outbound(const LbRules& r, Frame* frames, uint16_t n, Verdict* out) noexcept;
  void Tick(uint64_t now_ms) noexcept;

  // The backend a tracked connection has, if any (for tests and views).
  bool Tracked(Proto p, Endpoint client, Endpoint vip, Endpoint* dip) const noexcept;
  uint32_t connections() const { return conns_.live(); }
  size_t bytes() const { return conns_.bytes() + index_.bytes(); }
  const LbCounters& counters() const { return c_; }

 private:
  uint64_t Hash(Proto p, Endpoint client, Endpoint vip) const noexcept;
  uint32_t Find(const FlowIndex::Spot& w, Proto p, Endpoint client, Endpoint vip) const noexcept;
  void Remove(uint32_t i) noexcept;
  // `w`: where the burst located the connection, or null (not a VIP frame).
  Verdict InOne(const LbRules& r, Frame& f, PacketView& v, Drop view, const FlowIndex::Spot* w,
                uint32_t now) noexcept;
  Verdict InError(const LbRules& r, PacketView& v, uint32_t now) noexcept;
  Verdict Dropped(Drop d) noexcept {
    ++c_.drop[static_cast<size_t>(d)];
    return Verdict{Edge::kDrop, d};
  }

  RecordPool<Conn> conns_;
  FlowIndex index_;
  HashSeed seed_;
  LbCounters c_;
};

// Rewrites a TCP segment (v, in frame f) into the RST that answers it
// (RFC 793 "Reset Generation"), in place; f.len becomes the RST's length.
void BuildTcpReset(Frame& f, const PacketView& v) noexcept;

// The hash that picks a flow's Maglev entry (fixed: every worker and every
// restart agree).
uint64_t FlowHash(Proto p, Endpoint client, Endpoint vip) noexcept;

}  // namespace hnv::nat
