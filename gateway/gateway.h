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
// it was down. A clean stop (SIGTERM) removes every compartment's namespace;
// after kill -9 the namespaces stay and the next start reuses them.
//
// Thread: everything here runs on the control thread (Run's loop); workers
// are the Dataplane's lcores; the punt thread is PuntIo's.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "config/control.h"
#include "config/gateway_config.h"
#include "dataplane/runtime/dataplane.h"
#include "gateway/compartment.h"

namespace hnv::gateway {

struct Options {
  std::string config_path;
  std::string socket_path;       // overrides the configuration's control_socket
  std::string state_dir;         // overrides gateway.state_dir
  std::string namespace_prefix;  // overrides gateway.namespace_prefix
  uint32_t max_records = 1'100'000;
  uint32_t max_routes = 110'000;
};

class Gateway final : public config::RequestHandler {
 public:
  explicit Gateway(Options options);
  ~Gateway() override;

  bool Start(std::string* error);
  void Run(const std::atomic<bool>& stop, std::atomic<bool>& reload);
  bool Reload(std::string* error);
  // Removes every compartment (and its namespace); then the dataplane stops.
  void Shutdown();

  config::Response Handle(const config::Request& request) override;

 private:
  bool Load(config::GatewayConfig* cfg, std::string* error);
  bool ApplyCompartments(const config::GatewayConfig& cfg, std::string* error);
  void SaveState();
  std::map<std::string, uint32_t> LoadState();
  config::Response Compartments(const nlohmann::json& args) const;
  config::Response Counters() const;
  std::vector<std::string> PortNames() const;

  Options options_;
  config::GatewayConfig config_;
  std::unique_ptr<Dataplane> dp_;
  std::unique_ptr<GatewayTables> tables_;
  std::unique_ptr<GatewayFastPath> fastpath_;
  std::unique_ptr<PuntIo> punt_;
  PuntRings rings_;
  std::map<std::string, std::unique_ptr<Compartment>> compartments_;  // by tenant name
  std::map<std::string, std::string> known_netns_;  // tenant -> namespace, from the state file
  config::ControlServer server_;
};

}  // namespace hnv::gateway
