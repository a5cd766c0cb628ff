#include "config/control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <string_view>
#include <utility>

namespace hnv::config {
namespace {

// A request line longer than this is answered with an error and the
// connection closed: nothing legitimate comes near it (a `new` carries one
// object), and it bounds what a misbehaving client can make us buffer.
constexpr size_t kMaxLineBytes = 1 << 20;
// While this much output waits for a client that does not read, its further
// requests wait too (backpressure instead of unbounded buffering).
constexpr size_t kMaxPendingOutput = 4 << 20;
constexpr size_t kReadChunk = 64 << 10;

std::string Errno(int err) { return std::strerror(err); }

// nlohmann's what() starts with "[json.exception.parse_error.101] ".
std::string JsonWhat(const std::exception& e) {
  std::string_view w = e.what();
  if (!w.empty() && w.front() == '[') {
    const size_t end = w.find("] ");
    if (end != std::string_view::npos) w.remove_prefix(end + 2);
  }
  return std::string(w);
}

// Never throws: strings that are not valid UTF-8 are replaced, not rejected.
std::string DumpLine(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s.push_back('\n');
  return s;
}

std::string ResponseLine(const Response& r) {
  try {
    nlohmann::json j = nlohmann::json::object();
    j["version"] = kProtocolVersion;
    j["ok"] = r.ok;
    if (r.ok) {
      j["result"] = r.result;
    } else {
      j["error"] = r.error;
    }
    return DumpLine(j);
  } catch (const std::exception& e) {
    return DumpLine({{"version", kProtocolVersion},
                     {"ok", false},
                     {"error", "internal error: cannot encode the response: " + JsonWhat(e)}});
  }
}

// Parses and checks one request line; on failure returns the error response.
std::optional<Response> ParseRequest(std::string_view line, Request* out) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const std::exception& e) {
    return Response::Error("malformed JSON: " + JsonWhat(e));
  }
  if (!j.is_object()) return Response::Error("a request is a JSON object");
  const auto version = j.find("version");
  if (version == j.end()) {
    return Response::Error("request has no \"version\"; this server speaks protocol version " +
                           std::to_string(kProtocolVersion));
  }
  if (!version->is_number_integer() || version->get<int64_t>() != kProtocolVersion) {
    return Response::Error("protocol version " + version->dump() +
                           " is not supported; this server speaks protocol version " +
                           std::to_string(kProtocolVersion));
  }
  const auto op = j.find("op");
  if (op == j.end() || !op->is_string()) {
    return Response::Error("request has no \"op\" string");
  }
  out->op = op->get<std::string>();
  const auto args = j.find("args");
  if (args == j.end() || args->is_null()) {
    out->args = nlohmann::json::object();
  } else if (args->is_object()) {
    out->args = *args;
  } else {
    return Response::Error("\"args\" must be a JSON object");
  }
  return std::nullopt;
}

Response HandleLine(RequestHandler& handler, std::string_view line) {
  Request request;
  if (std::optional<Response> bad = ParseRequest(line, &request)) return *bad;
  try {
    return handler.Handle(request);
  } catch (const std::exception& e) {
    return Response::Error("internal error in " + request.op + ": " + JsonWhat(e));
  } catch (...) {
    return Response::Error("internal error in " + request.op);
  }
}

bool FillAddress(const std::string& path, sockaddr_un* addr, std::string* error) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) {
    *error = "socket path \"" + path + "\" is empty or longer than " +
             std::to_string(sizeof(addr->sun_path) - 1) + " bytes";
    return false;
  }
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

// mkdir -p for the socket's directory.
bool MakeParentDirs(const std::string& path, std::string* error) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return true;
  const std::string dir = path.substr(0, slash);
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string prefix = dir.substr(0, pos);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      *error = "cannot create " + prefix + ": " + Errno(errno);
      return false;
    }
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = dir + " is not a directory";
    return false;
  }
  return true;
}

using Clock = std::chrono::steady_clock;

// Milliseconds left before `deadline`, or -1 (wait forever) without one.
int RemainingMs(const std::optional<Clock::time_point>& deadline) {
  if (!deadline) return -1;
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd; false on timeout (errno = ETIMEDOUT) or error.
bool WaitFor(int fd, short events, const std::optional<Clock::time_point>& deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, RemainingMs(deadline));
    if (n > 0) return true;
    if (n == 0) {
      errno = ETIMEDOUT;
      return false;
    }
    if (errno != EINTR) return false;
  }
}

}  // namespace

struct ControlServer::Conn {
  int fd = -1;
  std::string in;
  std::string out;
  size_t out_sent = 0;
  bool closing = false;  // close once `out` is flushed; read nothing more

  size_t pending() const { return out.size() - out_sent; }
};

ControlServer::~ControlServer() {
  for (Conn* c : conns_) {
    close(c->fd);
    delete c;
  }
  conns_.clear();
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    // Listen refuses to replace a live socket, so while we ran the file was ours.
    unlink(path_.c_str());
  }
}

bool ControlServer::Listen(const std::string& path, std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  if (listen_fd_ >= 0) {
    *error = "already listening on " + path_;
    return false;
  }
  sockaddr_un addr;
  if (!FillAddress(path, &addr, error)) return false;
  if (!MakeParentDirs(path, error)) return false;

  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *error = path + " exists and is not a socket; not replacing it";
      return false;
    }
    // A socket file: live if something accepts a connection on it.
    const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0) {
      *error = "socket: " + Errno(errno);
      return false;
    }
    const int rc = connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    const int err = errno;
    close(probe);
    if (rc == 0 || err == EAGAIN) {
      *error = "another server is listening on " + path;
      return false;
    }
    if (err != ECONNREFUSED && err != ENOENT) {
      *error = "cannot check " + path + ": " + Errno(err);
      return false;
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      *error = "cannot remove the stale socket " + path + ": " + Errno(errno);
      return false;
    }
  }

  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "socket: " + Errno(errno);
    return false;
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    *error = "cannot bind " + path + ": " + Errno(errno);
    close(fd);
    return false;
  }
  if (chmod(path.c_str(), 0660) != 0 || listen(fd, 64) != 0) {
    *error = "cannot listen on " + path + ": " + Errno(errno);
    unlink(path.c_str());
    close(fd);
    return false;
  }
  listen_fd_ = fd;
  path_ = path;
  return true;
}

void ControlServer::Poll(RequestHandler& handler, int timeout_ms) {
  if (listen_fd_ < 0) return;
  std::vector<pollfd> fds;
  fds.reserve(conns_.size() + 1);
  fds.push_back({listen_fd_, POLLIN, 0});
  for (const Conn* c : conns_) {
    short events = 0;
    if (!c->closing && c->pending() < kMaxPendingOutput) events |= POLLIN;
    if (c->pending() > 0) events |= POLLOUT;
    fds.push_back({c->fd, events, 0});
  }
  const int n = poll(fds.data(), fds.size(), timeout_ms);
  if (n <= 0) return;  // timeout, or EINTR: the caller polls again

  if (fds[0].revents & POLLIN) {
    for (;;) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) break;  // EAGAIN, or a client that gave up already
      Conn* c = new Conn;
      c->fd = fd;
      conns_.push_back(c);
    }
  }

  // Connections accepted just now have no entry in fds; they are served on
  // the next call.
  for (size_t i = 1; i < fds.size(); ++i) {
    Conn* c = conns_[i - 1];
    const short rev = fds[i].revents;
    bool dead = false;

    if ((rev & (POLLIN | POLLHUP | POLLERR)) && !c->closing) {
      // Read what is there (bounded, so one busy client cannot starve the others).
      size_t budget = 4 * kReadChunk;
      char buf[kReadChunk];
      bool eof = false;
      while (budget > 0 && c->in.size() <= kMaxLineBytes) {
        const ssize_t r = read(c->fd, buf, sizeof(buf));
        if (r > 0) {
          c->in.append(buf, static_cast<size_t>(r));
          budget -= std::min(budget, static_cast<size_t>(r));
          continue;
        }
        if (r == 0) {
          eof = true;
        } else if (errno == EINTR) {
          continue;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
          dead = true;
        }
        break;
      }
      // Serve every complete line.
      size_t start = 0;
      while (!dead && !c->closing) {
        const size_t nl = c->in.find('\n', start);
        if (nl == std::string::npos) break;
        std::string_view line(c->in.data() + start, nl - start);
        start = nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() > kMaxLineBytes) {
          c->out += ResponseLine(Response::Error("request line longer than " +
                                                 std::to_string(kMaxLineBytes) + " bytes"));
          c->closing = true;
          break;
        }
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        c->out += ResponseLine(HandleLine(handler, line));
      }
      c->in.erase(0, start);
      if (!c->closing && c->in.size() > kMaxLineBytes) {
        c->out += ResponseLine(Response::Error("request line longer than " +
                                               std::to_string(kMaxLineBytes) + " bytes"));
        c->closing = true;
      }
      if (eof && !c->closing) {
        // A last request without its newline still gets its answer.
        if (c->in.find_first_not_of(" \t\r") != std::string::npos) {
          c->out += ResponseLine(HandleLine(handler, c->in));
        }
        c->closing = true;
      }
      if (c->closing) c->in.clear();
    } else if (rev & (POLLERR | POLLNVAL)) {
      dead = true;
    }

    // Write what is pending; what does not fit waits for POLLOUT.
    while (!dead && c->pending() > 0) {
      const ssize_t w = send(c->fd, c->out.data() + c->out_sent, c->pending(), MSG_NOSIGNAL);
      if (w > 0) {
        c->out_sent += static_cast<size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else {
        dead = true;  // EPIPE: the client left
      }
    }
    if (c->pending() == 0) {
      c->out.clear();
      c->out_sent = 0;
    } else if (c->out_sent > kMaxPendingOutput) {
      c->out.erase(0, c->out_sent);
      c->out_sent = 0;
    }
    if (dead || (c->closing && c->pending() == 0)) {
      close(c->fd);
      c->fd = -1;
    }
  }

  // Drop closed connections (those accepted this round are kept).
  size_t kept = 0;
  for (Conn* c : conns_) {
    if (c->fd < 0) {
      delete c;
    } else {
      conns_[kept++] = c;
    }
  }
  conns_.resize(kept);
}

std::optional<Response> Call(const std::string& socket_path, const Request& request,
                             std::string* error, int timeout_ms) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  std::optional<Clock::time_point> deadline;
  if (timeout_ms >= 0) deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);

  sockaddr_un addr;
  if (!FillAddress(socket_path, &addr, error)) return std::nullopt;

  std::string line;
  try {
    nlohmann::json j = {{"version", kProtocolVersion}, {"op", request.op}, {"args", request.args}};
    line = DumpLine(j);
  } catch (const std::exception& e) {
    *error = "cannot encode the request: " + JsonWhat(e);
    return std::nullopt;
  }

  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "socket: " + Errno(errno);
    return std::nullopt;
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};

  const std::string timeout_text =
      "no response from " + socket_path + " within " + std::to_string(timeout_ms) + " ms";
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    // A full backlog makes a non-blocking Unix connect fail with EAGAIN;
    // retry until the deadline.
    while (errno == EAGAIN || errno == EINPROGRESS) {
      if (RemainingMs(deadline) == 0) {
        *error = "cannot connect to " + socket_path + ": the server is not accepting connections";
        return std::nullopt;
      }
      usleep(1000);
      if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0 ||
          errno == EISCONN) {
        errno = 0;
        break;
      }
    }
    if (errno != 0) {
      *error = "cannot connect to " + socket_path + ": " + Errno(errno);
      return std::nullopt;
    }
  }

  size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t w = send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (w > 0) {
      sent += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(fd, POLLOUT, deadline)) {
        *error = errno == ETIMEDOUT ? timeout_text : "poll: " + Errno(errno);
        return std::nullopt;
      }
      continue;
    }
    *error = "cannot send to " + socket_path + ": " + Errno(errno);
    return std::nullopt;
  }

  std::string in;
  size_t nl = std::string::npos;
  char buf[kReadChunk];
  while (nl == std::string::npos) {
    const ssize_t r = read(fd, buf, sizeof(buf));
    if (r > 0) {
      const size_t old = in.size();
      in.append(buf, static_cast<size_t>(r));
      nl = in.find('\n', old);
      continue;
    }
    if (r == 0) {
      *error = socket_path + " closed the connection without a response";
      return std::nullopt;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      *error = "cannot read from " + socket_path + ": " + Errno(errno);
      return std::nullopt;
    }
    if (!WaitFor(fd, POLLIN, deadline)) {
      *error = errno == ETIMEDOUT ? timeout_text : "poll: " + Errno(errno);
      return std::nullopt;
    }
  }

  nlohmann::json j;
  try {
    j = nlohmann::json::parse(std::string_view(in).substr(0, nl));
  } catch (const std::exception& e) {
    *error = "malformed response from " + socket_path + ": " + JsonWhat(e);
    return std::nullopt;
  }
  if (!j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
    *error = "malformed response from " + socket_path + ": no \"ok\" field";
    return std::nullopt;
  }
  Response response;
  response.ok = j["ok"].get<bool>();
  if (response.ok) {
    const auto version = j.find("version");
    if (version == j.end() || !version->is_number_integer() ||
        version->get<int64_t>() != kProtocolVersion) {
      *error = "the server speaks protocol version " +
               (version == j.end() ? std::string("(none)") : version->dump()) +
               ", this client version " + std::to_string(kProtocolVersion);
      return std::nullopt;
    }
    if (const auto result = j.find("result"); result != j.end()) response.result = *result;
  } else {
    const auto message = j.find("error");
    response.error = message != j.end() && message->is_string() ? message->get<std::string>()
                                                                : "error without a message";
  }
  return response;
}

}  // namespace hnv::config
