#include "config/hnvctl/compartment_view.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace hnv::ctl {
namespace {

using nlohmann::json;
using Rows = std::vector<std::vector<std::string>>;

std::string Addresses(const json& iface, const char* separator) {
  std::string out;
  const auto it = iface.is_object() ? iface.find("addresses") : iface.end();
  if (it == iface.end() || !it->is_array()) return "-";
  for (const json& a : *it)
    out += (out.empty() ? "" : separator) + (a.is_string() ? a.get<std::string>() : a.dump());
  return out.empty() ? "-" : out;
}

// The gateway CA as configured ("gateway_ca"); from an older server, the VM
// network interface's addresses.
std::string GatewayCa(const json& c, const json* vm) {
  if (c.is_object() && c.contains("gateway_ca") && c["gateway_ca"].is_string())
    return c["gateway_ca"].get<std::string>();
  return vm ? Addresses(*vm, ",") : "-";
}

uint64_t Number(const json& v) { return v.is_number_unsigned() ? v.get<uint64_t>() : 0; }

// counters[direction].packets
uint64_t Packets(const json& counters, const char* direction) {
  if (!counters.is_object() || !counters.contains(direction)) return 0;
  const json& d = counters[direction];
  return d.is_object() && d.contains("packets") ? Number(d["packets"]) : Number(d);
}

// The sum of every reason of counters[group] ({"reason": packets}).
uint64_t Total(const json& counters, const char* group) {
  uint64_t total = 0;
  if (!counters.is_object() || !counters.contains(group)) return 0;
  const json& g = counters[group];
  if (g.is_object())
    for (const auto& [reason, value] : g.items()) total += Number(value);
  return total;
}

const json* VmInterface(const json& c) {
  for (const json& i : Array(c, "interfaces"))
    if (Field(i, "role") == "vm-network") return &i;
  return nullptr;
}

std::string Externals(const json& c) {
  std::string out;
  for (const json& i : Array(c, "interfaces")) {
    if (Field(i, "role") == "vm-network") continue;
    out += (out.empty() ? "" : "; ") + Field(i, "name") + " (" + Field(i, "port") + ", VLAN " +
           Field(i, "vlan") + ") " + Addresses(i, ",");
  }
  return out.empty() ? "-" : out;
}

const json& List(const json& result) {
  static const json kEmpty = json::array();
  if (result.is_object() && result.contains("compartments") && result["compartments"].is_array())
    return result["compartments"];
  return result.is_array() ? result : kEmpty;
}

bool Shaped(const json& result) {
  return (result.is_object() && result.contains("compartments") &&
          result["compartments"].is_array()) ||
         result.is_array();
}

std::string Unexpected(const json& result) {
  return "unexpected result from the server: " +
         result.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 80);
}

std::string Counters(const json& counters) {
  Rows rows = {{"", "PACKETS", "BYTES"}};
  for (const char* d : {"rx_vm", "rx_external", "to_external", "to_vm", "injected"}) {
    const json& v = counters.is_object() && counters.contains(d) ? counters[d] : json();
    rows.push_back({d, Field(v, "packets"), Field(v, "bytes")});
  }
  std::string out = Table(rows, 1);
  for (const char* group : {"punted", "dropped"}) {
    Rows reasons;
    const json& g = counters.is_object() && counters.contains(group) ? counters[group] : json();
    if (g.is_object()) {
      for (const auto& [reason, value] : g.items()) {
        if (value.is_number() && value == 0) continue;
        reasons.push_back({"  " + reason, Field(g, reason.c_str())});
      }
    }
    if (reasons.empty()) {
      out += std::string(group) + ": none\n";
    } else {
      out += std::string(group) + ":\n" + Table(reasons, 1);
    }
  }
  return out;
}

}  // namespace

Rendered RenderCompartments(const json& result) {
  Rendered r;
  if (!Shaped(result)) {
    r.error = Unexpected(result);
    return r;
  }
  const json& list = List(result);
  if (list.empty()) {
    r.text = "no compartments\n";
    return r;
  }
  Rows rows = {
      {"NAME", "ID", "NAMESPACE", "RDID", "VSID", "GATEWAY CA", "EXTERNAL", "FORWARDED", "PUNTED"}};
  for (const json& c : list) {
    const json* vm = VmInterface(c);
    const json counters = c.is_object() && c.contains("counters") ? c["counters"] : json();
    rows.push_back({Field(c, "name"), Field(c, "id"), Field(c, "namespace"), Field(c, "rdid"),
                    vm ? Field(*vm, "vsid") : "-", GatewayCa(c, vm), Externals(c),
                    std::to_string(Packets(counters, "to_external") + Packets(counters, "to_vm")),
                    std::to_string(Total(counters, "punted"))});
  }
  // Left-aligned but for the two totals at the end.
  std::string table = Table(rows, 7);
  r.text = std::move(table);
  return r;
}

Rendered RenderCompartment(const json& result, const std::string& name) {
  Rendered r;
  if (!Shaped(result)) {
    r.error = Unexpected(result);
    return r;
  }
  const json* found = nullptr;
  for (const json& c : List(result))
    if (Field(c, "name") == name) found = &c;
  if (found == nullptr) {
    r.error = "no compartment " + name;
    return r;
  }
  const json& c = *found;
  std::string& out = r.text;
  out += "Compartment " + Field(c, "name") + " (id " + Field(c, "id") + ")\n";
  Rows identity = {{"  namespace", Field(c, "namespace")},
                   {"  rdid", Field(c, "rdid")},
                   {"  file", Field(c, "file")}};
  if (c.is_object() && c.contains("fast_path"))
    identity.push_back({"  fast path", Field(c, "fast_path")});
  out += Table(identity, 2);

  if (c.is_object() && c.contains("services")) {
    Rows services = {{"SERVICE", "STATE", "SUMMARY"}};
    for (const json& s : Array(c, "services")) {
      std::string summary = Field(s, "summary");
      if (s.is_object() && s.contains("error")) summary += " (error: " + Field(s, "error") + ")";
      services.push_back({Field(s, "name"), Field(s, "state"), summary});
    }
    out += "\nServices\n" + (services.size() == 1 ? std::string("none\n") : Table(services, 3));
  }

  Rows ifs = {{"NAME", "ROLE", "IFINDEX", "MAC", "PORT", "VLAN", "VSID", "MTU", "ADDRESSES"}};
  for (const json& i : Array(c, "interfaces"))
    ifs.push_back({Field(i, "name"), Field(i, "role"), Field(i, "ifindex"), Field(i, "mac"),
                   Field(i, "port"), Field(i, "vlan"), Field(i, "vsid"), Field(i, "mtu"),
                   Addresses(i, ", ")});
  out += "\nInterfaces\n" + Table(ifs, ifs.front().size());

  // A TABLE column only when a route is in a table other than main (policy routing).
  bool tables = false;
  for (const json& rt : Array(c, "routes")) {
    const std::string t = Field(rt, "table");
    tables = tables || (t != "-" && t != "main" && t != "local");
  }
  Rows routes = {{"DESTINATION", "NEXT HOP", "INTERFACE", "METRIC", "ORIGIN", "FAST PATH"}};
  if (tables) routes[0].insert(routes[0].begin() + 5, "TABLE");
  for (const json& rt : Array(c, "routes")) {
    routes.push_back({Field(rt, "destination"), Field(rt, "next_hop"), Field(rt, "interface"),
                      Field(rt, "metric"), Field(rt, "origin"), Field(rt, "fast_path")});
    if (tables) routes.back().insert(routes.back().begin() + 5, Field(rt, "table"));
  }
  out += "\nRoutes\n" +
         (routes.size() == 1 ? std::string("none\n") : Table(routes, routes[0].size()));

  Rows neighbors = {{"IP", "MAC", "INTERFACE"}};
  for (const json& n : Array(c, "neighbors"))
    neighbors.push_back({Field(n, "ip"), Field(n, "mac"), Field(n, "interface")});
  out += "\nNeighbors\n" + (neighbors.size() == 1 ? std::string("none\n") : Table(neighbors, 3));

  out +=
      "\nCounters\n" + Counters(c.is_object() && c.contains("counters") ? c["counters"] : json());
  return r;
}

}  // namespace hnv::ctl
