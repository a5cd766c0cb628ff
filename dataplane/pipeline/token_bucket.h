// A token bucket on the time-stamp counter, owned by one worker: no lock,
// no atomic, no syscall, no division on the refill. The workers use one to
// rate-limit the ICMP errors they generate (WorkerContext::icmp_errors), so
// that a VM sending TTL-1 or oversized packets at line rate cannot make the
// host answer at line rate (what Linux's icmp_msgs_per_sec and
// icmp_msgs_burst do for its own stack).
//
// Credit is kept in TSC cycles: a token costs hz / rate cycles and the
// bucket holds at most `burst` tokens' worth. The bucket starts full. Rate
// and burst are passed on every call, so a new policy's settings apply at
// once; a lower burst trims the credit on the next call.
#pragma once

#include <algorithm>
#include <cstdint>

namespace hnv {

class TokenBucket {
 public:
  // True, and one token spent, when a token is available at `now` (TSC
  // cycles; `hz` of them a second) for a bucket refilled with `rate` tokens
  // a second that holds at most `burst`. A rate or burst of 0 never gives a
  // token; hz 0 (no time base) always does.
  bool Take(uint64_t now, uint64_t hz, uint32_t rate, uint32_t burst) noexcept {
    if (rate == 0 || burst == 0) return false;
    if (hz == 0) return true;
    const uint64_t cost = std::max<uint64_t>(hz / rate, 1);
    const uint64_t capacity = cost * burst;
    if (!started_) {
      started_ = true;
      credit_ = capacity;
    } else if (now > last_) {
      // Saturating: a worker idle for a long time comes back full, no more.
      const uint64_t gained = now - last_;
      credit_ = gained >= capacity ? capacity : std::min(capacity, credit_ + gained);
    } else {
      credit_ = std::min(credit_, capacity);
    }
    last_ = std::max(last_, now);
    if (credit_ < cost) return false;
    credit_ -= cost;
    return true;
  }

 private:
  uint64_t credit_ = 0;  // TSC cycles' worth of tokens
  uint64_t last_ = 0;
  bool started_ = false;
};

}  // namespace hnv
