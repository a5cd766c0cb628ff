// Counter names from enumerator names, at compile time: "kNoNeighbor" ->
// "no-neighbor" (the 'k' dropped, kebab case). Every reason list (drop.h, the
// gateway's punt and drop reasons) names its counters this way, so the
// strings scripts and hnvctl see are stable and spelled alike.
#pragma once

#include <cstddef>

namespace hnv {

template <size_t N>
struct KebabNames {
  char buf[N][40] = {};
  constexpr explicit KebabNames(const char* const (&ids)[N]) {
    for (size_t i = 0; i < N; ++i) {
      const char* s = ids[i] + 1;  // skip the 'k'
      size_t o = 0;
      for (size_t j = 0; s[j] != 0 && o + 2 < sizeof(buf[i]); ++j) {
        const char c = s[j];
        if (c >= 'A' && c <= 'Z') {
          if (j != 0) buf[i][o++] = '-';
          buf[i][o++] = static_cast<char>(c - 'A' + 'a');
        } else {
          buf[i][o++] = c;
        }
      }
    }
  }
  constexpr const char* operator[](size_t i) const { return i < N ? buf[i] : "unknown"; }
};

}  // namespace hnv
