// ValidatePolicy: the chapter's hosts are valid; one table case per rule with
// the exact path and a message substring; all errors at once in model order;
// a million records. Also the policy_dump golden text for the chapter's Host 1.
#include "config/policy/validate.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "config/policy/policy_dump.h"
#include "tests/lib/chapter_policy.h"
#include "tests/lib/sanitized.h"

namespace hnv {
namespace {

using test::Ip;
using test::Mac;
using test::Prefix;
using test::Rdid;

std::string Join(const std::vector<PolicyError>& errors) {
  std::string s;
  for (const PolicyError& e : errors) s += "  " + e.ToString() + "\n";
  return s;
}

TEST(ValidatePolicyTest, ChapterPoliciesAreValid) {
  const struct {
    const char* name;
    Policy (*make)();
  } kPolicies[] = {
      {"Host1", test::ChapterHost1},
      {"Host2", test::ChapterHost2},
      {"GatewayHost", test::ChapterGatewayHost},
      {"Host1V6", test::ChapterHost1V6},
      {"Host2V6", test::ChapterHost2V6},
      {"Host1V6Provider", test::ChapterHost1V6Provider},
      {"Host2V6Provider", test::ChapterHost2V6Provider},
  };
  for (const auto& p : kPolicies) {
    const std::vector<PolicyError> errors = ValidatePolicy(p.make());
    EXPECT_TRUE(errors.empty()) << p.name << ":\n" << Join(errors);
  }
}

TEST(ValidatePolicyTest, FixturesAreDeterministic) {
  EXPECT_EQ(DumpPolicy(test::ChapterHost1V6()), DumpPolicy(test::ChapterHost1V6()));
}

TEST(PolicyErrorTest, ToStringIsPathColonMessage) {
  EXPECT_EQ((PolicyError{"records[4].vsid", "16777215 is outside 4096..16777214"}).ToString(),
            "records[4].vsid: 16777215 is outside 4096..16777214");
}

// ---------------------------------------------------------------------------
// One case per rule: a chapter policy, one change, the one error expected
// (path exact, message by substring). path == nullptr: still valid.

struct Case {
  const char* name;
  Policy (*base)();
  std::function<void(Policy&)> change;
  const char* path;
  const char* message;
  size_t count = 1;  // errors expected in all; the first one is checked
};

LookupRecord Rec(const char* ca, uint32_t vsid, const char* mac, const char* pa,
                 RecordType type = RecordType::kStatic) {
  LookupRecord r;
  r.ca = Ip(ca);
  r.vsid = vsid;
  r.mac = Mac(mac);
  r.pa = Ip(pa);
  r.type = type;
  return r;
}
VirtualSubnet Subnet(uint32_t vsid, const Guid& rd, std::vector<IpPrefix> prefixes) {
  return VirtualSubnet{vsid, rd, std::move(prefixes)};
}
CustomerRoute CRoute(uint32_t vsid, const char* dest, const char* nh, uint32_t metric = 0) {
  return CustomerRoute{test::ContosoRdid(), vsid, Prefix(dest), Ip(nh), metric};
}
ProviderAddress Pa(const char* addr, uint8_t len, const char* mac = "024455667799") {
  return ProviderAddress{Ip(addr), len, Mac(mac), 0, test::kChapterUplinkPort};
}
ProviderRoute PRoute(const char* dest, const char* nh, uint16_t port = 0) {
  return ProviderRoute{Prefix(dest), port, Ip(nh)};
}
Guid Other() { return Rdid("{12345678-1000-2000-3000-123456789999}"); }
const Guid kContoso = test::ContosoRdid();
const Guid kFabrikam = test::FabrikamRdid();

Policy (*const H1)() = test::ChapterHost1;
Policy (*const H1V6)() = test::ChapterHost1V6;
Policy (*const H1V6P)() = test::ChapterHost1V6Provider;

// Host 1 indices: records 0 DFGW 10.0.1.1, 1..3 Contoso1..3, 4 MT-GW 10.0.2.2,
// 5 DFGW 10.0.2.1; subnets 0 = 6000, 1 = 6001; customer routes 0 10.0.1.0/24,
// 1 10.0.2.0/24, 2 0.0.0.0/0 via 10.0.2.2; vm_ports 0 Contoso1, 1 Contoso2.
// Host1V6 adds Fabrikam: subnets 2 = 7000, 3 = 7001, routes 3..5, records
// 6..11 (6 = DFGW fd00:1::1), vm_ports 2, 3.
const std::vector<Case>& Cases() {
  static const std::vector<Case> kCases = {
      // settings
      {"MtuTooSmall", H1, [](Policy& p) { p.settings.underlay_mtu = 1279; },
       "settings.underlay_mtu", "1279 is outside 1280..9216"},
      {"MtuTooLarge", H1, [](Policy& p) { p.settings.underlay_mtu = 9217; },
       "settings.underlay_mtu", "9217 is outside 1280..9216"},
      {"TtlZero", H1, [](Policy& p) { p.settings.outer_ttl = 0; }, "settings.outer_ttl",
       "0 is outside 1..255"},
      {"IcmpRateTooHigh", H1, [](Policy& p) { p.settings.icmp_errors_per_second = 1'000'001; },
       "settings.icmp_errors_per_second", "1000001 is outside 0..1000000"},
      {"IcmpBurstZero", H1, [](Policy& p) { p.settings.icmp_errors_burst = 0; },
       "settings.icmp_errors_burst", "0 is outside 1..100000"},
      // routing domains
      {"RdidNil", H1,
       [](Policy& p) {
         p.routing_domains.push_back({Guid{}, "nil"});
       },
       "routing_domains[1].rdid", "is the nil GUID"},
      {"RdidDuplicate", H1, [](Policy& p) { p.routing_domains.push_back(p.routing_domains[0]); },
       "routing_domains[1].rdid",
       "{12345678-1000-2000-3000-123456780001} is already the ID of routing_domains[0]"},
      // subnets
      {"SubnetVsidTooLarge", H1,
       [](Policy& p) { p.subnets.push_back(Subnet(20000000, kContoso, {Prefix("10.0.9.0/24")})); },
       "subnets[2].vsid", "20000000 is outside 4096..16777214"},
      {"SubnetVsidReservedLow", H1,
       [](Policy& p) { p.subnets.push_back(Subnet(4095, kContoso, {Prefix("10.0.9.0/24")})); },
       "subnets[2].vsid", "4095 is outside 4096..16777214"},
      {"SubnetVsidReservedHigh", H1,
       [](Policy& p) { p.subnets.push_back(Subnet(16777215, kContoso, {Prefix("10.0.9.0/24")})); },
       "subnets[2].vsid", "16777215 is outside 4096..16777214"},
      {"SubnetVsidDuplicate", H1,
       [](Policy& p) { p.subnets.push_back(Subnet(6000, kContoso, {Prefix("10.0.9.0/24")})); },
       "subnets[2].vsid", "6000 is already the VSID of subnets[0]"},
      {"SubnetRdMissing", H1,
       [](Policy& p) { p.subnets.push_back(Subnet(6002, Other(), {Prefix("10.0.9.0/24")})); },
       "subnets[2].rdid", "{12345678-1000-2000-3000-123456789999} is not a routing domain"},
      {"SubnetNoPrefix", H1, [](Policy& p) { p.subnets.push_back(Subnet(6002, kContoso, {})); },
       "subnets[2].prefixes", "a virtual subnet needs a prefix"},
      {"SubnetTwoPrefixesOneFamily", H1,
       [](Policy& p) { p.subnets[0].prefixes.push_back(Prefix("10.0.9.0/24")); },
       "subnets[0].prefixes[1]", "at most one IPv4 prefix, and it already has 10.0.1.0/24"},
      {"SubnetSecondFamily", H1,
       [](Policy& p) { p.subnets[0].prefixes.push_back(Prefix("fd00:9::/64")); },
       "subnets[0].prefixes[1]",
       "fd00:9::/64 is IPv6 but routing domain {12345678-1000-2000-3000-123456780001} is IPv4 "
       "(set by subnets[0].prefixes[0]); one address family per routing domain"},
      {"SubnetFamilyOfRd", H1,
       [](Policy& p) { p.subnets.push_back(Subnet(6002, kContoso, {Prefix("fd00:9::/64")})); },
       "subnets[2].prefixes[0]", "fd00:9::/64 is IPv6 but routing domain"},
      {"SubnetPrefixTooShort", H1,
       [](Policy& p) { p.subnets.push_back(Subnet(6002, kContoso, {Prefix("12.0.0.0/7")})); },
       "subnets[2].prefixes[0]", "12.0.0.0/7: length 7 is outside 8..30 for an IPv4"},
      {"SubnetPrefixTooLong", H1,
       [](Policy& p) { p.subnets.push_back(Subnet(6002, kContoso, {Prefix("10.0.9.0/31")})); },
       "subnets[2].prefixes[0]", "length 31 is outside 8..30"},
      {"SubnetPrefixTooLongV6", H1V6,
       [](Policy& p) { p.subnets.push_back(Subnet(7002, kFabrikam, {Prefix("fd00:9::/127")})); },
       "subnets[4].prefixes[0]", "length 127 is outside 16..126 for an IPv6"},
      {"SubnetHostBits", H1,
       [](Policy& p) {
         p.subnets.push_back(Subnet(6002, kContoso, {IpPrefix{Ip("10.0.9.1"), 24}}));
       },
       "subnets[2].prefixes[0]", "10.0.9.1/24 has host bits set (did you mean 10.0.9.0/24?)"},
      {"SubnetMulticast", H1,
       [](Policy& p) { p.subnets.push_back(Subnet(6002, kContoso, {Prefix("224.1.0.0/24")})); },
       "subnets[2].prefixes[0]", "224.1.0.0/24 is not a unicast range"},
      {"SubnetOverlap", H1,
       [](Policy& p) { p.subnets.push_back(Subnet(6002, kContoso, {Prefix("10.0.1.128/25")})); },
       "subnets[2].prefixes[0]",
       "10.0.1.128/25 overlaps 10.0.1.0/24 of subnets[0] (virtual subnet 6000) in routing domain"},
      {"SubnetOverlapsTwo", H1,
       [](Policy& p) { p.subnets.push_back(Subnet(6002, kContoso, {Prefix("10.0.0.0/16")})); },
       "subnets[2].prefixes[0]", "10.0.0.0/16 overlaps 10.0.1.0/24 of subnets[0]", 2},
      {"SameAddressesInAnotherRdAreFine", H1,
       [](Policy& p) {
         p.routing_domains.push_back({Other(), "Other"});
         p.subnets.push_back(Subnet(8000, Other(), {Prefix("10.0.1.0/24")}));
         p.records.push_back(Rec("10.0.1.101", 8000, "600060000101", "192.168.0.22"));
         p.records.push_back(Rec("10.0.1.1", 8000, "600060000100", "192.168.0.22"));
       },
       nullptr, nullptr, 0},
      // records: vsid, mac, pa
      {"RecordVsidRange", H1, [](Policy& p) { p.records[4].vsid = 16777215; }, "records[4].vsid",
       "16777215 is outside 4096..16777214"},
      {"RecordVsidUnknown", H1, [](Policy& p) { p.records[1].vsid = 6002; }, "records[1].vsid",
       "6002 is not a virtual subnet"},
      {"RecordMacZero", H1, [](Policy& p) { p.records[1].mac = MacAddr{}; }, "records[1].mac",
       "000000000000 is the zero MAC"},
      {"RecordMacMulticast", H1, [](Policy& p) { p.records[1].mac = Mac("01005E000001"); },
       "records[1].mac", "01005E000001 is a multicast MAC"},
      {"RecordMacBroadcast", H1, [](Policy& p) { p.records[1].mac = MacAddr::Broadcast(); },
       "records[1].mac", "FFFFFFFFFFFF is the broadcast MAC"},
      {"RecordPaUnspecified", H1, [](Policy& p) { p.records[1].pa = Ip("0.0.0.0"); },
       "records[1].pa", "0.0.0.0 is unspecified; a lookup record needs a unicast provider"},
      {"RecordPaMulticast", H1, [](Policy& p) { p.records[1].pa = Ip("224.0.0.1"); },
       "records[1].pa", "224.0.0.1 is a multicast address"},
      {"RecordPaLoopback", H1, [](Policy& p) { p.records[1].pa = Ip("127.0.0.1"); },
       "records[1].pa", "127.0.0.1 is a loopback address"},
      {"RecordPaUnreachable", H1, [](Policy& p) { p.records[3].pa = Ip("10.9.9.9"); },
       "records[3].pa", "10.9.9.9 is unreachable"},
      {"RecordPaReachableByProviderRoute", H1,
       [](Policy& p) {
         p.records[3].pa = Ip("10.9.9.9");
         p.provider_routes.push_back(PRoute("10.9.0.0/16", "192.168.0.1"));
       },
       nullptr, nullptr, 0},
      {"RecordPaFamilyWithoutLocalPa", H1, [](Policy& p) { p.records[3].pa = Ip("fd00:ffff::33"); },
       "records[3].pa", "fd00:ffff::33 is IPv6 but this host has no IPv6 provider address"},
      {"RecordPaV4OverV6Provider", H1V6P, [](Policy& p) { p.records[3].pa = Ip("192.168.0.33"); },
       "records[3].pa", "192.168.0.33 is IPv4 but this host has no IPv4 provider address"},
      // records: ca
      {"RecordCaOutsidePrefix", H1, [](Policy& p) { p.records[1].ca = Ip("10.0.3.5"); },
       "records[1].ca", "10.0.3.5 is outside the prefix of virtual subnet 6000 (10.0.1.0/24)"},
      {"RecordCaOutsidePrefixV6", H1V6, [](Policy& p) { p.records[7].ca = Ip("fd00:9::5"); },
       "records[7].ca", "fd00:9::5 is outside the prefix of virtual subnet 7000 (fd00:1::/64)"},
      {"RecordCaNetworkAddress", H1, [](Policy& p) { p.records[1].ca = Ip("10.0.1.0"); },
       "records[1].ca", "10.0.1.0 is the network address of virtual subnet 6000"},
      {"RecordCaBroadcast", H1, [](Policy& p) { p.records[1].ca = Ip("10.0.1.255"); },
       "records[1].ca", "10.0.1.255 is the broadcast address of virtual subnet 6000"},
      {"RecordCaFamily", H1, [](Policy& p) { p.records[1].ca = Ip("fd00:1::5"); }, "records[1].ca",
       "fd00:1::5 is IPv6 but routing domain {12345678-1000-2000-3000-123456780001} is IPv4"},
      {"StaticWithoutCa", H1, [](Policy& p) { p.records[1].ca = Ip("0.0.0.0"); }, "records[1].ca",
       "0.0.0.0 is unspecified, but a Static record needs a customer address"},
      {"DynamicWithoutCa", H1,
       [](Policy& p) {
         p.records[1].ca = Ip("0.0.0.0");
         p.records[1].type = RecordType::kDynamic;
       },
       "records[1].ca", "a Dynamic record needs a customer address"},
      {"L2OnlyWithCa", H1, [](Policy& p) { p.records[1].type = RecordType::kL2Only; },
       "records[1].ca", "10.0.1.101 must be unspecified (0.0.0.0 or ::) on an L2Only record"},
      {"GatewayWildcardWithCa", H1,
       [](Policy& p) { p.records[1].type = RecordType::kGatewayWildcard; }, "records[1].ca",
       "must be unspecified (0.0.0.0 or ::) on a GatewayWildcard record"},
      {"L2OnlyWrongFamily", H1,
       [](Policy& p) {
         p.records.push_back(Rec("::", 6000, "600060000104", "192.168.0.22", RecordType::kL2Only));
       },
       "records[6].ca", ":: is IPv6 but routing domain"},
      // records: the DFGW
      {"DfgwDynamic", H1, [](Policy& p) { p.records[0].type = RecordType::kDynamic; },
       "records[0].ca",
       "10.0.1.1 is the default gateway of virtual subnet 6000 (10.0.1.0/24), reserved: only a "
       "Static record"},
      {"DfgwDynamicV6", H1V6, [](Policy& p) { p.records[6].type = RecordType::kDynamic; },
       "records[6].ca", "fd00:1::1 is the default gateway of virtual subnet 7000 (fd00:1::/64)"},
      {"DfgwRemotePa", H1, [](Policy& p) { p.records[0].pa = Ip("192.168.0.33"); }, "records[0].pa",
       "192.168.0.33 is not a provider address of this host; the default gateway record "
       "(10.0.1.1) carries the local PA"},
      {"DfgwTwice", H1,
       [](Policy& p) {
         p.records.push_back(Rec("10.0.1.1", 6000, "600060000199", "192.168.0.22"));
       },
       "records[6].ca", "10.0.1.1 is already used by records[0] in routing domain"},
      // records: uniqueness in the routing domain
      {"CaDuplicate", H1,
       [](Policy& p) {
         p.records.push_back(Rec("10.0.1.101", 6000, "600060000199", "192.168.0.22"));
       },
       "records[6].ca",
       "10.0.1.101 is already used by records[1] in routing domain "
       "{12345678-1000-2000-3000-123456780001}; a CA is unique inside its routing domain"},
      {"MacDuplicate", H1,
       [](Policy& p) {
         p.records.push_back(Rec("10.0.1.104", 6000, "600060000101", "192.168.0.22"));
       },
       "records[6].mac", "600060000101 is already used by records[1] in routing domain"},
      {"MacOfStaticOnDynamic", H1,
       [](Policy& p) {
         p.records.push_back(
             Rec("10.0.1.104", 6000, "600060000101", "192.168.0.22", RecordType::kDynamic));
       },
       "records[6].mac", "600060000101 is already used by records[1]"},
      {"MacReusedInAnotherRdIsFine", H1V6,
       [](Policy& p) {
         p.records[7].mac = Mac("600060000101");
         p.vm_ports[2].mac = Mac("600060000101");
       },
       nullptr, nullptr, 0},
      {"L2OnlyAndItsDynamicRecordsShareTheMac", H1,
       [](Policy& p) {
         p.records.push_back(
             Rec("0.0.0.0", 6000, "600060000104", "192.168.0.33", RecordType::kL2Only));
         p.records.push_back(
             Rec("10.0.1.104", 6000, "600060000104", "192.168.0.33", RecordType::kDynamic));
         p.records.push_back(
             Rec("10.0.1.105", 6000, "600060000104", "192.168.0.33", RecordType::kDynamic));
       },
       nullptr, nullptr, 0},
      {"L2OnlyTwice", H1,
       [](Policy& p) {
         p.records.push_back(
             Rec("0.0.0.0", 6000, "600060000104", "192.168.0.33", RecordType::kL2Only));
         p.records.push_back(
             Rec("0.0.0.0", 6000, "600060000104", "192.168.0.33", RecordType::kL2Only));
       },
       "records[7].mac", "600060000104 already has an L2Only record, records[6]"},
      {"DynamicOnAnotherPa", H1,
       [](Policy& p) {
         p.records.push_back(
             Rec("0.0.0.0", 6000, "600060000104", "192.168.0.33", RecordType::kL2Only));
         p.records.push_back(
             Rec("10.0.1.104", 6000, "600060000104", "192.168.0.22", RecordType::kDynamic));
       },
       "records[7].pa", "192.168.0.22 differs from 192.168.0.33 of records[6]"},
      {"DynamicOnAnotherVsid", H1,
       [](Policy& p) {
         p.subnets.push_back(Subnet(6002, kContoso, {Prefix("10.0.3.0/24")}));
         p.records.push_back(
             Rec("0.0.0.0", 6000, "600060000104", "192.168.0.33", RecordType::kL2Only));
         p.records.push_back(
             Rec("10.0.3.5", 6002, "600060000104", "192.168.0.33", RecordType::kDynamic));
       },
       "records[7].vsid", "6002 differs from 6000 of records[6]"},
      // customer routes
      {"RouteRdMissing", H1, [](Policy& p) { p.customer_routes[0].rdid = Other(); },
       "customer_routes[0].rdid", "{12345678-1000-2000-3000-123456789999} is not a routing"},
      {"RouteVsidRange", H1, [](Policy& p) { p.customer_routes[0].vsid = 4000; },
       "customer_routes[0].vsid", "4000 is outside 4096..16777214"},
      {"RouteVsidUnknown", H1, [](Policy& p) { p.customer_routes[0].vsid = 6002; },
       "customer_routes[0].vsid", "6002 is not a virtual subnet"},
      {"RouteVsidOfAnotherRd", H1V6, [](Policy& p) { p.customer_routes[0].vsid = 7000; },
       "customer_routes[0].vsid",
       "7000 belongs to routing domain {12345678-1000-2000-3000-123456780002}, not "
       "{12345678-1000-2000-3000-123456780001}"},
      {"RouteDestinationFamily", H1,
       [](Policy& p) { p.customer_routes.push_back(CRoute(6000, "fd00:9::/64", "0.0.0.0")); },
       "customer_routes[3].destination", "fd00:9::/64 is IPv6 but routing domain"},
      {"RouteDestinationHostBits", H1,
       [](Policy& p) {
         p.customer_routes.push_back(CRoute(6000, "10.0.1.0/24", "0.0.0.0"));
         p.customer_routes.back().destination = IpPrefix{Ip("10.0.1.5"), 24};
       },
       "customer_routes[3].destination", "10.0.1.5/24 has host bits set"},
      {"RouteOnLinkOutsideSubnet", H1,
       [](Policy& p) { p.customer_routes.push_back(CRoute(6000, "10.0.9.0/24", "0.0.0.0")); },
       "customer_routes[3].destination",
       "10.0.9.0/24 is on-link on virtual subnet 6000, whose prefix is 10.0.1.0/24"},
      {"RouteNextHopFamily", H1, [](Policy& p) { p.customer_routes[2].next_hop = Ip("fd00::2"); },
       "customer_routes[2].next_hop", "fd00::2 is IPv6 but routing domain"},
      {"RouteNextHopOutside", H1, [](Policy& p) { p.customer_routes[2].next_hop = Ip("10.9.9.9"); },
       "customer_routes[2].next_hop", "10.9.9.9 is not inside any virtual subnet of routing"},
      {"RouteNextHopDfgw", H1, [](Policy& p) { p.customer_routes[2].next_hop = Ip("10.0.2.1"); },
       "customer_routes[2].next_hop",
       "10.0.2.1 is the default gateway address of virtual subnet 6001"},
      {"RouteNextHopMulticast", H1,
       [](Policy& p) { p.customer_routes[2].next_hop = Ip("224.0.0.2"); },
       "customer_routes[2].next_hop", "224.0.0.2 is a multicast address"},
      {"RouteNotOnGatewayVsid", H1, [](Policy& p) { p.customer_routes[2].vsid = 6000; },
       "customer_routes[2].vsid",
       "6000 is not the next hop's subnet: 10.0.2.2 is in virtual subnet 6001"},
      {"RouteDuplicate", H1, [](Policy& p) { p.customer_routes.push_back(p.customer_routes[0]); },
       "customer_routes[3].destination", "10.0.1.0/24 with metric 0 duplicates customer_routes[0]"},
      {"RouteSamePrefixOtherMetricIsFine", H1,
       [](Policy& p) {
         p.customer_routes.push_back(p.customer_routes[2]);
         p.customer_routes.back().metric = 5;
       },
       nullptr, nullptr, 0},
      {"SecondGatewayAddress", H1,
       [](Policy& p) { p.customer_routes.push_back(CRoute(6001, "10.8.0.0/16", "10.0.2.3")); },
       "customer_routes[3].next_hop",
       "10.0.2.3 differs from 10.0.2.2, the gateway of routing domain "
       "{12345678-1000-2000-3000-123456780001} (customer_routes[2]); one gateway address"},
      {"MoreRoutesThroughTheGatewayAreFine", H1,
       [](Policy& p) { p.customer_routes.push_back(CRoute(6001, "10.8.0.0/16", "10.0.2.2")); },
       nullptr, nullptr, 0},
      {"RecordOnGatewayVsid", H1,
       [](Policy& p) {
         p.records.push_back(Rec("10.0.2.5", 6001, "600160010305", "192.168.0.33"));
       },
       "records[6].vsid",
       "6001 is the subnet of the gateway 10.0.2.2 (customer_routes[2]); the gateway is on its "
       "own VSID"},
      {"VmPortOnGatewayVsid", H1,
       [](Policy& p) {
         p.vm_ports.push_back(VmPort{"Intruder", 5, Mac("600160010305"), 6001});
       },
       "vm_ports[2].vsid", "6001 is the subnet of the gateway 10.0.2.2"},
      {"GatewayWildcardOnGatewayVsidIsFine", H1,
       [](Policy& p) {
         p.records.push_back(
             Rec("0.0.0.0", 6001, "600160010399", "192.168.0.11", RecordType::kGatewayWildcard));
       },
       nullptr, nullptr, 0},
      // provider addresses
      {"PaNotUnicast", H1, [](Policy& p) { p.provider_addresses.push_back(Pa("224.0.0.1", 24)); },
       "provider_addresses[1].address", "224.0.0.1 is a multicast address"},
      {"PaDuplicate", H1,
       [](Policy& p) { p.provider_addresses.push_back(p.provider_addresses[0]); },
       "provider_addresses[1].address", "192.168.0.22 is already provider_addresses[0]"},
      {"PaPrefixLength", H1,
       [](Policy& p) { p.provider_addresses.push_back(Pa("192.168.1.22", 0)); },
       "provider_addresses[1].prefix_len", "0 is outside 8..32 for an IPv4 provider address"},
      {"PaPrefixLengthV6", H1,
       [](Policy& p) { p.provider_addresses.push_back(Pa("fd00:ffff::22", 8)); },
       "provider_addresses[1].prefix_len", "8 is outside 16..128 for an IPv6 provider address"},
      {"PaMac", H1, [](Policy& p) { p.provider_addresses[0].mac = Mac("333300000001"); },
       "provider_addresses[0].mac", "333300000001 is a multicast MAC"},
      {"PaVlan", H1, [](Policy& p) { p.provider_addresses[0].vlan = 4095; },
       "provider_addresses[0].vlan", "4095 is outside 0..4094"},
      // provider routes
      {"ProviderRouteDuplicate", H1,
       [](Policy& p) {
         p.provider_routes.push_back(PRoute("10.9.0.0/16", "192.168.0.1"));
         p.provider_routes.push_back(PRoute("10.9.0.0/16", "192.168.0.2"));
       },
       "provider_routes[1].destination", "10.9.0.0/16 duplicates provider_routes[0]"},
      {"ProviderRouteNextHopFamily", H1,
       [](Policy& p) { p.provider_routes.push_back(PRoute("10.9.0.0/16", "fd00::1")); },
       "provider_routes[0].next_hop", "fd00::1 is IPv6 but the destination 10.9.0.0/16 is IPv4"},
      {"ProviderRoutePortWithoutPa", H1,
       [](Policy& p) { p.provider_routes.push_back(PRoute("10.9.0.0/16", "192.168.0.1", 7)); },
       "provider_routes[0].port", "port 7 has no IPv4 provider address"},
      {"ProviderRoutePortWithoutFamily", H1,
       [](Policy& p) { p.provider_routes.push_back(PRoute("fd00:9::/64", "::")); },
       "provider_routes[0].port", "port 0 has no IPv6 provider address"},
      {"ProviderRouteNextHopOffLink", H1,
       [](Policy& p) { p.provider_routes.push_back(PRoute("10.9.0.0/16", "192.168.5.1")); },
       "provider_routes[0].next_hop",
       "192.168.5.1 is not on the subnet of any IPv4 provider address on port 0"},
      {"ProviderRouteNextHopLoopback", H1,
       [](Policy& p) { p.provider_routes.push_back(PRoute("10.9.0.0/16", "127.0.0.1")); },
       "provider_routes[0].next_hop", "127.0.0.1 is a loopback address"},
      {"ProviderRouteHostBits", H1,
       [](Policy& p) {
         p.provider_routes.push_back(PRoute("10.9.0.0/16", "192.168.0.1"));
         p.provider_routes[0].destination = IpPrefix{Ip("10.9.0.1"), 16};
       },
       "provider_routes[0].destination", "10.9.0.1/16 has host bits set"},
      {"ProviderDefaultRouteIsFine", H1,
       [](Policy& p) { p.provider_routes.push_back(PRoute("0.0.0.0/0", "192.168.0.1")); }, nullptr,
       nullptr, 0},
      // VM ports
      {"VmPortDuplicate", H1, [](Policy& p) { p.vm_ports[1].port = 1; }, "vm_ports[1].port",
       "1 is already the port of vm_ports[0] (Contoso1)"},
      {"VmPortIsUplink", H1, [](Policy& p) { p.vm_ports[0].port = 0; }, "vm_ports[0].port",
       "0 is the uplink port of provider_addresses[0]"},
      {"VmPortMac", H1, [](Policy& p) { p.vm_ports[0].mac = MacAddr{}; }, "vm_ports[0].mac",
       "000000000000 is the zero MAC"},
      {"VmPortVsidRange", H1, [](Policy& p) { p.vm_ports[0].vsid = 0; }, "vm_ports[0].vsid",
       "0 is outside 4096..16777214"},
      {"VmPortVsidUnknown", H1, [](Policy& p) { p.vm_ports[0].vsid = 6002; }, "vm_ports[0].vsid",
       "6002 is not a virtual subnet"},
      {"VmPortMacTwiceOnVsid", H1, [](Policy& p) { p.vm_ports[1].mac = p.vm_ports[0].mac; },
       "vm_ports[1].mac", "600060000101 is already on virtual subnet 6000 through vm_ports[0]"},
  };
  return kCases;
}

class ValidateRuleTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateRuleTest, ReportsExactlyThis) {
  const Case& c = GetParam();
  Policy p = c.base();
  c.change(p);
  const std::vector<PolicyError> errors = ValidatePolicy(p);
  ASSERT_EQ(errors.size(), c.count) << Join(errors);
  if (c.path == nullptr) return;
  EXPECT_EQ(errors[0].path, c.path) << Join(errors);
  EXPECT_NE(errors[0].message.find(c.message), std::string::npos)
      << "expected \"" << c.message << "\" in:\n"
      << Join(errors);
}

INSTANTIATE_TEST_SUITE_P(Rules, ValidateRuleTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return std::string(param.param.name);
                         });

TEST(ValidatePolicyTest, ReportsAllErrorsInModelOrder) {
  Policy p = test::ChapterHost1();
  // Made in scrambled order; reported in model order.
  p.vm_ports[0].port = 0;
  p.customer_routes[0].vsid = 6002;
  p.records[4].vsid = 4000;
  p.records[1].mac = MacAddr{};
  p.records[1].ca = Ip("10.0.3.5");
  p.subnets.push_back(Subnet(6000, kContoso, {Prefix("10.0.9.0/31")}));
  p.provider_addresses[0].vlan = 5000;
  p.settings.outer_ttl = 0;
  p.settings.underlay_mtu = 100;
  p.routing_domains.push_back(p.routing_domains[0]);
  const std::vector<PolicyError> errors = ValidatePolicy(p);
  std::vector<std::string> paths;
  for (const PolicyError& e : errors) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "settings.underlay_mtu",
                       "settings.outer_ttl",
                       "routing_domains[1].rdid",
                       "subnets[2].vsid",
                       "subnets[2].prefixes[0]",
                       "records[1].ca",
                       "records[1].mac",
                       "records[4].vsid",
                       "customer_routes[0].vsid",
                       "provider_addresses[0].vlan",
                       "vm_ports[0].port",
                   }))
      << Join(errors);
  EXPECT_EQ(errors[0].ToString(), "settings.underlay_mtu: 100 is outside 1280..9216");
  EXPECT_EQ(errors[7].ToString(), "records[4].vsid: 4000 is outside 4096..16777214");
}

// ---------------------------------------------------------------------------
// policy_dump: the chapter's Get-* output for Host 1 (its typo'd 6001... MACs
// read as the configured 6000... ones; InterfaceIndex is our port 0, not 12;
// the last record, the 6001 DFGW, is our addition).

// Raw strings below start with a newline for readability.
std::string Text(const char* s) { return std::string(s + 1); }

TEST(PolicyDumpTest, ChapterHost1LookupRecords) {
  EXPECT_EQ(DumpLookupRecords(test::ChapterHost1()), Text(R"(
CustomerAddress: 10.0.1.1
VirtualSubnetID: 6000
MACAddress: 600060000100
ProviderAddress: 192.168.0.22
CustomerID: {00000000-0000-0000-0000-000000000000}
Context:
Rule: TranslationMethodEncap
VMName:
UseVmMACAddress: False
Type: Static

CustomerAddress: 10.0.1.101
VirtualSubnetID: 6000
MACAddress: 600060000101
ProviderAddress: 192.168.0.22
CustomerID: {00000000-0000-0000-0000-000000000000}
Context:
Rule: TranslationMethodEncap
VMName:
UseVmMACAddress: False
Type: Static

CustomerAddress: 10.0.1.102
VirtualSubnetID: 6000
MACAddress: 600060000102
ProviderAddress: 192.168.0.22
CustomerID: {00000000-0000-0000-0000-000000000000}
Context:
Rule: TranslationMethodEncap
VMName:
UseVmMACAddress: False
Type: Static

CustomerAddress: 10.0.1.103
VirtualSubnetID: 6000
MACAddress: 600060000203
ProviderAddress: 192.168.0.33
CustomerID: {00000000-0000-0000-0000-000000000000}
Context:
Rule: TranslationMethodEncap
VMName:
UseVmMACAddress: False
Type: Static

CustomerAddress: 10.0.2.2
VirtualSubnetID: 6001
MACAddress: 600160010301
ProviderAddress: 192.168.0.11
CustomerID: {00000000-0000-0000-0000-000000000000}
Context:
Rule: TranslationMethodEncap
VMName:
UseVmMACAddress: False
Type: Static

CustomerAddress: 10.0.2.1
VirtualSubnetID: 6001
MACAddress: 600160010300
ProviderAddress: 192.168.0.22
CustomerID: {00000000-0000-0000-0000-000000000000}
Context:
Rule: TranslationMethodEncap
VMName:
UseVmMACAddress: False
Type: Static
)"));
}

TEST(PolicyDumpTest, ChapterHost1CustomerRoutes) {
  EXPECT_EQ(DumpCustomerRoutes(test::ChapterHost1()), Text(R"(
RoutingDomainID: {12345678-1000-2000-3000-123456780001}
VirtualSubnetID: 6000
DestinationPrefix: 10.0.1.0/24
NextHop: 0.0.0.0
Metric: 0

RoutingDomainID: {12345678-1000-2000-3000-123456780001}
VirtualSubnetID: 6001
DestinationPrefix: 10.0.2.0/24
NextHop: 0.0.0.0
Metric: 0

RoutingDomainID: {12345678-1000-2000-3000-123456780001}
VirtualSubnetID: 6001
DestinationPrefix: 0.0.0.0/0
NextHop: 10.0.2.2
Metric: 0
)"));
}

TEST(PolicyDumpTest, ChapterHost1ProviderAddressesAndAdapters) {
  EXPECT_EQ(DumpProviderAddresses(test::ChapterHost1()), Text(R"(
ProviderAddress: 192.168.0.22
InterfaceIndex: 0
PrefixLength: 24
VlanID: 0
AddressState: Preferred
MACAddress: 324455667788
ManagedByCluster: False
)"));
  EXPECT_EQ(DumpVmNetworkAdapters(test::ChapterHost1()), Text(R"(
VMName: Contoso1
MacAddress: 600060000101
VirtualSubnetId: 6000
SwitchName: HNVSwitch
MacAddressSpoofing: Off
DhcpGuard: On
RouterGuard: On

VMName: Contoso2
MacAddress: 600060000102
VirtualSubnetId: 6000
SwitchName: HNVSwitch
MacAddressSpoofing: Off
DhcpGuard: On
RouterGuard: On
)"));
}

TEST(PolicyDumpTest, WholePolicyHasEveryCmdletInOrder) {
  Policy p = test::ChapterHost2V6Provider();
  p.provider_routes.push_back(PRoute("fd00:9::/64", "fd00:ffff::1"));
  p.records.push_back(Rec("0.0.0.0", 6000, "600060000104", "fd00:ffff::33", RecordType::kL2Only));
  p.records.back().rule = TranslationRule::kNone;
  p.records.back().vm_name = "Contoso4";
  const std::string dump = DumpPolicy(p);
  EXPECT_EQ(DumpProviderRoutes(p), Text(R"(
InterfaceIndex: 0
DestinationPrefix: fd00:9::/64
NextHop: fd00:ffff::1
Metric: 0
)"));
  EXPECT_NE(dump.find(Text(R"(
CustomerAddress: 0.0.0.0
VirtualSubnetID: 6000
MACAddress: 600060000104
ProviderAddress: fd00:ffff::33
CustomerID: {00000000-0000-0000-0000-000000000000}
Context:
Rule: TranslationMethodNone
VMName: Contoso4
UseVmMACAddress: False
Type: L2Only
)")),
            std::string::npos)
      << dump;
  size_t at = 0;
  for (const char* cmdlet :
       {"Get-NetVirtualizationLookupRecord\n\nCustomerAddress: 10.0.1.1\n",
        "\n\nGet-NetVirtualizationCustomerRoute\n\nRoutingDomainID:",
        "\n\nGet-NetVirtualizationProviderAddress\n\nProviderAddress: fd00:ffff::33\n",
        "\n\nGet-NetVirtualizationProviderRoute\n\nInterfaceIndex: 0\n",
        "\n\nGet-VMNetworkAdapter\n\nVMName: Contoso3\n"}) {
    const size_t found = dump.find(cmdlet, at);
    ASSERT_NE(found, std::string::npos) << cmdlet << " in\n" << dump;
    at = found + 1;
  }
  EXPECT_EQ(dump.find("Get-"), 0u);
  EXPECT_TRUE(
      dump.ends_with("SwitchName: HNVSwitch\nMacAddressSpoofing: Off\nDhcpGuard: On\n"
                     "RouterGuard: On\n"))
      << dump;
  EXPECT_EQ(DumpPolicy(Policy{}),
            "Get-NetVirtualizationLookupRecord\n\nGet-NetVirtualizationCustomerRoute\n\n"
            "Get-NetVirtualizationProviderAddress\n\nGet-NetVirtualizationProviderRoute\n\n"
            "Get-VMNetworkAdapter\n\n");
}

// ---------------------------------------------------------------------------
// Scale: 100 routing domains x 10 subnets x 1,000 records, all in overlapping
// 10.x.0.0/16 spaces (legal: different routing domains), over 1,000 PAs.
// Under a sanitizer 10 routing domains, 100,000 records (tests/lib/sanitized.h).
constexpr uint32_t kScaleDomains = test::SanitizerScaled(100, 10);
constexpr uint32_t kScaleRecords = kScaleDomains * 10 * 1000;

Policy MillionRecordPolicy() {
  Policy p;
  p.provider_addresses.push_back(Pa("192.168.0.1", 16, "020000000001"));
  p.records.reserve(kScaleRecords);
  for (uint32_t rd = 0; rd < kScaleDomains; ++rd) {
    Guid id{};
    id.b[0] = 0x10;
    id.b[14] = static_cast<uint8_t>(rd >> 8);
    id.b[15] = static_cast<uint8_t>(rd);
    p.routing_domains.push_back({id, "tenant" + std::to_string(rd)});
    for (uint32_t s = 0; s < 10; ++s) {
      const uint32_t vsid = 10000 + rd * 10 + s;
      IpPrefix pf;
      pf.addr = IpAddr::V4(0x0a000000u | s << 16);
      pf.len = 16;
      p.subnets.push_back(VirtualSubnet{vsid, id, {pf}});
      p.customer_routes.push_back(CustomerRoute{id, vsid, pf, IpAddr::V4(0), 0});
      for (uint32_t k = 1; k <= 1000; ++k) {  // host 1 is the DFGW
        LookupRecord r;
        r.ca = IpAddr::V4(0x0a000000u | s << 16 | k);
        r.vsid = vsid;
        r.mac = MacAddr{{0x02, 0x00, static_cast<uint8_t>(s), static_cast<uint8_t>(k >> 8),
                         static_cast<uint8_t>(k), 0x01}};
        const uint32_t host = k == 1 ? 0 : (rd * 7 + k) % 1000;  // DFGW: the local PA
        r.pa = IpAddr::V4(0xc0a80001u + host);
        p.records.push_back(r);
      }
    }
  }
  return p;
}

TEST(ValidatePolicyScaleTest, MillionRecords) {
  auto t0 = std::chrono::steady_clock::now();
  const Policy p = MillionRecordPolicy();
  ASSERT_EQ(p.records.size(), kScaleRecords);
  auto t1 = std::chrono::steady_clock::now();
  const std::vector<PolicyError> errors = ValidatePolicy(p);
  auto t2 = std::chrono::steady_clock::now();
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: " << errors[0].ToString();
  using Ms = std::chrono::duration<double, std::milli>;
  std::printf("[ scale    ] built %u records in %.0f ms, validated in %.0f ms\n", kScaleRecords,
              Ms(t1 - t0).count(), Ms(t2 - t1).count());

  // The same size with one duplicate CA at the very end is found.
  Policy bad = p;
  bad.records.back().ca = bad.records[bad.records.size() - 2].ca;
  const std::vector<PolicyError> one = ValidatePolicy(bad);
  ASSERT_EQ(one.size(), 1u) << Join(one);
  EXPECT_EQ(one[0].path, "records[" + std::to_string(kScaleRecords - 1) + "].ca");
}

}  // namespace
}  // namespace hnv
