// Small helpers shared by the stages: flooding
// a frame to the local ports of a VSID, and reading addresses out of a
// parsed frame. All are allocation-free (copies come from the mbuf pool).
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

#include <rte_cycles.h>

#include "dataplane/pipeline/context.h"
#include "dataplane/pipeline/gso.h"
#include "dataplane/pipeline/stage.h"

namespace hnv {

// N elements of T on the stack, left uninitialised: a stage's per-burst key
// and frame arrays are written before they are read, and their element
// types' default member initialisers (KeyWords' zeroed words, MacAddr's
// bytes) would otherwise clear them every burst (a 768-byte memset call for
// nvgre-decap's CA keys). T is an implicit-lifetime type, so the bytes hold
// T objects as soon as they are written.
template <typename T, size_t N>
class UninitArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  UninitArray() noexcept {}
  T* data() noexcept { return std::launder(reinterpret_cast<T*>(bytes_)); }
  T& operator[](size_t i) noexcept { return data()[i]; }

 private:
  alignas(T) unsigned char bytes_[sizeof(T) * N];
};

// Sends the ICMP error that `build(out, capacity) -> length` writes into a
// fresh mbuf (0: nothing to send) out of `port`, counting it in `sent`,
// unless the worker has sent its share already: at most
// settings.icmp_errors_burst at once and icmp_errors_per_second after that
// (counted in icmp_rate_limited). Only the mbuf pool allocates; a dry pool
// counts kNoMbuf.
template <typename BuildFn>
inline void SendIcmpError(WorkerContext& ctx, uint16_t port, uint64_t& sent,
                          BuildFn&& build) noexcept {
  const HostSettings& s = ctx.snap->settings;
  if (!ctx.icmp_errors.Take(rte_get_tsc_cycles(), rte_get_tsc_hz(), s.icmp_errors_per_second,
                            s.icmp_errors_burst)) {
    ++ctx.counters->icmp_rate_limited;
    return;
  }
  rte_mbuf* r = rte_pktmbuf_alloc(ctx.pool);
  if (r == nullptr) {
    ++ctx.counters->drops[static_cast<uint16_t>(Drop::kNoMbuf)];
    return;
  }
  const uint32_t len = build(rte_pktmbuf_mtod(r, uint8_t*), rte_pktmbuf_tailroom(r));
  if (len == 0) {
    rte_pktmbuf_free(r);
    return;
  }
  r->data_len = static_cast<uint16_t>(len);
  r->pkt_len = len;
  ++sent;
  ctx.Transmit(port, r);
}

// Sends `m` to every local port of `v` except `exclude`. The original is
// consumed unless `keep_original`, in which case only copies are sent.
inline void Flood(WorkerContext& ctx, rte_mbuf* m, const VsidInfo& v, uint16_t exclude,
                  bool keep_original) noexcept {
  uint16_t last = kNoPort;
  for (uint16_t p : v.local_ports)
    if (p != exclude) last = p;
  for (uint16_t p : v.local_ports) {
    if (p == exclude) continue;
    if (p == last && !keep_original) {
      ctx.Transmit(p, m);
      return;
    }
    rte_mbuf* c = rte_pktmbuf_copy(m, ctx.pool, 0, UINT32_MAX);
    if (c == nullptr) {
      ++ctx.counters->drops[static_cast<uint16_t>(Drop::kNoMbuf)];
      continue;
    }
    ++ctx.counters->flooded;
    ctx.Transmit(p, c);
  }
  if (!keep_original) ctx.Absorb(m);  // no other local port on the VSID
}

// An address as the two words of its 16 bytes and its family, loaded
// straight from a frame: what the per-packet paths compare and hash. Every
// field is written and read as a whole 8-byte word, in place (the Set*
// functions; no copies through temporaries). An IpAddr built in memory from
// a 4-byte copy (IpAddr::V4Raw) and read back at once with wider loads (a
// copy, a CA key) waits for store forwarding to fail (rcu_hash.h,
// KeyWords): in nvgre-decap that was a third of the stage's time.
struct IpWords {
  uint64_t w[2];
  uint64_t fam;  // Family, widened to a word

  void SetV4(const uint8_t* p) noexcept {
    uint32_t a;
    std::memcpy(&a, p, 4);
    w[0] = a;
    w[1] = 0;
    fam = static_cast<uint8_t>(Family::kV4);
  }
  void SetV6(const uint8_t* p) noexcept {
    std::memcpy(&w[0], p, 8);
    std::memcpy(&w[1], p + 8, 8);
    fam = static_cast<uint8_t>(Family::kV6);
  }
  void SetZero() noexcept {  // IpAddr{}: unspecified IPv4
    w[0] = w[1] = 0;
    fam = static_cast<uint8_t>(Family::kV4);
  }
  // The source (destination) address of a parsed IPv4/IPv6 frame.
  void SetSrc(const uint8_t* f, const ParsedFrame& pf) noexcept {
    if (pf.l3 == L3Kind::kIpv4) SetV4(pf.At<Ipv4Hdr>(f, pf.l3_offset)->src);
    else SetV6(pf.At<Ipv6Hdr>(f, pf.l3_offset)->src);
  }
  void SetDst(const uint8_t* f, const ParsedFrame& pf) noexcept {
    if (pf.l3 == L3Kind::kIpv4) SetV4(pf.At<Ipv4Hdr>(f, pf.l3_offset)->dst);
    else SetV6(pf.At<Ipv6Hdr>(f, pf.l3_offset)->dst);
  }

  Family family() const noexcept { return static_cast<Family>(fam); }
  bool IsZero() const noexcept { return (w[0] | w[1]) == 0; }  // IpAddr::IsUnspecified
  bool Is(const IpAddr& a) const noexcept {                    // IpAddr's operator==
    uint64_t x[2];
    std::memcpy(x, a.b.data(), 16);
    return ((x[0] ^ w[0]) | (x[1] ^ w[1])) == 0 && a.family == family();
  }
  uint8_t Byte(int i) const noexcept { return static_cast<uint8_t>(w[i / 8] >> (i % 8 * 8)); }
  IpAddr ToIpAddr() const noexcept {
    IpAddr a;
    std::memcpy(a.b.data(), w, 16);
    a.family = family();
    return a;
  }
  KeyWords<CaKey> CaKeyIn(uint32_t rd) const noexcept {
    return PolicyTables::CaKeyOf(rd, w[0], w[1], family());
  }
};

// The source IP of a parsed IPv4/IPv6 frame, as an IpAddr (the ARP/ND
// answers; the forwarding paths load IpWords instead).
inline IpAddr SrcIp(const uint8_t* f, const ParsedFrame& pf) noexcept {
  return pf.l3 == L3Kind::kIpv4 ? IpAddr::V4Raw(pf.At<Ipv4Hdr>(f, pf.l3_offset)->src)
                                : IpAddr::V6Raw(pf.At<Ipv6Hdr>(f, pf.l3_offset)->src);
}

// The neighbour-discovery message in an ICMPv6 frame, or nullptr.
inline const NdHdr* NdOf(const uint8_t* f, const ParsedFrame& pf, uint32_t len) noexcept {
  if (pf.l3 != L3Kind::kIpv6 || pf.l4_proto != kIpProtoIcmp6 || !pf.l4_present) return nullptr;
  const uint8_t type = f[pf.l4_offset];
  if (type != kIcmp6NeighborSolicit && type != kIcmp6NeighborAdvert) return nullptr;
  if (pf.l4_offset + sizeof(NdHdr) > len) return nullptr;
  return pf.At<NdHdr>(f, pf.l4_offset);
}

// The link-layer address option of an ND message, if present and well formed.
inline bool NdLinkAddr(const uint8_t* f, const ParsedFrame& pf, uint32_t len, MacAddr* mac) noexcept {
  uint32_t off = pf.l4_offset + sizeof(NdHdr);
  const uint32_t end = pf.l3_offset + pf.l3_len < len ? pf.l3_offset + pf.l3_len : len;
  while (off + 2 <= end) {
    const uint8_t type = f[off];
    const uint32_t olen = f[off + 1] * 8u;
    if (olen == 0 || off + olen > end) return false;
    if ((type == kNdOptSourceLinkAddr || type == kNdOptTargetLinkAddr) && olen >= 8) {
      std::memcpy(mac->b.data(), f + off + 2, 6);
      return true;
    }
    off += olen;
  }
  return false;
}

// Re-parses the mbuf's frame into its metadata; false when malformed. The
// whole frame's length: a large segment's headers are in its first mbuf
// segment (MakeContiguous), its payload may continue in others.
inline bool Reparse(rte_mbuf* m) noexcept {
  return ParseFrame(Data(m), rte_pktmbuf_pkt_len(m), &Meta(m)->pf) == ParseError::kOk;
}

// Frames must be one contiguous segment for the parsers, except a large
// segment from a port with guest offloads, whose headers (and kHeadBytes)
// are in its first segment (gso.h).
inline bool MakeContiguous(rte_mbuf* m) noexcept {
  return m->nb_segs == 1 || IsParsableLarge(m) || rte_pktmbuf_linearize(m) == 0;
}

}  // namespace hnv
