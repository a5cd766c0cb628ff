// Daemon logging: one line per event on stderr with a timestamp (systemd's
// journal takes stderr as it is). Control thread only; never per packet.
#pragma once

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace hnv::vswitch {

__attribute__((format(printf, 1, 2))) inline void Log(const char* fmt, ...) {
  char ts[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", std::localtime(&now));
  std::fprintf(stderr, "%s hnv-vswitch: ", ts);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace hnv::vswitch
