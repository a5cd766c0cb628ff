#include "dataplane/pipeline/pipeline.h"

#include "dataplane/pipeline/nvgre_encap.h"

namespace hnv {

Pipeline::Pipeline() noexcept
    : vm_ingress_(to_switch_),
      l2_switch_(to_arp_nd_, to_router_, to_encap_),
      arp_nd_(to_encap_),
      router_(to_encap_),
      provider_ingress_(to_decap_),
      nvgre_decap_(to_deliver_) {}

void Pipeline::ProcessRx(WorkerContext& ctx, uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept {
  const PortKind kind = port < kMaxPorts ? ctx.snap->ports[port].kind : PortKind::kUnused;
  switch (kind) {
    case PortKind::kVm:
      VmIngress::Process(ctx, port, pkts, n, vm_ingress_);
      L2Switch::Process(ctx, to_switch_, l2_switch_);
      to_switch_.n = 0;
      ArpNdResponder::Process(ctx, to_arp_nd_, arp_nd_);
      Router::Process(ctx, to_router_, router_);
      NvgreEncap::Process(ctx, to_encap_);
      break;
    case PortKind::kUplink:
      ProviderIngress::Process(ctx, port, pkts, n, provider_ingress_);
      NvgreDecap::Process(ctx, to_decap_, nvgre_decap_);
      Deliver::Process(ctx, to_deliver_);
      break;
    case PortKind::kUnused:
      for (uint16_t i = 0; i < n; ++i) ctx.Discard(pkts[i], Drop::kUnknownPort);
      break;
  }
}

}  // namespace hnv
