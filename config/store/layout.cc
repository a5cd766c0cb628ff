#include "config/store/layout.h"

#include <charconv>
#include <vector>

namespace hnv::store {
namespace {

bool Plain(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t slash = s.find('/', start);
    parts.push_back(s.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

}  // namespace

std::string EncodeName(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : name) {
    if (Plain(c)) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

std::optional<std::string> DecodeName(std::string_view encoded) {
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      if (!Plain(encoded[i])) return std::nullopt;
      out += encoded[i];
      continue;
    }
    if (i + 2 >= encoded.size()) return std::nullopt;
    const int hi = HexValue(encoded[i + 1]), lo = HexValue(encoded[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

Layout::Layout(std::string root) : root_(std::move(root)) {
  if (root_.empty() || root_.back() != '/') root_ += '/';
}

std::string Layout::Host(std::string_view host) const { return HostsPrefix() + EncodeName(host); }
std::string Layout::TenantPrefix(std::string_view tenant) const {
  return TenantsPrefix() + EncodeName(tenant) + "/";
}
std::string Layout::TenantSpec(std::string_view tenant) const {
  return TenantPrefix(tenant) + "spec";
}
std::string Layout::VmsPrefix(std::string_view tenant) const {
  return TenantPrefix(tenant) + "vms/";
}
std::string Layout::Vm(std::string_view tenant, std::string_view vm) const {
  return VmsPrefix(tenant) + EncodeName(vm);
}
std::string Layout::PlacementPrefix(std::string_view host) const {
  return PlacementsPrefix() + EncodeName(host) + "/";
}
std::string Layout::Placement(std::string_view host, std::string_view tenant,
                              std::string_view vm) const {
  return PlacementPrefix(host) + EncodeName(tenant) + "/" + EncodeName(vm);
}
std::string Layout::Status(std::string_view host) const { return StatusPrefix() + EncodeName(host); }
std::string Layout::LearnedHostPrefix(std::string_view host) const {
  return LearnedPrefix() + EncodeName(host) + "/";
}
std::string Layout::Learned(std::string_view host, uint32_t vsid, const IpAddr& ca) const {
  return LearnedHostPrefix(host) + std::to_string(vsid) + "/" + EncodeName(ca.ToString());
}

Layout::Key Layout::Parse(std::string_view key) const {
  Key k;
  if (key.substr(0, root_.size()) != root_) return k;
  const std::vector<std::string_view> p = Split(key.substr(root_.size()));
  auto name = [](std::string_view s, std::string* out) {
    std::optional<std::string> d = DecodeName(s);
    if (d) *out = std::move(*d);
    return d.has_value();
  };
  using Kind = Key::Kind;
  Kind kind = Kind::kUnknown;
  if (p.size() == 1 && p[0] == "generation") {
    kind = Kind::kGeneration;
  } else if (p.size() == 2 && p[0] == "hosts" && name(p[1], &k.host)) {
    kind = Kind::kHost;
  } else if (p.size() == 3 && p[0] == "tenants" && p[2] == "spec" && name(p[1], &k.tenant)) {
    kind = Kind::kTenantSpec;
  } else if (p.size() == 4 && p[0] == "tenants" && p[2] == "vms" && name(p[1], &k.tenant) &&
             name(p[3], &k.vm)) {
    kind = Kind::kVm;
  } else if (p.size() == 4 && p[0] == "placement" && name(p[1], &k.host) &&
             name(p[2], &k.tenant) && name(p[3], &k.vm)) {
    kind = Kind::kPlacement;
  } else if (p.size() == 2 && p[0] == "status" && name(p[1], &k.host)) {
    kind = Kind::kStatus;
  } else if (p.size() == 4 && p[0] == "learned" && name(p[1], &k.host)) {
    std::string ca;
    uint32_t vsid = 0;
    const auto [end, ec] = std::from_chars(p[2].data(), p[2].data() + p[2].size(), vsid);
    std::optional<IpAddr> addr;
    if (ec == std::errc() && end == p[2].data() + p[2].size() && name(p[3], &ca))
      addr = IpAddr::Parse(ca);
    if (addr) {
      k.vsid = vsid;
      k.ca = *addr;
      kind = Kind::kLearned;
    }
  }
  k.kind = kind;
  return k;
}

}  // namespace hnv::store
