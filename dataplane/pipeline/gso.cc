#include "dataplane/pipeline/gso.h"

#include <algorithm>
#include <cstring>

#include "dataplane/packet/checksum.h"

namespace hnv {
namespace {

constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpCwr = 0x80;

uint32_t Fold(uint64_t s) noexcept {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint32_t>(s);
}

// The pseudo header's sum for an L4 length (addresses, protocol, length).
uint32_t PseudoSum(const uint8_t* frame, const ParsedFrame& pf, uint8_t proto,
                   uint32_t l4_len) noexcept {
  const uint8_t* ip = frame + pf.l3_offset;
  uint32_t sum;
  if (pf.l3 == L3Kind::kIpv4) {
    sum = ChecksumPartial(ip + offsetof(Ipv4Hdr, src), 8);
  } else {
    sum = ChecksumPartial(ip + offsetof(Ipv6Hdr, src), 32);
  }
  return Fold(uint64_t{sum} + proto + (l4_len >> 16) + (l4_len & 0xffff));
}

void StoreChecksum(uint8_t* field, uint32_t sum, bool udp) noexcept {
  Be16 c = ChecksumFinish(sum);
  if (udp && c.ToHost() == 0) c = Be16::FromHost(0xffff);
  std::memcpy(field, &c, 2);
}

}  // namespace

uint32_t ChainSum(const rte_mbuf* m, uint32_t off, uint32_t len) noexcept {
  while (m != nullptr && off >= m->data_len) {
    off -= m->data_len;
    m = m->next;
  }
  uint64_t sum = 0;
  bool odd = false;  // the bytes summed so far are odd in number
  while (m != nullptr && len != 0) {
    const uint32_t n = std::min<uint32_t>(len, m->data_len - off);
    uint32_t s = ChecksumPartial(rte_pktmbuf_mtod_offset(m, const uint8_t*, off), n);
    // A piece that starts at an odd position of the whole adds its words
    // shifted by a byte: its sum byte-swapped (RFC 1071, 2(B)).
    if (odd) s = static_cast<uint16_t>((s << 8) | (s >> 8));
    sum += s;
    odd ^= (n & 1) != 0;
    len -= n;
    off = 0;
    m = m->next;
  }
  return Fold(sum);
}

bool CompleteChecksum(rte_mbuf* m, uint32_t csum_start, uint32_t csum_offset, bool udp) noexcept {
  const uint32_t field = csum_start + csum_offset;
  if (csum_start >= m->pkt_len || field + 2 > m->data_len) return false;
  uint8_t* f = rte_pktmbuf_mtod(m, uint8_t*);
  // The field's pseudo-header sum is summed with the rest, as a device does.
  StoreChecksum(f + field, ChainSum(m, csum_start, m->pkt_len - csum_start), udp);
  return true;
}

bool CompleteL4Checksum(rte_mbuf* m, const ParsedFrame& pf) noexcept {
  if (!pf.l4_present || pf.is_fragment) return false;
  if (pf.l4_proto == kIpProtoTcp)
    return CompleteChecksum(m, pf.l4_offset, offsetof(TcpHdr, checksum), false);
  if (pf.l4_proto == kIpProtoUdp)
    return CompleteChecksum(m, pf.l4_offset, offsetof(UdpHdr, checksum), true);
  return false;
}

void FinishReceived(rte_mbuf** pkts, uint16_t n, uint32_t large_floor) noexcept {
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const bool partial =
        (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE;
    if (IsLarge(m) && m->pkt_len >= large_floor && IsParsableLarge(m)) continue;
    m->ol_flags &= ~RTE_MBUF_F_RX_LRO;
    if (!partial) continue;
    ParsedFrame pf;
    if ((m->data_len >= std::min<uint32_t>(m->pkt_len, kHeadBytes) ||
         rte_pktmbuf_linearize(m) == 0) &&
        ParseFrame(rte_pktmbuf_mtod(m, const uint8_t*), m->pkt_len, &pf) == ParseError::kOk &&
        CompleteL4Checksum(m, pf))
      m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  }
}

bool Segmenter::Start(const rte_mbuf* m, const ParsedFrame& pf, uint32_t mss) noexcept {
  if (mss == 0 || (pf.l3 != L3Kind::kIpv4 && pf.l3 != L3Kind::kIpv6) || !pf.l4_present ||
      pf.is_fragment || (pf.l4_proto != kIpProtoTcp && pf.l4_proto != kIpProtoUdp))
    return false;
  const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
  uint32_t l4_hdr = sizeof(UdpHdr);
  if (pf.l4_proto == kIpProtoTcp) {
    const auto* tcp = pf.At<TcpHdr>(f, pf.l4_offset);
    l4_hdr = tcp->header_bytes();
    seq0_ = tcp->seq.ToHost();
    tcp_flags_ = tcp->flags;
  }
  const uint32_t end = uint32_t{pf.l3_offset} + pf.l3_len;  // IP packet's end (no padding)
  hdr_len_ = pf.l4_offset + l4_hdr;
  if (hdr_len_ > m->data_len || end > m->pkt_len || end < hdr_len_) return false;
  src_ = m;
  v4_ = pf.l3 == L3Kind::kIpv4;
  id0_ = v4_ ? pf.At<Ipv4Hdr>(f, pf.l3_offset)->id.ToHost() : 0;
  l3_off_ = pf.l3_offset;
  l4_off_ = pf.l4_offset;
  proto_ = pf.l4_proto;
  left_ = end - hdr_len_;
  mss_ = mss;
  index_ = 0;
  failed_ = false;
  cur_ = m;
  cur_off_ = hdr_len_;
  return true;
}

bool Segmenter::CopyPayload(rte_mbuf* dst, uint32_t len, rte_mempool* pool) noexcept {
  rte_mbuf* tail = rte_pktmbuf_lastseg(dst);
  while (len != 0) {
    while (cur_off_ >= cur_->data_len) {  // the source's next segment
      cur_off_ -= cur_->data_len;
      cur_ = cur_->next;
    }
    if (rte_pktmbuf_tailroom(tail) == 0) {
      rte_mbuf* more = rte_pktmbuf_alloc(pool);
      if (more == nullptr) return false;
      more->data_off = 0;
      tail->next = more;
      tail = more;
      ++dst->nb_segs;
    }
    const uint32_t n = std::min({len, uint32_t{cur_->data_len} - cur_off_,
                                 uint32_t{rte_pktmbuf_tailroom(tail)}});
    std::memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t*, tail->data_len),
                rte_pktmbuf_mtod_offset(cur_, const uint8_t*, cur_off_), n);
    tail->data_len = static_cast<uint16_t>(tail->data_len + n);
    dst->pkt_len += n;
    cur_off_ += n;
    len -= n;
  }
  return true;
}

rte_mbuf* Segmenter::Next(rte_mempool* pool) noexcept {
  if (left_ == 0 || failed_) return nullptr;
  rte_mbuf* p = rte_pktmbuf_alloc(pool);
  if (p == nullptr) {
    failed_ = true;
    return nullptr;
  }
  const uint32_t len = std::min(left_, mss_);
  const bool last = len == left_;
  // The headers: one copy from the large segment's first segment.
  uint8_t* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(p, static_cast<uint16_t>(hdr_len_)));
  if (f == nullptr) {  // a data room smaller than the headers
    rte_pktmbuf_free(p);
    failed_ = true;
    return nullptr;
  }
  std::memcpy(f, rte_pktmbuf_mtod(src_, const uint8_t*), hdr_len_);
  if (!CopyPayload(p, len, pool)) {
    rte_pktmbuf_free(p);
    failed_ = true;
    return nullptr;
  }
  const uint32_t l4_len = hdr_len_ - l4_off_ + len;
  if (v4_) {
    auto* ip = reinterpret_cast<Ipv4Hdr*>(f + l3_off_);
    ip->total_length = Be16::FromHost(static_cast<uint16_t>(l4_off_ - l3_off_ + l4_len));
    ip->id = Be16::FromHost(static_cast<uint16_t>(id0_ + index_));
    ip->checksum = Be16{};
    ip->checksum = Ipv4HeaderChecksum(ip);
  } else {
    auto* ip = reinterpret_cast<Ipv6Hdr*>(f + l3_off_);
    ip->payload_length = Be16::FromHost(static_cast<uint16_t>(l4_off_ - l3_off_ - sizeof(Ipv6Hdr) + l4_len));
  }
  uint8_t* l4 = f + l4_off_;
  uint32_t csum_field;
  if (proto_ == kIpProtoTcp) {
    auto* tcp = reinterpret_cast<TcpHdr*>(l4);
    tcp->seq = Be32::FromHost(seq0_ + index_ * mss_);
    uint8_t flags = tcp_flags_;
    if (!last) flags &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
    if (index_ != 0) flags &= static_cast<uint8_t>(~kTcpCwr);
    tcp->flags = flags;
    csum_field = offsetof(TcpHdr, checksum);
  } else {
    reinterpret_cast<UdpHdr*>(l4)->length = Be16::FromHost(static_cast<uint16_t>(l4_len));
    csum_field = offsetof(UdpHdr, checksum);
  }
  std::memset(l4 + csum_field, 0, 2);
  ParsedFrame pf;
  pf.l3 = v4_ ? L3Kind::kIpv4 : L3Kind::kIpv6;
  pf.l3_offset = l3_off_;
  const uint32_t pseudo = PseudoSum(f, pf, proto_, l4_len);
  StoreChecksum(l4 + csum_field, Fold(uint64_t{pseudo} + ChainSum(p, l4_off_, l4_len)),
                proto_ == kIpProtoUdp);
  left_ -= len;
  ++index_;
  return p;
}

}  // namespace hnv
