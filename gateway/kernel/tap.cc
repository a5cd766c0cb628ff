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
int CreateInside(const std::string& ifname, const MacAddr& mac, uint32_t mtu, int* ifindex,
                 std::string* error) {
  const int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *error = Errno("open /dev/net/tun");
    return -1;
  }
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, ifname.data(), ifname.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    *error = Errno("TUNSETIFF");
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
  // A leftover device of that name: delete it (see the header).
  std::string ignored;
  if (nl->LinkIndex(ifname, &ignored) > 0 && !nl->DeleteLink(ifname, &why)) {
    *error = what + "stale device: " + why;
    return nullptr;
  }
  int fd = -1;
  int ifindex = 0;
  if (!ns.Enter([&] { fd = CreateInside(ifname, mac, mtu, &ifindex, &why); }, &why) || fd < 0) {
    *error = what + why;
    return nullptr;
  }
  return std::unique_ptr<Tap>(new Tap(fd, ifindex, ifname, mac));
}

Tap::~Tap() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace hnv::gateway
