// hnv-gateway: the HNV multi-tenant gateway.
//
//   hnv-gateway --config /etc/hnv/gateway.yaml [--socket PATH] [--state-dir DIR]
//               [--namespace-prefix PFX] [--max-records N] [--max-routes N]
//               [-- <EAL arguments>]
//
// EAL arguments default to "-l 0,1 --in-memory" (hugepages). The first EAL
// lcore is the control thread, every other one a worker. SIGHUP reloads the
// configuration (as `hnvctl apply`); SIGTERM/SIGINT stop cleanly and leave
// the compartments' namespaces for the next start to adopt. The shell around the daemon (options, EAL,
// signals, control socket) is daemon/shell.h.
#include <memory>

#include "daemon/shell.h"
#include "gateway/gateway.h"
#include "s2s/process.h"
#include "s2s/compartment/vpn_services.h"
#include "gateway/nat/nat_service.h"

int main(int argc, char** argv) {
  // Before EAL pins this thread: charon and FRR get the CPUs we started with.
  hnv::s2s::KeepLaunchCpus();
  hnv::gateway::Options opt;
  hnv::daemon::ProgramInfo info{"hnv-gateway",
                                "0.1",
                                "/run/hnv/gateway.sock",
                                "reload refused or incomplete",
                                {{"--state-dir", "DIR", &opt.state_dir},
                                 {"--namespace-prefix", "PFX", &opt.namespace_prefix}}};
  return hnv::daemon::Main(argc, argv, std::move(info), [&](hnv::daemon::Shell& shell) {
    auto gateway = std::make_unique<hnv::gateway::Gateway>(shell, opt);
    // strongSwan and FRR for the tenants with site_to_site, point_to_site or bgp.
    for (hnv::gateway::ServiceFactory& f : hnv::s2s::VpnServices()) gateway->AddService(std::move(f));
    gateway->AddService(hnv::gateway::NatServiceFactory());  // NAT and load balancers
    return gateway;
  });
}
