#include "daemon/shell.h"

#include <rte_eal.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include "daemon/log.h"
#include "dataplane/runtime/eal.h"

namespace hnv::daemon {

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
void OnStop(int) { g_stop.store(true); }
void OnHup(int) { g_reload.store(true); }

void InstallSignals() {
  std::signal(SIGTERM, OnStop);
  std::signal(SIGINT, OnStop);
  std::signal(SIGHUP, OnHup);
  std::signal(SIGPIPE, SIG_IGN);
}

bool ParseCount(std::string_view text, uint32_t* out) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
      v > std::numeric_limits<uint32_t>::max())
    return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

std::string Usage(const ProgramInfo& info) {
  std::string u = std::string("usage: ") + info.name +
                  " --config FILE | --store URL --host NAME [--store-root PREFIX] "
                  "[--store-ca FILE --store-cert FILE --store-key FILE] [--socket PATH]";
  for (const Flag& f : info.flags) u += std::string(" [") + f.name + " " + f.metavar + "]";
  return u + " [--max-records N] [--max-routes N] [--metrics HOST:PORT] [-- EAL args]";
}

int ParseCommandLine(int argc, char** argv, const ProgramInfo& info, CommonOptions* options,
                     std::string* error) {
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) {
      *error = std::string(a) + " needs a value";
      return -1;
    }
    const char* value = argv[++i];
    StoreOptions& st = options->store;
    std::string* target = a == "--config"       ? &options->config_path
                          : a == "--socket"     ? &options->socket_path
                          : a == "--store"      ? &st.url
                          : a == "--host"       ? &st.host
                          : a == "--store-root" ? &st.root
                          : a == "--store-ca"   ? &st.ca_file
                          : a == "--store-cert" ? &st.cert_file
                          : a == "--store-key"  ? &st.key_file
                          : a == "--metrics"    ? &options->metrics_address
                                                : nullptr;
    for (const Flag& f : info.flags)
      if (a == f.name) target = f.value;
    if (target != nullptr) {
      *target = value;
    } else if (a == "--max-records" || a == "--max-routes") {
      uint32_t* n = a == "--max-records" ? &options->max_records : &options->max_routes;
      if (!ParseCount(value, n)) {
        *error = std::string(a) + ": \"" + value + "\" is not a number";
        return -1;
      }
    } else {
      *error = "unknown option " + std::string(a);
      return -1;
    }
  }
  const StoreOptions& st = options->store;
  if (!st.url.empty() && !options->config_path.empty()) {
    *error = "--config and --store exclude each other (a host follows its file or the store)";
    return -1;
  }
  if (st.url.empty() && options->config_path.empty()) {
    *error = "--config or --store is required";
    return -1;
  }
  if (!st.url.empty() && st.host.empty()) {
    *error = "--store needs --host NAME (this host's name in the store)";
    return -1;
  }
  if (st.url.empty() && (!st.host.empty() || !st.root.empty() || !st.ca_file.empty() ||
                         !st.cert_file.empty() || !st.key_file.empty())) {
    *error = "--host, --store-root, --store-ca, --store-cert and --store-key go with --store";
    return -1;
  }
  if (st.cert_file.empty() != st.key_file.empty()) {
    *error = "--store-cert and --store-key go together";
    return -1;
  }
  return i;
}

Shell::Shell(ProgramInfo info, CommonOptions options)
    : info_(std::move(info)), options_(std::move(options)) {
  ops_.Add<NoArgs>("version", [this](const NoArgs&) {
    return config::Response{true,
                            {{"protocol", config::kProtocolVersion},
                             {"program", std::string(info_.name) + " " + info_.version}},
                            {}};
  });
}

std::unique_ptr<Dataplane> Shell::CreateDataplane(const std::vector<config::PortSpec>& ports,
                                                  bool spread_all, std::string* error) {
  DataplaneConfig dc;
  dc.limits.max_records = options_.max_records;
  dc.limits.max_routes = options_.max_routes;
  dc.worker_lcores = EalWorkerLcores();
  if (dc.worker_lcores.empty()) {
    *error = "no worker lcore: give EAL at least two lcores (-l 0,1)";
    return nullptr;
  }
  std::unique_ptr<Dataplane> dp = Dataplane::Create(dc, error);
  if (!dp) return nullptr;
  startup_.Mark("dataplane");
  for (const config::PortSpec& p : ports) {
    if (!dp->AttachPort(p.index, p.device, error, spread_all || p.index == 0)) {
      *error = "port " + p.name + ": " + *error;
      return nullptr;
    }
  }
  startup_.Mark("ports");
  return dp;
}

std::string Shell::Listen(const std::string& configured, std::string* error) {
  const std::string path = !options_.socket_path.empty() ? options_.socket_path
                           : !configured.empty()         ? configured
                                                         : info_.default_socket;
  const bool ok = server_.Listen(path, error);
  startup_.Mark("listen");
  return ok ? path : std::string();
}

bool Shell::StartMetrics(std::string* error) {
  if (options_.metrics_address.empty()) return true;
  auto m = std::make_unique<Metrics>();
  if (!m->Start(options_.metrics_address, error)) return false;
  Log("metrics: http://%s/metrics", options_.metrics_address.c_str());
  metrics_ = std::move(m);
  return true;
}

void Shell::PublishMetrics(Program& program) {
  nlohmann::json j = program.MetricsJson();
  if (!j.is_object()) return;
  j["policy"]["apply_seconds"] = ops_.last_apply_seconds();
  metrics_->Publish(j);
}

void Shell::Run(Program& program, const std::atomic<bool>& stop, std::atomic<bool>& reload) {
  using Clock = std::chrono::steady_clock;
  Clock::time_point next_metrics = Clock::now();
  while (!stop.load()) {
    program.Poll();
    server_.Poll(ops_, 2);
    if (reload.exchange(false)) {
      std::string error;
      const Clock::time_point t0 = Clock::now();
      if (program.Reload(&error)) {
        ops_.set_last_apply_seconds(std::chrono::duration<double>(Clock::now() - t0).count());
        Log("reloaded %s", options_.config_path.c_str());
      } else {
        Log("%s:\n%s", info_.reload_failed, error.c_str());
      }
    }
    if (metrics_ && Clock::now() >= next_metrics) {
      PublishMetrics(program);
      next_metrics = Clock::now() + std::chrono::seconds(1);
    }
  }
}

std::string PortsChangeProblem(const std::vector<config::PortSpec>& running,
                               const std::vector<config::PortSpec>& next) {
  if (next.size() != running.size())
    return "ports changed: adding or removing ports needs a restart";
  for (size_t i = 0; i < next.size(); ++i)
    if (next[i].device != running[i].device)
      return "port " + next[i].name + ": device changed: needs a restart";
  return {};
}

int Main(int argc, char** argv, ProgramInfo info,
         const std::function<std::unique_ptr<Program>(Shell&)>& make) {
  g_log_program = info.name;
  StartupClock clock;
  CommonOptions options;
  std::string error;
  const int dashdash = ParseCommandLine(argc, argv, info, &options, &error);
  if (dashdash < 0) {
    std::fprintf(stderr, "%s: %s\n%s\n", info.name, error.c_str(), Usage(info).c_str());
    return 2;
  }
  if (!StartEal(argc, argv, dashdash, &error)) {
    Log("%s", error.c_str());
    return 1;
  }
  InstallSignals();
  clock.Mark("eal");
  int rc = 0;
  std::optional<StartupClock> stopping;
  {
    Shell shell(std::move(info), std::move(options));
    shell.startup() = clock;
    std::unique_ptr<Program> program = make(shell);
    // --metrics first: an address it cannot listen on changes nothing.
    if (!shell.StartMetrics(&error)) {
      Log("%s", error.c_str());
      rc = 1;
    } else if (!program->Start(&error)) {
      Log("cannot start:\n%s", error.c_str());
      rc = 1;
    } else {
      Log("%s", shell.startup().Summary().c_str());
      shell.Run(*program, g_stop, g_reload);
      // Where a stop's time goes (the workers stopped first: all of it is
      // traffic lost in a restart).
      stopping.emplace();
      program->Stop();
      stopping->Mark("stop");
      program.reset();
      stopping->Mark("release");
    }
  }
  rte_eal_cleanup();
  if (stopping) {
    stopping->Mark("eal");
    Log("%s", stopping->Summary("stopped").c_str());
  }
  return rc;
}

}  // namespace hnv::daemon
