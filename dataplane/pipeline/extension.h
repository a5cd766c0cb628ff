// WorkerExtension: a program's own stages, run by the dataplane's workers
// beside the HNV pipeline. hnv-gateway plugs its compartments in here; the
// dataplane knows nothing of what they do.
//
// Theory of operation. Two kinds of policy port belong to the program, not
// to the HNV pipeline:
//  - its own ethdev ports: attached with Dataplane::AttachPort but given no
//    role by the HNV policy (PortKind::kUnused), e.g. the gateway's external
//    ports. Their bursts go to Receive instead of the pipeline.
//  - virtual ports: a port index the policy uses (a VM adapter, PortKind::kVm)
//    but that has no ethdev, e.g. a compartment's interface into the VM
//    network. What the pipeline transmits to one goes to DeliverVirtual.
// Poll runs once per worker loop iteration, after every port was received
// and before the final flush: the place to drain the program's own rings.
// ReceiveHandoff gets, at the top of a loop iteration, the frames other
// workers (or this one, earlier) handed to this worker with ctx.HandOff:
// flow affinity, both directions of a connection on one worker (the frames
// carry what the program needs in PacketMeta::ext).
//
// Thread contract: all four run on worker lcores, are noexcept, and must not
// allocate, lock or make a system call. Receive and Poll run at the top of
// the worker loop and may feed frames into pipeline.ProcessRx (as if received
// on a port, e.g. a virtual one). ReceiveHandoff like Receive. DeliverVirtual runs inside a flush, possibly
// in the middle of a pipeline stage: it must not call pipeline.ProcessRx, and
// may only ctx.Transmit to ports that are not virtual. Each takes ownership
// of the mbufs it is given.
#pragma once

#include <cstdint>

#include "dataplane/pipeline/context.h"
#include "dataplane/pipeline/pipeline.h"

namespace hnv {

class WorkerExtension {
 public:
  virtual ~WorkerExtension() = default;
  virtual void Receive(WorkerContext& ctx, Pipeline& pipeline, uint16_t port, rte_mbuf** pkts,
                       uint16_t n) noexcept = 0;
  virtual void DeliverVirtual(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts,
                              uint16_t n) noexcept = 0;
  virtual void Poll(WorkerContext& ctx, Pipeline& pipeline) noexcept = 0;
  virtual void ReceiveHandoff(WorkerContext& ctx, Pipeline& pipeline, rte_mbuf** pkts,
                              uint16_t n) noexcept = 0;
};

}  // namespace hnv
