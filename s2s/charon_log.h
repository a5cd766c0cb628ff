// Why a connection is not up, from charon's log. VICI tells what SAs exist,
// not why one failed; charon logs it (a rejected key, no common proposal, no
// answer). The charon service tails its instance's log file (written with
// `ike_name = yes`, so lines carry "<conn|ike-id>" or, before a connection
// is chosen, "<ike-id>") and keeps per connection the last failure, cleared
// when an IKE SA of that connection is established.
//
// Lines of an IKE SA that has no name yet (a peer initiating, before its
// connection is known) are attributed through the SA's peer address
// ("10.1.3.100 is initiating an IKE_SA") to the connection with that peer.
//
// Thread: the owner's.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hnv::s2s {

struct ConnectionError {
  std::string message;  // for people: what failed and the likely cause
  std::string log;      // the log line it comes from
  std::string time;     // its timestamp as logged
};

class CharonLog {
 public:
  // `peers`: connection name -> peer address text.
  void SetPeers(std::map<std::string, std::string> peers) { peers_ = std::move(peers); }
  void Line(std::string_view line);
  // The connection's last failure since it was last established, or nullptr.
  const ConnectionError* LastError(const std::string& connection) const;
  void Forget(const std::string& connection) { errors_.erase(connection); }

 private:
  std::map<std::string, std::string> peers_;
  std::map<std::string, std::string> ike_conn_;  // IKE SA unique id -> connection
  std::map<std::string, ConnectionError> errors_;
};

// Reads what a log file gained since the last call (a file that shrank was
// truncated or replaced: read from its start) and hands complete lines to
// `log`. Files past `max_size` are truncated to 0 after reading (charon
// appends, so it goes on writing at the new end).
class LogTail {
 public:
  explicit LogTail(std::string path, size_t max_size = 8u << 20)
      : path_(std::move(path)), max_size_(max_size) {}
  void Read(CharonLog* log);

 private:
  std::string path_;
  size_t max_size_;
  size_t offset_ = 0;
  std::string partial_;
};

}  // namespace hnv::s2s
