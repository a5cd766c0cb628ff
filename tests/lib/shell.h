// Test helpers for the tests that check with the real tools: a shell
// command's exit status and output, and bounded waits.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

namespace hnv::test {

// Runs `cmd` with sh; returns its exit status (-1 when it did not exit);
// stdout and stderr into *out.
inline int Sh(const std::string& cmd, std::string* out = nullptr) {
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr) return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  const int st = pclose(f);
  if (out != nullptr) *out = text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

inline std::string ShOut(const std::string& cmd) {
  std::string out;
  Sh(cmd, &out);
  return out;
}

// Checks pred() until it holds or `ms` elapse. Between checks: `step` (when
// given) and a sleep of `interval_ms`; by default (-1) 5 ms without a step
// and none with one (the step waits itself, e.g. a Poll with a timeout).
inline bool WaitFor(const std::function<bool()>& pred, int ms,
                    const std::function<void()>& step = nullptr, int interval_ms = -1) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    if (step) step();
    const int sleep_ms = interval_ms >= 0 ? interval_ms : (step ? 0 : 5);
    if (sleep_ms > 0) usleep(static_cast<useconds_t>(sleep_ms) * 1000);
  }
  return true;
}

}  // namespace hnv::test
