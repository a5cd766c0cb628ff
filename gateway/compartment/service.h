// Compartment services: the parts a compartment is made of, and the
// interface through which more (strongSwan, FRR, NAT health checks) plug in.
//
// Theory of operation. A Compartment (compartment.h) is an ordered list of
// services. The daemon holds an ordered list of ServiceFactory; for each
// tenant, each factory looks at the tenant's spec and returns its service, or
// nullptr when this tenant needs none (a tenant without a VPN gets no
// "charon"). The standard services come first (standard_services.h):
//   namespace  the named netns, created or reopened       -> ctx.netns()
//   taps       one TAP per compartment interface; the layout registered in
//              GatewayTables; the TAP fds in the punt thread -> ctx.taps()
//   mirror     the NetlinkMirror and its translation into the fast path's
//              FIB and neighbours (routing rules included, mirror_service.h)
//   config     the tenant file's addresses and static routes, through netlink
// then the daemon's own, in the order it added them (Gateway::AddService).
//
// Lifecycle, all on the control thread:
//  - Start, in order. A service whose Start fails returns false with *error
//    and has released whatever it took itself; the compartment then stops
//    the services already started, in reverse, with kStartFailed, so a
//    failed start leaves nothing behind (not even a namespace it created).
//  - Update(next), when the tenant's file changed. First every service is
//    asked NeedsRecreate(next): a non-empty answer ("interfaces changed")
//    means the change cannot be applied in place, and the daemon destroys the
//    compartment and creates it again. Otherwise the running services the
//    new spec still wants get Update(next), in order (ctx.spec() is still
//    the old spec); the first that fails ends the update and the old spec
//    stays in force. Then the spec becomes `next`, services it no longer
//    wants (their factory returns nullptr) Stop with kRemove, in reverse,
//    and newly wanted ones Start, in order (one that fails to start is
//    reported and left out until the next change of the tenant's file).
//  - Poll, from the daemon's loop: whenever one of the service's PollFds()
//    is readable (POLLIN, POLLERR or POLLHUP), and at least every
//    kServiceTickMs otherwise (timers, child processes, health checks: a
//    service keeps its own clock and does nothing when nothing is due).
//    Poll must not block. Returning false (with *error) marks the service
//    "failed" in the status and logs it once; the compartment, its other
//    services and every other tenant carry on, and the next successful Poll
//    makes it "running" again (logged too). A service that needs to recover
//    (restart a child daemon with a back-off) does so in Poll.
//  - Stop(reason), in reverse order, when the compartment goes: kRemove
//    (the tenant is gone: also remove what persists, the namespace and the
//    state directory), kDetach (the daemon exits, or the compartment is
//    re-created: the namespace stays for the next start), kStartFailed (a
//    later service failed to start: undo exactly what Start did).
//
// The environment (ServiceContext): the compartment's current spec; the
// daemon's handles (GatewayTables, GatewayFastPath, PuntIo); what earlier
// services provide (the namespace handle, the TAPs); and a state directory of
// its own, <gateway state_dir>/compartments.d/<tenant>/, created (0700) on
// first use and removed with the tenant. A service that supervises a child
// daemon inside the namespace (charon, zebra+bgpd) keeps its configuration,
// sockets, pid files and logs there, and enters the namespace with
// ctx.netns()->Enter(...) or runs `ip netns exec <ctx.netns()->name()>`.
//
// Thread: control thread only. Services must not start long-lived threads
// from inside NetNamespace::Enter (the thread would stay in the namespace).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/compartment_spec.h"
#include "gateway/fastpath/gateway_fastpath.h"
#include "gateway/fastpath/gateway_tables.h"
#include "gateway/kernel/netns.h"
#include "gateway/kernel/punt_io.h"
#include "gateway/kernel/tap.h"

namespace hnv::gateway {

// The compartment as configured: the configuration's plain values.
using config::CompartmentSpec;
using config::ExternalSpec;
using config::IfAddress;
using config::StaticRoute;

class CompartmentService;
class ServiceContext;

// Returns the service a tenant with this spec needs, or nullptr for none.
// Called at every Create and Update (the object it returns on Update is
// dropped when the service runs already), so it must be cheap and do
// nothing but construct.
using ServiceFactory = std::function<std::unique_ptr<CompartmentService>(const CompartmentSpec&)>;

// What a compartment plugs into: owned by the daemon, outlives compartments.
struct CompartmentEnv {
  GatewayTables* tables = nullptr;
  GatewayFastPath* fastpath = nullptr;
  PuntIo* punt = nullptr;
  std::string state_dir;                 // the gateway's; "" = none (MakeStateDir fails)
  std::vector<ServiceFactory> services;  // in start order (StandardServices() first)
};

inline constexpr int kServiceTickMs = 100;

// <gateway_state_dir>/compartments.d/<tenant>: a compartment's state directory.
inline std::string CompartmentStateDir(const std::string& gateway_state_dir,
                                       const std::string& tenant) {
  return gateway_state_dir + "/compartments.d/" + tenant;
}

enum class StopReason : uint8_t {
  kStartFailed,  // a later service failed to start: undo what Start did
  kDetach,       // the daemon exits or the compartment is re-created: persistent state stays
  kRemove,       // the tenant (or this service) is gone: remove persistent state too
};

// One service's line in `hnvctl compartment` (summary) and its --json detail.
struct ServiceStatus {
  std::string summary;
  nlohmann::json detail = nlohmann::json::object();
};

// Labels the daemon knows and services do not (for status output).
struct StatusLabels {
  std::string vm_port;             // "vm:64"
  std::vector<std::string> ports;  // policy port index -> name
};

class ServiceContext {
 public:
  ServiceContext(const CompartmentSpec* spec, const CompartmentEnv* env) : spec_(spec), env_(env) {}

  const CompartmentSpec& spec() const { return *spec_; }
  GatewayTables& tables() const { return *env_->tables; }
  GatewayFastPath& fastpath() const { return *env_->fastpath; }
  PuntIo& punt() const { return *env_->punt; }

  // Provided by the "namespace" service (nullptr before it started).
  NetNamespace* netns() const { return netns_; }
  // Provided by the "taps" service: index = compartment interface (0 into
  // the VM network, 1.. external); empty before it started.
  const std::vector<const Tap*>& taps() const { return taps_; }
  // The index of the compartment interface whose TAP has `ifindex`, or -1.
  int InterfaceOf(int ifindex) const;

  // <gateway state_dir>/compartments.d/<tenant name> (not necessarily made yet).
  std::string state_dir() const;
  // Creates state_dir() (0700) if needed; the compartment removes it with
  // the tenant (or after a failed start that created it).
  bool MakeStateDir(std::string* error);
  bool made_state_dir() const { return made_state_dir_; }

  // For the services that provide them.
  void set_netns(NetNamespace* ns) { netns_ = ns; }
  void set_taps(std::vector<const Tap*> taps) { taps_ = std::move(taps); }

 private:
  const CompartmentSpec* spec_;
  const CompartmentEnv* env_;
  NetNamespace* netns_ = nullptr;
  std::vector<const Tap*> taps_;
  bool made_state_dir_ = false;
};

class CompartmentService {
 public:
  virtual ~CompartmentService() = default;

  // Short and unique in a compartment: "namespace", "taps", "charon".
  virtual const char* name() const = 0;

  virtual bool Start(ServiceContext& ctx, std::string* error) = 0;
  // Why `next` cannot be applied in place ("" = it can).
  virtual std::string NeedsRecreate(const ServiceContext& /*ctx*/,
                                    const CompartmentSpec& /*next*/) const {
    return {};
  }
  virtual bool Update(ServiceContext& /*ctx*/, const CompartmentSpec& /*next*/,
                      std::string* /*error*/) {
    return true;
  }
  // The fds whose readability means Poll has work (appended to *fds).
  virtual void PollFds(std::vector<int>* /*fds*/) const {}
  virtual bool Poll(ServiceContext& /*ctx*/, std::string* /*error*/) { return true; }
  // Cheap: it runs for every `hnvctl compartment(s)`, on the control thread.
  virtual ServiceStatus Status(const ServiceContext& ctx) const = 0;
  // The full status, on request only (`hnvctl vpn show`): it may ask a child
  // daemon and take a while (the control thread waits). Default: Status's detail.
  virtual nlohmann::json Inspect(const ServiceContext& ctx) const { return Status(ctx).detail; }
  // Fields of the compartment's own status object this service owns (the
  // mirror's "interfaces", "routes", "neighbors", "fast_path").
  virtual void AddCompartmentStatus(const ServiceContext& /*ctx*/, const StatusLabels& /*labels*/,
                                    nlohmann::json* /*compartment*/) const {}
  virtual void Stop(ServiceContext& ctx, StopReason why) = 0;
};

}  // namespace hnv::gateway
