#include "tests/lib/frame_diff.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <optional>

#include "dataplane/packet/checksum.h"
#include "dataplane/packet/headers.h"

namespace hnv::test {
namespace {

struct Line {
  size_t begin;
  size_t end;
  int depth;  // nesting: 0 outer frame, 1 inside NVGRE/IP-in-IP...
  std::string text;
};

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

std::string CsumNote(uint16_t stored, std::optional<Be16> want) {
  if (!want) return Format("csum=0x%04x", stored);
  if (stored == want->ToHost()) return Format("csum=0x%04x (ok)", stored);
  return Format("csum=0x%04x (BAD, want 0x%04x)", stored, want->ToHost());
}

class Describer {
 public:
  explicit Describer(const std::vector<uint8_t>& f) : f_(f) {}

  std::vector<Line> Run() {
    Eth(0, f_.size(), 0);
    return std::move(lines_);
  }

 private:
  template <typename H>
  std::optional<H> Load(size_t off, size_t limit) const {
    if (off > limit || limit - off < sizeof(H)) return std::nullopt;
    H h;
    std::memcpy(&h, f_.data() + off, sizeof(H));
    return h;
  }
  void Add(size_t begin, size_t end, int depth, std::string text) {
    lines_.push_back(Line{begin, end, depth, std::move(text)});
  }
  void Rest(size_t off, size_t limit, int depth, const char* what) {
    if (off < limit) Add(off, limit, depth, Format("%s, %zu bytes", what, limit - off));
  }

  void Eth(size_t off, size_t limit, int depth) {
    const auto eth = Load<EthHdr>(off, limit);
    if (!eth) return Rest(off, limit, depth, "truncated Ethernet");
    uint16_t type = eth->ether_type.ToHost();
    Add(off, off + 14, depth,
        Format("Ethernet dst=%s src=%s type=0x%04x", eth->dst.ToString().c_str(),
               eth->src.ToString().c_str(), type));
    off += sizeof(EthHdr);
    for (int tags = 0; (type == kEtherTypeVlan || type == kEtherTypeQinQ) && tags < 4; ++tags) {
      const auto tag = Load<VlanTag>(off, limit);
      if (!tag) return Rest(off, limit, depth, "truncated VLAN tag");
      Add(off, off + 4, depth,
          Format("%s vid=%u pcp=%u type=0x%04x", type == kEtherTypeVlan ? "802.1Q" : "802.1ad",
                 tag->vid(), tag->tci.ToHost() >> 13, tag->ether_type.ToHost()));
      type = tag->ether_type.ToHost();
      off += sizeof(VlanTag);
    }
    switch (type) {
      case kEtherTypeArp:
        return Arp(off, limit, depth);
      case kEtherTypeIpv4:
        return Ipv4(off, limit, depth);
      case kEtherTypeIpv6:
        return Ipv6(off, limit, depth);
      default:
        return Rest(off, limit, depth, "payload");
    }
  }

  void Arp(size_t off, size_t limit, int depth) {
    const auto a = Load<ArpHdr>(off, limit);
    if (!a) return Rest(off, limit, depth, "truncated ARP");
    const uint16_t oper = a->oper.ToHost();
    Add(off, off + sizeof(ArpHdr), depth,
        Format("ARP %s htype=%u ptype=0x%04x sha=%s spa=%s tha=%s tpa=%s",
               oper == kArpRequest ? "request"
               : oper == kArpReply ? "reply"
                                   : "oper?",
               a->htype.ToHost(), a->ptype.ToHost(), a->sha.ToString().c_str(),
               IpAddr::V4Raw(a->spa).ToString().c_str(), a->tha.ToString().c_str(),
               IpAddr::V4Raw(a->tpa).ToString().c_str()));
    Rest(off + sizeof(ArpHdr), limit, depth, "trailer");
  }

  void Ipv4(size_t off, size_t limit, int depth) {
    const auto ip = Load<Ipv4Hdr>(off, limit);
    if (!ip) return Rest(off, limit, depth, "truncated IPv4");
    const size_t ihl = ip->ihl_bytes();
    const size_t total = ip->total_length.ToHost();
    const uint16_t frag = ip->frag.ToHost();
    std::string text =
        Format("IPv4 %s -> %s ver=%u ihl=%zu len=%zu id=0x%04x%s%s off=%u ttl=%u proto=%u",
               IpAddr::V4Raw(ip->src).ToString().c_str(), IpAddr::V4Raw(ip->dst).ToString().c_str(),
               ip->version(), ihl, total, ip->id.ToHost(), (frag & 0x4000) ? " DF" : "",
               (frag & 0x2000) ? " MF" : "", (frag & 0x1fff) * 8u, ip->ttl, ip->protocol);
    const bool header_fits = ihl >= sizeof(Ipv4Hdr) && ihl <= limit - off;
    if (header_fits) {
      Ipv4Hdr copy[3];  // up to 60 bytes of header for the checksum
      std::memcpy(copy, f_.data() + off, ihl);
      text += " " + CsumNote(ip->checksum.ToHost(), Ipv4HeaderChecksum(copy));
    } else {
      text += " (IHL does not fit)";
    }
    if (total > limit - off) text += Format(" (len claims %zu, %zu present)", total, limit - off);
    Add(off, off + (header_fits ? ihl : sizeof(Ipv4Hdr)), depth, std::move(text));
    if (!header_fits) return Rest(off + sizeof(Ipv4Hdr), limit, depth, "rest");
    const size_t ip_end = std::min(limit, off + std::max(total, ihl));
    if ((frag & 0x1fff) != 0) {
      Rest(off + ihl, ip_end, depth, "fragment data");
    } else {
      whole_l4_ = (frag & 0x2000) == 0;
      L4(ip->protocol, off, /*v6=*/false, off + ihl, ip_end, depth);
    }
    Rest(ip_end, limit, depth, "trailer after IPv4");
  }

  void Ipv6(size_t off, size_t limit, int depth) {
    const auto ip = Load<Ipv6Hdr>(off, limit);
    if (!ip) return Rest(off, limit, depth, "truncated IPv6");
    const size_t plen = ip->payload_length.ToHost();
    std::string text =
        Format("IPv6 %s -> %s ver=%u plen=%zu next=%u hlim=%u",
               IpAddr::V6Raw(ip->src).ToString().c_str(), IpAddr::V6Raw(ip->dst).ToString().c_str(),
               ip->version(), plen, ip->next_header, ip->hop_limit);
    if (plen > limit - off - 40) {
      text += Format(" (plen claims %zu, %zu present)", plen, limit - off - 40);
    }
    Add(off, off + 40, depth, std::move(text));
    const size_t ip_end = std::min(limit, off + 40 + plen);
    size_t l4 = off + 40;
    uint8_t next = ip->next_header;
    whole_l4_ = true;
    if (next == kIpv6NextFragment) {
      const auto fh = Load<Ipv6FragHdr>(l4, ip_end);
      if (!fh) return Rest(l4, limit, depth, "truncated IPv6 fragment header");
      const uint16_t of = fh->offset_flags.ToHost();
      Add(l4, l4 + 8, depth,
          Format("IPv6 fragment next=%u off=%u%s id=0x%08x", fh->next_header, of & 0xfff8,
                 (of & 1) ? " M" : "", fh->id.ToHost()));
      l4 += 8;
      next = fh->next_header;
      whole_l4_ = (of & 1) == 0;
      if ((of & 0xfff8) != 0) {
        Rest(l4, ip_end, depth, "fragment data");
        return Rest(ip_end, limit, depth, "trailer after IPv6");
      }
    }
    L4(next, off, /*v6=*/true, l4, ip_end, depth);
    Rest(ip_end, limit, depth, "trailer after IPv6");
  }

  // The L4 checksum with pseudo header, when the whole segment is present.
  std::optional<Be16> WantL4(bool v6, size_t ip_off, uint8_t proto, size_t l4, size_t end,
                             size_t csum_at) {
    if (!whole_l4_) return std::nullopt;
    std::vector<uint8_t> seg(f_.begin() + l4, f_.begin() + end);
    seg[csum_at] = seg[csum_at + 1] = 0;
    if (v6) {
      Ipv6Hdr ip;
      std::memcpy(&ip, f_.data() + ip_off, sizeof(ip));
      return L4ChecksumV6(&ip, proto, seg.data(), static_cast<uint32_t>(seg.size()));
    }
    Ipv4Hdr ip;
    std::memcpy(&ip, f_.data() + ip_off, sizeof(ip));
    return L4ChecksumV4(&ip, proto, seg.data(), static_cast<uint32_t>(seg.size()));
  }

  void L4(uint8_t proto, size_t ip_off, bool v6, size_t off, size_t end, int depth) {
    switch (proto) {
      case kIpProtoIcmp:
      case kIpProtoIcmp6: {
        const auto h = Load<IcmpHdr>(off, end);
        if (!h) return Rest(off, end, depth, "truncated ICMP");
        std::optional<Be16> want;
        if (proto == kIpProtoIcmp && whole_l4_) {
          std::vector<uint8_t> seg(f_.begin() + off, f_.begin() + end);
          seg[2] = seg[3] = 0;
          want = ChecksumFinish(ChecksumPartial(seg.data(), seg.size()));
        } else if (proto == kIpProtoIcmp6) {
          want = WantL4(v6, ip_off, proto, off, end, 2);
        }
        std::string text = Format("%s type=%u code=%u rest=0x%08x %s",
                                  proto == kIpProtoIcmp ? "ICMP" : "ICMPv6", h->type, h->code,
                                  h->rest.ToHost(), CsumNote(h->checksum.ToHost(), want).c_str());
        size_t hdr_end = off + sizeof(IcmpHdr);
        if (proto == kIpProtoIcmp6 &&
            (h->type == kIcmp6NeighborSolicit || h->type == kIcmp6NeighborAdvert) &&
            end - off >= sizeof(NdHdr)) {
          text += " target=" + IpAddr::V6Raw(f_.data() + off + 8).ToString();
          hdr_end = off + sizeof(NdHdr);
          for (size_t o = hdr_end; end - o >= 8 && f_[o + 1] == 1; o += 8) {
            MacAddr m;
            std::memcpy(m.b.data(), f_.data() + o + 2, 6);
            text += Format(" opt%u=%s", f_[o], m.ToString().c_str());
            hdr_end = o + 8;
          }
        }
        Add(off, hdr_end, depth, std::move(text));
        return Rest(hdr_end, end, depth, "ICMP body");
      }
      case kIpProtoUdp: {
        const auto h = Load<UdpHdr>(off, end);
        if (!h) return Rest(off, end, depth, "truncated UDP");
        Add(off, off + 8, depth,
            Format("UDP %u -> %u len=%u %s", h->src_port.ToHost(), h->dst_port.ToHost(),
                   h->length.ToHost(),
                   !v6 && h->checksum.ToHost() == 0
                       ? "csum=0 (none)"
                       : CsumNote(h->checksum.ToHost(), WantL4(v6, ip_off, proto, off, end, 6))
                             .c_str()));
        return Rest(off + 8, end, depth, "UDP payload");
      }
      case kIpProtoTcp: {
        const auto h = Load<TcpHdr>(off, end);
        if (!h) return Rest(off, end, depth, "truncated TCP");
        static constexpr const char* kFlags[] = {"FIN", "SYN", "RST", "PSH",
                                                 "ACK", "URG", "ECE", "CWR"};
        std::string flags;
        for (int b = 0; b < 8; ++b) {
          if (h->flags & (1 << b)) flags += (flags.empty() ? "" : ",") + std::string(kFlags[b]);
        }
        const size_t hlen = h->header_bytes();
        std::string text =
            Format("TCP %u -> %u [%s] seq=%u ack=%u hlen=%zu win=%u %s", h->src_port.ToHost(),
                   h->dst_port.ToHost(), flags.c_str(), h->seq.ToHost(), h->ack.ToHost(), hlen,
                   h->window.ToHost(),
                   CsumNote(h->checksum.ToHost(), WantL4(v6, ip_off, proto, off, end, 16)).c_str());
        const size_t hdr_end = (hlen >= 20 && hlen <= end - off) ? off + hlen : off + 20;
        for (size_t o = off + 20; o < hdr_end;) {
          const uint8_t kind = f_[o];
          if (kind == kTcpOptEnd) break;
          if (kind == kTcpOptNop) {
            ++o;
            continue;
          }
          if (hdr_end - o < 2 || f_[o + 1] < 2 || f_[o + 1] > hdr_end - o) {
            text += " opts=malformed";
            break;
          }
          if (kind == kTcpOptMss && f_[o + 1] == 4) {
            text += Format(" mss=%u", f_[o + 2] << 8 | f_[o + 3]);
          } else {
            text += Format(" opt%u", kind);
          }
          o += f_[o + 1];
        }
        Add(off, hdr_end, depth, std::move(text));
        return Rest(hdr_end, end, depth, "TCP payload");
      }
      case kIpProtoGre: {
        if (end - off < 4) return Rest(off, end, depth, "truncated GRE");
        const uint16_t fv = static_cast<uint16_t>(f_[off] << 8 | f_[off + 1]);
        const uint16_t gp = static_cast<uint16_t>(f_[off + 2] << 8 | f_[off + 3]);
        std::string text = Format("GRE flags=0x%04x proto=0x%04x", fv, gp);
        size_t hdr_end = off + 4;
        if ((fv & kGreFlagKey) != 0 && end - off >= 8 && (fv & kGreFlagChecksum) == 0) {
          const auto h = Load<NvgreHdr>(off, end);
          text +=
              Format(" key=0x%08x (VSID %u, FlowID %u)", h->key.ToHost(), h->vsid(), h->flow_id());
          hdr_end = off + 8;
        }
        if (fv == kNvgreFlags && gp == kEtherTypeTeb) text += " NVGRE";
        Add(off, hdr_end, depth, std::move(text));
        if (gp == kEtherTypeTeb && hdr_end == off + 8) return Eth(hdr_end, end, depth + 1);
        return Rest(hdr_end, end, depth, "GRE payload");
      }
      case 4:
        return Ipv4(off, end, depth + 1);
      case 41:
        return Ipv6(off, end, depth + 1);
      default:
        return Rest(off, end, depth, "L4 payload");
    }
  }

  const std::vector<uint8_t>& f_;
  std::vector<Line> lines_;
  bool whole_l4_ = true;  // the IP packet holding this L4 header is not a fragment
};

std::string Render(const std::vector<Line>& lines, std::optional<size_t> mark) {
  std::string s;
  for (const Line& l : lines) {
    std::string range = Format("[%zu..%zu)", l.begin, l.end);
    s += Format("  %-12s %*s%s", range.c_str(), 2 * l.depth, "", l.text.c_str());
    if (mark && *mark >= l.begin && *mark < l.end) {
      s += Format("   <-- byte %zu (+%zu in this header)", *mark, *mark - l.begin);
    }
    s += "\n";
  }
  return s;
}

std::string HexRows(const std::vector<uint8_t>& f, size_t first, size_t last, size_t mark) {
  std::string s;
  for (size_t row = first; row <= last && row * 16 < std::max<size_t>(f.size(), 1); ++row) {
    s += Format("    %04zx:", row * 16);
    for (size_t i = row * 16; i < row * 16 + 16 && i < f.size(); ++i) {
      s += i == mark ? Format("[%02x]", f[i]) : Format(" %02x ", f[i]);
    }
    s += "\n";
  }
  return s;
}

}  // namespace

std::string DescribeFrame(const std::vector<uint8_t>& frame) {
  return Render(Describer(frame).Run(), std::nullopt);
}

std::string ChecksumErrors(const std::vector<uint8_t>& frame) {
  std::string s;
  for (const Line& l : Describer(frame).Run()) {
    if (l.text.find("(BAD") != std::string::npos) s += l.text + "\n";
  }
  return s;
}

std::string FrameDiff(const std::vector<uint8_t>& expected, const std::vector<uint8_t>& actual) {
  if (expected == actual) return "";
  const size_t common = std::min(expected.size(), actual.size());
  size_t d = 0;
  while (d < common && expected[d] == actual[d]) ++d;
  std::string s = Format("frames differ at byte %zu", d);
  auto byte_at = [d](const std::vector<uint8_t>& f) {
    return d < f.size() ? Format("0x%02x", f[d]) : std::string("(end)");
  };
  s += " (expected " + byte_at(expected) + ", actual " + byte_at(actual) + ")";
  s += Format("; sizes expected %zu, actual %zu\n", expected.size(), actual.size());
  s += "expected:\n" + Render(Describer(expected).Run(), d);
  s += "actual:\n" + Render(Describer(actual).Run(), d);
  const size_t row = d / 16;
  const size_t first = row > 0 ? row - 1 : 0;
  s += "bytes around it, expected:\n" + HexRows(expected, first, row + 1, d);
  s += "actual:\n" + HexRows(actual, first, row + 1, d);
  return s;
}

}  // namespace hnv::test
