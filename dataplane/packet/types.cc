#include "dataplane/packet/types.h"

#include <arpa/inet.h>

#include <charconv>

namespace hnv {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses exactly two hex digits at s[i].
bool HexByte(std::string_view s, size_t i, uint8_t* out) {
  if (i + 2 > s.size()) return false;
  const int hi = HexDigit(s[i]);
  const int lo = HexDigit(s[i + 1]);
  if (hi < 0 || lo < 0) return false;
  *out = static_cast<uint8_t>(hi << 4 | lo);
  return true;
}

void AppendHex(std::string* s, uint8_t v, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  s->push_back(digits[v >> 4]);
  s->push_back(digits[v & 0xf]);
}

}  // namespace

std::optional<MacAddr> MacAddr::Parse(std::string_view s) {
  MacAddr m;
  if (s.size() == 12) {
    for (size_t i = 0; i < 6; ++i) {
      if (!HexByte(s, 2 * i, &m.b[i])) return std::nullopt;
    }
    return m;
  }
  if (s.size() != 17) return std::nullopt;
  // One separator for the whole address: "60-00:60..." is a typo, not a MAC.
  const char sep = s[2];
  if (sep != '-' && sep != ':') return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    if (!HexByte(s, 3 * i, &m.b[i])) return std::nullopt;
    if (i < 5 && s[3 * i + 2] != sep) return std::nullopt;
  }
  return m;
}

std::string MacAddr::ToCompactString() const {
  std::string s;
  s.reserve(12);
  for (uint8_t x : b) AppendHex(&s, x, /*upper=*/true);
  return s;
}

std::string MacAddr::ToString() const {
  std::string s;
  s.reserve(17);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i != 0) s.push_back(':');
    AppendHex(&s, b[i], /*upper=*/false);
  }
  return s;
}

IpAddr IpAddr::Masked(int len) const {
  IpAddr r = *this;
  if (len < 0) len = 0;
  const int total = bits();
  for (int i = 0; i < 16; ++i) {
    const int first_bit = i * 8;
    if (first_bit >= total) {
      r.b[i] = 0;  // keeps IPv4's unused bytes zero
    } else if (first_bit + 8 <= len) {
      // whole byte kept
    } else if (first_bit >= len) {
      r.b[i] = 0;
    } else {
      r.b[i] &= static_cast<uint8_t>(0xff << (8 - (len - first_bit)));
    }
  }
  return r;
}

std::optional<IpAddr> IpAddr::Parse(std::string_view s) {
  // inet_pton needs a NUL-terminated string; the longest valid text form of an
  // IPv6 address (with an embedded IPv4 tail) is 45 characters.
  char buf[64];
  if (s.empty() || s.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  IpAddr a;
  if (s.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, a.b.data()) != 1) return std::nullopt;
    a.family = Family::kV4;
  } else {
    if (inet_pton(AF_INET6, buf, a.b.data()) != 1) return std::nullopt;
    a.family = Family::kV6;
  }
  return a;
}

std::string IpAddr::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  const int af = is_v4() ? AF_INET : AF_INET6;
  if (inet_ntop(af, b.data(), buf, sizeof(buf)) == nullptr) return "?";
  return buf;
}

std::optional<IpPrefix> IpPrefix::Parse(std::string_view s, bool allow_host_bits) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::optional<IpAddr> addr = IpAddr::Parse(s.substr(0, slash));
  if (!addr) return std::nullopt;
  const std::string_view len_text = s.substr(slash + 1);
  // Decimal digits only: no sign, no spaces, no trailing text ("/24x").
  if (len_text.empty() || len_text.size() > 3) return std::nullopt;
  for (char c : len_text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  unsigned len = 0;
  const auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc() || end != len_text.data() + len_text.size()) return std::nullopt;
  if (len > static_cast<unsigned>(addr->bits())) return std::nullopt;
  IpPrefix p;
  p.len = static_cast<uint8_t>(len);
  p.addr = addr->Masked(p.len);
  if (!allow_host_bits && p.addr != *addr) return std::nullopt;
  return p;
}

std::string IpPrefix::ToString() const { return addr.ToString() + "/" + std::to_string(len); }

std::optional<Guid> Guid::Parse(std::string_view s) {
  if (s.size() == 38) {
    if (s.front() != '{' || s.back() != '}') return std::nullopt;
    s = s.substr(1, 36);
  }
  if (s.size() != 36) return std::nullopt;
  Guid g;
  size_t pos = 0;
  size_t out = 0;
  static constexpr size_t kGroupBytes[] = {4, 2, 2, 2, 6};
  for (size_t group = 0; group < 5; ++group) {
    if (group != 0) {
      if (s[pos] != '-') return std::nullopt;
      ++pos;
    }
    for (size_t i = 0; i < kGroupBytes[group]; ++i) {
      if (!HexByte(s, pos, &g.b[out])) return std::nullopt;
      pos += 2;
      ++out;
    }
  }
  return g;
}

std::string Guid::ToString() const {
  // Bytes in text order (not Windows' mixed-endian struct layout): the id is
  // only ever compared and printed, so the text is the identity.
  std::string s;
  s.reserve(38);
  s.push_back('{');
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    AppendHex(&s, b[i], /*upper=*/false);
  }
  s.push_back('}');
  return s;
}

}  // namespace hnv
