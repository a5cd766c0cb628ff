// Value types of the wire: big-endian integers, MAC addresses, IPv4/IPv6
// addresses and prefixes. Byte order is a type, so a missed swap fails to
// compile; every type here is trivially copyable and usable in packed headers.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace hnv {

// std::byteswap is C++23 (absent from g++ 12's libstdc++); the builtins are
// constexpr in both g++ and clang.
template <typename T>
constexpr T ByteSwap(T v) noexcept {
  static_assert(std::is_unsigned_v<T>);
  if constexpr (sizeof(T) == 1) {
    return v;
  } else if constexpr (sizeof(T) == 2) {
    return __builtin_bswap16(v);
  } else if constexpr (sizeof(T) == 4) {
    return __builtin_bswap32(v);
  } else {
    static_assert(sizeof(T) == 8);
    return __builtin_bswap64(v);
  }
}

// Host order <-> network (big-endian) order; the same swap both ways.
template <typename T>
constexpr T HostToNet(T v) noexcept {
  if constexpr (std::endian::native == std::endian::big) {
    return v;
  } else {
    return ByteSwap(v);
  }
}

// A big-endian (network order) unsigned integer stored exactly as on the wire.
// Stored as bytes, so its alignment is 1: header fields can sit at any offset
// of a frame (an IPv6 header after a 14-byte Ethernet header, a GRE key two
// bytes off) without a misaligned access; loads still compile to one move.
template <typename T>
class BigEndian {
 public:
  constexpr BigEndian() = default;
  static constexpr BigEndian FromHost(T v) { return BigEndian(HostToNet(v), 0); }
  static constexpr BigEndian FromRaw(T raw) { return BigEndian(raw, 0); }
  constexpr T ToHost() const { return HostToNet(raw()); }
  constexpr T raw() const { return std::bit_cast<T>(bytes_); }
  friend constexpr bool operator==(BigEndian, BigEndian) = default;

 private:
  constexpr BigEndian(T raw, int) : bytes_(std::bit_cast<std::array<uint8_t, sizeof(T)>>(raw)) {}
  std::array<uint8_t, sizeof(T)> bytes_{};
};
using Be16 = BigEndian<uint16_t>;
using Be32 = BigEndian<uint32_t>;
static_assert(sizeof(Be16) == 2 && sizeof(Be32) == 4 && alignof(Be32) == 1);

struct MacAddr {
  std::array<uint8_t, 6> b{};

  static constexpr MacAddr Broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  constexpr bool IsMulticast() const { return (b[0] & 1) != 0; }  // includes broadcast
  constexpr bool IsBroadcast() const { return *this == Broadcast(); }
  constexpr bool IsZero() const { return *this == MacAddr{}; }
  uint64_t AsU64() const {
    uint64_t v = 0;
    std::memcpy(&v, b.data(), 6);
    return v;
  }
  friend constexpr auto operator<=>(const MacAddr&, const MacAddr&) = default;
  // Two loads and compares: std::array's == (what the defaulted one does) is
  // a call to libc's memcmp for 6 bytes with g++ 12, on every frame.
  friend constexpr bool operator==(const MacAddr& x, const MacAddr& y) {
    if (std::is_constant_evaluated()) return x.b == y.b;
    uint32_t x0, y0;
    uint16_t x1, y1;
    std::memcpy(&x0, x.b.data(), 4);
    std::memcpy(&y0, y.b.data(), 4);
    std::memcpy(&x1, x.b.data() + 4, 2);
    std::memcpy(&y1, y.b.data() + 4, 2);
    return ((x0 ^ y0) | static_cast<uint32_t>(x1 ^ y1)) == 0;
  }

  // Accepts "600060000101", "60-00-60-00-01-01" and "60:00:60:00:01:01".
  static std::optional<MacAddr> Parse(std::string_view s);
  // The chapter's spelling: 12 upper-case hex digits, no separators.
  std::string ToCompactString() const;
  // Colon-separated lower-case, as Linux prints it.
  std::string ToString() const;
};
static_assert(sizeof(MacAddr) == 6);

enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

// An IPv4 or IPv6 address. IPv4 is kept in the first four bytes of `b`, the
// rest zero, so the struct can be a fixed-size hash key.
struct IpAddr {
  std::array<uint8_t, 16> b{};
  Family family = Family::kV4;
  uint8_t pad[3] = {0, 0, 0};

  static IpAddr V4(uint32_t host_order) {
    IpAddr a;
    const uint32_t be = HostToNet(host_order);
    std::memcpy(a.b.data(), &be, 4);
    return a;
  }
  static IpAddr V4Raw(const uint8_t* p) {
    IpAddr a;
    std::memcpy(a.b.data(), p, 4);
    return a;
  }
  static IpAddr V6Raw(const uint8_t* p) {
    IpAddr a;
    a.family = Family::kV6;
    std::memcpy(a.b.data(), p, 16);
    return a;
  }
  bool is_v4() const { return family == Family::kV4; }
  bool is_v6() const { return family == Family::kV6; }
  int bits() const { return is_v4() ? 32 : 128; }
  uint32_t v4_host() const {
    uint32_t be;
    std::memcpy(&be, b.data(), 4);
    return HostToNet(be);
  }
  bool IsUnspecified() const {
    for (uint8_t x : b)
      if (x != 0) return false;
    return true;
  }
  // The address with all bits after `len` cleared.
  IpAddr Masked(int len) const;
  bool Bit(int i) const { return (b[i / 8] >> (7 - i % 8)) & 1; }
  friend bool operator==(const IpAddr& x, const IpAddr& y) {
    return x.family == y.family && x.b == y.b;
  }
  friend auto operator<=>(const IpAddr& x, const IpAddr& y) {
    if (auto c = x.family <=> y.family; c != 0) return c;
    return x.b <=> y.b;
  }

  static std::optional<IpAddr> Parse(std::string_view s);
  std::string ToString() const;
};
static_assert(sizeof(IpAddr) == 20);

struct IpPrefix {
  IpAddr addr;  // always stored masked
  uint8_t len = 0;

  bool Contains(const IpAddr& a) const { return a.family == addr.family && a.Masked(len) == addr; }
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
  friend auto operator<=>(const IpPrefix& x, const IpPrefix& y) {
    if (auto c = x.addr <=> y.addr; c != 0) return c;
    return x.len <=> y.len;
  }

  // "10.0.1.0/24", "fd00::/64". Host bits must be zero unless allow_host_bits.
  static std::optional<IpPrefix> Parse(std::string_view s, bool allow_host_bits = false);
  std::string ToString() const;
};

// A routing domain id, a GUID as the chapter writes it: "{12345678-1000-...}".
struct Guid {
  std::array<uint8_t, 16> b{};
  friend constexpr auto operator<=>(const Guid&, const Guid&) = default;
  static std::optional<Guid> Parse(std::string_view s);  // with or without braces
  std::string ToString() const;                          // "{xxxxxxxx-...}" lower-case
};

// VSIDs are 24-bit. 0..4095 and 0xFFFFFF are reserved (RFC 7637).
inline constexpr uint32_t kVsidMin = 4096;
inline constexpr uint32_t kVsidMax = 16777214;
inline constexpr bool IsValidVsid(uint32_t v) { return v >= kVsidMin && v <= kVsidMax; }

}  // namespace hnv
