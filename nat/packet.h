// The NAT's view of an IPv4 packet in a contiguous frame, and the rewrites
// every feature of nat/ makes, with incremental checksum updates.
//
// Theory of operation. ViewPacket parses a frame (Ethernet, at most one
// 802.1Q tag, IPv4) with dataplane/packet/parse.h and then what the NAT needs
// beyond it: the ports of TCP and UDP, the identifier of an ICMP query (echo,
// timestamp), and for an ICMP error (destination unreachable, time exceeded,
// parameter problem) the embedded IPv4 header and the first 8 bytes after it
// (RFC 792 guarantees no more), which must be TCP, UDP or an ICMP query. It
// never reads past the frame or the IP total length. A frame that is not
// IPv4 gives kNotIpv4 (the NAT leaves it alone); a malformed IPv4 packet, an
// ICMP error that cannot be translated or an ICMP type that is neither query
// nor error give a drop reason. A sound IPv4 header whose L4 header is
// truncated gives kMalformed with the addresses in the view (kOtherIp), so
// that a feature can tell whether it is its own to drop. A fragment gives kFragment with the view
// filled in (a first fragment with its L4 header, a later one as kOtherIp):
// only an address rewrite (static NAT) applies to it.
//
// Rewrites change bytes in place and fold every changed 16-bit word into the
// checksums that cover it (RFC 1624 eqn. 3), never recompute one:
//  - the IPv4 header checksum for addresses;
//  - TCP and UDP checksums for the pseudo header's addresses and the port;
//    a UDP checksum of zero ("none") stays zero, and a computed zero is
//    written as 0xffff (RFC 768);
//  - the ICMP checksum for a query identifier, and for an ICMP error every
//    word changed inside the embedded packet (its addresses and port, its
//    header checksum and its L4 checksum when that is present: TCP's sits at
//    byte 16, beyond the 8 bytes an error must carry).
// Incremental updates give exactly the bytes a full recomputation would
// (tests/unit/nat/packet_test.cc checks every case against one).
//
// Thread: pure functions on the caller's frame; no allocation, no exception.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/packet/headers.h"
#include "nat/reasons.h"

namespace hnv::nat {

// The protocols sessions are kept for; the index of a per-protocol table.
enum class Proto : uint8_t { kTcp = 0, kUdp = 1, kIcmp = 2 };
inline constexpr uint32_t kProtoCount = 3;

enum class Kind : uint8_t {
  kNotIpv4,    // the NAT does not touch it
  kTcp,
  kUdp,
  kIcmpQuery,  // echo or timestamp request/reply: the identifier is the "port"
  kIcmpError,  // the embedded packet is the one that matters
  kOtherIp,    // another IP protocol (no ports)
};

// One end of a packet or a session: address and port as they are on the
// wire (network byte order in memory), so that they are compared and
// written without swapping.
struct Endpoint {
  uint32_t addr;  // no initialisers: bursts hold arrays of views
  uint16_t port;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// A frame in contiguous memory (an mbuf's data, one segment). `len` may
// shrink when a feature rewrites a frame into a shorter answer (Edge::kReply).
struct Frame {
  uint8_t* data = nullptr;
  uint32_t len = 0;
};

// Filled by ViewPacket (no initialisers: a burst holds an array of them, and
// zeroing it cost more than parsing). The inner_* fields are set for
// kIcmpError only.
struct PacketView {
  Kind kind;
  uint8_t* ip;      // the IPv4 header (null when not IPv4)
  uint8_t* l4;      // the first byte after it
  uint32_t l4_len;  // IP payload bytes (total length - IHL)
  uint8_t ip_proto;
  Proto proto;            // kTcp / kUdp / kIcmpQuery (and of the embedded one for errors)
  Endpoint src, dst;      // ICMP query: the identifier in both ports
  uint8_t tcp_flags;
  uint8_t icmp_type;
  // kIcmpError: the embedded packet (sent by one of the ends of a session).
  uint8_t* inner_ip;
  uint8_t* inner_l4;
  uint32_t inner_l4_len;  // embedded L4 bytes present in the error (>= 8)
  Endpoint inner_src, inner_dst;
};

// kNone with v->kind set, or the reason to drop.
Drop ViewPacket(uint8_t* frame, uint32_t len, PacketView* v) noexcept;

inline uint16_t Load16(const uint8_t* p) {
  uint16_t x;
  std::memcpy(&x, p, 2);
  return x;
}
inline uint32_t Load32(const uint8_t* p) {
  uint32_t x;
  std::memcpy(&x, p, 4);
  return x;
}
inline void Store16(uint8_t* p, uint16_t x) { std::memcpy(p, &x, 2); }
inline void Store32(uint8_t* p, uint32_t x) { std::memcpy(p, &x, 4); }

// The one's-complement change of words in raw (network) byte order: the sum
// commutes with byte swapping (RFC 1071 2(B)), so no word is swapped.
class ChecksumDelta {
 public:
  void Change16(uint16_t old_raw, uint16_t new_raw) {
    sum_ += static_cast<uint16_t>(~old_raw);
    sum_ += new_raw;
  }
  void Change32(uint32_t old_raw, uint32_t new_raw) {
    Change16(static_cast<uint16_t>(old_raw), static_cast<uint16_t>(new_raw));
    Change16(static_cast<uint16_t>(old_raw >> 16), static_cast<uint16_t>(new_raw >> 16));
  }
  // The checksum (raw) after the changes: ~(~HC + sum of (~m + m')).
  uint16_t Apply(uint16_t checksum_raw) const {
    uint64_t s = static_cast<uint16_t>(~checksum_raw) + sum_;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(~s);
  }
  // Applies the changes to the checksum stored at `p`.
  void ApplyAt(uint8_t* p) const { Store16(p, Apply(Load16(p))); }

 private:
  uint64_t sum_ = 0;
};

enum class Side : uint8_t { kSrc, kDst };

// TCP, UDP or ICMP query: sets the address and port (query identifier) of
// one side.
void RewriteEnd(PacketView& v, Side side, Endpoint to) noexcept;

// Any IPv4 packet: sets one address, fixing only the IPv4 header checksum
// (for protocols without a pseudo-header checksum, and later fragments).
void RewriteAddress(PacketView& v, Side side, uint32_t addr) noexcept;

// ICMP error: sets the outer address of `outer` (the side of the error that
// is one of the ends of the session) to `to.addr`, and the embedded
// packet's opposite side (the same end, as it appeared in the packet the
// error is about) to `to`.
void RewriteIcmpError(PacketView& v, Side outer, Endpoint to) noexcept;

}  // namespace hnv::nat
