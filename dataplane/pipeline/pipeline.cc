#include "dataplane/pipeline/pipeline.h"

#include "dataplane/pipeline/arp_nd.h"
#include "dataplane/pipeline/nvgre_decap.h"
#include "dataplane/pipeline/nvgre_encap.h"
#include "dataplane/pipeline/provider_ingress.h"
#include "dataplane/pipeline/router.h"
#include "dataplane/pipeline/vm_ingress.h"

namespace hnv {

void Pipeline::ProcessRx(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept {
  const PortKind kind = port < kMaxPorts ? ctx.snap->ports[port].kind : PortKind::kUnused;
  switch (kind) {
    case PortKind::kVm:
      VmIngress::Process(ctx, port, pkts, n, to_switch_);
      L2Switch::Process(ctx, to_switch_, {to_arp_nd_, to_router_, to_encap_});
      to_switch_.n = 0;
      ArpNdResponder::Process(ctx, to_arp_nd_, to_encap_);
      Router::Process(ctx, to_router_, to_encap_);
      NvgreEncap::Process(ctx, to_encap_);
      break;
    case PortKind::kUplink:
      ProviderIngress::Process(ctx, port, pkts, n, to_decap_);
      NvgreDecap::Process(ctx, to_decap_, to_deliver_);
      Deliver::Process(ctx, to_deliver_);
      break;
    case PortKind::kUnused:
      for (uint16_t i = 0; i < n; ++i) ctx.Discard(pkts[i], Drop::kUnknownPort);
      break;
  }
}

}  // namespace hnv
