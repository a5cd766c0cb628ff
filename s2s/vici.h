// A client of charon's VICI protocol (strongSwan's "Versatile IKE Control
// Interface"), over the unix socket of one charon instance. Debian ships
// libvici.so but no header, so the protocol is spoken here (it is small):
//
//   packet   = u32 length (big endian, of what follows) | u8 type | [name] | [message]
//              name = u8 length | bytes; requests (0), event registrations (3, 4)
//              and events (7) carry one; requests, responses (1) and events a message
//   message  = elements: 1 section start (name), 2 section end,
//              3 key/value (name, u16 length, value), 4 list start (name),
//              5 list item (u16 length, value), 6 list end
//
// Messages map to JSON: a section is an object, a key/value a string, a list
// an array of strings (ordered_json keeps charon's key order). A streamed
// command (list-sas, list-conns) registers for its event, sends the request,
// collects the events until the response, then unregisters.
//
// Thread: one client per thread; every call blocks for at most the timeout
// given to Connect.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hnv::s2s {

using Json = nlohmann::ordered_json;

// Encoding and decoding of one message, exposed for the tests. EncodeMessage
// takes an object whose values are strings, arrays of strings or objects
// (numbers and booleans are written as their text; "yes"/"no" for booleans).
std::string EncodeMessage(const Json& message);
std::optional<Json> DecodeMessage(std::string_view bytes, std::string* error);

class ViciClient {
 public:
  static std::unique_ptr<ViciClient> Connect(const std::string& socket_path,
                                             std::chrono::milliseconds timeout, std::string* error);
  ~ViciClient();
  ViciClient(const ViciClient&) = delete;
  ViciClient& operator=(const ViciClient&) = delete;

  // A command and its response message.
  std::optional<Json> Call(std::string_view command, const Json& request, std::string* error);
  // A streamed command: the `event` messages it produced go to *events.
  std::optional<Json> CallStreamed(std::string_view command, std::string_view event,
                                   const Json& request, std::vector<Json>* events,
                                   std::string* error);

 private:
  explicit ViciClient(int fd) : fd_(fd) {}
  bool Send(uint8_t type, std::string_view name, const std::string& message, std::string* error);
  // The next packet: its type, name (events) and message bytes.
  bool Receive(uint8_t* type, std::string* name, std::string* message, std::string* error);
  bool Register(uint8_t type, std::string_view event, std::string* error);

  int fd_ = -1;
};

}  // namespace hnv::s2s
