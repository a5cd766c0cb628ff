#include "nat/health/health_checker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace hnv::nat {
namespace {

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// One check in flight (or none) for one target.
struct Probe {
  enum class Phase : uint8_t { kIdle, kConnecting, kSending, kReading };
  Phase phase = Phase::kIdle;
  int fd = -1;
  uint64_t due = 0;       // next check starts
  uint64_t deadline = 0;  // the current one fails
  std::string request;
  size_t sent = 0;
  std::string response;

  void Close() {
    if (fd >= 0) close(fd);
    fd = -1;
    phase = Phase::kIdle;
    sent = 0;
    response.clear();
  }
};

// A non-blocking connect to the target; "" or why it failed at once.
std::string Connect(const HealthTarget& t, Probe* p) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const uint16_t port = htons(t.check.port != 0 ? t.check.port : t.port);
  if (t.address.is_v4()) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = port;
    std::memcpy(&a->sin_addr, t.address.b.data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = port;
    std::memcpy(&a->sin6_addr, t.address.b.data(), 16);
    len = sizeof(sockaddr_in6);
  }
  p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->fd < 0) return Errno("socket");
  if (connect(p->fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS)
    return Errno("connect");
  p->phase = Probe::Phase::kConnecting;
  return "";
}

// "HTTP/1.1 200 OK..." -> 200, or 0 when it is not a status line (yet).
int StatusOf(const std::string& r) {
  if (r.size() < 12 || r.compare(0, 5, "HTTP/") != 0) return 0;
  const size_t sp = r.find(' ');
  if (sp == std::string::npos || sp + 4 > r.size()) return 0;
  int code = 0;
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    if (r[i] < '0' || r[i] > '9') return -1;
    code = code * 10 + (r[i] - '0');
  }
  return code;
}

}  // namespace

std::unique_ptr<HealthChecker> HealthChecker::Start(int netns_fd,
                                                    std::vector<HealthTarget> targets,
                                                    OnChange on_change, std::string* error) {
  auto c = std::unique_ptr<HealthChecker>(new HealthChecker());
  c->targets_ = std::move(targets);
  c->states_.assign(c->targets_.size(), HealthState{});
  c->on_change_ = std::move(on_change);
  c->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (c->wake_fd_ < 0) {
    *error = Errno("eventfd");
    return nullptr;
  }
  int fd = -1;
  if (netns_fd >= 0 && (fd = fcntl(netns_fd, F_DUPFD_CLOEXEC, 0)) < 0) {
    *error = Errno("dup of the namespace fd");
    return nullptr;
  }
  std::promise<std::string> started;
  std::future<std::string> result = started.get_future();
  HealthChecker* self = c.get();
  c->thread_ = std::thread([self, fd, &started] { self->Run(fd, &started); });
  *error = result.get();
  if (!error->empty()) return nullptr;  // the destructor joins the thread
  return c;
}

std::unique_ptr<HealthChecker> HealthChecker::StartIn(const std::string& netns,
                                                      std::vector<HealthTarget> targets,
                                                      OnChange on_change, std::string* error) {
  const std::string path = "/run/netns/" + netns;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = Errno(("open " + path).c_str());
    return nullptr;
  }
  auto c = Start(fd, std::move(targets), std::move(on_change), error);
  close(fd);
  return c;
}

HealthChecker::~HealthChecker() {
  stop_.store(true);
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void HealthChecker::Update(std::vector<HealthTarget> targets) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<HealthState> states(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      const auto old = std::find(targets_.begin(), targets_.end(), targets[i]);
      if (old != targets_.end()) states[i] = states_[static_cast<size_t>(old - targets_.begin())];
    }
    targets_ = std::move(targets);
    states_ = std::move(states);
    ++generation_;
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof(one));
}

std::vector<HealthState> HealthChecker::States() const {
  std::lock_guard<std::mutex> lock(mu_);
  return states_;
}

void HealthChecker::Run(int netns_fd, std::promise<std::string>* started) {
  if (netns_fd >= 0) {
    const int rc = setns(netns_fd, CLONE_NEWNET);
    const std::string why = rc == 0 ? "" : Errno("setns");
    close(netns_fd);
    if (rc != 0) {
      started->set_value(why);
      return;
    }
  }
  started->set_value("");
  Loop();
}

bool HealthChecker::Record(uint64_t gen, size_t i, bool ok, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (gen != generation_ || i >= states_.size()) return false;
  HealthState& s = states_[i];
  const HealthCheckSpec& c = targets_[i].check;
  ++s.checks;
  if (ok) {
    s.failures = 0;
    ++s.successes;
    s.last_error.clear();
  } else {
    s.successes = 0;
    ++s.failures;
    s.last_error = error;
  }
  if (!s.up && ok && s.successes >= std::max<uint32_t>(c.rise, 1)) {
    s.up = true;
    return true;
  }
  if (s.up && !ok && s.failures >= std::max<uint32_t>(c.fall, 1)) {
    s.up = false;
    return true;
  }
  return false;
}

void HealthChecker::Loop() {
  std::vector<HealthTarget> targets;
  std::vector<Probe> probes;
  std::vector<pollfd> fds;
  std::vector<size_t> fd_probe;
  uint64_t gen = 0;
  while (!stop_.load()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (gen != generation_) {
        for (Probe& p : probes) p.Close();
        targets = targets_;
        probes.assign(targets.size(), Probe{});
        gen = generation_;
      }
    }
    uint64_t now = NowMs();
    std::vector<std::pair<size_t, bool>> changes;
    auto finish = [&](size_t i, bool ok, const std::string& why) {
      probes[i].Close();
      if (Record(gen, i, ok, why)) changes.emplace_back(i, ok);
    };
    for (size_t i = 0; i < probes.size(); ++i) {
      Probe& p = probes[i];
      const HealthCheckSpec& c = targets[i].check;
      if (c.kind == HealthKind::kNone) continue;
      if (p.phase == Probe::Phase::kIdle && now >= p.due) {
        p.due = now + std::max<uint32_t>(c.interval_ms, 1);
        p.deadline = now + std::max<uint32_t>(c.timeout_ms, 1);
        if (c.kind == HealthKind::kHttp) {
          p.request = "GET " + c.path + " HTTP/1.0\r\nHost: " + targets[i].address.ToString() +
                      "\r\nUser-Agent: hnv-health\r\nConnection: close\r\n\r\n";
        }
        if (std::string why = Connect(targets[i], &p); !why.empty()) finish(i, false, why);
      } else if (p.phase != Probe::Phase::kIdle && now >= p.deadline) {
        finish(i, false, "timeout after " + std::to_string(c.timeout_ms) + " ms");
      }
    }
    fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
    fd_probe.assign(1, 0);
    uint64_t next = now + 1000;
    for (size_t i = 0; i < probes.size(); ++i) {
      const Probe& p = probes[i];
      if (targets[i].check.kind == HealthKind::kNone) continue;
      if (p.phase == Probe::Phase::kIdle) {
        next = std::min(next, p.due);
        continue;
      }
      next = std::min(next, p.deadline);
      const short ev = p.phase == Probe::Phase::kReading ? POLLIN : POLLOUT;
      fds.push_back(pollfd{p.fd, ev, 0});
      fd_probe.push_back(i);
    }
    const int wait = next > now ? static_cast<int>(next - now) : 0;
    if (poll(fds.data(), fds.size(), wait) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      [[maybe_unused]] const ssize_t n = read(wake_fd_, &v, sizeof(v));
    }
    for (size_t k = 1; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      const size_t i = fd_probe[k];
      Probe& p = probes[i];
      const bool http = targets[i].check.kind == HealthKind::kHttp;
      if (p.phase == Probe::Phase::kConnecting) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          finish(i, false, std::string("connect: ") + std::strerror(err));
          continue;
        }
        if (!http) {
          finish(i, true, "");
          continue;
        }
        p.phase = Probe::Phase::kSending;
      }
      if (p.phase == Probe::Phase::kSending) {
        const ssize_t n = send(p.fd, p.request.data() + p.sent, p.request.size() - p.sent,
                               MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) {
          finish(i, false, Errno("send"));
          continue;
        }
        if (n > 0) p.sent += static_cast<size_t>(n);
        if (p.sent == p.request.size()) p.phase = Probe::Phase::kReading;
        continue;
      }
      if (p.phase == Probe::Phase::kReading) {
        char buf[512];
        const ssize_t n = recv(p.fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EAGAIN) continue;
        if (n <= 0) {
          finish(i, false, n == 0 ? "connection closed before a status line" : Errno("recv"));
          continue;
        }
        p.response.append(buf, static_cast<size_t>(n));
        const int code = StatusOf(p.response);
        if (code == 0 && p.response.size() < 4096) continue;
        if (code >= 200 && code < 400)
          finish(i, true, "");
        else
          finish(i, false, code > 0 ? "HTTP status " + std::to_string(code) : "not HTTP");
      }
    }
    for (const auto& [i, up] : changes)
      if (on_change_) on_change_(i, up);
  }
  for (Probe& p : probes) p.Close();
}

}  // namespace hnv::nat
