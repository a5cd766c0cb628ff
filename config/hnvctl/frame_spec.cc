#include "config/hnvctl/frame_spec.h"

#include <charconv>
#include <cstring>
#include <map>
#include <optional>

#include "dataplane/packet/checksum.h"
#include "dataplane/packet/headers.h"
#include "dataplane/packet/types.h"

namespace hnv::ctl {
namespace {

struct Layer {
  std::string name;
  std::map<std::string, std::string> keys;
};

// Thrown nowhere: every helper reports through this.
struct Err {
  std::string text;
  explicit operator bool() const { return !text.empty(); }
};

constexpr std::string_view kSpace = " \t\r\n";

std::string_view Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

const char* AllowedKeys(const std::string& layer) {
  static const std::map<std::string, const char*> kKeys = {
      {"eth", "src, dst, type"},
      {"vlan", "id, pcp, type"},
      {"arp", "op, sha, spa, tha, tpa"},
      {"ipv4", "src, dst, ttl, proto, id, df, tos"},
      {"ipv6", "src, dst, hlim, next, tc, flow"},
      {"icmp", "type, code, id, seq"},
      {"icmp6", "type, code, id, seq, target, lladdr, flags"},
      {"udp", "sport, dport"},
      {"tcp", "sport, dport, flags, seq, ack, win, mss"},
      {"nvgre", "vsid, flowid"},
      {"payload", "len, hex, text"},
  };
  const auto it = kKeys.find(layer);
  return it == kKeys.end() ? nullptr : it->second;
}

bool KeyAllowed(const std::string& layer, const std::string& key) {
  const std::string_view allowed = AllowedKeys(layer);
  size_t pos = 0;
  while (pos <= allowed.size()) {
    size_t end = allowed.find(", ", pos);
    if (end == std::string_view::npos) end = allowed.size();
    if (allowed.substr(pos, end - pos) == key) return true;
    pos = end + 2;
  }
  return false;
}

Err ParseLayers(std::string_view text, std::vector<Layer>* out) {
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t slash = text.find('/', pos);
    const std::string_view part = Trim(
        text.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos));
    if (part.empty()) return Err{"empty layer (two '/' in a row, or one at an end)"};
    Layer layer;
    size_t w = 0;
    bool first = true;
    while (w < part.size()) {
      const size_t start = part.find_first_not_of(kSpace, w);
      if (start == std::string_view::npos) break;
      size_t end = part.find_first_of(kSpace, start);
      if (end == std::string_view::npos) end = part.size();
      const std::string word(part.substr(start, end - start));
      w = end;
      if (first) {
        layer.name = word;
        if (AllowedKeys(layer.name) == nullptr) {
          return Err{"unknown layer \"" + word +
                     "\" (eth, vlan, arp, ipv4, ipv6, icmp, icmp6, udp, tcp, nvgre, payload)"};
        }
        first = false;
        continue;
      }
      const size_t eq = word.find('=');
      if (eq == std::string::npos || eq == 0) {
        return Err{layer.name + ": \"" + word + "\" is not key=value"};
      }
      const std::string key = word.substr(0, eq);
      if (!KeyAllowed(layer.name, key)) {
        return Err{layer.name + ": unknown key \"" + key + "\" (" + AllowedKeys(layer.name) + ")"};
      }
      if (!layer.keys.emplace(key, word.substr(eq + 1)).second) {
        return Err{layer.name + ": " + key + " given twice"};
      }
    }
    out->push_back(std::move(layer));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return Err{};
}

// Key readers: each leaves *out alone when the key is absent.
class Reader {
 public:
  explicit Reader(const Layer& l) : l_(l) {}
  bool Has(const char* key) const { return l_.keys.count(key) != 0; }
  const std::string* Get(const char* key) const {
    const auto it = l_.keys.find(key);
    return it == l_.keys.end() ? nullptr : &it->second;
  }
  Err Required(const char* key) const {
    if (Has(key)) return Err{};
    return Err{l_.name + ": " + key + "= is required"};
  }
  Err Number(const char* key, uint64_t max, uint64_t* out) const {
    const std::string* v = Get(key);
    if (v == nullptr) return Err{};
    std::string_view s = *v;
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
      s.remove_prefix(2);
      base = 16;
    }
    uint64_t n = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n, base);
    if (s.empty() || ptr != s.data() + s.size() || ec != std::errc()) {
      return Bad(key, *v, "is not a number");
    }
    if (n > max) return Bad(key, *v, "is outside 0.." + std::to_string(max));
    *out = n;
    return Err{};
  }
  template <typename T>
  Err Uint(const char* key, T* out) const {
    uint64_t n = *out;
    Err e = Number(key, static_cast<uint64_t>(static_cast<T>(~T{0})), &n);
    if (!e) *out = static_cast<T>(n);
    return e;
  }
  Err Mac(const char* key, MacAddr* out) const {
    const std::string* v = Get(key);
    if (v == nullptr) return Err{};
    const std::optional<MacAddr> m = MacAddr::Parse(*v);
    if (!m) return Bad(key, *v, "is not a MAC address");
    *out = *m;
    return Err{};
  }
  Err Ip(const char* key, Family family, IpAddr* out) const {
    const std::string* v = Get(key);
    if (v == nullptr) return Err{};
    const std::optional<IpAddr> a = IpAddr::Parse(*v);
    const char* what = family == Family::kV4 ? "an IPv4 address" : "an IPv6 address";
    if (!a || a->family != family) return Bad(key, *v, std::string("is not ") + what);
    *out = *a;
    return Err{};
  }
  Err Bad(const char* key, const std::string& value, const std::string& what) const {
    return Err{l_.name + ": " + key + ": \"" + value + "\" " + what};
  }

 private:
  const Layer& l_;
};

template <typename Hdr>
std::vector<uint8_t> Prepend(const Hdr& h, const std::vector<uint8_t>& inner) {
  std::vector<uint8_t> out(sizeof(Hdr) + inner.size());
  std::memcpy(out.data(), &h, sizeof(Hdr));
  if (!inner.empty()) std::memcpy(out.data() + sizeof(Hdr), inner.data(), inner.size());
  return out;
}

// EtherType / IP protocol implied by the layer after this one.
std::optional<uint16_t> EtherTypeOf(const std::string& next) {
  if (next == "vlan") return kEtherTypeVlan;
  if (next == "arp") return kEtherTypeArp;
  if (next == "ipv4") return kEtherTypeIpv4;
  if (next == "ipv6") return kEtherTypeIpv6;
  return std::nullopt;
}
std::optional<uint8_t> ProtoOf(const std::string& next) {
  if (next == "icmp") return kIpProtoIcmp;
  if (next == "icmp6") return kIpProtoIcmp6;
  if (next == "udp") return kIpProtoUdp;
  if (next == "tcp") return kIpProtoTcp;
  if (next == "nvgre") return kIpProtoGre;
  return std::nullopt;
}

// Where the checksum of a pseudo-header protocol sits in its header.
std::optional<size_t> PseudoChecksumOffset(const std::string& layer) {
  if (layer == "udp") return 6;
  if (layer == "tcp") return 16;
  if (layer == "icmp6") return 2;
  return std::nullopt;
}

struct Context {
  MacAddr eth_src = {{0x02, 0, 0, 0, 0, 0x01}};
  MacAddr eth_dst = MacAddr::Broadcast();
};

// The nearest eth layer before index i (the one this layer rides in).
Context EthBefore(const std::vector<Layer>& layers, size_t i) {
  Context c;
  for (size_t k = i; k-- > 0;) {
    if (layers[k].name != "eth") continue;
    Reader r(layers[k]);
    r.Mac("src", &c.eth_src);
    r.Mac("dst", &c.eth_dst);
    break;
  }
  return c;
}

Err BuildLayer(const std::vector<Layer>& layers, size_t i, std::vector<uint8_t>* data) {
  const Layer& l = layers[i];
  const Reader r(l);
  const std::string next = i + 1 < layers.size() ? layers[i + 1].name : "";
  const std::string prev = i > 0 ? layers[i - 1].name : "";
  const std::vector<uint8_t> inner = *data;
  Err e;

  if (l.name == "eth" || l.name == "vlan") {
    if (l.name == "eth" && i > 0 && prev != "nvgre") {
      return Err{"eth: comes first, or right after nvgre"};
    }
    if (l.name == "vlan" && prev != "eth" && prev != "vlan") return Err{"vlan: goes after eth"};
    uint16_t type = EtherTypeOf(next).value_or(next == "payload" || next.empty() ? 0x88b5 : 0);
    if (next == "eth" || next == "icmp" || next == "icmp6" || next == "udp" || next == "tcp" ||
        next == "nvgre") {
      return Err{l.name + ": cannot carry " + next + " directly"};
    }
    if ((e = r.Uint("type", &type))) return e;
    if (l.name == "eth") {
      EthHdr h{};
      h.dst = MacAddr::Broadcast();
      h.src = MacAddr{{0x02, 0, 0, 0, 0, 0x01}};
      if ((e = r.Mac("src", &h.src)) || (e = r.Mac("dst", &h.dst))) return e;
      h.ether_type = Be16::FromHost(type);
      *data = Prepend(h, inner);
    } else {
      uint16_t id = 0;
      uint8_t pcp = 0;
      if ((e = r.Required("id")) || (e = r.Uint("id", &id)) || (e = r.Uint("pcp", &pcp))) return e;
      if (id > 4095) return r.Bad("id", *r.Get("id"), "is outside 0..4095");
      if (pcp > 7) return r.Bad("pcp", *r.Get("pcp"), "is outside 0..7");
      VlanTag t{};
      t.tci = Be16::FromHost(static_cast<uint16_t>(pcp << 13 | id));
      t.ether_type = Be16::FromHost(type);
      *data = Prepend(t, inner);
    }
    return Err{};
  }

  if (l.name == "arp") {
    if (prev != "eth" && prev != "vlan") return Err{"arp: goes after eth or vlan"};
    if (!next.empty() && next != "payload") return Err{"arp: nothing but payload may follow it"};
    const Context c = EthBefore(layers, i);
    ArpHdr a{};
    a.htype = Be16::FromHost(1);
    a.ptype = Be16::FromHost(kEtherTypeIpv4);
    a.hlen = 6;
    a.plen = 4;
    uint16_t op = kArpRequest;
    if (const std::string* v = r.Get("op")) {
      if (*v == "request") {
        op = kArpRequest;
      } else if (*v == "reply") {
        op = kArpReply;
      } else if ((e = r.Uint("op", &op))) {
        return r.Bad("op", *v, "is not request, reply or a number");
      }
    }
    a.oper = Be16::FromHost(op);
    a.sha = c.eth_src;
    a.tha = op == kArpReply ? c.eth_dst : MacAddr{};
    IpAddr spa;
    IpAddr tpa;
    if ((e = r.Required("spa")) || (e = r.Required("tpa")) || (e = r.Mac("sha", &a.sha)) ||
        (e = r.Mac("tha", &a.tha)) || (e = r.Ip("spa", Family::kV4, &spa)) ||
        (e = r.Ip("tpa", Family::kV4, &tpa))) {
      return e;
    }
    std::memcpy(a.spa, spa.b.data(), 4);
    std::memcpy(a.tpa, tpa.b.data(), 4);
    *data = Prepend(a, inner);
    return Err{};
  }

  if (l.name == "ipv4" || l.name == "ipv6") {
    if (prev != "eth" && prev != "vlan") return Err{l.name + ": goes after eth or vlan"};
    const bool v4 = l.name == "ipv4";
    if ((next == "icmp" && !v4) || (next == "icmp6" && v4)) {
      return Err{l.name + ": cannot carry " + next};
    }
    std::optional<uint8_t> proto = ProtoOf(next);
    if (!next.empty() && next != "payload" && !proto) {
      return Err{l.name + ": cannot carry " + next + " directly"};
    }
    uint8_t p = proto.value_or(253);  // RFC 3692 experimental, for a bare payload
    if ((e = r.Required("src")) || (e = r.Required("dst"))) return e;
    std::vector<uint8_t> out;
    if (v4) {
      Ipv4Hdr h{};
      IpAddr src;
      IpAddr dst;
      uint8_t ttl = 64;
      uint8_t tos = 0;
      uint16_t id = 0;
      uint8_t df = 0;
      if ((e = r.Ip("src", Family::kV4, &src)) || (e = r.Ip("dst", Family::kV4, &dst)) ||
          (e = r.Uint("ttl", &ttl)) || (e = r.Uint("tos", &tos)) || (e = r.Uint("id", &id)) ||
          (e = r.Uint("df", &df)) || (e = r.Uint("proto", &p))) {
        return e;
      }
      if (df > 1) return r.Bad("df", *r.Get("df"), "is not 0 or 1");
      if (inner.size() + sizeof(h) > 65535) return Err{"ipv4: packet longer than 65535 bytes"};
      h.version_ihl = 0x45;
      h.tos = tos;
      h.total_length = Be16::FromHost(static_cast<uint16_t>(sizeof(h) + inner.size()));
      h.id = Be16::FromHost(id);
      h.frag = Be16::FromHost(df ? kIpv4DontFragment : 0);
      h.ttl = ttl;
      h.protocol = p;
      std::memcpy(h.src, src.b.data(), 4);
      std::memcpy(h.dst, dst.b.data(), 4);
      h.checksum = Ipv4HeaderChecksum(&h);
      out = Prepend(h, inner);
      if (const std::optional<size_t> at = PseudoChecksumOffset(next)) {
        Be16 sum = L4ChecksumV4(&h, p, inner.data(), static_cast<uint32_t>(inner.size()));
        std::memcpy(out.data() + sizeof(h) + *at, &sum, 2);
      }
    } else {
      Ipv6Hdr h{};
      IpAddr src;
      IpAddr dst;
      uint8_t hlim = 64;
      uint8_t tc = 0;
      uint32_t flow = 0;
      if ((e = r.Ip("src", Family::kV6, &src)) || (e = r.Ip("dst", Family::kV6, &dst)) ||
          (e = r.Uint("hlim", &hlim)) || (e = r.Uint("tc", &tc)) || (e = r.Uint("flow", &flow)) ||
          (e = r.Uint("next", &p))) {
        return e;
      }
      if (flow > 0xfffff) return r.Bad("flow", *r.Get("flow"), "is outside 0..1048575");
      if (inner.size() > 65535) return Err{"ipv6: payload longer than 65535 bytes"};
      h.vtc_flow = Be32::FromHost(6u << 28 | uint32_t{tc} << 20 | flow);
      h.payload_length = Be16::FromHost(static_cast<uint16_t>(inner.size()));
      h.next_header = p;
      h.hop_limit = hlim;
      std::memcpy(h.src, src.b.data(), 16);
      std::memcpy(h.dst, dst.b.data(), 16);
      out = Prepend(h, inner);
      if (const std::optional<size_t> at = PseudoChecksumOffset(next)) {
        Be16 sum = L4ChecksumV6(&h, p, inner.data(), static_cast<uint32_t>(inner.size()));
        std::memcpy(out.data() + sizeof(h) + *at, &sum, 2);
      }
    }
    *data = std::move(out);
    return Err{};
  }

  // Everything below rides in IP (the checksum that needs the pseudo header
  // is filled in by the IP layer above, see PseudoChecksumOffset).
  if (l.name == "icmp" || l.name == "icmp6" || l.name == "udp" || l.name == "tcp" ||
      l.name == "nvgre") {
    if (prev != "ipv4" && prev != "ipv6") return Err{l.name + ": goes after ipv4 or ipv6"};
    if (l.name == "nvgre") {
      if (next != "eth") return Err{"nvgre: the next layer is the inner eth"};
    } else if (!next.empty() && next != "payload") {
      return Err{l.name + ": nothing but payload may follow it"};
    }
  }

  if (l.name == "icmp" || l.name == "icmp6") {
    const bool v6 = l.name == "icmp6";
    uint8_t type = v6 ? kIcmp6EchoRequest : kIcmpEchoRequest;
    if (const std::string* v = r.Get("type")) {
      if (*v == "echo-request") {
        type = v6 ? kIcmp6EchoRequest : kIcmpEchoRequest;
      } else if (*v == "echo-reply") {
        type = v6 ? kIcmp6EchoReply : kIcmpEchoReply;
      } else if (v6 && *v == "rs") {
        type = kIcmp6RouterSolicit;
      } else if (v6 && *v == "ns") {
        type = kIcmp6NeighborSolicit;
      } else if (v6 && *v == "na") {
        type = kIcmp6NeighborAdvert;
      } else if ((e = r.Uint("type", &type))) {
        return r.Bad("type", *v,
                     v6 ? "is not echo-request, echo-reply, rs, ns, na or a number"
                        : "is not echo-request, echo-reply or a number");
      }
    }
    uint8_t code = 0;
    uint16_t id = 0;
    uint16_t seq = 0;
    if ((e = r.Uint("code", &code)) || (e = r.Uint("id", &id)) || (e = r.Uint("seq", &seq))) {
      return e;
    }
    const bool nd = v6 && (type == kIcmp6NeighborSolicit || type == kIcmp6NeighborAdvert);
    if (!nd && (r.Has("target") || r.Has("lladdr") || r.Has("flags"))) {
      return Err{l.name + ": target, lladdr and flags are for ns and na"};
    }
    std::vector<uint8_t> out;
    if (nd) {
      if (r.Has("id") || r.Has("seq")) return Err{"icmp6: id and seq are for echo messages"};
      NdHdr h{};
      h.type = type;
      h.code = code;
      IpAddr target;
      target.family = Family::kV6;
      if ((e = r.Required("target")) || (e = r.Ip("target", Family::kV6, &target))) return e;
      std::memcpy(h.target, target.b.data(), 16);
      if (type == kIcmp6NeighborAdvert) {
        std::string flags = "so";
        if (const std::string* f = r.Get("flags")) flags = *f;
        uint32_t bits = 0;
        for (char c : flags) {
          if (c == 'r') {
            bits |= kNaRouter;
          } else if (c == 's') {
            bits |= kNaSolicited;
          } else if (c == 'o') {
            bits |= kNaOverride;
          } else {
            return r.Bad("flags", flags, "is not made of r, s and o");
          }
        }
        h.flags = Be32::FromHost(bits);
      } else if (r.Has("flags")) {
        return Err{"icmp6: flags are for na"};
      }
      out = Prepend(h, std::vector<uint8_t>{});
      const std::string* ll = r.Get("lladdr");
      if (ll == nullptr || *ll != "none") {
        NdOptLinkAddr opt{};
        opt.type = type == kIcmp6NeighborSolicit ? kNdOptSourceLinkAddr : kNdOptTargetLinkAddr;
        opt.len = 1;
        opt.mac = EthBefore(layers, i).eth_src;
        if ((e = r.Mac("lladdr", &opt.mac))) return e;
        const std::vector<uint8_t> o = Prepend(opt, std::vector<uint8_t>{});
        out.insert(out.end(), o.begin(), o.end());
      }
      out.insert(out.end(), inner.begin(), inner.end());
    } else {
      IcmpHdr h{};
      h.type = type;
      h.code = code;
      h.rest = Be32::FromHost(uint32_t{id} << 16 | seq);
      out = Prepend(h, inner);
    }
    if (!v6) {
      const Be16 sum = ChecksumFinish(ChecksumPartial(out.data(), out.size()));
      std::memcpy(out.data() + 2, &sum, 2);
    }
    *data = std::move(out);
    return Err{};
  }

  if (l.name == "udp" || l.name == "tcp") {
    uint16_t sport = 0;
    uint16_t dport = 0;
    if ((e = r.Required("sport")) || (e = r.Required("dport")) || (e = r.Uint("sport", &sport)) ||
        (e = r.Uint("dport", &dport))) {
      return e;
    }
    if (l.name == "udp") {
      if (inner.size() + sizeof(UdpHdr) > 65535)
        return Err{"udp: datagram longer than 65535 bytes"};
      UdpHdr h{};
      h.src_port = Be16::FromHost(sport);
      h.dst_port = Be16::FromHost(dport);
      h.length = Be16::FromHost(static_cast<uint16_t>(sizeof(h) + inner.size()));
      *data = Prepend(h, inner);
      return Err{};
    }
    uint32_t seq = 0;
    uint32_t ack = 0;
    uint16_t win = 65535;
    uint16_t mss = 0;
    if ((e = r.Uint("seq", &seq)) || (e = r.Uint("ack", &ack)) || (e = r.Uint("win", &win)) ||
        (e = r.Uint("mss", &mss))) {
      return e;
    }
    std::string flags = "S";
    if (const std::string* f = r.Get("flags")) flags = *f;
    uint8_t bits = 0;
    for (char c : flags) {
      const char* letters = "FSRPAU";
      const char* at = std::strchr(letters, c);
      if (c == '\0' || at == nullptr) return r.Bad("flags", flags, "is not made of F S R P A U");
      bits |= static_cast<uint8_t>(1u << (at - letters));
    }
    TcpHdr h{};
    h.src_port = Be16::FromHost(sport);
    h.dst_port = Be16::FromHost(dport);
    h.seq = Be32::FromHost(seq);
    h.ack = Be32::FromHost(ack);
    h.flags = bits;
    h.window = Be16::FromHost(win);
    std::vector<uint8_t> options;
    if (r.Has("mss"))
      options = {kTcpOptMss, 4, static_cast<uint8_t>(mss >> 8), static_cast<uint8_t>(mss)};
    h.data_off = static_cast<uint8_t>(((sizeof(h) + options.size()) / 4) << 4);
    std::vector<uint8_t> out = Prepend(h, options);
    out.insert(out.end(), inner.begin(), inner.end());
    *data = std::move(out);
    return Err{};
  }

  if (l.name == "nvgre") {
    uint32_t vsid = 0;
    uint8_t flowid = 0;
    if ((e = r.Required("vsid")) || (e = r.Uint("vsid", &vsid)) ||
        (e = r.Uint("flowid", &flowid))) {
      return e;
    }
    if (vsid > 0xffffff) return r.Bad("vsid", *r.Get("vsid"), "is outside 0..16777215");
    NvgreHdr h{};
    h.flags_version = Be16::FromHost(kNvgreFlags);
    h.protocol = Be16::FromHost(kEtherTypeTeb);
    h.key = Be32::FromHost(NvgreKey(vsid, flowid));
    *data = Prepend(h, inner);
    return Err{};
  }

  if (l.name == "payload") {
    if (!next.empty()) return Err{"payload: must be the last layer"};
    if (i == 0) return Err{"payload: needs a layer before it"};
    if (l.keys.size() != 1) return Err{"payload: give exactly one of len, hex, text"};
    std::vector<uint8_t> bytes;
    if (r.Has("len")) {
      uint16_t len = 0;
      if ((e = r.Uint("len", &len))) return e;
      for (uint32_t k = 0; k < len; ++k) bytes.push_back(static_cast<uint8_t>(k));
    } else if (const std::string* h = r.Get("hex")) {
      if (!ParseHexBytes(*h, &bytes)) return r.Bad("hex", *h, "is not hex bytes");
    } else {
      const std::string& t = *r.Get("text");
      bytes.assign(t.begin(), t.end());
    }
    *data = std::move(bytes);
    return Err{};
  }
  return Err{"unknown layer \"" + l.name + "\""};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool ParseHexBytes(std::string_view text, std::vector<uint8_t>* out) {
  out->clear();
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    text.remove_prefix(2);
  int high = -1;
  for (char c : text) {
    if (c == ' ' || c == ':' || c == '-' || c == '\n' || c == '\t') {
      if (high >= 0) return false;  // separators only between whole bytes
      continue;
    }
    const int v = HexValue(c);
    if (v < 0) return false;
    if (high < 0) {
      high = v;
    } else {
      out->push_back(static_cast<uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  return high < 0;
}

std::string ToHex(const std::vector<uint8_t>& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0xf]);
  }
  return s;
}

FrameResult BuildFrameFromDescription(std::string_view description) {
  FrameResult result;
  std::vector<Layer> layers;
  if (Err e = ParseLayers(description, &layers)) {
    result.error = e.text;
    return result;
  }
  if (layers.empty() || layers[0].name != "eth") {
    result.error = "a frame starts with eth";
    return result;
  }
  std::vector<uint8_t> data;
  for (size_t i = layers.size(); i-- > 0;) {
    if (Err e = BuildLayer(layers, i, &data)) {
      result.error = e.text;
      return result;
    }
  }
  result.bytes = std::move(data);
  return result;
}

}  // namespace hnv::ctl
