// Gateway: the hnv-gateway daemon — the HNV dataplane on the gateway's
// uplink(s) and external ports, one Compartment per tenant, the punt thread
// between the workers and the compartments' TAPs, and the control socket.
//
// Theory of operation. The configuration (config/gateway_config.h) is the
// gateway file plus one file per tenant; it yields the HNV policy (the
// tenants' routing domains and records, with each compartment's interface
// into the VM network as a virtual VM port) and the compartment specs. At
// start and on every reload (SIGHUP, `hnvctl apply`) it is loaded and
// validated as a whole first; if anything is wrong nothing changes and every
// error names file, line and field. A valid configuration is applied as a
// diff: compartments of removed tenants go first (namespace, TAPs, fast path
// entries, counters), then the HNV policy diff, then new compartments are
// created and changed ones updated in place (or re-created when their
// interfaces changed). A tenant that did not change is not touched.
//
// Compartment ids (and so their virtual VM ports) are stable: they are kept
// in <state_dir>/compartments with the namespaces this daemon made, which is
// also how a restart after a crash finds namespaces of tenants removed while
// it was down. Neither a clean stop (SIGTERM) nor a crash removes a
// compartment: its namespace and TAPs (persistent devices, gateway/kernel/
// tap.h), with the kernel state and processes in them, stay, and the next
// start adopts them; only removing the tenant deletes them.
//
// `hnvctl trace` runs a frame through a GatewayFastPath of the trace's own
// (one worker, the control thread, its own punt ring, the live tables) with
// a RecordingTracer (fastpath/path_trace.h), inside the HNV pipeline's trace
// (dataplane/runtime/trace.h). `hnvctl capture` takes a port, or a
// compartment interface: an external one is its port's frames of its VLAN,
// the VM network's one a VmInterfaceCapture (gateway_capture.h); captures
// run beside the control loop (daemon/captures.h).
//
// With --store URL --host NAME the configuration is the central store's
// instead (daemon/store_binding.h): the gateway's document (ports, PA,
// namespace prefix, state directory) and every tenant whose gateway it is,
// with the compartment ids the store gave; each new policy from the store is
// applied as the same diff as a reload.
//
// The shell around it (options, EAL, signals, the control loop and socket)
// is daemon/shell.h; its control operations are registered as typed
// handlers (daemon/operations.h).
//
// Thread: everything here runs on the control thread (the shell's loop);
// workers are the Dataplane's lcores; the punt thread is PuntIo's.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/gateway_config.h"
#include "daemon/captures.h"
#include "daemon/shell.h"
#include "daemon/store_binding.h"
#include "dataplane/runtime/dataplane.h"
#include "gateway/compartment/compartment.h"

namespace hnv::gateway {

// hnv-gateway's own options (the common ones are daemon::CommonOptions).
struct Options {
  std::string state_dir;         // overrides gateway.state_dir
  std::string namespace_prefix;  // overrides gateway.namespace_prefix
};

// compartments {} | {"name": N}
struct CompartmentsArgs {
  std::optional<std::string> name;  // absent: every compartment
  static bool Parse(daemon::ArgReader& r, CompartmentsArgs* out);
};

// vpn {"name": TENANT}
struct VpnArgs {
  std::string name;
  static bool Parse(daemon::ArgReader& r, VpnArgs* out);
};

// nat {"name": N, "address"?: A, "port"?: P, "limit"?: L} | lb {"name": N}
struct NatArgs {
  std::string name;
  std::string address;  // only sessions with this address (inside, outside or remote)
  uint32_t port = 0;    // and this port
  uint32_t limit = 1000;
  static bool Parse(daemon::ArgReader& r, NatArgs* out);
};

class Gateway final : public daemon::Program {
 public:
  Gateway(daemon::Shell& shell, Options options);
  ~Gateway() override;

  // A service every compartment that wants it gets, after the standard ones
  // (gateway/compartment/service.h); call before Start (in the program's
  // factory, gateway/main.cc).
  void AddService(ServiceFactory factory) { extra_services_.push_back(std::move(factory)); }
  bool Start(std::string* error) override;
  void Poll() override;
  bool Reload(std::string* error) override;
  // Detaches every compartment (their namespaces stay for the next start);
  // then the dataplane stops.
  void Stop() override;
  nlohmann::json MetricsJson() override;

 private:
  void RegisterOperations();
  bool Load(config::GatewayConfig* cfg, std::string* error);
  // --state-dir and --namespace-prefix over what the configuration says.
  void Override(config::GatewayConfig* cfg) const;
  // The first policy from the store (Start), and each one after (Poll).
  bool LoadFromStore(std::string* error);
  void ApplyStorePolicy(const store::FollowedPolicy& p);
  bool ApplyCompartments(const config::GatewayConfig& cfg, std::string* error);
  void DeleteGoneTaps(const CompartmentSpec& old, const CompartmentSpec& next);
  CompartmentEnv EnvFor(const config::GatewayConfig& cfg) const;
  void SaveState();
  std::map<std::string, uint32_t> LoadState();
  config::Response Compartments(const CompartmentsArgs& args) const;
  config::Response Counters() const;
  // The tenant's "charon" and "frr" service status and its routes of origin
  // bgp / s2s (config/hnvctl/vpn_view.h has the shape).
  config::Response Vpn(const VpnArgs& args) const;
  // hnvctl nat / lb: a compartment's NAT sessions and counters, or its
  // load balancers' pools (gateway/nat/nat_service.h).
  config::Response NatOrLb(const NatArgs& a, bool lb) const;
  std::vector<std::string> PortNames() const;
  std::optional<uint16_t> PortByName(std::string_view name) const;
  // "tenant/interface" -> its compartment and interface index (0: the VM
  // network's), or an error.
  const Compartment* FindInterface(const std::string& text, uint8_t* iface,
                                   std::string* error) const;
  config::Response Trace(const daemon::TraceArgs& args);
  std::unique_ptr<FrameCapture> OpenCapture(const daemon::CaptureArgs& args, std::string* error);

  daemon::Shell& shell_;
  Options options_;
  config::GatewayConfig config_;
  std::unique_ptr<Dataplane> dp_;
  std::unique_ptr<GatewayTables> tables_;
  std::unique_ptr<GatewayFastPath> fastpath_;
  std::unique_ptr<PuntIo> punt_;
  PuntRings rings_;
  std::vector<ServiceFactory> extra_services_;
  std::unique_ptr<daemon::StoreBinding> store_;  // --store mode only
  std::optional<store::FollowedPolicy> first_;    // --store: the policy Start applies
  std::map<std::string, std::unique_ptr<Compartment>> compartments_;  // by tenant name
  std::map<std::string, std::string> known_netns_;  // tenant -> namespace, from the state file
  daemon::Captures captures_;  // stopped before the fast path and dataplane go
};

}  // namespace hnv::gateway
