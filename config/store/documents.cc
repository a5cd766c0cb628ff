#include "config/store/documents.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <initializer_list>

#include "config/json_model.h"
#include "config/yaml_tenant.h"
#include "config/policy/policy_dump.h"

namespace hnv::store {

bool operator==(const HostDoc& a, const HostDoc& b) { return ToJson(a) == ToJson(b); }
bool operator==(const TenantDoc& a, const TenantDoc& b) { return ToJson(a) == ToJson(b); }
bool operator==(const VmDoc& a, const VmDoc& b) { return ToJson(a) == ToJson(b); }

namespace {

using config::FieldType;
using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Reads one JSON object field by field; the first error wins and names the
// field by its path.
class Reader {
 public:
  Reader(const json& object, std::string path, std::string* error)
      : o_(object), path_(std::move(path)), error_(error) {
    if (!o_.is_object()) Fail("", "is " + std::string(o_.type_name()) + ", not an object");
  }
  bool ok() const { return error_->empty(); }

  void Fail(const std::string& field, const std::string& message) {
    if (!error_->empty()) return;
    const std::string where = path_ + field;
    *error_ = where.empty() ? message : where + ": " + message;
  }
  std::string Path(const std::string& field) const { return path_ + field; }

  // Refuses keys not in `known`.
  void Only(std::initializer_list<const char*> known) {
    if (!ok()) return;
    for (const auto& [key, value] : o_.items()) {
      bool found = false;
      for (const char* k : known) found = found || key == k;
      if (!found) Fail(key, "unknown field");
    }
  }
  const json* Get(const char* key, bool required) {
    if (!ok()) return nullptr;
    const auto it = o_.find(key);
    if (it == o_.end() || it->is_null()) {
      if (required) Fail(key, "missing");
      return nullptr;
    }
    return &*it;
  }
  // A field checked and canonicalised by config::NormalizeField.
  std::optional<json> Field(const char* key, FieldType type, bool required) {
    const json* v = Get(key, required);
    if (v == nullptr) return std::nullopt;
    config::FieldResult r = config::NormalizeField(type, *v);
    if (!r.value) {
      Fail(key, r.error);
      return std::nullopt;
    }
    return r.value;
  }
  std::string String(const char* key, bool required) {
    const json* v = Get(key, required);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      Fail(key, Dump(*v) + " is not a string");
      return {};
    }
    return v->get<std::string>();
  }
  uint64_t Number(const char* key, bool required, uint64_t lo, uint64_t hi, uint64_t dflt) {
    const json* v = Get(key, required);
    if (v == nullptr) return dflt;
    if (!v->is_number_unsigned() || v->get<uint64_t>() < lo || v->get<uint64_t>() > hi) {
      Fail(key, Dump(*v) + " is not a number in " + std::to_string(lo) + ".." + std::to_string(hi));
      return dflt;
    }
    return v->get<uint64_t>();
  }
  // Each element of a list field.
  template <typename F>
  void List(const char* key, bool required, F&& each) {
    const json* v = Get(key, required);
    if (v == nullptr) return;
    if (!v->is_array()) {
      Fail(key, Dump(*v) + " is not a list");
      return;
    }
    for (size_t i = 0; i < v->size() && ok(); ++i)
      each((*v)[i], std::string(key) + "[" + std::to_string(i) + "]");
  }

 private:
  const json& o_;
  std::string path_;
  std::string* error_;
};

std::optional<json> Parse(const std::string& text, std::string* error) {
  error->clear();
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *error = "not JSON";
    return std::nullopt;
  }
  return j;
}

// A model element through config/json_model.h, its errors under `path`.
template <typename T, typename FromJson>
std::optional<T> Element(const json& j, const std::string& path, std::string* error, FromJson f) {
  config::FromJsonResult<T> r = f(j, config::FromJsonOptions{});
  if (r.error) {
    *error = path + (r.error->field.empty() ? "" : "." + r.error->field) + ": " + r.error->message;
    return std::nullopt;
  }
  return std::move(*r.value);
}

json SettingsToJson(const HostSettings& s) {
  return json{{"underlay_mtu", s.underlay_mtu},
              {"mtu_policy", MtuPolicyName(s.mtu_policy)},
              {"flow_id", FlowIdName(s.flow_id_mode)},
              {"outer_ttl", s.outer_ttl},
              {"icmp_errors_per_second", s.icmp_errors_per_second},
              {"icmp_errors_burst", s.icmp_errors_burst}};
}

HostSettings SettingsFromJson(Reader& r) {
  HostSettings s;
  r.Only({"underlay_mtu", "mtu_policy", "flow_id", "outer_ttl", "icmp_errors_per_second",
          "icmp_errors_burst"});
  s.underlay_mtu = static_cast<uint32_t>(r.Number("underlay_mtu", false, 1280, 9216, 1500));
  const std::string mtu = r.String("mtu_policy", false);
  if (mtu == "icmp") s.mtu_policy = MtuPolicy::kIcmp;
  else if (mtu == "clamp-mss") s.mtu_policy = MtuPolicy::kClampMss;
  else if (mtu.empty() || mtu == "icmp-and-clamp") s.mtu_policy = MtuPolicy::kIcmpAndClamp;
  else r.Fail("mtu_policy", "\"" + mtu + "\" is not icmp, clamp-mss or icmp-and-clamp");
  const std::string flow = r.String("flow_id", false);
  if (flow == "zero") s.flow_id_mode = FlowIdMode::kZero;
  else if (flow.empty() || flow == "entropy") s.flow_id_mode = FlowIdMode::kEntropy;
  else r.Fail("flow_id", "\"" + flow + "\" is not entropy or zero");
  s.outer_ttl = static_cast<uint8_t>(r.Number("outer_ttl", false, 1, 255, 64));
  s.icmp_errors_per_second = static_cast<uint32_t>(
      r.Number("icmp_errors_per_second", false, 0, kMaxIcmpErrorsPerSecond, 1000));
  s.icmp_errors_burst =
      static_cast<uint32_t>(r.Number("icmp_errors_burst", false, 1, kMaxIcmpErrorsBurst, 50));
  return s;
}

json GatewayToJson(const GatewayDoc& g) {
  const config::CompartmentSpec& s = g.spec;
  json external = json::array();
  for (const config::ExternalSpec& e : s.external) {
    json addrs = json::array();
    for (const config::IfAddress& a : e.addresses) addrs.push_back(a.ToString());
    external.push_back(json{{"interface", e.interface},
                            {"port", e.port_name},
                            {"vlan", e.vlan},
                            {"mac", e.mac.ToCompactString()},
                            {"addresses", addrs},
                            {"mtu", e.mtu}});
  }
  json routes = json::array();
  for (const config::StaticRoute& rt : s.routes) {
    json j{{"destination", rt.destination.ToString()}, {"metric", rt.metric}};
    if (!rt.next_hop.IsUnspecified()) j["next_hop"] = rt.next_hop.ToString();
    if (!rt.interface.empty()) j["interface"] = rt.interface;
    routes.push_back(std::move(j));
  }
  return json{{"host", g.host},
              {"id", s.id},
              {"namespace", s.netns},
              {"max_routes", s.max_routes},
              {"vm_network",
               {{"interface", s.vm_interface},
                {"vsid", s.vsid},
                {"address", s.vm_address.ToString()},
                {"mac", s.vm_mac.ToCompactString()},
                {"mtu", s.vm_mtu}}},
              {"external", external},
              {"routes", routes}};
}

std::optional<config::IfAddress> IfAddressField(Reader& r, const json& v, const std::string& f) {
  std::string why;
  if (!v.is_string()) {
    r.Fail(f, Dump(v) + " is not an interface address");
    return std::nullopt;
  }
  std::optional<config::IfAddress> a = config::yaml::ParseIfAddress(v.get<std::string>(), &why);
  if (!a) r.Fail(f, why);
  return a;
}

std::optional<GatewayDoc> GatewayFromJson(const json& j, std::string* error) {
  GatewayDoc g;
  config::CompartmentSpec& s = g.spec;
  Reader r(j, "gateway.", error);
  r.Only({"host", "id", "namespace", "max_routes", "vm_network", "external", "routes"});
  g.host = r.String("host", true);
  s.id = static_cast<uint32_t>(r.Number("id", true, 0, kMaxCompartments - 1, 0));
  s.vm_port = static_cast<uint16_t>(kFirstVirtualPort + s.id);
  s.netns = r.String("namespace", true);
  s.max_routes = static_cast<uint32_t>(r.Number("max_routes", false, 1, 16777216, 16384));
  if (const json* vm = r.Get("vm_network", true)) {
    Reader v(*vm, "gateway.vm_network.", error);
    v.Only({"interface", "vsid", "address", "mac", "mtu"});
    s.vm_interface = v.String("interface", true);
    if (auto x = v.Field("vsid", FieldType::kVsid, true)) s.vsid = x->get<uint32_t>();
    if (const json* a = v.Get("address", true))
      if (auto addr = IfAddressField(v, *a, "address")) s.vm_address = *addr;
    if (auto x = v.Field("mac", FieldType::kMac, true)) s.vm_mac = *MacAddr::Parse(x->get<std::string>());
    s.vm_mtu = static_cast<uint32_t>(v.Number("mtu", true, 68, 65535, 1458));
  }
  r.List("external", false, [&](const json& item, const std::string& path) {
    Reader e(item, "gateway." + path + ".", error);
    e.Only({"interface", "port", "vlan", "mac", "addresses", "mtu"});
    config::ExternalSpec x;
    x.interface = e.String("interface", true);
    x.port_name = e.String("port", true);
    x.vlan = static_cast<uint16_t>(e.Number("vlan", false, 0, 4094, 0));
    if (auto m = e.Field("mac", FieldType::kMac, true)) x.mac = *MacAddr::Parse(m->get<std::string>());
    e.List("addresses", false, [&](const json& a, const std::string& f) {
      if (auto addr = IfAddressField(e, a, f)) x.addresses.push_back(*addr);
    });
    x.mtu = static_cast<uint32_t>(e.Number("mtu", false, 68, 65535, 1500));
    s.external.push_back(std::move(x));
  });
  r.List("routes", false, [&](const json& item, const std::string& path) {
    Reader e(item, "gateway." + path + ".", error);
    e.Only({"destination", "next_hop", "interface", "metric"});
    config::StaticRoute rt;
    if (auto d = e.Field("destination", FieldType::kIpPrefix, true))
      rt.destination = *IpPrefix::Parse(d->get<std::string>());
    if (auto n = e.Field("next_hop", FieldType::kIpAddr, false))
      rt.next_hop = *IpAddr::Parse(n->get<std::string>());
    else
      rt.next_hop.family = rt.destination.addr.family;  // unspecified: on-link
    rt.interface = e.String("interface", false);
    rt.metric = static_cast<uint32_t>(e.Number("metric", false, 0, UINT32_MAX, 0));
    s.routes.push_back(std::move(rt));
  });
  if (!error->empty()) return std::nullopt;
  return g;
}

}  // namespace

const char* MtuPolicyName(MtuPolicy p) {
  switch (p) {
    case MtuPolicy::kIcmp: return "icmp";
    case MtuPolicy::kClampMss: return "clamp-mss";
    case MtuPolicy::kIcmpAndClamp: return "icmp-and-clamp";
  }
  return "?";
}

const char* FlowIdName(FlowIdMode m) { return m == FlowIdMode::kZero ? "zero" : "entropy"; }

const ProviderAddress* HostPa(const std::vector<ProviderAddress>& pas, Family family) {
  for (const ProviderAddress& pa : pas)
    if (pa.address.family == family) return &pa;
  return pas.empty() ? nullptr : &pas.front();
}

std::string ToText(const GenerationDoc& d) {
  std::string text = std::to_string(d.number);
  if (!d.has_manifest) return text;
  const json manifest{{"hosts", d.hosts}, {"placement", d.placement}, {"tenants", d.tenants}};
  return text + " " + Dump(manifest);
}

std::optional<GenerationDoc> GenerationFromText(const std::string& text, std::string* error) {
  error->clear();
  GenerationDoc d;
  const size_t space = text.find(' ');
  const std::string_view number = std::string_view(text).substr(0, space);
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), d.number);
  if (ec != std::errc() || end != number.data() + number.size() || number.empty()) {
    *error = "\"" + std::string(number) + "\" is not a generation number";
    return std::nullopt;
  }
  if (space == std::string::npos) return d;
  std::optional<json> j = Parse(text.substr(space + 1), error);
  if (!j) {
    *error = "manifest: " + *error;
    return std::nullopt;
  }
  d.has_manifest = true;
  Reader r(*j, "manifest.", error);
  r.Only({"hosts", "placement", "tenants"});
  for (auto [key, names] : {std::pair{"hosts", &d.hosts}, std::pair{"placement", &d.placement},
                            std::pair{"tenants", &d.tenants}}) {
    r.List(key, true, [&, names = names](const json& item, const std::string& path) {
      if (item.is_string()) names->insert(item.get<std::string>());
      else r.Fail(path, "is not a string");
    });
  }
  if (!error->empty()) return std::nullopt;
  return d;
}

// ---------------------------------------------------------------------------

std::string ToJson(const HostDoc& d) {
  json ports = json::array();
  for (const config::PortSpec& p : d.ports) ports.push_back({{"name", p.name}, {"device", p.device}});
  json pas = json::array();
  for (const ProviderAddress& a : d.provider_addresses) pas.push_back(config::ToJson(a));
  json routes = json::array();
  for (const ProviderRoute& r : d.provider_routes) routes.push_back(config::ToJson(r));
  json j{{"name", d.name},
         {"role", d.role == HostDoc::Role::kGateway ? "gateway" : "host"},
         {"settings", SettingsToJson(d.settings)},
         {"ports", ports},
         {"provider_addresses", pas},
         {"provider_routes", routes}};
  if (d.role == HostDoc::Role::kGateway)
    j["gateway"] = {{"namespace_prefix", d.namespace_prefix}, {"state_dir", d.state_dir}};
  return Dump(j);
}

std::optional<HostDoc> HostFromJson(const std::string& text, std::string* error) {
  std::optional<json> j = Parse(text, error);
  if (!j) return std::nullopt;
  HostDoc d;
  Reader r(*j, "", error);
  r.Only({"name", "role", "settings", "ports", "provider_addresses", "provider_routes", "gateway"});
  d.name = r.String("name", true);
  const std::string role = r.String("role", true);
  if (role == "gateway") d.role = HostDoc::Role::kGateway;
  else if (role != "host" && r.ok()) r.Fail("role", "\"" + role + "\" is not host or gateway");
  if (const json* s = r.Get("settings", false)) {
    Reader sr(*s, "settings.", error);
    d.settings = SettingsFromJson(sr);
  }
  r.List("ports", false, [&](const json& item, const std::string& path) {
    Reader p(item, path + ".", error);
    p.Only({"name", "device"});
    config::PortSpec port;
    port.index = static_cast<uint16_t>(d.ports.size());
    port.name = p.String("name", true);
    port.device = p.String("device", true);
    d.ports.push_back(std::move(port));
  });
  r.List("provider_addresses", false, [&](const json& item, const std::string& path) {
    if (auto a = Element<ProviderAddress>(item, path, error, config::ProviderAddressFromJson))
      d.provider_addresses.push_back(*a);
  });
  r.List("provider_routes", false, [&](const json& item, const std::string& path) {
    if (auto a = Element<ProviderRoute>(item, path, error, config::ProviderRouteFromJson))
      d.provider_routes.push_back(*a);
  });
  if (const json* g = r.Get("gateway", false)) {
    Reader gr(*g, "gateway.", error);
    gr.Only({"namespace_prefix", "state_dir"});
    d.namespace_prefix = gr.String("namespace_prefix", false);
    d.state_dir = gr.String("state_dir", false);
  }
  if (!error->empty()) return std::nullopt;
  return d;
}

std::string ToJson(const TenantDoc& d) {
  json subnets = json::array();
  for (const VirtualSubnet& s : d.subnets) {
    json j = config::ToJson(s);
    j.erase("rdid");  // the tenant's
    subnets.push_back(std::move(j));
  }
  json routes = json::array();
  for (const CustomerRoute& r : d.customer_routes) {
    json j = config::ToJson(r);
    j.erase("rdid");
    routes.push_back(std::move(j));
  }
  json local = json::array();
  for (const LookupRecord& r : d.local_records) {
    json j = config::ToJson(r);
    j.erase("provider_address");  // each host's own
    local.push_back(std::move(j));
  }
  json j{{"name", d.name},
         {"rdid", d.routing_domain.rdid.ToString()},
         {"rd_name", d.routing_domain.name},
         {"virtual_subnets", subnets},
         {"customer_routes", routes},
         {"local_records", local}};
  if (d.gateway) j["gateway"] = GatewayToJson(*d.gateway);
  return Dump(j);
}

std::optional<TenantDoc> TenantFromJson(const std::string& text, std::string* error) {
  std::optional<json> j = Parse(text, error);
  if (!j) return std::nullopt;
  TenantDoc d;
  Reader r(*j, "", error);
  r.Only({"name", "rdid", "rd_name", "virtual_subnets", "customer_routes", "local_records",
          "gateway"});
  d.name = r.String("name", true);
  std::optional<json> rdid = r.Field("rdid", FieldType::kGuid, true);
  if (rdid) d.routing_domain.rdid = *Guid::Parse(rdid->get<std::string>());
  d.routing_domain.name = r.String("rd_name", false);
  r.List("virtual_subnets", false, [&](const json& item, const std::string& path) {
    json with = item;
    if (with.is_object() && rdid) with["rdid"] = *rdid;
    if (auto s = Element<VirtualSubnet>(with, path, error, config::VirtualSubnetFromJson))
      d.subnets.push_back(*s);
  });
  r.List("customer_routes", false, [&](const json& item, const std::string& path) {
    json with = item;
    if (with.is_object() && rdid) with["rdid"] = *rdid;
    if (auto s = Element<CustomerRoute>(with, path, error, config::CustomerRouteFromJson))
      d.customer_routes.push_back(*s);
  });
  r.List("local_records", false, [&](const json& item, const std::string& path) {
    json with = item;
    if (with.is_object()) with["provider_address"] = "0.0.0.0";
    if (auto rec = Element<LookupRecord>(with, path, error, config::LookupRecordFromJson)) {
      rec->pa = IpAddr{};
      d.local_records.push_back(*rec);
    }
  });
  if (const json* g = r.Get("gateway", false)) {
    if (std::optional<GatewayDoc> gw = GatewayFromJson(*g, error)) {
      gw->spec.name = d.name;
      gw->spec.rdid = d.routing_domain.rdid;
      d.gateway = std::move(*gw);
    }
  }
  if (!error->empty()) return std::nullopt;
  return d;
}

std::string ToJson(const VmDoc& d) {
  json addrs = json::array();
  for (const IpAddr& a : d.addresses) addrs.push_back(a.ToString());
  return Dump(json{{"name", d.name},
                   {"vm_name", d.vm_name},
                   {"tenant", d.tenant},
                   {"vsid", d.vsid},
                   {"mac", d.mac.ToCompactString()},
                   {"addresses", addrs},
                   {"type", TypeName(d.type)},
                   {"rule", RuleName(d.rule)},
                   {"host", d.host},
                   {"port", d.port}});
}

std::optional<VmDoc> VmFromJson(const std::string& text, std::string* error) {
  std::optional<json> j = Parse(text, error);
  if (!j) return std::nullopt;
  VmDoc d;
  Reader r(*j, "", error);
  r.Only({"name", "vm_name", "tenant", "vsid", "mac", "addresses", "type", "rule", "host", "port"});
  d.name = r.String("name", true);
  d.vm_name = r.String("vm_name", false);
  d.tenant = r.String("tenant", true);
  if (auto v = r.Field("vsid", FieldType::kVsid, true)) d.vsid = v->get<uint32_t>();
  if (auto v = r.Field("mac", FieldType::kMac, true)) d.mac = *MacAddr::Parse(v->get<std::string>());
  r.List("addresses", false, [&](const json& item, const std::string& path) {
    config::FieldResult a = config::NormalizeField(FieldType::kIpAddr, item);
    if (!a.value) r.Fail(path, a.error);
    else d.addresses.push_back(*IpAddr::Parse(a.value->get<std::string>()));
  });
  if (auto v = r.Field("type", FieldType::kRecordType, false)) {
    const std::string t = v->get<std::string>();
    d.type = t == "L2Only"            ? RecordType::kL2Only
             : t == "GatewayWildcard" ? RecordType::kGatewayWildcard
             : t == "Dynamic"         ? RecordType::kDynamic
                                      : RecordType::kStatic;
    if (d.type == RecordType::kDynamic) r.Fail("type", "a VM's records are not Dynamic (learned)");
  }
  if (auto v = r.Field("rule", FieldType::kRule, false))
    d.rule = v->get<std::string>() == RuleName(TranslationRule::kNone) ? TranslationRule::kNone
                                                                       : TranslationRule::kEncap;
  d.host = r.String("host", true);
  d.port = r.String("port", false);
  if (!error->empty()) return std::nullopt;
  return d;
}

std::string ToJson(const LearnedDoc& d) {
  json j = config::ToJson(d.record);
  j["learned_by"] = d.host;
  return Dump(j);
}

std::optional<LearnedDoc> LearnedFromJson(const std::string& text, std::string* error) {
  std::optional<json> j = Parse(text, error);
  if (!j) return std::nullopt;
  LearnedDoc d;
  if (!j->is_object() || !j->contains("learned_by") || !(*j)["learned_by"].is_string()) {
    *error = "learned_by: missing";
    return std::nullopt;
  }
  d.host = (*j)["learned_by"].get<std::string>();
  j->erase("learned_by");
  std::optional<LookupRecord> rec = Element<LookupRecord>(*j, "", error, config::LookupRecordFromJson);
  if (!rec) {
    if (error->rfind(": ", 0) == 0) *error = error->substr(2);
    return std::nullopt;
  }
  d.record = *rec;
  return d;
}

std::string ToJson(const StatusDoc& d) {
  json tenants = json::object();
  for (const auto& [t, rev] : d.tenants) tenants[t] = rev;
  return Dump(json{{"host", d.host},
                   {"generation", d.generation},
                   {"revision", d.revision},
                   {"time_ms", d.time_ms},
                   {"errors", d.errors},
                   {"tenants", tenants},
                   {"records", d.records}});
}

std::optional<StatusDoc> StatusFromJson(const std::string& text, std::string* error) {
  std::optional<json> j = Parse(text, error);
  if (!j) return std::nullopt;
  StatusDoc d;
  Reader r(*j, "", error);
  r.Only({"host", "generation", "revision", "time_ms", "errors", "tenants", "records"});
  d.host = r.String("host", true);
  d.generation = r.Number("generation", true, 0, UINT64_MAX, 0);
  d.revision = static_cast<int64_t>(r.Number("revision", true, 0, INT64_MAX, 0));
  d.time_ms = static_cast<int64_t>(r.Number("time_ms", false, 0, INT64_MAX, 0));
  r.List("errors", false, [&](const json& item, const std::string& path) {
    if (item.is_string()) d.errors.push_back(item.get<std::string>());
    else r.Fail(path, "is not a string");
  });
  if (const json* t = r.Get("tenants", false)) {
    if (!t->is_object()) r.Fail("tenants", "is not an object");
    else
      for (const auto& [name, rev] : t->items()) {
        if (!rev.is_number_integer()) r.Fail("tenants." + name, "is not a revision");
        else d.tenants[name] = rev.get<int64_t>();
      }
  }
  d.records = r.Number("records", false, 0, UINT64_MAX, 0);
  if (!error->empty()) return std::nullopt;
  return d;
}

}  // namespace hnv::store
