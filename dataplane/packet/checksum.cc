#include "dataplane/packet/checksum.h"

#include <bit>
#include <cstddef>
#include <cstring>

namespace hnv {
namespace {

uint32_t Fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint32_t>(sum);
}

uint16_t ToNetworkValue(uint16_t native_sum) {
  if constexpr (std::endian::native == std::endian::little) return ByteSwap(native_sum);
  return native_sum;
}

}  // namespace

// The sum is taken over native-order loads (cheap, any alignment through
// memcpy) and swapped once at the end: the ones'-complement sum commutes with
// byte swapping (RFC 1071, section 2(B)), so the result is the sum of the
// big-endian 16-bit words, a plain number that callers can add to.
uint32_t ChecksumPartial(const void* data, size_t len, uint32_t initial) noexcept {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t sum = 0;
  while (len >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    sum += w;
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    sum += w;
    p += 2;
    len -= 2;
  }
  if (len == 1) {
    // The odd byte is the high half of a word padded with zero.
    const uint8_t pad[2] = {*p, 0};
    uint16_t w;
    std::memcpy(&w, pad, 2);
    sum += w;
  }
  const uint32_t be = ToNetworkValue(static_cast<uint16_t>(Fold(sum)));
  return Fold(static_cast<uint64_t>(be) + initial);
}

Be16 ChecksumFinish(uint32_t partial) noexcept {
  return Be16::FromHost(static_cast<uint16_t>(~Fold(partial)));
}

Be16 Ipv4HeaderChecksum(const Ipv4Hdr* h) noexcept {
  const auto* p = reinterpret_cast<const uint8_t*>(h);
  size_t ihl = h->ihl_bytes();
  if (ihl < sizeof(Ipv4Hdr)) ihl = sizeof(Ipv4Hdr);
  constexpr size_t kCsumOff = offsetof(Ipv4Hdr, checksum);
  uint32_t sum = ChecksumPartial(p, kCsumOff);
  sum = ChecksumPartial(p + kCsumOff + 2, ihl - kCsumOff - 2, sum);
  return ChecksumFinish(sum);
}

bool Ipv4HeaderWithOptionsChecksumOk(const Ipv4Hdr* h) noexcept {
  size_t ihl = h->ihl_bytes();
  if (ihl < sizeof(Ipv4Hdr)) return false;
  return Fold(ChecksumPartial(h, ihl)) == 0xffff;
}

namespace {

Be16 FinishL4(uint32_t sum, uint8_t proto) {
  Be16 c = ChecksumFinish(sum);
  // UDP sends a computed zero as all ones: zero means "no checksum".
  if (proto == kIpProtoUdp && c.ToHost() == 0) c = Be16::FromHost(0xffff);
  return c;
}

}  // namespace

Be16 L4ChecksumV4(const Ipv4Hdr* ip, uint8_t proto, const void* l4, uint32_t l4_len) noexcept {
  uint32_t sum = ChecksumPartial(ip->src, 4);
  sum = ChecksumPartial(ip->dst, 4, sum);
  sum = Fold(static_cast<uint64_t>(sum) + proto + (l4_len >> 16) + (l4_len & 0xffff));
  sum = ChecksumPartial(l4, l4_len, sum);
  return FinishL4(sum, proto);
}

Be16 L4ChecksumV6(const Ipv6Hdr* ip, uint8_t proto, const void* l4, uint32_t l4_len) noexcept {
  uint32_t sum = ChecksumPartial(ip->src, 16);
  sum = ChecksumPartial(ip->dst, 16, sum);
  sum = Fold(static_cast<uint64_t>(sum) + proto + (l4_len >> 16) + (l4_len & 0xffff));
  sum = ChecksumPartial(l4, l4_len, sum);
  return FinishL4(sum, proto);
}

void Ipv4DecrementTtl(Ipv4Hdr* h) noexcept {
  if (h->ttl == 0) return;  // the caller drops these; never wrap to 255
  const auto old_word = Be16::FromHost(static_cast<uint16_t>(h->ttl << 8 | h->protocol));
  --h->ttl;
  const auto new_word = Be16::FromHost(static_cast<uint16_t>(h->ttl << 8 | h->protocol));
  h->checksum = ChecksumUpdate16(h->checksum, old_word, new_word);
}

}  // namespace hnv
