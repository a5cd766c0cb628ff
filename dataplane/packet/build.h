// Builders for the frames the dataplane originates or rewrites: ARP and ND
// answers, ICMP echo replies, ICMP "too big" errors, ARP/ND requests on the
// provider network, TCP MSS clamping. Each writes only inside the buffer it is
// given (`cap` bytes) and returns the frame length, or 0 when it does not fit.
// Checksums of everything written are complete. No allocation, no exceptions.
#pragma once

#include <cstdint>

#include "dataplane/packet/headers.h"
#include "dataplane/packet/parse.h"

namespace hnv {

// Writes an Ethernet header, and an 802.1Q tag when vlan != 0; returns the
// bytes written (14 or 18).
uint32_t WriteEth(uint8_t* out, MacAddr dst, MacAddr src, uint16_t ether_type,
                  uint16_t vlan = 0) noexcept;

// ARP request "who has target_ip tell src_ip" to broadcast.
uint32_t BuildArpRequest(uint8_t* out, uint32_t cap, MacAddr src_mac, IpAddr src_ip,
                         IpAddr target_ip, uint16_t vlan = 0) noexcept;
// ARP reply "answer_ip is at answer_mac" to (to_mac, to_ip).
uint32_t BuildArpReply(uint8_t* out, uint32_t cap, MacAddr answer_mac, IpAddr answer_ip,
                       MacAddr to_mac, IpAddr to_ip, uint16_t vlan = 0) noexcept;

// Neighbour solicitation for target_ip from (src_mac, src_ip) to the
// solicited-node multicast group, with a source link-layer option.
uint32_t BuildNeighborSolicit(uint8_t* out, uint32_t cap, MacAddr src_mac, IpAddr src_ip,
                              IpAddr target_ip, uint16_t vlan = 0) noexcept;
// Neighbour advertisement for target_ip at target_mac, sent to (to_mac, to_ip),
// with a target link-layer option. `router` sets the R flag; S and O are set.
uint32_t BuildNeighborAdvert(uint8_t* out, uint32_t cap, MacAddr target_mac, IpAddr target_ip,
                             MacAddr to_mac, IpAddr to_ip, bool router,
                             uint16_t vlan = 0) noexcept;

// Turns the ICMP echo request / ICMPv6 echo request in `frame` (parsed as
// `pf`) into its reply in place: MACs and IPs swapped, type changed, TTL/hop
// limit reset to 64, checksums fixed. Returns false if it is not an echo request.
bool EchoRequestToReplyInPlace(uint8_t* frame, const ParsedFrame& pf) noexcept;

// ICMPv4 "fragmentation needed" (type 3 code 4, next-hop MTU = mtu) or ICMPv6
// "packet too big" from (src_mac, src_ip) to (dst_mac, the offending packet's
// source), quoting as much of the offending IP packet `orig_ip` as fits in the
// minimum MTU (576 / 1280 bytes).
uint32_t BuildIcmpTooBig(uint8_t* out, uint32_t cap, MacAddr src_mac, MacAddr dst_mac,
                         IpAddr src_ip, const uint8_t* orig_ip, uint32_t orig_ip_len,
                         uint32_t mtu) noexcept;

// If the TCP segment at `tcp` (tcp_len bytes, inside IP packet `ip` of the
// family given) is a SYN with an MSS option above max_mss, lowers it and fixes
// the TCP checksum incrementally. Returns true if it changed the segment.
bool ClampTcpMss(uint8_t* tcp, uint32_t tcp_len, uint16_t max_mss) noexcept;

}  // namespace hnv
