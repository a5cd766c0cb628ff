// Property and scale tests at sanitizer cost.
//
// CI runs the unit suites twice: in the normal build, at full size, and
// again under AddressSanitizer + UndefinedBehaviorSanitizer (-O0) and
// ThreadSanitizer, where the same loops run 10 to 20 times slower (the
// journal's replay property took 86 s under ASan against 5 s). The
// sanitized runs are there to catch memory errors, undefined behaviour and
// races on every path, which a fraction of the iterations walks as well; the
// normal build keeps the full counts for the properties themselves. A test
// scales its loop counts and sizes only, never what it asserts.
#pragma once

#include <cstdint>

namespace hnv::test {

#if defined(HNV_SANITIZED_BUILD)
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = false;
#endif

// `full` in the normal build; full / divisor (at least 1) under a sanitizer.
constexpr uint32_t SanitizerScaled(uint32_t full, uint32_t divisor) {
  return kSanitizedBuild && divisor > 1 ? (full / divisor > 0 ? full / divisor : 1) : full;
}

}  // namespace hnv::test
