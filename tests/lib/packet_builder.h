// A fluent builder of test frames, outermost layer first:
//
//   PacketBuilder().Eth(a, b).Vlan(5).Ipv4(pa1, pa2).Nvgre(6000, 0)
//       .Eth(c, d).Ipv4(ca1, ca2).Icmp().Payload(32).Build();
//
// Each layer's "next protocol" field (EtherType, VLAN EtherType, IP protocol /
// next header, GRE protocol) is taken from the layer that follows unless given
// explicitly. Build() then fills every length (IPv4 total length, IPv6 payload
// length, UDP length) up to the end of the frame and every checksum (IPv4
// header, ICMP, ICMPv6, UDP, TCP), innermost first, so a frame is valid unless
// the test corrupts it afterwards. Bytes from Trailer() come after everything
// and are counted by no length field (Ethernet padding).
//
// Misuse (Ttl() with no IP layer, Icmp() over IPv6...) aborts with a message:
// a test that builds the wrong frame must not pass quietly.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "dataplane/packet/headers.h"

namespace hnv::test {

// Parse helpers for tests: abort on bad input.
MacAddr Mac(std::string_view s);
IpAddr Ip(std::string_view s);

class PacketBuilder {
 public:
  // ether_type: 0 = from the next layer (0x88b5, local experimental, if none).
  PacketBuilder& Eth(MacAddr dst, MacAddr src, uint16_t ether_type = 0);
  // An 802.1Q tag; `tpid` is written in the previous layer's EtherType
  // (0x88a8 for a QinQ outer tag).
  PacketBuilder& Vlan(uint16_t vid, uint8_t pcp = 0, uint16_t tpid = kEtherTypeVlan);
  PacketBuilder& Arp(uint16_t oper, MacAddr sha, IpAddr spa, MacAddr tha, IpAddr tpa);
  // proto: unset = from the next layer (253, experimental, if none).
  PacketBuilder& Ipv4(IpAddr src, IpAddr dst, std::optional<uint8_t> proto = std::nullopt);
  PacketBuilder& Ipv6(IpAddr src, IpAddr dst, std::optional<uint8_t> next_header = std::nullopt);
  // Modifiers of the most recent IP layer.
  PacketBuilder& Ttl(uint8_t ttl);  // hop limit for IPv6
  PacketBuilder& DontFragment();
  PacketBuilder& Ipv4Id(uint16_t id);
  // IPv4 fragment fields: offset in bytes (a multiple of 8), more-fragments.
  PacketBuilder& Ipv4Frag(uint16_t offset_bytes, bool more);
  // IPv4 options (padded with zeros to a multiple of 4 bytes; IHL follows).
  PacketBuilder& Ipv4Options(std::vector<uint8_t> options);
  // An IPv6 fragment header; must follow Ipv6().
  PacketBuilder& Ipv6Frag(uint16_t offset_bytes, bool more, uint32_t id = 0x1234);

  // NVGRE: GRE with K=1, protocol 0x6558, key VSID << 8 | FlowID.
  PacketBuilder& Nvgre(uint32_t vsid, uint8_t flow_id = 0);
  // Raw GRE for malformed cases: flags/version and protocol as given, the key
  // word only when `key` is set (whatever the K bit says).
  PacketBuilder& Gre(uint16_t flags_version, uint16_t proto, std::optional<uint32_t> key);

  // ICMPv4 (default an echo request, id 0x1234 seq 1) and ICMPv6.
  PacketBuilder& Icmp(uint8_t type = kIcmpEchoRequest, uint8_t code = 0,
                      uint32_t rest = 0x12340001);
  PacketBuilder& Icmp6(uint8_t type = kIcmp6EchoRequest, uint8_t code = 0,
                       uint32_t rest = 0x12340001);
  PacketBuilder& Udp(uint16_t src_port, uint16_t dst_port);
  // TCP with an optional MSS option (then the header is 24 bytes).
  PacketBuilder& Tcp(uint16_t src_port, uint16_t dst_port, uint8_t flags,
                     std::optional<uint16_t> mss = std::nullopt);
  // TCP with raw option bytes, zero-padded to a multiple of 4.
  PacketBuilder& TcpWithOptions(uint16_t src_port, uint16_t dst_port, uint8_t flags,
                                std::vector<uint8_t> options);

  // n bytes of a counting pattern, or the given bytes.
  PacketBuilder& Payload(size_t n);
  PacketBuilder& Payload(std::vector<uint8_t> bytes);
  // Bytes after the last layer counted by no length field.
  PacketBuilder& Trailer(size_t n);

  std::vector<uint8_t> Build() const;

 private:
  enum class Kind : uint8_t {
    kEth,
    kVlan,
    kArp,
    kIpv4,
    kIpv6,
    kIpv6Frag,
    kGre,
    kIcmp,
    kIcmp6,
    kUdp,
    kTcp,
    kPayload
  };
  struct Layer {
    Kind kind;
    MacAddr mac1{}, mac2{};
    IpAddr ip1{}, ip2{};
    uint32_t u1 = 0, u2 = 0, u3 = 0;  // per-kind fields, see the .cc
    int next = -1;                    // explicit next protocol, -1 = derive
    uint8_t ttl = 64;
    bool df = false;
    bool has_key = false;
    std::vector<uint8_t> bytes;  // payload, IPv4/TCP options
  };
  Layer& Add(Kind k);
  Layer& LastIp(const char* what);
  uint16_t NextProto(size_t i) const;

  std::vector<Layer> layers_;
  size_t trailer_ = 0;
};

}  // namespace hnv::test
