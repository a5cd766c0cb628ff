// One supervised daemon process of a service (charon, zebra, bgpd): its
// identity, kept in a record file of the instance directory so that a new
// hnv-gateway adopts it after a crash instead of starting a second one; its
// deaths, and when it may be started again.
//
// Restart policy: a daemon that dies is started again after a backoff of
// 1 s, doubled at each death that follows less than kStableAfter of running,
// up to kMaxBackoff; a daemon that ran kStableAfter or longer starts over at
// 1 s. Only the service's Poll restarts it; Daemon just keeps the times.
// A daemon killed whose exit the kernel still holds (Terminate gave up
// waiting) is kept as `exiting`: no new one starts beside it (it still has
// its sockets, and charon its ipsec0) until it has gone.
//
// Thread: the owner's (the control thread).
#pragma once

#include <chrono>
#include <string>

#include "s2s/process.h"
#include "s2s/vici.h"

namespace hnv::s2s {

using Clock = std::chrono::steady_clock;

class Daemon {
 public:
  static constexpr std::chrono::seconds kStableAfter{60};
  static constexpr std::chrono::seconds kMaxBackoff{30};

  // `program`: the absolute path it runs (adoption checks it).
  Daemon(std::string name, std::string program, std::string record_path)
      : name_(std::move(name)), program_(std::move(program)), record_(std::move(record_path)) {}

  // Takes over the process of the record when it still runs `program` (a
  // previous hnv-gateway's). Returns whether it did.
  bool Adopt(Clock::time_point now);
  bool Launch(const LaunchSpec& spec, Clock::time_point now, std::string* error);
  // Whether it died since the last call; it is then not running and its
  // next start is due after the backoff.
  bool CheckDied(Clock::time_point now);
  // A start that failed (after Launch, e.g. charon never opened its socket):
  // terminates what runs and schedules the next attempt.
  void StartFailed(Clock::time_point now, const std::string& why);
  bool Due(Clock::time_point now) const {
    return !stopped_ && !running() && !exiting_.valid() && now >= next_start_;
  }
  // SIGTERM (SIGKILL after `grace`), then forgets the record. Returns false
  // when it had not ended 5 s after the SIGKILL (it is then `exiting`).
  bool Stop(std::chrono::milliseconds grace);
  // Lets go of the process without signalling it; the record stays for the
  // next Adopt.
  void Forget() {
    id_ = {};
    stopped_ = true;
  }

  bool running() const { return id_.valid(); }
  const ProcessId& id() const { return id_; }
  // Killed, its exit not over yet (see above); invalid otherwise.
  const ProcessId& exiting() const { return exiting_; }
  const std::string& name() const { return name_; }
  int restarts() const { return restarts_; }
  // {"state": "running"|"restarting"|"stopped", "pid", "running_seconds",
  //  "restarts", "last_exit", "next_start_seconds", "exiting_pid"}
  Json Status(Clock::time_point now) const;

 private:
  void Died(Clock::time_point now, std::string why);
  // Terminate (process.h) of what runs; what does not end in time becomes
  // exiting_. Returns whether it ended.
  bool Kill(std::chrono::milliseconds grace = std::chrono::seconds(2));

  std::string name_;
  std::string program_;
  std::string record_;
  ProcessId id_;
  ProcessId exiting_;
  Clock::time_point started_{};
  Clock::time_point next_start_{};
  Clock::duration backoff_ = std::chrono::seconds(1);
  int restarts_ = 0;  // deaths followed by a start
  int deaths_ = 0;
  bool stopped_ = true;  // not started yet, or Stop()ed: not due for restarts
  std::string last_exit_;
};

}  // namespace hnv::s2s
