#include "nat/maglev.h"

#include <algorithm>

namespace hnv::nat {
namespace {

// Two independent mixes of a backend's identity (splitmix64 finalisers
// with different constants): the offset and the skip of its permutation.
uint64_t Mix(uint64_t x, uint64_t k) {
  x += k;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

void BuildMaglev(const std::vector<MaglevBackend>& backends, uint32_t m,
                 std::vector<uint16_t>* table) {
  table->assign(m, kMaglevEmpty);
  const size_t n = std::min<size_t>(backends.size(), kMaglevEmpty);
  uint32_t max_weight = 0;
  for (size_t i = 0; i < n; ++i) max_weight = std::max(max_weight, backends[i].weight);
  if (max_weight == 0 || m < 2) return;

  std::vector<uint32_t> pos(n), skip(n);
  std::vector<uint64_t> credit(n, 0);
  for (size_t i = 0; i < n; ++i) {
    pos[i] = static_cast<uint32_t>(Mix(backends[i].id, 0x9e3779b97f4a7c15ull) % m);
    skip[i] = static_cast<uint32_t>(Mix(backends[i].id, 0xd1b54a32d192ed03ull) % (m - 1)) + 1;
  }
  uint16_t* t = table->data();
  uint32_t filled = 0;
  while (true) {
    for (size_t i = 0; i < n; ++i) {
      credit[i] += backends[i].weight;
      if (credit[i] < max_weight) continue;
      credit[i] -= max_weight;
      uint32_t c = pos[i];
      while (t[c] != kMaglevEmpty) {
        c += skip[i];
        if (c >= m) c -= m;
      }
      t[c] = static_cast<uint16_t>(i);
      c += skip[i];
      pos[i] = c >= m ? c - m : c;
      if (++filled == m) return;
    }
  }
}

}  // namespace hnv::nat
