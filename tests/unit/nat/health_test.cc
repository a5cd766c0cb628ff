// HealthChecker against real servers in network namespaces the test
// creates (`ip netns add hnvnat<pid>-<n>`, removed in TearDown, also on
// failure): a TCP listener, and python3's http.server for HTTP. The servers
// listen on 192.0.2.1 (TEST-NET-1), an address only their namespace has;
// nothing leaves the namespaces. Needs root (skipped otherwise).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "nat/health/health_checker.h"
#include "tests/lib/packet_builder.h"

namespace hnv::nat {
namespace {

using hnv::test::Ip;

const char* const kServerAddr = "192.0.2.1";

int Sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

bool WaitFor(const std::function<bool()>& pred, int ms = 5000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// A named namespace with lo up, optionally holding kServerAddr.
class TestNetns {
 public:
  TestNetns(const std::string& name, bool with_server_addr) : name_(name) {
    ok_ = Sh("ip netns add " + name) == 0 && Sh("ip -n " + name + " link set lo up") == 0 &&
          (!with_server_addr ||
           Sh("ip -n " + name + " addr add " + kServerAddr + "/32 dev lo") == 0);
    fd_ = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  }
  ~TestNetns() {
    if (fd_ >= 0) close(fd_);
    Sh("ip netns del " + name_);
  }
  bool ok() const { return ok_ && fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  bool ok_ = false;
  int fd_ = -1;
};

// A TCP listener on kServerAddr:port inside a namespace, on its own thread;
// accepts and closes until stopped (or, `hold`, keeps every connection open
// and silent).
class TcpServer {
 public:
  TcpServer(int ns_fd, uint16_t port, bool hold = false) {
    std::atomic<int> state{0};
    thread_ = std::thread([this, ns_fd, port, hold, &state] {
      if (setns(ns_fd, CLONE_NEWNET) != 0) {
        state = -1;
        return;
      }
      const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const int one = 1;
      setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      inet_pton(AF_INET, kServerAddr, &a.sin_addr);
      if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(s, 16) != 0) {
        close(s);
        state = -1;
        return;
      }
      state = 1;
      std::vector<int> held;
      while (!stop_) {
        pollfd p{s, POLLIN, 0};
        if (poll(&p, 1, 20) > 0) {
          const int c = accept(s, nullptr, nullptr);
          if (c >= 0 && hold) held.push_back(c);
          else if (c >= 0) close(c);
        }
      }
      for (int c : held) close(c);
      close(s);
    });
    while (state == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ok_ = state == 1;
  }
  ~TcpServer() {
    stop_ = true;
    thread_.join();
  }
  bool ok() const { return ok_; }

 private:
  std::atomic<bool> stop_{false};
  bool ok_ = false;
  std::thread thread_;
};

// python3 -m http.server in a namespace, serving a directory with "healthz".
class HttpServer {
 public:
  HttpServer(const std::string& ns, uint16_t port) {
    char tmpl[] = "/tmp/hnvnat-http.XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ + "/healthz") << "ok\n";
    pid_ = fork();
    if (pid_ == 0) {
      const int null = open("/dev/null", O_RDWR);
      dup2(null, 1);
      dup2(null, 2);
      const std::string p = std::to_string(port);
      execlp("ip", "ip", "netns", "exec", ns.c_str(), "/usr/bin/python3", "-m", "http.server",
             "--bind", kServerAddr, "--directory", dir_.c_str(), p.c_str(), nullptr);
      _exit(127);
    }
  }
  ~HttpServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::remove((dir_ + "/healthz").c_str());
    rmdir(dir_.c_str());
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

HealthTarget Target(uint16_t port, HealthKind kind, std::string path = "/") {
  HealthTarget t;
  t.address = Ip(kServerAddr);
  t.port = port;
  t.check.kind = kind;
  t.check.path = std::move(path);
  t.check.interval_ms = 50;
  t.check.timeout_ms = 300;
  t.check.rise = 2;
  t.check.fall = 2;
  return t;
}

class HealthCheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
  }
  std::string NsName() {
    return "hnvnat" + std::to_string(getpid()) + "-" + std::to_string(count_++);
  }
  // Changes reported by the callback, in order.
  std::function<void(size_t, bool)> Recorder() {
    return [this](size_t i, bool up) {
      std::lock_guard<std::mutex> lock(mu_);
      changes_.emplace_back(i, up);
    };
  }
  bool SawChange(size_t i, bool up) {
    std::lock_guard<std::mutex> lock(mu_);
    return std::find(changes_.begin(), changes_.end(), std::pair(i, up)) != changes_.end();
  }
  int count_ = 0;
  std::mutex mu_;
  std::vector<std::pair<size_t, bool>> changes_;
};

TEST_F(HealthCheckerTest, TcpChecksFromTheNamespace) {
  TestNetns ns(NsName(), true);
  ASSERT_TRUE(ns.ok());
  auto server = std::make_unique<TcpServer>(ns.fd(), 18080);
  ASSERT_TRUE(server->ok());
  std::string error;
  auto hc = HealthChecker::Start(
      ns.fd(), {Target(18080, HealthKind::kTcp), Target(18081, HealthKind::kTcp)}, Recorder(),
      &error);
  ASSERT_TRUE(hc) << error;
  // The listening port passes; the closed one is refused, and taken down
  // after `fall` (2) failures.
  ASSERT_TRUE(WaitFor([&] {
    const auto s = hc->States();
    return s[0].successes >= 3 && !s[1].up;
  })) << hc->States()[1].last_error;
  EXPECT_TRUE(hc->States()[0].up);
  EXPECT_EQ(hc->States()[0].last_error, "");
  EXPECT_NE(hc->States()[1].last_error.find("refused"), std::string::npos)
      << hc->States()[1].last_error;
  EXPECT_TRUE(SawChange(1, false));
  // The server stops: down after two failed checks; back: up after two good ones.
  server.reset();
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return !hc->States()[0].up; }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2000));
  EXPECT_TRUE(SawChange(0, false));
  server = std::make_unique<TcpServer>(ns.fd(), 18080);
  ASSERT_TRUE(server->ok());
  ASSERT_TRUE(WaitFor([&] { return hc->States()[0].up; }));
  EXPECT_TRUE(SawChange(0, true));
}

// The same check from a namespace without that address fails: the checker
// really works inside the namespace it is given.
TEST_F(HealthCheckerTest, AnotherNamespaceDoesNotReachIt) {
  TestNetns with(NsName(), true), without(NsName(), false);
  ASSERT_TRUE(with.ok() && without.ok());
  TcpServer server(with.fd(), 18082);
  ASSERT_TRUE(server.ok());
  std::string error;
  auto hc = HealthChecker::StartIn(without.name(), {Target(18082, HealthKind::kTcp)}, Recorder(),
                                   &error);
  ASSERT_TRUE(hc) << error;
  ASSERT_TRUE(WaitFor([&] { return !hc->States()[0].up; }));
  EXPECT_EQ(hc->States()[0].successes, 0u);
  EXPECT_FALSE(hc->States()[0].last_error.empty());
}

TEST_F(HealthCheckerTest, HttpChecksAgainstARealServer) {
  TestNetns ns(NsName(), true);
  ASSERT_TRUE(ns.ok());
  HttpServer server(ns.name(), 18090);
  std::string error;
  auto hc = HealthChecker::Start(ns.fd(),
                                 {Target(18090, HealthKind::kHttp, "/healthz"),
                                  Target(18090, HealthKind::kHttp, "/missing")},
                                 Recorder(), &error);
  ASSERT_TRUE(hc) << error;
  ASSERT_TRUE(WaitFor([&] {
    const auto s = hc->States();
    return s[0].successes >= 2 && !s[1].up;
  }, 10000)) << hc->States()[0].last_error << " / " << hc->States()[1].last_error;
  EXPECT_EQ(hc->States()[1].last_error, "HTTP status 404");
  // Update: targets keep their state wherever they move in the list; a new
  // one starts afresh (up, nothing counted) and is then checked.
  const auto before = hc->States();
  hc->Update({Target(18090, HealthKind::kHttp, "/missing"),
              Target(18090, HealthKind::kHttp, "/healthz"), Target(18091, HealthKind::kTcp)});
  const auto s = hc->States();
  EXPECT_FALSE(s[0].up);
  EXPECT_GE(s[0].checks, before[1].checks);
  EXPECT_TRUE(s[1].up);
  EXPECT_GE(s[1].checks, before[0].checks);
  EXPECT_LE(s[2].checks, 1u);
  ASSERT_TRUE(WaitFor([&] { return !hc->States()[2].up; }));
  EXPECT_TRUE(hc->States()[1].up);
}

TEST_F(HealthCheckerTest, TimeoutAndBadNamespace) {
  TestNetns ns(NsName(), true);
  ASSERT_TRUE(ns.ok());
  // A listener that never answers HTTP: the check times out.
  TcpServer silent(ns.fd(), 18095, /*hold=*/true);
  ASSERT_TRUE(silent.ok());
  std::string error;
  HealthTarget t = Target(18095, HealthKind::kHttp);
  t.check.timeout_ms = 100;
  auto hc = HealthChecker::Start(ns.fd(), {t}, nullptr, &error);
  ASSERT_TRUE(hc) << error;
  ASSERT_TRUE(WaitFor([&] { return !hc->States()[0].up; }));
  const std::string why = hc->States()[0].last_error;
  EXPECT_EQ(why, "timeout after 100 ms");
  EXPECT_FALSE(HealthChecker::StartIn("hnvnat-does-not-exist", {t}, nullptr, &error));
  EXPECT_NE(error.find("hnvnat-does-not-exist"), std::string::npos) << error;
}

}  // namespace
}  // namespace hnv::nat
