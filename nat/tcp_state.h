// TCP connection tracking as a NAT needs it (RFC 5382 section 5): only
// enough state to pick the idle timeout. A connection is *established* once
// a SYN has been seen in both directions (SYN, SYN-ACK, or a simultaneous
// open), and *transitory* before that (partially open), after FINs in both
// directions or after a RST (closing). Idle timeouts: established >= 2 h 4
// min, transitory >= 4 min (REQ-5); the values come from the configuration.
//
// The load balancer sees only the client's side (its backends answer
// through the reverse translation without state): for it a connection is
// established once the client acknowledged without SYN after its SYN, and
// transitory before, after the client's FIN or after a RST.
//
// A SYN without ACK on a closed tuple (RST or both FINs seen) starts a new
// connection: a client reusing its port (TIME_WAIT reuse) gets a fresh
// state instead of the old one's short timeout.
#pragma once

#include <cstdint>

#include "dataplane/packet/headers.h"
#include "nat/model.h"
#include "nat/packet.h"

namespace hnv::nat {

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;

enum TcpBits : uint8_t {
  kSynOut = 1,  // NAT: SYN from the inside; LB: SYN from the client
  kSynIn = 2,   // NAT: SYN from the outside; LB: the client's ACK after its SYN
  kFinOut = 4,
  kFinIn = 8,
  kRstSeen = 16,
};

inline bool TcpClosed(uint8_t s) {
  return (s & kRstSeen) != 0 || (s & (kFinOut | kFinIn)) == (kFinOut | kFinIn);
}

// NAT: a segment in direction `outbound` (from the inside) with `flags`.
inline uint8_t TcpTrack(uint8_t s, uint8_t flags, bool outbound) {
  if ((flags & (kTcpSyn | kTcpAck)) == kTcpSyn && TcpClosed(s)) s = 0;
  if (flags & kTcpRst) s |= kRstSeen;
  if (flags & kTcpSyn) s |= outbound ? kSynOut : kSynIn;
  if (flags & kTcpFin) s |= outbound ? kFinOut : kFinIn;
  return s;
}
inline bool TcpEstablished(uint8_t s) {
  return (s & (kSynOut | kSynIn)) == (kSynOut | kSynIn) && !TcpClosed(s);
}

// Load balancer: a segment from the client.
inline uint8_t LbTcpTrack(uint8_t s, uint8_t flags) {
  if ((flags & (kTcpSyn | kTcpAck)) == kTcpSyn && (s & (kRstSeen | kFinOut)) != 0) s = 0;
  if (flags & kTcpRst) s |= kRstSeen;
  if (flags & kTcpSyn) s |= kSynOut;
  if ((flags & (kTcpSyn | kTcpAck)) == kTcpAck && (s & kSynOut)) s |= kSynIn;
  if (flags & kTcpFin) s |= kFinOut;
  return s;
}
inline bool LbTcpEstablished(uint8_t s) {
  return (s & (kSynOut | kSynIn)) == (kSynOut | kSynIn) && (s & (kRstSeen | kFinOut)) == 0;
}

// Signed distance: true when `expires` is at or before `now` (32-bit ms
// clock, valid for timeouts below 24 days).
inline bool Expired(uint32_t expires, uint32_t now) {
  return static_cast<int32_t>(expires - now) <= 0;
}

// Timeouts in milliseconds, as the worker uses them.
struct TimeoutsMs {
  uint32_t tcp_established = 0;
  uint32_t tcp_transitory = 0;
  uint32_t udp = 0;
  uint32_t icmp = 0;
  static TimeoutsMs From(const Timeouts& t) {
    return TimeoutsMs{t.tcp_established * 1000, t.tcp_transitory * 1000, t.udp * 1000,
                      t.icmp * 1000};
  }
  uint32_t For(Proto p, bool established) const {
    switch (p) {
      case Proto::kTcp:
        return established ? tcp_established : tcp_transitory;
      case Proto::kUdp:
        return udp;
      case Proto::kIcmp:
        return icmp;
    }
    return udp;
  }
};

}  // namespace hnv::nat
