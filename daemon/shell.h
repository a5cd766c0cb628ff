// The shell hnv-vswitch and hnv-gateway share: everything a daemon does
// around its own work, so that each program's main is a few lines and each
// daemon class holds only what is its own.
//
// Theory of operation. daemon::Main(argc, argv, info, make):
//  1. reads the command line "<options> [-- <EAL arguments>]": the common
//     options (CommonOptions: --config FILE, or --store URL --host NAME to
//     follow the central policy store (daemon/store_binding.h) with its TLS
//     files, --socket PATH, --max-records N, --max-routes N) and the
//     program's own (ProgramInfo::flags); a bad one prints the usage and
//     exits 2;
//  2. starts EAL (dataplane/runtime/eal.h: the EAL arguments after "--", or
//     "-l 0,1 --in-memory"); the first lcore is the control thread, the
//     others are workers;
//  3. SIGTERM/SIGINT raise `stop`, SIGHUP raises `reload`, SIGPIPE is
//     ignored (a client that hangs up must not kill the daemon);
//  4. makes the Program with `make(shell)` and starts it (Program::Start
//     loads the configuration, builds the dataplane with CreateDataplane,
//     which attaches the configured ports, and listens on the control socket
//     with Listen); a failure is logged ("cannot start:") and exits 1;
//  5. runs the control loop (Run): Program::Poll, the control socket (its
//     requests dispatched by operations(), config/control.h), and a reload
//     on SIGHUP, until `stop`; then Program::Stop, "stopped", EAL cleanup.
// Log lines (daemon/log.h) start with the program's name.
//
// Thread: the main thread, which is the control thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/control.h"
#include "config/host_config.h"
#include "daemon/metrics.h"
#include "daemon/operations.h"
#include "daemon/startup_clock.h"
#include "dataplane/runtime/dataplane.h"

namespace hnv::daemon {

// Following the central policy store instead of a YAML file.
struct StoreOptions {
  std::string url;        // --store URL: etcd endpoints ("http://a:2379,http://b:2379")
  std::string host;       // --host NAME: this host's name in the store (required with --store)
  std::string root;       // --store-root PREFIX: the key layout's root ("" = /hnv/v1/)
  std::string ca_file;    // --store-ca FILE: the CA of etcd's certificate (TLS)
  std::string cert_file;  // --store-cert FILE: this host's client certificate (CN = its etcd user)
  std::string key_file;   // --store-key FILE
};

// The options every daemon takes.
struct CommonOptions {
  std::string config_path;           // --config FILE (or --store)
  StoreOptions store;
  std::string socket_path;           // --socket PATH: overrides the configuration's
  uint32_t max_records = 1'100'000;  // --max-records N: table sizes, reserved at start
  uint32_t max_routes = 110'000;     // --max-routes N
  std::string metrics_address;       // --metrics HOST:PORT: Prometheus text there (off: "")
};

// One of the program's own options, taking one value ("--journal FILE").
struct Flag {
  const char* name;     // "--journal"
  const char* metavar;  // "FILE", for the usage line
  std::string* value;
};

struct ProgramInfo {
  const char* name;            // "hnv-vswitch": log lines, usage, the `version` operation
  const char* version;         // "0.1"
  const char* default_socket;  // when neither --socket nor the configuration names one
  const char* reload_failed;   // heads the errors of a reload that did not apply
  std::vector<Flag> flags;     // the program's own options (usage: after --socket)
};

// A daemon as the shell runs it. Every call comes from the control thread.
class Program {
 public:
  virtual ~Program() = default;
  // Loads the configuration, builds and starts the dataplane, listens.
  virtual bool Start(std::string* error) = 0;
  // One turn of the control loop, besides the control socket.
  virtual void Poll() = 0;
  // SIGHUP: re-reads the configuration and applies it if it is valid.
  virtual bool Reload(std::string* error) = 0;
  // SIGTERM/SIGINT: the clean stop, before the program is destroyed.
  virtual void Stop() = 0;
  // Its counters for --metrics (daemon/metrics.h): {"counters": as `hnvctl
  // counters`, "compartments": [...] (hnv-gateway), "policy": {"generation"}}.
  virtual nlohmann::json MetricsJson() { return nullptr; }
};

class Shell {
 public:
  Shell(ProgramInfo info, CommonOptions options);
  Shell(const Shell&) = delete;
  Shell& operator=(const Shell&) = delete;

  const ProgramInfo& info() const { return info_; }
  const CommonOptions& options() const { return options_; }
  // The control socket's operations; `version` is registered already.
  Operations& operations() { return ops_; }

  // The dataplane on the EAL lcores after the main one, its tables sized by
  // the options, with `ports` attached (not started). The uplink (index 0)
  // is received by every worker where its device has a queue per worker,
  // the other ports too with `spread_all` (hnv-gateway: its own ports; not
  // hnv-vswitch's VM adapters, Dataplane::AttachPort).
  std::unique_ptr<Dataplane> CreateDataplane(const std::vector<config::PortSpec>& ports,
                                             bool spread_all, std::string* error);
  // Listens on --socket, else on `configured` (the configuration's
  // control_socket), else on the program's default. Returns the path, or ""
  // with *error.
  std::string Listen(const std::string& configured, std::string* error);

  // Where the start's time went (Main logs its Summary once Start returns);
  // a program marks its own phases ("policy", "compartments").
  StartupClock& startup() { return startup_; }

  // Runs the control loop until `stop` (see the theory of operation).
  void Run(Program& program, const std::atomic<bool>& stop, std::atomic<bool>& reload);
  // --metrics: listens (false and why if it cannot); Run publishes every second.
  bool StartMetrics(std::string* error);

 private:
  ProgramInfo info_;
  CommonOptions options_;
  Operations ops_;
  config::ControlServer server_;
  StartupClock startup_;
  std::unique_ptr<Metrics> metrics_;
  void PublishMetrics(Program& program);
};

// "" when a reload's ports are the running ones; else why it needs a restart
// (ports are attached once, at start).
std::string PortsChangeProblem(const std::vector<config::PortSpec>& running,
                               const std::vector<config::PortSpec>& next);

// Errors (anything with ToString()), one per line.
template <typename E>
std::string JoinErrors(const std::vector<E>& errors) {
  std::string s;
  for (const E& e : errors) s += (s.empty() ? "" : "\n") + e.ToString();
  return s;
}

// Reads the command line "<options> [-- <EAL arguments>]" into *options and
// the strings info.flags point to. Returns the index of "--" (argc when there
// is none), or -1 with *error naming the option that is wrong.
int ParseCommandLine(int argc, char** argv, const ProgramInfo& info, CommonOptions* options,
                     std::string* error);
// "usage: hnv-vswitch --config FILE | --store URL --host NAME ... [--socket PATH] ..."
std::string Usage(const ProgramInfo& info);

// The daemon's main (the theory of operation above); returns the exit code.
int Main(int argc, char** argv, ProgramInfo info,
         const std::function<std::unique_ptr<Program>(Shell&)>& make);

}  // namespace hnv::daemon
