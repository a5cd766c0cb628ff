// The trace and capture operations both daemons offer (config/control.h):
// their arguments, and captures that run beside the control loop instead of
// holding it.
//
// Theory of operation (captures). `capture` starts a capture (the daemon's
// Opener turns the arguments into a running FrameCapture: a port's, or one
// of hnv-gateway's compartment interfaces) and answers at once with its id;
// the control loop (Captures::Poll, every turn) drains each running capture
// into its file and ends it when its count or its time is reached.
// `capture-status {"id"}` says how far it is ("running", "packets", "lost"),
// `capture-stop {"id"}` ends it now; a finished capture's status is kept
// (the last kKeepFinished). hnvctl's `capture` starts one and asks for its
// status until it ends, so other requests are served meanwhile. At most
// kMaxRunning run at once; the daemon's exit stops them (files complete).
//
// Thread: control thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/operations.h"
#include "dataplane/runtime/capture.h"
#include "dataplane/runtime/trace.h"

namespace hnv::daemon {

// trace {"port": P, "frame": "<hex>"}; P a port or VM adapter (index or
// name), or for hnv-gateway "<tenant>/<interface>" (a compartment interface).
struct TraceArgs {
  uint16_t port = 0;
  std::string interface;  // "<tenant>/<interface>" (then `port` is unset)
  std::vector<uint8_t> frame;
  static bool Parse(ArgReader& r, TraceArgs* out);
};

// capture {"port": P, "file": F, "count": N, "seconds": S}; P as for trace.
struct CaptureArgs {
  uint16_t port = 0;
  std::string interface;  // "<tenant>/<interface>" (then `port` is unset)
  std::string file;
  uint64_t count = 0;  // 0: until `seconds`
  double seconds = 10;
  static bool Parse(ArgReader& r, CaptureArgs* out);
};

// capture-status / capture-stop {"id": N}
struct CaptureIdArgs {
  uint64_t id = 0;
  static bool Parse(ArgReader& r, CaptureIdArgs* out);
};

std::optional<std::vector<uint8_t>> FromHex(const std::string& hex);
std::string ToHex(const std::vector<uint8_t>& bytes);
// A trace's answer: {"steps": [{stage, decision}], "outputs": [{port, frame, summary}]}.
config::Response TraceResponse(const TraceResult& r);

class Captures {
 public:
  using Opener =
      std::function<std::unique_ptr<FrameCapture>(const CaptureArgs& args, std::string* error)>;
  static constexpr size_t kMaxRunning = 8;
  static constexpr size_t kKeepFinished = 16;

  explicit Captures(Opener open) : open_(std::move(open)) {}
  ~Captures() { StopAll(); }

  // Registers capture, capture-status and capture-stop on `ops`.
  void Register(Operations& ops);
  // One turn of the control loop: drains, and ends what is done.
  void Poll();
  void StopAll();
  size_t running() const { return running_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Status {
    uint64_t id = 0;
    std::string file;
    bool running = false;
    uint64_t packets = 0;
    uint64_t lost = 0;
  };
  struct Running {
    Status status;
    uint64_t count = 0;
    Clock::time_point end;
    std::unique_ptr<FrameCapture> capture;
  };
  config::Response Start(const CaptureArgs& args);
  config::Response StatusOf(uint64_t id, bool stop);
  void Finish(Running& r);
  static nlohmann::json ToJson(const Status& s);

  Opener open_;
  uint64_t next_id_ = 1;
  std::vector<Running> running_;
  std::deque<Status> finished_;
};

}  // namespace hnv::daemon
