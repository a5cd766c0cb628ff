// What a compartment gives its s2s services: the shape of the gateway's
// compartment services (issue 10: start, update, poll, status, stop, with
// an environment), which CharonService and FrrService follow.
#pragma once

#include <string>

namespace hnv::s2s {

struct ServiceEnv {
  std::string tenant;
  std::string netns;      // the compartment's network namespace (/run/netns/<netns>)
  std::string state_dir;  // the compartment's own directory; each service uses a subdirectory
};

// Where the programs are (Debian 12's packages).
inline constexpr const char* kCharonProgram = "/usr/lib/ipsec/charon";
inline constexpr const char* kSwanctlProgram = "/usr/sbin/swanctl";
inline constexpr const char* kIpProgram = "/usr/bin/ip";
inline constexpr const char* kZebraProgram = "/usr/lib/frr/zebra";
inline constexpr const char* kBgpdProgram = "/usr/lib/frr/bgpd";
inline constexpr const char* kVtyshProgram = "/usr/bin/vtysh";
inline constexpr const char* kFrrReloadProgram = "/usr/lib/frr/frr-reload.py";

}  // namespace hnv::s2s
