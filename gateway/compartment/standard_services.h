// The services every compartment has, in this order (service.h):
//
//  NamespaceService "namespace": opens the named namespace (NetNamespace,
//    /run/netns/<spec.netns>), creating it when it does not exist (a restart
//    after kill -9 reuses it) -> ctx.netns(). Stop removes it on kRemove,
//    and on kStartFailed when this Start created it. A changed netns name
//    needs a re-create.
//  TapService "taps": one TAP per compartment interface inside the namespace
//    (0 = spec.vm_interface into the VM network, 1.. the external ones), the
//    layout registered with GatewayTables (SetCompartment), the fast path's
//    counters of the compartment reset, each TAP's fd given to the punt
//    thread (TapIdOf(id, interface)) -> ctx.taps(). Stop: the compartment
//    leaves GatewayTables (its FIB and neighbours with it, freed after a
//    grace period), then the punt thread lets go of the fds, then the TAPs
//    close (the kernel deletes them with their addresses and routes). Any
//    change of id, interfaces, MACs, ports, VLANs, MTUs, max_routes, VSID or
//    RDID needs a re-create ("interfaces changed").
//  MirrorService "mirror": mirror_service.h.
//  ConfigService "config": the tenant file's interface addresses and static
//    routes (protocol kRouteProtocolHnv) installed through its own
//    NetlinkConfig; Update applies the difference (old routes first, then
//    addresses, then the new routes). Stop leaves them: they go with the
//    TAPs, or stay in a namespace kept for the next start (which installs
//    them again).
#pragma once

#include <memory>
#include <vector>

#include "gateway/compartment/service.h"
#include "gateway/kernel/netlink.h"

namespace hnv::gateway {

// The factories of the four, in order; the daemon appends its own after them.
std::vector<ServiceFactory> StandardServices();

class NamespaceService final : public CompartmentService {
 public:
  const char* name() const override { return "namespace"; }
  bool Start(ServiceContext& ctx, std::string* error) override;
  std::string NeedsRecreate(const ServiceContext& ctx, const CompartmentSpec& next) const override;
  ServiceStatus Status(const ServiceContext& ctx) const override;
  void Stop(ServiceContext& ctx, StopReason why) override;

 private:
  std::unique_ptr<NetNamespace> ns_;
  bool created_ = false;
};

class TapService final : public CompartmentService {
 public:
  const char* name() const override { return "taps"; }
  bool Start(ServiceContext& ctx, std::string* error) override;
  std::string NeedsRecreate(const ServiceContext& ctx, const CompartmentSpec& next) const override;
  ServiceStatus Status(const ServiceContext& ctx) const override;
  void Stop(ServiceContext& ctx, StopReason why) override;

 private:
  uint32_t id_ = 0;
  std::vector<std::unique_ptr<Tap>> taps_;  // index = interface
  bool registered_ = false;
  size_t punt_taps_ = 0;  // TAPs given to the punt thread (the first n)
};

class ConfigService final : public CompartmentService {
 public:
  const char* name() const override { return "config"; }
  bool Start(ServiceContext& ctx, std::string* error) override;
  bool Update(ServiceContext& ctx, const CompartmentSpec& next, std::string* error) override;
  ServiceStatus Status(const ServiceContext& ctx) const override;
  void Stop(ServiceContext& ctx, StopReason why) override;

 private:
  // Installs `s`'s addresses and routes; with `old`, removes what only it had.
  bool Install(const ServiceContext& ctx, const CompartmentSpec& s, const CompartmentSpec* old,
               std::string* error);
  std::unique_ptr<NetlinkConfig> nl_;
};

}  // namespace hnv::gateway
