// The dataplane's counters as `hnvctl counters` shows them, shared by the
// daemons.
// Thread: control thread.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "dataplane/runtime/dataplane.h"

namespace hnv::daemon {

// One port's row: what the pipeline counted, and for ethdev ports what the
// driver lost before the pipeline saw it (a virtual port has no such row).
inline nlohmann::json PortCountersJson(const Dataplane& dp, const WorkerCounters& c, uint16_t index,
                                       const std::string& name) {
  nlohmann::json o = {{"index", index},
                      {"name", name},
                      {"rx_packets", c.rx_packets[index]},
                      {"rx_bytes", c.rx_bytes[index]},
                      {"tx_packets", c.tx_packets[index]},
                      {"tx_bytes", c.tx_bytes[index]}};
  if (Dataplane::PortLosses l; dp.Losses(index, &l))
    o.update({{"rx_missed", l.rx_missed},
              {"rx_errors", l.rx_errors},
              {"rx_nombuf", l.rx_nombuf},
              {"tx_errors", l.tx_errors}});
  return o;
}

// Every drop reason of the HNV pipeline with its count.
inline nlohmann::json DropCountersJson(const WorkerCounters& c) {
  nlohmann::json drops = nlohmann::json::object();
  for (uint16_t d = 0; d < kDropCount; ++d) drops[DropName(static_cast<Drop>(d))] = c.drops[d];
  return drops;
}

}  // namespace hnv::daemon
