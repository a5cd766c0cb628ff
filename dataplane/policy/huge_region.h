// HugeRegion: zeroed memory for the big lookup tables, on 2 MiB pages where
// the kernel can give them, whether or not DPDK runs on hugepages.
//
// A lookup at a million records misses the caches twice (rcu_hash.h); on
// 4 KiB pages each miss is also a TLB miss and a page walk, which cost as
// much again (FindCaBulk 24-30 ns per key on 4 KiB pages, ~19 on 2 MiB).
// The region is an anonymous mapping advised MADV_HUGEPAGE (transparent
// huge pages: Debian's default mode "madvise" honours it) and touched
// completely at creation, so no page fault can happen later on the packet
// path. Where the kernel has no huge page to give, the region is on 4 KiB
// pages and only slower.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace hnv {

class HugeRegion {
 public:
  static constexpr size_t kHugePage = size_t{2} << 20;

  HugeRegion() = default;
  HugeRegion(const HugeRegion&) = delete;
  HugeRegion& operator=(const HugeRegion&) = delete;
  HugeRegion(HugeRegion&& o) noexcept { *this = std::move(o); }
  HugeRegion& operator=(HugeRegion&& o) noexcept {
    std::swap(base_, o.base_);
    std::swap(mapped_, o.mapped_);
    std::swap(data_, o.data_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~HugeRegion() {
    if (base_ != nullptr) munmap(base_, mapped_);
  }

  // `bytes` of zeroes, page aligned; from 1 MiB on, on 2 MiB pages aligned
  // to 2 MiB (a smaller table stays in the caches, and rounding it up to a
  // huge page would waste memory: a gateway has small tables per tenant).
  // False when the mapping fails.
  bool Allocate(size_t bytes) {
    const bool huge = bytes >= kHugePage / 2;
    const size_t unit = huge ? kHugePage : 4096;
    const size_t len = (std::max<size_t>(bytes, 1) + unit - 1) / unit * unit;
    mapped_ = huge ? len + kHugePage : len;  // room to align the start
    void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    base_ = p;
    const auto addr = reinterpret_cast<uintptr_t>(p);
    data_ = huge ? reinterpret_cast<void*>((addr + kHugePage - 1) / kHugePage * kHugePage) : p;
    bytes_ = bytes;
    if (huge) madvise(data_, len, MADV_HUGEPAGE);  // advice only: 4 KiB pages if refused
    std::memset(data_, 0, len);  // every page present now, none faulted later
    return true;
  }
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* base_ = nullptr;
  size_t mapped_ = 0;
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace hnv
