#include "dataplane/pipeline/drop.h"

namespace hnv {
namespace {

struct DropInfo {
  const char* name;
  const char* stage;
  const char* text;
};

// Names are the enumerator without its 'k', in kebab case, written out so
// that they are stable strings for counters and scripts.
constexpr DropInfo kInfo[] = {
#define HNV_DROP_INFO(name, stage, text) {#name, stage, text},
    HNV_DROP_REASONS(HNV_DROP_INFO)
#undef HNV_DROP_INFO
};
static_assert(sizeof(kInfo) / sizeof(kInfo[0]) == kDropCount);

struct KebabNames {
  char buf[kDropCount][40];
  constexpr KebabNames() : buf{} {
    for (int i = 0; i < kDropCount; ++i) {
      const char* s = kInfo[i].name + 1;  // skip 'k'
      int o = 0;
      for (int j = 0; s[j] != 0 && o < 38; ++j) {
        const char c = s[j];
        if (c >= 'A' && c <= 'Z') {
          if (j > 0) buf[i][o++] = '-';
          buf[i][o++] = static_cast<char>(c - 'A' + 'a');
        } else {
          buf[i][o++] = c;
        }
      }
      buf[i][o] = 0;
    }
  }
};
constexpr KebabNames kNames;

}  // namespace

const char* DropName(Drop d) {
  const auto i = static_cast<uint16_t>(d);
  return i < kDropCount ? kNames.buf[i] : "unknown";
}
const char* DropStage(Drop d) {
  const auto i = static_cast<uint16_t>(d);
  return i < kDropCount ? kInfo[i].stage : "unknown";
}
const char* DropText(Drop d) {
  const auto i = static_cast<uint16_t>(d);
  return i < kDropCount ? kInfo[i].text : "unknown";
}

}  // namespace hnv
