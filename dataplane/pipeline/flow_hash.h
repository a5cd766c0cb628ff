// A direction-independent flow hash, for flow affinity: both directions of a
// connection get the same value, so they meet on one worker
// (OwnerOfFlow) and its per-worker state (NAT sessions, connection
// tracking) needs no lock.
//
// The flow is the IP addresses, the protocol and, for TCP and UDP, the ports
// (for ICMP echo request/reply, the identifier on both sides); for other
// protocols and for every fragment (later fragments carry no ports), the
// addresses and protocol only, so all fragments of a packet stay together.
// The two endpoints (address, port) are ordered before hashing, which makes
// the value symmetric.
// Thread: any; pure functions, no allocation.
#pragma once

#include <rte_hash_crc.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "dataplane/packet/parse.h"

namespace hnv {

namespace flow_hash_internal {
inline uint64_t Word(const uint8_t* p) noexcept {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
}  // namespace flow_hash_internal

// The ports (or ICMP echo identifier, twice) of a parsed frame, 0 when none.
inline void FlowPorts(const uint8_t* f, const ParsedFrame& pf, uint16_t* a, uint16_t* b) noexcept {
  *a = *b = 0;
  if (!pf.l4_present || pf.is_fragment) return;
  const uint8_t* l4 = f + pf.l4_offset;
  if (pf.l4_proto == kIpProtoTcp || pf.l4_proto == kIpProtoUdp) {
    std::memcpy(a, l4, 2);
    std::memcpy(b, l4 + 2, 2);
  } else if ((pf.l4_proto == kIpProtoIcmp && (l4[0] == 8 || l4[0] == 0)) ||
             (pf.l4_proto == kIpProtoIcmp6 && (l4[0] == 128 || l4[0] == 129))) {
    std::memcpy(a, l4 + 4, 2);  // echo identifier
    *b = *a;
  }
}

// Symmetric hash of an IPv4 or IPv6 frame's flow; 0 for anything else.
inline uint32_t SymmetricFlowHash(const uint8_t* f, const ParsedFrame& pf) noexcept {
  using flow_hash_internal::Word;
  uint16_t pa, pb;
  FlowPorts(f, pf, &pa, &pb);
  if (pf.l3 == L3Kind::kIpv4) {
    const auto* ip = pf.At<Ipv4Hdr>(f, pf.l3_offset);
    uint32_t sa, da;
    std::memcpy(&sa, ip->src, 4);
    std::memcpy(&da, ip->dst, 4);
    uint64_t x = uint64_t{sa} << 16 | pa;
    uint64_t y = uint64_t{da} << 16 | pb;
    if (x > y) std::swap(x, y);
    return rte_hash_crc_8byte(y, rte_hash_crc_8byte(x, pf.l4_proto));
  }
  if (pf.l3 == L3Kind::kIpv6) {
    const auto* ip = pf.At<Ipv6Hdr>(f, pf.l3_offset);
    uint64_t s0 = Word(ip->src), s1 = Word(ip->src + 8);
    uint64_t d0 = Word(ip->dst), d1 = Word(ip->dst + 8);
    uint16_t sp = pa, dp = pb;
    if (s0 > d0 || (s0 == d0 && (s1 > d1 || (s1 == d1 && sp > dp)))) {
      std::swap(s0, d0);
      std::swap(s1, d1);
      std::swap(sp, dp);
    }
    uint32_t h = rte_hash_crc_8byte(s0, pf.l4_proto);
    h = rte_hash_crc_8byte(s1, h);
    h = rte_hash_crc_8byte(d0, h);
    h = rte_hash_crc_8byte(d1, h);
    return rte_hash_crc_4byte(uint32_t{sp} << 16 | dp, h);
  }
  return 0;
}

// Which of `workers` owns a flow with hash `h` (h * workers / 2^32: uniform
// for any worker count, no division).
inline uint32_t OwnerOfFlow(uint32_t h, uint32_t workers) noexcept {
  return static_cast<uint32_t>((uint64_t{h} * workers) >> 32);
}

}  // namespace hnv
