#include "dataplane/flow/flow_index.h"

#include <algorithm>
#include <cmath>

namespace hnv {
namespace {

constexpr int kMaxPath = 64;
constexpr int kAttempts = 8;

}  // namespace

bool FlowIndex::Init(uint32_t entries, double load) {
  load = std::clamp(load, 0.1, 1.0);
  const double want = std::ceil(static_cast<double>(std::max<uint32_t>(entries, 1)) /
                                (kSlots * load));
  nb_ = static_cast<uint32_t>(std::max(want, 2.0));
  size_ = 0;
  if (!region_.Allocate(sizeof(Bucket) * static_cast<size_t>(nb_))) return false;
  buckets_ = static_cast<Bucket*>(region_.data());  // zeroed: every tag 0 (empty)
  return true;
}

bool FlowIndex::Insert(uint64_t hash, uint32_t value) noexcept {
  const Spot w = Locate(hash);
  const uint16_t tag2 = static_cast<uint16_t>(w.tag | 1);
  const uint32_t b2 = Other(w.b1, w.tag);
  for (const auto& [b, tag] : {std::pair{w.b1, w.tag}, std::pair{b2, tag2}}) {
    if (const int s = FreeSlot(buckets_[b]); s >= 0) {
      buckets_[b].tag[s] = tag;
      buckets_[b].value[s] = value;
      ++size_;
      ++changes_;
      return true;
    }
  }
  // Both full: walks from either bucket, a few times (each walk is random).
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (((hash >> 32) + static_cast<uint64_t>(attempt)) & 1) {
      if (Displace(b2, tag2, value)) return true;
    } else if (Displace(w.b1, w.tag, value)) {
      return true;
    }
  }
  return false;
}

// A random walk from `start`: each step picks a slot, looks at the other
// bucket of its entry, and stops at the first bucket with a free slot. Only
// then are the entries moved, last first, so a walk that finds nothing
// leaves the index as it was.
bool FlowIndex::Displace(uint32_t start, uint16_t tag, uint32_t value) noexcept {
  struct Step {
    uint32_t b;
    uint32_t slot;
  };
  Step path[kMaxPath];
  uint32_t b = start;
  uint32_t from = start;  // the bucket the walk came from: never straight back
  for (int n = 0; n < kMaxPath; ++n) {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    uint32_t slot = static_cast<uint32_t>(rng_ % kSlots);
    for (uint32_t k = 0; k < kSlots && n > 0 && Other(b, buckets_[b].tag[slot]) == from; ++k)
      slot = slot + 1 == kSlots ? 0 : slot + 1;
    for (int i = 0; i < n; ++i)
      if (path[i].b == b && path[i].slot == slot) return false;  // a loop: give up
    path[n] = Step{b, slot};
    const uint16_t moving = buckets_[b].tag[slot];
    const uint32_t dest = Other(b, moving);
    const int free_slot = FreeSlot(buckets_[dest]);
    if (free_slot < 0) {
      from = b;
      b = dest;
      continue;
    }
    // Move path[n]'s entry to the free slot, then each earlier one into the
    // slot its successor left.
    uint32_t to_b = dest;
    uint32_t to_s = static_cast<uint32_t>(free_slot);
    for (int i = n; i >= 0; --i) {
      const Bucket& src = buckets_[path[i].b];
      buckets_[to_b].tag[to_s] = static_cast<uint16_t>(src.tag[path[i].slot] ^ 1);
      buckets_[to_b].value[to_s] = src.value[path[i].slot];
      to_b = path[i].b;
      to_s = path[i].slot;
    }
    buckets_[start].tag[path[0].slot] = tag;
    buckets_[start].value[path[0].slot] = value;
    ++size_;
    ++changes_;
    return true;
  }
  return false;
}

bool FlowIndex::Erase(uint64_t hash, uint32_t value) noexcept {
  const Spot w = Locate(hash);
  const uint16_t tag2 = static_cast<uint16_t>(w.tag | 1);
  const uint32_t b2 = Other(w.b1, w.tag);
  for (const auto& [b, tag] : {std::pair{w.b1, w.tag}, std::pair{b2, tag2}}) {
    Bucket& bk = buckets_[b];
    for (uint32_t i = 0; i < kSlots; ++i) {
      if (bk.tag[i] == tag && bk.value[i] == value) {
        bk.tag[i] = 0;
        bk.value[i] = 0;
        --size_;
        ++changes_;
        return true;
      }
    }
  }
  return false;
}

}  // namespace hnv
