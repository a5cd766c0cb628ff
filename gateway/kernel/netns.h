// Named Linux network namespaces for the gateway's compartments.
//
// Theory of operation: a compartment's namespace is a *named* namespace,
// /run/netns/<name>, made exactly as `ip netns add` makes it, so that every
// tool (`ip -n`, `ip netns exec`, FRR's and strongSwan's launchers) sees it:
//   1. mkdir /run/netns, and make it a shared mount point (bind-mounting it
//      onto itself first if it is not a mount point yet), as iproute2 does;
//   2. create the empty file /run/netns/<name> (O_EXCL);
//   3. on a short-lived std::thread: unshare(CLONE_NEWNET) (only that thread
//      moves), bind-mount /proc/thread-self/ns/net onto the file; the thread
//      exits and the bind mount keeps the namespace alive.
// An existing namespace is opened instead (a restart after kill -9 finds and
// reuses it). A file under /run/netns that is not an nsfs mount (a crash
// between steps 2 and 3) is stale: it is removed and the namespace created.
// Both paths then bring `lo` up and set net.ipv4.ip_forward=1 and
// net.ipv6.conf.{all,default}.forwarding=1 inside the namespace (idempotent).
//
// Entering: setns(CLONE_NEWNET) changes only the calling thread, so a
// multithreaded process can work in several namespaces at once. ScopedNetns
// switches the calling thread into a namespace and back to the thread's
// original namespace (an fd of it is kept) on destruction. Sockets (netlink,
// /dev/net/tun, ioctl sockets) keep the namespace they were created in, so
// the usual pattern is: create them inside Enter(), use them from anywhere.
// Files under /proc/sys/net resolve against the opener's namespace too. A
// thread started from inside Enter() inherits (and keeps) the namespace: do
// not start long-lived threads there.
//
// Thread contract: any thread may call anything here; a NetNamespace object
// is not itself synchronised (one owner, usually the control thread). Enter()
// must not be nested across different namespaces on one thread in ways that
// outlive each other out of order (ScopedNetns is strictly scoped).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hnv::gateway {

inline constexpr const char* kNetnsRunDir = "/run/netns";

// Switches the calling thread into the namespace `ns_fd` for its lifetime.
class ScopedNetns {
 public:
  ScopedNetns(int ns_fd, std::string* error);
  ~ScopedNetns();
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;
  bool ok() const { return ok_; }

 private:
  int orig_fd_ = -1;  // the thread's namespace before the switch
  bool ok_ = false;
};

class NetNamespace {
 public:
  // Opens /run/netns/<name>, creating it when it does not exist. *created
  // (optional) says which happened.
  static std::unique_ptr<NetNamespace> CreateOrOpen(const std::string& name, bool* created,
                                                    std::string* error);
  // Opens an existing named namespace only.
  static std::unique_ptr<NetNamespace> Open(const std::string& name, std::string* error);
  // Names under /run/netns starting with `prefix` (all with ""), sorted.
  static std::vector<std::string> List(const std::string& prefix);
  // Removes /run/netns/<name> (umount2 MNT_DETACH + unlink) without opening it.
  static bool DeleteByName(const std::string& name, std::string* error);

  ~NetNamespace();  // closes the fd; the namespace stays (named)
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  std::string path() const { return std::string(kNetnsRunDir) + "/" + name_; }
  // The namespace's inode number (identity: equal for two opens of one namespace).
  unsigned long inode() const { return inode_; }

  // Unmounts and removes the name and closes our fd: the namespace is
  // destroyed once no process, fd, socket or mount refers to it any more.
  // An open TAP fd (its tun socket) and any socket created inside keep it
  // alive, nameless, until closed; its devices are then deleted with it,
  // never moved to the root namespace (tested).
  bool Delete(std::string* error);

  // Runs fn() on the calling thread inside the namespace, then switches back.
  // Returns false (and does not run fn) when the switch fails.
  template <typename F>
  bool Enter(F&& fn, std::string* error) const {
    ScopedNetns in(fd_, error);
    if (!in.ok()) return false;
    std::forward<F>(fn)();
    return true;
  }

 private:
  NetNamespace(std::string name, int fd, unsigned long inode)
      : name_(std::move(name)), fd_(fd), inode_(inode) {}
  bool Setup(std::string* error);  // lo up, forwarding on

  std::string name_;
  int fd_ = -1;
  unsigned long inode_ = 0;
};

}  // namespace hnv::gateway
