// FlatMap: an immutable open-addressing map from an unsigned integer key
// (uint32_t or uint64_t) to uint32_t, built once by the control thread and
// then only read. Used inside policy snapshots (e.g. VSID -> index; nat/'s
// port forwards by address, protocol and port), where an rte_hash would be
// overkill and a std::unordered_map would chase pointers. The key with all
// bits set is reserved (it marks empty slots).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace hnv {

template <typename Key>
class FlatMap {
 public:
  static constexpr uint32_t kMissing = 0xffffffffu;

  FlatMap() = default;
  explicit FlatMap(const std::vector<std::pair<Key, uint32_t>>& items) {
    uint32_t cap = 16;
    while (cap < items.size() * 2) cap <<= 1;
    mask_ = cap - 1;
    slots_.assign(cap, Slot{kEmpty, kMissing});
    for (const auto& [k, v] : items) {
      uint32_t i = Hash(k) & mask_;
      while (slots_[i].key != kEmpty && slots_[i].key != k) i = (i + 1) & mask_;
      slots_[i] = Slot{k, v};
    }
  }

  uint32_t Find(Key key) const noexcept {
    if (slots_.empty()) return kMissing;
    uint32_t i = Hash(key) & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.key == key) return s.value;
      if (s.key == kEmpty) return kMissing;
      i = (i + 1) & mask_;
    }
  }

 private:
  static constexpr Key kEmpty = ~Key{0};  // not a valid key (VSIDs are 24-bit)
  struct Slot {
    Key key;
    uint32_t value;
  };
  static uint32_t Hash(Key key) {
    const auto k = static_cast<uint32_t>(key ^ (key >> 31 >> 1));
    return (k * 0x9e3779b1u) >> 7 ^ k;
  }

  std::vector<Slot> slots_;
  uint32_t mask_ = 0;
};

using FlatU32Map = FlatMap<uint32_t>;
using FlatU64Map = FlatMap<uint64_t>;

}  // namespace hnv
