// The port ACL kinds of the JSON model (json_model.h: port-acl,
// port-extended-acl): their fields, value forms and conversions. Values are
// read by config/acl_text.h, as in the host YAML (yaml_acl.cc).
#include <strings.h>

#include "config/acl_text.h"
#include "config/json_convert.h"

namespace hnv::config {
namespace {

using nlohmann::json;

constexpr FieldSpec kPortAclFields[] = {
    {"vm_name", FieldType::kString, true},
    {"direction", FieldType::kAclDirection, true},
    {"action", FieldType::kAclAction, true},
    {"remote_ip_address", FieldType::kAclAddress, false},
    {"remote_mac_address", FieldType::kMac, false},
};
constexpr FieldSpec kPortExtendedAclFields[] = {
    {"vm_name", FieldType::kString, true},
    {"direction", FieldType::kAclDirection, true},
    {"action", FieldType::kAclAction, true},
    {"weight", FieldType::kUint32, true},
    {"local_ip_address", FieldType::kAclAddress, false},
    {"remote_ip_address", FieldType::kAclAddress, false},
    {"local_port", FieldType::kPortRange, false},
    {"remote_port", FieldType::kPortRange, false},
    {"protocol", FieldType::kAclProtocol, false},
    {"stateful", FieldType::kTrueFalse, false},
    {"idle_session_timeout", FieldType::kUint32, false},
};

// One acl_text.h parse of a string value, written back as `text(value)`.
template <typename Parse, typename Text>
FieldResult Parsed(const json& v, Parse parse, Text text) {
  if (!v.is_string()) return FieldResult{std::nullopt, v.dump() + " is not a string"};
  const std::string& s = v.get_ref<const std::string&>();
  std::string error;
  if (auto x = parse(s, &error)) return FieldResult{json(text(*x)), {}};
  // acl_text's message starts with the value as written: show it as JSON.
  if (error.compare(0, s.size(), s) == 0) error = json(s).dump() + error.substr(s.size());
  return FieldResult{std::nullopt, std::move(error)};
}

AclDirection Direction(const json& o) {
  std::string ignored;
  return *ParseAclDirection(o.at("direction").get<std::string>(), &ignored);
}
AclAction Action(const json& o) {
  std::string ignored;
  return *ParseAclAction(o.at("action").get<std::string>(), &ignored);
}
AclAddress Address(const json& o, const char* name) {
  std::string ignored;
  return o.contains(name) ? *ParseAclAddress(o[name].get<std::string>(), &ignored) : AclAddress{};
}
PortRange Ports(const json& o, const char* name) {
  std::string ignored;
  return o.contains(name) ? *ParsePortRange(o[name].get<std::string>(), &ignored) : PortRange{};
}

}  // namespace

namespace json_detail {

std::span<const FieldSpec> AclFields(Kind kind) {
  if (kind == Kind::kPortAcl) return kPortAclFields;
  return kPortExtendedAclFields;
}

FieldResult NormalizeAclField(FieldType type, const json& v) {
  switch (type) {
    case FieldType::kTrueFalse:
      if (v.is_boolean()) return FieldResult{v, {}};
      if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        for (const char* t : {"true", "$true"})
          if (strcasecmp(s.c_str(), t) == 0) return FieldResult{json(true), {}};
        for (const char* f : {"false", "$false"})
          if (strcasecmp(s.c_str(), f) == 0) return FieldResult{json(false), {}};
      }
      return FieldResult{std::nullopt, v.dump() + " is not true or false ($true, $false)"};
    case FieldType::kAclAddress:
      return Parsed(v, ParseAclAddress, AclAddressText);
    case FieldType::kPortRange:
      return Parsed(v, ParsePortRange, PortRangeText);
    case FieldType::kAclProtocol:
      // A protocol number may come as a JSON number.
      if (v.is_number_unsigned()) return Parsed(json(v.dump()), ParseAclProtocol, AclProtocolText);
      return Parsed(v, ParseAclProtocol, AclProtocolText);
    case FieldType::kAclDirection:
      return Parsed(v, ParseAclDirection, AclDirectionText);
    case FieldType::kAclAction:
      return Parsed(v, ParseAclAction, AclActionText);
    default:
      break;
  }
  return FieldResult{std::nullopt, v.dump() + " has an unknown type"};
}

}  // namespace json_detail

FromJsonResult<PortAcl> PortAclFromJson(const json& j, const FromJsonOptions& options) {
  return json_detail::Convert<PortAcl>(
      Kind::kPortAcl, j, options,
      [&options](const json& o, PortAcl* a, std::optional<JsonError>* error) {
        if (o.contains("vm_name")) a->vm_name = o["vm_name"].get<std::string>();
        if (o.contains("direction")) a->direction = Direction(o);
        if (o.contains("action")) a->action = Action(o);
        const bool ip = o.contains("remote_ip_address");
        const bool mac = o.contains("remote_mac_address");
        if (ip && mac) {
          *error = JsonError{"remote_mac_address",
                             "remote_ip_address and remote_mac_address are both given; an ACL "
                             "has one"};
          return false;
        }
        if (options.mode == Mode::kFull && !ip && !mac) {
          *error = JsonError{"remote_ip_address",
                             "missing (an ACL needs remote_ip_address (ANY, an address or a "
                             "prefix) or remote_mac_address)"};
          return false;
        }
        a->by_mac = mac;
        if (mac) a->remote_mac = *MacAddr::Parse(o["remote_mac_address"].get<std::string>());
        a->remote_ip = Address(o, "remote_ip_address");
        return true;
      });
}

FromJsonResult<PortExtendedAcl> PortExtendedAclFromJson(const json& j,
                                                        const FromJsonOptions& options) {
  return json_detail::Convert<PortExtendedAcl>(
      Kind::kPortExtendedAcl, j, options,
      [](const json& o, PortExtendedAcl* a, std::optional<JsonError>*) {
        if (o.contains("vm_name")) a->vm_name = o["vm_name"].get<std::string>();
        if (o.contains("direction")) a->direction = Direction(o);
        if (o.contains("action")) a->action = Action(o);
        if (o.contains("weight")) a->weight = o["weight"].get<uint32_t>();
        a->local_ip = Address(o, "local_ip_address");
        a->remote_ip = Address(o, "remote_ip_address");
        a->local_port = Ports(o, "local_port");
        a->remote_port = Ports(o, "remote_port");
        if (o.contains("protocol")) {
          std::string ignored;
          a->protocol = *ParseAclProtocol(o["protocol"].get<std::string>(), &ignored);
        }
        if (o.contains("stateful")) a->stateful = o["stateful"].get<bool>();
        if (o.contains("idle_session_timeout"))
          a->idle_session_timeout = o["idle_session_timeout"].get<uint32_t>();
        return true;
      });
}

json ToJson(const PortAcl& a) {
  json o{{"vm_name", a.vm_name},
         {"direction", AclDirectionText(a.direction)},
         {"action", AclActionText(a.action)}};
  if (a.by_mac) o["remote_mac_address"] = a.remote_mac.ToCompactString();
  else o["remote_ip_address"] = AclAddressText(a.remote_ip);
  return o;
}

json ToJson(const PortExtendedAcl& a) {
  return json{{"vm_name", a.vm_name},
              {"direction", AclDirectionText(a.direction)},
              {"action", AclActionText(a.action)},
              {"weight", a.weight},
              {"local_ip_address", AclAddressText(a.local_ip)},
              {"remote_ip_address", AclAddressText(a.remote_ip)},
              {"local_port", PortRangeText(a.local_port)},
              {"remote_port", PortRangeText(a.remote_port)},
              {"protocol", AclProtocolText(a.protocol)},
              {"stateful", a.stateful},
              {"idle_session_timeout", a.idle_session_timeout}};
}

}  // namespace hnv::config
