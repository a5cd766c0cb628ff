// e2e_conn_rate: new TCP connections per second, end to end through a path
// (tests/bench/e2e_gateway.sh runs it through hnv-gateway's NAT and through
// the kernel's nftables NAT). Not a test: a load generator with bounds.
//
// Theory of operation:
//   server --bind A --port P --seconds S
//     listens on A:P and, for at most S seconds, accepts every connection
//     and closes it at once (the server closes first, as an HTTP/1.0 server
//     does: its side keeps the TIME_WAIT, the client's port is free again
//     after its passive close). Prints "accepted N" when its time is up.
//   client --to A --port P --count N --seconds S [--concurrency C]
//          [--first-port F]
//     opens at most N connections to A:P, C at a time (default 32), for at
//     most S seconds; with F, connection i binds source port F + i (so N
//     connections use N different ports: each is a new session for a NAT
//     on the path), else the kernel picks. A connection counts as done when it was established
//     and the server's FIN arrived (read() returns 0); the client then
//     closes (FIN, no TIME_WAIT on its side). One that fails (refused,
//     reset, unreachable) counts as failed; one not done within 3 s counts
//     as timed out (a SYN lost on the path costs the kernel's 1 s
//     retransmission at least). Prints one JSON line: done, failed,
//     timed_out, the seconds from the first connect to the last completion,
//     the rate (done / seconds) and the completions in each whole second.
//   Both use one thread and epoll; every loop is bounded by S seconds.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string mode, addr;
  int port = 0, seconds = 0, count = 0, concurrency = 32, first_port = 0;
};

[[noreturn]] void Usage(const char* msg) {
  std::fprintf(stderr,
               "e2e_conn_rate: %s\nusage: e2e_conn_rate server --bind A --port P --seconds S\n"
               "       e2e_conn_rate client --to A --port P --count N --seconds S [--concurrency C]\n"
               "             [--first-port F]\n",
               msg);
  std::exit(2);
}

int PositiveInt(const char* name, const char* v, int max) {
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || x < 1 || x > max) {
    std::string m = std::string(name) + ": " + v + " is not a whole number in 1.." + std::to_string(max);
    Usage(m.c_str());
  }
  return static_cast<int>(x);
}

Args Parse(int argc, char** argv) {
  if (argc < 2) Usage("no mode");
  Args a;
  a.mode = argv[1];
  if (a.mode != "server" && a.mode != "client") Usage("mode is server or client");
  for (int i = 2; i < argc; i += 2) {
    std::string k = argv[i];
    if (i + 1 >= argc) Usage((k + " needs a value").c_str());
    const char* v = argv[i + 1];
    if (k == "--bind" || k == "--to") a.addr = v;
    else if (k == "--port") a.port = PositiveInt("--port", v, 65535);
    else if (k == "--seconds") a.seconds = PositiveInt("--seconds", v, 3600);
    else if (k == "--count") a.count = PositiveInt("--count", v, 10000000);
    else if (k == "--concurrency") a.concurrency = PositiveInt("--concurrency", v, 4096);
    else if (k == "--first-port") a.first_port = PositiveInt("--first-port", v, 65535);
    else Usage(("unknown option " + k).c_str());
  }
  if (a.addr.empty() || a.port == 0 || a.seconds == 0) Usage("address, --port and --seconds are required");
  if (a.mode == "client" && a.count == 0) Usage("client needs --count");
  if (a.first_port != 0 && a.first_port + a.count - 1 > 65535)
    Usage("--first-port + --count - 1 is past port 65535");
  return a;
}

sockaddr_in Address(const Args& a) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(a.port));
  if (inet_pton(AF_INET, a.addr.c_str(), &sa.sin_addr) != 1) Usage(("not an IPv4 address: " + a.addr).c_str());
  return sa;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int Server(const Args& a) {
  sockaddr_in sa = Address(a);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(s, 4096) != 0) {
    std::fprintf(stderr, "e2e_conn_rate server: %s:%d: %s\n", a.addr.c_str(), a.port, std::strerror(errno));
    return 1;
  }
  int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  const auto end = Clock::now() + std::chrono::seconds(a.seconds);
  long accepted = 0;
  while (Clock::now() < end) {
    epoll_event got;
    if (epoll_wait(ep, &got, 1, 100) <= 0) continue;
    for (int i = 0; i < 1024; ++i) {  // drain the accept queue, bounded per wakeup
      int c = accept4(s, nullptr, nullptr, SOCK_NONBLOCK);
      if (c < 0) break;
      ++accepted;
      close(c);
    }
  }
  std::printf("accepted %ld\n", accepted);
  return 0;
}

struct Conn {
  Clock::time_point start;
  bool established = false;
};

int Client(const Args& a) {
  const sockaddr_in sa = Address(a);
  const int ep = epoll_create1(0);
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::seconds(a.seconds);
  const auto conn_timeout = std::chrono::seconds(3);
  std::unordered_map<int, Conn> live;
  std::vector<long> per_second(static_cast<size_t>(a.seconds) + 1, 0);
  long started = 0, done = 0, failed = 0, timed_out = 0;
  auto last_done = t0;
  enum class End { kDone, kFailed, kTimedOut };
  auto finish = [&](int fd, End how) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    live.erase(fd);
    if (how == End::kFailed) { ++failed; return; }
    if (how == End::kTimedOut) { ++timed_out; return; }
    ++done;
    last_done = Clock::now();
    size_t sec = static_cast<size_t>(Seconds(last_done - t0));
    if (sec < per_second.size()) ++per_second[sec];
  };
  auto next_check = t0 + std::chrono::milliseconds(100);
  while (Clock::now() < end && (started < a.count || !live.empty())) {
    while (started < a.count && static_cast<int>(live.size()) < a.concurrency) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      if (fd < 0) { std::fprintf(stderr, "socket: %s\n", std::strerror(errno)); return 1; }
      if (a.first_port != 0) {
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_port = htons(static_cast<uint16_t>(a.first_port + started));
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0) {
          close(fd); ++started; ++failed; continue;
        }
      }
      ++started;
      if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS) {
        close(fd); ++failed; continue;
      }
      epoll_event ev{};
      ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
      ev.data.fd = fd;
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      live[fd] = Conn{Clock::now(), false};
    }
    epoll_event evs[256];
    int n = epoll_wait(ep, evs, 256, 20);
    for (int i = 0; i < n; ++i) {
      int fd = evs[i].data.fd;
      auto it = live.find(fd);
      if (it == live.end()) continue;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) { finish(fd, End::kFailed); continue; }
      if (!it->second.established && (evs[i].events & EPOLLOUT)) {
        it->second.established = true;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
      }
      if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
        char buf[64];
        ssize_t r = read(fd, buf, sizeof buf);
        if (r == 0) finish(fd, it->second.established ? End::kDone : End::kFailed);
        else if (r < 0 && errno != EAGAIN) finish(fd, End::kFailed);
      }
    }
    const auto now = Clock::now();
    if (now >= next_check) {  // connections past their time
      next_check = now + std::chrono::milliseconds(100);
      std::vector<int> old;
      for (const auto& [fd, c] : live)
        if (now - c.start > conn_timeout) old.push_back(fd);
      for (int fd : old) finish(fd, End::kTimedOut);
    }
  }
  const long unfinished = static_cast<long>(live.size());  // cut off by --seconds
  for (auto it = live.begin(); it != live.end(); it = live.erase(it)) close(it->first);
  double secs = Seconds(last_done - t0);
  std::printf("{\"started\": %ld, \"done\": %ld, \"failed\": %ld, \"timed_out\": %ld, \"unfinished\": %ld, "
              "\"seconds\": %.3f, \"rate\": %.0f, \"per_second\": [",
              started, done, failed, timed_out, unfinished, secs, secs > 0 ? done / secs : 0.0);
  for (size_t i = 0; i < per_second.size(); ++i) std::printf("%s%ld", i ? ", " : "", per_second[i]);
  std::printf("]}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  return a.mode == "server" ? Server(a) : Client(a);
}
