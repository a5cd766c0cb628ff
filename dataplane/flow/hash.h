// The hashes of the per-worker flow tables (nat/, port ACL sessions): a seeded mix of two 64-bit words
// (two rounds of a 64x64->128-bit multiply folded, as wyhash does), fast
// and good enough that a remote sender cannot aim at one bucket without
// knowing the seed.
#pragma once

#include <cstdint>

namespace hnv {

// splitmix64: seeds from a seed, and a fixed mix.
inline uint64_t SplitMix(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct HashSeed {
  uint64_t s[4] = {0x243f6a8885a308d3ull, 0x13198a2e03707345ull, 0xa4093822299f31d1ull,
                   0x082efa98ec4e6c89ull};
  static HashSeed From(uint64_t seed) {
    HashSeed h;
    for (uint64_t& x : h.s) x = SplitMix(&seed) | 1;
    return h;
  }
};

inline uint64_t Mix2(uint64_t a, uint64_t b, const HashSeed& k) noexcept {
  __uint128_t m = static_cast<__uint128_t>(a ^ k.s[0]) * (b ^ k.s[1]);
  const uint64_t x = static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
  m = static_cast<__uint128_t>(x ^ k.s[2]) * k.s[3];
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}

}  // namespace hnv
