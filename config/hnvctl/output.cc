#include "config/hnvctl/output.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "config/control.h"
#include "config/hnvctl/cmdlet_nouns.h"
#include "config/policy/policy_dump.h"

namespace hnv::ctl {
namespace {

using config::Kind;
using nlohmann::json;

std::string Scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Only the fields this client knows, so AppendFromJson accepts a newer
// server's objects.
json KnownFields(Kind kind, const json& o) {
  if (!o.is_object()) return o;
  json out = json::object();
  for (const auto& [key, value] : o.items()) {
    if (config::FindField(kind, key) != nullptr) out[key] = value;
  }
  return out;
}

bool Matches(Kind kind, const json& object, const json& filter) {
  if (!object.is_object()) return false;
  for (const auto& [key, want] : filter.items()) {
    const auto it = object.find(key);
    if (it == object.end()) return false;
    const config::FieldSpec* spec = config::FindField(kind, key);
    if (spec != nullptr && spec->type == config::FieldType::kString && want.is_string() &&
        it->is_string()) {
      if (fnmatch(want.get<std::string>().c_str(), it->get<std::string>().c_str(), 0) != 0) {
        return false;
      }
      continue;
    }
    // Compare canonical forms: the server's spelling may differ from ours.
    json have = *it;
    if (spec != nullptr) {
      config::FieldResult r = config::NormalizeField(spec->type, *it);
      if (r.value) have = std::move(*r.value);
    }
    if (have != want) return false;
  }
  return true;
}

using DumpFn = std::string (*)(const Policy&);

DumpFn DumpFor(Kind kind) {
  switch (kind) {
    case Kind::kLookupRecord:
      return DumpLookupRecords;
    case Kind::kCustomerRoute:
      return DumpCustomerRoutes;
    case Kind::kProviderAddress:
      return DumpProviderAddresses;
    case Kind::kProviderRoute:
      return DumpProviderRoutes;
    case Kind::kVmNetworkAdapter:
      return DumpVmNetworkAdapters;
    case Kind::kRoutingDomain:
      return DumpRoutingDomains;
    case Kind::kVirtualSubnet:
      return DumpVirtualSubnets;
    case Kind::kPortAcl:
    case Kind::kPortExtendedAcl:
      break;  // RenderAcls
  }
  return nullptr;
}

const char* CmdletFor(Kind kind) {
  switch (kind) {
    case Kind::kLookupRecord:
      return "Get-NetVirtualizationLookupRecord";
    case Kind::kCustomerRoute:
      return "Get-NetVirtualizationCustomerRoute";
    case Kind::kProviderAddress:
      return "Get-NetVirtualizationProviderAddress";
    case Kind::kProviderRoute:
      return "Get-NetVirtualizationProviderRoute";
    case Kind::kVmNetworkAdapter:
      return "Get-VMNetworkAdapter";
    case Kind::kRoutingDomain:
      return "routing domains";
    case Kind::kVirtualSubnet:
      return "virtual subnets";
    case Kind::kPortAcl:
      return "Get-VMNetworkAdapterAcl";
    case Kind::kPortExtendedAcl:
      return "Get-VMNetworkAdapterExtendedAcl";
  }
  return "?";
}

// Flattens nested objects of numbers: {"a": {"b": 1}} -> "a.b" = 1.
void Flatten(const json& v, const std::string& prefix,
             std::vector<std::pair<std::string, json>>* out) {
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      Flatten(value, prefix.empty() ? key : prefix + "." + key, out);
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i)
      Flatten(v[i], prefix + "[" + std::to_string(i) + "]", out);
  } else {
    out->emplace_back(prefix, v);
  }
}

std::string Pad(const std::string& s, size_t width, bool right) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

// rx before tx, packets before bytes, then the rest by name.
int ColumnRank(const std::string& name) {
  static const char* kOrder[] = {"rx_packets", "rx_bytes",  "tx_packets", "tx_bytes",
                                 "rx_missed",  "rx_errors", "rx_nombuf",  "tx_errors",
                                 "rx_dropped", "tx_dropped", "drops"};
  for (size_t i = 0; i < std::size(kOrder); ++i) {
    if (name == kOrder[i]) return static_cast<int>(i);
  }
  return 100;
}

}  // namespace

std::string Table(const std::vector<std::vector<std::string>>& rows, size_t label_columns) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c != 0) line += "  ";
      line += Pad(row[c], width[c], c >= label_columns);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string SelectProperties(const std::string& view, const std::vector<std::string>& properties) {
  if (properties.empty()) return view;
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::vector<std::string> want;
  for (const std::string& p : properties) want.push_back(lower(p));
  std::string out;
  size_t start = 0;
  while (start < view.size()) {
    size_t end = view.find('\n', start);
    if (end == std::string::npos) end = view.size();
    const std::string line = view.substr(start, end - start);
    const size_t colon = line.find(':');
    const bool keep = line.empty() || (colon != std::string::npos &&
                                       std::find(want.begin(), want.end(),
                                                 lower(line.substr(0, colon))) != want.end());
    if (keep) out += line + "\n";
    start = end + 1;
  }
  return out;
}

json FilterObjects(Kind kind, const json& objects, const json& filter) {
  if (!objects.is_array() || filter.empty()) return objects;
  json out = json::array();
  for (const json& o : objects) {
    if (Matches(kind, o, filter)) out.push_back(o);
  }
  return out;
}

Rendered RenderObjects(Kind kind, const json& objects, config::Mode mode) {
  Rendered r;
  json list = json::array();
  if (objects.is_array()) {
    for (const json& o : objects) list.push_back(KnownFields(kind, o));
  } else if (objects.is_object()) {
    list.push_back(KnownFields(kind, objects));
  } else if (!objects.is_null()) {
    r.error = "unexpected result from the server: " + Scalar(objects).substr(0, 80);
    return r;
  }
  Policy p;
  config::FromJsonOptions options;
  options.mode = mode;
  if (std::optional<config::JsonError> e = config::AppendFromJson(kind, list, &p, options)) {
    r.error =
        "unexpected " + std::string(config::KindName(kind)) + " from the server: " + e->ToString();
    return r;
  }
  if (kind == Kind::kPortAcl || kind == Kind::kPortExtendedAcl) {
    // From the canonical objects, with the server's meter counts.
    json shown = config::KindToJson(p, kind);
    for (size_t i = 0; i < shown.size() && i < list.size(); ++i) {
      const json& raw = objects.is_array() ? objects[i] : objects;
      for (const char* k : {"metered_packets", "metered_bytes"})
        if (raw.is_object() && raw.contains(k)) shown[i][k] = raw[k];
    }
    r.text = RenderAcls(kind, shown);
    return r;
  }
  r.text = DumpFor(kind)(p);
  return r;
}

Rendered RenderPolicy(const json& results) {
  Rendered r;
  bool separate = false;
  for (Kind kind : config::kAllKinds) {
    const auto it = results.find(config::KindName(kind));
    if (it == results.end()) continue;
    Rendered one = RenderObjects(kind, *it, config::Mode::kPartial);
    if (!one.error.empty()) return one;
    if (separate) r.text += '\n';
    r.text += CmdletFor(kind);
    r.text += "\n\n";
    r.text += one.text;
    separate = !one.text.empty();
  }
  return r;
}

std::string DumpRoutingDomains(const Policy& p) {
  std::string out;
  for (const RoutingDomain& d : p.routing_domains) {
    if (!out.empty()) out += '\n';
    out += "RoutingDomainID: " + d.rdid.ToString() + "\n";
    out += d.name.empty() ? "Name:\n" : "Name: " + d.name + "\n";
  }
  return out;
}

std::string DumpVirtualSubnets(const Policy& p) {
  std::string out;
  for (const VirtualSubnet& s : p.subnets) {
    if (!out.empty()) out += '\n';
    out += "VirtualSubnetID: " + std::to_string(s.vsid) + "\n";
    out += "RoutingDomainID: " + s.rdid.ToString() + "\n";
    std::string prefixes;
    for (const IpPrefix& x : s.prefixes) prefixes += (prefixes.empty() ? "" : ", ") + x.ToString();
    out += prefixes.empty() ? "Prefixes:\n" : "Prefixes: " + prefixes + "\n";
  }
  return out;
}

std::string RenderCounters(const json& result) {
  if (!result.is_object()) return Scalar(result) + "\n";
  std::string out;

  // Ports.
  const auto ports = result.find("ports");
  if (ports != result.end() && ports->is_array() && !ports->empty()) {
    std::vector<std::string> columns;
    for (const json& port : *ports) {
      if (!port.is_object()) continue;
      for (const auto& [key, value] : port.items()) {
        if (!value.is_number() || key == "port" || key == "index" || key == "id") continue;
        if (std::find(columns.begin(), columns.end(), key) == columns.end()) columns.push_back(key);
      }
    }
    std::stable_sort(columns.begin(), columns.end(),
                     [](const std::string& a, const std::string& b) {
                       const int ra = ColumnRank(a);
                       const int rb = ColumnRank(b);
                       return ra != rb ? ra < rb : a < b;
                     });
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> head = {"PORT", "NAME"};
    for (const std::string& c : columns) {
      std::string h = c;
      std::transform(h.begin(), h.end(), h.begin(), [](char ch) {
        return ch == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      });
      head.push_back(h);
    }
    rows.push_back(head);
    std::vector<uint64_t> totals(columns.size(), 0);
    for (const json& port : *ports) {
      if (!port.is_object()) continue;
      std::vector<std::string> row;
      std::string index = "-";
      for (const char* k : {"port", "index", "id"}) {
        if (port.contains(k)) {
          index = Scalar(port[k]);
          break;
        }
      }
      row.push_back(index);
      row.push_back(port.contains("name") ? Scalar(port["name"]) : "");
      for (size_t c = 0; c < columns.size(); ++c) {
        const auto v = port.find(columns[c]);
        if (v == port.end() || !v->is_number()) {
          row.push_back("-");
          continue;
        }
        row.push_back(Scalar(*v));
        if (v->is_number_unsigned()) totals[c] += v->get<uint64_t>();
      }
      rows.push_back(row);
    }
    std::vector<std::string> total = {"total", ""};
    for (uint64_t t : totals) total.push_back(std::to_string(t));
    rows.push_back(total);
    out += Table(rows, 2);
  }

  // Drops: nonzero reasons only.
  const auto drops = result.find("drops");
  if (drops != result.end()) {
    std::vector<std::pair<std::string, json>> flat;
    Flatten(*drops, "", &flat);
    std::vector<std::vector<std::string>> rows;
    uint64_t total = 0;
    for (const auto& [name, value] : flat) {
      if (value.is_number() && value == 0) continue;
      std::string reason = name;
      // [{"reason": "x", "count": 3}] arrives flattened as [0].reason / [0].count.
      rows.push_back({reason, Scalar(value)});
      if (value.is_number_unsigned()) total += value.get<uint64_t>();
    }
    if (!out.empty()) out += '\n';
    if (rows.empty()) {
      out += "drops: none\n";
    } else {
      std::vector<std::vector<std::string>> table = {{"DROP REASON", "PACKETS"}};
      table.insert(table.end(), rows.begin(), rows.end());
      table.push_back({"total", std::to_string(total)});
      out += Table(table, 1);
    }
  }

  // Anything else, flattened.
  std::vector<std::pair<std::string, json>> rest;
  for (const auto& [key, value] : result.items()) {
    if (key == "ports" || key == "drops") continue;
    Flatten(value, key, &rest);
  }
  if (!rest.empty()) {
    if (!out.empty()) out += '\n';
    std::vector<std::vector<std::string>> rows;
    for (const auto& [name, value] : rest) rows.push_back({name, Scalar(value)});
    out += Table(rows, 1);
  }
  return out;
}

std::string RenderTrace(const json& result) {
  if (!result.is_object()) return Scalar(result) + "\n";
  std::string out;
  const auto steps = result.find("steps");
  if (steps != result.end() && steps->is_array()) {
    size_t n = 0;
    for (const json& step : *steps) {
      ++n;
      std::string line = std::to_string(n) + ". ";
      if (!step.is_object()) {
        out += line + Scalar(step) + "\n";
        continue;
      }
      line += step.contains("stage") ? Scalar(step["stage"]) : "?";
      if (step.contains("decision")) line += ": " + Scalar(step["decision"]);
      for (const auto& [key, value] : step.items()) {
        if (key == "stage" || key == "decision") continue;
        line += " " + key + "=" + Scalar(value);
      }
      out += line + "\n";
    }
  }
  // What left the pipeline: {"port": .., "summary": .., "frame": hex, ...}.
  const auto outputs = result.find("outputs");
  if (outputs != result.end() && outputs->is_array()) {
    if (outputs->empty()) out += "no frame leaves\n";
    for (const json& o : *outputs) {
      if (!o.is_object()) {
        out += "-> " + Scalar(o) + "\n";
        continue;
      }
      std::string line = "-> port " + (o.contains("port") ? Scalar(o["port"]) : "?");
      if (o.contains("summary")) line += ": " + Scalar(o["summary"]);
      for (const auto& [key, value] : o.items()) {
        if (key == "port" || key == "summary" || key == "frame") continue;
        line += " " + key + "=" + Scalar(value);
      }
      out += line + "\n";
      if (o.contains("frame")) out += "   frame " + Scalar(o["frame"]) + "\n";
    }
  }
  for (const auto& [key, value] : result.items()) {
    if (key == "steps" || key == "outputs") continue;
    out += key + ": " + Scalar(value) + "\n";
  }
  return out;
}

std::string RenderApply(const json& result) {
  if (!result.is_object()) return result.is_null() ? "applied\n" : Scalar(result) + "\n";
  std::string out;
  const auto files = result.find("files");
  if (files != result.end() && files->is_array()) {
    out += "applied";
    for (size_t i = 0; i < files->size(); ++i) out += (i == 0 ? " " : ", ") + Scalar((*files)[i]);
    out += "\n";
  }
  const auto changed = result.find("changed");
  if (changed != result.end()) {
    std::vector<std::pair<std::string, json>> flat;
    Flatten(*changed, "", &flat);
    if (flat.empty() || (changed->is_object() && changed->empty())) {
      out += "no changes\n";
    } else {
      for (const auto& [name, value] : flat) out += "  " + name + ": " + Scalar(value) + "\n";
    }
  }
  for (const auto& [key, value] : result.items()) {
    if (key == "files" || key == "changed") continue;
    out += key + ": " + Scalar(value) + "\n";
  }
  return out.empty() ? "applied\n" : out;
}

std::string RenderCapture(const json& result, const json& args) {
  std::string file = args.contains("file")     ? Scalar(args["file"])
                     : result.is_object() && result.contains("file") ? Scalar(result["file"])
                                                                     : "the file";
  if (result.is_object() && result.value("running", false)) {
    return "capture " + Scalar(result["id"]) + " running: " + Scalar(result["packets"]) +
           " packets to " + file + " so far (hnvctl capture --status|--stop " +
           Scalar(result["id"]) + ")\n";
  }
  if (result.is_object() && result.contains("packets")) {
    std::string line = "captured " + Scalar(result["packets"]) + " packets to " + file;
    if (result.contains("lost") && result["lost"] != 0)
      line += " (" + Scalar(result["lost"]) + " lost)";
    return line + "\n";
  }
  return Scalar(result) + "\n";
}

std::string RenderVersion(const json& result) {
  std::string out = "hnvctl protocol " + std::to_string(config::kProtocolVersion) + "\n";
  if (result.is_object()) {
    std::string line = "server";
    if (result.contains("program")) line += " " + Scalar(result["program"]);
    if (result.contains("protocol")) line += " protocol " + Scalar(result["protocol"]);
    out += line + "\n";
  } else {
    out += "server " + Scalar(result) + "\n";
  }
  return out;
}

std::string Field(const nlohmann::json& o, const char* key) {
  if (!o.is_object()) return "-";
  const auto it = o.find(key);
  if (it == o.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const nlohmann::json& Array(const nlohmann::json& o, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  if (!o.is_object()) return kEmpty;
  const auto it = o.find(key);
  return it != o.end() && it->is_array() ? *it : kEmpty;
}

}  // namespace hnv::ctl
