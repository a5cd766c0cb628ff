#include "dataplane/packet/build.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#include "dataplane/packet/checksum.h"

namespace hnv {
namespace {

// Every header struct is packed (alignment 1), so these casts are valid at any
// offset of a byte buffer.
template <typename H>
H* HdrAt(uint8_t* p) {
  static_assert(alignof(H) == 1);
  return reinterpret_cast<H*>(p);
}

constexpr uint8_t kDefaultTtl = 64;
constexpr uint8_t kNdHopLimit = 255;  // RFC 4861: anything else is dropped
constexpr uint32_t kIpv4MinMtu = 576;
constexpr uint32_t kIpv6MinMtu = 1280;

uint32_t EthLen(uint16_t vlan) { return vlan != 0 ? 18 : 14; }

void WriteIpv6(uint8_t* p, const uint8_t* src, const uint8_t* dst, uint16_t payload_len,
               uint8_t next_header, uint8_t hop_limit) {
  Ipv6Hdr* ip = HdrAt<Ipv6Hdr>(p);
  ip->vtc_flow = Be32::FromHost(0x60000000u);
  ip->payload_length = Be16::FromHost(payload_len);
  ip->next_header = next_header;
  ip->hop_limit = hop_limit;
  std::memcpy(ip->src, src, 16);
  std::memcpy(ip->dst, dst, 16);
}

void WriteIpv4(uint8_t* p, const uint8_t* src, const uint8_t* dst, uint16_t total_len,
               uint8_t proto, uint8_t ttl) {
  Ipv4Hdr* ip = HdrAt<Ipv4Hdr>(p);
  ip->version_ihl = 0x45;
  ip->tos = 0;
  ip->total_length = Be16::FromHost(total_len);
  ip->id = Be16::FromHost(0);
  ip->frag = Be16::FromHost(0);
  ip->ttl = ttl;
  ip->protocol = proto;
  ip->checksum = Be16::FromHost(0);
  std::memcpy(ip->src, src, 4);
  std::memcpy(ip->dst, dst, 4);
  ip->checksum = Ipv4HeaderChecksum(ip);
}

uint32_t BuildArp(uint8_t* out, uint32_t cap, uint16_t oper, MacAddr eth_dst, MacAddr sha,
                  IpAddr spa, MacAddr tha, IpAddr tpa, uint16_t vlan) {
  if (!spa.is_v4() || !tpa.is_v4()) return 0;
  const uint32_t total = EthLen(vlan) + sizeof(ArpHdr);
  if (cap < total) return 0;
  const uint32_t off = WriteEth(out, eth_dst, sha, kEtherTypeArp, vlan);
  ArpHdr* arp = HdrAt<ArpHdr>(out + off);
  arp->htype = Be16::FromHost(1);
  arp->ptype = Be16::FromHost(kEtherTypeIpv4);
  arp->hlen = 6;
  arp->plen = 4;
  arp->oper = Be16::FromHost(oper);
  arp->sha = sha;
  std::memcpy(arp->spa, spa.b.data(), 4);
  arp->tha = tha;
  std::memcpy(arp->tpa, tpa.b.data(), 4);
  return total;
}

void SetIcmp6Checksum(uint8_t* ip6, uint32_t l4_len) {
  const Ipv6Hdr* ip = HdrAt<Ipv6Hdr>(ip6);
  uint8_t* l4 = ip6 + sizeof(Ipv6Hdr);
  IcmpHdr* icmp = HdrAt<IcmpHdr>(l4);
  icmp->checksum = Be16::FromHost(0);
  icmp->checksum = L4ChecksumV6(ip, kIpProtoIcmp6, l4, l4_len);
}

}  // namespace

uint32_t WriteEth(uint8_t* out, MacAddr dst, MacAddr src, uint16_t ether_type,
                  uint16_t vlan) noexcept {
  EthHdr* eth = HdrAt<EthHdr>(out);
  eth->dst = dst;
  eth->src = src;
  if (vlan == 0) {
    eth->ether_type = Be16::FromHost(ether_type);
    return sizeof(EthHdr);
  }
  eth->ether_type = Be16::FromHost(kEtherTypeVlan);
  VlanTag* tag = HdrAt<VlanTag>(out + sizeof(EthHdr));
  tag->tci = Be16::FromHost(vlan & 0x0fff);
  tag->ether_type = Be16::FromHost(ether_type);
  return sizeof(EthHdr) + sizeof(VlanTag);
}

uint32_t BuildArpRequest(uint8_t* out, uint32_t cap, MacAddr src_mac, IpAddr src_ip,
                         IpAddr target_ip, uint16_t vlan) noexcept {
  return BuildArp(out, cap, kArpRequest, MacAddr::Broadcast(), src_mac, src_ip, MacAddr{},
                  target_ip, vlan);
}

uint32_t BuildArpReply(uint8_t* out, uint32_t cap, MacAddr answer_mac, IpAddr answer_ip,
                       MacAddr to_mac, IpAddr to_ip, uint16_t vlan) noexcept {
  return BuildArp(out, cap, kArpReply, to_mac, answer_mac, answer_ip, to_mac, to_ip, vlan);
}

uint32_t BuildNeighborSolicit(uint8_t* out, uint32_t cap, MacAddr src_mac, IpAddr src_ip,
                              IpAddr target_ip, uint16_t vlan) noexcept {
  if (!src_ip.is_v6() || !target_ip.is_v6()) return 0;
  // Duplicate address detection sends from :: and must not carry a source
  // link-layer option (RFC 4861 section 4.3).
  const bool with_option = !src_ip.IsUnspecified();
  const uint32_t l4_len = sizeof(NdHdr) + (with_option ? sizeof(NdOptLinkAddr) : 0);
  const uint32_t total = EthLen(vlan) + sizeof(Ipv6Hdr) + l4_len;
  if (cap < total) return 0;

  // Solicited-node multicast ff02::1:ffXX:XXXX and its MAC 33:33:ff:XX:XX:XX.
  uint8_t group[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  std::memcpy(group + 13, target_ip.b.data() + 13, 3);
  const MacAddr dst_mac{{0x33, 0x33, 0xff, target_ip.b[13], target_ip.b[14], target_ip.b[15]}};

  const uint32_t off = WriteEth(out, dst_mac, src_mac, kEtherTypeIpv6, vlan);
  uint8_t* ip6 = out + off;
  WriteIpv6(ip6, src_ip.b.data(), group, static_cast<uint16_t>(l4_len), kIpProtoIcmp6, kNdHopLimit);
  NdHdr* nd = HdrAt<NdHdr>(ip6 + sizeof(Ipv6Hdr));
  nd->type = kIcmp6NeighborSolicit;
  nd->code = 0;
  nd->checksum = Be16::FromHost(0);
  nd->flags = Be32::FromHost(0);
  std::memcpy(nd->target, target_ip.b.data(), 16);
  if (with_option) {
    NdOptLinkAddr* opt = HdrAt<NdOptLinkAddr>(ip6 + sizeof(Ipv6Hdr) + sizeof(NdHdr));
    opt->type = kNdOptSourceLinkAddr;
    opt->len = 1;
    opt->mac = src_mac;
  }
  SetIcmp6Checksum(ip6, l4_len);
  return total;
}

uint32_t BuildNeighborAdvert(uint8_t* out, uint32_t cap, MacAddr target_mac, IpAddr target_ip,
                             MacAddr to_mac, IpAddr to_ip, bool router, uint16_t vlan) noexcept {
  if (!target_ip.is_v6() || !to_ip.is_v6()) return 0;
  const uint32_t l4_len = sizeof(NdHdr) + sizeof(NdOptLinkAddr);
  const uint32_t total = EthLen(vlan) + sizeof(Ipv6Hdr) + l4_len;
  if (cap < total) return 0;

  uint32_t flags = kNaOverride | (router ? kNaRouter : 0);
  uint8_t dst_ip[16];
  MacAddr dst_mac = to_mac;
  if (to_ip.IsUnspecified()) {
    // Answer to a solicitation from :: (duplicate address detection): to
    // all-nodes, with S clear (RFC 4861 section 7.2.4).
    static constexpr uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                              0,    0,    0, 0, 0, 0, 0, 0x01};
    std::memcpy(dst_ip, kAllNodes, 16);
    dst_mac = MacAddr{{0x33, 0x33, 0, 0, 0, 0x01}};
  } else {
    std::memcpy(dst_ip, to_ip.b.data(), 16);
    flags |= kNaSolicited;
  }

  const uint32_t off = WriteEth(out, dst_mac, target_mac, kEtherTypeIpv6, vlan);
  uint8_t* ip6 = out + off;
  WriteIpv6(ip6, target_ip.b.data(), dst_ip, static_cast<uint16_t>(l4_len), kIpProtoIcmp6,
            kNdHopLimit);
  NdHdr* nd = HdrAt<NdHdr>(ip6 + sizeof(Ipv6Hdr));
  nd->type = kIcmp6NeighborAdvert;
  nd->code = 0;
  nd->checksum = Be16::FromHost(0);
  nd->flags = Be32::FromHost(flags);
  std::memcpy(nd->target, target_ip.b.data(), 16);
  NdOptLinkAddr* opt = HdrAt<NdOptLinkAddr>(ip6 + sizeof(Ipv6Hdr) + sizeof(NdHdr));
  opt->type = kNdOptTargetLinkAddr;
  opt->len = 1;
  opt->mac = target_mac;
  SetIcmp6Checksum(ip6, l4_len);
  return total;
}

bool EchoRequestToReplyInPlace(uint8_t* frame, const ParsedFrame& pf) noexcept {
  // A fragmented request would need reassembly before it can be answered.
  if (!pf.l4_present || pf.is_fragment || pf.l4_offset == 0) return false;
  uint8_t* l3 = frame + pf.l3_offset;
  IcmpHdr* icmp = HdrAt<IcmpHdr>(frame + pf.l4_offset);
  if (pf.l3 == L3Kind::kIpv4) {
    if (pf.l4_proto != kIpProtoIcmp || icmp->type != kIcmpEchoRequest) return false;
    Ipv4Hdr* ip = HdrAt<Ipv4Hdr>(l3);
    uint8_t tmp[4];
    std::memcpy(tmp, ip->src, 4);
    std::memcpy(ip->src, ip->dst, 4);
    std::memcpy(ip->dst, tmp, 4);
    ip->ttl = kDefaultTtl;
    ip->checksum = Ipv4HeaderChecksum(ip);
    // Incremental, so a request with a bad checksum gets a reply with a bad one.
    const auto old_word = Be16::FromHost(static_cast<uint16_t>(icmp->type << 8 | icmp->code));
    icmp->type = kIcmpEchoReply;
    const auto new_word = Be16::FromHost(static_cast<uint16_t>(icmp->type << 8 | icmp->code));
    icmp->checksum = ChecksumUpdate16(icmp->checksum, old_word, new_word);
  } else if (pf.l3 == L3Kind::kIpv6) {
    if (pf.l4_proto != kIpProtoIcmp6 || icmp->type != kIcmp6EchoRequest) return false;
    // Only directly after the fixed header: the parser does not walk other
    // extension headers, and the checksum below covers the whole payload.
    if (pf.l4_offset != pf.l3_offset + sizeof(Ipv6Hdr)) return false;
    Ipv6Hdr* ip = HdrAt<Ipv6Hdr>(l3);
    uint8_t tmp[16];
    std::memcpy(tmp, ip->src, 16);
    std::memcpy(ip->src, ip->dst, 16);
    std::memcpy(ip->dst, tmp, 16);
    ip->hop_limit = kDefaultTtl;
    icmp->type = kIcmp6EchoReply;
    SetIcmp6Checksum(l3, ip->payload_length.ToHost());
  } else {
    return false;
  }
  EthHdr* eth = HdrAt<EthHdr>(frame);
  const MacAddr requester = eth->src;
  eth->src = eth->dst;
  eth->dst = requester;
  return true;
}

namespace {

// An ICMP error (type, code and the 4 bytes after the checksum, per family)
// quoting as much of `orig_ip` as fits in the family's minimum MTU.
uint32_t BuildIcmpError(uint8_t* out, uint32_t cap, MacAddr src_mac, MacAddr dst_mac,
                        IpAddr src_ip, const uint8_t* orig_ip, uint32_t orig_ip_len,
                        uint8_t v4_type, uint8_t v4_code, uint32_t v4_rest, uint8_t v6_type,
                        uint8_t v6_code, uint32_t v6_rest) noexcept {
  if (orig_ip == nullptr || orig_ip_len == 0) return 0;
  const uint8_t version = orig_ip[0] >> 4;
  if (version == 4) {
    if (!src_ip.is_v4() || orig_ip_len < sizeof(Ipv4Hdr)) return 0;
    const uint32_t quote =
        std::min<uint32_t>(orig_ip_len, kIpv4MinMtu - sizeof(Ipv4Hdr) - sizeof(IcmpHdr));
    const uint32_t l4_len = sizeof(IcmpHdr) + quote;
    const uint32_t total = sizeof(EthHdr) + sizeof(Ipv4Hdr) + l4_len;
    if (cap < total) return 0;
    const uint32_t off = WriteEth(out, dst_mac, src_mac, kEtherTypeIpv4);
    uint8_t* ip = out + off;
    const uint8_t* orig_src = orig_ip + offsetof(Ipv4Hdr, src);
    WriteIpv4(ip, src_ip.b.data(), orig_src, static_cast<uint16_t>(sizeof(Ipv4Hdr) + l4_len),
              kIpProtoIcmp, kDefaultTtl);
    uint8_t* l4 = ip + sizeof(Ipv4Hdr);
    IcmpHdr* icmp = HdrAt<IcmpHdr>(l4);
    icmp->type = v4_type;
    icmp->code = v4_code;
    icmp->checksum = Be16::FromHost(0);
    icmp->rest = Be32::FromHost(v4_rest);
    std::memcpy(l4 + sizeof(IcmpHdr), orig_ip, quote);
    icmp->checksum = ChecksumFinish(ChecksumPartial(l4, l4_len));
    return total;
  }
  if (version == 6) {
    if (!src_ip.is_v6() || orig_ip_len < sizeof(Ipv6Hdr)) return 0;
    const uint32_t quote =
        std::min<uint32_t>(orig_ip_len, kIpv6MinMtu - sizeof(Ipv6Hdr) - sizeof(IcmpHdr));
    const uint32_t l4_len = sizeof(IcmpHdr) + quote;
    const uint32_t total = sizeof(EthHdr) + sizeof(Ipv6Hdr) + l4_len;
    if (cap < total) return 0;
    const uint32_t off = WriteEth(out, dst_mac, src_mac, kEtherTypeIpv6);
    uint8_t* ip = out + off;
    const uint8_t* orig_src = orig_ip + offsetof(Ipv6Hdr, src);
    WriteIpv6(ip, src_ip.b.data(), orig_src, static_cast<uint16_t>(l4_len), kIpProtoIcmp6,
              kDefaultTtl);
    uint8_t* l4 = ip + sizeof(Ipv6Hdr);
    IcmpHdr* icmp = HdrAt<IcmpHdr>(l4);
    icmp->type = v6_type;
    icmp->code = v6_code;
    icmp->rest = Be32::FromHost(v6_rest);
    std::memcpy(l4 + sizeof(IcmpHdr), orig_ip, quote);
    SetIcmp6Checksum(ip, l4_len);
    return total;
  }
  return 0;
}

}  // namespace

uint32_t BuildIcmpTooBig(uint8_t* out, uint32_t cap, MacAddr src_mac, MacAddr dst_mac,
                         IpAddr src_ip, const uint8_t* orig_ip, uint32_t orig_ip_len,
                         uint32_t mtu) noexcept {
  return BuildIcmpError(out, cap, src_mac, dst_mac, src_ip, orig_ip, orig_ip_len,
                        kIcmpDestUnreachable, kIcmpFragNeeded, std::min<uint32_t>(mtu, 0xffff),
                        kIcmp6PacketTooBig, 0, mtu);
}

uint32_t BuildIcmpTimeExceeded(uint8_t* out, uint32_t cap, MacAddr src_mac, MacAddr dst_mac,
                               IpAddr src_ip, const uint8_t* orig_ip,
                               uint32_t orig_ip_len) noexcept {
  return BuildIcmpError(out, cap, src_mac, dst_mac, src_ip, orig_ip, orig_ip_len,
                        kIcmpTimeExceeded, 0, 0, kIcmp6TimeExceeded, 0, 0);
}

bool MayAnswerWithIcmpError(const uint8_t* frame, const ParsedFrame& pf) noexcept {
  if (pf.is_fragment && !pf.is_first_fragment) return false;
  if (pf.l3 == L3Kind::kIpv4) {
    const auto* ip = pf.At<Ipv4Hdr>(frame, pf.l3_offset);
    if (ip->dst[0] >= 224) return false;  // multicast, class E, limited broadcast
    if (pf.l4_proto == kIpProtoIcmp) {
      if (!pf.l4_present) return false;
      const uint8_t type = frame[pf.l4_offset];
      // Only queries (echo, timestamp, ...) may get an error: never an error.
      return type == kIcmpEchoRequest || type == kIcmpEchoReply || type == 13 || type == 14 ||
             type == 15 || type == 16 || type == 17 || type == 18;
    }
    return true;
  }
  if (pf.l3 == L3Kind::kIpv6) {
    const auto* ip = pf.At<Ipv6Hdr>(frame, pf.l3_offset);
    if (ip->dst[0] == 0xff) return false;  // multicast
    if (pf.l4_proto == kIpProtoIcmp6) {
      if (!pf.l4_present) return false;
      return frame[pf.l4_offset] >= 128;  // informational; types below 128 are errors
    }
    return true;
  }
  return false;
}

bool ClampTcpMss(uint8_t* tcp, uint32_t tcp_len, uint16_t max_mss) noexcept {
  if (tcp_len < sizeof(TcpHdr)) return false;
  TcpHdr* th = HdrAt<TcpHdr>(tcp);
  if ((th->flags & kTcpSyn) == 0) return false;
  const uint32_t end = th->header_bytes();
  if (end < sizeof(TcpHdr) || end > tcp_len) return false;
  bool changed = false;
  uint32_t i = sizeof(TcpHdr);
  while (i < end) {
    const uint8_t kind = tcp[i];
    if (kind == kTcpOptEnd) break;
    if (kind == kTcpOptNop) {
      ++i;
      continue;
    }
    if (end - i < 2) break;
    const uint8_t opt_len = tcp[i + 1];
    if (opt_len < 2 || opt_len > end - i) break;  // malformed: touch nothing more
    if (kind == kTcpOptMss && opt_len == 4) {
      uint8_t* field = tcp + i + 2;
      const uint16_t mss = static_cast<uint16_t>(field[0] << 8 | field[1]);
      if (mss > max_mss) {
        Be16 old_word = Be16::FromHost(mss);
        Be16 new_word = Be16::FromHost(max_mss);
        field[0] = static_cast<uint8_t>(max_mss >> 8);
        field[1] = static_cast<uint8_t>(max_mss & 0xff);
        // A field at an odd offset straddles two checksum words; its bytes then
        // count swapped in the sum (RFC 1071's byte-order independence).
        if ((i + 2) % 2 != 0) {
          old_word = Be16::FromHost(ByteSwap(mss));
          new_word = Be16::FromHost(ByteSwap(max_mss));
        }
        th->checksum = ChecksumUpdate16(th->checksum, old_word, new_word);
        changed = true;
      }
    }
    i += opt_len;
  }
  return changed;
}

}  // namespace hnv
