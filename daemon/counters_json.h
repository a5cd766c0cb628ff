// The dataplane's counters as `hnvctl counters` shows them, shared by the
// daemons. Thread: control thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/runtime/dataplane.h"

namespace hnv::daemon {

// One port's row: what the pipeline counted, and for ethdev ports what the
// driver lost before the pipeline saw it (a virtual port has no such row).
nlohmann::json PortCountersJson(const Dataplane& dp, const WorkerCounters& c, uint16_t index,
                                const std::string& name);

// Every drop reason of the HNV pipeline with its count.
nlohmann::json DropCountersJson(const WorkerCounters& c);

// What both daemons report: "ports" (a row per (index, name) of `ports`),
// "drops", and the HNV pipeline's totals (switched, routed, encapsulated,
// ...). A daemon adds what is its own.
nlohmann::json CountersJson(const Dataplane& dp, const WorkerCounters& c,
                            const std::vector<std::pair<uint16_t, std::string>>& ports);

}  // namespace hnv::daemon
