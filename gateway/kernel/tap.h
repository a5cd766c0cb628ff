// A TAP device inside a compartment's namespace: the kernel's view of one
// compartment interface (0 `vmnet` into the VM network, 1.. external).
//
// Theory of operation: Create() enters the namespace on the calling thread
// and opens /dev/net/tun there, so TUNSETIFF creates the device in that
// namespace (a tun device belongs to the namespace of the opener). Flags:
// IFF_TAP | IFF_NO_PI (plain Ethernet frames, no packet-information prefix),
// not persistent, fd non-blocking and close-on-exec. It then sets the MAC,
// the MTU and brings the link up. The fd carries whole frames: one read()
// returns one frame the kernel transmitted on the device, one write() hands
// one frame to the kernel as received on it. Closing the fd (the destructor)
// removes the device, with its addresses and the routes through it.
//
// A device of the same name that already exists in the namespace (a
// persistent TAP, or anything else left behind: after a kill -9 our own
// non-persistent TAP is gone with the process's fds, so whatever remains is
// not ours) is deleted first and created fresh. We do not attach to it: its
// state (flags, addresses, owner, queue settings) is unknown, and a fresh
// device gives the same state on every start; the daemon reinstalls
// addresses and routes from configuration anyway.
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
  ~Tap();
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;

  int fd() const { return fd_; }
  int ifindex() const { return ifindex_; }  // in the namespace
  const std::string& ifname() const { return ifname_; }
  const MacAddr& mac() const { return mac_; }

 private:
  Tap(int fd, int ifindex, std::string ifname, const MacAddr& mac)
      : fd_(fd), ifindex_(ifindex), ifname_(std::move(ifname)), mac_(mac) {}
  int fd_ = -1;
  int ifindex_ = 0;
  std::string ifname_;
  MacAddr mac_;
};

}  // namespace hnv::gateway
