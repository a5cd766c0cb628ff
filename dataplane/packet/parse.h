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

#include <cstddef>
#include <cstdint>
#include <cstring>

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

// Inline: every stage parses each frame once or twice (provider-ingress and
// nvgre-decap twice), and the call, its register saves and the ParsedFrame
// stores that the caller then reloads were a tenth of the decap path's
// instructions.
namespace parse_internal {
// Loads a header by value: the frame may sit at any alignment.
template <typename H>
inline H Load(const uint8_t* p) {
  H h;
  std::memcpy(&h, p, sizeof(H));
  return h;
}

// One big-endian field, loaded alone. Copying a whole header (Load<Ipv4Hdr>)
// goes through the stack: a 16-byte store, then each field read back from
// it; these read the frame itself.
inline uint16_t U16At(const uint8_t* p) { return Load<Be16>(p).ToHost(); }
inline uint32_t U32At(const uint8_t* p) { return Load<Be32>(p).ToHost(); }

inline uint32_t MinL4Bytes(uint8_t proto, bool v6) {
  switch (proto) {
    case kIpProtoUdp:
    case kIpProtoGre:  // NVGRE needs base header + key
      return 8;
    case kIpProtoTcp:
      return sizeof(TcpHdr);
    case kIpProtoIcmp:
      return v6 ? 0 : sizeof(IcmpHdr);
    case kIpProtoIcmp6:
      return v6 ? sizeof(IcmpHdr) : 0;
    default:
      return 0;  // not a protocol we look into
  }
}

// Checks the L4 header at `l4` with `avail` bytes of IP payload after it.
inline ParseError CheckL4(const uint8_t* data, uint32_t l4, uint32_t avail, bool v6, ParsedFrame* out) {
  const uint32_t need = MinL4Bytes(out->l4_proto, v6);
  if (need == 0) return ParseError::kOk;
  if (avail < need) return ParseError::kTruncatedL4;
  if (out->l4_proto == kIpProtoTcp) {
    const uint32_t header_bytes = (data[l4 + offsetof(TcpHdr, data_off)] >> 4) * 4u;
    if (header_bytes < sizeof(TcpHdr) || header_bytes > avail) return ParseError::kTruncatedL4;
  }
  out->l4_present = true;
  return ParseError::kOk;
}

inline ParseError ParseArp(const uint8_t* data, uint32_t len, ParsedFrame* out) {
  out->l3 = L3Kind::kArp;
  if (len - out->l3_offset < sizeof(ArpHdr)) return ParseError::kTruncatedArp;
  const uint8_t* arp = data + out->l3_offset;
  if (U16At(arp + offsetof(ArpHdr, htype)) != 1 ||
      U16At(arp + offsetof(ArpHdr, ptype)) != kEtherTypeIpv4 || arp[offsetof(ArpHdr, hlen)] != 6 ||
      arp[offsetof(ArpHdr, plen)] != 4) {
    return ParseError::kBadArp;
  }
  out->l3_len = sizeof(ArpHdr);
  return ParseError::kOk;
}

inline ParseError ParseIpv4(const uint8_t* data, uint32_t len, ParsedFrame* out) {
  out->l3 = L3Kind::kIpv4;
  const uint32_t present = len - out->l3_offset;
  if (present < sizeof(Ipv4Hdr)) return ParseError::kTruncatedIpv4;
  const uint8_t* ip = data + out->l3_offset;
  const uint8_t version_ihl = ip[offsetof(Ipv4Hdr, version_ihl)];
  if (version_ihl >> 4 != 4) return ParseError::kBadIpv4Version;
  const uint32_t ihl = (version_ihl & 0x0fu) * 4;
  if (ihl < sizeof(Ipv4Hdr) || ihl > present) return ParseError::kBadIpv4Ihl;
  const uint32_t total = U16At(ip + offsetof(Ipv4Hdr, total_length));
  if (total < ihl || total > present) return ParseError::kBadIpv4Length;
  out->l3_len = static_cast<uint16_t>(total);
  out->l4_offset = static_cast<uint16_t>(out->l3_offset + ihl);
  out->l4_proto = ip[offsetof(Ipv4Hdr, protocol)];
  const uint16_t frag = U16At(ip + offsetof(Ipv4Hdr, frag));
  out->is_fragment = (frag & 0x3fff) != 0;
  out->is_first_fragment = (frag & 0x1fff) == 0;
  if (!out->is_first_fragment) return ParseError::kOk;  // no L4 header in this one
  return CheckL4(data, out->l4_offset, total - ihl, /*v6=*/false, out);
}

inline ParseError ParseIpv6(const uint8_t* data, uint32_t len, ParsedFrame* out) {
  out->l3 = L3Kind::kIpv6;
  const uint32_t present = len - out->l3_offset;
  if (present < sizeof(Ipv6Hdr)) return ParseError::kTruncatedIpv6;
  const uint8_t* ip = data + out->l3_offset;
  if (U32At(ip + offsetof(Ipv6Hdr, vtc_flow)) >> 28 != 6) return ParseError::kBadIpv6Version;
  const uint32_t total = sizeof(Ipv6Hdr) + U16At(ip + offsetof(Ipv6Hdr, payload_length));
  // l3_len is 16 bits: a payload over 65495 bytes cannot be described (and no
  // Ethernet MTU carries one), so it is refused like a lying length.
  if (total > present || total > UINT16_MAX) return ParseError::kBadIpv6Length;
  out->l3_len = static_cast<uint16_t>(total);
  uint32_t l4 = out->l3_offset + sizeof(Ipv6Hdr);
  uint32_t avail = total - sizeof(Ipv6Hdr);
  out->l4_offset = static_cast<uint16_t>(l4);
  const uint8_t next_header = ip[offsetof(Ipv6Hdr, next_header)];
  out->l4_proto = next_header;
  if (next_header == kIpv6NextFragment) {
    if (avail < sizeof(Ipv6FragHdr)) return ParseError::kTruncatedIpv6;
    const uint8_t* fh = data + l4;
    l4 += sizeof(Ipv6FragHdr);
    avail -= sizeof(Ipv6FragHdr);
    out->l4_offset = static_cast<uint16_t>(l4);
    out->l4_proto = fh[offsetof(Ipv6FragHdr, next_header)];
    out->is_fragment = true;
    out->is_first_fragment = (U16At(fh + offsetof(Ipv6FragHdr, offset_flags)) & 0xfff8) == 0;
    if (!out->is_first_fragment) return ParseError::kOk;
  }
  return CheckL4(data, l4, avail, /*v6=*/true, out);
}
}  // namespace parse_internal

inline ParseError ParseFrame(const uint8_t* data, uint32_t len, ParsedFrame* out) noexcept {
  using namespace parse_internal;
  *out = ParsedFrame{};
  if (len < sizeof(EthHdr)) return ParseError::kTruncatedEth;
  // Only the EtherType: a whole-header Load<EthHdr> copies 14 bytes through the
  // stack with overlapping 8-byte stores, and reading the field back stalls on
  // store forwarding (about 15 ns a frame since Be16 is stored as bytes).
  uint16_t type = U16At(data + offsetof(EthHdr, ether_type));
  uint32_t off = sizeof(EthHdr);
  out->l3_offset = static_cast<uint16_t>(off);
  out->ether_type = type;
  if (type == kEtherTypeQinQ) return ParseError::kDoubleVlan;
  if (type == kEtherTypeVlan) {
    if (len - off < sizeof(VlanTag)) return ParseError::kTruncatedVlan;
    const uint16_t tci = U16At(data + off + offsetof(VlanTag, tci));
    type = U16At(data + off + offsetof(VlanTag, ether_type));
    off += sizeof(VlanTag);
    out->has_vlan = true;
    out->vlan_id = tci & 0x0fff;  // VlanTag::vid
    out->l3_offset = static_cast<uint16_t>(off);
    out->ether_type = type;
    if (type == kEtherTypeVlan || type == kEtherTypeQinQ) return ParseError::kDoubleVlan;
  }
  // IPv4 tested first: most frames.
  if (type == kEtherTypeIpv4) [[likely]]
    return ParseIpv4(data, len, out);
  if (type == kEtherTypeIpv6) return ParseIpv6(data, len, out);
  if (type == kEtherTypeArp) return ParseArp(data, len, out);
  out->l3 = L3Kind::kOther;
  return ParseError::kOk;
}

}  // namespace hnv
