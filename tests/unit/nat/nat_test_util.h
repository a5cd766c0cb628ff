// Shared by the nat/ unit tests: the addresses of a small NAT scene, frame
// helpers, and a runner that passes one frame through a NatWorker.
//
// The scene: inside hosts 10.0.1.101/102 (the VM network 10.0.1.0/24), the
// NAT's pool 198.51.100.1-2 (198.51.100.1 also the compartment's own
// address), static NAT 198.51.100.20 <-> 10.0.1.120, a port forward
// 198.51.100.1:8080/tcp <-> 10.0.1.102:80, remote hosts 203.0.113.10/11 and
// a router 192.0.2.254 that sends ICMP errors. Documentation prefixes
// (RFC 5737): these frames exist only in memory.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nat/nat44.h"
#include "nat/nat_rules.h"
#include "tests/lib/frame_diff.h"
#include "tests/lib/packet_builder.h"

namespace hnv::nat::test {

using hnv::test::Ip;
using hnv::test::Mac;
using hnv::test::PacketBuilder;
using Bytes = std::vector<uint8_t>;

inline const MacAddr kMacA = Mac("600060000101");
inline const MacAddr kMacB = Mac("600160010302");
inline const IpAddr kHost1 = Ip("10.0.1.101");
inline const IpAddr kHost2 = Ip("10.0.1.102");
inline const IpAddr kStaticIn = Ip("10.0.1.120");
inline const IpAddr kPool1 = Ip("198.51.100.1");
inline const IpAddr kPool2 = Ip("198.51.100.2");
inline const IpAddr kStaticExt = Ip("198.51.100.20");
inline const IpAddr kRemote1 = Ip("203.0.113.10");
inline const IpAddr kRemote2 = Ip("203.0.113.11");
inline const IpAddr kRouter = Ip("192.0.2.254");

inline uint32_t Raw(const IpAddr& a) { return Load32(a.b.data()); }
inline uint16_t RawPort(uint16_t p) { return Be16::FromHost(p).raw(); }
inline uint16_t HostPort(uint16_t raw) { return Be16::FromRaw(raw).ToHost(); }
inline Endpoint Ep(const IpAddr& a, uint16_t port) { return Endpoint{Raw(a), RawPort(port)}; }

inline NatSpec SceneSpec(Filtering filtering = Filtering::kAddressAndPortDependent) {
  NatSpec s;
  s.enabled = true;
  s.addresses = {kPool1, kPool2};
  s.internal = {*IpPrefix::Parse("10.0.1.0/24")};
  s.filtering = filtering;
  s.static_nat = {StaticNat{kStaticExt, kStaticIn}};
  s.port_forwards = {PortForward{kIpProtoTcp, kPool1, 8080, kHost2, 80}};
  s.limits = NatLimits{4096, 1024, 256};
  return s;
}

// IP packet bytes of a frame (the Ethernet header cut off), truncated to
// `keep` bytes: what an ICMP error embeds.
inline Bytes Embedded(const Bytes& frame, size_t keep) {
  return Bytes(frame.begin() + 14, frame.begin() + 14 + std::min(keep, frame.size() - 14));
}

// An ICMP error from `from` to `to` (type/code) embedding `inner`.
inline Bytes IcmpError(const IpAddr& from, const IpAddr& to, uint8_t type, uint8_t code,
                       const Bytes& inner) {
  return PacketBuilder().Eth(kMacB, kMacA).Ipv4(from, to).Icmp(type, code, 0).Payload(inner)
      .Build();
}

// A NatWorker (worker `worker` of `workers`) with its rules.
struct NatRig {
  explicit NatRig(const NatSpec& spec, uint32_t worker = 0, uint32_t workers = 1,
                  std::vector<IpAddr> local = {Ip("198.51.100.1")}) {
    std::string error;
    rules = NatRules::Build(spec, local, &error);
    EXPECT_TRUE(rules) << error;
    EXPECT_TRUE(nat.Init(spec, rules ? rules->pool_size() : 0, worker, workers, 42, &error))
        << error;
  }
  // One frame through a direction; the frame is rewritten in place.
  Verdict Out(Bytes& f, uint64_t now = 1000) {
    Frame fr{f.data(), static_cast<uint32_t>(f.size())};
    Verdict v;
    nat.Outbound(*rules, &fr, 1, now, &v);
    return v;
  }
  Verdict In(Bytes& f, uint64_t now = 1000) {
    Frame fr{f.data(), static_cast<uint32_t>(f.size())};
    Verdict v;
    nat.Inbound(*rules, &fr, 1, now, &v);
    return v;
  }
  std::unique_ptr<NatRules> rules;
  NatWorker nat;
};

// The external end a translated outbound frame left with.
inline Endpoint SourceOf(const Bytes& f) {
  PacketView v;
  Bytes copy = f;
  ViewPacket(copy.data(), static_cast<uint32_t>(copy.size()), &v);
  return v.src;
}

inline std::string Describe(const Verdict& v) {
  return std::string(EdgeName(v.edge)) + (v.edge == Edge::kDrop ? std::string("/") + DropName(v.drop) : "");
}

}  // namespace hnv::nat::test
