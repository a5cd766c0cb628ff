// The files strongSwan's charon and FRR read for one tenant compartment,
// rendered from its TenantVpn (spec.h). Pure functions: text in memory, the
// services (charon.h, frr.h) write them.
//
// charon, in dir (CharonDir):
//   strongswan.conf  plugins (kernel-libipsec before kernel-netlink: this
//                    kernel has no ESP), routing table 220 at priority 32767
//                    (after main: RECIPES.md §1 pitfall 8), the log file, the
//                    VICI socket (for charon and swanctl alike);
//   swanctl.conf     connections, pools; `include secrets.conf`;
//   secrets.conf     (0600) pre-shared keys and EAP passwords, hex-encoded;
//   private/<name>.key  symlinks to the X.509 private keys (swanctl loads
//                    private keys only from its private/ directory).
// FRR, in dir (FrrDir): zebra.conf, bgpd.conf, and an empty vtysh.conf (so
// vtysh --config_dir never reads /etc/frr).
//
// Thread: any; allocates.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "s2s/spec.h"

namespace hnv::s2s {

struct RenderedFile {
  std::string name;  // relative to the instance directory
  std::string text;  // the content, or the target of a symlink
  mode_t mode = 0644;
  bool symlink = false;
  friend bool operator==(const RenderedFile&, const RenderedFile&) = default;
};

// `dir`: the absolute instance directory the files go to (paths in them
// point there).
std::vector<RenderedFile> RenderCharon(const TenantVpn& vpn, const std::string& dir);
std::vector<RenderedFile> RenderFrr(const TenantVpn& vpn, const std::string& dir);

// Names used inside the files and by the services.
inline constexpr const char* kViciSocket = "charon.vici";
inline constexpr const char* kCharonLog = "charon.log";
// The swanctl child SA of point-to-site clients and its pool.
inline constexpr const char* kP2sEapConnection = "p2s-eap";
inline constexpr const char* kP2sCertConnection = "p2s-cert";
inline constexpr const char* kP2sPool = "p2s";

// FRR prefix-lists and route-maps: per neighbour (index in Bgp::neighbors),
// for what the tenant announces and what nobody may send (IPv6: "-v6").
std::string NeighborPrefixList(size_t index);  // "hnv-accept-N"
std::string NeighborRouteMap(size_t index);    // "hnv-in-N"
inline constexpr const char* kAnnouncePrefixList = "hnv-announce";
inline constexpr const char* kRejectPrefixList = "hnv-reject";
inline constexpr const char* kOutRouteMap = "hnv-out";

// "10.2.0.0/16 le 24".
std::string ToString(const PrefixMatch& m);

}  // namespace hnv::s2s
