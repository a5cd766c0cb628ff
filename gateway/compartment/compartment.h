// Compartment: one tenant routing domain's stack inside hnv-gateway, an
// ordered list of services (service.h) sharing one ServiceContext.
//
// Theory of operation. Create builds one service per factory of the
// CompartmentEnv that wants this spec and starts them in order; the standard
// ones (standard_services.h) make the namespace, its TAPs (registered with
// the fast path and the punt thread), the netlink mirror, and install the
// tenant's addresses and static routes. From then on the namespace is the
// source of truth and the mirror service keeps the fast path equal to it.
// What feeds the fast path (mirror_service.h has the details):
//  - the main table: a route through one of our TAPs is forwarded by the
//    fast path, any other route (another device, unreachable, ...) punted to
//    the kernel, a blackhole dropped; the compartment's addresses are local;
//  - routing rules: every table an unconditional rule ("from all lookup T")
//    looks up before main (a lower or equal priority) has its routes'
//    prefixes punted, and so is every more specific main route inside one
//    of them: the kernel, which consults T first, decides those packets (a
//    policy-based IPsec tunnel's table 220 at priority 220, say: the fast
//    path must not send in the clear what the kernel would encrypt);
//  - a rule before main that the fast path cannot represent (a selector:
//    from/to prefix, iif/oif, fwmark, tos, uidrange, ...; a goto, blackhole
//    or unreachable action), or no unconditional rule for main at all,
//    punts the whole compartment: its routes leave the fast path and
//    0.0.0.0/0 is installed as punt, with the reason in the status;
//  - rules after main change nothing: a main-table miss is punted anyway,
//    and the kernel then consults them.
// IPv6 is not in the fast path in this version: IPv6 transit reaches the
// kernel through the punt path and is forwarded there.
//
// Poll (every turn of the daemon's loop) polls the services whose fds are
// readable, and all of them every kServiceTickMs; a failing service is
// reported and logged, never fatal. Status is hnvctl's view: identity, what
// each service adds (interfaces, routes with what the fast path does with
// each, neighbours, the fast path's rule), the counters and a "services"
// array ({"name", "state": "running" | "failed", "summary", "detail",
// "error"}).
//
// Thread: control thread only (Create, Update, Poll, Status, destruction).
#pragma once

#include <poll.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/compartment/service.h"

namespace hnv::gateway {

class Compartment {
 public:
  static std::unique_ptr<Compartment> Create(const CompartmentSpec& spec, const CompartmentEnv& env,
                                             std::string* error);
  // Stops the services in reverse order: kRemove after DeleteNamespace()
  // (the namespace and the state directory go), kDetach otherwise.
  ~Compartment();
  Compartment(const Compartment&) = delete;
  Compartment& operator=(const Compartment&) = delete;

  // Why `next` cannot be applied by Update ("interfaces changed"); "" when
  // it can.
  std::string NeedsRecreate(const CompartmentSpec& next) const;
  // Applies `next` in place (service.h: Update). On failure the old spec
  // stays in force and *error says what went wrong.
  bool Update(const CompartmentSpec& next, std::string* error);
  // The tenant is gone: remove its namespace and state when this object goes.
  void DeleteNamespace() { remove_ = true; }

  // Non-blocking: polls the services that have work.
  void Poll();

  const CompartmentSpec& spec() const { return spec_; }
  nlohmann::json Status(const std::string& vm_port_label,
                        const std::vector<std::string>& port_names) const;

  // The running service called `name`, or nullptr.
  const CompartmentService* service(std::string_view name) const;
  // What the services share (for views a service offers beyond Status).
  const ServiceContext& context() const { return ctx_; }
  // "running", "failed: <error>", or "" when there is no such service.
  std::string service_state(std::string_view name) const;
  // The named service's CompartmentService::Inspect; null when it does not run.
  nlohmann::json Inspect(std::string_view name) const;

 private:
  struct Slot {
    std::unique_ptr<CompartmentService> service;  // null: this tenant does not want it
    bool failed = false;
    std::string error;
  };

  Compartment(const CompartmentSpec& spec, const CompartmentEnv& env)
      : spec_(spec), env_(env), ctx_(&spec_, &env_) {}
  bool StartService(size_t i, std::unique_ptr<CompartmentService> s, std::string* error);
  void StopAll(StopReason why);
  void PollService(Slot& slot);

  CompartmentSpec spec_;
  CompartmentEnv env_;
  ServiceContext ctx_;
  std::vector<Slot> slots_;  // index = factory index
  bool remove_ = false;
  std::vector<pollfd> pollfds_;     // reused by Poll
  std::vector<size_t> pollfd_end_;  // per slot: end of its fds in pollfds_
  std::vector<int> fds_;
  std::chrono::steady_clock::time_point next_tick_{};
};

}  // namespace hnv::gateway
