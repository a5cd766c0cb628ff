// PortCapture: a live capture of one port's traffic (received and
// transmitted) into a pcap file, for `hnvctl capture`. On a VM port that is
// the CA side; on the uplink, the PA side (NVGRE as on the wire).
//
// Theory of operation: Start installs DPDK RX/TX callbacks on the port's
// queues; they run on the workers, copy each frame (up to `snaplen`) into
// mbufs of the capture's own pool and enqueue them on a ring, never blocking
// (a full ring or empty pool counts as lost). Without a capture there is no
// callback, so the forwarding path pays nothing. The control thread drains
// the ring into the file. Stop removes the callbacks and waits for an RCU
// grace period before the callback state is freed.
//
// Thread: Start/Drain/Stop on the control thread.
#pragma once

#include <rte_ethdev.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "dataplane/runtime/dataplane.h"

namespace hnv {

class PortCapture {
 public:
  PortCapture() = default;
  PortCapture(const PortCapture&) = delete;
  PortCapture& operator=(const PortCapture&) = delete;
  ~PortCapture();

  bool Start(Dataplane& dp, uint16_t index, const std::string& pcap_path, uint32_t snaplen,
             std::string* error);
  // Writes what the workers captured so far; returns the frames written.
  uint64_t Drain();
  void Stop();

  uint64_t written() const { return written_; }
  uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

 private:
  static uint16_t OnRx(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n, uint16_t max,
                       void* self);
  static uint16_t OnTx(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n, void* self);
  void Copy(rte_mbuf** pkts, uint16_t n) noexcept;

  Dataplane* dp_ = nullptr;
  uint16_t eth_ = 0;
  uint32_t snaplen_ = 0;
  rte_mempool* pool_ = nullptr;
  rte_ring* ring_ = nullptr;
  FILE* file_ = nullptr;
  const rte_eth_rxtx_callback* rx_cb_ = nullptr;
  std::vector<const rte_eth_rxtx_callback*> tx_cbs_;
  std::atomic<uint64_t> lost_{0};
  uint64_t written_ = 0;
};

}  // namespace hnv
