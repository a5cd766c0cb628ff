// Guest offloads: frames a VM sent with its TCP segmentation (TSO) and
// checksum offloads on, and the software that finishes them where they
// cannot leave as they are.
//
// Theory of operation. A port that carries the virtio-net header
// (dataplane/runtime/vnet_port.h; DPDK's net_vhost) hands the pipeline frames
// a plain NIC never does, marked as DPDK's vhost library marks them in its
// compliant mode:
//  - a large segment: RTE_MBUF_F_RX_LRO with tso_segsz = the sender's MSS
//    (its gso_size): a TCP segment, or a UDP datagram train (USO), whose
//    payload is more than one MSS. Its L4 checksum is partial: the field
//    holds the pseudo-header sum over the whole length, as Linux leaves it
//    for the device (RTE_MBUF_F_RX_L4_CKSUM_NONE). Its headers, and at least
//    kHeadBytes of it, are in the first mbuf segment; the payload may span a
//    chain (IsParsableLarge). The receiving port makes every large segment
//    too big for any NVGRE encapsulation (LargeSegmentFloor): a smaller one
//    is finished there, as an ordinary frame.
//  - an ordinary frame with a partial checksum: finished where it is
//    received (CompleteChecksum), so the stages never see one.
// A large segment goes as it is to a port that takes large segments (a
// VnetPort: the VM's kernel does the rest); anywhere else it is split
// (Segmenter): by nvgre-encap into NVGRE frames that fit the underlay MTU,
// by the transmit path of a port without TSO into frames of the MSS. Each
// piece gets its own headers with the lengths, IPv4 IDs (+1 per piece), TCP
// sequence numbers and flags (CWR on the first piece only, FIN and PSH on
// the last only) and complete checksums, as a NIC's TSO or Linux's GSO would
// make them. Frames from the wire are merged into large segments again
// before a port that takes them (gro.h).
//
// Thread: worker-only; no lock or syscall; allocation only from the mbuf
// pool (a dry pool ends a split early: failed()).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/packet/parse.h"

namespace hnv {

// Bytes of a large segment that must lie in its first mbuf segment: its
// headers and what an ICMP error quotes (Ethernet + 802.1Q + the 1,232
// bytes of ICMPv6's quote + its own 48 of headers, rounded up).
inline constexpr uint32_t kHeadBytes = 1300;

inline bool IsLarge(const rte_mbuf* m) noexcept { return (m->ol_flags & RTE_MBUF_F_RX_LRO) != 0; }

// A large segment the parsers may read in place: its first segment holds
// kHeadBytes or all of it.
inline bool IsParsableLarge(const rte_mbuf* m) noexcept {
  return IsLarge(m) && m->data_len >= (m->pkt_len < kHeadBytes ? m->pkt_len : kHeadBytes);
}

// The smallest frame a receiving port keeps as a large segment under an
// underlay MTU: anything shorter would fit in one NVGRE frame over an IPv4
// PA (outer IPv4 + GRE + the inner frame), so nvgre-encap sends only
// ordinary frames there; the port completes its checksum instead.
inline uint32_t LargeSegmentFloor(uint32_t underlay_mtu) noexcept {
  return underlay_mtu - 20 - 8 + 1;
}

// The ones'-complement sum (ChecksumPartial's convention) of `len` bytes of
// `m`'s chain from `off`, whatever the segments' lengths and parity.
uint32_t ChainSum(const rte_mbuf* m, uint32_t off, uint32_t len) noexcept;

// Finishes a partial checksum: the field at csum_start + csum_offset holds
// the pseudo-header sum; the sum over [csum_start, end) is stored there
// complemented (a zero UDP result as 0xffff when `udp`). False when the
// offsets lie outside the frame.
bool CompleteChecksum(rte_mbuf* m, uint32_t csum_start, uint32_t csum_offset, bool udp) noexcept;
// The same for a frame parsed into `pf` (TCP or UDP with its header present);
// false for anything else.
bool CompleteL4Checksum(rte_mbuf* m, const ParsedFrame& pf) noexcept;

// Finishes a burst received on a port with receive offloads (an ethdev such
// as net_vhost; a VnetPort does this itself): a partial checksum completed
// (marked RTE_MBUF_F_RX_L4_CKSUM_GOOD), a large segment shorter than
// `large_floor` made an ordinary frame.
void FinishReceived(rte_mbuf** pkts, uint16_t n, uint32_t large_floor) noexcept;

// Splits one large segment into frames of at most `mss` bytes of L4 payload.
//
//   Segmenter s;
//   if (!s.Start(m, pf, mss)) ...;            // not a TCP/UDP segment it can split
//   while (rte_mbuf* piece = s.Next(pool)) Send(piece);
//   if (s.failed()) ...;                       // the pool ran dry
//   rte_pktmbuf_free(m);                       // the caller still owns m
//
// Each piece is a fresh mbuf (a chain only when the headers and `mss` do not
// fit one mbuf's data room) starting RTE_PKTMBUF_HEADROOM into its buffer,
// with no offload flags.
class Segmenter {
 public:
  // False when `m` (parsed into pf: its frame as it is) is not TCP or UDP
  // over IPv4 / IPv6 without fragmentation, or mss is 0.
  bool Start(const rte_mbuf* m, const ParsedFrame& pf, uint32_t mss) noexcept;
  // The next piece, or nullptr when all are made or the pool is empty.
  rte_mbuf* Next(rte_mempool* pool) noexcept;
  bool failed() const noexcept { return failed_; }
  // Pieces made so far.
  uint32_t made() const noexcept { return index_; }

 private:
  // Copies the next `len` payload bytes into `dst` (a chain grown from
  // `pool` as needed); false when the pool is empty.
  bool CopyPayload(rte_mbuf* dst, uint32_t len, rte_mempool* pool) noexcept;

  const rte_mbuf* src_ = nullptr;
  const rte_mbuf* cur_ = nullptr;  // payload cursor: segment and offset in it
  uint32_t cur_off_ = 0;
  uint32_t hdr_len_ = 0;  // through the L4 header
  uint32_t left_ = 0;     // payload bytes not yet copied
  uint32_t mss_ = 0;
  uint32_t index_ = 0;
  uint32_t seq0_ = 0;
  uint16_t id0_ = 0;
  uint16_t l3_off_ = 0;
  uint16_t l4_off_ = 0;
  uint8_t proto_ = 0;
  uint8_t tcp_flags_ = 0;
  bool v4_ = true;
  bool failed_ = false;
};

}  // namespace hnv
