// Operations: the control socket's requests (config/control.h) dispatched
// through a registry of typed handlers instead of a chain of op-name
// comparisons.
//
// Theory of operation. A daemon registers each operation it offers with the
// struct its arguments are read into and a handler taking that struct:
//
//   struct TraceArgs {
//     uint16_t port = 0;
//     std::vector<uint8_t> frame;
//     static bool Parse(ArgReader& r, TraceArgs* out);  // false: r.error() says why
//   };
//   ops.Add<TraceArgs>("trace", [this](const TraceArgs& a) { return Trace(a); });
//
// Handle() finds the operation, reads the request's JSON args into the
// struct (ArgReader: each error names the operation and the field, as in
// `trace: "frame" must be the frame in hex`), and calls the handler only with
// arguments that were read whole. An unknown operation is answered with the
// list of those registered, in registration order. An operation the daemon
// knows but refuses (hnv-gateway's new/set/remove: its policy comes from its
// files) is registered with Refuse: it gets its reason, and is not listed as
// offered. Arguments a struct does not read are ignored (clients may send
// more than an older daemon knows).
//
// Thread: the control thread (ControlServer::Poll calls Handle).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/control.h"
#include "config/json_model.h"

namespace hnv::daemon {

// Resolves a port's or VM network adapter's name to its policy port index.
using PortByName = std::function<std::optional<uint16_t>(std::string_view)>;

// Reads the fields of one request's args. Each method returns false when the
// field is present but not what it must be, or required and absent; the
// first such error is kept: "<op>: \"<field>\" <problem>", where `problem`
// is the caller's words ("must be the frame in hex").
class ArgReader {
 public:
  enum class Need : uint8_t { kOptional, kRequired };

  ArgReader(std::string_view op, const nlohmann::json& args, const PortByName* port_by_name)
      : op_(op), args_(args), port_by_name_(port_by_name) {}

  std::string_view op() const { return op_; }
  const nlohmann::json& args() const { return args_; }
  bool Has(const char* field) const { return args_.contains(field); }

  // An absent optional field leaves *out as it is.
  bool String(const char* field, std::string* out, Need need, std::string_view problem);
  bool Unsigned(const char* field, uint64_t* out, Need need, std::string_view problem);
  bool Number(const char* field, double* out, Need need, std::string_view problem);
  // A policy port index (a number) or a port's or VM adapter's name.
  bool Port(const char* field, uint16_t* out, Need need, std::string_view problem);

  // Records an error about `field` (e.g. a value out of range); returns false.
  bool Fail(const char* field, std::string_view problem);
  // Records a whole message; returns false.
  bool FailWith(std::string message);
  const std::string& error() const { return error_; }

 private:
  // The field, or nullptr when absent (an error when required).
  const nlohmann::json* Find(const char* field, Need need, std::string_view problem);

  std::string_view op_;
  const nlohmann::json& args_;
  const PortByName* port_by_name_;
  std::string error_;
};

// Operations without arguments (version, apply, counters).
struct NoArgs {
  static bool Parse(ArgReader&, NoArgs*) { return true; }
};

// get {"kind": K}
struct GetArgs {
  config::Kind kind = config::Kind::kLookupRecord;
  static bool Parse(ArgReader& r, GetArgs* out);
};

class Operations final : public config::RequestHandler {
 public:
  using Handler = std::function<config::Response(ArgReader&)>;

  // Registers `name`: its args read by Args::Parse, then `handler(args)`.
  // Registering a name again replaces its handler, in its place.
  template <typename Args, typename F>
  void Add(std::string name, F handler) {
    AddHandler(std::move(name), [h = std::move(handler)](ArgReader& reader) -> config::Response {
      Args args;
      if (!Args::Parse(reader, &args)) return config::Response::Error(reader.error());
      return h(args);
    });
  }
  // An operation this daemon knows but refuses, with the reason; it is not
  // listed among those offered.
  void Refuse(std::string name, std::string reason);
  // How ArgReader::Port resolves names (none: only indexes are accepted).
  void set_port_by_name(PortByName f) { port_by_name_ = std::move(f); }
  // How long the last successful policy change took (apply, new, set,
  // remove; a SIGHUP reload: set_last_apply_seconds), for the metrics.
  double last_apply_seconds() const { return last_apply_seconds_; }
  void set_last_apply_seconds(double s) { last_apply_seconds_ = s; }

  config::Response Handle(const config::Request& request) override;

  // The offered operations, in registration order: "version, apply, ...".
  std::string Names() const;

 private:
  struct Op {
    std::string name;
    Handler handler;
    bool offered = true;
  };
  void AddHandler(std::string name, Handler handler, bool offered = true);

  std::vector<Op> ops_;
  PortByName port_by_name_;
  double last_apply_seconds_ = 0;
};

}  // namespace hnv::daemon
