// The store's key layout and documents: every key as README.md documents it,
// parsed back; names that are not key-safe; documents that round-trip and
// strict parsing that names the field.
#include <gtest/gtest.h>

#include "config/store/documents.h"
#include "config/store/layout.h"
#include "config/store/store_state.h"

namespace hnv::store {
namespace {

using Kind = Layout::Key::Kind;

TEST(Layout, KeysAreTheDocumentedOnes) {
  const Layout l;
  EXPECT_EQ(l.root(), "/hnv/v1/");
  EXPECT_EQ(l.Generation(), "/hnv/v1/generation");
  EXPECT_EQ(l.Host("host1"), "/hnv/v1/hosts/host1");
  EXPECT_EQ(l.TenantSpec("contoso"), "/hnv/v1/tenants/contoso/spec");
  EXPECT_EQ(l.Vm("contoso", "Contoso1"), "/hnv/v1/tenants/contoso/vms/Contoso1");
  EXPECT_EQ(l.VmsPrefix("contoso"), "/hnv/v1/tenants/contoso/vms/");
  EXPECT_EQ(l.Placement("host1", "contoso", "Contoso1"), "/hnv/v1/placement/host1/contoso/Contoso1");
  EXPECT_EQ(l.PlacementPrefix("host1"), "/hnv/v1/placement/host1/");
  EXPECT_EQ(l.Status("host1"), "/hnv/v1/status/host1");
  EXPECT_EQ(l.Learned("host2", 6000, *IpAddr::Parse("10.0.1.150")),
            "/hnv/v1/learned/host2/6000/10.0.1.150");
  EXPECT_EQ(l.Learned("host2", 7000, *IpAddr::Parse("fd00:1::5")),
            "/hnv/v1/learned/host2/7000/fd00%3A1%3A%3A5");
  EXPECT_EQ(Layout("/dc2/hnv").Host("a"), "/dc2/hnv/hosts/a");
}

TEST(Layout, KeysParseBackWithTheirNames) {
  const Layout l;
  auto parse = [&](const std::string& k) { return l.Parse(k); };
  EXPECT_EQ(parse(l.Generation()).kind, Kind::kGeneration);
  Layout::Key k = parse(l.Vm("contoso", "MT GW/1"));
  EXPECT_EQ(k.kind, Kind::kVm);
  EXPECT_EQ(k.tenant, "contoso");
  EXPECT_EQ(k.vm, "MT GW/1");
  EXPECT_EQ(l.Vm("contoso", "MT GW/1"), "/hnv/v1/tenants/contoso/vms/MT%20GW%2F1");
  k = parse(l.Placement("h.1", "t_1", "v"));
  EXPECT_EQ(k.kind, Kind::kPlacement);
  EXPECT_EQ(k.host, "h.1");
  EXPECT_EQ(k.tenant, "t_1");
  k = parse(l.Learned("host2", 6000, *IpAddr::Parse("fd00:1::5")));
  EXPECT_EQ(k.kind, Kind::kLearned);
  EXPECT_EQ(k.vsid, 6000u);
  EXPECT_EQ(k.ca.ToString(), "fd00:1::5");
  EXPECT_EQ(parse(l.Status("host1")).host, "host1");
  // Not this layout's.
  for (const char* bad : {"/hnv/v2/hosts/a", "/hnv/v1/hosts/a/b", "/hnv/v1/hosts/", "/hnv/v1/x",
                          "/hnv/v1/tenants/t/other", "/hnv/v1/learned/h/notanumber/10.0.0.1",
                          "/hnv/v1/learned/h/6000/10.0.0.x", "/hnv/v1/hosts/bad%zz"})
    EXPECT_EQ(parse(bad).kind, Kind::kUnknown) << bad;
  EXPECT_EQ(EncodeName("a b%/é"), "a%20b%25%2F%C3%A9");
  EXPECT_EQ(DecodeName("a%20b%25%2F%C3%A9"), "a b%/é");
  EXPECT_EQ(DecodeName("a%2"), std::nullopt);
  EXPECT_EQ(DecodeName("a b"), std::nullopt);
}

TEST(Documents, RoundTripAndStrictParsing) {
  VmDoc vm;
  vm.name = "Contoso1";
  vm.tenant = "contoso";
  vm.vsid = 6000;
  vm.mac = *MacAddr::Parse("60-00-60-00-01-01");
  vm.addresses = {*IpAddr::Parse("10.0.1.101")};
  vm.host = "host1";
  vm.port = "vm1";
  std::string error;
  const std::string text = ToJson(vm);
  EXPECT_EQ(text,
            R"({"addresses":["10.0.1.101"],"host":"host1","mac":"600060000101","name":"Contoso1",)"
            R"("port":"vm1","rule":"TranslationMethodEncap","tenant":"contoso","type":"Static",)"
            R"("vm_name":"","vsid":6000})");
  std::optional<VmDoc> back = VmFromJson(text, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, vm);
  // Spellings the YAML takes are taken; anything else names its field.
  back = VmFromJson(R"({"name":"a","tenant":"t","vsid":"6000","mac":"60:00:60:00:01:01",)"
                    R"("host":"h","type":"l2only"})",
                    &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->type, RecordType::kL2Only);
  struct Bad {
    const char* json;
    const char* error;
  };
  for (const Bad& b : {
           Bad{R"({"name":"a","tenant":"t","vsid":99,"mac":"600060000101","host":"h"})",
               "vsid: 99 is outside 4096..16777214"},
           Bad{R"({"name":"a","tenant":"t","vsid":6000,"mac":"6000","host":"h"})",
               "mac: \"6000\" is not a MAC address (600060000101, 60-00-60-00-01-01 or "
               "60:00:60:00:01:01)"},
           Bad{R"({"name":"a","tenant":"t","vsid":6000,"mac":"600060000101"})", "host: missing"},
           Bad{R"({"name":"a","tenant":"t","vsid":6000,"mac":"600060000101","host":"h","addresses":["10.0.1.x"]})",
               "addresses[0]: \"10.0.1.x\" is not an IP address"},
           Bad{R"({"name":"a","tenant":"t","vsid":6000,"mac":"600060000101","host":"h","colour":1})",
               "colour: unknown field"},
           Bad{R"({"name":"a","tenant":"t","vsid":6000,"mac":"600060000101","host":"h","type":"Dynamic"})",
               "type: a VM's records are not Dynamic (learned)"},
           Bad{R"([1])", "is array, not an object"},
           Bad{R"({"name":)", "not JSON"},
       }) {
    EXPECT_FALSE(VmFromJson(b.json, &error)) << b.json;
    EXPECT_EQ(error, b.error) << b.json;
  }
  // A state keeps a bad document out and says why.
  StoreState s;
  s.Put(KeyValue{s.layout().Vm("t", "a"), R"({"name":"b","tenant":"t","vsid":6000,"mac":"600060000101","host":"h"})", 0, 5, 1, 0});
  EXPECT_TRUE(s.vms.empty());
  EXPECT_EQ(s.bad.at(s.layout().Vm("t", "a")), "name: \"b\" is not the key's a");
  s.Put(KeyValue{s.layout().Generation(), "x", 0, 6, 1, 0});
  EXPECT_EQ(s.bad.at(s.layout().Generation()), "\"x\" is not a generation number");
}

TEST(Documents, TheGenerationSaysWhatItsWriteTouched) {
  GenerationDoc g{7, true, {}, {"host1", "host2"}, {"contoso"}};
  const std::string text = ToText(g);
  EXPECT_EQ(text, R"(7 {"hosts":[],"placement":["host1","host2"],"tenants":["contoso"]})");
  std::string error;
  std::optional<GenerationDoc> back = GenerationFromText(text, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->number, 7u);
  EXPECT_TRUE(back->has_manifest);
  EXPECT_EQ(back->placement, g.placement);
  EXPECT_EQ(back->tenants, g.tenants);
  // A bare number (a writer before the manifest): touched is unknown.
  back = GenerationFromText("12", &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->number, 12u);
  EXPECT_FALSE(back->has_manifest);
  EXPECT_EQ(ToText(GenerationDoc{12, false, {}, {}, {}}), "12");
  for (const auto& [bad, why] : std::vector<std::pair<std::string, std::string>>{
           {"", "\"\" is not a generation number"},
           {"7x", "\"7x\" is not a generation number"},
           {"7 {", "manifest: not JSON"},
           {R"(7 {"hosts":[],"placement":[],"tenants":[1]})", "manifest.tenants[0]: is not a string"},
           {R"(7 {"hosts":[],"placement":[]})", "manifest.tenants: missing"},
           {R"(7 {"hosts":[],"placement":[],"tenants":[],"x":1})", "manifest.x: unknown field"},
       }) {
    EXPECT_FALSE(GenerationFromText(bad, &error)) << bad;
    EXPECT_EQ(error, why) << bad;
  }
}

TEST(Documents, HostsTenantsAndStatusRoundTrip) {
  HostDoc h;
  h.name = "gw";
  h.role = HostDoc::Role::kGateway;
  h.settings.underlay_mtu = 9000;
  h.settings.mtu_policy = MtuPolicy::kClampMss;
  h.ports = {{0, "uplink", "net_af_packet0,iface=uplink"}, {1, "external", "net_af_packet1,iface=x"}};
  h.provider_addresses.push_back(ProviderAddress{*IpAddr::Parse("192.168.0.11"), 24,
                                                 *MacAddr::Parse("223344556677"), 10, 0});
  h.state_dir = "/var/lib/hnv/gw";
  std::string error;
  std::optional<HostDoc> hb = HostFromJson(ToJson(h), &error);
  ASSERT_TRUE(hb) << error;
  EXPECT_EQ(*hb, h);
  EXPECT_EQ(hb->ports[1].index, 1);

  TenantDoc t;
  t.name = "contoso";
  t.routing_domain = RoutingDomain{*Guid::Parse("{12345678-1000-2000-3000-123456780001}"), "Contoso"};
  t.subnets.push_back(VirtualSubnet{6000, t.routing_domain.rdid, {*IpPrefix::Parse("10.0.1.0/24")}});
  t.local_records.push_back(LookupRecord{*IpAddr::Parse("10.0.1.1"), 6000,
                                         *MacAddr::Parse("600060000100"), IpAddr{},
                                         TranslationRule::kEncap, RecordType::kStatic, ""});
  GatewayDoc g;
  g.host = "gw";
  g.spec.id = 3;
  g.spec.netns = "hnv-contoso";
  g.spec.vsid = 6001;
  g.spec.vm_address = config::IfAddress{*IpAddr::Parse("10.0.2.2"), 24};
  g.spec.vm_mac = *MacAddr::Parse("600160010301");
  g.spec.external.push_back(config::ExternalSpec{"ext0", "external", 0, 10, *MacAddr::Parse("600160010302"),
                                                  {{*IpAddr::Parse("10.1.3.2"), 24}}, 1500});
  g.spec.routes.push_back(config::StaticRoute{*IpPrefix::Parse("10.0.1.0/24"), *IpAddr::Parse("10.0.2.1"),
                                               "vmnet", 0});
  t.gateway = g;
  std::optional<TenantDoc> tb = TenantFromJson(ToJson(t), &error);
  ASSERT_TRUE(tb) << error;
  EXPECT_EQ(*tb, t);
  EXPECT_EQ(tb->gateway->spec.vm_port, kFirstVirtualPort + 3);
  EXPECT_EQ(tb->gateway->spec.external[0].port_name, "external");

  StatusDoc st;
  st.host = "host1";
  st.generation = 7;
  st.revision = 1234;
  st.time_ms = 1700000000000;
  st.errors = {"tenants/x/vms/y: port vm9 is not a port of host host1"};
  st.tenants = {{"contoso", 1200}};
  st.records = 6;
  std::optional<StatusDoc> sb = StatusFromJson(ToJson(st), &error);
  ASSERT_TRUE(sb) << error;
  EXPECT_EQ(ToJson(*sb), ToJson(st));
}

}  // namespace
}  // namespace hnv::store
