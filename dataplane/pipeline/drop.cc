#include "dataplane/pipeline/drop.h"

#include "dataplane/pipeline/kebab_names.h"

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

constexpr const char* kIds[] = {
#define HNV_DROP_ID(name, stage, text) #name,
    HNV_DROP_REASONS(HNV_DROP_ID)
#undef HNV_DROP_ID
};
constexpr KebabNames<kDropCount> kNames(kIds);

}  // namespace

const char* DropName(Drop d) {
  const auto i = static_cast<uint16_t>(d);
  return kNames[i];
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
