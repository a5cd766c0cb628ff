// TraceFrame: what the pipeline does with one described frame, for
// `hnvctl trace` (like ovn-trace). The frame runs through the real pipeline
// and the real tables, in a private context on the control thread whose
// transmissions are captured instead of sent; the steps are read off its
// counters (which stage decided what, which drop reason) and its outputs.
//
// Thread: control thread only (it reads the tables it alone writes).
#pragma once

#include <rte_mempool.h>

#include <string>
#include <vector>

#include "dataplane/pipeline/extension.h"
#include "dataplane/policy/tables.h"

namespace hnv {

struct TraceStep {
  std::string stage;
  std::string decision;
};

struct TraceOutput {
  uint16_t port = 0;
  std::vector<uint8_t> frame;
  std::string summary;  // "NVGRE 192.168.0.22 -> 192.168.0.33 VSID 6000 FlowID 0x3c | ..."
};

struct TraceResult {
  std::vector<TraceStep> steps;
  std::vector<TraceOutput> outputs;
};

// A program's own stages in the trace (hnv-gateway's compartments): frames
// received on a port the policy gives no role go to ext->Receive, frames for
// a virtual port to ext->DeliverVirtual, frames the extension hands over
// (to itself: its deferred work) to ext->ReceiveHandoff. The extension must
// be one of the trace's own (one worker, nothing shared with the workers').
struct TraceExtension {
  WorkerExtension* ext = nullptr;
  std::array<bool, kMaxPorts> is_virtual{};  // ports without an ethdev
};

TraceResult TraceFrame(const PolicyTables& tables, rte_mempool* pool, uint16_t port,
                       const std::vector<uint8_t>& frame, const TraceExtension* ext = nullptr);

// One line describing a frame: Ethernet, VLAN, ARP / IP / NVGRE and inner.
std::string SummarizeFrame(const uint8_t* frame, uint32_t len);

}  // namespace hnv
