#include "daemon/captures.h"

#include "daemon/log.h"

namespace hnv::daemon {

using config::Response;
using nlohmann::json;

std::optional<std::vector<uint8_t>> FromHex(const std::string& hex) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char ch : hex) {
    int v;
    if (ch >= '0' && ch <= '9') v = ch - '0';
    else if (ch >= 'a' && ch <= 'f') v = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') v = ch - 'A' + 10;
    else if (ch == ' ' || ch == ':' || ch == '\n') continue;
    else return std::nullopt;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) return std::nullopt;
  return out;
}

std::string ToHex(const std::vector<uint8_t>& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

Response TraceResponse(const TraceResult& r) {
  json steps = json::array();
  for (const TraceStep& s : r.steps) steps.push_back({{"stage", s.stage}, {"decision", s.decision}});
  json outs = json::array();
  for (const TraceOutput& o : r.outputs)
    outs.push_back({{"port", o.port}, {"frame", ToHex(o.frame)}, {"summary", o.summary}});
  return Response{true, {{"steps", steps}, {"outputs", outs}}, {}};
}

namespace {

// "port": a compartment interface ("tenant/interface") is kept as text; any
// other value is a port or VM adapter (ArgReader::Port).
bool PortOrInterface(ArgReader& r, uint16_t* port, std::string* interface) {
  if (r.args().contains("port") && r.args()["port"].is_string()) {
    const std::string v = r.args()["port"].get<std::string>();
    if (v.find('/') != std::string::npos) {
      *interface = v;
      return true;
    }
  }
  return r.Port("port", port, ArgReader::Need::kRequired,
                "must name a port, a VM adapter or a compartment interface (tenant/interface)");
}

}  // namespace

bool TraceArgs::Parse(ArgReader& r, TraceArgs* out) {
  std::string hex;
  if (!PortOrInterface(r, &out->port, &out->interface) ||
      !r.String("frame", &hex, ArgReader::Need::kRequired, "must be the frame in hex"))
    return false;
  std::optional<std::vector<uint8_t>> frame = FromHex(hex);
  if (!frame || frame->size() < 14) return r.Fail("frame", "is not a hex Ethernet frame");
  out->frame = std::move(*frame);
  return true;
}

bool CaptureArgs::Parse(ArgReader& r, CaptureArgs* out) {
  if (!PortOrInterface(r, &out->port, &out->interface) ||
      !r.String("file", &out->file, ArgReader::Need::kRequired, "must be the pcap file to write") ||
      !r.Unsigned("count", &out->count, ArgReader::Need::kOptional,
                  "must be a number of packets") ||
      !r.Number("seconds", &out->seconds, ArgReader::Need::kOptional, "must be in (0, 600]"))
    return false;
  if (out->seconds <= 0 || out->seconds > 600) return r.Fail("seconds", "must be in (0, 600]");
  return true;
}

bool CaptureIdArgs::Parse(ArgReader& r, CaptureIdArgs* out) {
  return r.Unsigned("id", &out->id, ArgReader::Need::kRequired, "must be a capture's id");
}

void Captures::Register(Operations& ops) {
  ops.Add<CaptureArgs>("capture", [this](const CaptureArgs& a) { return Start(a); });
  ops.Add<CaptureIdArgs>("capture-status",
                         [this](const CaptureIdArgs& a) { return StatusOf(a.id, false); });
  ops.Add<CaptureIdArgs>("capture-stop",
                         [this](const CaptureIdArgs& a) { return StatusOf(a.id, true); });
}

json Captures::ToJson(const Status& s) {
  return {{"id", s.id}, {"file", s.file}, {"running", s.running}, {"packets", s.packets},
          {"lost", s.lost}};
}

Response Captures::Start(const CaptureArgs& args) {
  if (running_.size() >= kMaxRunning)
    return Response::Error("capture: " + std::to_string(kMaxRunning) +
                           " captures run already (capture-stop one)");
  std::string error;
  std::unique_ptr<FrameCapture> cap = open_(args, &error);
  if (!cap) return Response::Error("capture: " + error);
  Running r;
  r.status = {next_id_++, args.file, true, 0, 0};
  r.count = args.count;
  r.end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(args.seconds));
  r.capture = std::move(cap);
  running_.push_back(std::move(r));
  return Response{true, ToJson(running_.back().status), {}};
}

void Captures::Finish(Running& r) {
  r.capture->Stop();
  r.status.running = false;
  r.status.packets = r.capture->written();
  r.status.lost = r.capture->lost();
  finished_.push_back(r.status);
  if (finished_.size() > kKeepFinished) finished_.pop_front();
}

void Captures::Poll() {
  if (running_.empty()) return;
  const Clock::time_point now = Clock::now();
  for (auto it = running_.begin(); it != running_.end();) {
    it->capture->Drain();
    it->status.packets = it->capture->written();
    it->status.lost = it->capture->lost();
    if (now >= it->end || (it->count != 0 && it->status.packets >= it->count)) {
      Finish(*it);
      it = running_.erase(it);
    } else {
      ++it;
    }
  }
}

Response Captures::StatusOf(uint64_t id, bool stop) {
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (it->status.id != id) continue;
    if (!stop) return Response{true, ToJson(it->status), {}};
    Finish(*it);
    const Status s = it->status;
    running_.erase(it);
    return Response{true, ToJson(s), {}};
  }
  for (const Status& s : finished_)
    if (s.id == id) return Response{true, ToJson(s), {}};
  return Response::Error("capture " + std::to_string(id) + ": no such capture");
}

void Captures::StopAll() {
  for (Running& r : running_) Finish(r);
  running_.clear();
}

}  // namespace hnv::daemon
