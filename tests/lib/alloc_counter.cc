#include "tests/lib/alloc_counter.h"

#include <cstddef>
#include <cstdlib>
#include <new>

namespace hnv::test {
namespace {

// Plain thread_locals of trivial type: no constructor, no allocation on first
// use, safe to touch from inside operator new.
thread_local int t_depth = 0;
thread_local uint64_t t_count = 0;
thread_local uint64_t t_bytes = 0;
thread_local uint64_t t_frees = 0;

void* Allocate(std::size_t size, std::size_t align) {
  if (t_depth > 0) {
    ++t_count;
    t_bytes += size;
  }
  if (size == 0) size = 1;  // operator new returns a unique pointer for 0
  for (;;) {
    void* p = nullptr;
    if (align <= alignof(std::max_align_t)) {
      p = std::malloc(size);
    } else if (posix_memalign(&p, align, size) != 0) {
      p = nullptr;
    }
    if (p != nullptr) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) return nullptr;
    handler();
  }
}

[[maybe_unused]] void* AllocateOrThrow(std::size_t size, std::size_t align) {
  void* p = Allocate(size, align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

[[maybe_unused]] void Release(void* p) {
  if (p == nullptr) return;
  if (t_depth > 0) ++t_frees;
  std::free(p);
}

[[maybe_unused]] std::size_t Align(std::align_val_t a) {
  // posix_memalign wants a power of two multiple of sizeof(void*).
  const auto v = static_cast<std::size_t>(a);
  return v < sizeof(void*) ? sizeof(void*) : v;
}

}  // namespace

AllocCounter::AllocCounter() : start_count_(t_count), start_bytes_(t_bytes), start_frees_(t_frees) {
  ++t_depth;
}
AllocCounter::~AllocCounter() { --t_depth; }
uint64_t AllocCounter::count() const { return t_count - start_count_; }
uint64_t AllocCounter::bytes() const { return t_bytes - start_bytes_; }
uint64_t AllocCounter::frees() const { return t_frees - start_frees_; }

}  // namespace hnv::test

#ifndef HNV_THREAD_SANITIZER
using hnv::test::Align;
using hnv::test::AllocateOrThrow;
using hnv::test::Release;

// The replaceable global allocation functions ([new.delete]). The nothrow
// forms must not throw, so they catch what a throwing new_handler raises.
void* operator new(std::size_t n) { return AllocateOrThrow(n, 0); }
void* operator new[](std::size_t n) { return AllocateOrThrow(n, 0); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return AllocateOrThrow(n, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return AllocateOrThrow(n, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) { return AllocateOrThrow(n, Align(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return AllocateOrThrow(n, Align(a)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return AllocateOrThrow(n, Align(a));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return AllocateOrThrow(n, Align(a));
  } catch (...) {
    return nullptr;
  }
}

void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, std::size_t) noexcept { Release(p); }
void operator delete[](void* p, std::size_t) noexcept { Release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { Release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { Release(p); }
void operator delete(void* p, std::align_val_t) noexcept { Release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { Release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { Release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { Release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { Release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { Release(p); }
#endif  // HNV_THREAD_SANITIZER
