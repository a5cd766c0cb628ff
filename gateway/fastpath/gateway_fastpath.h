// GatewayFastPath: the compartments' forwarding on the dataplane's workers
// (a WorkerExtension, dataplane/pipeline/extension.h): the entry points that
// feed the compartment path (gateway_path.h) and the punt/inject path.
//
// Theory of operation. Five inputs, one per extension entry point:
//  - Receive: bursts from external ethdev ports. A frame is classified by
//    (port, 802.1Q VLAN or 0) to (compartment, interface) through the
//    snapshot (none: drop kNoCompartment, counted per port in the global
//    counters; a truncated or double-tagged header: kUnclassifiable). Runs
//    of consecutive frames of one compartment go through its path from
//    gw-input; what it forwards into the VM network is fed to the HNV
//    pipeline as received on the compartment's vm_port at the end of each
//    run (routing, NVGRE encapsulation and the rest are the pipeline's).
//  - DeliverVirtual: what the HNV pipeline delivers to a compartment's
//    vm_port (decapsulated NVGRE, or routed locally): the compartment path
//    from gw-input on interface 0. It runs inside a flush: frames for the VM
//    network (a hairpin a feature allowed) wait for the next loop iteration.
//  - ReceiveHandoff: frames other workers handed to this one (flow affinity,
//    gw-steer) resume at their compartment's pre-route slot; frames for the
//    VM network deferred by DeliverVirtual are fed to the pipeline. A frame
//    whose compartment went away meanwhile is dropped (kHandoffGone).
//  - Poll (worker 0 only): frames the kernel sent from the TAPs
//    (rings.from_kernel, mbuf->port = TapId). Interface 0: into the pipeline
//    as received on vm_port (consecutive frames of one compartment in one
//    ProcessRx); interface 1..: the interface's VLAN pushed, then
//    ctx.Transmit on its port. Unknown compartment or interface: freed and
//    counted (global kInjectUnknown).
// Punts are enqueued to rings.to_kernel once per call (MP); what does not
// fit is dropped (kPuntRingFull).
//
// Counters: per worker (cache-aligned, written by that worker only, never
// read by another thread while it runs): each worker copies them (OnWorkers,
// through the dataplane's worker commands) where Counters / Global read
// them on the control thread; ResetCounters sets a base
// (called when a compartment is (re)created).
//
// Thread contract: the entry points on workers
// (ctx.worker_id below the `workers` given to the constructor), noexcept, no
// allocation, lock, syscall, exception or std::string. The rest from the
// control thread. The GatewayTables and rings must outlive this object.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "dataplane/pipeline/extension.h"
#include "dataplane/runtime/capture.h"
#include "gateway/fastpath/gateway_path.h"
#include "gateway/fastpath/gateway_tables.h"
#include "gateway/fastpath/reasons.h"
#include "gateway/punt.h"

namespace hnv::gateway {

class GatewayFastPath final : public WorkerExtension {
 public:
  GatewayFastPath(const GatewayTables* tables, PuntRings rings, uint32_t workers);
  ~GatewayFastPath() override;
  GatewayFastPath(const GatewayFastPath&) = delete;
  GatewayFastPath& operator=(const GatewayFastPath&) = delete;

  void Receive(WorkerContext& ctx, Pipeline& pipeline, uint16_t port, rte_mbuf** pkts,
               uint16_t n) noexcept override;
  void DeliverVirtual(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts,
                      uint16_t n) noexcept override;
  void Poll(WorkerContext& ctx, Pipeline& pipeline) noexcept override;
  void ReceiveHandoff(WorkerContext& ctx, Pipeline& pipeline, rte_mbuf** pkts,
                      uint16_t n) noexcept override;

  // ---- control thread ----
  // How to run a function on every worker between two of its loop
  // iterations, returning when all have (the daemon: Dataplane::
  // RunOnWorkers, through the command rings). Unset, the caller is the only
  // thread that runs the workers' code (tests, benchmarks): OnWorkers calls
  // the function for each worker in turn on the calling thread.
  using WorkerRunner = std::function<void(const std::function<void(uint32_t worker)>&)>;
  void SetWorkerRunner(WorkerRunner run) { run_ = std::move(run); }
  // Runs fn(worker) for every worker where that worker's state may be read
  // (copies of counters, a compartment feature's sessions).
  void OnWorkers(const std::function<void(uint32_t worker)>& fn) const;
  uint32_t workers() const { return worker_count_; }
  // `hnvctl trace` only: a GatewayFastPath of its own, run on the control
  // thread, reports each stage's decisions to `t` (path_trace.h).
  void SetTracer(PathTracer* t) {
    for (uint32_t w = 0; w < worker_count_; ++w) workers_[w].path.set_tracer(t);
  }
  // `hnvctl capture TENANT/VM-INTERFACE`: the frames a compartment exchanges
  // with the VM network (those delivered to its vm_port and those it sends
  // from it) are copied to `buf` (one such capture at a time; false if one
  // runs). ClearVmCapture, then Dataplane::SynchronizeWorkers, before `buf`
  // goes (gateway/gateway_capture.h). Off, a burst pays one load and test.
  bool SetVmCapture(uint16_t vm_port, CaptureBuffer* buf);
  void ClearVmCapture() { vm_capture_.store(nullptr, std::memory_order_release); }
  CompartmentCounters Counters(uint32_t id) const;
  void ResetCounters(uint32_t id);
  GlobalCounters Global() const;

 private:
  struct PerWorker {
    GwWorkerState state;      // written by the worker
    GwWorkerState published;  // its copy for the control thread (PublishCounters)
    CompartmentPath path;
    Burst run;  // consecutive frames of one compartment
  };
  PerWorker& Of(const WorkerContext& ctx) noexcept {
    return workers_[ctx.worker_id < worker_count_ ? ctx.worker_id : 0];
  }
  // What the control thread reads of worker `wi` (after Refresh()).
  const GwWorkerState& View(uint32_t wi) const { return workers_[wi].published; }
  void Refresh() const {
    OnWorkers([this](uint32_t w) { workers_[w].published = workers_[w].state; });
  }
  // Runs `run` (frames of one compartment) through its path and hands what
  // it forwards into the VM network to the pipeline.
  void RunCompartment(WorkerContext& ctx, Pipeline* pipeline, PerWorker& pw, GwBatch& b,
                      const CompartmentView& cv, bool from_input) noexcept;
  void FlushPunts(GwBatch& b, GwWorkerState& w) noexcept;
  // Frames a compartment sends into the VM network, received on its vm_port.
  void ToVmNetwork(WorkerContext& ctx, Pipeline& pipeline, uint16_t vm_port, rte_mbuf** pkts,
                   uint16_t n) noexcept {
    Capture(vm_port, pkts, n);
    pipeline.ProcessRx(ctx, vm_port, pkts, n);
  }
  void Capture(uint16_t vm_port, rte_mbuf* const* pkts, uint16_t n) noexcept {
    const VmCapture* c = vm_capture_.load(std::memory_order_acquire);
    if (c != nullptr && c->vm_port == vm_port) [[unlikely]] c->buf->Copy(pkts, n);
  }

  const GatewayTables* tables_;
  PuntRings rings_;
  uint32_t worker_count_;
  std::unique_ptr<PerWorker[]> workers_;
  std::unique_ptr<CompartmentCounters[]> base_;
  WorkerRunner run_;
  struct VmCapture {
    uint16_t vm_port = 0;
    CaptureBuffer* buf = nullptr;
  };
  VmCapture vm_capture_state_;
  std::atomic<const VmCapture*> vm_capture_{nullptr};
};

}  // namespace hnv::gateway
