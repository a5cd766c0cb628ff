// RecordPool<T>: the fixed array of records behind a per-worker flow table
// (NAT sessions, load-balancer connections, ACL sessions): allocated once, free
// records on a free list, and a cursor for amortised expiry.
//
// T is a trivially copyable record with `uint8_t proto1` (0 = free) and
// `uint32_t next` (the free list's link while free). Records never move, so
// a record number is a stable handle for the indexes (FlowIndex).
//
// Thread: one worker; Init allocates, nothing else does.
#pragma once

#include <cstdint>
#include <type_traits>

#include "dataplane/policy/huge_region.h"

namespace hnv {

template <typename T>
class RecordPool {
 public:
  static_assert(std::is_trivially_copyable_v<T>);
  static constexpr uint32_t kNone = 0xffffffffu;

  bool Init(uint32_t capacity) {
    if (capacity == 0 || !region_.Allocate(sizeof(T) * static_cast<size_t>(capacity))) return false;
    records_ = static_cast<T*>(region_.data());  // zeroed: every proto1 0 (free)
    capacity_ = capacity;
    for (uint32_t i = 0; i < capacity; ++i) records_[i].next = i + 1 < capacity ? i + 1 : kNone;
    free_ = 0;
    live_ = 0;
    cursor_ = 0;
    return true;
  }

  bool empty_free_list() const { return free_ == kNone; }
  // A free record's number (the caller fills it in, proto1 != 0), or kNone.
  uint32_t Take() noexcept {
    const uint32_t i = free_;
    if (i == kNone) return kNone;
    free_ = records_[i].next;
    ++live_;
    return i;
  }
  void Give(uint32_t i) noexcept {
    records_[i].proto1 = 0;
    records_[i].next = free_;
    free_ = i;
    --live_;
  }

  // Visits up to `budget` records from the cursor on, calling
  // `reap(i)` for each live one; reap returns whether it freed it. Returns
  // how many were freed.
  template <typename Reap>
  uint32_t Sweep(uint32_t budget, Reap&& reap) noexcept {
    uint32_t freed = 0;
    for (uint32_t k = 0; k < budget && live_ != 0; ++k) {
      const uint32_t i = cursor_;
      cursor_ = cursor_ + 1 == capacity_ ? 0 : cursor_ + 1;
      if (records_[i].proto1 != 0 && reap(i)) ++freed;
    }
    return freed;
  }

  T& operator[](uint32_t i) noexcept { return records_[i]; }
  const T& operator[](uint32_t i) const noexcept { return records_[i]; }
  void Prefetch(uint32_t i) const noexcept { __builtin_prefetch(&records_[i]); }
  uint32_t live() const { return live_; }
  uint32_t capacity() const { return capacity_; }
  size_t bytes() const { return region_.bytes(); }

 private:
  HugeRegion region_;
  T* records_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t free_ = kNone;
  uint32_t live_ = 0;
  uint32_t cursor_ = 0;
};

}  // namespace hnv
