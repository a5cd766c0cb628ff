// Daemon logging (hnv-vswitch, hnv-gateway): one line per event on stderr
// with a timestamp and the program's name (systemd's journal takes stderr as
// it is). Control thread only; never per packet.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace hnv {

// The name each line starts with; main() sets it once.
inline const char* g_log_program = "hnv-vswitch";

__attribute__((format(printf, 1, 2))) inline void Log(const char* fmt, ...) {
  char ts[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", std::localtime(&now));
  std::fprintf(stderr, "%s %s: ", ts, g_log_program);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace hnv
