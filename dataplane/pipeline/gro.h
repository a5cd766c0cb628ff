// Receive coalescing (GRO) in front of a port that takes large segments.
//
// Theory of operation. CoalesceTcp works on the frames about to leave by one
// port (a transmit burst of up to 32, in order): consecutive TCP segments of
// one connection are chained into the first of them, which becomes a large
// segment (gso.h: RTE_MBUF_F_RX_LRO, tso_segsz = the first one's payload,
// partial checksum), so a VM's kernel gets one 64 KB-style segment instead
// of up to 32 and the port one write. A segment joins an earlier one of its
// flow (IPv4 or IPv6 addresses and ports) when, as Linux's GRO requires,
// both are plain data (ACK, perhaps PSH; no SYN, FIN, RST, URG, ECE, CWR),
// it starts where the other ends, the acknowledgement, window, TCP options,
// IPv4 TOS/TTL/DF (and consecutive IDs without DF) or the IPv6 traffic class
// and hop limit are the same, every segment but the last is exactly one MSS
// and none after a PSH, and the whole stays within 65,535 bytes of IP.
// Each segment's TCP checksum is checked before it joins (the VM will trust
// the merged one): one that fails is left as it is, for the VM to drop.
// The merged frame gets the IPv4 total length and header checksum, or the
// IPv6 payload length, of the whole and PSH if any part had it. Frames of
// other kinds, and large segments already, pass untouched and in order.
//
// Thread: worker-only; no allocation, lock or syscall (chaining only).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

namespace hnv {

// Merges in place; returns the new count of pkts[] (merged frames are
// inside the chains of earlier ones). `merged` is increased by the number of
// frames merged away.
uint16_t CoalesceTcp(rte_mbuf** pkts, uint16_t n, uint64_t* merged) noexcept;

}  // namespace hnv
