// Shared by the pipeline tests: the chapter's names and addresses as
// constants, policy additions some flows need (made on a copy of a fixture,
// never in the fixtures), frame builders for ARP / ND / NVGRE, and
// comparison of transmitted frames with a layer-by-layer diff on failure.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/packet/parse.h"
#include "dataplane/policy/model.h"
#include "tests/lib/chapter_policy.h"
#include "tests/lib/frame_diff.h"
#include "tests/lib/packet_builder.h"
#include "tests/lib/pipeline_harness.h"

namespace hnv::test::pipe {

using Frame = std::vector<uint8_t>;

// ---- the chapter's lab (DESIGN §6) ------------------------------------------

inline const IpAddr kPa1 = Ip("192.168.0.22");  // Host 1
inline const IpAddr kPa2 = Ip("192.168.0.33");  // Host 2
inline const IpAddr kPaGw = Ip("192.168.0.11");  // gateway host
// The PAs' MACs as the fixtures have them (Host 1's is not the chapter's
// multicast 334455667788, see chapter_policy.h).
inline const MacAddr kPa1Mac = ChapterHost1().provider_addresses.at(0).mac;
inline const MacAddr kPa2Mac = ChapterHost2().provider_addresses.at(0).mac;
inline const MacAddr kPaGwMac = ChapterGatewayHost().provider_addresses.at(0).mac;
// What the provider next hops resolve to in tests that do not care.
inline const MacAddr kRouterMac = Mac("02aabbccdd01");

inline const IpAddr kC1 = Ip("10.0.1.101");
inline const IpAddr kC2 = Ip("10.0.1.102");
inline const IpAddr kC3 = Ip("10.0.1.103");
inline const IpAddr kDfgw6000 = Ip("10.0.1.1");
inline const IpAddr kDfgw6001 = Ip("10.0.2.1");
inline const IpAddr kMtGw = Ip("10.0.2.2");
inline const IpAddr kPhysical = Ip("10.1.3.100");
inline const MacAddr kC1Mac = Mac("600060000101");
inline const MacAddr kC2Mac = Mac("600060000102");
inline const MacAddr kC3Mac = Mac("600060000203");
inline const MacAddr kDfgw6000Mac = Mac("600060000100");
inline const MacAddr kDfgw6001Mac = Mac("600160010300");
inline const MacAddr kMtGwMac = Mac("600160010301");

// Ports: the uplink is 0; Host 1 Contoso1 = 1, Contoso2 = 2; Host 2
// Contoso3 = 1; gateway host MT-GW = 1 (chapter_policy.h).
inline constexpr uint16_t kUplink = kChapterUplinkPort;
inline constexpr uint16_t kC1Port = 1;
inline constexpr uint16_t kC2Port = 2;
inline constexpr uint16_t kC3Port = 1;
inline constexpr uint16_t kMtGwPort = 1;

// Fabrikam, the IPv6 tenant (ChapterHost1V6 / ChapterHost2V6): VSID 7000
// fd00:1::/64, Fabrikam1 and Fabrikam2 on Host 1 (ports 3 and 4).
inline const IpAddr kF1 = Ip("fd00:1::101");
inline const IpAddr kF2 = Ip("fd00:1::102");
inline const MacAddr kF1Mac = Mac("700070000101");
inline const MacAddr kF2Mac = Mac("700070000102");
inline constexpr uint16_t kF1Port = 3;
inline constexpr uint16_t kF2Port = 4;

// Our addition (flows 2 and 5): VSID 6002, 10.0.3.0/24, in Contoso's routing
// domain; Contoso4 on Host 1 (port 3), Contoso5 on Host 2 (port 2).
inline constexpr uint32_t kVsid6002 = 6002;
inline const IpAddr kDfgw6002 = Ip("10.0.3.1");
inline const MacAddr kDfgw6002Mac = Mac("600260020100");
inline const IpAddr kC4 = Ip("10.0.3.104");
inline const MacAddr kC4Mac = Mac("600260020104");
inline const IpAddr kC5 = Ip("10.0.3.105");
inline const MacAddr kC5Mac = Mac("600260020205");
inline constexpr uint16_t kC4Port = 3;  // Host 1
inline constexpr uint16_t kC5Port = 2;  // Host 2

inline LookupRecord MakeRecord(const IpAddr& ca, uint32_t vsid, const MacAddr& mac, const IpAddr& pa,
                               RecordType type = RecordType::kStatic) {
  LookupRecord r;
  r.ca = ca;
  r.vsid = vsid;
  r.mac = mac;
  r.pa = pa;
  r.type = type;
  return r;
}

inline const IpAddr& LocalPa(const Policy& p) { return p.provider_addresses.at(0).address; }

// Adds VSID 6002 to a chapter host policy (Contoso's RD).
inline void AddVsid6002(Policy* p) {
  const IpAddr local = LocalPa(*p);
  p->subnets.push_back(VirtualSubnet{kVsid6002, ContosoRdid(), {Prefix("10.0.3.0/24")}});
  CustomerRoute r;
  r.rdid = ContosoRdid();
  r.vsid = kVsid6002;
  r.destination = Prefix("10.0.3.0/24");
  r.next_hop = Ip("0.0.0.0");
  p->customer_routes.push_back(r);
  p->records.push_back(MakeRecord(kDfgw6002, kVsid6002, kDfgw6002Mac, local));
  p->records.push_back(MakeRecord(kC4, kVsid6002, kC4Mac, kPa1));
  p->records.push_back(MakeRecord(kC5, kVsid6002, kC5Mac, kPa2));
  if (local == kPa1) p->vm_ports.push_back(VmPort{"Contoso4", kC4Port, kC4Mac, kVsid6002});
  if (local == kPa2) p->vm_ports.push_back(VmPort{"Contoso5", kC5Port, kC5Mac, kVsid6002});
}

// Replaces the record of `ca` on `vsid` by `r` (which may have another id).
inline void ReplaceRecord(Policy* p, uint32_t vsid, const IpAddr& ca, const LookupRecord& r) {
  for (LookupRecord& x : p->records) {
    if (x.vsid == vsid && x.ca == ca) {
      x = r;
      return;
    }
  }
  ADD_FAILURE() << "no record " << ca.ToString() << " on " << vsid;
}

// ---- frames ------------------------------------------------------------------

inline Frame ArpRequest(const MacAddr& sha, const IpAddr& spa, const IpAddr& tpa) {
  return PacketBuilder().Eth(MacAddr::Broadcast(), sha).Arp(kArpRequest, sha, spa, MacAddr{}, tpa).Build();
}
inline Frame ArpReply(const MacAddr& sha, const IpAddr& spa, const MacAddr& tha, const IpAddr& tpa) {
  return PacketBuilder().Eth(tha, sha).Arp(kArpReply, sha, spa, tha, tpa).Build();
}

inline std::vector<uint8_t> Bytes(const IpAddr& a) {
  return std::vector<uint8_t>(a.b.begin(), a.b.begin() + (a.is_v4() ? 4 : 16));
}
inline std::vector<uint8_t> Bytes(const MacAddr& m) { return {m.b.begin(), m.b.end()}; }

// The ND message body after the 4-byte ICMPv6 header's flags word: the
// target and one link-layer address option.
inline std::vector<uint8_t> NdBody(const IpAddr& target, uint8_t opt_type, const MacAddr& mac) {
  std::vector<uint8_t> b = Bytes(target);
  b.push_back(opt_type);
  b.push_back(1);
  b.insert(b.end(), mac.b.begin(), mac.b.end());
  return b;
}

inline IpAddr SolicitedNode(const IpAddr& target) {
  IpAddr g = Ip("ff02::1:ff00:0");
  std::memcpy(g.b.data() + 13, target.b.data() + 13, 3);
  return g;
}
inline MacAddr SolicitedNodeMac(const IpAddr& target) {
  return MacAddr{{0x33, 0x33, 0xff, target.b[13], target.b[14], target.b[15]}};
}

// Neighbour solicitation from (mac, src) for `target` to its solicited-node
// group, with a source link-layer option. `vlan` 0 = untagged.
inline Frame NeighborSolicit(const MacAddr& mac, const IpAddr& src, const IpAddr& target,
                             uint16_t vlan = 0) {
  PacketBuilder b;
  b.Eth(SolicitedNodeMac(target), mac);
  if (vlan != 0) b.Vlan(vlan);
  return b.Ipv6(src, SolicitedNode(target))
      .Ttl(255)
      .Icmp6(kIcmp6NeighborSolicit, 0, 0)
      .Payload(NdBody(target, kNdOptSourceLinkAddr, mac))
      .Build();
}

// Neighbour advertisement "target is at mac", solicited, to (to_mac, to_ip).
inline Frame NeighborAdvert(const MacAddr& mac, const IpAddr& target, const MacAddr& to_mac,
                            const IpAddr& to_ip, bool router, uint16_t vlan = 0) {
  PacketBuilder b;
  b.Eth(to_mac, mac);
  if (vlan != 0) b.Vlan(vlan);
  const uint32_t flags = kNaSolicited | kNaOverride | (router ? kNaRouter : 0);
  return b.Ipv6(target, to_ip)
      .Ttl(255)
      .Icmp6(kIcmp6NeighborAdvert, 0, flags)
      .Payload(NdBody(target, kNdOptTargetLinkAddr, mac))
      .Build();
}

// An ICMP echo request between two CAs.
inline Frame Ping(const MacAddr& dst_mac, const MacAddr& src_mac, const IpAddr& src,
                  const IpAddr& dst, size_t payload = 32, uint8_t ttl = 64) {
  PacketBuilder b;
  b.Eth(dst_mac, src_mac);
  if (src.is_v4()) {
    b.Ipv4(src, dst).Ttl(ttl).Icmp();
  } else {
    b.Ipv6(src, dst).Ttl(ttl).Icmp6();
  }
  return b.Payload(payload).Build();
}

// `inner` NVGRE-encapsulated from PA `src` (MAC src_mac) to PA `dst` (MAC dst_mac).
inline Frame Encap(const MacAddr& dst_mac, const MacAddr& src_mac, const IpAddr& src,
                   const IpAddr& dst, uint32_t vsid, uint8_t flow_id, const Frame& inner,
                   uint16_t vlan = 0) {
  PacketBuilder b;
  b.Eth(dst_mac, src_mac);
  if (vlan != 0) b.Vlan(vlan);
  if (src.is_v4()) {
    b.Ipv4(src, dst).DontFragment();
  } else {
    b.Ipv6(src, dst);
  }
  return b.Nvgre(vsid, flow_id).Payload(inner).Build();
}

// Big-endian fields read byte by byte: frames sit at any alignment, and a
// member call on a misaligned Be32 is undefined behaviour (UBSan says so).
inline uint16_t U16At(const Frame& f, size_t off) {
  return static_cast<uint16_t>(f.at(off) << 8 | f.at(off + 1));
}
inline uint32_t U32At(const Frame& f, size_t off) {
  return static_cast<uint32_t>(U16At(f, off)) << 16 | U16At(f, off + 2);
}

inline ParsedFrame Parse(const Frame& f) {
  ParsedFrame pf;
  EXPECT_EQ(ParseFrame(f.data(), static_cast<uint32_t>(f.size()), &pf), ParseError::kOk)
      << DescribeFrame(f);
  return pf;
}

// ---- comparing what was transmitted -------------------------------------------

inline std::vector<Frame> OnPort(const std::vector<TxFrame>& tx, uint16_t port) {
  std::vector<Frame> out;
  for (const TxFrame& t : tx)
    if (t.port == port) out.push_back(t.bytes);
  return out;
}

inline std::string DescribeTx(const std::vector<TxFrame>& tx) {
  std::string s;
  for (const TxFrame& t : tx) s += "port " + std::to_string(t.port) + ":\n" + DescribeFrame(t.bytes);
  return s.empty() ? "(nothing)\n" : s;
}

// Expects exactly `want` (port, bytes) in any port order, the frames of one
// port in the order given.
inline void ExpectTx(const std::vector<TxFrame>& got, const std::vector<TxFrame>& want) {
  auto by_port = [](std::vector<TxFrame> v) {
    std::stable_sort(v.begin(), v.end(),
                     [](const TxFrame& a, const TxFrame& b) { return a.port < b.port; });
    return v;
  };
  const std::vector<TxFrame> g = by_port(got), w = by_port(want);
  ASSERT_EQ(g.size(), w.size()) << "transmitted:\n" << DescribeTx(got) << "expected:\n"
                                << DescribeTx(want);
  for (size_t i = 0; i < g.size(); ++i) {
    EXPECT_EQ(g[i].port, w[i].port) << "frame " << i << "\ntransmitted:\n" << DescribeTx(got);
    EXPECT_TRUE(g[i].bytes == w[i].bytes) << "frame " << i << " on port " << w[i].port << ":\n"
                                          << FrameDiff(w[i].bytes, g[i].bytes);
  }
}

inline void ExpectNothing(const std::vector<TxFrame>& got) {
  EXPECT_TRUE(got.empty()) << "transmitted:\n" << DescribeTx(got);
}

// Exactly one drop, for `why`.
inline void ExpectOnlyDrop(const PipelineHarness& h, Drop why) {
  EXPECT_EQ(h.drops(why), 1u) << DropName(why);
  EXPECT_EQ(h.total_drops(), 1u);
  if (h.total_drops() != h.drops(why)) {
    for (uint16_t d = 0; d < kDropCount; ++d)
      if (h.drops(static_cast<Drop>(d)) != 0)
        ADD_FAILURE() << "also dropped: " << DropName(static_cast<Drop>(d)) << " x"
                      << h.drops(static_cast<Drop>(d));
  }
}

}  // namespace hnv::test::pipe
