// ThreadSanitizer and DPDK: hand-overs it cannot see.
//
// An mbuf handed to another thread through our own rings is seen (the TSan
// build compiles DPDK's C11 ring variant, CMakeLists.txt). One handed over
// through a PMD (rte_eth_tx_burst on one thread, rte_eth_rx_burst on
// another: net_ring in the tests) passes through DPDK's uninstrumented
// libraries, so the dataplane marks the hand-over itself: released before a
// transmit, acquired after a receive. So are a worker's launch and end
// (EAL's rte_eal_remote_launch / rte_eal_wait_lcore, also uninstrumented).
// Compiled out unless under TSan.
#pragma once

#include <rte_mbuf.h>

#if defined(__SANITIZE_THREAD__)
#define HNV_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HNV_THREAD_SANITIZER 1
#endif
#endif

#ifdef HNV_THREAD_SANITIZER
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace hnv {

inline void TsanRelease([[maybe_unused]] void* sync) {
#ifdef HNV_THREAD_SANITIZER
  __tsan_release(sync);
#endif
}

inline void TsanAcquire([[maybe_unused]] void* sync) {
#ifdef HNV_THREAD_SANITIZER
  __tsan_acquire(sync);
#endif
}

inline void TsanReleaseMbufs([[maybe_unused]] rte_mbuf* const* m, [[maybe_unused]] unsigned n) {
#ifdef HNV_THREAD_SANITIZER
  for (unsigned i = 0; i < n; ++i) __tsan_release(m[i]);
#endif
}

inline void TsanAcquireMbufs([[maybe_unused]] rte_mbuf* const* m, [[maybe_unused]] unsigned n) {
#ifdef HNV_THREAD_SANITIZER
  for (unsigned i = 0; i < n; ++i) __tsan_acquire(m[i]);
#endif
}

}  // namespace hnv
