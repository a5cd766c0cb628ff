// Benchmark traffic: template frames for each flow, and the refill that
// turns them into a burst of fresh mbufs with a different destination (or,
// for decapsulation, source) record per packet.
//
// The record of each packet comes from a precomputed sequence drawn
// uniformly at random (fixed seed) from all remote records, so consecutive
// packets hit unrelated hash buckets, as many flows to many VMs do. Patching
// a packet writes the record's MAC / CA / PA into the copied template and
// fixes the IPv4 header checksums incrementally; UDP checksums are zero
// ("none", valid for IPv4).
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace hnv::bench {

enum class Flow : uint8_t {
  kEncap,       // BenchA (VSID 6100) -> a remote record's MAC: l2-switch, nvgre-encap (flow 3)
  kDecap,       // NVGRE from a remote record's PA -> BenchA: decap, source check, deliver
  kRouteLocal,  // BenchA -> DFGW -> a local VM on VSID 6101: router, local delivery (flow 2)
  kRouteEncap,  // BenchB0 (VSID 6101) -> DFGW -> a remote record on 6100: router, encap (flow 5)
};
const char* FlowName(Flow f);

class Traffic {
 public:
  static constexpr uint32_t kSequenceLength = 1u << 20;

  // `frame_len` is the (inner) Ethernet frame without FCS, >= 64.
  Traffic(Flow flow, uint32_t frame_len, uint32_t remote_records);

  Flow flow() const { return flow_; }
  uint16_t rx_port() const;
  uint32_t frame_len() const { return frame_len_; }
  // Bytes the pipeline receives per packet (the outer frame for decap).
  uint32_t wire_len() const { return static_cast<uint32_t>(tmpl_.size()); }
  // Record indices (or local VM indices for kRouteLocal) in packet order.
  const std::vector<uint32_t>& sequence() const { return seq_; }

  // Allocates n mbufs from `pool` and fills them; false when the pool is
  // empty. For kDecap, `moves` (if given) counts the record moves a
  // concurrent writer has completed, moving records 0, 1, 2, ... in turn,
  // each to the next PA (MovedPaIndex); packets then come from each record's
  // current PA, as they would from a migrated VM.
  bool Refill(rte_mempool* pool, rte_mbuf** pkts, uint16_t n,
              const std::atomic<uint64_t>* moves = nullptr) noexcept;

 private:
  Flow flow_;
  uint32_t frame_len_;
  uint32_t remote_;
  std::vector<uint8_t> tmpl_;
  std::vector<uint32_t> seq_;
  uint32_t pos_ = 0;
  // Ones'-complement partial sums of the IPv4 headers with the patched
  // fields (address, checksum) zeroed: outer/only, inner.
  uint32_t sum_[2] = {0, 0};
};

}  // namespace hnv::bench
