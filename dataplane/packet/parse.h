// Bounds-checked parsing of one Ethernet frame held in contiguous memory.
//
// Theory of operation: ParseFrame reads the Ethernet header, at most one
// 802.1Q tag, then ARP, IPv4 or IPv6 (with its fixed header; IPv6 extension
// headers other than a fragment header are not walked), then the first
// 8 bytes of ICMP/ICMPv6/UDP/GRE or 20 of TCP. It never reads past `len`:
// a header that does not fit, or a length field that claims more than the
// frame holds, yields a ParseError and the fields parsed so far. IP header
// checksums are not verified here (the stages that terminate traffic do).
// No allocation, no exceptions; callable from workers.
//
// Details a caller may rely on:
// - Bytes after the IP packet (Ethernet padding) are allowed and ignored.
// - L4 headers are checked against the IP length, not the frame: UDP, GRE
//   (base + key, what NVGRE needs), ICMP over IPv4 and ICMPv6 over IPv6 need 8
//   bytes, TCP 20 and a data offset between 20 and the bytes present;
//   otherwise kTruncatedL4. Other protocols: kOk with l4_present false.
// - Fragments: a later fragment (offset != 0) has no L4 header, so kOk with
//   l4_present false; a first fragment is checked like a whole packet.
// - An IPv6 fragment header cut by payload_length is kTruncatedIpv6; an IPv6
//   payload too long for the 16-bit l3_len (over 65495 bytes) is
//   kBadIpv6Length.
#pragma once

#include <cstdint>

#include "dataplane/packet/headers.h"

namespace hnv {

enum class L3Kind : uint8_t { kNone, kArp, kIpv4, kIpv6, kOther };

enum class ParseError : uint8_t {
  kOk,
  kTruncatedEth,
  kTruncatedVlan,
  kDoubleVlan,  // QinQ or a second 802.1Q tag
  kTruncatedArp,
  kBadArp,  // not Ethernet/IPv4 ARP
  kTruncatedIpv4,
  kBadIpv4Version,
  kBadIpv4Ihl,     // IHL < 5 or options past the frame
  kBadIpv4Length,  // total_length < IHL or > bytes present
  kTruncatedIpv6,
  kBadIpv6Version,
  kBadIpv6Length,  // payload_length > bytes present
  kTruncatedL4,    // ICMP/UDP/GRE/TCP header does not fit in the IP payload
  kCount
};
const char* ParseErrorName(ParseError e);

struct ParsedFrame {
  uint16_t l3_offset = 0;   // first byte after Ethernet (+ VLAN tag)
  uint16_t l4_offset = 0;   // first byte after the IP header (0 if none)
  uint16_t l3_len = 0;      // IPv4 total_length / 40 + IPv6 payload_length; ARP 28
  uint16_t ether_type = 0;  // host order, after any VLAN tag
  uint16_t vlan_id = 0;
  bool has_vlan = false;
  L3Kind l3 = L3Kind::kNone;
  uint8_t l4_proto = 0;           // IPv4 protocol / IPv6 next header (after a fragment header)
  bool is_fragment = false;       // IPv4 MF/offset, or an IPv6 fragment header
  bool is_first_fragment = true;  // offset 0: the L4 header is present
  bool l4_present = false;        // l4_offset points at a complete L4 header

  template <typename H>
  const H* At(const uint8_t* frame, uint16_t off) const {
    return reinterpret_cast<const H*>(frame + off);
  }
};

ParseError ParseFrame(const uint8_t* data, uint32_t len, ParsedFrame* out) noexcept;

}  // namespace hnv
