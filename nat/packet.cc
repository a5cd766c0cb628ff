#include "nat/packet.h"

#include <cstddef>

#include "dataplane/packet/parse.h"

namespace hnv::nat {
namespace {

constexpr uint32_t kSrcOff = offsetof(Ipv4Hdr, src);
constexpr uint32_t kDstOff = offsetof(Ipv4Hdr, dst);
constexpr uint32_t kIpCsumOff = offsetof(Ipv4Hdr, checksum);
constexpr uint32_t kTcpCsumOff = offsetof(TcpHdr, checksum);
constexpr uint32_t kUdpCsumOff = offsetof(UdpHdr, checksum);
constexpr uint32_t kIcmpCsumOff = offsetof(IcmpHdr, checksum);
constexpr uint32_t kIcmpIdOff = 4;  // echo/timestamp: identifier, then sequence

constexpr uint8_t kIcmpParamProblem = 12;
constexpr uint8_t kIcmpTimestamp = 13;
constexpr uint8_t kIcmpTimestampReply = 14;

bool IsQuery(uint8_t type) {
  return type == kIcmpEchoRequest || type == kIcmpEchoReply || type == kIcmpTimestamp ||
         type == kIcmpTimestampReply;
}
bool IsError(uint8_t type) {
  return type == kIcmpDestUnreachable || type == kIcmpTimeExceeded || type == kIcmpParamProblem;
}

// The embedded packet of an ICMP error at `p` with `avail` bytes: an IPv4
// header and at least 8 bytes of TCP, UDP or an ICMP query, not a later
// fragment. The embedded total length may claim more than is present.
bool ViewEmbedded(uint8_t* p, uint32_t avail, PacketView* v) {
  if (avail < sizeof(Ipv4Hdr) || p[0] >> 4 != 4) return false;
  const uint32_t ihl = (p[0] & 0x0fu) * 4;
  if (ihl < sizeof(Ipv4Hdr) || avail < ihl + 8) return false;
  const uint16_t frag = Be16::FromRaw(Load16(p + offsetof(Ipv4Hdr, frag))).ToHost();
  if ((frag & 0x1fff) != 0) return false;  // a later fragment: no L4 header
  uint8_t* l4 = p + ihl;
  const uint8_t proto = p[offsetof(Ipv4Hdr, protocol)];
  v->inner_ip = p;
  v->inner_l4 = l4;
  v->inner_l4_len = avail - ihl;
  v->inner_src.addr = Load32(p + kSrcOff);
  v->inner_dst.addr = Load32(p + kDstOff);
  switch (proto) {
    case kIpProtoTcp:
    case kIpProtoUdp:
      v->proto = proto == kIpProtoTcp ? Proto::kTcp : Proto::kUdp;
      v->inner_src.port = Load16(l4);
      v->inner_dst.port = Load16(l4 + 2);
      return true;
    case kIpProtoIcmp:
      if (!IsQuery(l4[0])) return false;  // never an error about an error
      v->proto = Proto::kIcmp;
      v->inner_src.port = v->inner_dst.port = Load16(l4 + kIcmpIdOff);
      return true;
    default:
      return false;
  }
}

// The L4 checksum field of a TCP/UDP packet with `l4_len` bytes present, or
// nullptr when it is not present (an embedded TCP header cut at 8 bytes) or
// is a UDP "no checksum".
uint8_t* L4Checksum(Proto proto, uint8_t* l4, uint32_t l4_len) {
  if (proto == Proto::kTcp) return l4_len >= kTcpCsumOff + 2 ? l4 + kTcpCsumOff : nullptr;
  if (proto == Proto::kUdp) return Load16(l4 + kUdpCsumOff) != 0 ? l4 + kUdpCsumOff : nullptr;
  return l4 + kIcmpCsumOff;  // an ICMP query: its own checksum
}

// Applies `d` to the L4 checksum at `csum`; UDP never gets a zero.
uint16_t L4Updated(Proto proto, const uint8_t* csum, const ChecksumDelta& d) {
  uint16_t c = d.Apply(Load16(csum));
  if (proto == Proto::kUdp && c == 0) c = 0xffff;
  return c;
}

}  // namespace

// Every frame but the common one: the full parser.
static Drop ViewGeneral(uint8_t* frame, uint32_t len, PacketView* v) noexcept {
  v->kind = Kind::kNotIpv4;
  v->ip = v->l4 = nullptr;
  v->l4_len = 0;
  v->ip_proto = v->tcp_flags = v->icmp_type = 0;
  v->proto = Proto::kTcp;
  v->src = v->dst = Endpoint{};
  ParsedFrame pf;
  const ParseError e = ParseFrame(frame, len, &pf);
  if (pf.l3 != L3Kind::kIpv4) return e == ParseError::kOk ? Drop::kNone : Drop::kMalformed;
  // A sound IPv4 header whose TCP/UDP/ICMP header is cut short (or a TCP
  // data offset out of range) keeps its addresses in the view, as kOtherIp:
  // the features drop it as kMalformed when it is theirs (to a NAT address,
  // from a translated source) instead of passing it on untranslated.
  if (e != ParseError::kOk && e != ParseError::kTruncatedL4) return Drop::kMalformed;
  uint8_t* ip = frame + pf.l3_offset;
  v->ip = ip;
  v->l4 = frame + pf.l4_offset;
  v->l4_len = pf.l3_len - (pf.l4_offset - pf.l3_offset);
  v->ip_proto = pf.l4_proto;
  v->src.addr = Load32(ip + kSrcOff);
  v->dst.addr = Load32(ip + kDstOff);
  if (e == ParseError::kTruncatedL4) {
    v->kind = Kind::kOtherIp;
    return Drop::kMalformed;
  }
  // A fragment is reported as such (only a static address rewrite applies to
  // it); a first fragment still shows its L4 header, a later one none.
  const Drop frag = pf.is_fragment ? Drop::kFragment : Drop::kNone;
  if (pf.is_fragment && !pf.is_first_fragment) {
    v->kind = Kind::kOtherIp;
    return frag;
  }
  uint8_t* l4 = v->l4;
  switch (pf.l4_proto) {
    case kIpProtoTcp:
      v->kind = Kind::kTcp;
      v->proto = Proto::kTcp;
      v->src.port = Load16(l4);
      v->dst.port = Load16(l4 + 2);
      v->tcp_flags = l4[offsetof(TcpHdr, flags)];
      return frag;
    case kIpProtoUdp:
      v->kind = Kind::kUdp;
      v->proto = Proto::kUdp;
      v->src.port = Load16(l4);
      v->dst.port = Load16(l4 + 2);
      return frag;
    case kIpProtoIcmp:
      v->icmp_type = l4[0];
      if (pf.is_fragment) {  // an ICMP message in fragments: its address only
        v->kind = Kind::kOtherIp;
        return frag;
      }
      if (IsQuery(v->icmp_type)) {
        v->kind = Kind::kIcmpQuery;
        v->proto = Proto::kIcmp;
        v->src.port = v->dst.port = Load16(l4 + kIcmpIdOff);
        return Drop::kNone;
      }
      if (IsError(v->icmp_type)) {
        v->kind = Kind::kIcmpError;
        if (!ViewEmbedded(l4 + sizeof(IcmpHdr), v->l4_len - sizeof(IcmpHdr), v))
          return Drop::kBadIcmpError;
        return Drop::kNone;
      }
      v->kind = Kind::kOtherIp;
      return Drop::kIcmpUnsupported;
    default:
      v->kind = Kind::kOtherIp;
      return frag;
  }
}

// The common frame, without the general parser: untagged IPv4 without
// options, not a fragment, TCP or UDP with its header inside the IP length
// (the checks ParseFrame makes for it, in a few instructions).
Drop ViewPacket(uint8_t* frame, uint32_t len, PacketView* v) noexcept {
  constexpr uint32_t kL3 = sizeof(EthHdr);
  if (len < kL3 + sizeof(Ipv4Hdr) + 8 || Load16(frame + offsetof(EthHdr, ether_type)) !=
                                             Be16::FromHost(kEtherTypeIpv4).raw() ||
      frame[kL3] != 0x45)
    return ViewGeneral(frame, len, v);
  uint8_t* ip = frame + kL3;
  const uint32_t total = Be16::FromRaw(Load16(ip + offsetof(Ipv4Hdr, total_length))).ToHost();
  const uint8_t proto = ip[offsetof(Ipv4Hdr, protocol)];
  uint8_t* l4 = ip + sizeof(Ipv4Hdr);
  const bool whole = (Load16(ip + offsetof(Ipv4Hdr, frag)) & Be16::FromHost(0x3fff).raw()) == 0;
  if (!whole || total > len - kL3) return ViewGeneral(frame, len, v);
  const uint32_t l4_len = total - sizeof(Ipv4Hdr);
  if (proto == kIpProtoUdp && l4_len >= sizeof(UdpHdr)) {
    v->kind = Kind::kUdp;
    v->proto = Proto::kUdp;
    v->tcp_flags = 0;
  } else if (proto == kIpProtoTcp && l4_len >= sizeof(TcpHdr) &&
             (l4[offsetof(TcpHdr, data_off)] >> 4) * 4u >= sizeof(TcpHdr) &&
             (l4[offsetof(TcpHdr, data_off)] >> 4) * 4u <= l4_len) {
    v->kind = Kind::kTcp;
    v->proto = Proto::kTcp;
    v->tcp_flags = l4[offsetof(TcpHdr, flags)];
  } else {
    return ViewGeneral(frame, len, v);
  }
  v->ip = ip;
  v->l4 = l4;
  v->l4_len = l4_len;
  v->ip_proto = proto;
  v->icmp_type = 0;
  v->src = Endpoint{Load32(ip + kSrcOff), Load16(l4)};
  v->dst = Endpoint{Load32(ip + kDstOff), Load16(l4 + 2)};
  return Drop::kNone;
}

void RewriteAddress(PacketView& v, Side side, uint32_t addr) noexcept {
  Endpoint& end = side == Side::kSrc ? v.src : v.dst;
  ChecksumDelta ip;
  ip.Change32(end.addr, addr);
  ip.ApplyAt(v.ip + kIpCsumOff);
  Store32(v.ip + (side == Side::kSrc ? kSrcOff : kDstOff), addr);
  end.addr = addr;
}

void RewriteEnd(PacketView& v, Side side, Endpoint to) noexcept {
  const bool src = side == Side::kSrc;
  Endpoint& end = src ? v.src : v.dst;
  ChecksumDelta addr;
  addr.Change32(end.addr, to.addr);
  addr.ApplyAt(v.ip + kIpCsumOff);
  Store32(v.ip + (src ? kSrcOff : kDstOff), to.addr);
  ChecksumDelta l4 = addr;  // TCP and UDP: the pseudo header holds the addresses
  l4.Change16(end.port, to.port);
  end.addr = to.addr;
  switch (v.kind) {
    case Kind::kTcp:  // a whole segment's header: its checksum is there
      l4.ApplyAt(v.l4 + kTcpCsumOff);
      break;
    case Kind::kUdp:
      if (uint8_t* csum = v.l4 + kUdpCsumOff; Load16(csum) != 0) {
        const uint16_t c = l4.Apply(Load16(csum));
        Store16(csum, c == 0 ? 0xffff : c);  // never "no checksum"
      }
      break;
    default: {  // an ICMP query: no pseudo header, the identifier only
      ChecksumDelta icmp;
      icmp.Change16(end.port, to.port);
      icmp.ApplyAt(v.l4 + kIcmpCsumOff);
      Store16(v.l4 + kIcmpIdOff, to.port);
      v.src.port = v.dst.port = to.port;
      return;
    }
  }
  Store16(v.l4 + (src ? 0 : 2), to.port);
  end.port = to.port;
}

void RewriteIcmpError(PacketView& v, Side outer, Endpoint to) noexcept {
  // Outer: the address only (ICMP has no pseudo header).
  const uint32_t outer_off = outer == Side::kSrc ? kSrcOff : kDstOff;
  Endpoint& out_end = outer == Side::kSrc ? v.src : v.dst;
  ChecksumDelta ip;
  ip.Change32(out_end.addr, to.addr);
  ip.ApplyAt(v.ip + kIpCsumOff);
  Store32(v.ip + outer_off, to.addr);
  out_end.addr = to.addr;

  // Embedded: the opposite side, as the end appeared in the packet sent.
  const bool inner_src = outer == Side::kDst;
  Endpoint& in_end = inner_src ? v.inner_src : v.inner_dst;
  uint8_t* iip = v.inner_ip;
  uint8_t* il4 = v.inner_l4;
  ChecksumDelta icmp;  // every word changed inside the ICMP message

  ChecksumDelta inner_ip;
  inner_ip.Change32(in_end.addr, to.addr);
  const uint16_t old_ip_csum = Load16(iip + kIpCsumOff);
  const uint16_t new_ip_csum = inner_ip.Apply(old_ip_csum);
  Store16(iip + kIpCsumOff, new_ip_csum);
  icmp.Change16(old_ip_csum, new_ip_csum);
  Store32(iip + (inner_src ? kSrcOff : kDstOff), to.addr);
  icmp.Change32(in_end.addr, to.addr);

  ChecksumDelta inner_l4;
  if (v.proto != Proto::kIcmp) inner_l4 = inner_ip;  // TCP/UDP pseudo header
  inner_l4.Change16(in_end.port, to.port);
  if (uint8_t* csum = L4Checksum(v.proto, il4, v.inner_l4_len)) {
    const uint16_t old_csum = Load16(csum);
    const uint16_t new_csum = L4Updated(v.proto, csum, inner_l4);
    Store16(csum, new_csum);
    icmp.Change16(old_csum, new_csum);
  }
  const uint32_t port_off = v.proto == Proto::kIcmp ? kIcmpIdOff : (inner_src ? 0 : 2);
  Store16(il4 + port_off, to.port);
  icmp.Change16(in_end.port, to.port);
  if (v.proto == Proto::kIcmp) {
    v.inner_src.port = v.inner_dst.port = to.port;
  } else {
    in_end.port = to.port;
  }
  in_end.addr = to.addr;
  icmp.ApplyAt(v.l4 + kIcmpCsumOff);
}

}  // namespace hnv::nat
