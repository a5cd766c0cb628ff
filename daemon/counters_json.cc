#include "daemon/counters_json.h"

namespace hnv::daemon {

using nlohmann::json;

json PortCountersJson(const Dataplane& dp, const WorkerCounters& c, uint16_t index,
                      const std::string& name) {
  json o = {{"index", index},
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

json DropCountersJson(const WorkerCounters& c) {
  json drops = json::object();
  for (uint16_t d = 0; d < kDropCount; ++d) drops[DropName(static_cast<Drop>(d))] = c.drops[d];
  return drops;
}

json CountersJson(const Dataplane& dp, const WorkerCounters& c,
                  const std::vector<std::pair<uint16_t, std::string>>& ports) {
  json rows = json::array();
  for (const auto& [index, name] : ports) rows.push_back(PortCountersJson(dp, c, index, name));
  return {{"ports", rows},
          {"drops", DropCountersJson(c)},
          {"switched", c.switched},
          {"routed", c.routed},
          {"encapsulated", c.encapsulated},
          {"decapsulated", c.decapsulated},
          {"flooded", c.flooded},
          {"arp_answered", c.arp_answered},
          {"echo_answered", c.echo_answered},
          {"segmented", c.segmented},
          {"coalesced", c.coalesced},
          {"icmp_too_big", c.icmp_too_big},
          {"icmp_time_exceeded", c.icmp_time_exceeded},
          {"icmp_rate_limited", c.icmp_rate_limited},
          {"absorbed", c.absorbed},
          {"events", c.events},
          {"events_lost", c.events_lost}};
}

}  // namespace hnv::daemon
