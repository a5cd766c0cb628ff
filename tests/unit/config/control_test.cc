// ControlServer and Call: the wire protocol of config/control.h against a fake
// RequestHandler, and raw sockets for what a well-behaved client never does.
#include "config/control.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace hnv::config {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// echo -> its args; fail -> an error; throw -> an exception; count -> how
// many requests so far.
class FakeHandler : public RequestHandler {
 public:
  Response Handle(const Request& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    ops_.push_back(r.op);
    if (r.op == "echo") return Response{true, r.args, {}};
    if (r.op == "fail") return Response::Error("nope: " + r.args.value("why", std::string("?")));
    if (r.op == "throw") throw std::runtime_error("boom");
    if (r.op == "count") return Response{true, json(ops_.size()), {}};
    return Response::Error("unknown operation \"" + r.op + "\"");
  }
  std::vector<std::string> ops() {
    std::lock_guard<std::mutex> lock(mu_);
    return ops_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> ops_;
};

std::string TempDir() {
  char tmpl[] = "/tmp/hnv-control-test-XXXXXX";
  const char* d = mkdtemp(tmpl);
  if (d == nullptr) std::abort();
  return d;
}

// A ControlServer polled on its own thread for the test's lifetime.
class ServerThread {
 public:
  bool Start(const std::string& path, std::string* error) {
    if (!server_.Listen(path, error)) return false;
    thread_ = std::thread([this] {
      while (!stop_.load()) server_.Poll(handler_, 10);
    });
    return true;
  }
  ~ServerThread() { Stop(); }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  FakeHandler& handler() { return handler_; }
  ControlServer& server() { return server_; }

 private:
  ControlServer server_;
  FakeHandler handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A raw client: bytes in, lines out.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return connected_; }
  // Sends everything, or stops at the first error (the server may close on us).
  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t w = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (w <= 0) return false;
      sent += static_cast<size_t>(w);
    }
    return true;
  }
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }
  // The next line without its '\n', or nullopt on EOF / 3 s without one.
  std::optional<std::string> ReadLine() {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    for (;;) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            deadline - std::chrono::steady_clock::now())
                                            .count());
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, left) <= 0) return std::nullopt;
      char tmp[4096];
      const ssize_t r = read(fd_, tmp, sizeof(tmp));
      if (r <= 0) return std::nullopt;
      buf_.append(tmp, static_cast<size_t>(r));
    }
  }
  std::optional<json> ReadJson() {
    std::optional<std::string> line = ReadLine();
    if (!line) return std::nullopt;
    return json::parse(*line, nullptr, false);
  }
  // True when the server closed the connection (EOF within 3 s).
  bool WaitEof() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 3000) <= 0) return false;
    char tmp[4096];
    for (;;) {
      const ssize_t r = read(fd_, tmp, sizeof(tmp));
      if (r == 0) return true;
      if (r < 0) return errno == ECONNRESET;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string RequestLine(const json& j) { return j.dump() + "\n"; }

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    path_ = dir_ + "/ctl.sock";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  std::string path_;
};

TEST_F(ControlTest, RoundTrip) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  const json args = {{"kind", "lookup-record"}, {"object", {{"vsid", 6000}}}};
  std::optional<Response> r = Call(path_, Request{"echo", args}, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->result, args);
  EXPECT_EQ(s.handler().ops(), std::vector<std::string>{"echo"});
}

TEST_F(ControlTest, ErrorResponseCarriesTheMessage) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  std::optional<Response> r = Call(path_, Request{"fail", {{"why", "because"}}}, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error, "nope: because");
}

TEST_F(ControlTest, HandlerExceptionBecomesAnErrorResponse) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  std::optional<Response> r = Call(path_, Request{"throw", json::object()}, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error, "internal error in throw: boom");
  // The server lives on.
  r = Call(path_, Request{"echo", {{"a", 1}}}, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_TRUE(r->ok);
}

TEST_F(ControlTest, SeveralRequestsOnOneConnectionAnsweredInOrder) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  RawClient c(path_);
  ASSERT_TRUE(c.connected());
  // All three in one write, then one more after the answers.
  std::string batch;
  for (int i = 0; i < 3; ++i) {
    batch += RequestLine({{"version", 1}, {"op", "echo"}, {"args", {{"n", i}}}});
  }
  ASSERT_TRUE(c.Send(batch));
  for (int i = 0; i < 3; ++i) {
    std::optional<json> r = c.ReadJson();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(*r, json({{"version", 1}, {"ok", true}, {"result", {{"n", i}}}}));
  }
  ASSERT_TRUE(c.Send(RequestLine({{"version", 1}, {"op", "count"}})));
  std::optional<json> r = c.ReadJson();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["result"], 4);
}

TEST_F(ControlTest, RequestSplitAcrossWritesAndCrlf) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  RawClient c(path_);
  ASSERT_TRUE(c.Send("{\"version\": 1, \"op\""));
  std::this_thread::sleep_for(30ms);
  ASSERT_TRUE(c.Send(": \"echo\", \"args\": {\"x\": true}}\r\n\n  \n"));
  std::optional<json> r = c.ReadJson();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["result"], json({{"x", true}}));
  // Blank lines were skipped, not answered.
  ASSERT_TRUE(c.Send(RequestLine({{"version", 1}, {"op", "count"}})));
  r = c.ReadJson();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["result"], 2);
}

TEST_F(ControlTest, TwoClientsAtOnceAndASlowOneBlocksNobody) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  RawClient slow(path_);
  RawClient fast(path_);
  ASSERT_TRUE(slow.connected() && fast.connected());
  // The slow client sends half a request and stops.
  ASSERT_TRUE(slow.Send("{\"version\":1,\"op\":\"echo\","));
  ASSERT_TRUE(
      fast.Send(RequestLine({{"version", 1}, {"op", "echo"}, {"args", {{"who", "fast"}}}})));
  std::optional<json> r = fast.ReadJson();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["result"]["who"], "fast");
  // A third client through Call while the slow one still dawdles.
  std::optional<Response> called = Call(path_, Request{"echo", {{"who", "call"}}}, &error);
  ASSERT_TRUE(called) << error;
  EXPECT_EQ(called->result["who"], "call");
  ASSERT_TRUE(slow.Send("\"args\":{\"who\":\"slow\"}}\n"));
  r = slow.ReadJson();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["result"]["who"], "slow");
}

TEST_F(ControlTest, MalformedJsonIsAnErrorAndTheConnectionStaysUsable) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  RawClient c(path_);
  ASSERT_TRUE(c.Send("{not json\n"));
  std::optional<json> r = c.ReadJson();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["version"], 1);
  EXPECT_EQ((*r)["ok"], false);
  EXPECT_EQ((*r)["error"].get<std::string>().rfind("malformed JSON: ", 0), 0u) << *r;
  EXPECT_FALSE(r->contains("result"));

  struct Case {
    std::string line;
    std::string error;
  };
  const Case cases[] = {
      {"[1,2]", "a request is a JSON object"},
      {R"({"op":"echo"})", "request has no \"version\"; this server speaks protocol version 1"},
      {R"({"version":1})", "request has no \"op\" string"},
      {R"({"version":1,"op":7})", "request has no \"op\" string"},
      {R"({"version":1,"op":"echo","args":[1]})", "\"args\" must be a JSON object"},
      {R"({"version":1,"op":"nosuch"})", "unknown operation \"nosuch\""},
  };
  for (const Case& k : cases) {
    ASSERT_TRUE(c.Send(k.line + "\n"));
    r = c.ReadJson();
    ASSERT_TRUE(r) << k.line;
    EXPECT_EQ((*r)["ok"], false) << k.line;
    EXPECT_EQ((*r)["error"], k.error) << k.line;
  }
  // Invalid UTF-8 inside a string: parse error, not a crash.
  ASSERT_TRUE(c.Send("{\"version\":1,\"op\":\"echo\",\"args\":{\"s\":\"\xff\xfe\"}}\n"));
  r = c.ReadJson();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["ok"], false);
  // Still usable; args absent or null count as {}.
  ASSERT_TRUE(c.Send(R"({"version":1,"op":"echo","args":null})"
                     "\n"));
  r = c.ReadJson();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, json({{"version", 1}, {"ok", true}, {"result", json::object()}}));
}

TEST_F(ControlTest, OversizedLineGetsAnErrorAndTheConnectionCloses) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  RawClient c(path_);
  // 2 MiB without a newline; the server stops reading after 1 MiB, so the
  // tail may not be accepted.
  const std::string big(2 << 20, 'x');
  std::thread writer([&] { c.Send(big); });
  std::optional<json> r = c.ReadJson();
  writer.join();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["ok"], false);
  EXPECT_EQ((*r)["error"], "request line longer than 1048576 bytes");
  EXPECT_TRUE(c.WaitEof());
  // Others are served.
  std::optional<Response> ok = Call(path_, Request{"echo", {{"a", 1}}}, &error);
  ASSERT_TRUE(ok) << error;
  EXPECT_TRUE(ok->ok);
}

TEST_F(ControlTest, LineJustUnderTheLimitIsServed) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  const std::string pad(1000000, 'a');
  std::optional<Response> r = Call(path_, Request{"echo", {{"pad", pad}}}, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->result["pad"], pad);
}

TEST_F(ControlTest, VersionMismatchNamesBothVersions) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  RawClient c(path_);
  ASSERT_TRUE(c.Send(RequestLine({{"version", 2}, {"op", "echo"}})));
  std::optional<json> r = c.ReadJson();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r,
            json({{"version", 1},
                  {"ok", false},
                  {"error",
                   "protocol version 2 is not supported; this server speaks protocol version 1"}}));
  ASSERT_TRUE(c.Send(RequestLine({{"version", "1"}, {"op", "echo"}})));
  r = c.ReadJson();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["error"],
            "protocol version \"1\" is not supported; this server speaks protocol version 1");
  EXPECT_TRUE(s.handler().ops().empty());
}

TEST_F(ControlTest, LastRequestWithoutNewlineIsAnsweredAtEof) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  RawClient c(path_);
  ASSERT_TRUE(c.Send(R"({"version":1,"op":"echo","args":{"last":1}})"));
  c.ShutdownWrite();
  std::optional<json> r = c.ReadJson();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["result"]["last"], 1);
  EXPECT_TRUE(c.WaitEof());
}

TEST_F(ControlTest, ListenCreatesTheDirectoryWithMode0660AndTheDestructorRemovesIt) {
  const std::string nested = dir_ + "/a/b/ctl.sock";
  {
    ControlServer server;
    std::string error;
    ASSERT_TRUE(server.Listen(nested, &error)) << error;
    struct stat st;
    ASSERT_EQ(stat(nested.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0660u);
  }
  EXPECT_FALSE(std::filesystem::exists(nested));
}

TEST_F(ControlTest, StaleSocketFileIsReplaced) {
  // A socket file nobody listens on, as a crashed daemon leaves it.
  {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(fd);
  }
  ASSERT_TRUE(std::filesystem::is_socket(path_));
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  std::optional<Response> r = Call(path_, Request{"echo", {{"a", 1}}}, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_TRUE(r->ok);
}

TEST_F(ControlTest, LiveSocketIsNotReplaced) {
  ServerThread first;
  std::string error;
  ASSERT_TRUE(first.Start(path_, &error)) << error;
  {
    ControlServer second;
    EXPECT_FALSE(second.Listen(path_, &error));
    EXPECT_EQ(error, "another server is listening on " + path_);
  }
  // The refused server's destructor left the live socket alone.
  std::optional<Response> r = Call(path_, Request{"echo", {{"a", 1}}}, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_TRUE(r->ok);
}

TEST_F(ControlTest, SomethingElseAtThePathIsNotReplaced) {
  std::ofstream(path_) << "precious\n";
  ControlServer server;
  std::string error;
  EXPECT_FALSE(server.Listen(path_, &error));
  EXPECT_EQ(error, path_ + " exists and is not a socket; not replacing it");
  std::ifstream in(path_);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "precious");
}

TEST_F(ControlTest, PathTooLongIsAnError) {
  ControlServer server;
  std::string error;
  EXPECT_FALSE(server.Listen("/tmp/" + std::string(200, 'x'), &error));
  EXPECT_NE(error.find("longer than 107 bytes"), std::string::npos) << error;
}

TEST_F(ControlTest, CallWithoutServer) {
  std::string error;
  EXPECT_FALSE(Call(path_, Request{"echo", {}}, &error));
  EXPECT_EQ(error, "cannot connect to " + path_ + ": No such file or directory");
}

// A listener that accepts and then never answers (or closes at once).
class MuteServer {
 public:
  MuteServer(const std::string& path, bool close_at_once) {
    fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 4);
    thread_ = std::thread([this, close_at_once] {
      const int c = accept(fd_, nullptr, nullptr);
      if (close_at_once) {
        char buf[256];
        (void)!read(c, buf, sizeof(buf));
        close(c);
        return;
      }
      while (!stop_.load()) std::this_thread::sleep_for(5ms);
      close(c);
    });
  }
  ~MuteServer() {
    stop_.store(true);
    thread_.join();
    close(fd_);
  }

 private:
  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(ControlTest, CallTimesOut) {
  MuteServer mute(path_, /*close_at_once=*/false);
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(Call(path_, Request{"echo", {}}, &error, 200));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(error, "no response from " + path_ + " within 200 ms");
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 2s);
}

TEST_F(ControlTest, CallReportsAServerThatHangsUp) {
  MuteServer mute(path_, /*close_at_once=*/true);
  std::string error;
  EXPECT_FALSE(Call(path_, Request{"echo", {}}, &error, 2000));
  EXPECT_EQ(error, path_ + " closed the connection without a response");
}

TEST_F(ControlTest, ManySequentialCallsLeakNothing) {
  ServerThread s;
  std::string error;
  ASSERT_TRUE(s.Start(path_, &error)) << error;
  for (int i = 0; i < 200; ++i) {
    std::optional<Response> r = Call(path_, Request{"echo", {{"i", i}}}, &error);
    ASSERT_TRUE(r) << error;
    ASSERT_EQ(r->result["i"], i);
  }
  // Closed connections are dropped: count open fds of this process.
  size_t fds = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)e;
    ++fds;
  }
  EXPECT_LT(fds, 100u);
}

}  // namespace
}  // namespace hnv::config
