// Internet checksums (RFC 1071) and incremental updates (RFC 1624).
// All functions are pure, allocation-free and safe on the per-packet path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dataplane/packet/headers.h"

namespace hnv {

// Ones'-complement sum of `len` bytes folded to 16 bits, NOT complemented.
// The value is the sum of the big-endian 16-bit words (an odd last byte is the
// high half of a zero-padded word), as a plain number: `initial` may be such a
// sum or a host-order number to add (e.g. protocol + length of a pseudo
// header). Any alignment. Chain pieces of even length with `initial`.
uint32_t ChecksumPartial(const void* data, size_t len, uint32_t initial = 0) noexcept;
// Folds and complements a partial sum into the value to store in a header.
Be16 ChecksumFinish(uint32_t partial) noexcept;

// The checksum to store in `h->checksum` (computed with that field as zero,
// whatever it holds now).
Be16 Ipv4HeaderChecksum(const Ipv4Hdr* h) noexcept;
// True when the header's stored checksum is right. Inline for the usual
// 20-byte header: every frame from the provider network is checked
// (provider-ingress); a header with options takes the general path.
bool Ipv4HeaderWithOptionsChecksumOk(const Ipv4Hdr* h) noexcept;
// x + y in one's-complement arithmetic of T's width: the carry out added back.
template <typename T>
inline T OnesAdd(T x, T y) noexcept {
  T s;
  const bool carry = __builtin_add_overflow(x, y, &s);
  return static_cast<T>(s + carry);
}
inline bool Ipv4HeaderChecksumOk(const Ipv4Hdr* h) noexcept {
  if (h->ihl_bytes() != sizeof(Ipv4Hdr)) return Ipv4HeaderWithOptionsChecksumOk(h);
  uint64_t a, b;
  uint32_t c;
  std::memcpy(&a, h, 8);
  std::memcpy(&b, reinterpret_cast<const uint8_t*>(h) + 8, 8);
  std::memcpy(&c, reinterpret_cast<const uint8_t*>(h) + 16, 4);
  // The five 32-bit words in native order, as ChecksumPartial takes them:
  // their one's-complement sum folds to 0xffff exactly when the big-endian
  // one does (0xffff is its own byte swap). Summed as 64-bit words, then
  // folded 64 -> 32 -> 16 bits, each add's carry added back at once
  // (add, adc): a wrapped sum is at most 2^n - 2, so that never carries
  // again. No loop, no branch on the data.
  uint64_t sum = OnesAdd(a, b);
  sum = OnesAdd(sum, uint64_t{c});
  const uint32_t s32 = OnesAdd(static_cast<uint32_t>(sum), static_cast<uint32_t>(sum >> 32));
  const uint16_t s16 = OnesAdd(static_cast<uint16_t>(s32), static_cast<uint16_t>(s32 >> 16));
  return s16 == 0xffff;
}

// TCP/UDP/ICMPv6 checksums with the pseudo header; `l4` holds `l4_len` bytes
// with its checksum field zeroed by the caller. For UDP a computed zero is
// returned as 0xffff (zero means "no checksum" on the wire).
Be16 L4ChecksumV4(const Ipv4Hdr* ip, uint8_t proto, const void* l4, uint32_t l4_len) noexcept;
Be16 L4ChecksumV6(const Ipv6Hdr* ip, uint8_t proto, const void* l4, uint32_t l4_len) noexcept;

// RFC 1624 eqn. 3: the new checksum after one 16-bit word changes. Inline:
// nvgre-encap fixes each outer IPv4 header's checksum with it.
inline Be16 ChecksumUpdate16(Be16 old_checksum, Be16 old_word, Be16 new_word) noexcept {
  // HC' = ~(~HC + ~m + m')
  uint32_t sum = static_cast<uint16_t>(~old_checksum.ToHost()) +
                 static_cast<uint16_t>(~old_word.ToHost()) +
                 static_cast<uint32_t>(new_word.ToHost());
  // At most 3 * 0xffff: two fixed folds (no data-dependent loop).
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return Be16::FromHost(static_cast<uint16_t>(~sum));
}
// IPv4 TTL decrement with the incremental checksum update. A TTL of 0 is left
// alone (never wrapped to 255); callers drop such packets before this.
void Ipv4DecrementTtl(Ipv4Hdr* h) noexcept;

}  // namespace hnv
