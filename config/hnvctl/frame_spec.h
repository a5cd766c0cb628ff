// `hnvctl trace PORT --describe '...'`: a frame written as layers, built into
// bytes on the client, so a trace needs no hex editor.
//
//   eth src=60:00:60:00:01:01 dst=ff:ff:ff:ff:ff:ff / arp spa=10.0.1.101 tpa=10.0.1.1
//   eth src=600060000101 dst=600060000100 / ipv4 src=10.0.1.101 dst=10.0.2.2 / icmp
//   eth src=.. dst=.. / ipv6 src=fd00::65 dst=fd00::66 / tcp sport=40000 dport=80 flags=S mss=1460
//   eth src=.. dst=.. / ipv4 src=192.168.0.33 dst=192.168.0.22 / nvgre vsid=6000
//       / eth src=.. dst=.. / ipv4 src=10.0.1.103 dst=10.0.1.101 / udp sport=5000 dport=53 /
//       payload len=32
//
// Layers are separated by '/', each is a name and key=value pairs (no spaces
// inside a value). Lengths, EtherTypes, protocol numbers and checksums follow
// from the layers; give a key only to override. Keys and defaults:
//   eth     src (02:00:00:00:00:01), dst (ff:ff:ff:ff:ff:ff), type (from the next layer)
//   vlan    id (required), pcp (0), type (from the next layer)
//   arp     op (request | reply | number; request), sha (eth src), spa (required),
//           tha (00:00:00:00:00:00 for a request, eth dst for a reply), tpa (required)
//   ipv4    src, dst (required), ttl (64), proto (from the next layer), id (0),
//           df (0 | 1; 0), tos (0)
//   ipv6    src, dst (required), hlim (64), next (from the next layer), tc (0), flow (0)
//   icmp    type (echo-request | echo-reply | number; echo-request), code (0),
//           id (0), seq (0)
//   icmp6   type (echo-request | echo-reply | rs | ns | na | number; echo-request),
//           code (0), id (0), seq (0), target (ns, na: required),
//           lladdr (ns: source, na: target link-layer option; eth src; "none" omits it),
//           flags (na: letters of r s o; so)
//   udp     sport, dport (required)
//   tcp     sport, dport (required), flags (letters of F S R P A U; S), seq (0),
//           ack (0), win (65535), mss (none: no option)
//   nvgre   vsid (required), flowid (0); the next layer is the inner eth
//   payload len=N (bytes 00 01 02 ...) | hex=0a0b.. | text=abc; the last layer
// Numbers are decimal or 0x-hex. Frames are not padded to 60 bytes.
//
// Thread: any; pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hnv::ctl {

struct FrameResult {
  std::vector<uint8_t> bytes;
  std::string error;  // "ipv4: src: \"10.0.1\" is not an IPv4 address"; empty on success
};

FrameResult BuildFrameFromDescription(std::string_view description);

// "60 00 60..." / "600060..." / "60:00:.." -> bytes; false on odd length or a non-hex digit.
bool ParseHexBytes(std::string_view text, std::vector<uint8_t>* out);
std::string ToHex(const std::vector<uint8_t>& bytes);

}  // namespace hnv::ctl
