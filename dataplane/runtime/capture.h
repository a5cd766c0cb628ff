// Captures for `hnvctl capture`: frames copied on the workers into a pcap
// file written by the control thread.
//
// Theory of operation. A CaptureBuffer is the shared part: Copy (on any
// worker, never blocking) copies each frame (up to `snaplen`) into an mbuf of
// the capture's own pool, stamps it and enqueues it on a ring; a full ring or
// an empty pool counts as lost. Drain (control thread) writes what the ring
// holds to the file. What feeds it is the capture's own business:
//  - PortCapture: one ethdev port's traffic, received and transmitted, through
//    DPDK RX/TX callbacks on its queues (on a VM port the CA side, on the
//    uplink the PA side, NVGRE as on the wire); optionally only the frames of
//    one 802.1Q VLAN (a gateway compartment's external interface on a shared
//    port). Without a capture there is no callback, so the forwarding path
//    pays nothing. Stop removes the callbacks and waits until no worker can
//    be inside one (Dataplane::SynchronizeWorkers) before the state goes.
//  - a program's own hook (hnv-gateway's compartment interfaces into the VM
//    network: gateway/gateway_capture.h) calls Copy the same way.
// Both are a FrameCapture, which is what the daemons' capture operations
// hold (daemon/captures.h) and drain from their control loop, so a capture
// never holds the loop.
//
// Thread: Start/Drain/Stop on the control thread; Copy on workers.
#pragma once

#include <rte_ethdev.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "dataplane/runtime/dataplane.h"

namespace hnv {

// A running capture, as the control loop sees it.
class FrameCapture {
 public:
  virtual ~FrameCapture() = default;
  // Writes what the workers captured so far; returns the frames written.
  virtual uint64_t Drain() = 0;
  // Stops feeding it, drains the rest and closes the file.
  virtual void Stop() = 0;
  virtual uint64_t written() const = 0;
  virtual uint64_t lost() const = 0;
};

class CaptureBuffer {
 public:
  CaptureBuffer() = default;
  CaptureBuffer(const CaptureBuffer&) = delete;
  CaptureBuffer& operator=(const CaptureBuffer&) = delete;
  ~CaptureBuffer() { Close(); }

  bool Open(const std::string& pcap_path, uint32_t snaplen, std::string* error);
  // Worker side: copies the frames (VLAN: only those of that VLAN; 0 = all).
  void Copy(rte_mbuf* const* pkts, uint16_t n, uint16_t vlan = 0) noexcept;
  uint64_t Drain();
  // Frees what is left and closes the file (after the feeders stopped).
  void Close();

  uint64_t written() const { return written_; }
  uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

 private:
  uint32_t snaplen_ = 0;
  rte_mempool* pool_ = nullptr;
  rte_ring* ring_ = nullptr;
  FILE* file_ = nullptr;
  std::atomic<uint64_t> lost_{0};
  uint64_t written_ = 0;
};

class PortCapture final : public FrameCapture {
 public:
  PortCapture() = default;
  ~PortCapture() override;

  // `vlan` != 0: only frames tagged with that VLAN (or received with it stripped).
  bool Start(Dataplane& dp, uint16_t index, const std::string& pcap_path, uint32_t snaplen,
             std::string* error, uint16_t vlan = 0);
  uint64_t Drain() override { return buf_.Drain(); }
  void Stop() override;
  uint64_t written() const override { return buf_.written(); }
  uint64_t lost() const override { return buf_.lost(); }

 private:
  static uint16_t OnRx(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n, uint16_t max,
                       void* self);
  static uint16_t OnTx(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n, void* self);

  CaptureBuffer buf_;
  Dataplane* dp_ = nullptr;
  uint16_t eth_ = 0;
  uint16_t vlan_ = 0;
  const rte_eth_rxtx_callback* rx_cb_ = nullptr;
  std::vector<const rte_eth_rxtx_callback*> tx_cbs_;
};

}  // namespace hnv
