#include "tests/lib/packet_builder.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "dataplane/packet/checksum.h"

namespace hnv::test {
namespace {

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "PacketBuilder: %s\n", msg.c_str());
  std::abort();
}

// "Next protocol" values used when nothing follows: IEEE local experimental
// EtherType, and IP protocol 253 (RFC 3692 experimentation).
constexpr uint16_t kNoNextEtherType = 0x88b5;
constexpr uint8_t kNoNextIpProto = 253;

template <typename H>
void Put(std::vector<uint8_t>* out, const H& h) {
  const auto* p = reinterpret_cast<const uint8_t*>(&h);
  out->insert(out->end(), p, p + sizeof(H));
}

template <typename H>
H* At(std::vector<uint8_t>* v, size_t off) {
  static_assert(alignof(H) == 1);
  return reinterpret_cast<H*>(v->data() + off);
}

void PadTo4(std::vector<uint8_t>* v) {
  while (v->size() % 4 != 0) v->push_back(0);
}

}  // namespace

MacAddr Mac(std::string_view s) {
  const std::optional<MacAddr> m = MacAddr::Parse(s);
  if (!m) Die("bad MAC \"" + std::string(s) + "\"");
  return *m;
}

IpAddr Ip(std::string_view s) {
  const std::optional<IpAddr> a = IpAddr::Parse(s);
  if (!a) Die("bad IP \"" + std::string(s) + "\"");
  return *a;
}

PacketBuilder::Layer& PacketBuilder::Add(Kind k) {
  layers_.push_back(Layer{k});
  return layers_.back();
}

PacketBuilder::Layer& PacketBuilder::LastIp(const char* what) {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    if (it->kind == Kind::kIpv4 || it->kind == Kind::kIpv6) return *it;
  }
  Die(std::string(what) + " needs an IP layer before it");
}

PacketBuilder& PacketBuilder::Eth(MacAddr dst, MacAddr src, uint16_t ether_type) {
  Layer& l = Add(Kind::kEth);
  l.mac1 = dst;
  l.mac2 = src;
  if (ether_type != 0) l.next = ether_type;
  return *this;
}

PacketBuilder& PacketBuilder::Vlan(uint16_t vid, uint8_t pcp, uint16_t tpid) {
  if (layers_.empty() ||
      (layers_.back().kind != Kind::kEth && layers_.back().kind != Kind::kVlan)) {
    Die("Vlan() must follow Eth() or Vlan()");
  }
  Layer& l = Add(Kind::kVlan);
  l.u1 = vid;
  l.u2 = pcp;
  l.u3 = tpid;
  return *this;
}

PacketBuilder& PacketBuilder::Arp(uint16_t oper, MacAddr sha, IpAddr spa, MacAddr tha, IpAddr tpa) {
  if (!spa.is_v4() || !tpa.is_v4()) Die("Arp() takes IPv4 addresses");
  Layer& l = Add(Kind::kArp);
  l.u1 = oper;
  l.mac1 = sha;
  l.ip1 = spa;
  l.mac2 = tha;
  l.ip2 = tpa;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4(IpAddr src, IpAddr dst, std::optional<uint8_t> proto) {
  if (!src.is_v4() || !dst.is_v4()) Die("Ipv4() takes IPv4 addresses");
  Layer& l = Add(Kind::kIpv4);
  l.ip1 = src;
  l.ip2 = dst;
  if (proto) l.next = *proto;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6(IpAddr src, IpAddr dst, std::optional<uint8_t> next_header) {
  if (!src.is_v6() || !dst.is_v6()) Die("Ipv6() takes IPv6 addresses");
  Layer& l = Add(Kind::kIpv6);
  l.ip1 = src;
  l.ip2 = dst;
  if (next_header) l.next = *next_header;
  return *this;
}

PacketBuilder& PacketBuilder::Ttl(uint8_t ttl) {
  LastIp("Ttl()").ttl = ttl;
  return *this;
}

PacketBuilder& PacketBuilder::DontFragment() {
  Layer& l = LastIp("DontFragment()");
  if (l.kind != Kind::kIpv4) Die("DontFragment() applies to IPv4");
  l.df = true;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4Id(uint16_t id) {
  Layer& l = LastIp("Ipv4Id()");
  if (l.kind != Kind::kIpv4) Die("Ipv4Id() applies to IPv4");
  l.u1 = id;
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4Frag(uint16_t offset_bytes, bool more) {
  Layer& l = LastIp("Ipv4Frag()");
  if (l.kind != Kind::kIpv4) Die("Ipv4Frag() applies to IPv4");
  if (offset_bytes % 8 != 0) Die("fragment offsets are multiples of 8");
  l.u2 = static_cast<uint32_t>(offset_bytes / 8) | (more ? 0x2000u : 0u);
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4Options(std::vector<uint8_t> options) {
  Layer& l = LastIp("Ipv4Options()");
  if (l.kind != Kind::kIpv4) Die("Ipv4Options() applies to IPv4");
  if (options.size() > 40) Die("IPv4 options are at most 40 bytes");
  l.bytes = std::move(options);
  PadTo4(&l.bytes);
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6Frag(uint16_t offset_bytes, bool more, uint32_t id) {
  if (layers_.empty() || layers_.back().kind != Kind::kIpv6) Die("Ipv6Frag() must follow Ipv6()");
  if (offset_bytes % 8 != 0) Die("fragment offsets are multiples of 8");
  Layer& l = Add(Kind::kIpv6Frag);
  l.u1 = offset_bytes;
  l.u2 = more ? 1 : 0;
  l.u3 = id;
  return *this;
}

PacketBuilder& PacketBuilder::Nvgre(uint32_t vsid, uint8_t flow_id) {
  return Gre(kNvgreFlags, kEtherTypeTeb, NvgreKey(vsid, flow_id));
}

PacketBuilder& PacketBuilder::Gre(uint16_t flags_version, uint16_t proto,
                                  std::optional<uint32_t> key) {
  Layer& l = Add(Kind::kGre);
  l.u1 = flags_version;
  l.u2 = proto;
  l.has_key = key.has_value();
  l.u3 = key.value_or(0);
  return *this;
}

PacketBuilder& PacketBuilder::Icmp(uint8_t type, uint8_t code, uint32_t rest) {
  if (LastIp("Icmp()").kind != Kind::kIpv4) Die("Icmp() over IPv6: use Icmp6()");
  Layer& l = Add(Kind::kIcmp);
  l.u1 = type;
  l.u2 = code;
  l.u3 = rest;
  return *this;
}

PacketBuilder& PacketBuilder::Icmp6(uint8_t type, uint8_t code, uint32_t rest) {
  if (LastIp("Icmp6()").kind != Kind::kIpv6) Die("Icmp6() over IPv4: use Icmp()");
  Layer& l = Add(Kind::kIcmp6);
  l.u1 = type;
  l.u2 = code;
  l.u3 = rest;
  return *this;
}

PacketBuilder& PacketBuilder::Udp(uint16_t src_port, uint16_t dst_port) {
  LastIp("Udp()");
  Layer& l = Add(Kind::kUdp);
  l.u1 = src_port;
  l.u2 = dst_port;
  return *this;
}

PacketBuilder& PacketBuilder::Tcp(uint16_t src_port, uint16_t dst_port, uint8_t flags,
                                  std::optional<uint16_t> mss) {
  std::vector<uint8_t> options;
  if (mss) {
    options = {kTcpOptMss, 4, static_cast<uint8_t>(*mss >> 8), static_cast<uint8_t>(*mss)};
  }
  return TcpWithOptions(src_port, dst_port, flags, std::move(options));
}

PacketBuilder& PacketBuilder::TcpWithOptions(uint16_t src_port, uint16_t dst_port, uint8_t flags,
                                             std::vector<uint8_t> options) {
  LastIp("Tcp()");
  if (options.size() > 40) Die("TCP options are at most 40 bytes");
  Layer& l = Add(Kind::kTcp);
  l.u1 = src_port;
  l.u2 = dst_port;
  l.u3 = flags;
  l.bytes = std::move(options);
  PadTo4(&l.bytes);
  return *this;
}

PacketBuilder& PacketBuilder::Payload(size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i);
  return Payload(std::move(bytes));
}

PacketBuilder& PacketBuilder::Payload(std::vector<uint8_t> bytes) {
  Layer& l = Add(Kind::kPayload);
  l.bytes = std::move(bytes);
  return *this;
}

PacketBuilder& PacketBuilder::Trailer(size_t n) {
  trailer_ += n;
  return *this;
}

uint16_t PacketBuilder::NextProto(size_t i) const {
  const Layer& l = layers_[i];
  if (l.next >= 0) return static_cast<uint16_t>(l.next);
  const bool ether_context = l.kind == Kind::kEth || l.kind == Kind::kVlan;
  if (i + 1 >= layers_.size()) return ether_context ? kNoNextEtherType : kNoNextIpProto;
  const Layer& n = layers_[i + 1];
  if (ether_context) {
    switch (n.kind) {
      case Kind::kVlan:
        return static_cast<uint16_t>(n.u3);
      case Kind::kArp:
        return kEtherTypeArp;
      case Kind::kIpv4:
        return kEtherTypeIpv4;
      case Kind::kIpv6:
        return kEtherTypeIpv6;
      default:
        return kNoNextEtherType;
    }
  }
  switch (n.kind) {
    case Kind::kIpv4:
      return 4;
    case Kind::kIpv6:
      return 41;
    case Kind::kIpv6Frag:
      return kIpv6NextFragment;
    case Kind::kGre:
      return kIpProtoGre;
    case Kind::kIcmp:
      return kIpProtoIcmp;
    case Kind::kIcmp6:
      return kIpProtoIcmp6;
    case Kind::kUdp:
      return kIpProtoUdp;
    case Kind::kTcp:
      return kIpProtoTcp;
    default:
      return kNoNextIpProto;
  }
}

std::vector<uint8_t> PacketBuilder::Build() const {
  std::vector<uint8_t> f;
  std::vector<size_t> off(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    off[i] = f.size();
    const uint16_t next = NextProto(i);
    switch (l.kind) {
      case Kind::kEth: {
        EthHdr h{l.mac1, l.mac2, Be16::FromHost(next)};
        Put(&f, h);
        break;
      }
      case Kind::kVlan: {
        VlanTag h{Be16::FromHost(static_cast<uint16_t>(l.u2 << 13 | (l.u1 & 0x0fff))),
                  Be16::FromHost(next)};
        Put(&f, h);
        break;
      }
      case Kind::kArp: {
        ArpHdr h{};
        h.htype = Be16::FromHost(1);
        h.ptype = Be16::FromHost(kEtherTypeIpv4);
        h.hlen = 6;
        h.plen = 4;
        h.oper = Be16::FromHost(static_cast<uint16_t>(l.u1));
        h.sha = l.mac1;
        std::memcpy(h.spa, l.ip1.b.data(), 4);
        h.tha = l.mac2;
        std::memcpy(h.tpa, l.ip2.b.data(), 4);
        Put(&f, h);
        break;
      }
      case Kind::kIpv4: {
        Ipv4Hdr h{};
        h.version_ihl = static_cast<uint8_t>(0x40 | ((sizeof(Ipv4Hdr) + l.bytes.size()) / 4));
        h.id = Be16::FromHost(static_cast<uint16_t>(l.u1));
        h.frag = Be16::FromHost(static_cast<uint16_t>(l.u2 | (l.df ? kIpv4DontFragment : 0)));
        h.ttl = l.ttl;
        h.protocol = static_cast<uint8_t>(next);
        std::memcpy(h.src, l.ip1.b.data(), 4);
        std::memcpy(h.dst, l.ip2.b.data(), 4);
        Put(&f, h);
        f.insert(f.end(), l.bytes.begin(), l.bytes.end());
        break;
      }
      case Kind::kIpv6: {
        Ipv6Hdr h{};
        h.vtc_flow = Be32::FromHost(0x60000000u);
        h.next_header = static_cast<uint8_t>(next);
        h.hop_limit = l.ttl;
        std::memcpy(h.src, l.ip1.b.data(), 16);
        std::memcpy(h.dst, l.ip2.b.data(), 16);
        Put(&f, h);
        break;
      }
      case Kind::kIpv6Frag: {
        Ipv6FragHdr h{};
        h.next_header = static_cast<uint8_t>(next);
        h.offset_flags = Be16::FromHost(static_cast<uint16_t>(l.u1 | l.u2));
        h.id = Be32::FromHost(l.u3);
        Put(&f, h);
        break;
      }
      case Kind::kGre: {
        const Be16 words[2] = {Be16::FromHost(static_cast<uint16_t>(l.u1)),
                               Be16::FromHost(static_cast<uint16_t>(l.u2))};
        Put(&f, words);
        if (l.has_key) Put(&f, Be32::FromHost(l.u3));
        break;
      }
      case Kind::kIcmp:
      case Kind::kIcmp6: {
        IcmpHdr h{};
        h.type = static_cast<uint8_t>(l.u1);
        h.code = static_cast<uint8_t>(l.u2);
        h.rest = Be32::FromHost(l.u3);
        Put(&f, h);
        break;
      }
      case Kind::kUdp: {
        UdpHdr h{};
        h.src_port = Be16::FromHost(static_cast<uint16_t>(l.u1));
        h.dst_port = Be16::FromHost(static_cast<uint16_t>(l.u2));
        Put(&f, h);
        break;
      }
      case Kind::kTcp: {
        TcpHdr h{};
        h.src_port = Be16::FromHost(static_cast<uint16_t>(l.u1));
        h.dst_port = Be16::FromHost(static_cast<uint16_t>(l.u2));
        h.seq = Be32::FromHost(1000);
        h.ack = Be32::FromHost((l.u3 & 0x10) != 0 ? 2000 : 0);
        h.data_off = static_cast<uint8_t>(((sizeof(TcpHdr) + l.bytes.size()) / 4) << 4);
        h.flags = static_cast<uint8_t>(l.u3);
        h.window = Be16::FromHost(65535);
        Put(&f, h);
        f.insert(f.end(), l.bytes.begin(), l.bytes.end());
        break;
      }
      case Kind::kPayload:
        f.insert(f.end(), l.bytes.begin(), l.bytes.end());
        break;
    }
  }
  const size_t end = f.size();
  if (end > 0xffff + 64) Die("frame too long");

  // Lengths and checksums, innermost first: an outer checksum (ICMP error,
  // UDP) covers inner headers that must already be final.
  auto enclosing_ip = [&](size_t i) -> size_t {
    for (size_t j = i; j-- > 0;) {
      if (layers_[j].kind == Kind::kIpv4 || layers_[j].kind == Kind::kIpv6) return j;
    }
    Die("L4 layer without an IP layer");
  };
  auto l4_checksum = [&](size_t i, uint8_t proto) -> Be16 {
    const size_t j = enclosing_ip(i);
    const uint32_t len = static_cast<uint32_t>(end - off[i]);
    if (layers_[j].kind == Kind::kIpv4) {
      return L4ChecksumV4(At<Ipv4Hdr>(&f, off[j]), proto, f.data() + off[i], len);
    }
    return L4ChecksumV6(At<Ipv6Hdr>(&f, off[j]), proto, f.data() + off[i], len);
  };
  for (size_t i = layers_.size(); i-- > 0;) {
    const size_t len = end - off[i];
    switch (layers_[i].kind) {
      case Kind::kIpv4: {
        auto* h = At<Ipv4Hdr>(&f, off[i]);
        h->total_length = Be16::FromHost(static_cast<uint16_t>(len));
        h->checksum = Be16::FromHost(0);
        h->checksum = Ipv4HeaderChecksum(h);
        break;
      }
      case Kind::kIpv6:
        At<Ipv6Hdr>(&f, off[i])->payload_length =
            Be16::FromHost(static_cast<uint16_t>(len - sizeof(Ipv6Hdr)));
        break;
      case Kind::kIcmp: {
        auto* h = At<IcmpHdr>(&f, off[i]);
        h->checksum = Be16::FromHost(0);
        h->checksum = ChecksumFinish(ChecksumPartial(h, len));
        break;
      }
      case Kind::kIcmp6: {
        auto* h = At<IcmpHdr>(&f, off[i]);
        h->checksum = Be16::FromHost(0);
        h->checksum = l4_checksum(i, kIpProtoIcmp6);
        break;
      }
      case Kind::kUdp: {
        auto* h = At<UdpHdr>(&f, off[i]);
        h->length = Be16::FromHost(static_cast<uint16_t>(len));
        h->checksum = Be16::FromHost(0);
        h->checksum = l4_checksum(i, kIpProtoUdp);
        break;
      }
      case Kind::kTcp: {
        auto* h = At<TcpHdr>(&f, off[i]);
        h->checksum = Be16::FromHost(0);
        h->checksum = l4_checksum(i, kIpProtoTcp);
        break;
      }
      default:
        break;
    }
  }
  f.resize(end + trailer_, 0);
  return f;
}

}  // namespace hnv::test
