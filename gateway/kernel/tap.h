// A TAP device inside a compartment's namespace: the kernel's view of one
// compartment interface (0 `vmnet` into the VM network, 1.. external).
//
// Theory of operation: Create() enters the namespace on the calling thread
// and opens /dev/net/tun there, so TUNSETIFF creates the device in that
// namespace (a tun device belongs to the namespace of the opener). Flags:
// IFF_TAP | IFF_NO_PI (plain Ethernet frames, no packet-information prefix),
// fd non-blocking and close-on-exec. It then sets the MAC, the MTU and brings
// the link up. The fd carries whole frames: one read() returns one frame the
// kernel transmitted on the device, one write() hands one frame to the kernel
// as received on it.
//
// Devices are persistent (TUNSETPERSIST): the device, with its addresses and
// the routes through it, outlives our fd. So a gateway that exits (a clean
// stop that detaches, a restart, a crash) leaves the compartment's kernel
// state in place, and the next start adopts it: a TAP device of that name
// that exists in the namespace is attached to again (TUNSETIFF on an existing
// persistent TAP), its MAC, MTU and link state set as configured, and
// adopted() says so. A device of that name that is not a TAP (or a TAP with
// other flags) is deleted and created fresh. The destructor removes the device
// (persistence off, then close) unless Keep() was called: the owner's way of
// leaving it for the next start (StopReason::kDetach).
//
// Thread contract: Create and the destructor run on the control thread. The
// fd may be read and written by one other thread (the punt thread) as long
// as it stops doing so before the Tap is destroyed (PuntIo::RemoveTap).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/packet/types.h"
#include "gateway/kernel/netns.h"

namespace hnv::gateway {

class Tap {
 public:
  static std::unique_ptr<Tap> Create(NetNamespace& ns, const std::string& ifname,
                                     const MacAddr& mac, uint32_t mtu, std::string* error);
  ~Tap();  // removes the device, unless Keep() was called
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;

  int fd() const { return fd_; }
  int ifindex() const { return ifindex_; }  // in the namespace
  const std::string& ifname() const { return ifname_; }
  const MacAddr& mac() const { return mac_; }
  // The device existed (left by a previous run) and was attached to again.
  bool adopted() const { return adopted_; }
  // The device stays in the namespace when this object goes.
  void Keep() { keep_ = true; }

 private:
  Tap(int fd, int ifindex, std::string ifname, const MacAddr& mac, bool adopted)
      : fd_(fd), ifindex_(ifindex), ifname_(std::move(ifname)), mac_(mac), adopted_(adopted) {}
  int fd_ = -1;
  int ifindex_ = 0;
  std::string ifname_;
  MacAddr mac_;
  bool adopted_ = false;
  bool keep_ = false;
};

}  // namespace hnv::gateway
