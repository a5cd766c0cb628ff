// StartupClock: where a daemon's start goes (EAL, dataplane, policy,
// compartments, ...), logged once as "started in N ms (eal A, dataplane B,
// ...)" so a restart's cost can be read off the log and cut where it is
// spent. Control thread only.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace hnv::daemon {

class StartupClock {
 public:
  using Clock = std::chrono::steady_clock;
  StartupClock() : start_(Clock::now()), last_(start_) {}

  // The time since the previous mark (or the start) was spent on `phase`.
  void Mark(std::string phase) {
    const Clock::time_point now = Clock::now();
    phases_.emplace_back(std::move(phase), Ms(now - last_));
    last_ = now;
  }
  double TotalMs() const { return Ms(last_ - start_); }
  // "started in 412 ms (eal 120, dataplane 200, ...)"; `verb` "stopped" for a stop.
  std::string Summary(const char* verb = "started") const {
    std::string s = std::string(verb) + " in " + Fmt(TotalMs()) + " ms (";
    for (size_t i = 0; i < phases_.size(); ++i)
      s += (i == 0 ? "" : ", ") + phases_[i].first + " " + Fmt(phases_[i].second);
    return s + ")";
  }

 private:
  static double Ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  }
  static std::string Fmt(double ms) { return std::to_string(static_cast<long long>(ms + 0.5)); }

  Clock::time_point start_;
  Clock::time_point last_;
  std::vector<std::pair<std::string, double>> phases_;
};

}  // namespace hnv::daemon
