#include "nat/reasons.h"

#include "dataplane/pipeline/kebab_names.h"

namespace hnv::nat {
namespace {

struct DropInfo {
  const char* feature;
  const char* text;
};

constexpr DropInfo kInfo[] = {
#define HNV_NAT_DROP_INFO(name, feature, text) {feature, text},
    HNV_NAT_DROP_REASONS(HNV_NAT_DROP_INFO)
#undef HNV_NAT_DROP_INFO
};
static_assert(sizeof(kInfo) / sizeof(kInfo[0]) == kDropCount);

constexpr const char* kIds[] = {
#define HNV_NAT_DROP_ID(name, feature, text) #name,
    HNV_NAT_DROP_REASONS(HNV_NAT_DROP_ID)
#undef HNV_NAT_DROP_ID
};
constexpr KebabNames<kDropCount> kNames(kIds);

}  // namespace

const char* DropName(Drop d) { return kNames[static_cast<size_t>(d)]; }
const char* DropFeature(Drop d) {
  const auto i = static_cast<size_t>(d);
  return i < kDropCount ? kInfo[i].feature : "unknown";
}
const char* DropText(Drop d) {
  const auto i = static_cast<size_t>(d);
  return i < kDropCount ? kInfo[i].text : "unknown";
}

const char* EdgeName(Edge e) {
  switch (e) {
    case Edge::kPass:
      return "pass";
    case Edge::kTranslated:
      return "translated";
    case Edge::kHairpin:
      return "hairpin";
    case Edge::kReply:
      return "reply";
    case Edge::kDrop:
      return "drop";
  }
  return "unknown";
}

}  // namespace hnv::nat
