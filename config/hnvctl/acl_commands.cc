// hnvctl's port ACL cmdlets, as Hyper-V spells them:
//   Add-|Remove-|Get-VMNetworkAdapterAcl -VMName N [-RemoteIPAddress P |
//       -RemoteMacAddress M] -Direction Inbound|Outbound|Both -Action Allow|Deny|Meter
//   Add-|Remove-|Get-VMNetworkAdapterExtendedAcl -VMName N -Action Allow|Deny
//       -Direction Inbound|Outbound -Weight W [-LocalIPAddress] [-RemoteIPAddress]
//       [-LocalPort] [-RemotePort] [-Protocol] [-Stateful $true] [-IdleSessionTimeout S]
// They are new / remove / get of the kinds port-acl and port-extended-acl
// (config/json_model.h), parsed by command.cc like every other cmdlet, and
// their views (RenderAcls).
#include <cstdint>

#include "config/hnvctl/cmdlet_nouns.h"

namespace hnv::ctl {
namespace {

using config::Kind;
using nlohmann::json;

std::string Text(const json& o, const char* key, const char* absent = "ANY") {
  const auto it = o.find(key);
  if (it == o.end() || it->is_null()) return absent;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "True" : "False";
  return it->dump();
}

void Line(std::string* out, const char* name, const std::string& value) {
  *out += name;
  *out += ": " + value + "\n";
}

}  // namespace

const std::vector<Noun>& AclNouns() {
  static const std::vector<Noun> kNouns = {
      {"VMNetworkAdapterAcl",
       Kind::kPortAcl,
       {{"VMName", "vm_name"},
        {"RemoteIPAddress", "remote_ip_address"},
        {"RemoteMacAddress", "remote_mac_address"},
        {"Direction", "direction"},
        {"Action", "action"}},
       kVerbAdd | kVerbRemove | kVerbGet,
       true},
      {"VMNetworkAdapterExtendedAcl",
       Kind::kPortExtendedAcl,
       {{"VMName", "vm_name"},
        {"Action", "action"},
        {"Direction", "direction"},
        {"LocalIPAddress", "local_ip_address"},
        {"RemoteIPAddress", "remote_ip_address"},
        {"LocalPort", "local_port"},
        {"RemotePort", "remote_port"},
        {"Protocol", "protocol"},
        {"Weight", "weight"},
        {"Stateful", "stateful"},
        {"IdleSessionTimeout", "idle_session_timeout"}},
       kVerbAdd | kVerbRemove | kVerbGet,
       true},
  };
  return kNouns;
}

std::string CheckAclToAdd(Kind kind, const json& object) {
  if (kind != Kind::kPortAcl) return "";
  const bool ip = object.contains("remote_ip_address");
  const bool mac = object.contains("remote_mac_address");
  if (ip && mac) return "give -RemoteIPAddress or -RemoteMacAddress, not both";
  if (!ip && !mac) return "missing -RemoteIPAddress or -RemoteMacAddress";
  return "";
}

std::string RenderAcls(Kind kind, const json& objects) {
  std::string out;
  const json list = objects.is_array() ? objects : json::array({objects});
  for (const json& o : list) {
    if (!o.is_object()) continue;
    if (!out.empty()) out += '\n';
    Line(&out, "VMName", Text(o, "vm_name", ""));
    Line(&out, "Direction", Text(o, "direction", ""));
    Line(&out, "Action", Text(o, "action", ""));
    if (kind == Kind::kPortAcl) {
      if (o.contains("remote_mac_address"))
        Line(&out, "RemoteMacAddress", Text(o, "remote_mac_address"));
      else
        Line(&out, "RemoteIPAddress", Text(o, "remote_ip_address"));
      if (o.contains("metered_packets")) {
        Line(&out, "MeteredPackets", Text(o, "metered_packets", "0"));
        Line(&out, "MeteredBytes", Text(o, "metered_bytes", "0"));
        const uint64_t bytes = o.value("metered_bytes", uint64_t{0});
        Line(&out, "MeteredMegabytes", std::to_string(bytes / (1024 * 1024)));
      }
      continue;
    }
    Line(&out, "Weight", Text(o, "weight", ""));
    Line(&out, "LocalIPAddress", Text(o, "local_ip_address"));
    Line(&out, "RemoteIPAddress", Text(o, "remote_ip_address"));
    Line(&out, "LocalPort", Text(o, "local_port"));
    Line(&out, "RemotePort", Text(o, "remote_port"));
    Line(&out, "Protocol", Text(o, "protocol"));
    Line(&out, "Stateful", Text(o, "stateful", "False"));
    Line(&out, "IdleSessionTimeout", Text(o, "idle_session_timeout", "255"));
  }
  return out;
}

}  // namespace hnv::ctl
