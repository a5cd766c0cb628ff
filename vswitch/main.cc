// hnv-vswitch: the HNV host switch.
//
//   hnv-vswitch --config /etc/hnv/host1.yaml [--socket PATH] [--journal FILE]
//               [--max-records N] [--max-routes N] [-- <EAL arguments>]
//
// EAL arguments default to "-l 0,1 --in-memory" (hugepages). The first EAL
// lcore is the control thread, every other one a worker. SIGHUP reloads the
// configuration (as `hnvctl apply`); SIGTERM/SIGINT stop cleanly. The shell
// around the daemon (options, EAL, signals, control socket) is daemon/shell.h.
#include <memory>
#include <string>

#include "daemon/shell.h"
#include "vswitch/vswitch.h"

int main(int argc, char** argv) {
  std::string journal_path;
  hnv::daemon::ProgramInfo info{"hnv-vswitch",
                                "0.1",
                                "/run/hnv/vswitch.sock",
                                "reload refused, running policy unchanged",
                                {{"--journal", "FILE", &journal_path}}};
  return hnv::daemon::Main(argc, argv, std::move(info), [&](hnv::daemon::Shell& shell) {
    return std::make_unique<hnv::vswitch::VSwitch>(shell, journal_path);
  });
}
