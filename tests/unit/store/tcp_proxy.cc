#include "tests/unit/store/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "tests/unit/store/etcd_process.h"

namespace hnv::store::test {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

}  // namespace

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  port_ = FreeLoopbackPort();
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) return;
  Listen();
  thread_ = std::thread([this] { Run(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  (void)!::write(wake_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  Cut();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (int fd : wake_)
    if (fd >= 0) ::close(fd);
}

bool TcpProxy::Listen() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a = Loopback(port_);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return false;
  }
  listen_fd_ = fd;
  return true;
}

void TcpProxy::Cut() {
  std::lock_guard<std::mutex> lock(mu_);
  cut_ = true;
  for (auto [a, b] : pairs_) {
    ::shutdown(a, SHUT_RDWR);
    ::shutdown(b, SHUT_RDWR);
    ::close(a);
    ::close(b);
  }
  pairs_.clear();
  (void)!::write(wake_[1], "x", 1);
}

void TcpProxy::Restore() {
  std::lock_guard<std::mutex> lock(mu_);
  cut_ = false;
  (void)!::write(wake_[1], "x", 1);
}

void TcpProxy::Run() {
  char buf[65536];
  while (!stop_) {
    std::vector<pollfd> fds;
    std::vector<std::pair<int, int>> pairs;
    int listen_fd;
    {
      std::lock_guard<std::mutex> lock(mu_);
      pairs = pairs_;
      listen_fd = listen_fd_;
    }
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd, POLLIN, 0});
    for (auto [a, b] : pairs) {
      fds.push_back({a, POLLIN, 0});
      fds.push_back({b, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
    if (fds[0].revents) {
      while (::read(wake_[0], buf, sizeof(buf)) > 0) {
      }
      continue;  // the sets changed: poll again with the new ones
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (listen_fd >= 0 && listen_fd == listen_fd_ && (fds[1].revents & POLLIN)) {
      const int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        const int e = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in t = Loopback(target_port_);
        if (!cut_ && ::connect(e, reinterpret_cast<sockaddr*>(&t), sizeof(t)) == 0) {
          pairs_.emplace_back(c, e);
        } else {
          ::close(c);
          ::close(e);
        }
      }
    }
    for (size_t i = 0; i < pairs.size(); ++i) {
      for (int side = 0; side < 2; ++side) {
        const pollfd& p = fds[2 + 2 * i + side];
        if (p.revents == 0) continue;
        // Still relayed? (Cut may have closed it meanwhile.)
        bool live = false;
        for (auto q : pairs_) live = live || q == pairs[i];
        if (!live) break;
        const int from = side == 0 ? pairs[i].first : pairs[i].second;
        const int to = side == 0 ? pairs[i].second : pairs[i].first;
        // Never block: an fd number of a pair cut meanwhile may be a new
        // connection's by now.
        const ssize_t n = ::recv(from, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        bool ok = n > 0;
        for (ssize_t off = 0; ok && off < n;) {
          const ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
          ok = w > 0;
          off += w > 0 ? w : 0;
        }
        if (!ok) {
          ::close(pairs[i].first);
          ::close(pairs[i].second);
          std::erase(pairs_, pairs[i]);
          break;
        }
      }
    }
  }
}

}  // namespace hnv::store::test
