#include "config/json_model.h"

#include <cctype>
#include <charconv>
#include <limits>
#include <utility>

#include "config/json_convert.h"
#include "config/policy/policy_dump.h"

namespace hnv::config {
namespace {

using nlohmann::json;

constexpr FieldSpec kLookupRecordFields[] = {
    {"customer_address", FieldType::kIpAddr, true},
    {"vsid", FieldType::kVsid, true},
    {"mac", FieldType::kMac, true},
    {"provider_address", FieldType::kIpAddr, true},
    {"rule", FieldType::kRule, false},
    {"type", FieldType::kRecordType, false},
    {"vm_name", FieldType::kString, false},
};
constexpr FieldSpec kCustomerRouteFields[] = {
    {"rdid", FieldType::kGuid, true},
    {"vsid", FieldType::kVsid, true},
    {"destination", FieldType::kIpPrefix, true},
    {"next_hop", FieldType::kIpAddr, false},
    {"metric", FieldType::kUint32, false},
};
constexpr FieldSpec kProviderAddressFields[] = {
    {"address", FieldType::kIpAddr, true}, {"prefix_length", FieldType::kPrefixLen, true},
    {"port", FieldType::kPort, true},      {"mac", FieldType::kMac, false},
    {"vlan", FieldType::kVlan, false},
};
constexpr FieldSpec kProviderRouteFields[] = {
    {"destination", FieldType::kIpPrefix, true},
    {"port", FieldType::kPort, true},
    {"next_hop", FieldType::kIpAddr, false},
};
constexpr FieldSpec kVmPortFields[] = {
    {"vm_name", FieldType::kString, true},
    {"port", FieldType::kPort, true},
    {"mac", FieldType::kMac, true},
    {"vsid", FieldType::kVsid, true},
    {"mac_address_spoofing", FieldType::kOnOff, false},
    {"dhcp_guard", FieldType::kOnOff, false},
    {"router_guard", FieldType::kOnOff, false},
};
constexpr FieldSpec kRoutingDomainFields[] = {
    {"rdid", FieldType::kGuid, true},
    {"name", FieldType::kString, false},
};
constexpr FieldSpec kVirtualSubnetFields[] = {
    {"vsid", FieldType::kVsid, true},
    {"rdid", FieldType::kGuid, true},
    {"prefixes", FieldType::kIpPrefixList, true},
};

// A value as it appears in a message: JSON, shortened if huge.
std::string Show(const json& v) {
  if (v.is_string() && v.get_ref<const std::string&>().size() > 60) {
    return json(v.get_ref<const std::string&>().substr(0, 60) + "...")
        .dump(-1, ' ', false, json::error_handler_t::replace);
  }
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// Lower-case, without '_' and '-': "L2_Only", "l2only" and "L2Only" compare equal.
std::string Folded(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == '-') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

FieldResult Bad(const json& v, std::string_view what) {
  return FieldResult{std::nullopt, Show(v) + " " + std::string(what)};
}

// An unsigned integer from a JSON number or a decimal string.
FieldResult Integer(const json& v, uint64_t min, uint64_t max, std::string_view range_text) {
  uint64_t n = 0;
  if (v.is_number_unsigned()) {
    n = v.get<uint64_t>();
  } else if (v.is_number_integer()) {  // signed: built in C++ from an int, or negative
    if (v.get<int64_t>() < 0) return Bad(v, "is outside " + std::string(range_text));
    n = static_cast<uint64_t>(v.get<int64_t>());
  } else if (v.is_number_float()) {
    return Bad(v, "is not a whole number");
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    const char* end = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(s.data(), end, n);
    if (s.empty() || ptr != end) {
      // "-5" is a number, just not one of ours.
      int64_t negative = 0;
      auto [p2, ec2] = std::from_chars(s.data(), end, negative);
      if (!s.empty() && p2 == end && ec2 == std::errc()) {
        return Bad(v, "is outside " + std::string(range_text));
      }
      return Bad(v, "is not a number");
    }
    if (ec == std::errc::result_out_of_range)
      return Bad(v, "is outside " + std::string(range_text));
  } else {
    return Bad(v, "is not a number");
  }
  if (n < min || n > max) return Bad(v, "is outside " + std::string(range_text));
  return FieldResult{json(n), {}};
}

FieldResult String(const json& v) {
  if (!v.is_string()) return Bad(v, "is not a string");
  return FieldResult{v, {}};
}

FieldResult Prefix(const json& v) {
  if (!v.is_string()) return Bad(v, "is not an IP prefix (like 10.0.1.0/24 or fd00::/64)");
  const std::string& s = v.get_ref<const std::string&>();
  if (std::optional<IpPrefix> p = IpPrefix::Parse(s)) return FieldResult{json(p->ToString()), {}};
  if (std::optional<IpPrefix> p = IpPrefix::Parse(s, /*allow_host_bits=*/true)) {
    return Bad(v, "has host bits set (" + p->ToString() + "?)");
  }
  return Bad(v, "is not an IP prefix (like 10.0.1.0/24 or fd00::/64)");
}

// Splits "a,b" into a list for kIpPrefixList given as one string.
std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    std::string part =
        s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    while (!part.empty() && part.back() == ' ') part.pop_back();
    out.push_back(std::move(part));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string RequiredNames(Kind kind);

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kLookupRecord:
      return "lookup-record";
    case Kind::kCustomerRoute:
      return "customer-route";
    case Kind::kProviderAddress:
      return "provider-address";
    case Kind::kProviderRoute:
      return "provider-route";
    case Kind::kVmNetworkAdapter:
      return "vm-network-adapter";
    case Kind::kRoutingDomain:
      return "routing-domain";
    case Kind::kVirtualSubnet:
      return "virtual-subnet";
    case Kind::kPortAcl:
      return "port-acl";
    case Kind::kPortExtendedAcl:
      return "port-extended-acl";
  }
  return "?";
}

std::optional<Kind> ParseKind(std::string_view name) {
  for (Kind k : kAllKinds) {
    if (name == KindName(k)) return k;
  }
  return std::nullopt;
}

std::string KindNames() {
  std::string s;
  for (Kind k : kAllKinds) {
    if (!s.empty()) s += ", ";
    s += KindName(k);
  }
  return s;
}

std::span<const FieldSpec> Fields(Kind kind) {
  switch (kind) {
    case Kind::kLookupRecord:
      return kLookupRecordFields;
    case Kind::kCustomerRoute:
      return kCustomerRouteFields;
    case Kind::kProviderAddress:
      return kProviderAddressFields;
    case Kind::kProviderRoute:
      return kProviderRouteFields;
    case Kind::kVmNetworkAdapter:
      return kVmPortFields;
    case Kind::kRoutingDomain:
      return kRoutingDomainFields;
    case Kind::kVirtualSubnet:
      return kVirtualSubnetFields;
    case Kind::kPortAcl:
    case Kind::kPortExtendedAcl:
      return json_detail::AclFields(kind);
  }
  return {};
}

const FieldSpec* FindField(Kind kind, std::string_view name) {
  for (const FieldSpec& f : Fields(kind)) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::string FieldNames(Kind kind) {
  std::string s;
  for (const FieldSpec& f : Fields(kind)) {
    if (!s.empty()) s += ", ";
    s += f.name;
  }
  return s;
}

FieldResult NormalizeField(FieldType type, const json& v) {
  switch (type) {
    case FieldType::kIpAddr: {
      if (v.is_string()) {
        if (std::optional<IpAddr> a = IpAddr::Parse(v.get_ref<const std::string&>())) {
          return FieldResult{json(a->ToString()), {}};
        }
      }
      return Bad(v, "is not an IP address");
    }
    case FieldType::kIpPrefix:
      return Prefix(v);
    case FieldType::kIpPrefixList: {
      json list = json::array();
      std::vector<json> items;
      if (v.is_string()) {
        for (std::string& s : SplitComma(v.get_ref<const std::string&>())) items.emplace_back(s);
      } else if (v.is_array()) {
        items.assign(v.begin(), v.end());
      } else {
        return Bad(v, "is not a list of IP prefixes");
      }
      if (items.empty()) return Bad(v, "is an empty list; give at least one prefix");
      for (const json& item : items) {
        FieldResult r = Prefix(item);
        if (!r.value) return r;
        list.push_back(std::move(*r.value));
      }
      return FieldResult{std::move(list), {}};
    }
    case FieldType::kMac: {
      if (v.is_string()) {
        if (std::optional<MacAddr> m = MacAddr::Parse(v.get_ref<const std::string&>())) {
          return FieldResult{json(m->ToCompactString()), {}};
        }
      }
      return Bad(v, "is not a MAC address (600060000101, 60-00-60-00-01-01 or 60:00:60:00:01:01)");
    }
    case FieldType::kGuid: {
      if (v.is_string()) {
        if (std::optional<Guid> g = Guid::Parse(v.get_ref<const std::string&>())) {
          return FieldResult{json(g->ToString()), {}};
        }
      }
      return Bad(v, "is not a GUID (like {12345678-1000-2000-3000-123456780001})");
    }
    case FieldType::kRule: {
      if (v.is_string()) {
        const std::string f = Folded(v.get_ref<const std::string&>());
        if (f == "translationmethodencap" || f == "encap") {
          return FieldResult{json(RuleName(TranslationRule::kEncap)), {}};
        }
        if (f == "translationmethodnone" || f == "none") {
          return FieldResult{json(RuleName(TranslationRule::kNone)), {}};
        }
      }
      return Bad(v, "is not a rule (TranslationMethodEncap or TranslationMethodNone)");
    }
    case FieldType::kRecordType: {
      if (v.is_string()) {
        const std::string f = Folded(v.get_ref<const std::string&>());
        for (RecordType t : {RecordType::kStatic, RecordType::kDynamic, RecordType::kL2Only,
                             RecordType::kGatewayWildcard}) {
          if (f == Folded(TypeName(t))) return FieldResult{json(TypeName(t)), {}};
        }
      }
      return Bad(v, "is not a record type (Static, Dynamic, L2Only or GatewayWildcard)");
    }
    case FieldType::kString:
      return String(v);
    case FieldType::kVsid:
      return Integer(v, kVsidMin, kVsidMax, "4096..16777214");
    case FieldType::kUint32:
      return Integer(v, 0, std::numeric_limits<uint32_t>::max(), "0..4294967295");
    case FieldType::kPrefixLen:
      return Integer(v, 0, 128, "0..128");
    case FieldType::kVlan:
      return Integer(v, 0, 4094, "0..4094");
    case FieldType::kOnOff: {
      if (v.is_boolean()) return FieldResult{json(v.get<bool>() ? "On" : "Off"), {}};
      if (v.is_string()) {
        const std::string f = Folded(v.get_ref<const std::string&>());
        if (f == "on" || f == "true") return FieldResult{json("On"), {}};
        if (f == "off" || f == "false") return FieldResult{json("Off"), {}};
      }
      return Bad(v, "is not On or Off");
    }
    case FieldType::kPort: {
      if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        if (s.empty()) return Bad(v, "is not a port number or name");
        if (s.find_first_not_of("0123456789") != std::string::npos) return FieldResult{v, {}};
      }
      return Integer(v, 0, 65535, "0..65535");
    }
    case FieldType::kTrueFalse:
    case FieldType::kAclAddress:
    case FieldType::kPortRange:
    case FieldType::kAclProtocol:
    case FieldType::kAclDirection:
    case FieldType::kAclAction:
      return json_detail::NormalizeAclField(type, v);
  }
  return Bad(v, "has an unknown type");
}

namespace {
std::string RequiredNames(Kind kind) {
  std::string s;
  for (const FieldSpec& f : Fields(kind)) {
    if (!f.required) continue;
    if (!s.empty()) s += ", ";
    s += f.name;
  }
  return s;
}
}  // namespace

FromJsonResult<json> NormalizeObject(Kind kind, const json& j, const FromJsonOptions& options) {
  FromJsonResult<json> r;
  if (!j.is_object()) {
    r.error =
        JsonError{"", "a " + std::string(KindName(kind)) + " is a JSON object, not " + Show(j)};
    return r;
  }
  // A virtual subnet may say "prefix": x, as the YAML does, for "prefixes": [x].
  const json* source = &j;
  json with_prefixes;
  if (kind == Kind::kVirtualSubnet && j.contains("prefix")) {
    if (j.contains("prefixes")) {
      r.error = JsonError{"prefix", "give prefix or prefixes, not both"};
      return r;
    }
    FieldResult p = NormalizeField(FieldType::kIpPrefix, j["prefix"]);
    if (!p.value) {
      r.error = JsonError{"prefix", std::move(p.error)};
      return r;
    }
    with_prefixes = j;
    with_prefixes.erase("prefix");
    with_prefixes["prefixes"] = json::array({std::move(*p.value)});
    source = &with_prefixes;
  }
  const json& in = *source;
  for (const auto& [key, value] : in.items()) {
    if (FindField(kind, key) == nullptr) {
      r.error = JsonError{key, "unknown field (" + std::string(KindName(kind)) +
                                   " fields: " + FieldNames(kind) + ")"};
      return r;
    }
  }
  json out = json::object();
  for (const FieldSpec& f : Fields(kind)) {
    const auto it = in.find(f.name);
    if (it == in.end() || it->is_null()) continue;
    // A bad item of a list is named by its index: "prefixes[1]".
    if (f.type == FieldType::kIpPrefixList && it->is_array()) {
      for (size_t i = 0; i < it->size(); ++i) {
        FieldResult item = NormalizeField(FieldType::kIpPrefix, (*it)[i]);
        if (!item.value) {
          r.error =
              JsonError{std::string(f.name) + "[" + std::to_string(i) + "]", std::move(item.error)};
          return r;
        }
      }
    }
    FieldResult v = NormalizeField(f.type, *it);
    if (!v.value) {
      r.error = JsonError{f.name, std::move(v.error)};
      return r;
    }
    out[f.name] = std::move(*v.value);
    r.present.emplace_back(f.name);
  }
  if (options.mode == Mode::kFull) {
    for (const FieldSpec& f : Fields(kind)) {
      if (!f.required || out.contains(f.name)) continue;
      if (kind == Kind::kLookupRecord && std::string_view(f.name) == "customer_address" &&
          out.contains("type") &&
          (out["type"] == TypeName(RecordType::kL2Only) ||
           out["type"] == TypeName(RecordType::kGatewayWildcard))) {
        continue;  // unspecified by definition
      }
      r.error = JsonError{f.name, "missing (a " + std::string(KindName(kind)) + " needs " +
                                      RequiredNames(kind) + ")"};
      return r;
    }
  }
  r.value = std::move(out);
  return r;
}

namespace {

// Typed readers of a normalized object (NormalizeObject has checked the forms).
IpAddr Ip(const json& o, const char* name) {
  return *IpAddr::Parse(o.at(name).get_ref<const std::string&>());
}
IpPrefix Pfx(const json& o, const char* name) {
  return *IpPrefix::Parse(o.at(name).get_ref<const std::string&>());
}
MacAddr Mac(const json& o, const char* name) {
  return *MacAddr::Parse(o.at(name).get_ref<const std::string&>());
}
Guid Gd(const json& o, const char* name) {
  return *Guid::Parse(o.at(name).get_ref<const std::string&>());
}
uint64_t Num(const json& o, const char* name) { return o.at(name).get<uint64_t>(); }

// A port number, or a name resolved by the caller.
bool Port(const json& o, const FromJsonOptions& options, uint16_t* out,
          std::optional<JsonError>* error) {
  const json& v = o.at("port");
  if (v.is_number()) {  // normalized: 0..65535
    *out = static_cast<uint16_t>(v.get<uint64_t>());
    return true;
  }
  const std::string& name = v.get_ref<const std::string&>();
  if (!options.port_by_name) {
    *error = JsonError{"port", Show(v) + " is not a port number"};
    return false;
  }
  if (std::optional<uint16_t> p = options.port_by_name(name)) {
    *out = *p;
    return true;
  }
  *error = JsonError{"port", Show(v) + " is not a port of this host"};
  return false;
}

using json_detail::Convert;

// The unspecified address of the family of `like` (on-link next hops).
IpAddr Unspecified(const IpAddr& like) {
  IpAddr a;
  a.family = like.family;
  return a;
}

}  // namespace

FromJsonResult<LookupRecord> LookupRecordFromJson(const json& j, const FromJsonOptions& options) {
  return Convert<LookupRecord>(
      Kind::kLookupRecord, j, options,
      [](const json& o, LookupRecord* r, std::optional<JsonError>*) {
        if (o.contains("customer_address")) r->ca = Ip(o, "customer_address");
        if (o.contains("vsid")) r->vsid = static_cast<uint32_t>(Num(o, "vsid"));
        if (o.contains("mac")) r->mac = Mac(o, "mac");
        if (o.contains("provider_address")) r->pa = Ip(o, "provider_address");
        if (o.contains("rule")) {
          r->rule = o["rule"] == RuleName(TranslationRule::kNone) ? TranslationRule::kNone
                                                                  : TranslationRule::kEncap;
        }
        if (o.contains("type")) {
          for (RecordType t : {RecordType::kStatic, RecordType::kDynamic, RecordType::kL2Only,
                               RecordType::kGatewayWildcard}) {
            if (o["type"] == TypeName(t)) r->type = t;
          }
        }
        if (o.contains("vm_name")) r->vm_name = o["vm_name"].get<std::string>();
        return true;
      });
}

FromJsonResult<CustomerRoute> CustomerRouteFromJson(const json& j, const FromJsonOptions& options) {
  return Convert<CustomerRoute>(
      Kind::kCustomerRoute, j, options,
      [](const json& o, CustomerRoute* r, std::optional<JsonError>*) {
        if (o.contains("rdid")) r->rdid = Gd(o, "rdid");
        if (o.contains("vsid")) r->vsid = static_cast<uint32_t>(Num(o, "vsid"));
        if (o.contains("destination")) r->destination = Pfx(o, "destination");
        r->next_hop = o.contains("next_hop") ? Ip(o, "next_hop") : Unspecified(r->destination.addr);
        if (o.contains("metric")) r->metric = static_cast<uint32_t>(Num(o, "metric"));
        return true;
      });
}

FromJsonResult<ProviderAddress> ProviderAddressFromJson(const json& j,
                                                        const FromJsonOptions& options) {
  return Convert<ProviderAddress>(
      Kind::kProviderAddress, j, options,
      [&options](const json& o, ProviderAddress* a, std::optional<JsonError>* error) {
        if (o.contains("address")) a->address = Ip(o, "address");
        if (o.contains("prefix_length")) {
          a->prefix_len = static_cast<uint8_t>(Num(o, "prefix_length"));
        }
        if (o.contains("port") && !Port(o, options, &a->port, error)) return false;
        if (o.contains("mac")) a->mac = Mac(o, "mac");
        if (o.contains("vlan")) a->vlan = static_cast<uint16_t>(Num(o, "vlan"));
        return true;
      });
}

FromJsonResult<ProviderRoute> ProviderRouteFromJson(const json& j, const FromJsonOptions& options) {
  return Convert<ProviderRoute>(
      Kind::kProviderRoute, j, options,
      [&options](const json& o, ProviderRoute* r, std::optional<JsonError>* error) {
        if (o.contains("destination")) r->destination = Pfx(o, "destination");
        if (o.contains("port") && !Port(o, options, &r->port, error)) return false;
        r->next_hop = o.contains("next_hop") ? Ip(o, "next_hop") : Unspecified(r->destination.addr);
        return true;
      });
}

FromJsonResult<VmPort> VmPortFromJson(const json& j, const FromJsonOptions& options) {
  return Convert<VmPort>(
      Kind::kVmNetworkAdapter, j, options,
      [&options](const json& o, VmPort* v, std::optional<JsonError>* error) {
        if (o.contains("vm_name")) v->vm_name = o["vm_name"].get<std::string>();
        if (o.contains("port") && !Port(o, options, &v->port, error)) return false;
        if (o.contains("mac")) v->mac = Mac(o, "mac");
        if (o.contains("vsid")) v->vsid = static_cast<uint32_t>(Num(o, "vsid"));
        for (auto [name, out] :
             {std::pair{"mac_address_spoofing", &v->mac_address_spoofing},
              std::pair{"dhcp_guard", &v->dhcp_guard}, std::pair{"router_guard", &v->router_guard}})
          if (o.contains(name)) *out = o[name] == "On";
        return true;
      });
}

FromJsonResult<RoutingDomain> RoutingDomainFromJson(const json& j, const FromJsonOptions& options) {
  return Convert<RoutingDomain>(Kind::kRoutingDomain, j, options,
                                [](const json& o, RoutingDomain* d, std::optional<JsonError>*) {
                                  if (o.contains("rdid")) d->rdid = Gd(o, "rdid");
                                  if (o.contains("name")) d->name = o["name"].get<std::string>();
                                  return true;
                                });
}

FromJsonResult<VirtualSubnet> VirtualSubnetFromJson(const json& j, const FromJsonOptions& options) {
  return Convert<VirtualSubnet>(
      Kind::kVirtualSubnet, j, options,
      [](const json& o, VirtualSubnet* s, std::optional<JsonError>*) {
        if (o.contains("vsid")) s->vsid = static_cast<uint32_t>(Num(o, "vsid"));
        if (o.contains("rdid")) s->rdid = Gd(o, "rdid");
        if (o.contains("prefixes")) {
          for (const json& p : o["prefixes"]) {
            s->prefixes.push_back(*IpPrefix::Parse(p.get_ref<const std::string&>()));
          }
        }
        return true;
      });
}

json ToJson(const LookupRecord& r) {
  return json{{"customer_address", r.ca.ToString()},
              {"vsid", r.vsid},
              {"mac", r.mac.ToCompactString()},
              {"provider_address", r.pa.ToString()},
              {"rule", RuleName(r.rule)},
              {"type", TypeName(r.type)},
              {"vm_name", r.vm_name}};
}

json ToJson(const CustomerRoute& r) {
  return json{{"rdid", r.rdid.ToString()},
              {"vsid", r.vsid},
              {"destination", r.destination.ToString()},
              {"next_hop", r.next_hop.ToString()},
              {"metric", r.metric}};
}

json ToJson(const ProviderAddress& a) {
  return json{{"address", a.address.ToString()},
              {"prefix_length", a.prefix_len},
              {"port", a.port},
              {"mac", a.mac.ToCompactString()},
              {"vlan", a.vlan}};
}

json ToJson(const ProviderRoute& r) {
  return json{{"destination", r.destination.ToString()},
              {"port", r.port},
              {"next_hop", r.next_hop.ToString()}};
}

json ToJson(const VmPort& v) {
  auto on_off = [](bool b) { return b ? "On" : "Off"; };
  return json{{"vm_name", v.vm_name},
              {"port", v.port},
              {"mac", v.mac.ToCompactString()},
              {"vsid", v.vsid},
              {"mac_address_spoofing", on_off(v.mac_address_spoofing)},
              {"dhcp_guard", on_off(v.dhcp_guard)},
              {"router_guard", on_off(v.router_guard)}};
}

json ToJson(const RoutingDomain& d) { return json{{"rdid", d.rdid.ToString()}, {"name", d.name}}; }

json ToJson(const VirtualSubnet& s) {
  json prefixes = json::array();
  for (const IpPrefix& p : s.prefixes) prefixes.push_back(p.ToString());
  return json{{"vsid", s.vsid}, {"rdid", s.rdid.ToString()}, {"prefixes", std::move(prefixes)}};
}

namespace {

template <typename T>
json ArrayOf(const std::vector<T>& items) {
  json a = json::array();
  for (const T& item : items) a.push_back(ToJson(item));
  return a;
}

template <typename T, typename Parse>
std::optional<JsonError> AppendAll(const json& array, std::vector<T>* out, Parse parse) {
  if (!array.is_array()) return JsonError{"", "expected a JSON array, got " + Show(array)};
  for (size_t i = 0; i < array.size(); ++i) {
    FromJsonResult<T> r = parse(array[i]);
    if (r.error) {
      const std::string index = "[" + std::to_string(i) + "]";
      return JsonError{r.error->field.empty() ? index : index + "." + r.error->field,
                       r.error->message};
    }
    out->push_back(std::move(*r.value));
  }
  return std::nullopt;
}

}  // namespace

json KindToJson(const Policy& p, Kind kind) {
  switch (kind) {
    case Kind::kLookupRecord:
      return ArrayOf(p.records);
    case Kind::kCustomerRoute:
      return ArrayOf(p.customer_routes);
    case Kind::kProviderAddress:
      return ArrayOf(p.provider_addresses);
    case Kind::kProviderRoute:
      return ArrayOf(p.provider_routes);
    case Kind::kVmNetworkAdapter:
      return ArrayOf(p.vm_ports);
    case Kind::kRoutingDomain:
      return ArrayOf(p.routing_domains);
    case Kind::kVirtualSubnet:
      return ArrayOf(p.subnets);
    case Kind::kPortAcl:
      return ArrayOf(p.port_acls);
    case Kind::kPortExtendedAcl:
      return ArrayOf(p.port_extended_acls);
  }
  return json::array();
}

std::optional<JsonError> AppendFromJson(Kind kind, const json& array, Policy* p,
                                        const FromJsonOptions& options) {
  switch (kind) {
    case Kind::kLookupRecord:
      return AppendAll(array, &p->records,
                       [&](const json& j) { return LookupRecordFromJson(j, options); });
    case Kind::kCustomerRoute:
      return AppendAll(array, &p->customer_routes,
                       [&](const json& j) { return CustomerRouteFromJson(j, options); });
    case Kind::kProviderAddress:
      return AppendAll(array, &p->provider_addresses,
                       [&](const json& j) { return ProviderAddressFromJson(j, options); });
    case Kind::kProviderRoute:
      return AppendAll(array, &p->provider_routes,
                       [&](const json& j) { return ProviderRouteFromJson(j, options); });
    case Kind::kVmNetworkAdapter:
      return AppendAll(array, &p->vm_ports,
                       [&](const json& j) { return VmPortFromJson(j, options); });
    case Kind::kRoutingDomain:
      return AppendAll(array, &p->routing_domains,
                       [&](const json& j) { return RoutingDomainFromJson(j, options); });
    case Kind::kVirtualSubnet:
      return AppendAll(array, &p->subnets,
                       [&](const json& j) { return VirtualSubnetFromJson(j, options); });
    case Kind::kPortAcl:
      return AppendAll(array, &p->port_acls,
                       [&](const json& j) { return PortAclFromJson(j, options); });
    case Kind::kPortExtendedAcl:
      return AppendAll(array, &p->port_extended_acls,
                       [&](const json& j) { return PortExtendedAclFromJson(j, options); });
  }
  return JsonError{"", "unknown kind"};
}

}  // namespace hnv::config
