// JSON <-> model conversions of config/json_model.h: round trips for every
// kind, the spellings accepted, the canonical forms produced, and every
// error message.
#include "config/json_model.h"

#include <gtest/gtest.h>

#include "config/policy/policy_dump.h"
#include "tests/lib/chapter_policy.h"

namespace hnv::config {
namespace {

using nlohmann::json;

const char* kRdid = "{12345678-1000-2000-3000-123456780001}";

TEST(JsonModelTest, CanonicalObjects) {
  LookupRecord r;
  r.ca = test::Ip("10.0.1.101");
  r.vsid = 6000;
  r.mac = test::Mac("600060000101");
  r.pa = test::Ip("192.168.0.22");
  r.vm_name = "Contoso1";
  EXPECT_EQ(ToJson(r), json::parse(R"({"customer_address":"10.0.1.101","vsid":6000,
      "mac":"600060000101","provider_address":"192.168.0.22","rule":"TranslationMethodEncap",
      "type":"Static","vm_name":"Contoso1"})"));

  CustomerRoute c;
  c.rdid = test::ContosoRdid();
  c.vsid = 6001;
  c.destination = test::Prefix("0.0.0.0/0");
  c.next_hop = test::Ip("10.0.2.2");
  EXPECT_EQ(ToJson(c), json::parse(R"({"rdid":"{12345678-1000-2000-3000-123456780001}",
      "vsid":6001,"destination":"0.0.0.0/0","next_hop":"10.0.2.2","metric":0})"));

  ProviderAddress a;
  a.address = test::Ip("192.168.0.22");
  a.prefix_len = 24;
  a.mac = test::Mac("32-44-55-66-77-88");
  a.vlan = 5;
  a.port = 0;
  EXPECT_EQ(ToJson(a), json::parse(R"({"address":"192.168.0.22","prefix_length":24,"port":0,
      "mac":"324455667788","vlan":5})"));

  ProviderRoute p;
  p.destination = test::Prefix("fd00:ff::/64");
  p.port = 3;
  p.next_hop = test::Ip("fd00:ffff::1");
  EXPECT_EQ(ToJson(p),
            json::parse(R"({"destination":"fd00:ff::/64","port":3,"next_hop":"fd00:ffff::1"})"));

  VmPort v{"Contoso1", 1, test::Mac("60:00:60:00:01:01"), 6000};
  EXPECT_EQ(ToJson(v), json::parse(R"({"vm_name":"Contoso1","port":1,"mac":"600060000101",
      "vsid":6000,"mac_address_spoofing":"Off","dhcp_guard":"On","router_guard":"On"})"));
  v.mac_address_spoofing = true;
  v.dhcp_guard = false;
  auto back = VmPortFromJson(ToJson(v), FromJsonOptions{});
  ASSERT_FALSE(back.error) << back.error->ToString();
  EXPECT_TRUE(back.value->mac_address_spoofing);
  EXPECT_FALSE(back.value->dhcp_guard);
  EXPECT_TRUE(back.value->router_guard);
  // On / Off in any case, and JSON booleans, come back canonical; anything else is refused.
  auto norm =
      NormalizeObject(Kind::kVmNetworkAdapter,
                      json::parse(R"({"vm_name":"a","dhcp_guard":"off","router_guard":true})"),
                      FromJsonOptions{.mode = Mode::kPartial});
  ASSERT_FALSE(norm.error) << norm.error->ToString();
  EXPECT_EQ(*norm.value, json::parse(R"({"vm_name":"a","dhcp_guard":"Off","router_guard":"On"})"));
  EXPECT_TRUE(NormalizeObject(Kind::kVmNetworkAdapter, json::parse(R"({"dhcp_guard":"yes"})"),
                              FromJsonOptions{.mode = Mode::kPartial})
                  .error);

  RoutingDomain d{test::ContosoRdid(), "Contoso"};
  EXPECT_EQ(ToJson(d), json::parse(R"({"rdid":"{12345678-1000-2000-3000-123456780001}",
      "name":"Contoso"})"));

  VirtualSubnet s;
  s.vsid = 6000;
  s.rdid = test::ContosoRdid();
  s.prefixes = {test::Prefix("10.0.1.0/24")};
  EXPECT_EQ(ToJson(s), json::parse(R"({"vsid":6000,"rdid":"{12345678-1000-2000-3000-123456780001}",
      "prefixes":["10.0.1.0/24"]})"));
}

// Policy -> JSON -> Policy gives the same policy, for every kind, on the
// chapter's hosts (IPv4 and IPv6 tenants, IPv6 PAs).
TEST(JsonModelTest, RoundTripEveryKind) {
  for (const Policy& original :
       {test::ChapterHost1(), test::ChapterHost2(), test::ChapterGatewayHost(),
        test::ChapterHost1V6(), test::ChapterHost1V6Provider()}) {
    Policy back;
    for (Kind kind : kAllKinds) {
      const json array = KindToJson(original, kind);
      ASSERT_TRUE(array.is_array());
      // Through text, as on the wire.
      const json wire = json::parse(array.dump());
      std::optional<JsonError> e = AppendFromJson(kind, wire, &back);
      ASSERT_FALSE(e) << KindName(kind) << ": " << e->ToString();
      EXPECT_EQ(KindToJson(back, kind), array) << KindName(kind);
    }
    EXPECT_EQ(DumpPolicy(back), DumpPolicy(original));
    ASSERT_EQ(back.routing_domains.size(), original.routing_domains.size());
    for (size_t i = 0; i < back.routing_domains.size(); ++i) {
      EXPECT_EQ(back.routing_domains[i].rdid, original.routing_domains[i].rdid);
      EXPECT_EQ(back.routing_domains[i].name, original.routing_domains[i].name);
    }
    ASSERT_EQ(back.subnets.size(), original.subnets.size());
    for (size_t i = 0; i < back.subnets.size(); ++i) {
      EXPECT_EQ(back.subnets[i].vsid, original.subnets[i].vsid);
      EXPECT_EQ(back.subnets[i].rdid, original.subnets[i].rdid);
      EXPECT_EQ(back.subnets[i].prefixes, original.subnets[i].prefixes);
    }
    ASSERT_EQ(back.records.size(), original.records.size());
    for (size_t i = 0; i < back.records.size(); ++i) {
      const LookupRecord& x = back.records[i];
      const LookupRecord& y = original.records[i];
      EXPECT_TRUE(x.ca == y.ca && x.vsid == y.vsid && x.mac == y.mac && x.pa == y.pa &&
                  x.rule == y.rule && x.type == y.type && x.vm_name == y.vm_name)
          << i;
    }
    ASSERT_EQ(back.vm_ports.size(), original.vm_ports.size());
    for (size_t i = 0; i < back.vm_ports.size(); ++i) {
      EXPECT_EQ(back.vm_ports[i].port, original.vm_ports[i].port);
      EXPECT_EQ(back.vm_ports[i].mac, original.vm_ports[i].mac);
    }
  }
}

TEST(JsonModelTest, RoundTripOfEveryEnumValue) {
  for (TranslationRule rule : {TranslationRule::kEncap, TranslationRule::kNone}) {
    for (RecordType type : {RecordType::kStatic, RecordType::kDynamic, RecordType::kL2Only,
                            RecordType::kGatewayWildcard}) {
      LookupRecord r;
      r.ca = test::Ip("fd00:1::101");
      r.vsid = 16777214;
      r.mac = test::Mac("700070000101");
      r.pa = test::Ip("fd00:ffff::22");
      r.rule = rule;
      r.type = type;
      FromJsonResult<LookupRecord> back = LookupRecordFromJson(ToJson(r));
      ASSERT_TRUE(back.value) << back.error->ToString();
      EXPECT_EQ(back.value->rule, rule);
      EXPECT_EQ(back.value->type, type);
      EXPECT_EQ(back.value->ca, r.ca);
      EXPECT_EQ(back.value->vsid, r.vsid);
    }
  }
}

TEST(JsonModelTest, AcceptsTheYamlSpellings) {
  for (const char* mac : {"600060000101", "60-00-60-00-01-01", "60:00:60:00:01:01",
                          "60:00:60:00:01:01", "60-00-60-00-01-01"}) {
    FromJsonResult<VmPort> v =
        VmPortFromJson({{"vm_name", "Contoso1"}, {"port", 1}, {"mac", mac}, {"vsid", 6000}});
    ASSERT_TRUE(v.value) << mac;
    EXPECT_EQ(v.value->mac, test::Mac("600060000101")) << mac;
  }
  const std::pair<const char*, TranslationRule> rules[] = {
      {"TranslationMethodEncap", TranslationRule::kEncap},
      {"translationmethodencap", TranslationRule::kEncap},
      {"encap", TranslationRule::kEncap},
      {"ENCAP", TranslationRule::kEncap},
      {"TranslationMethodNone", TranslationRule::kNone},
      {"none", TranslationRule::kNone},
      {"None", TranslationRule::kNone},
  };
  for (const auto& [text, rule] : rules) {
    FromJsonResult<LookupRecord> r = LookupRecordFromJson({{"customer_address", "10.0.1.101"},
                                                           {"vsid", 6000},
                                                           {"mac", "600060000101"},
                                                           {"provider_address", "192.168.0.22"},
                                                           {"rule", text}});
    ASSERT_TRUE(r.value) << text;
    EXPECT_EQ(r.value->rule, rule) << text;
  }
  const std::pair<const char*, RecordType> types[] = {
      {"Static", RecordType::kStatic},
      {"static", RecordType::kStatic},
      {"DYNAMIC", RecordType::kDynamic},
      {"L2Only", RecordType::kL2Only},
      {"l2only", RecordType::kL2Only},
      {"GatewayWildcard", RecordType::kGatewayWildcard},
      {"gatewaywildcard", RecordType::kGatewayWildcard},
  };
  for (const auto& [text, type] : types) {
    FromJsonResult<LookupRecord> r = LookupRecordFromJson({{"customer_address", "0.0.0.0"},
                                                           {"vsid", "6000"},  // a string is fine
                                                           {"mac", "600060000101"},
                                                           {"provider_address", "192.168.0.22"},
                                                           {"type", text}});
    ASSERT_TRUE(r.value) << text;
    EXPECT_EQ(r.value->type, type) << text;
    EXPECT_EQ(r.value->vsid, 6000u);
  }
}

TEST(JsonModelTest, DefaultsOfOptionalFields) {
  FromJsonResult<LookupRecord> r = LookupRecordFromJson({{"customer_address", "10.0.1.101"},
                                                         {"vsid", 6000},
                                                         {"mac", "600060000101"},
                                                         {"provider_address", "192.168.0.22"}});
  ASSERT_TRUE(r.value);
  EXPECT_EQ(r.value->rule, TranslationRule::kEncap);
  EXPECT_EQ(r.value->type, RecordType::kStatic);
  EXPECT_EQ(r.value->vm_name, "");
  EXPECT_EQ(r.present,
            (std::vector<std::string>{"customer_address", "vsid", "mac", "provider_address"}));

  // L2Only and GatewayWildcard records need no customer address.
  r = LookupRecordFromJson({{"vsid", 6000},
                            {"mac", "600060000204"},
                            {"provider_address", "192.168.0.33"},
                            {"type", "L2Only"}});
  ASSERT_TRUE(r.value) << r.error->ToString();
  EXPECT_TRUE(r.value->ca.IsUnspecified());

  // On-link next hops of the destination's family.
  FromJsonResult<CustomerRoute> c =
      CustomerRouteFromJson({{"rdid", kRdid}, {"vsid", 7000}, {"destination", "fd00:1::/64"}});
  ASSERT_TRUE(c.value);
  EXPECT_TRUE(c.value->next_hop.is_v6() && c.value->next_hop.IsUnspecified());
  EXPECT_EQ(c.value->metric, 0u);
  FromJsonResult<ProviderRoute> p =
      ProviderRouteFromJson({{"destination", "192.168.64.0/18"}, {"port", 0}});
  ASSERT_TRUE(p.value);
  EXPECT_TRUE(p.value->next_hop.is_v4() && p.value->next_hop.IsUnspecified());

  // null counts as absent.
  FromJsonResult<RoutingDomain> d = RoutingDomainFromJson({{"rdid", kRdid}, {"name", nullptr}});
  ASSERT_TRUE(d.value);
  EXPECT_EQ(d.value->name, "");
}

TEST(JsonModelTest, VirtualSubnetPrefixAsInTheYaml) {
  FromJsonResult<VirtualSubnet> s =
      VirtualSubnetFromJson({{"vsid", 6000}, {"rdid", kRdid}, {"prefix", "10.0.1.0/24"}});
  ASSERT_TRUE(s.value) << s.error->ToString();
  EXPECT_EQ(s.value->prefixes, std::vector<IpPrefix>{test::Prefix("10.0.1.0/24")});
  s = VirtualSubnetFromJson(
      {{"vsid", 6000}, {"rdid", kRdid}, {"prefixes", "10.0.1.0/24, fd00::/64"}});
  ASSERT_TRUE(s.value) << s.error->ToString();
  EXPECT_EQ(s.value->prefixes.size(), 2u);
}

TEST(JsonModelTest, PortNamesNeedAResolver) {
  const json o = {{"address", "192.168.0.22"}, {"prefix_length", 24}, {"port", "uplink"}};
  FromJsonResult<ProviderAddress> a = ProviderAddressFromJson(o);
  ASSERT_TRUE(a.error);
  EXPECT_EQ(a.error->ToString(), "port: \"uplink\" is not a port number");
  FromJsonOptions options;
  options.port_by_name = [](std::string_view name) -> std::optional<uint16_t> {
    if (name == "uplink") return 0;
    if (name == "vm1") return 1;
    return std::nullopt;
  };
  a = ProviderAddressFromJson(o, options);
  ASSERT_TRUE(a.value);
  EXPECT_EQ(a.value->port, 0);
  FromJsonResult<VmPort> v = VmPortFromJson(
      {{"vm_name", "x"}, {"port", "vm9"}, {"mac", "600060000101"}, {"vsid", 6000}}, options);
  ASSERT_TRUE(v.error);
  EXPECT_EQ(v.error->ToString(), "port: \"vm9\" is not a port of this host");
  // A port number given as text is a number.
  v = VmPortFromJson({{"vm_name", "x"}, {"port", "2"}, {"mac", "600060000101"}, {"vsid", 6000}});
  ASSERT_TRUE(v.value);
  EXPECT_EQ(v.value->port, 2);
}

TEST(JsonModelTest, PartialObjectsForSetRemoveAndFilters) {
  FromJsonOptions partial;
  partial.mode = Mode::kPartial;
  FromJsonResult<json> n = NormalizeObject(
      Kind::kLookupRecord, {{"mac", "60-00-60-00-01-01"}, {"vsid", "6000"}}, partial);
  ASSERT_TRUE(n.value) << n.error->ToString();
  EXPECT_EQ(*n.value, json({{"mac", "600060000101"}, {"vsid", 6000}}));
  EXPECT_EQ(n.present, (std::vector<std::string>{"vsid", "mac"}));
  // The same object is incomplete for new.
  n = NormalizeObject(Kind::kLookupRecord, {{"mac", "600060000101"}, {"vsid", 6000}});
  ASSERT_TRUE(n.error);
  EXPECT_EQ(n.error->ToString(),
            "customer_address: missing (a lookup-record needs customer_address, vsid, mac, "
            "provider_address)");
  // Canonical forms of everything.
  n = NormalizeObject(Kind::kCustomerRoute, {{"rdid", "12345678-1000-2000-3000-12345678000A"},
                                             {"vsid", 6000},
                                             {"destination", "FD00:0:0::/64"},
                                             {"next_hop", "::"},
                                             {"metric", "7"}});
  ASSERT_TRUE(n.value) << n.error->ToString();
  EXPECT_EQ(*n.value, json({{"rdid", "{12345678-1000-2000-3000-12345678000a}"},
                            {"vsid", 6000},
                            {"destination", "fd00::/64"},
                            {"next_hop", "::"},
                            {"metric", 7}}));
}

struct BadCase {
  Kind kind;
  const char* object;  // JSON
  const char* error;
};

// Every message a bad field can produce.
TEST(JsonModelTest, ErrorsNameTheFieldAndTheValue) {
  const BadCase cases[] = {
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":6000,"mac":"60006000010","provider_address":"192.168.0.22"})",
       R"(mac: "60006000010" is not a MAC address (600060000101, 60-00-60-00-01-01 or 60:00:60:00:01:01))"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":6000,"mac":"60-00:60-00-01-01","provider_address":"192.168.0.22"})",
       R"(mac: "60-00:60-00-01-01" is not a MAC address (600060000101, 60-00-60-00-01-01 or 60:00:60:00:01:01))"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":6000,"mac":600060000101,"provider_address":"192.168.0.22"})",
       R"(mac: 600060000101 is not a MAC address (600060000101, 60-00-60-00-01-01 or 60:00:60:00:01:01))"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1","vsid":6000,"mac":"600060000101","provider_address":"192.168.0.22"})",
       R"(customer_address: "10.0.1" is not an IP address)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":6000,"mac":"600060000101","provider_address":"host2"})",
       R"(provider_address: "host2" is not an IP address)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":"abc","mac":"600060000101","provider_address":"192.168.0.22"})",
       R"(vsid: "abc" is not a number)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":"6000x","mac":"600060000101","provider_address":"192.168.0.22"})",
       R"(vsid: "6000x" is not a number)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":70000000,"mac":"600060000101","provider_address":"192.168.0.22"})",
       R"(vsid: 70000000 is outside 4096..16777214)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":4095,"mac":"600060000101","provider_address":"192.168.0.22"})",
       R"(vsid: 4095 is outside 4096..16777214)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":-1,"mac":"600060000101","provider_address":"192.168.0.22"})",
       R"(vsid: -1 is outside 4096..16777214)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":"-6000","mac":"600060000101","provider_address":"192.168.0.22"})",
       R"(vsid: "-6000" is outside 4096..16777214)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":6000.5,"mac":"600060000101","provider_address":"192.168.0.22"})",
       R"(vsid: 6000.5 is not a whole number)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":true,"mac":"600060000101","provider_address":"192.168.0.22"})",
       R"(vsid: true is not a number)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":1e3,"mac":"600060000101","provider_address":"192.168.0.22"})",
       R"(vsid: 1000.0 is not a whole number)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":6000,"mac":"600060000101","provider_address":"192.168.0.22","rule":"gre"})",
       R"(rule: "gre" is not a rule (TranslationMethodEncap or TranslationMethodNone))"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":6000,"mac":"600060000101","provider_address":"192.168.0.22","type":"Learned"})",
       R"(type: "Learned" is not a record type (Static, Dynamic, L2Only or GatewayWildcard))"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":6000,"mac":"600060000101","provider_address":"192.168.0.22","vm_name":7})",
       R"(vm_name: 7 is not a string)"},
      {Kind::kLookupRecord,
       R"({"customer_address":"10.0.1.101","vsid":6000,"mac":"600060000101","provider_address":"192.168.0.22","macc":"x"})",
       R"(macc: unknown field (lookup-record fields: customer_address, vsid, mac, provider_address, rule, type, vm_name))"},
      {Kind::kLookupRecord,
       R"({"vsid":6000,"mac":"600060000101","provider_address":"192.168.0.22"})",
       R"(customer_address: missing (a lookup-record needs customer_address, vsid, mac, provider_address))"},
      {Kind::kLookupRecord, R"([1,2])", R"(a lookup-record is a JSON object, not [1,2])"},
      {Kind::kCustomerRoute,
       R"({"rdid":"{12345678-1000-2000-3000-12345678}","vsid":6000,"destination":"10.0.1.0/24"})",
       R"(rdid: "{12345678-1000-2000-3000-12345678}" is not a GUID (like {12345678-1000-2000-3000-123456780001}))"},
      {Kind::kCustomerRoute,
       R"({"rdid":"{12345678-1000-2000-3000-123456780001}","vsid":6000,"destination":"10.0.1.5/24"})",
       R"(destination: "10.0.1.5/24" has host bits set (10.0.1.0/24?))"},
      {Kind::kCustomerRoute,
       R"({"rdid":"{12345678-1000-2000-3000-123456780001}","vsid":6000,"destination":"10.0.1.0/33"})",
       R"(destination: "10.0.1.0/33" is not an IP prefix (like 10.0.1.0/24 or fd00::/64))"},
      {Kind::kCustomerRoute,
       R"({"rdid":"{12345678-1000-2000-3000-123456780001}","vsid":6000,"destination":"10.0.1.0"})",
       R"(destination: "10.0.1.0" is not an IP prefix (like 10.0.1.0/24 or fd00::/64))"},
      {Kind::kCustomerRoute,
       R"({"rdid":"{12345678-1000-2000-3000-123456780001}","vsid":6000,"destination":"10.0.1.0/24","next_hop":"10.0.2.x"})",
       R"(next_hop: "10.0.2.x" is not an IP address)"},
      {Kind::kCustomerRoute,
       R"({"rdid":"{12345678-1000-2000-3000-123456780001}","vsid":6000,"destination":"10.0.1.0/24","metric":4294967296})",
       R"(metric: 4294967296 is outside 0..4294967295)"},
      {Kind::kCustomerRoute, R"({"rdid":"{12345678-1000-2000-3000-123456780001}","vsid":6000})",
       R"(destination: missing (a customer-route needs rdid, vsid, destination))"},
      {Kind::kProviderAddress, R"({"address":"192.168.0.22","prefix_length":129,"port":0})",
       R"(prefix_length: 129 is outside 0..128)"},
      {Kind::kProviderAddress,
       R"({"address":"192.168.0.22","prefix_length":24,"port":0,"vlan":4095})",
       R"(vlan: 4095 is outside 0..4094)"},
      {Kind::kProviderAddress, R"({"address":"192.168.0.22","prefix_length":24,"port":65536})",
       R"(port: 65536 is outside 0..65535)"},
      {Kind::kProviderAddress, R"({"address":"192.168.0.22","prefix_length":24,"port":""})",
       R"(port: "" is not a port number or name)"},
      {Kind::kProviderAddress, R"({"address":"192.168.0.22","prefix_length":24,"port":[0]})",
       R"(port: [0] is not a number)"},
      {Kind::kProviderAddress,
       R"({"address":"192.168.0.22","prefix_length":24,"port":0,"mac":"33445566778"})",
       R"(mac: "33445566778" is not a MAC address (600060000101, 60-00-60-00-01-01 or 60:00:60:00:01:01))"},
      {Kind::kProviderAddress, R"({"address":"192.168.0.22","port":0})",
       R"(prefix_length: missing (a provider-address needs address, prefix_length, port))"},
      {Kind::kProviderRoute, R"({"destination":"0.0.0.0/0","port":"0","next_hop":"192.168.0.1.1"})",
       R"(next_hop: "192.168.0.1.1" is not an IP address)"},
      {Kind::kProviderRoute, R"({"destination":"0.0.0.0/0"})",
       R"(port: missing (a provider-route needs destination, port))"},
      {Kind::kVmNetworkAdapter, R"({"vm_name":"Contoso1","port":1,"mac":"600060000101","vsid":0})",
       R"(vsid: 0 is outside 4096..16777214)"},
      {Kind::kVmNetworkAdapter,
       R"({"vm_name":["Contoso1"],"port":1,"mac":"600060000101","vsid":6000})",
       R"(vm_name: ["Contoso1"] is not a string)"},
      {Kind::kVmNetworkAdapter, R"({"vm_name":"Contoso1","port":1,"vsid":6000})",
       R"(mac: missing (a vm-network-adapter needs vm_name, port, mac, vsid))"},
      {Kind::kRoutingDomain, R"({"rdid":"contoso"})",
       R"(rdid: "contoso" is not a GUID (like {12345678-1000-2000-3000-123456780001}))"},
      {Kind::kRoutingDomain, R"({"name":"Contoso"})",
       R"(rdid: missing (a routing-domain needs rdid))"},
      {Kind::kVirtualSubnet,
       R"({"vsid":6000,"rdid":"{12345678-1000-2000-3000-123456780001}","prefixes":["10.0.1.0/24","fd00::1/64"]})",
       R"(prefixes[1]: "fd00::1/64" has host bits set (fd00::/64?))"},
      {Kind::kVirtualSubnet,
       R"({"vsid":6000,"rdid":"{12345678-1000-2000-3000-123456780001}","prefixes":[]})",
       R"(prefixes: [] is an empty list; give at least one prefix)"},
      {Kind::kVirtualSubnet,
       R"({"vsid":6000,"rdid":"{12345678-1000-2000-3000-123456780001}","prefixes":{"a":1}})",
       R"(prefixes: {"a":1} is not a list of IP prefixes)"},
      {Kind::kVirtualSubnet,
       R"({"vsid":6000,"rdid":"{12345678-1000-2000-3000-123456780001}","prefix":"10.0.1.0/24","prefixes":["10.0.1.0/24"]})",
       R"(prefix: give prefix or prefixes, not both)"},
      {Kind::kVirtualSubnet,
       R"({"vsid":6000,"rdid":"{12345678-1000-2000-3000-123456780001}","prefix":"10.0.1.0/244"})",
       R"(prefix: "10.0.1.0/244" is not an IP prefix (like 10.0.1.0/24 or fd00::/64))"},
      {Kind::kVirtualSubnet, R"({"vsid":6000,"rdid":"{12345678-1000-2000-3000-123456780001}"})",
       R"(prefixes: missing (a virtual-subnet needs vsid, rdid, prefixes))"},
  };
  for (const BadCase& c : cases) {
    const json object = json::parse(c.object);
    FromJsonResult<json> n = NormalizeObject(c.kind, object);
    ASSERT_TRUE(n.error) << c.object;
    EXPECT_EQ(n.error->ToString(), c.error) << c.object;
    // The typed readers report the same.
    Policy p;
    std::optional<JsonError> e = AppendFromJson(c.kind, json::array({object}), &p);
    ASSERT_TRUE(e) << c.object;
    const std::string prefix = n.error->field.empty() ? "[0]: " : "[0].";
    EXPECT_EQ(e->ToString(), prefix + c.error) << c.object;
  }
}

TEST(JsonModelTest, AppendFromJsonNeedsAnArray) {
  Policy p;
  std::optional<JsonError> e = AppendFromJson(Kind::kLookupRecord, json::object(), &p);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ToString(), "expected a JSON array, got {}");
}

TEST(JsonModelTest, KindNames) {
  for (Kind k : kAllKinds) EXPECT_EQ(ParseKind(KindName(k)), k);
  EXPECT_FALSE(ParseKind("lookup-records"));
  EXPECT_EQ(KindNames(),
            "lookup-record, customer-route, provider-address, provider-route, vm-network-adapter, "
            "routing-domain, virtual-subnet, port-acl, port-extended-acl");
}

TEST(JsonModelTest, HugeValuesAreShortenedInMessages) {
  const std::string long_name(500, 'x');
  FromJsonResult<json> n = NormalizeObject(Kind::kLookupRecord, {{"mac", long_name}});
  ASSERT_TRUE(n.error);
  EXPECT_LT(n.error->message.size(), 200u);
  EXPECT_NE(n.error->message.find("...\" is not a MAC"), std::string::npos) << n.error->message;
}

}  // namespace
}  // namespace hnv::config
