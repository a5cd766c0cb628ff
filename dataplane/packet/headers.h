// Wire headers as packed structs with big-endian field types. Each struct's
// size is asserted; they are only ever read through pointers that the parser
// (parse.h) has bounds-checked against the frame's data length.
#pragma once

#include <cstdint>

#include "dataplane/packet/types.h"

namespace hnv {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;
inline constexpr uint16_t kEtherTypeQinQ = 0x88a8;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
inline constexpr uint16_t kEtherTypeTeb = 0x6558;  // transparent Ethernet bridging (NVGRE)

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoGre = 47;
inline constexpr uint8_t kIpProtoIcmp6 = 58;

#pragma pack(push, 1)

struct EthHdr {
  MacAddr dst;
  MacAddr src;
  Be16 ether_type;
};
static_assert(sizeof(EthHdr) == 14);

struct VlanTag {
  Be16 tci;  // PCP(3) DEI(1) VID(12)
  Be16 ether_type;
  uint16_t vid() const { return tci.ToHost() & 0x0fff; }
};
static_assert(sizeof(VlanTag) == 4);

struct ArpHdr {
  Be16 htype;    // 1 = Ethernet
  Be16 ptype;    // 0x0800
  uint8_t hlen;  // 6
  uint8_t plen;  // 4
  Be16 oper;     // 1 request, 2 reply
  MacAddr sha;
  uint8_t spa[4];
  MacAddr tha;
  uint8_t tpa[4];
};
static_assert(sizeof(ArpHdr) == 28);
inline constexpr uint16_t kArpRequest = 1;
inline constexpr uint16_t kArpReply = 2;

struct Ipv4Hdr {
  uint8_t version_ihl;
  uint8_t tos;
  Be16 total_length;
  Be16 id;
  Be16 frag;  // flags(3) + offset(13)
  uint8_t ttl;
  uint8_t protocol;
  Be16 checksum;
  uint8_t src[4];
  uint8_t dst[4];

  uint8_t ihl_bytes() const { return static_cast<uint8_t>((version_ihl & 0x0f) * 4); }
  uint8_t version() const { return version_ihl >> 4; }
  bool dont_fragment() const { return (frag.ToHost() & 0x4000) != 0; }
  bool is_fragment() const { return (frag.ToHost() & 0x3fff) != 0; }  // MF or offset
};
static_assert(sizeof(Ipv4Hdr) == 20);
inline constexpr uint16_t kIpv4DontFragment = 0x4000;

struct Ipv6Hdr {
  Be32 vtc_flow;  // version(4) traffic class(8) flow label(20)
  Be16 payload_length;
  uint8_t next_header;
  uint8_t hop_limit;
  uint8_t src[16];
  uint8_t dst[16];
  uint8_t version() const { return static_cast<uint8_t>(vtc_flow.ToHost() >> 28); }
};
static_assert(sizeof(Ipv6Hdr) == 40);
inline constexpr uint8_t kIpv6NextFragment = 44;

struct Ipv6FragHdr {
  uint8_t next_header;
  uint8_t reserved;
  Be16 offset_flags;
  Be32 id;
};
static_assert(sizeof(Ipv6FragHdr) == 8);

struct IcmpHdr {
  uint8_t type;
  uint8_t code;
  Be16 checksum;
  Be32 rest;  // echo: id + seq; frag-needed: unused(16) + next-hop MTU(16)
};
static_assert(sizeof(IcmpHdr) == 8);
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpFragNeeded = 4;  // code of kIcmpDestUnreachable
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;

inline constexpr uint8_t kIcmp6PacketTooBig = 2;
inline constexpr uint8_t kIcmp6TimeExceeded = 3;
inline constexpr uint8_t kIcmp6EchoRequest = 128;
inline constexpr uint8_t kIcmp6EchoReply = 129;
inline constexpr uint8_t kIcmp6RouterSolicit = 133;
inline constexpr uint8_t kIcmp6NeighborSolicit = 135;
inline constexpr uint8_t kIcmp6NeighborAdvert = 136;

// Neighbour solicitation / advertisement body after the 4-byte ICMPv6 header.
struct NdHdr {
  uint8_t type;
  uint8_t code;
  Be16 checksum;
  Be32 flags;  // NA: R(31) S(30) O(29)
  uint8_t target[16];
};
static_assert(sizeof(NdHdr) == 24);
inline constexpr uint32_t kNaRouter = 0x80000000u;
inline constexpr uint32_t kNaSolicited = 0x40000000u;
inline constexpr uint32_t kNaOverride = 0x20000000u;

struct NdOptLinkAddr {
  uint8_t type;  // 1 source, 2 target link-layer address
  uint8_t len;   // in units of 8 bytes: 1
  MacAddr mac;
};
static_assert(sizeof(NdOptLinkAddr) == 8);
inline constexpr uint8_t kNdOptSourceLinkAddr = 1;
inline constexpr uint8_t kNdOptTargetLinkAddr = 2;

struct UdpHdr {
  Be16 src_port;
  Be16 dst_port;
  Be16 length;
  Be16 checksum;
};
static_assert(sizeof(UdpHdr) == 8);

struct TcpHdr {
  Be16 src_port;
  Be16 dst_port;
  Be32 seq;
  Be32 ack;
  uint8_t data_off;  // upper 4 bits: header length in 32-bit words
  uint8_t flags;
  Be16 window;
  Be16 checksum;
  Be16 urgent;
  uint8_t header_bytes() const { return static_cast<uint8_t>((data_off >> 4) * 4); }
};
static_assert(sizeof(TcpHdr) == 20);
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpOptEnd = 0;
inline constexpr uint8_t kTcpOptNop = 1;
inline constexpr uint8_t kTcpOptMss = 2;

// NVGRE (RFC 7637): GRE with C=0, K=1, S=0, version 0, protocol 0x6558; the key
// is VSID(24) << 8 | FlowID(8).
struct NvgreHdr {
  Be16 flags_version;  // 0x2000 for a valid NVGRE header
  Be16 protocol;       // 0x6558
  Be32 key;
  uint32_t vsid() const { return key.ToHost() >> 8; }
  uint8_t flow_id() const { return static_cast<uint8_t>(key.ToHost() & 0xff); }
};
static_assert(sizeof(NvgreHdr) == 8);
inline constexpr uint16_t kGreFlagChecksum = 0x8000;
inline constexpr uint16_t kGreFlagRouting = 0x4000;
inline constexpr uint16_t kGreFlagKey = 0x2000;
inline constexpr uint16_t kGreFlagSeq = 0x1000;
inline constexpr uint16_t kGreVersionMask = 0x0007;
inline constexpr uint16_t kNvgreFlags = kGreFlagKey;
inline constexpr uint32_t NvgreKey(uint32_t vsid, uint8_t flow_id) { return (vsid << 8) | flow_id; }

#pragma pack(pop)

// NVGRE overhead on the underlay MTU: outer IP + GRE with key + inner Ethernet.
inline constexpr uint32_t kNvgreOverheadV4 = sizeof(Ipv4Hdr) + sizeof(NvgreHdr) + sizeof(EthHdr);
inline constexpr uint32_t kNvgreOverheadV6 = sizeof(Ipv6Hdr) + sizeof(NvgreHdr) + sizeof(EthHdr);
static_assert(kNvgreOverheadV4 == 42 && kNvgreOverheadV6 == 62);

}  // namespace hnv
