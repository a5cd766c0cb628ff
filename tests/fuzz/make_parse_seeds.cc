// Writes the seed corpus of parse_fuzz (tests/fuzz/corpus/parse/): one small
// frame of each kind ParseFrame and the builders distinguish. The files are
// committed; run this again only when the set of seeds should change.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "tests/lib/packet_builder.h"

using hnv::kArpReply;
using hnv::kArpRequest;
using hnv::kEtherTypeQinQ;
using hnv::kIcmp6EchoRequest;
using hnv::kIcmp6NeighborSolicit;
using hnv::kTcpSyn;
using hnv::MacAddr;
using hnv::test::Ip;
using hnv::test::Mac;
using hnv::test::PacketBuilder;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output directory>\n", argv[0]);
    return 2;
  }
  const MacAddr vm1 = Mac("600060000101"), vm3 = Mac("600060000103");
  const MacAddr pa1 = Mac("00155d000022"), pa2 = Mac("00155d000033");
  const auto ca1 = Ip("10.0.1.101"), ca3 = Ip("10.0.1.103");
  const auto pa_ip1 = Ip("192.168.0.22"), pa_ip2 = Ip("192.168.0.33");
  const auto v6a = Ip("fd00:1::65"), v6b = Ip("fd00:1::67");

  std::vector<std::pair<std::string, std::vector<uint8_t>>> seeds = {
      {"arp_request",
       PacketBuilder().Eth(MacAddr::Broadcast(), vm1).Arp(kArpRequest, vm1, ca1, {}, ca3).Build()},
      {"arp_reply_vlan",
       PacketBuilder().Eth(vm1, vm3).Vlan(5).Arp(kArpReply, vm3, ca3, vm1, ca1).Build()},
      {"icmp4_echo", PacketBuilder().Eth(vm3, vm1).Ipv4(ca1, ca3).Icmp().Payload(16).Build()},
      {"icmp4_echo_options", PacketBuilder()
                                 .Eth(vm3, vm1)
                                 .Ipv4(ca1, ca3)
                                 .Ipv4Options({1, 1, 1, 0})
                                 .Icmp()
                                 .Payload(4)
                                 .Build()},
      {"tcp4_syn_mss", PacketBuilder()
                           .Eth(vm3, vm1)
                           .Ipv4(ca1, ca3)
                           .DontFragment()
                           .Tcp(40000, 80, kTcpSyn, 1460)
                           .Build()},
      {"tcp4_syn_mss_odd",
       PacketBuilder()
           .Eth(vm3, vm1)
           .Ipv4(ca1, ca3)
           .TcpWithOptions(40000, 80, kTcpSyn, {1, 2, 4, 0x05, 0xb4, 1, 3, 3, 7})
           .Build()},
      {"udp4_vlan", PacketBuilder()
                        .Eth(vm3, vm1)
                        .Vlan(100)
                        .Ipv4(ca1, ca3)
                        .Udp(5000, 53)
                        .Payload(12)
                        .Trailer(6)
                        .Build()},
      {"ipv4_fragment",
       PacketBuilder().Eth(vm3, vm1).Ipv4(ca1, ca3, 17).Ipv4Frag(1480, false).Payload(9).Build()},
      {"nvgre_icmp", PacketBuilder()
                         .Eth(pa2, pa1)
                         .Ipv4(pa_ip1, pa_ip2)
                         .Nvgre(6000, 1)
                         .Eth(vm3, vm1)
                         .Ipv4(ca1, ca3)
                         .Icmp()
                         .Build()},
      {"nvgre6_tcp", PacketBuilder()
                         .Eth(pa2, pa1)
                         .Ipv6(Ip("fd00:a::22"), Ip("fd00:a::33"))
                         .Nvgre(6001)
                         .Eth(vm3, vm1)
                         .Ipv4(ca1, ca3)
                         .Tcp(1, 2, kTcpSyn, 8960)
                         .Build()},
      {"icmp6_echo",
       PacketBuilder().Eth(vm3, vm1).Ipv6(v6a, v6b).Icmp6(kIcmp6EchoRequest).Payload(8).Build()},
      {"icmp6_ns", PacketBuilder()
                       .Eth(Mac("3333ff000067"), vm1)
                       .Ipv6(v6a, Ip("ff02::1:ff00:67"))
                       .Ttl(255)
                       .Icmp6(kIcmp6NeighborSolicit, 0, 0)
                       .Payload(24)
                       .Build()},
      {"tcp6_syn_mss",
       PacketBuilder().Eth(vm3, vm1).Ipv6(v6a, v6b).Tcp(1, 443, kTcpSyn, 1440).Build()},
      {"ipv6_first_fragment",
       PacketBuilder().Eth(vm3, vm1).Ipv6(v6a, v6b).Ipv6Frag(0, true).Udp(1, 2).Payload(8).Build()},
      {"double_vlan", PacketBuilder()
                          .Eth(vm3, vm1)
                          .Vlan(1, 0, kEtherTypeQinQ)
                          .Vlan(2)
                          .Ipv4(ca1, ca3)
                          .Icmp()
                          .Build()},
  };
  for (const auto& [name, frame] : seeds) {
    const std::string path = std::string(argv[1]) + "/" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(frame.data(), 1, frame.size(), f) != frame.size()) {
      std::perror(path.c_str());
      return 1;
    }
    std::fclose(f);
  }
  return 0;
}
