// Internal to gateway/kernel: conversions between our address types and
// libnl's nl_addr, and libnl error text. Not part of the library's API.
#pragma once

#include <netlink/addr.h>
#include <netlink/errno.h>
#include <sys/socket.h>

#include <memory>
#include <string>

#include "dataplane/packet/types.h"

namespace hnv::gateway::nl {

struct AddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using AddrPtr = std::unique_ptr<nl_addr, AddrDeleter>;

inline int FamilyOf(const IpAddr& a) { return a.is_v4() ? AF_INET : AF_INET6; }

// An nl_addr of `a` with prefix length `len` (-1 = the full length).
inline AddrPtr ToNl(const IpAddr& a, int len = -1) {
  nl_addr* out = nl_addr_build(FamilyOf(a), a.b.data(), a.is_v4() ? 4 : 16);
  if (out != nullptr) nl_addr_set_prefixlen(out, len < 0 ? a.bits() : len);
  return AddrPtr(out);
}

// Returns false when `a` is null or not IPv4/IPv6. A zero-length nl_addr
// (libnl's "default" destination) converts to the unspecified address.
inline bool FromNl(const nl_addr* a, IpAddr* out) {
  if (a == nullptr) return false;
  const int fam = nl_addr_get_family(a);
  const unsigned n = nl_addr_get_len(a);
  const auto* p = static_cast<const uint8_t*>(nl_addr_get_binary_addr(a));
  if (fam == AF_INET) {
    *out = IpAddr{};
    if (n >= 4) *out = IpAddr::V4Raw(p);
    return true;
  }
  if (fam == AF_INET6) {
    static const uint8_t kZero[16] = {};
    *out = IpAddr::V6Raw(n >= 16 ? p : kZero);
    return true;
  }
  return false;
}

inline std::string Err(int nl_error) { return nl_geterror(nl_error); }

}  // namespace hnv::gateway::nl
