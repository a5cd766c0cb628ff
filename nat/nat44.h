// NatWorker: one worker's NAT44 for one compartment (a burst-processing
// feature with per-worker state): NAPT (RFC 4787 / 5382 / 5508 behaviour),
// static one-to-one NAT and port forwards.
//
// Theory of operation. Two entry points, one per direction; each takes a
// burst of frames (contiguous bytes: an mbuf's data, one segment), rewrites
// them in place and writes one Verdict per frame (reasons.h).
//
// Outbound (after the route decision, towards an external interface the NAT
// applies to; the caller checks that): by the source, in this order:
//  1. a port forward's internal end (protocol, address, port): source ->
//     its external end;
//  2. a static one-to-one internal address: source address -> external;
//  3. an internal source (NatRules::IsInternal): NAPT. The session of
//     (protocol, source, destination) is looked up; a hit refreshes it (TCP
//     state, idle timeout), a miss opens one with the mapping of (protocol,
//     source) or a new mapping (a port of this worker's share from the
//     host's preferred pool address). Only a TCP SYN and an ICMP query
//     request open a session (else kNotFirst). Limits: per host
//     (kHostLimit), hosts (kHostsFull), sessions (kSessionsFull), ports
//     (kPortsExhausted), index (kTableFull).
//  Anything else leaves by kPass untouched. ICMP errors are matched by
//  their embedded packet (whose destination is the inside end) and
//  translated with it (RFC 5508); without a session, kIcmpErrorNoSession.
//  A translated packet whose destination is one of the NAT's own external
//  addresses leaves by kHairpin (or is dropped, kHairpinOff).
//
// Inbound (before the route decision, from an external interface, or a
// hairpinned packet): by the destination:
//  1. a port forward's external end -> its internal end;
//  2. a static one-to-one external address -> internal;
//  3. a pool address: the session of (protocol, pool address, port,
//     source) is looked up and refreshed, and the destination rewritten to
//     the inside end. On a miss with endpoint-independent filtering, a
//     mapping of that port lets it in (a new session; TCP only with a SYN);
//     otherwise kFiltered when the port has a mapping, kNoSession when not
//     (or kPass when the pool address is also the compartment's own
//     address: the namespace may answer). ICMP errors are matched by their
//     embedded packet (whose source is the pool end).
//  Anything else: kPass.
// Packets that cannot be translated: kMalformed, kFragment (fragments are
// not translated in this version), kBadIcmpError, kIcmpUnsupported,
// kProtocol (a protocol without ports from a NAPT-only source); counted.
//
// The burst is processed in three passes so that the session table's
// cache misses overlap: view every frame and prefetch its index buckets,
// then prefetch the candidate records, then look up and translate.
//
// Tick(now) (once per worker loop iteration) frees at most kExpireBudget
// expired sessions. `now` is a millisecond clock the caller provides (TSC
// in the dataplane, made up in tests).
//
// Thread: a NatWorker belongs to one worker; the NatRules it is given are
// read-only. Counters are written by the worker and read racily by the
// control thread (monotonic 64-bit values). No allocation, lock, syscall or
// exception after Init.
#pragma once

#include <cstdint>
#include <string>

#include "nat/napt_table.h"
#include "nat/nat_rules.h"
#include "nat/reasons.h"

namespace hnv::nat {

struct alignas(64) NatCounters {
  uint64_t out_napt = 0;      // translated outbound by the NAPT
  uint64_t in_napt = 0;       // translated inbound by the NAPT
  uint64_t out_static = 0;    // static NAT and port forwards, outbound
  uint64_t in_static = 0;     // and inbound
  uint64_t icmp_errors = 0;   // ICMP errors translated (either way)
  uint64_t hairpins = 0;
  uint64_t in_local = 0;      // unsolicited inbound to a local pool address, passed
  uint64_t sessions_created = 0;
  uint64_t sessions_expired = 0;
  uint64_t drop[kDropCount] = {};
  uint64_t Dropped(Drop d) const { return drop[static_cast<size_t>(d)]; }
};

class NatWorker {
 public:
  static constexpr uint32_t kExpireBudget = 32;

  // Sizes the tables for worker `worker` of `workers` from the spec's
  // limits (its share of the sessions, the host limits, the port range) and
  // `pool_size` pool addresses (0: no NAPT, static rules only).
  bool Init(const NatSpec& spec, uint32_t pool_size, uint32_t worker, uint32_t workers,
            uint64_t seed, std::string* error);

  void Outbound(const NatRules& r, Frame* frames, uint16_t n, uint64_t now_ms,
                Verdict* out) noexcept;
  void Inbound(const NatRules& r, Frame* frames, uint16_t n, uint64_t now_ms,
               Verdict* out) noexcept;
  void Tick(uint64_t now_ms) noexcept;

  const NatCounters& counters() const { return c_; }
  NaptTable& table() { return table_; }
  const NaptTable& table() const { return table_; }
  bool napt() const { return napt_; }

 private:
  using Spot = NaptTable::Spot;
  // `w`: where the burst located the NAPT session, or null when the frame
  // is not a NAPT lookup.
  Verdict OutOne(const NatRules& r, PacketView& v, Drop view, const Spot* w, uint32_t now) noexcept;
  Verdict InOne(const NatRules& r, PacketView& v, Drop view, const Spot* w, uint32_t now) noexcept;
  Verdict OutError(const NatRules& r, PacketView& v, uint32_t now) noexcept;
  Verdict InError(const NatRules& r, PacketView& v, uint32_t now) noexcept;
  Verdict Refresh(const NatRules& r, uint32_t i, const PacketView& v, bool outbound,
                  uint32_t now) noexcept;
  Verdict Dropped(Drop d) noexcept {
    ++c_.drop[static_cast<size_t>(d)];
    return Verdict{Edge::kDrop, d};
  }
  Verdict AfterOut(const NatRules& r, const PacketView& v) noexcept;

  NaptTable table_;
  bool napt_ = false;
  NatCounters c_;
};

}  // namespace hnv::nat
