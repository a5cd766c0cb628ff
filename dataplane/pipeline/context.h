// What every stage works with: bursts, per-packet metadata (in the mbuf's
// private area), per-worker counters, the transmit buffers and the event ring
// to the control thread.
//
// Thread contract: a WorkerContext belongs to one worker thread. Counters are
// written only by their worker and read (racily, as monotonic 64-bit values)
// by the control thread.
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <cstdint>

#include "dataplane/packet/parse.h"
#include "dataplane/pipeline/drop.h"
#include "dataplane/pipeline/token_bucket.h"
#include "dataplane/policy/port_acl.h"
#include "dataplane/policy/tables.h"

namespace hnv {

class AclSessions;

inline constexpr uint16_t kBurstSize = 32;
inline constexpr uint32_t kMaxWorkers = 16;

// Per-packet metadata, kept in the mbuf's private area (pools made by
// CreatePacketPool reserve it).
struct PacketMeta {
  ParsedFrame pf;  // of the frame as it is now (the inner frame after decap)
  uint32_t vsid = 0;
  uint32_t vsid_index = 0;
  uint32_t src_vsid_index = 0;  // the sender's VSID, before routing changed it
  uint32_t peer = kNoPeer;
  uint16_t in_port = 0;
  uint16_t out_port = 0;
  // Scratch of the program's own stages (WorkerExtension: hnv-gateway's
  // GwMeta); the dataplane's stages never read or write it.
  alignas(8) uint8_t ext[16];
};

inline PacketMeta* Meta(rte_mbuf* m) { return static_cast<PacketMeta*>(rte_mbuf_to_priv(m)); }
inline uint8_t* Data(rte_mbuf* m) { return rte_pktmbuf_mtod(m, uint8_t*); }

// A packet pool whose mbufs carry PacketMeta. Returns nullptr on failure.
rte_mempool* CreatePacketPool(const char* name, uint32_t mbufs, int socket);

// A stage's input: a fixed array, never an allocation.
template <uint16_t N>
struct BurstOf {
  rte_mbuf* pkts[N];
  uint16_t n = 0;
  bool full() const { return n == N; }
};
using Burst = BurstOf<kBurstSize * 4>;

struct alignas(64) WorkerCounters {
  uint64_t drops[kDropCount] = {};
  uint64_t rx_packets[kMaxPorts] = {};
  uint64_t rx_bytes[kMaxPorts] = {};
  uint64_t tx_packets[kMaxPorts] = {};
  uint64_t tx_bytes[kMaxPorts] = {};
  uint64_t acl_meter_packets[kMaxAclMeters] = {};  // by meter slot (port_acl.h)
  uint64_t acl_meter_bytes[kMaxAclMeters] = {};
  uint64_t switched = 0;       // delivered locally on the same VSID
  uint64_t routed = 0;         // through the distributed router
  uint64_t encapsulated = 0;
  uint64_t decapsulated = 0;
  uint64_t flooded = 0;        // copies made for floods
  uint64_t arp_answered = 0;   // ARP replies and neighbour advertisements sent
  uint64_t echo_answered = 0;  // pings to a DFGW or PA answered
  uint64_t l2only_arp = 0;     // ARP/NS unicast to L2Only PAs
  uint64_t mss_clamped = 0;
  uint64_t segmented = 0;      // large segments (guest TSO) split in software (gso.h)
  uint64_t coalesced = 0;      // frames merged into a large segment before a VM (gro.h)
  uint64_t icmp_too_big = 0;
  uint64_t icmp_time_exceeded = 0;  // TTL / hop limit 1 at the distributed router
  uint64_t icmp_rate_limited = 0;   // ICMP errors not sent: over settings.icmp_errors_*
  uint64_t absorbed = 0;       // consumed by design, not forwarded: a flood with no
                               // other local port, an ARP/NS the local VM answers
  uint64_t handoff_out = 0;    // frames handed to another worker (flow affinity)
  uint64_t handoff_in = 0;     // frames taken from other workers
  uint64_t events = 0;         // posted to the control thread
  uint64_t events_lost = 0;    // event ring full
};

// What a worker tells the control thread.
struct Event {
  enum Kind : uint8_t { kNeighbor, kLearn } kind;
  uint16_t port;
  uint32_t vsid;
  IpAddr ip;   // neighbour IP / learned CA
  IpAddr pa;   // learned record's PA
  MacAddr mac;
};

// The control thread's handling of one worker event.
inline void ApplyEvent(PolicyTables& tables, const Event& e) {
  if (e.kind == Event::kNeighbor) tables.LearnNeighbor(e.port, e.ip, e.mac);
  else tables.LearnDynamic(e.vsid, e.ip, e.mac, e.pa);
}

// Where transmitted frames go: DPDK ports in production, a capture in tests.
class TxSink {
 public:
  virtual ~TxSink() = default;
  // Takes ownership of the mbufs; returns how many were sent (the rest are
  // freed by the caller and counted as kTxFull).
  virtual uint16_t Send(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept = 0;
};

struct WorkerContext {
  uint32_t worker_id = 0;
  uint32_t workers = 1;  // how many the dataplane runs (flow_hash.h, OwnerOfFlow)
  const PolicyTables* tables = nullptr;
  const Snapshot* snap = nullptr;  // reloaded once per loop iteration
  rte_mempool* pool = nullptr;     // for copies (floods) and generated frames
  rte_ring* events = nullptr;      // may be null (events are then only counted)
  TxSink* tx = nullptr;
  WorkerCounters* counters = nullptr;

  std::array<BurstOf<kBurstSize>, kMaxPorts> tx_buf{};
  std::array<uint64_t, kMaxPorts / 64> tx_dirty{};  // ports with queued frames
  // Flow affinity: frames for the worker that owns their flow, through its
  // handoff ring (handoff[w], multi-producer; the Dataplane makes one per
  // worker and gives what a worker takes from its own to the extension:
  // WorkerExtension::ReceiveHandoff). Null when there is one worker.
  rte_ring* const* handoff = nullptr;
  std::array<BurstOf<kBurstSize>, kMaxWorkers> handoff_buf{};
  uint32_t handoff_dirty = 0;  // bit w: handoff_buf[w] holds frames
  TokenBucket icmp_errors;  // the ICMP errors this worker may still send (SendIcmpError)
  // The stateful port ACLs' sessions of the ports this worker receives
  // (pipeline/port_acl.h); null: stateful rules open none (kAclSessionsFull).
  AclSessions* acl_sessions = nullptr;

  // Frees a frame the pipeline was meant to consume (not a drop).
  void Absorb(rte_mbuf* m) noexcept {
    ++counters->absorbed;
    rte_pktmbuf_free(m);
  }
  void Discard(rte_mbuf* m, Drop why) noexcept {
    ++counters->drops[static_cast<uint16_t>(why)];
    rte_pktmbuf_free(m);
  }
  void Post(const Event& e) noexcept {
    if (events != nullptr && rte_ring_mp_enqueue_elem(events, const_cast<Event*>(&e), sizeof(Event)) == 0)
      ++counters->events;
    else
      ++counters->events_lost;
  }
  // Queues a frame for `port`, flushing that port's buffer when it is full.
  // A port's dirty bit is set exactly while its buffer holds frames
  // (FlushPort clears both), so only the first frame queued sets it.
  void Transmit(uint16_t port, rte_mbuf* m) noexcept {
    if (port >= kMaxPorts) return Discard(m, Drop::kUnknownPort);
    auto& b = tx_buf[port];
    const uint16_t n = b.n;
    if (n == 0) tx_dirty[port / 64] |= uint64_t{1} << (port % 64);
    b.pkts[n] = m;
    b.n = static_cast<uint16_t>(n + 1);
    if (n + 1 == kBurstSize) FlushPort(port);
  }
  void FlushPort(uint16_t port) noexcept;
  // FlushPort's part for a port with ACLs: drops what they refuse, or hands
  // the frames to the worker that owns the port's sessions.
  void FilterDelivery(uint16_t port, const PortAclTable& t) noexcept;
  // Queues a frame for worker `w` (this one included: then it is taken up
  // at the next loop iteration), flushing when the buffer is full.
  void HandOff(uint32_t w, rte_mbuf* m) noexcept {
    auto& b = handoff_buf[w];
    handoff_dirty |= 1u << w;
    b.pkts[b.n++] = m;
    if (b.full()) FlushHandoff(w);
  }
  void FlushHandoff(uint32_t w) noexcept;
  // Flushes every port with queued frames, until none is left (a flush to a
  // virtual port may queue frames for others).
  void FlushTx() noexcept {
    for (bool again = true; again;) {
      again = false;
      for (uint16_t w = 0; w < tx_dirty.size(); ++w) {
        while (tx_dirty[w] != 0) {
          const auto bit = static_cast<uint16_t>(__builtin_ctzll(tx_dirty[w]));
          FlushPort(static_cast<uint16_t>(w * 64 + bit));
          again = true;
        }
      }
    }
    while (handoff_dirty != 0) FlushHandoff(static_cast<uint32_t>(__builtin_ctz(handoff_dirty)));
  }
};

}  // namespace hnv
