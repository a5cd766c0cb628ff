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
// solicited-node multicast group, with a source link-layer option (left out
// when src_ip is :: for duplicate address detection, RFC 4861 4.3).
uint32_t BuildNeighborSolicit(uint8_t* out, uint32_t cap, MacAddr src_mac, IpAddr src_ip,
                              IpAddr target_ip, uint16_t vlan = 0) noexcept;
// Neighbour advertisement for target_ip at target_mac, sent to (to_mac, to_ip),
// with a target link-layer option. `router` sets the R flag; S and O are set.
// Answering a solicitation from :: (to_ip unspecified) goes to all-nodes
// ff02::1 / 33:33:00:00:00:01 with S clear (RFC 4861 7.2.4).
uint32_t BuildNeighborAdvert(uint8_t* out, uint32_t cap, MacAddr target_mac, IpAddr target_ip,
                             MacAddr to_mac, IpAddr to_ip, bool router, uint16_t vlan = 0) noexcept;

// Turns the ICMP echo request / ICMPv6 echo request in `frame` (parsed as
// `pf`) into its reply in place: MACs and IPs swapped, type changed, TTL/hop
// limit reset to 64, checksums fixed. Returns false, touching nothing, if it
// is not an echo request or is a fragment. The ICMPv4 checksum is updated
// incrementally (a request with a bad one gets a reply with a bad one); the
// ICMPv6 checksum is recomputed over payload_length.
bool EchoRequestToReplyInPlace(uint8_t* frame, const ParsedFrame& pf) noexcept;

// ICMPv4 "fragmentation needed" (type 3 code 4, next-hop MTU = mtu) or ICMPv6
// "packet too big" from (src_mac, src_ip) to (dst_mac, the offending packet's
// source), quoting as much of the offending IP packet `orig_ip` as fits in the
// minimum MTU (576 / 1280 bytes). The family is the one of `orig_ip`
// (src_ip must match); no VLAN tag, TTL/hop limit 64, IPv4 DF clear. Whether
// an error may be sent at all (not about ICMP errors, later fragments,
// multicast) is the caller's decision.
uint32_t BuildIcmpTooBig(uint8_t* out, uint32_t cap, MacAddr src_mac, MacAddr dst_mac,
                         IpAddr src_ip, const uint8_t* orig_ip, uint32_t orig_ip_len,
                         uint32_t mtu) noexcept;

// ICMPv4 "time exceeded in transit" (type 11 code 0) or ICMPv6 "hop limit
// exceeded in transit" (type 3 code 0), otherwise as BuildIcmpTooBig.
uint32_t BuildIcmpTimeExceeded(uint8_t* out, uint32_t cap, MacAddr src_mac, MacAddr dst_mac,
                               IpAddr src_ip, const uint8_t* orig_ip,
                               uint32_t orig_ip_len) noexcept;

// True when an ICMP error may be sent about the IP packet `orig_ip`
// (RFC 1122 3.2.2, RFC 4443 2.4 e): not about an ICMP error message, a later
// fragment, or a packet to a multicast or broadcast address.
bool MayAnswerWithIcmpError(const uint8_t* frame, const ParsedFrame& pf) noexcept;

// If the TCP segment at `tcp` (tcp_len bytes) is a SYN (or SYN-ACK) with an
// MSS option above max_mss, lowers it and fixes the TCP checksum incrementally
// (the pseudo header does not change). Options are walked within the data
// offset; a malformed option stops the walk. Returns true if it changed the
// segment.
bool ClampTcpMss(uint8_t* tcp, uint32_t tcp_len, uint16_t max_mss) noexcept;

}  // namespace hnv
