// The chapter's "Hyper-V Network Virtualization: Simple setup" as Policy
// fixtures, one per host, in the consistent reading of the chapter's typos
// (DESIGN §6). Every host carries the same tenant policy (routing domain,
// subnets, customer routes, lookup records); what differs per host is its
// provider address, the PA of its DFGW records and its VM ports.
//
//   RDID {12345678-1000-2000-3000-123456780001} "Contoso"
//   VSID 6000 10.0.1.0/24   DFGW 10.0.1.1 600060000100
//                           Contoso1 10.0.1.101 600060000101 on Host 1 (192.168.0.22)
//                           Contoso2 10.0.1.102 600060000102 on Host 1 (192.168.0.22)
//                           Contoso3 10.0.1.103 600060000203 on Host 2 (192.168.0.33)
//   VSID 6001 10.0.2.0/24   DFGW 10.0.2.1 600160010300
//                           MT-GW    10.0.2.2   600160010301 on the gateway host (192.168.0.11)
//   routes 10.0.1.0/24 on-link (6000), 10.0.2.0/24 on-link (6001),
//          0.0.0.0/0 via 10.0.2.2 (6001)
//   PAs    Host 1 192.168.0.22/24 324455667788 (the chapter's 334455667788 is a
//          multicast MAC), Host 2 192.168.0.33/24 445566778899, gateway host
//          192.168.0.11/24 223344556677; all on the uplink, port 0
//   VM ports (port 1, 2, ...; the uplink is port 0): Host 1 Contoso1, Contoso2;
//          Host 2 Contoso3; gateway host MT-GW (its internal NIC).
//
// Everything is deterministic: same call, same Policy, same order.
#pragma once

#include <string_view>

#include "dataplane/policy/model.h"

namespace hnv::test {

inline constexpr uint16_t kChapterUplinkPort = 0;

// Checked parsers for fixtures and tests: abort with a message on bad text.
IpAddr Ip(std::string_view s);
IpPrefix Prefix(std::string_view s);
MacAddr Mac(std::string_view s);
Guid Rdid(std::string_view s);

Guid ContosoRdid();   // {12345678-1000-2000-3000-123456780001}
Guid FabrikamRdid();  // {12345678-1000-2000-3000-123456780002}, the IPv6 tenant

// The chapter's three HNV hosts.
Policy ChapterHost1();
Policy ChapterHost2();
Policy ChapterGatewayHost();

// Mixed families, IPv6 customer addresses: the chapter's hosts plus a second
// tenant "Fabrikam", IPv6-only, over the same IPv4 PAs:
//   VSID 7000 fd00:1::/64  DFGW fd00:1::1 700070000100; Fabrikam1 fd00:1::101
//             700070000101 and Fabrikam2 fd00:1::102 700070000102 on Host 1,
//             Fabrikam3 fd00:1::103 700070000203 on Host 2
//   VSID 7001 fd00:2::/64  DFGW fd00:2::1 700170010300; its gateway fd00:2::2
//             700170010301 on the gateway host
//   routes fd00:1::/64 and fd00:2::/64 on-link, ::/0 via fd00:2::2 (7001)
// VM ports: Host 1 adds Fabrikam1 (port 3) and Fabrikam2 (port 4); Host 2 adds
// Fabrikam3 (port 2).
Policy ChapterHost1V6();
Policy ChapterHost2V6();

// Mixed families, IPv6 provider addresses: the chapter's IPv4 tenant over
// IPv6 PAs fd00:ffff::22/64 (Host 1), fd00:ffff::33 (Host 2), fd00:ffff::11
// (gateway host), same MACs as the IPv4 PAs.
Policy ChapterHost1V6Provider();
Policy ChapterHost2V6Provider();

}  // namespace hnv::test
