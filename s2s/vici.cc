// The VICI wire format and client (vici.h).
#include "s2s/vici.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hnv::s2s {
namespace {

// Packet types.
constexpr uint8_t kCmdRequest = 0;
constexpr uint8_t kCmdResponse = 1;
constexpr uint8_t kCmdUnknown = 2;
constexpr uint8_t kEventRegister = 3;
constexpr uint8_t kEventUnregister = 4;
constexpr uint8_t kEventConfirm = 5;
constexpr uint8_t kEventUnknown = 6;
constexpr uint8_t kEvent = 7;

// Message element types.
constexpr uint8_t kSectionStart = 1;
constexpr uint8_t kSectionEnd = 2;
constexpr uint8_t kKeyValue = 3;
constexpr uint8_t kListStart = 4;
constexpr uint8_t kListItem = 5;
constexpr uint8_t kListEnd = 6;

// Larger packets than charon ever sends are refused (a corrupt length).
constexpr uint32_t kMaxPacket = 16u << 20;

void PutName(std::string* out, std::string_view name) {
  out->push_back(static_cast<char>(name.size()));
  out->append(name);
}

void PutValue(std::string* out, std::string_view value) {
  out->push_back(static_cast<char>(value.size() >> 8));
  out->push_back(static_cast<char>(value.size() & 0xff));
  out->append(value);
}

std::string Text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump();
}

void Encode(std::string* out, const Json& section) {
  for (auto it = section.begin(); it != section.end(); ++it) {
    const Json& v = it.value();
    if (v.is_object()) {
      out->push_back(static_cast<char>(kSectionStart));
      PutName(out, it.key());
      Encode(out, v);
      out->push_back(static_cast<char>(kSectionEnd));
    } else if (v.is_array()) {
      out->push_back(static_cast<char>(kListStart));
      PutName(out, it.key());
      for (const Json& item : v) {
        out->push_back(static_cast<char>(kListItem));
        PutValue(out, Text(item));
      }
      out->push_back(static_cast<char>(kListEnd));
    } else {
      out->push_back(static_cast<char>(kKeyValue));
      PutName(out, it.key());
      PutValue(out, Text(v));
    }
  }
}

// Reads the element stream of a message.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  std::optional<Json> Message(std::string* error) {
    Json root = Json::object();
    std::vector<Json*> stack{&root};
    Json* list = nullptr;
    while (pos_ < in_.size()) {
      element_ = pos_;
      const uint8_t type = static_cast<uint8_t>(in_[pos_++]);
      std::string name;
      std::string value;
      switch (type) {
        case kSectionStart:
          if (list != nullptr || !Name(&name)) return Bad(error, "bad section start");
          stack.push_back(&(*stack.back())[name]);
          *stack.back() = Json::object();
          break;
        case kSectionEnd:
          if (list != nullptr || stack.size() < 2) return Bad(error, "bad section end");
          stack.pop_back();
          break;
        case kKeyValue:
          if (list != nullptr || !Name(&name) || !Value(&value)) return Bad(error, "bad key/value");
          (*stack.back())[name] = value;
          break;
        case kListStart:
          if (list != nullptr || !Name(&name)) return Bad(error, "bad list start");
          list = &(*stack.back())[name];
          *list = Json::array();
          break;
        case kListItem:
          if (list == nullptr || !Value(&value)) return Bad(error, "bad list item");
          list->push_back(value);
          break;
        case kListEnd:
          if (list == nullptr) return Bad(error, "bad list end");
          list = nullptr;
          break;
        default:
          return Bad(error, "bad element type " + std::to_string(type));
      }
    }
    element_ = in_.size();
    if (list != nullptr || stack.size() != 1) return Bad(error, "unterminated section or list");
    return root;
  }

 private:
  bool Name(std::string* out) {
    if (pos_ >= in_.size()) return false;
    const size_t n = static_cast<uint8_t>(in_[pos_++]);
    if (in_.size() - pos_ < n) return false;
    out->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool Value(std::string* out) {
    if (in_.size() - pos_ < 2) return false;
    const size_t n = (static_cast<size_t>(static_cast<uint8_t>(in_[pos_])) << 8) |
                     static_cast<uint8_t>(in_[pos_ + 1]);
    pos_ += 2;
    if (in_.size() - pos_ < n) return false;
    out->assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  std::nullopt_t Bad(std::string* error, const std::string& what) {
    *error = "malformed VICI message: " + what + " at byte " + std::to_string(element_);
    return std::nullopt;
  }

  std::string_view in_;
  size_t pos_ = 0;
  size_t element_ = 0;  // where the element being read starts
};

bool WriteAll(int fd, const std::string& data, std::string* error) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = std::string("VICI send: ") + (n < 0 ? std::strerror(errno) : "closed");
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool ReadAll(int fd, char* buf, size_t len, std::string* error) {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = recv(fd, buf + done, len - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = n == 0            ? "VICI: charon closed the connection"
               : errno == EAGAIN ? "VICI: no answer from charon in time"
                                 : std::string("VICI receive: ") + std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string EncodeMessage(const Json& message) {
  std::string out;
  Encode(&out, message);
  return out;
}

std::optional<Json> DecodeMessage(std::string_view bytes, std::string* error) {
  return Decoder(bytes).Message(error);
}

std::unique_ptr<ViciClient> ViciClient::Connect(const std::string& socket_path,
                                                std::chrono::milliseconds timeout,
                                                std::string* error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    *error = "VICI socket path too long: " + socket_path;
    return nullptr;
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
    *error = "VICI connect " + socket_path + ": " + std::strerror(errno);
    close(fd);
    return nullptr;
  }
  return std::unique_ptr<ViciClient>(new ViciClient(fd));
}

ViciClient::~ViciClient() {
  if (fd_ >= 0) close(fd_);
}

bool ViciClient::Send(uint8_t type, std::string_view name, const std::string& message,
                      std::string* error) {
  std::string payload(1, static_cast<char>(type));
  if (!name.empty()) PutName(&payload, name);
  payload += message;
  const uint32_t len = static_cast<uint32_t>(payload.size());
  std::string packet = {static_cast<char>(len >> 24), static_cast<char>(len >> 16),
                        static_cast<char>(len >> 8), static_cast<char>(len)};
  packet += payload;
  return WriteAll(fd_, packet, error);
}

bool ViciClient::Receive(uint8_t* type, std::string* name, std::string* message,
                         std::string* error) {
  unsigned char head[4];
  if (!ReadAll(fd_, reinterpret_cast<char*>(head), 4, error)) return false;
  const uint32_t len =
      (uint32_t{head[0]} << 24) | (uint32_t{head[1]} << 16) | (uint32_t{head[2]} << 8) | head[3];
  if (len == 0 || len > kMaxPacket) {
    *error = "VICI: bad packet length " + std::to_string(len);
    return false;
  }
  std::string payload(len, '\0');
  if (!ReadAll(fd_, payload.data(), len, error)) return false;
  *type = static_cast<uint8_t>(payload[0]);
  size_t pos = 1;
  name->clear();
  if (*type == kEvent) {
    const size_t n = payload.size() > 1 ? static_cast<uint8_t>(payload[1]) : 0;
    if (payload.size() < 2 + n) {
      *error = "VICI: truncated event name";
      return false;
    }
    name->assign(payload, 2, n);
    pos = 2 + n;
  }
  message->assign(payload, pos);
  return true;
}

bool ViciClient::Register(uint8_t type, std::string_view event, std::string* error) {
  if (!Send(type, event, "", error)) return false;
  uint8_t t;
  std::string name, message;
  if (!Receive(&t, &name, &message, error)) return false;
  if (t == kEventUnknown) {
    *error = "VICI: charon knows no event " + std::string(event);
    return false;
  }
  if (t != kEventConfirm) {
    *error = "VICI: unexpected packet type " + std::to_string(t) + " for event registration";
    return false;
  }
  return true;
}

std::optional<Json> ViciClient::Call(std::string_view command, const Json& request,
                                     std::string* error) {
  return CallStreamed(command, "", request, nullptr, error);
}

std::optional<Json> ViciClient::CallStreamed(std::string_view command, std::string_view event,
                                             const Json& request, std::vector<Json>* events,
                                             std::string* error) {
  if (!event.empty() && !Register(kEventRegister, event, error)) return std::nullopt;
  if (!Send(kCmdRequest, command, EncodeMessage(request), error)) return std::nullopt;
  std::optional<Json> response;
  for (;;) {
    uint8_t type;
    std::string name, message;
    if (!Receive(&type, &name, &message, error)) return std::nullopt;
    if (type == kEvent) {
      if (events == nullptr || name != event) continue;  // another registration's
      std::optional<Json> m = DecodeMessage(message, error);
      if (!m) return std::nullopt;
      events->push_back(std::move(*m));
      continue;
    }
    if (type == kCmdUnknown) {
      *error = "VICI: charon knows no command " + std::string(command);
      return std::nullopt;
    }
    if (type != kCmdResponse) {
      *error = "VICI: unexpected packet type " + std::to_string(type);
      return std::nullopt;
    }
    response = DecodeMessage(message, error);
    if (!response) return std::nullopt;
    break;
  }
  if (!event.empty() && !Register(kEventUnregister, event, error)) return std::nullopt;
  return response;
}

}  // namespace hnv::s2s
