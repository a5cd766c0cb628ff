// Internet checksums (RFC 1071) and incremental updates (RFC 1624).
// All functions are pure, allocation-free and safe on the per-packet path.
#pragma once

#include <cstddef>
#include <cstdint>

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
// True when the header's stored checksum is right.
bool Ipv4HeaderChecksumOk(const Ipv4Hdr* h) noexcept;

// TCP/UDP/ICMPv6 checksums with the pseudo header; `l4` holds `l4_len` bytes
// with its checksum field zeroed by the caller. For UDP a computed zero is
// returned as 0xffff (zero means "no checksum" on the wire).
Be16 L4ChecksumV4(const Ipv4Hdr* ip, uint8_t proto, const void* l4, uint32_t l4_len) noexcept;
Be16 L4ChecksumV6(const Ipv6Hdr* ip, uint8_t proto, const void* l4, uint32_t l4_len) noexcept;

// RFC 1624 eqn. 3: the new checksum after one 16-bit word changes.
Be16 ChecksumUpdate16(Be16 old_checksum, Be16 old_word, Be16 new_word) noexcept;
// IPv4 TTL decrement with the incremental checksum update. A TTL of 0 is left
// alone (never wrapped to 255); callers drop such packets before this.
void Ipv4DecrementTtl(Ipv4Hdr* h) noexcept;

}  // namespace hnv
