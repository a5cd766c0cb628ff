// Pipeline: the HNV graph of stages (stage.h), wired once in the
// constructor and run to completion on one received burst.
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
// Each edge is a fixed-size burst owned by the Pipeline (one per worker);
// each stage's Outputs name the bursts its edges feed, in Edge order.
// Thread: one Pipeline per worker; Run* are worker-only, noexcept, and do
// no allocation, lock or syscall (transmit goes through the TxSink).
#pragma once

#include "dataplane/pipeline/arp_nd.h"
#include "dataplane/pipeline/context.h"
#include "dataplane/pipeline/nvgre_decap.h"
#include "dataplane/pipeline/provider_ingress.h"
#include "dataplane/pipeline/router.h"
#include "dataplane/pipeline/stage.h"
#include "dataplane/pipeline/vm_ingress.h"

namespace hnv {

class Pipeline final {
 public:
  Pipeline() noexcept;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Processes one burst received on `port`; transmits go to ctx.tx_buf.
  // The caller flushes (ctx.FlushTx()) once per loop iteration.
  void ProcessRx(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept;

 private:
  // The stages' inputs (the graph's edges) ...
  Burst to_switch_, to_arp_nd_, to_router_, to_encap_, to_decap_, to_deliver_;
  // ... and the graph: which burst each stage's edges feed.
  const Outputs<VmIngress::Edge> vm_ingress_;
  const Outputs<L2Switch::Edge> l2_switch_;
  const Outputs<ArpNdResponder::Edge> arp_nd_;
  const Outputs<Router::Edge> router_;
  const Outputs<ProviderIngress::Edge> provider_ingress_;
  const Outputs<NvgreDecap::Edge> nvgre_decap_;
};

}  // namespace hnv
