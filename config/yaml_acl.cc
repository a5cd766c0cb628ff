// The ACLs of a VM network adapter entry (config/README.md, "Port ACLs"):
// its `acls` (Add-VMNetworkAdapterAcl) and `extended_acls`
// (Add-VMNetworkAdapterExtendedAcl), read into Policy::port_acls and
// port_extended_acls with the adapter's vm_name.
#include <limits>

#include "config/acl_text.h"
#include "config/yaml_policy.h"

namespace hnv::config::yaml {
namespace {

constexpr std::string_view kAclKeys[] = {"direction", "action", "remote_ip_address",
                                         "remote_mac_address"};
constexpr std::string_view kExtAclKeys[] = {
    "direction", "action",   "weight",   "local_ip_address",    "remote_ip_address", "local_port",
    "remote_port", "protocol", "stateful", "idle_session_timeout"};
constexpr IntSpec kWeightSpec{"a weight", 1, std::numeric_limits<uint32_t>::max(),
                              std::numeric_limits<uint32_t>::max()};
constexpr IntSpec kIdleSpec{"an idle session timeout in seconds", 1, 86'400,
                            std::numeric_limits<uint32_t>::max()};
constexpr EnumName<bool> kBool[] = {{"true", true}, {"false", false}, {"$true", true},
                                    {"$false", false}};

// A text field parsed by one of acl_text.h's functions.
template <typename T, typename Parse>
void ReadText(Reader& r, const Map& m, std::string_view key, const char* field, ElementOrigin* o,
              T* out, Parse&& parse) {
  const std::optional<Value> v = m.Get(key);
  if (!v) return;
  o->Set(field, *v);
  const std::optional<std::string> text = r.Text(*v, "text");
  if (!text) return;
  std::string error;
  if (auto x = parse(*text, &error)) *out = *x;
  else r.Error(v->line, v->path, error);
}

ElementOrigin Origin(const Reader& r, const Value& item) {
  return ElementOrigin{r.file_index(), item.path, item.line, {}};
}

// What both kinds read alike: the adapter's vm_name, direction and action
// (required, with `also_needed` when given); nullopt when one is missing.
template <typename Acl>
std::optional<ElementOrigin> ReadHead(Reader& r, const Map& adapter, const Map& m, const Value& item,
                                      const std::string& vm_name, std::string_view also_needed,
                                      Acl* a) {
  a->vm_name = vm_name;
  ElementOrigin o = Origin(r, item);
  if (const std::optional<Value> v = adapter.Get("vm_name")) o.Set("vm_name", *v);
  if (!m.Need("direction") || !m.Need("action") || (!also_needed.empty() && !m.Need(also_needed)))
    return std::nullopt;
  ReadText(r, m, "direction", "direction", &o, &a->direction, ParseAclDirection);
  ReadText(r, m, "action", "action", &o, &a->action, ParseAclAction);
  return o;
}

}  // namespace

void ReadAdapterAcls(Reader& r, const Map& adapter, const std::string& vm_name, PolicyBuilder* b) {
  if (const std::optional<Value> list = adapter.Get("acls")) {
    for (const Value& item : r.AsList(*list)) {
      std::optional<Map> m = r.AsMap(item, kAclKeys);
      if (!m) continue;
      PortAcl a;
      std::optional<ElementOrigin> head = ReadHead(r, adapter, *m, item, vm_name, {}, &a);
      if (!head) continue;
      ElementOrigin& o = *head;
      const std::optional<Value> ip = m->Get("remote_ip_address");
      const std::optional<Value> mac = m->Get("remote_mac_address");
      if (ip && mac) {
        r.Error(mac->line, mac->path,
                "remote_ip_address and remote_mac_address are both given; an ACL has one");
        continue;
      }
      if (!ip && !mac) {
        r.Error(m->line(), m->path() + ".remote_ip_address",
                "an ACL needs remote_ip_address (ANY, an address or a prefix) or "
                "remote_mac_address");
        continue;
      }
      if (mac) {
        a.by_mac = true;
        o.Set("remote_mac", *mac);
        if (std::optional<MacAddr> x = r.Mac(*mac)) a.remote_mac = *x;
      } else {
        ReadText(r, *m, "remote_ip_address", "remote_ip", &o, &a.remote_ip, ParseAclAddress);
      }
      b->policy.port_acls.push_back(std::move(a));
      b->origins.port_acls.push_back(std::move(o));
    }
  }
  if (const std::optional<Value> list = adapter.Get("extended_acls")) {
    for (const Value& item : r.AsList(*list)) {
      std::optional<Map> m = r.AsMap(item, kExtAclKeys);
      if (!m) continue;
      PortExtendedAcl a;
      std::optional<ElementOrigin> head = ReadHead(r, adapter, *m, item, vm_name, "weight", &a);
      if (!head) continue;
      ElementOrigin& o = *head;
      if (const std::optional<Value> v = m->Get("weight")) {
        o.Set("weight", *v);
        if (auto x = r.UintIn(*v, kWeightSpec)) a.weight = static_cast<uint32_t>(*x);
      }
      ReadText(r, *m, "local_ip_address", "local_ip", &o, &a.local_ip, ParseAclAddress);
      ReadText(r, *m, "remote_ip_address", "remote_ip", &o, &a.remote_ip, ParseAclAddress);
      ReadText(r, *m, "local_port", "local_port", &o, &a.local_port, ParsePortRange);
      ReadText(r, *m, "remote_port", "remote_port", &o, &a.remote_port, ParsePortRange);
      ReadText(r, *m, "protocol", "protocol", &o, &a.protocol, ParseAclProtocol);
      if (const std::optional<Value> v = m->Get("stateful")) {
        o.Set("stateful", *v);
        if (auto x = r.Enum<bool>(*v, kBool, "true or false")) a.stateful = *x;
      }
      if (const std::optional<Value> v = m->Get("idle_session_timeout")) {
        o.Set("stateful", *v);
        if (auto x = r.UintIn(*v, kIdleSpec)) a.idle_session_timeout = static_cast<uint32_t>(*x);
      }
      b->policy.port_extended_acls.push_back(std::move(a));
      b->origins.port_extended_acls.push_back(std::move(o));
    }
  }
}

}  // namespace hnv::config::yaml
