// PathTracer: what `hnvctl trace` sees of a frame's way through a
// compartment's path (gateway_path.h): after each stage, which frames it
// passed on (with their GwMeta: the out interface and next hop after
// gw-route), and what it punted or dropped, by reason.
//
// Theory of operation. CompartmentPath calls a tracer only when one is set
// (GatewayFastPath::SetTracer), once per stage per burst, so the common path
// pays one predictable test per stage. Only the trace's own GatewayFastPath,
// run on the control thread over a single frame, has one; the workers' never
// do. Enter is called when a burst enters the path (from gw-input or, for a
// handed-over frame, from the pre-route slot), After when a stage returns:
// the stage's decisions are what changed since the previous call (the
// batch's punts, the compartment's drop counters) and the frames in `out`.
//
// Thread: whoever runs the path (the control thread, for a trace).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/fastpath/gateway_path.h"

namespace hnv::gateway {

class PathTracer {
 public:
  virtual ~PathTracer() = default;
  virtual void Enter(const GwContext& g, const Burst& in) = 0;
  virtual void After(std::string_view stage, const GwContext& g, const Burst& out) = 0;
};

// A tracer that writes one line per stage and decision, in order:
// {"gw-route", "contoso: 10.1.3.100 -> out ext0 (port 1), next hop 10.1.3.100"}.
// After a feature slot it says what the features did to the frame: its
// addresses and ports rewritten (NAT, load balancer: "translated: TCP
// 10.1.3.100:40000 -> 10.1.3.2:8080 => TCP 10.1.3.100:40000 ->
// 10.0.1.101:80"), or the frame taken (dropped under the feature's own
// reasons, answered, or turned around).
class RecordingTracer final : public PathTracer {
 public:
  struct Step {
    std::string stage;
    std::string decision;
  };
  // `iface_names[compartment id]` names its interfaces (for the lines); may be empty.
  explicit RecordingTracer(std::vector<std::vector<std::string>> iface_names = {})
      : names_(std::move(iface_names)) {}

  void Enter(const GwContext& g, const Burst& in) override;
  void After(std::string_view stage, const GwContext& g, const Burst& out) override;
  const std::vector<Step>& steps() const { return steps_; }

 private:
  std::string Iface(uint32_t compartment, uint8_t iface) const;
  void Remember(const GwContext& g);

  std::vector<std::vector<std::string>> names_;
  std::vector<Step> steps_;
  // The first frame's addresses and ports after the previous stage, and how
  // many frames it passed on: what a feature slot changed or took.
  std::string last_tuple_;
  uint16_t last_n_ = 0;
  uint16_t punts_seen_ = 0;
  CompartmentCounters seen_;
};

}  // namespace hnv::gateway
