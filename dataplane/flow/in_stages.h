// How a burst's flow-table lookups are walked (nat/'s features, the port
// ACLs' sessions): in chunks of 32 frames, each in three passes, so that
// the table lookups' cache misses overlap (as DPDK's bulk lookups do):
//   view(frame, slot)          parse frame `frame` into the chunk's `slot`;
//                              true when it needs a lookup (having
//                              prefetched its index bucket);
//   fetch(slot)                prefetch the records that lookup will read;
//   finish(frame, slot, look)  decide the frame.
// Header-only; no allocation.
#pragma once

#include <algorithm>
#include <cstdint>

namespace hnv {

inline constexpr uint16_t kStageChunk = 32;

template <typename View, typename Fetch, typename Finish>
inline void InStages(uint16_t n, View&& view, Fetch&& fetch, Finish&& finish) {
  bool look[kStageChunk];
  for (uint16_t base = 0; base < n; base += kStageChunk) {
    const uint16_t m = std::min<uint16_t>(kStageChunk, static_cast<uint16_t>(n - base));
    for (uint16_t i = 0; i < m; ++i) look[i] = view(static_cast<uint16_t>(base + i), i);
    for (uint16_t i = 0; i < m; ++i)
      if (look[i]) fetch(i);
    for (uint16_t i = 0; i < m; ++i) finish(static_cast<uint16_t>(base + i), i, look[i]);
  }
}

}  // namespace hnv
