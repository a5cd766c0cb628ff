#include "gateway/kernel/tap.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gateway/kernel/netlink.h"

namespace hnv::gateway {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Everything that must happen inside the namespace. Returns the tun fd.
// On an existing persistent TAP of that name TUNSETIFF attaches to it; a
// device of another kind fails it with EINVAL, one that another process holds
// with EBUSY (*setiff_errno).
int CreateInside(const std::string& ifname, const MacAddr& mac, uint32_t mtu, int* ifindex,
                 int* setiff_errno, std::string* error) {
  const int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *error = Errno("open /dev/net/tun");
    return -1;
  }
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    *setiff_errno = errno;
    *error = Errno("TUNSETIFF");
    close(fd);
    return -1;
  }
  if (ioctl(fd, TUNSETPERSIST, 1) != 0) {
    *error = Errno("TUNSETPERSIST");
    ioctl(fd, TUNSETPERSIST, 0);
    close(fd);
    return -1;
  }
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    *error = Errno("socket");
    close(fd);
    return -1;
  }
  bool ok = false;
  do {
    struct ifreq r {};
    std::memcpy(r.ifr_name, ifname.data(), ifname.size());
    r.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    std::memcpy(r.ifr_hwaddr.sa_data, mac.b.data(), 6);
    if (ioctl(s, SIOCSIFHWADDR, &r) != 0) {
      *error = Errno("set MAC " + mac.ToString());
      break;
    }
    r = {};
    std::memcpy(r.ifr_name, ifname.data(), ifname.size());
    r.ifr_mtu = static_cast<int>(mtu);
    if (ioctl(s, SIOCSIFMTU, &r) != 0) {
      *error = Errno("set MTU " + std::to_string(mtu));
      break;
    }
    r = {};
    std::memcpy(r.ifr_name, ifname.data(), ifname.size());
    if (ioctl(s, SIOCGIFFLAGS, &r) != 0) {
      *error = Errno("get flags");
      break;
    }
    r.ifr_flags = static_cast<short>(r.ifr_flags | IFF_UP);
    if (ioctl(s, SIOCSIFFLAGS, &r) != 0) {
      *error = Errno("set up");
      break;
    }
    r = {};
    std::memcpy(r.ifr_name, ifname.data(), ifname.size());
    if (ioctl(s, SIOCGIFINDEX, &r) != 0) {
      *error = Errno("get ifindex");
      break;
    }
    *ifindex = r.ifr_ifindex;
    ok = true;
  } while (false);
  close(s);
  if (!ok) {
    ioctl(fd, TUNSETPERSIST, 0);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::unique_ptr<Tap> Tap::Create(NetNamespace& ns, const std::string& ifname, const MacAddr& mac,
                                 uint32_t mtu, std::string* error) {
  const std::string what = "netns " + ns.name() + ": tap " + ifname + ": ";
  if (ifname.empty() || ifname.size() >= IFNAMSIZ || ifname.find('/') != std::string::npos) {
    *error = what + "invalid interface name (1.." + std::to_string(IFNAMSIZ - 1) + " characters)";
    return nullptr;
  }
  if (mac.IsMulticast() || mac.IsZero()) {
    *error = what + "MAC " + mac.ToString() + " is not a unicast address";
    return nullptr;
  }
  std::string why;
  std::unique_ptr<NetlinkConfig> nl = NetlinkConfig::Create(ns, &why);
  if (!nl) {
    *error = what + why;
    return nullptr;
  }
  int fd = -1;
  int ifindex = 0;
  std::string ignored;
  const bool exists = nl->LinkIndex(ifname, &ignored) > 0;
  if (exists) {
    // A persistent TAP of a previous run: attach to it (see the header).
    int setiff = 0;
    if (!ns.Enter([&] { fd = CreateInside(ifname, mac, mtu, &ifindex, &setiff, &why); }, &why)) {
      *error = what + why;
      return nullptr;
    }
    if (fd >= 0) return std::unique_ptr<Tap>(new Tap(fd, ifindex, ifname, mac, true));
    if (setiff != EINVAL) {  // a TAP someone else holds, or set-up failed: leave it alone
      *error = what + why;
      return nullptr;
    }
    // Not a TAP we can take: a stale device of another kind goes.
    if (!nl->DeleteLink(ifname, &why)) {
      *error = what + "stale device: " + why;
      return nullptr;
    }
  }
  int setiff = 0;
  if (!ns.Enter([&] { fd = CreateInside(ifname, mac, mtu, &ifindex, &setiff, &why); }, &why) ||
      fd < 0) {
    *error = what + why;
    return nullptr;
  }
  return std::unique_ptr<Tap>(new Tap(fd, ifindex, ifname, mac, false));
}

Tap::~Tap() {
  if (fd_ < 0) return;
  if (!keep_) ioctl(fd_, TUNSETPERSIST, 0);  // the device goes with the fd
  close(fd_);
}

}  // namespace hnv::gateway
