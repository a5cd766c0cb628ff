// Daemon: one supervised process (daemon.h).
#include "s2s/daemon.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "s2s/files.h"

namespace hnv::s2s {

bool Daemon::Adopt(Clock::time_point now) {
  const std::optional<ProcessId> p = ReadProcessRecord(record_);
  if (!p || !IsRunning(*p)) return false;
  std::error_code ec;
  const std::string exe =
      std::filesystem::read_symlink("/proc/" + std::to_string(p->pid) + "/exe", ec).string();
  if (ec || exe != program_) return false;
  id_ = *p;
  started_ = now;
  stopped_ = false;
  return true;
}

bool Daemon::Launch(const LaunchSpec& spec, Clock::time_point now, std::string* error) {
  stopped_ = false;
  if (exiting_.valid() && IsRunning(exiting_)) {
    *error = name_ + ": the previous one (pid " + std::to_string(exiting_.pid) +
             ") is still exiting";
    Died(now, *error);
    return false;
  }
  exiting_ = {};
  std::optional<ProcessId> p = s2s::Launch(spec, error);
  if (!p) {
    Died(now, "could not start: " + *error);
    return false;
  }
  if (deaths_ > 0) ++restarts_;
  id_ = *p;
  started_ = now;
  std::string why;
  if (!WriteProcessRecord(record_, id_, &why)) {
    // Without the record a restarted hnv-gateway would start a second one.
    *error = name_ + ": " + why;
    Kill();
    Died(now, *error);
    return false;
  }
  return true;
}

bool Daemon::CheckDied(Clock::time_point now) {
  if (exiting_.valid() && !IsRunning(exiting_)) exiting_ = {};
  if (!running()) return false;
  int status = -1;
  if (IsRunning(id_, &status)) return false;
  id_ = {};
  Died(now, DescribeExit(status));
  return true;
}

void Daemon::StartFailed(Clock::time_point now, const std::string& why) {
  Kill();
  Died(now, why);
}

bool Daemon::Kill(std::chrono::milliseconds grace) {
  if (!running()) return true;
  const bool gone = Terminate(id_, grace);
  if (!gone) exiting_ = id_;
  id_ = {};
  return gone;
}

void Daemon::Died(Clock::time_point now, std::string why) {
  ++deaths_;
  last_exit_ = std::move(why);
  if (started_ != Clock::time_point{} && now - started_ >= kStableAfter)
    backoff_ = std::chrono::seconds(1);
  next_start_ = now + backoff_;
  backoff_ = std::min<Clock::duration>(backoff_ * 2, kMaxBackoff);
}

bool Daemon::Stop(std::chrono::milliseconds grace) {
  const bool ok = Kill(grace);
  stopped_ = true;
  unlink(record_.c_str());
  return ok;
}

Json Daemon::Status(Clock::time_point now) const {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  Json j;
  if (running()) {
    j["state"] = "running";
    j["pid"] = id_.pid;
    j["running_seconds"] = duration_cast<seconds>(now - started_).count();
  } else {
    j["state"] = stopped_ ? "stopped" : "restarting";
    if (!stopped_)
      j["next_start_seconds"] =
          std::max<long long>(0, duration_cast<seconds>(next_start_ - now).count());
  }
  if (exiting_.valid()) j["exiting_pid"] = exiting_.pid;
  j["restarts"] = restarts_;
  if (!last_exit_.empty()) j["last_exit"] = last_exit_;
  return j;
}

}  // namespace hnv::s2s
