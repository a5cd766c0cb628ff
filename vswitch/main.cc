// hnv-vswitch: the HNV host switch.
//
//   hnv-vswitch --config /etc/hnv/host1.yaml [--journal FILE] [--socket PATH]
//               [--max-records N] [--max-routes N] [-- <EAL arguments>]
//
// EAL arguments default to "-l 0,1 --in-memory" (hugepages). The first EAL
// lcore is the control thread, every other one a worker. SIGHUP reloads the
// configuration (as `hnvctl apply`); SIGTERM/SIGINT stop cleanly.
#include <rte_eal.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "config/log.h"
#include "dataplane/runtime/eal.h"
#include "vswitch/vswitch.h"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
void OnStop(int) { g_stop.store(true); }
void OnHup(int) { g_reload.store(true); }

int Usage() {
  std::fprintf(stderr,
               "usage: hnv-vswitch --config FILE [--journal FILE] [--socket PATH] "
               "[--max-records N] [--max-routes N] [-- EAL args]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  hnv::vswitch::Options opt;
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    if (a == "--config") opt.config_path = argv[++i];
    else if (a == "--journal") opt.journal_path = argv[++i];
    else if (a == "--socket") opt.socket_path = argv[++i];
    else if (a == "--max-records") opt.max_records = static_cast<uint32_t>(std::stoul(argv[++i]));
    else if (a == "--max-routes") opt.max_routes = static_cast<uint32_t>(std::stoul(argv[++i]));
    else return Usage();
  }
  if (opt.config_path.empty()) return Usage();
  if (std::string error; !hnv::StartEal(argc, argv, i, &error)) {
    hnv::Log("%s", error.c_str());
    return 1;
  }
  std::signal(SIGTERM, OnStop);
  std::signal(SIGINT, OnStop);
  std::signal(SIGHUP, OnHup);
  std::signal(SIGPIPE, SIG_IGN);
  int rc = 0;
  {
    hnv::vswitch::VSwitch vs(opt);
    std::string error;
    if (!vs.Start(&error)) {
      hnv::Log("cannot start:\n%s", error.c_str());
      rc = 1;
    } else {
      vs.Run(g_stop, g_reload);
      hnv::Log("stopped");
    }
  }
  rte_eal_cleanup();
  return rc;
}
