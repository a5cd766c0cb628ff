#include "gateway/kernel/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace hnv::gateway {
namespace {

constexpr long kNsfsMagic = 0x6e736673;  // NSFS_MAGIC (linux/magic.h)

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool IsValidName(const std::string& name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
  return name.find('/') == std::string::npos;
}

// iproute2's netns_add: /run/netns must be a shared mount point so that the
// bind mounts made in it propagate to mount namespaces created later
// (`ip netns exec` makes one per command).
bool PrepareRunDir(std::string* error) {
  if (mkdir(kNetnsRunDir, 0755) != 0 && errno != EEXIST) {
    *error = Errno(std::string("mkdir ") + kNetnsRunDir);
    return false;
  }
  bool made_mount = false;
  while (mount("", kNetnsRunDir, "none", MS_SHARED | MS_REC, nullptr) != 0) {
    if (errno != EINVAL || made_mount) {
      *error = Errno(std::string("mount --make-rshared ") + kNetnsRunDir);
      return false;
    }
    // Not a mount point yet: bind it onto itself, then retry.
    if (mount(kNetnsRunDir, kNetnsRunDir, "none", MS_BIND | MS_REC, nullptr) != 0) {
      *error = Errno(std::string("mount --bind ") + kNetnsRunDir);
      return false;
    }
    made_mount = true;
  }
  return true;
}

// Opens `path` and checks it is a namespace (nsfs). Returns -1 with
// *is_stale set when the file exists but is not one.
int OpenNsFile(const std::string& path, bool* is_stale, unsigned long* inode, std::string* error,
               bool* missing = nullptr) {
  *is_stale = false;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (missing != nullptr) *missing = errno == ENOENT;
    *error = Errno("open " + path);
    return -1;
  }
  struct statfs sfs {};
  struct stat st {};
  if (fstatfs(fd, &sfs) != 0 || fstat(fd, &st) != 0) {
    *error = Errno("stat " + path);
    close(fd);
    return -1;
  }
  if (static_cast<long>(sfs.f_type) != kNsfsMagic) {
    *is_stale = true;
    *error = path + " is not a network namespace (no nsfs mount on it)";
    close(fd);
    return -1;
  }
  *inode = st.st_ino;
  return fd;
}

// Step 3 of the creation, on its own thread: unshare moves only that thread.
bool UnshareAndBind(const std::string& path, std::string* error) {
  std::string thread_error;
  bool ok = false;
  std::thread t([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      thread_error = Errno("unshare(CLONE_NEWNET)");
      return;
    }
    if (mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      thread_error = Errno("bind mount of the new namespace on " + path);
      return;
    }
    ok = true;
  });
  t.join();
  if (!ok) *error = thread_error;
  return ok;
}

bool WriteProc(const char* path, const char* value, std::string* error) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = Errno(std::string("open ") + path);
    return false;
  }
  const ssize_t n = write(fd, value, std::strlen(value));
  const int saved = errno;
  close(fd);
  if (n < 0) {
    errno = saved;
    *error = Errno(std::string("write ") + path);
    return false;
  }
  return true;
}

}  // namespace

ScopedNetns::ScopedNetns(int ns_fd, std::string* error) {
  orig_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (orig_fd_ < 0) {
    *error = Errno("open /proc/thread-self/ns/net");
    return;
  }
  if (setns(ns_fd, CLONE_NEWNET) != 0) {
    *error = Errno("setns(CLONE_NEWNET)");
    close(orig_fd_);
    orig_fd_ = -1;
    return;
  }
  ok_ = true;
}

ScopedNetns::~ScopedNetns() {
  if (orig_fd_ < 0) return;
  // Going back can only fail if the original namespace fd were invalid; a
  // thread left in the wrong namespace would silently misconfigure the
  // machine, so that is fatal.
  if (setns(orig_fd_, CLONE_NEWNET) != 0) std::abort();
  close(orig_fd_);
}

std::unique_ptr<NetNamespace> NetNamespace::Open(const std::string& name, std::string* error) {
  if (!IsValidName(name)) {
    *error = "netns name '" + name + "' is not a valid file name";
    return nullptr;
  }
  const std::string path = std::string(kNetnsRunDir) + "/" + name;
  bool stale = false;
  unsigned long inode = 0;
  const int fd = OpenNsFile(path, &stale, &inode, error);
  if (fd < 0) return nullptr;
  return std::unique_ptr<NetNamespace>(new NetNamespace(name, fd, inode));
}

std::unique_ptr<NetNamespace> NetNamespace::CreateOrOpen(const std::string& name, bool* created,
                                                         std::string* error) {
  if (created != nullptr) *created = false;
  if (!IsValidName(name)) {
    *error = "netns name '" + name + "' is not a valid file name";
    return nullptr;
  }
  const std::string path = std::string(kNetnsRunDir) + "/" + name;
  std::string why;
  bool stale = false;
  unsigned long inode = 0;
  bool missing = false;
  int fd = OpenNsFile(path, &stale, &inode, &why, &missing);
  bool made = false;
  if (fd < 0) {
    if (stale) {
      // Left by a crash between creating the file and the bind mount.
      umount2(path.c_str(), MNT_DETACH);
      if (unlink(path.c_str()) != 0) {
        *error = Errno("netns " + name + ": remove stale " + path);
        return nullptr;
      }
    } else if (!missing) {
      *error = "netns " + name + ": " + why;
      return nullptr;
    }
    if (!PrepareRunDir(&why)) {
      *error = "netns " + name + ": " + why;
      return nullptr;
    }
    const int file = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (file < 0) {
      *error = Errno("netns " + name + ": create " + path);
      return nullptr;
    }
    close(file);
    if (!UnshareAndBind(path, &why)) {
      unlink(path.c_str());
      *error = "netns " + name + ": " + why;
      return nullptr;
    }
    fd = OpenNsFile(path, &stale, &inode, &why);
    if (fd < 0) {
      umount2(path.c_str(), MNT_DETACH);
      unlink(path.c_str());
      *error = "netns " + name + ": " + why;
      return nullptr;
    }
    made = true;
  }
  std::unique_ptr<NetNamespace> ns(new NetNamespace(name, fd, inode));
  if (!ns->Setup(&why)) {
    *error = "netns " + name + ": " + why;
    if (made) ns->Delete(&why);
    return nullptr;
  }
  if (created != nullptr) *created = made;
  return ns;
}

bool NetNamespace::Setup(std::string* error) {
  bool ok = false;
  const bool entered = Enter(
      [&] {
        const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
          *error = Errno("socket");
          return;
        }
        struct ifreq ifr {};
        std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
        if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
          *error = Errno("lo: SIOCGIFFLAGS");
          close(s);
          return;
        }
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
        if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
          *error = Errno("lo: set up");
          close(s);
          return;
        }
        close(s);
        ok = WriteProc("/proc/sys/net/ipv4/ip_forward", "1", error) &&
             WriteProc("/proc/sys/net/ipv6/conf/all/forwarding", "1", error) &&
             WriteProc("/proc/sys/net/ipv6/conf/default/forwarding", "1", error);
      },
      error);
  return entered && ok;
}

NetNamespace::~NetNamespace() {
  if (fd_ >= 0) close(fd_);
}

bool NetNamespace::DeleteByName(const std::string& name, std::string* error) {
  if (!IsValidName(name)) {
    *error = "netns name '" + name + "' is not a valid file name";
    return false;
  }
  const std::string path = std::string(kNetnsRunDir) + "/" + name;
  // EINVAL: not a mount point (a stale plain file); removing it is the point.
  if (umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    *error = Errno("netns " + name + ": umount " + path);
    return false;
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    *error = Errno("netns " + name + ": unlink " + path);
    return false;
  }
  return true;
}

bool NetNamespace::Delete(std::string* error) {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  return DeleteByName(name_, error);
}

std::vector<std::string> NetNamespace::List(const std::string& prefix) {
  std::vector<std::string> out;
  DIR* d = opendir(kNetnsRunDir);
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (n.compare(0, prefix.size(), prefix) == 0) out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace hnv::gateway
