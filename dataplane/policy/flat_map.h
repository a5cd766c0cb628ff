// FlatU32Map: an immutable open-addressing map from uint32_t to uint32_t,
// built once by the control thread and then only read. Used inside policy
// snapshots (e.g. VSID -> index), where an rte_hash would be overkill and a
// std::unordered_map would chase pointers.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace hnv {

class FlatU32Map {
 public:
  static constexpr uint32_t kMissing = 0xffffffffu;

  FlatU32Map() = default;
  explicit FlatU32Map(const std::vector<std::pair<uint32_t, uint32_t>>& items) {
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

  uint32_t Find(uint32_t key) const noexcept {
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
  static constexpr uint32_t kEmpty = 0xffffffffu;  // not a valid key (VSIDs are 24-bit)
  struct Slot {
    uint32_t key;
    uint32_t value;
  };
  static uint32_t Hash(uint32_t k) { return (k * 0x9e3779b1u) >> 7 ^ k; }

  std::vector<Slot> slots_;
  uint32_t mask_ = 0;
};

}  // namespace hnv
