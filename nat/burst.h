// How nat/'s features walk a burst: dataplane/flow/in_stages.h (chunks of
// 32 frames in three passes: view, fetch, finish), under nat/'s names.
// Header-only; no allocation.
#pragma once

#include <cstdint>

#include "dataplane/flow/in_stages.h"

namespace hnv::nat {

inline constexpr uint16_t kBurstChunk = kStageChunk;
using hnv::InStages;

}  // namespace hnv::nat
