// The fixture of hnvctl's tests (hnvctl_test.cc, hnvctl_acl_test.cc): the
// built hnvctl binary (HNVCTL_PATH) against an in-process ControlServer whose
// handler records every request and answers with the chapter's Host 1 policy
// (or one the test sets).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "config/control.h"
#include "config/json_model.h"
#include "config/policy/policy_dump.h"
#include "dataplane/packet/headers.h"
#include "tests/lib/chapter_policy.h"
#include "tests/lib/frame_diff.h"
#include "tests/lib/packet_builder.h"

#ifndef HNVCTL_PATH
#error "HNVCTL_PATH must name the hnvctl binary (tests/CMakeLists.txt)"
#endif

namespace hnv::config {

using nlohmann::json;

class RecordingHandler : public RequestHandler {
 public:
  Response Handle(const Request& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(json{{"op", r.op}, {"args", r.args}});
    if (!fail_with_.empty()) return Response::Error(fail_with_);
    if (r.op == "get") {
      const std::optional<Kind> kind = ParseKind(r.args.value("kind", ""));
      if (!kind) return Response::Error("get: unknown kind");
      json objects = KindToJson(policy_, *kind);
      if (*kind == extra_kind_)
        for (size_t i = 0; i < extra_.size() && i < objects.size(); ++i)
          objects[i].update(extra_[i]);
      return Response{true, std::move(objects), {}};
    }
    if (r.op == "new" || r.op == "set") return Response{true, r.args["object"], {}};
    if (r.op == "remove") return Response{true, json::object(), {}};
    if (r.op == "version")
      return Response{true, {{"protocol", 1}, {"program", "hnv-vswitch 0.1"}}, {}};
    if (r.op == "apply") {
      return Response{
          true,
          {{"files", {"/etc/hnv/host1.yaml", "/etc/hnv/contoso.yaml"}}, {"lookup_records", 7}},
          {}};
    }
    if (r.op == "counters") {
      return Response{true,
                      json::parse(R"({
        "ports": [
          {"index": 0, "name": "uplink", "rx_packets": 10, "rx_bytes": 1000, "tx_packets": 12, "tx_bytes": 1500},
          {"index": 1, "name": "vm1", "rx_packets": 5, "rx_bytes": 500, "tx_packets": 3, "tx_bytes": 300}
        ],
        "drops": {"no-lookup-record": 2, "bad-gre-flags": 0, "vsid-mismatch": 1},
        "encapsulated": 7, "routed": 0})"),
                      {}};
    }
    if (r.op == "trace") {
      return Response{true,
                      json::parse(R"({
        "steps": [{"stage": "vm-ingress", "decision": "VSID 6000"},
                  {"stage": "router", "decision": "to 10.0.2.2 on VSID 6001"}],
        "outputs": [{"port": 0, "summary": "NVGRE to 192.168.0.11", "frame": "0011"}]})"),
                      {}};
    }
    if (r.op == "capture" && r.args.value("port", json()) == "slow")  // a capture that runs on
      return Response{true, {{"id", 7}, {"running", true}, {"packets", 0}, {"lost", 0}}, {}};
    if (r.op == "capture") return Response{true, {{"packets", 3}, {"lost", 0}}, {}};
    if (r.op == "capture-status" || r.op == "capture-stop") {
      const bool running = r.op == "capture-status" && ++status_calls_ < 3;
      return Response{true, {{"id", 7}, {"running", running}, {"packets", running ? 1 : 4}, {"lost", 0}}, {}};
    }
    return Response::Error("unknown operation \"" + r.op + "\"");
  }

  std::vector<json> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  void FailWith(std::string message) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_with_ = std::move(message);
  }
  // What `get` answers from; `extra` is merged into the objects of `kind`
  // (the server's additions, such as meter counts) by index.
  void SetPolicy(Policy p, Kind kind = Kind::kLookupRecord, json extra = json::array()) {
    std::lock_guard<std::mutex> lock(mu_);
    policy_ = std::move(p);
    extra_kind_ = kind;
    extra_ = std::move(extra);
  }

 private:
  std::mutex mu_;
  Policy policy_ = test::ChapterHost1();
  std::vector<json> requests_;
  std::string fail_with_;
  int status_calls_ = 0;
  Kind extra_kind_ = Kind::kLookupRecord;
  json extra_ = json::array();
};

struct CtlRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A ControlServer on a socket in a temporary directory, polled by a thread
// with a `Handler`, and hnvctl run against it.
template <typename Handler>
class HnvctlFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hnvctl-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    socket_ = dir_ + "/vswitch.sock";
    std::string error;
    ASSERT_TRUE(server_.Listen(socket_, &error)) << error;
    thread_ = std::thread([this] {
      while (!stop_.load()) server_.Poll(handler_, 10);
    });
  }
  void TearDown() override {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    std::filesystem::remove_all(dir_);
  }

  // Runs hnvctl with HNV_SOCKET pointing at the test server (unless `env_socket`
  // says otherwise).
  CtlRun Hnvctl(const std::vector<std::string>& args, std::optional<std::string> env_socket = {}) {
    const std::string out_path = dir_ + "/stdout";
    const std::string err_path = dir_ + "/stderr";
    std::vector<std::string> argv_s = {HNVCTL_PATH};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string env_line = "HNV_SOCKET=" + env_socket.value_or(socket_);
    std::vector<char*> envp = {env_line.data(), nullptr};

    const pid_t pid = fork();
    if (pid == 0) {
      const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(out, 1);
      dup2(err, 2);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    CtlRun r;
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = ReadFile(out_path);
    r.err = ReadFile(err_path);
    return r;
  }


  std::string dir_;
  std::string socket_;
  ControlServer server_;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class HnvctlTest : public HnvctlFixture<RecordingHandler> {
 protected:
  // The request of the one command run since the last call.
  json OnlyRequest() {
    std::vector<json> all = handler_.requests();
    EXPECT_EQ(all.size(), seen_ + 1);
    if (all.size() <= seen_) return nullptr;
    seen_ = all.size();
    return all.back();
  }
  size_t RequestCount() { return handler_.requests().size(); }

  // Runs a command that must succeed and send exactly `expected`.
  void ExpectRequest(const std::vector<std::string>& args, const char* expected) {
    CtlRun r = Hnvctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(OnlyRequest(), json::parse(expected)) << args[0];
  }

  // A command that fails with exactly this one stderr line, sending nothing.
  void ExpectError(const std::vector<std::string>& args, int code, const std::string& line) {
    const size_t before = RequestCount();
    CtlRun r = Hnvctl(args);
    EXPECT_EQ(r.exit_code, code) << line;
    EXPECT_EQ(r.err, line + "\n");
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(RequestCount(), before) << line;
  }

  size_t seen_ = 0;
};

}  // namespace hnv::config
