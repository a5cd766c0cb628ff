// Counts the heap allocations the current thread makes while a counter is
// alive:
//
//   AllocCounter c;
//   stage.Process(ctx, burst, out);
//   EXPECT_EQ(c.count(), 0u);
//
// How: alloc_counter.cc replaces the global operator new/new[]/delete/delete[]
// (every standard form: plain, sized, nothrow, aligned) for any binary that
// links hnv_testlib. They forward to malloc/free (posix_memalign for the
// aligned forms) and count when a thread_local depth is non-zero, so other
// threads and code outside a counter's scope are not counted. Replacing these
// operators is allowed under AddressSanitizer: ASan then checks our malloc and
// free calls instead (it loses only new/delete vs malloc/free mismatch
// reports).
//
// Not counted: malloc/calloc/realloc called directly (C code, strdup, DPDK's
// rte_malloc, which takes memory from its own heap anyway). Counting those
// would mean interposing malloc itself, which fights ASan's own interposer, or
// `-Wl,--wrap=malloc`, which only sees calls from our own objects and misses
// libstdc++'s; neither is clean. The per-packet path has no reason to call
// malloc directly, and a review grep catches it; what std:: containers,
// std::string and std::function do is all counted.
//
// Nested counters each see every allocation made while they are alive.
// Thread: a counter belongs to the thread that created it.
#pragma once

#include <cstdint>

// ThreadSanitizer's runtime defines the global operator new itself: under
// it nothing is replaced and nothing counted (the allocation tests skip;
// they run in the normal and ASan builds).
#include "dataplane/policy/tsan.h"  // HNV_THREAD_SANITIZER

namespace hnv::test {

#ifdef HNV_THREAD_SANITIZER
inline constexpr bool kAllocCounting = false;
#else
inline constexpr bool kAllocCounting = true;
#endif

class AllocCounter {
 public:
  AllocCounter();
  ~AllocCounter();
  AllocCounter(const AllocCounter&) = delete;
  AllocCounter& operator=(const AllocCounter&) = delete;

  // Allocations (calls of any operator new) since construction.
  uint64_t count() const;
  // Bytes requested by those allocations.
  uint64_t bytes() const;
  // Deallocations (calls of any operator delete with a non-null pointer).
  uint64_t frees() const;

 private:
  uint64_t start_count_;
  uint64_t start_bytes_;
  uint64_t start_frees_;
};

}  // namespace hnv::test
