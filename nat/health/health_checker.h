// HealthChecker: the load balancer's backend checks, run from a tenant
// compartment's network namespace (the backends are reachable there, in the
// VM network, and nowhere else). Control side: sockets and a thread, never
// on a worker.
//
// Theory of operation. One thread per checker. It enters the namespace
// first (setns(CLONE_NEWNET) changes only the calling thread), so every
// socket it opens is the namespace's, then loops on poll(2) with
// non-blocking sockets:
//  - each target is checked every `interval_ms`: a TCP connect to the
//    backend (the check's port, or the backend's), succeeding when the
//    connection is established; or for HTTP, a "GET <path> HTTP/1.0"
//    request on that connection, succeeding on a 2xx or 3xx status line;
//  - a check that has not succeeded within `timeout_ms` (or is refused, or
//    answers another status) fails;
//  - `rise` consecutive successes bring a down target up, `fall`
//    consecutive failures take an up target down; targets start up (traffic
//    flows at once; a dead backend is out after `fall` intervals).
// Each change of state is reported to `on_change` (on the checker's thread:
// keep it short, e.g. post to the control thread, which rebuilds the
// compartment's LbRules), and States() gives every target's state.
// Update() replaces the targets; a target equal to an old one (address,
// port and check) keeps its state. Destruction stops and joins the thread.
//
// Thread contract: the public members are called from one control thread;
// States() and the callback are synchronised with the checker's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nat/model.h"

namespace hnv::nat {

struct HealthTarget {
  IpAddr address;  // IPv4 or IPv6
  uint16_t port = 0;
  HealthCheckSpec check;  // kind kTcp or kHttp (kNone targets are never checked: always up)
  friend bool operator==(const HealthTarget&, const HealthTarget&) = default;
};

struct HealthState {
  bool up = true;
  uint32_t successes = 0;  // consecutive
  uint32_t failures = 0;   // consecutive
  uint64_t checks = 0;
  std::string last_error;  // of the last failed check ("" after a success)
};

class HealthChecker {
 public:
  using OnChange = std::function<void(size_t target, bool up)>;

  // Starts checking `targets` from the namespace `netns_fd` (duplicated; -1:
  // the caller's namespace). nullptr and *error when the thread cannot
  // start or enter the namespace.
  static std::unique_ptr<HealthChecker> Start(int netns_fd, std::vector<HealthTarget> targets,
                                              OnChange on_change, std::string* error);
  // The same for a named namespace (/run/netns/<name>).
  static std::unique_ptr<HealthChecker> StartIn(const std::string& netns,
                                                std::vector<HealthTarget> targets,
                                                OnChange on_change, std::string* error);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void Update(std::vector<HealthTarget> targets);
  std::vector<HealthState> States() const;

 private:
  HealthChecker() = default;
  // The thread: enters the namespace, says so through `started` ("" or
  // the error), then loops until stop_.
  void Run(int netns_fd, std::promise<std::string>* started);
  void Loop();
  // Records a check's result for target i of generation `gen` (a result
  // for targets since replaced is ignored); returns whether it changed state.
  bool Record(uint64_t gen, size_t i, bool ok, const std::string& error);

  mutable std::mutex mu_;
  std::vector<HealthTarget> targets_;  // guarded by mu_
  std::vector<HealthState> states_;    // guarded by mu_
  uint64_t generation_ = 1;            // bumped by Update; guarded by mu_
  OnChange on_change_;
  std::atomic<bool> stop_{false};
  int wake_fd_ = -1;  // eventfd: Update and the destructor wake the loop
  std::thread thread_;
};

}  // namespace hnv::nat
