// Pipeline: the graph of stages, assembled explicitly, run to completion on
// one received burst.
//
//   VM port  -> vm-ingress -> l2-switch -+-> local VM port        (flow 1)
//                                        +-> arp-nd -+-> VM port (answer)
//                                        |           +-> nvgre-encap (L2Only ARP)
//                                        +-> router -+-> local VM port  (flow 2)
//                                        |           +-> nvgre-encap    (flows 5, 6)
//                                        +-> nvgre-encap -> uplink      (flow 3)
//   uplink   -> provider-ingress -+-> uplink (ARP/ND/echo answers for PAs)
//                                 +-> nvgre-decap -> deliver -> VM port(s)
//
// Each edge is a fixed-size burst owned by the Pipeline (one per worker).
// Thread: one Pipeline per worker; Run* are worker-only, noexcept, and do
// no allocation, lock or syscall (transmit goes through the TxSink).
#pragma once

#include "dataplane/pipeline/context.h"

namespace hnv {

class Pipeline final {
 public:
  // Processes one burst received on `port`; transmits go to ctx.tx_buf.
  // The caller flushes (ctx.FlushTx()) once per loop iteration.
  void ProcessRx(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept;

 private:
  Burst to_switch_, to_arp_nd_, to_router_, to_encap_, to_decap_, to_deliver_;
};

}  // namespace hnv
