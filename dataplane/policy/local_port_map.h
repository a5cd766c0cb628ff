// LocalPortMap: an immutable open-addressing map (VSID, MAC) -> local VM
// port, built once by the control thread from the policy's vm_ports and then
// only read (it lives in the policy Snapshot). Delivery after decapsulation
// needs nothing else from the L2 table, whose local entries come from the
// same vm_ports: a host has tens of VM ports, so this stays in L1 while the
// L2 table holds a million remote MACs (FlatU32Map's style, two words a key).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/packet/types.h"

namespace hnv {

class LocalPortMap {
 public:
  struct Item {
    uint32_t vsid;
    MacAddr mac;
    uint16_t port;
  };

  LocalPortMap() = default;
  // A key given twice keeps its last port (as the L2 table's upserts did;
  // validation refuses such policies anyway).
  explicit LocalPortMap(const std::vector<Item>& items) {
    uint32_t cap = 16;
    while (cap < items.size() * 2) cap <<= 1;
    mask_ = cap - 1;
    slots_.assign(cap, Slot{0, kEmpty, 0, 0});
    for (const Item& it : items) {
      const uint64_t mac = MacWord(it.mac);
      uint32_t i = Hash(it.vsid, mac) & mask_;
      while (slots_[i].vsid != kEmpty && !(slots_[i].vsid == it.vsid && slots_[i].mac == mac))
        i = (i + 1) & mask_;
      slots_[i] = Slot{mac, it.vsid, it.port, 0};
    }
    size_ = static_cast<uint32_t>(items.size());
  }

  // The port of (vsid, mac) in *port; false when it is not a local VM's.
  bool Find(uint32_t vsid, const MacAddr& mac, uint16_t* port) const noexcept {
    if (slots_.empty()) return false;
    const uint64_t m = MacWord(mac);
    uint32_t i = Hash(vsid, m) & mask_;
    while (true) {
      const Slot& s = slots_[i];
      if (s.vsid == vsid && s.mac == m) {
        *port = s.port;
        return true;
      }
      if (s.vsid == kEmpty) return false;
      i = (i + 1) & mask_;
    }
  }
  uint32_t size() const noexcept { return size_; }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;  // not a valid key (VSIDs are 24-bit)
  struct Slot {
    uint64_t mac;  // the 6 bytes little-endian, top 2 bytes zero
    uint32_t vsid;
    uint16_t port;
    uint16_t pad;
  };
  static_assert(sizeof(Slot) == 16);
  // The MAC's 6 bytes in a register (two loads, no stack copy).
  static uint64_t MacWord(const MacAddr& mac) noexcept {
    uint32_t head;
    uint16_t tail;
    std::memcpy(&head, mac.b.data(), 4);
    std::memcpy(&tail, mac.b.data() + 4, 2);
    return head | uint64_t{tail} << 32;
  }
  static uint32_t Hash(uint32_t vsid, uint64_t mac) noexcept {
    const uint64_t h = (mac ^ uint64_t{vsid} << 40) * 0x9e3779b97f4a7c15ull;
    return static_cast<uint32_t>(h >> 32);
  }

  std::vector<Slot> slots_;
  uint32_t mask_ = 0;
  uint32_t size_ = 0;
};

}  // namespace hnv
