#include "dataplane/pipeline/gro.h"

#include <cstring>

#include "dataplane/packet/checksum.h"
#include "dataplane/packet/parse.h"
#include "dataplane/pipeline/gso.h"

namespace hnv {
namespace {

constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint32_t kMaxIpLen = 65535;
constexpr int kOpen = 8;  // flows merged at once in a burst

uint32_t Fold(uint64_t s) noexcept {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint32_t>(s);
}

// A TCP segment as GRO sees it; fields of its first segment (the headers).
struct Seg {
  rte_mbuf* m;
  uint8_t* f;
  ParsedFrame pf;
  uint32_t hdr_len;   // through the TCP header
  uint32_t payload;   // TCP payload bytes
  uint32_t seq;
  bool eligible;      // plain data, may merge
};

uint32_t PseudoSum(const Seg& s, uint32_t l4_len) noexcept {
  const uint8_t* ip = s.f + s.pf.l3_offset;
  const uint32_t sum = s.pf.l3 == L3Kind::kIpv4 ? ChecksumPartial(ip + offsetof(Ipv4Hdr, src), 8)
                                                : ChecksumPartial(ip + offsetof(Ipv6Hdr, src), 32);
  return Fold(uint64_t{sum} + kIpProtoTcp + (l4_len >> 16) + (l4_len & 0xffff));
}

// Parses `m`; true when it is a TCP segment (eligible or not).
bool ParseSeg(rte_mbuf* m, Seg* s) noexcept {
  s->m = m;
  s->f = rte_pktmbuf_mtod(m, uint8_t*);
  if (IsLarge(m) || m->nb_segs != 1) return false;  // already large, or not from the wire
  if (ParseFrame(s->f, m->data_len, &s->pf) != ParseError::kOk) return false;
  const ParsedFrame& pf = s->pf;
  if ((pf.l3 != L3Kind::kIpv4 && pf.l3 != L3Kind::kIpv6) || pf.l4_proto != kIpProtoTcp ||
      !pf.l4_present || pf.is_fragment)
    return false;
  const auto* tcp = pf.At<TcpHdr>(s->f, pf.l4_offset);
  s->hdr_len = pf.l4_offset + tcp->header_bytes();
  const uint32_t end = uint32_t{pf.l3_offset} + pf.l3_len;
  s->payload = end - s->hdr_len;
  s->seq = tcp->seq.ToHost();
  const bool plain_ip = pf.l3 == L3Kind::kIpv4
                            ? pf.l4_offset - pf.l3_offset == sizeof(Ipv4Hdr)
                            : pf.l4_offset - pf.l3_offset == sizeof(Ipv6Hdr);
  s->eligible = plain_ip && !pf.has_vlan && end == m->data_len && s->payload != 0 &&
                (tcp->flags & ~kTcpPsh) == kTcpAck;
  if (s->eligible && (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
    const uint32_t l4_len = end - pf.l4_offset;
    const uint32_t sum = ChecksumPartial(s->f + pf.l4_offset, l4_len, PseudoSum(*s, l4_len));
    s->eligible = Fold(sum) == 0xffff;  // a damaged segment goes alone, for the VM to drop
  }
  return true;
}

// Same connection: addresses and ports.
bool SameFlow(const Seg& a, const Seg& b) noexcept {
  if (a.pf.l3 != b.pf.l3) return false;
  const uint8_t* ia = a.f + a.pf.l3_offset;
  const uint8_t* ib = b.f + b.pf.l3_offset;
  const bool v4 = a.pf.l3 == L3Kind::kIpv4;
  const size_t off = v4 ? offsetof(Ipv4Hdr, src) : offsetof(Ipv6Hdr, src);
  return std::memcmp(ia + off, ib + off, v4 ? 8 : 32) == 0 &&
         std::memcmp(a.f + a.pf.l4_offset, b.f + b.pf.l4_offset, 4) == 0;
}

struct Open {
  Seg head;
  rte_mbuf* tail;     // last mbuf of head's chain
  uint32_t next_seq;  // where the next segment must start
  uint32_t mss;       // the head's payload
  uint32_t last;      // payload of the last segment merged
  uint32_t ip_len;    // the whole IP packet so far
  uint16_t next_id;   // IPv4 ID the next segment must have (without DF)
  uint16_t count;     // segments in it
  bool psh;
};

// Whether `s` may join `o` (same flow): the rules of gro.h.
bool Mergeable(const Open& o, const Seg& s) noexcept {
  if (!s.eligible || o.psh || s.seq != o.next_seq || o.last != o.mss || s.payload > o.mss ||
      o.ip_len + s.payload > kMaxIpLen || o.head.hdr_len != s.hdr_len ||
      o.head.m->nb_segs + 1 > RTE_MBUF_MAX_NB_SEGS)
    return false;
  const uint8_t* ha = o.head.f;
  const uint8_t* hb = s.f;
  const uint32_t l3 = o.head.pf.l3_offset;
  if (o.head.pf.l3 == L3Kind::kIpv4) {
    const auto* a = reinterpret_cast<const Ipv4Hdr*>(ha + l3);
    const auto* b = reinterpret_cast<const Ipv4Hdr*>(hb + l3);
    if (a->tos != b->tos || a->ttl != b->ttl || a->frag.raw() != b->frag.raw()) return false;
    if (!b->dont_fragment() && b->id.ToHost() != o.next_id) return false;
  } else {
    const auto* a = reinterpret_cast<const Ipv6Hdr*>(ha + l3);
    const auto* b = reinterpret_cast<const Ipv6Hdr*>(hb + l3);
    if (a->vtc_flow.raw() != b->vtc_flow.raw() || a->hop_limit != b->hop_limit) return false;
  }
  // ACK number, then data offset, flags but PSH, window; then the options.
  const uint8_t* ta = ha + o.head.pf.l4_offset;
  const uint8_t* tb = hb + s.pf.l4_offset;
  if (std::memcmp(ta + offsetof(TcpHdr, ack), tb + offsetof(TcpHdr, ack), 4) != 0) return false;
  if (ta[offsetof(TcpHdr, data_off)] != tb[offsetof(TcpHdr, data_off)] ||
      (ta[offsetof(TcpHdr, flags)] | kTcpPsh) != (tb[offsetof(TcpHdr, flags)] | kTcpPsh) ||
      std::memcmp(ta + offsetof(TcpHdr, window), tb + offsetof(TcpHdr, window), 2) != 0)
    return false;
  const uint32_t opts = s.hdr_len - s.pf.l4_offset - sizeof(TcpHdr);
  return std::memcmp(ta + sizeof(TcpHdr), tb + sizeof(TcpHdr), opts) == 0;
}

void Merge(Open& o, Seg& s) noexcept {
  rte_mbuf* m = s.m;
  rte_pktmbuf_adj(m, static_cast<uint16_t>(s.hdr_len));  // its payload only
  o.tail->next = m;
  o.tail = m;
  rte_mbuf* h = o.head.m;
  h->nb_segs = static_cast<uint16_t>(h->nb_segs + 1);
  h->pkt_len += m->pkt_len;
  o.next_seq += s.payload;
  o.last = s.payload;
  o.ip_len += s.payload;
  ++o.next_id;
  ++o.count;
  if (s.f[s.pf.l4_offset + offsetof(TcpHdr, flags)] & kTcpPsh) o.psh = true;
}

// The merged frame's headers: lengths, IPv4 header checksum, PSH, the
// partial TCP checksum (the pseudo-header sum over the whole length, as
// Linux leaves it for the device) and the large-segment marks.
void Finish(Open& o) noexcept {
  if (o.count < 2) return;
  Seg& s = o.head;
  uint8_t* ip = s.f + s.pf.l3_offset;
  if (s.pf.l3 == L3Kind::kIpv4) {
    auto* h = reinterpret_cast<Ipv4Hdr*>(ip);
    h->total_length = Be16::FromHost(static_cast<uint16_t>(o.ip_len));
    h->checksum = Be16{};
    h->checksum = Ipv4HeaderChecksum(h);
  } else {
    reinterpret_cast<Ipv6Hdr*>(ip)->payload_length =
        Be16::FromHost(static_cast<uint16_t>(o.ip_len - sizeof(Ipv6Hdr)));
  }
  auto* tcp = reinterpret_cast<TcpHdr*>(s.f + s.pf.l4_offset);
  if (o.psh) tcp->flags |= kTcpPsh;
  const uint32_t l4_len = o.ip_len - (s.pf.l4_offset - s.pf.l3_offset);
  tcp->checksum = Be16::FromHost(static_cast<uint16_t>(PseudoSum(s, l4_len)));
  s.m->ol_flags = (s.m->ol_flags & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) | RTE_MBUF_F_RX_LRO |
                  RTE_MBUF_F_RX_L4_CKSUM_NONE;
  s.m->tso_segsz = static_cast<uint16_t>(o.mss);
}

}  // namespace

uint16_t CoalesceTcp(rte_mbuf** pkts, uint16_t n, uint64_t* merged) noexcept {
  Open open[kOpen];
  int n_open = 0;
  uint16_t k = 0;
  auto close = [&](int j) {
    Finish(open[j]);
    open[j] = open[--n_open];
  };
  for (uint16_t i = 0; i < n; ++i) {
    Seg s;
    if (!ParseSeg(pkts[i], &s)) {
      pkts[k++] = pkts[i];
      continue;
    }
    int j = 0;
    while (j < n_open && !SameFlow(open[j].head, s)) ++j;
    if (j < n_open) {
      if (Mergeable(open[j], s)) {
        Merge(open[j], s);
        ++*merged;
        continue;
      }
      close(j);  // nothing of this flow may pass what is already out
    }
    pkts[k++] = s.m;
    if (!s.eligible) continue;
    if (n_open == kOpen) close(0);
    Open& o = open[n_open++];
    o.head = s;
    o.tail = s.m;
    o.next_seq = s.seq + s.payload;
    o.mss = s.payload;
    o.last = s.payload;
    o.ip_len = s.pf.l3_len;
    o.next_id = static_cast<uint16_t>(
        s.pf.l3 == L3Kind::kIpv4 ? s.pf.At<Ipv4Hdr>(s.f, s.pf.l3_offset)->id.ToHost() + 1 : 0);
    o.count = 1;
    o.psh = (s.f[s.pf.l4_offset + offsetof(TcpHdr, flags)] & kTcpPsh) != 0;
  }
  while (n_open != 0) close(n_open - 1);
  return k;
}

}  // namespace hnv
