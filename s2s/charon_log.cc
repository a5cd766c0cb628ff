// CharonLog and LogTail (charon_log.h).
#include "s2s/charon_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hnv::s2s {
namespace {

// What charon logs when a tunnel fails, and what it means. First match wins.
struct Pattern {
  std::string_view text;
  std::string_view meaning;
};
constexpr Pattern kFailures[] = {
    {"received AUTHENTICATION_FAILED notify",
     "the peer rejected our authentication (AUTHENTICATION_FAILED): the pre-shared key, "
     "certificate or identity does not match the peer's"},
    {"MAC mismatched", "the peer's authentication failed: its pre-shared key does not match ours"},
    {"constraint check failed",
     "the peer's certificate does not match the configured remote identity"},
    {"no trusted RSA public key found",
     "the peer's certificate is not signed by a configured CA, or its identity differs"},
    {"no trusted ECDSA public key found",
     "the peer's certificate is not signed by a configured CA, or its identity differs"},
    {"received NO_PROPOSAL_CHOSEN notify",
     "the peer accepted none of our proposals (NO_PROPOSAL_CHOSEN)"},
    {"received proposals unacceptable", "none of the peer's proposals matches ours"},
    {"no acceptable proposal found", "none of the peer's proposals matches ours"},
    {"received TS_UNACCEPTABLE notify",
     "the peer did not accept our traffic selectors (TS_UNACCEPTABLE)"},
    {"peer not responding", "no answer from the peer (IKE retransmissions timed out)"},
    {"giving up after", "no answer from the peer (IKE retransmissions timed out)"},
    {"no IKE config found", "no connection is configured for this peer's addresses"},
    {"no matching peer config found", "no connection matches the peer's identities"},
};

// "<name|12>" or "<12>": the name (may be empty) and the id.
bool SaTag(std::string_view line, std::string* name, std::string* id, size_t* end) {
  const size_t open = line.find("] <");
  if (open == std::string_view::npos) return false;
  const size_t close = line.find('>', open + 3);
  if (close == std::string_view::npos) return false;
  const std::string_view tag = line.substr(open + 3, close - open - 3);
  const size_t bar = tag.find('|');
  *name = bar == std::string_view::npos ? "" : std::string(tag.substr(0, bar));
  *id = std::string(bar == std::string_view::npos ? tag : tag.substr(bar + 1));
  *end = close + 1;
  return true;
}

}  // namespace

void CharonLog::Line(std::string_view line) {
  std::string name, id;
  size_t end = 0;
  if (!SaTag(line, &name, &id, &end)) return;
  const std::string_view text = line.substr(end);
  if (name.empty()) {
    // "10.1.3.100 is initiating an IKE_SA": a peer we respond to.
    const size_t at = text.find(" is initiating an IKE_SA");
    if (at != std::string_view::npos) {
      const std::string peer(
          text.substr(text.find_first_not_of(' ')).substr(0, at - text.find_first_not_of(' ')));
      for (const auto& [conn, address] : peers_)
        if (address == peer) ike_conn_[id] = conn;
    }
    const auto it = ike_conn_.find(id);
    if (it == ike_conn_.end()) return;
    name = it->second;
  } else {
    ike_conn_[id] = name;
  }
  if (ike_conn_.size() > 4096) ike_conn_.clear();  // ids only grow; old SAs are gone
  if (text.find("established between") != std::string_view::npos) {
    errors_.erase(name);
    return;
  }
  for (const Pattern& p : kFailures) {
    if (text.find(p.text) == std::string_view::npos) continue;
    const size_t space = line.find(' ');
    errors_[name] = ConnectionError{std::string(p.meaning), std::string(line),
                                    std::string(line.substr(0, space))};
    return;
  }
}

const ConnectionError* CharonLog::LastError(const std::string& connection) const {
  const auto it = errors_.find(connection);
  return it == errors_.end() ? nullptr : &it->second;
}

void LogTail::Read(CharonLog* log) {
  const int fd = open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (fstat(fd, &st) == 0 && static_cast<size_t>(st.st_size) < offset_) {
    offset_ = 0;
    partial_.clear();
  }
  char buf[8192];
  for (;;) {
    const ssize_t n = pread(fd, buf, sizeof(buf), static_cast<off_t>(offset_));
    if (n <= 0) break;
    offset_ += static_cast<size_t>(n);
    partial_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1)
      log->Line(std::string_view(partial_).substr(start, nl - start));
    partial_.erase(0, start);
    if (partial_.size() > 65536) partial_.clear();  // no newline for that long: not a log line
  }
  if (offset_ > max_size_ && ftruncate(fd, 0) == 0) {
    offset_ = 0;
    partial_.clear();
  }
  close(fd);
}

}  // namespace hnv::s2s
