// The control socket: a versioned request/response protocol between hnvctl
// (or any client) and a running hnv-vswitch / hnv-gateway.
//
// Wire format: a Unix stream socket; each message is one JSON object on one
// line ('\n'-terminated), UTF-8. One request, one response, in order; a
// client may send several requests on one connection.
//   request:  {"version": 1, "op": "get", "args": {"kind": "lookup-record"}}
//   response: {"version": 1, "ok": true, "result": ...}
//             {"version": 1, "ok": false, "error": "one line naming what is wrong"}
// A request with another major version gets ok=false and the server's version.
//
// Operations (args -> result), each a typed handler the daemon registers
// (daemon/operations.h):
//   version   {}                                  -> {"protocol":1,"program":"hnv-vswitch 0.1"}
//   apply     {}                                  -> {"files":[...],"changed":{...}} | error
//   get       {"kind": K}                         -> [object, ...]
//   new       {"kind": K, "object": {...}}        -> the object as given
//   set       {"kind": K, "object": {...}}        -> the fields as given (must exist)
//   remove    {"kind": K, "object": {...}}        -> {} (identity fields suffice)
//   counters  {}                                  -> {"ports":[...],"drops":{...},...}
//   trace     {"port": "Contoso1", "frame": "<hex>"} -> {"steps":[{"stage":..,"decision":..},...]}
//   capture   {"port": "uplink", "file": "/tmp/x.pcap", "count": N, "seconds": S} -> {"packets":N}
//   compartments {} | {"name": N}               -> {"compartments":[...]} (hnv-gateway;
//             the fields are in config/hnvctl/compartment_view.h)
// Kinds K: "lookup-record", "customer-route", "provider-address",
// "provider-route", "vm-network-adapter", "routing-domain", "virtual-subnet".
// Object fields are those of the YAML files (config/README.md).
//
// Thread: ControlServer::Poll runs on the daemon's control thread, so a
// handler may change policy directly (the tables are single-writer).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace hnv::config {

inline constexpr int kProtocolVersion = 1;

struct Request {
  std::string op;
  nlohmann::json args = nlohmann::json::object();
};

struct Response {
  bool ok = true;
  nlohmann::json result;
  std::string error;
  static Response Error(std::string message) { return Response{false, nullptr, std::move(message)}; }
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual Response Handle(const Request& request) = 0;
};

class ControlServer {
 public:
  ControlServer() = default;
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ~ControlServer();  // closes every connection and removes the socket file

  // Creates the parent directory if needed, replaces a stale socket file
  // (refuses if another server is listening on it), mode 0660.
  bool Listen(const std::string& path, std::string* error);
  // Accepts connections and serves complete requests, waiting at most
  // timeout_ms for something to happen. Never blocks on a slow client.
  void Poll(RequestHandler& handler, int timeout_ms);

 private:
  struct Conn;
  int listen_fd_ = -1;
  std::string path_;
  std::vector<Conn*> conns_;
};

// Client: sends one request and waits for its response.
std::optional<Response> Call(const std::string& socket_path, const Request& request,
                             std::string* error, int timeout_ms = 5000);

}  // namespace hnv::config
