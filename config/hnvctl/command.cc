#include "config/hnvctl/command.h"

#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdlib>

#include "config/hnvctl/cmdlet_nouns.h"
#include "config/hnvctl/frame_spec.h"

namespace hnv::ctl {
namespace {

using config::FieldSpec;
using config::FieldType;
using config::Kind;
using nlohmann::json;

constexpr uint8_t kObjectVerbs = kVerbNew | kVerbGet | kVerbSet | kVerbRemove;

const std::vector<Noun>& Nouns() {
  static const std::vector<Noun> kNouns = [] {
    std::vector<Noun> nouns = {
      {"NetVirtualizationLookupRecord",
       Kind::kLookupRecord,
       {{"CustomerAddress", "customer_address"},
        {"VirtualSubnetID", "vsid"},
        {"MACAddress", "mac"},
        {"ProviderAddress", "provider_address"},
        {"Rule", "rule"},
        {"Type", "type"},
        {"VMName", "vm_name"}},
       kObjectVerbs},
      {"NetVirtualizationCustomerRoute",
       Kind::kCustomerRoute,
       {{"RoutingDomainID", "rdid"},
        {"VirtualSubnetID", "vsid"},
        {"DestinationPrefix", "destination"},
        {"NextHop", "next_hop"},
        {"Metric", "metric"}},
       kObjectVerbs},
      {"NetVirtualizationProviderAddress",
       Kind::kProviderAddress,
       {{"ProviderAddress", "address"},
        {"InterfaceIndex", "port", true},
        {"PrefixLength", "prefix_length"},
        {"VlanID", "vlan"},
        {"MACAddress", "mac"}},
       kObjectVerbs},
      {"NetVirtualizationProviderRoute",
       Kind::kProviderRoute,
       {{"DestinationPrefix", "destination"},
        {"InterfaceIndex", "port", true},
        {"NextHop", "next_hop"}},
       kObjectVerbs},
      {"VMNetworkAdapter",
       Kind::kVmNetworkAdapter,
       {{"VMName", "vm_name"},
        {"VirtualSubnetId", "vsid"},
        {"StaticMacAddress", "mac"},
        {"MacAddressSpoofing", "mac_address_spoofing"},
        {"DhcpGuard", "dhcp_guard"},
        {"RouterGuard", "router_guard"}},
       kVerbGet | kVerbSet,
       true},
    };
    nouns.insert(nouns.end(), AclNouns().begin(), AclNouns().end());
    return nouns;
  }();
  return kNouns;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IEquals(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

bool AllDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Removes one layer of matching quotes: "..." '...' or the typographic “...”.
std::string StripQuotes(std::string s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    return s.substr(1, s.size() - 2);
  }
  static const std::string kOpen = "\xe2\x80\x9c";
  static const std::string kClose = "\xe2\x80\x9d";
  if (s.size() >= 6 && s.compare(0, 3, kOpen) == 0 && s.compare(s.size() - 3, 3, kClose) == 0) {
    return s.substr(3, s.size() - 6);
  }
  return s;
}

ParseOutcome Fail(int code, std::string message) {
  ParseOutcome o;
  o.error = std::move(message);
  o.exit_code = code;
  return o;
}

ParseOutcome Ok(Command c) {
  ParseOutcome o;
  o.command = std::move(c);
  return o;
}

// A port given on the command line: a number when it is one, else a name.
json PortValue(const std::string& s) {
  if (AllDigits(s) && s.size() <= 5 && std::stoul(s) <= 65535) return json(std::stoul(s));
  return json(s);
}

std::string ParamList(const Noun& noun, bool with_all) {
  std::string s;
  for (const Param& p : noun.params) {
    if (!s.empty()) s += ", ";
    s += "-";
    s += p.name;
  }
  if (with_all) s += ", -All";
  return s;
}

const Param* ParamForField(const Noun& noun, std::string_view field) {
  for (const Param& p : noun.params) {
    if (field == p.field) return &p;
  }
  return nullptr;
}

// True for a value with * or ? in a text field: matched as a wildcard.
bool IsPattern(FieldType type, const std::string& v) {
  return type == FieldType::kString && v.find_first_of("*?") != std::string::npos;
}

// Checks one value for `field` of `kind`: its canonical JSON, or the message.
config::FieldResult Normalize(Kind kind, const std::string& field, const std::string& raw,
                              bool for_filter) {
  const FieldSpec* spec = config::FindField(kind, field);
  if (for_filter && IsPattern(spec->type, raw)) return config::FieldResult{json(raw), {}};
  return config::NormalizeField(spec->type, json(raw));
}

// The object of new/set/remove, or the filter of get.
struct Built {
  json object = json::object();
  std::optional<ParseOutcome> failure;
};

Command ObjectCommand(const std::string& label, const std::string& verb, Kind kind, json object) {
  Command c;
  c.label = label;
  c.kind = kind;
  if (verb == "get") {
    c.request.op = "get";
    c.request.args = json{{"kind", config::KindName(kind)}};
    c.filter = std::move(object);
    c.view = View::kObjects;
  } else {
    c.request.op = verb;
    c.request.args = json{{"kind", config::KindName(kind)}, {"object", std::move(object)}};
    c.view = verb == "remove" ? View::kNothing : View::kObjects;
  }
  return c;
}

// `| fl A,B C` (Format-List): the property names, or none for `*` and for
// any other pipeline. `words[i]` starts with '|'.
std::vector<std::string> FormatListProperties(const std::vector<std::string>& words, size_t i) {
  std::vector<std::string> tail;
  std::string first = words[i].substr(1);
  if (!first.empty()) tail.push_back(first);
  for (size_t j = i + 1; j < words.size(); ++j) tail.push_back(words[j]);
  if (tail.empty() || !(IEquals(tail[0], "fl") || IEquals(tail[0], "Format-List"))) return {};
  std::vector<std::string> props;
  for (size_t j = 1; j < tail.size(); ++j) {
    if (IEquals(tail[j], "-Property")) continue;       // the default parameter, named
    if (!tail[j].empty() && tail[j][0] == '-') break;  // another parameter ends the list
    size_t start = 0;
    for (;;) {
      const size_t comma = tail[j].find(',', start);
      std::string p =
          tail[j].substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (p == "*") return {};
      if (!p.empty()) props.push_back(std::move(p));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return props;
}

ParseOutcome ParseCmdlet(const std::vector<std::string>& words) {
  const std::string& name = words[0];
  const size_t dash = name.find('-');
  const std::string verb = Lower(name.substr(0, dash));
  const std::string noun_text = name.substr(dash + 1);
  const Noun* noun = nullptr;
  for (const Noun& n : Nouns()) {
    if (IEquals(n.name, noun_text)) noun = &n;
  }
  static const std::pair<const char*, uint8_t> kVerbs[] = {
      {"New", kVerbNew}, {"Get", kVerbGet}, {"Set", kVerbSet}, {"Remove", kVerbRemove},
      {"Add", kVerbAdd}};
  std::string label;
  uint8_t verb_bit = 0;
  for (const auto& [v, bit] : kVerbs) {
    if (IEquals(v, verb)) verb_bit = bit;
    if (noun != nullptr && IEquals(v, verb)) label = std::string(v) + "-" + noun->name;
  }
  if (noun == nullptr || (noun->verbs & verb_bit) == 0) {
    return Fail(kExitUsage, "unknown command \"" + name + "\" (try hnvctl --help)");
  }
  const bool vm_adapter = noun->vm_first;
  const bool is_get = verb == "get";

  // Parameters as given: (param, raw value), in order.
  std::vector<std::pair<const Param*, std::string>> given;
  std::vector<std::string> properties;
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (!w.empty() && w[0] == '|') {  // "| fl A,B" selects the view's lines
      properties = FormatListProperties(words, i);
      break;
    }
    const bool is_param =
        w.size() > 1 && w[0] == '-' && std::isalpha(static_cast<unsigned char>(w[1]));
    if (!is_param) {
      // Get-/Set-VMNetworkAdapter take the VM name first, as PowerShell does.
      const std::string v = StripQuotes(w);
      if (vm_adapter && given.empty()) {
        given.emplace_back(&noun->params[0], v);
        continue;
      }
      return Fail(kExitUsage, label + ": unexpected argument \"" + w + "\"");
    }
    std::string pname = w.substr(1);
    std::optional<std::string> value;
    if (const size_t colon = pname.find(':'); colon != std::string::npos) {
      value = pname.substr(colon + 1);
      pname.resize(colon);
    }
    if (noun->kind == Kind::kVmNetworkAdapter && is_get && IEquals(pname, "All") && !value) {
      given.emplace_back(&noun->params[0], "*");
      continue;
    }
    const Param* param = nullptr;
    for (const Param& p : noun->params) {
      if (IEquals(p.name, pname)) param = &p;
    }
    if (param == nullptr) {
      return Fail(kExitUsage, label + ": unknown parameter -" + pname + " (" +
                                  ParamList(*noun, noun->kind == Kind::kVmNetworkAdapter && is_get) +
                                  ")");
    }
    if (!value) {
      const bool next_is_value = i + 1 < words.size() &&
                                 !(words[i + 1].size() > 1 && words[i + 1][0] == '-' &&
                                   std::isalpha(static_cast<unsigned char>(words[i + 1][1]))) &&
                                 words[i + 1][0] != '|';
      if (!next_is_value) return Fail(kExitUsage, label + ": -" + param->name + " needs a value");
      value = words[++i];
    }
    for (const auto& [p, v] : given) {
      if (std::string_view(p->field) == param->field) {
        return Fail(kExitUsage, label + ": -" + param->name + " given twice");
      }
    }
    given.emplace_back(param, StripQuotes(*value));
  }

  json object = json::object();
  for (const auto& [param, raw] : given) {
    if (is_get && vm_adapter && raw == "*") continue;  // every adapter
    if (param->number_only && !AllDigits(raw)) {
      return Fail(kExitError,
                  label + ": -" + param->name + ": " + json(raw).dump() + " is not a number");
    }
    config::FieldResult r = Normalize(noun->kind, param->field, raw, is_get);
    if (!r.value) return Fail(kExitError, label + ": -" + param->name + ": " + r.error);
    object[param->field] = std::move(*r.value);
  }

  if (verb == "new" || verb == "add") {
    config::FromJsonResult<json> n = config::NormalizeObject(noun->kind, object);
    if (n.error) {
      const Param* p = ParamForField(*noun, n.error->field);
      if (n.error->message.rfind("missing", 0) == 0) {
        return Fail(kExitUsage, label + ": missing -" + (p ? p->name : n.error->field));
      }
      return Fail(kExitError, label + ": " + n.error->ToString());
    }
  } else if (verb == "set") {
    if (vm_adapter && !object.contains("vm_name")) {
      return Fail(kExitUsage, label + ": missing -VMName");
    }
    if (object.size() < 2) {
      return Fail(kExitUsage, label + ": nothing to set (" + ParamList(*noun, false) + ")");
    }
  } else if (verb == "remove" && object.empty()) {
    return Fail(kExitUsage, label + ": give at least one of " + ParamList(*noun, false) +
                                " to select what to remove");
  }
  if (verb == "add") {
    if (std::string e = CheckAclToAdd(noun->kind, object); !e.empty())
      return Fail(kExitUsage, label + ": " + e);
  }
  Command c = ObjectCommand(label, verb == "add" ? "new" : verb, noun->kind, std::move(object));
  c.properties = std::move(properties);
  return Ok(std::move(c));
}

// `new|set|remove|get KIND field=value ...`
ParseOutcome ParseShortObject(const std::vector<std::string>& words) {
  const std::string& verb = words[0];
  if (words.size() < 2) {
    return Fail(kExitUsage, verb + ": which kind? (" + config::KindNames() + ")");
  }
  const std::optional<Kind> kind = config::ParseKind(words[1]);
  if (!kind) {
    return Fail(kExitUsage,
                verb + ": unknown kind \"" + words[1] + "\" (" + config::KindNames() + ")");
  }
  const std::string label = verb + " " + words[1];
  json object = json::object();
  for (size_t i = 2; i < words.size(); ++i) {
    const std::string& w = words[i];
    const size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(kExitUsage, label + ": \"" + w + "\" is not field=value (fields: " +
                                  config::FieldNames(*kind) + ")");
    }
    const std::string field = w.substr(0, eq);
    if (config::FindField(*kind, field) == nullptr) {
      return Fail(kExitUsage, label + ": unknown field \"" + field + "\" (" + words[1] +
                                  " fields: " + config::FieldNames(*kind) + ")");
    }
    if (object.contains(field)) return Fail(kExitUsage, label + ": " + field + " given twice");
    config::FieldResult r = Normalize(*kind, field, StripQuotes(w.substr(eq + 1)), verb == "get");
    if (!r.value) return Fail(kExitError, label + ": " + field + ": " + r.error);
    object[field] = std::move(*r.value);
  }
  if (verb == "new") {
    config::FromJsonResult<json> n = config::NormalizeObject(*kind, object);
    if (n.error) {
      const bool missing = n.error->message.rfind("missing", 0) == 0;
      return Fail(missing ? kExitUsage : kExitError, label + ": " + n.error->ToString());
    }
  } else if ((verb == "set" || verb == "remove") && object.empty()) {
    return Fail(kExitUsage, label + ": give the fields that select the object (" +
                                config::FieldNames(*kind) + ")");
  }
  return Ok(ObjectCommand(label, verb, *kind, std::move(object)));
}

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

ParseOutcome ParseTrace(const std::vector<std::string>& words) {
  if (words.size() < 3) {
    return Fail(
        kExitUsage,
        "trace: usage: hnvctl trace PORT FRAME-HEX | hnvctl trace PORT --describe 'eth ... / ...'");
  }
  Command c;
  c.label = "trace";
  c.view = View::kTrace;
  c.request.op = "trace";
  std::vector<uint8_t> frame;
  if (words[2] == "--describe" || words[2] == "-d") {
    std::string description;
    for (size_t i = 3; i < words.size(); ++i) description += (i > 3 ? " " : "") + words[i];
    if (description.empty()) return Fail(kExitUsage, "trace: --describe needs a description");
    FrameResult r = BuildFrameFromDescription(description);
    if (!r.error.empty()) return Fail(kExitError, "trace: --describe: " + r.error);
    frame = std::move(r.bytes);
  } else {
    std::string hex;
    for (size_t i = 2; i < words.size(); ++i) hex += words[i];
    if (!ParseHexBytes(hex, &frame) || frame.empty()) {
      return Fail(kExitError, "trace: \"" + hex + "\" is not a frame in hex");
    }
  }
  c.request.args = json{{"port", PortValue(words[1])}, {"frame", ToHex(frame)}};
  return Ok(std::move(c));
}

ParseOutcome ParseCapture(const std::vector<std::string>& words) {
  const std::string usage =
      "capture: usage: hnvctl capture PORT FILE [--count N] [--seconds S] [--background] | "
      "--status ID | --stop ID";
  if (words.size() == 3 && (words[1] == "--status" || words[1] == "--stop")) {
    if (!AllDigits(words[2]) || words[2].empty() || words[2].size() > 12)
      return Fail(kExitError, "capture: " + words[1] + ": " + json(words[2]).dump() + " is not a capture id");
    Command c;
    c.label = "capture";
    c.view = View::kCapture;
    c.request.op = words[1] == "--stop" ? "capture-stop" : "capture-status";
    c.request.args = json{{"id", std::stoull(words[2])}};
    c.background = true;
    return Ok(std::move(c));
  }
  if (words.size() < 3) return Fail(kExitUsage, usage);
  Command c;
  c.label = "capture";
  c.view = View::kCapture;
  c.request.op = "capture";
  c.request.args = json{{"port", PortValue(words[1])}, {"file", Absolute(words[2])}};
  // The server captures for --seconds (at most 600, 10 by default): wait that long and a bit.
  c.timeout_ms = 620 * 1000;
  for (size_t i = 3; i < words.size(); ++i) {
    std::string opt = words[i];
    std::string value;
    if (opt == "--background") {
      c.background = true;
      continue;
    }
    if (const size_t eq = opt.find('='); eq != std::string::npos) {
      value = opt.substr(eq + 1);
      opt.resize(eq);
    } else if (i + 1 < words.size()) {
      value = words[++i];
    }
    if (opt != "--count" && opt != "--seconds") return Fail(kExitUsage, usage);
    if (value.empty()) return Fail(kExitUsage, "capture: " + opt + " needs a value");
    if (opt == "--count") {
      if (!AllDigits(value) || value.size() > 12) {
        return Fail(kExitError, "capture: --count: " + json(value).dump() + " is not a number");
      }
      c.request.args["count"] = std::stoull(value);
      continue;
    }
    // Seconds may have a fraction: "0.5".
    const size_t dot = value.find('.');
    const std::string whole = value.substr(0, dot);
    const std::string frac = dot == std::string::npos ? "" : value.substr(dot + 1);
    if (!AllDigits(whole) || whole.size() > 6 || (dot != std::string::npos && !AllDigits(frac))) {
      return Fail(kExitError, "capture: --seconds: " + json(value).dump() + " is not a number");
    }
    const double seconds = std::stod(value);
    if (dot == std::string::npos) {
      c.request.args["seconds"] = std::stoull(value);
    } else {
      c.request.args["seconds"] = seconds;
    }
    c.timeout_ms = static_cast<int>((seconds + 10) * 1000);
  }
  return Ok(std::move(c));
}

ParseOutcome Simple(const std::vector<std::string>& words, const char* op, View view,
                    int timeout_ms) {
  if (words.size() != 1) return Fail(kExitUsage, std::string(op) + ": takes no arguments");
  Command c;
  c.label = op;
  c.request.op = op;
  c.view = view;
  c.timeout_ms = timeout_ms;
  return Ok(std::move(c));
}

// `compartments` / `compartment NAME` (hnv-gateway): one op, "compartments",
// with the name as a filter.
ParseOutcome ParseCompartments(const std::vector<std::string>& words) {
  Command c;
  c.request.op = "compartments";
  if (words[0] == "compartments") {
    if (words.size() != 1) return Fail(kExitUsage, "compartments: takes no arguments");
    c.label = "compartments";
    c.view = View::kCompartments;
    return Ok(std::move(c));
  }
  if (words.size() != 2 || words[1].empty())
    return Fail(kExitUsage, "compartment: usage: hnvctl compartment NAME");
  c.label = "compartment";
  c.view = View::kCompartment;
  c.request.args = json{{"name", words[1]}};
  return Ok(std::move(c));
}

// `vpn show TENANT` (hnv-gateway): op "vpn" {"name": TENANT}.
ParseOutcome ParseVpn(const std::vector<std::string>& words) {
  if (words.size() != 3 || words[1] != "show" || words[2].empty())
    return Fail(kExitUsage, "vpn: usage: hnvctl vpn show TENANT");
  Command c;
  c.label = "vpn show";
  c.view = View::kVpn;
  c.request.op = "vpn";
  c.request.args = json{{"name", words[2]}};
  c.timeout_ms = 15000;  // the status asks charon (VICI) and FRR (vtysh)
  return Ok(std::move(c));
}

// `nat TENANT [--address A] [--port P] [--limit N]` / `lb TENANT`.
ParseOutcome ParseNat(const std::vector<std::string>& words) {
  const std::string& op = words[0];
  const std::string usage = op == "nat"
                                ? "nat: usage: hnvctl nat TENANT [--address A] [--port P] [--limit N]"
                                : "lb: usage: hnvctl lb TENANT";
  if (words.size() < 2 || words[1].empty() || words[1][0] == '-') return Fail(kExitUsage, usage);
  Command c;
  c.label = op;
  c.request.op = op;
  c.view = op == "nat" ? View::kNat : View::kLb;
  c.request.args = json{{"name", words[1]}};
  for (size_t i = 2; i < words.size(); i += 2) {
    if (op != "nat" || i + 1 >= words.size()) return Fail(kExitUsage, usage);
    const std::string& flag = words[i];
    const std::string& value = words[i + 1];
    if (flag == "--address") {
      c.request.args["address"] = value;
    } else if (flag == "--port" || flag == "--limit") {
      char* end = nullptr;
      const unsigned long v = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != 0) return Fail(kExitUsage, op + ": " + flag + " must be a number");
      c.request.args[flag.substr(2)] = v;
    } else {
      return Fail(kExitUsage, usage);
    }
  }
  return Ok(std::move(c));
}

}  // namespace

std::vector<std::string> SplitCommandLine(std::string_view line) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        cur.push_back(c);
      }
      continue;
    }
    if (c == '`' && i + 1 < line.size() && (line[i + 1] == '\n' || line[i + 1] == '\r')) {
      while (i + 1 < line.size() && (line[i + 1] == '\n' || line[i + 1] == '\r')) ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
      continue;
    }
    cur.push_back(c);
    in_word = true;
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

ParseOutcome ParseCommand(const std::vector<std::string>& words_in) {
  std::vector<std::string> words = words_in;
  // One argument holding a whole cmdlet ('Get-VMNetworkAdapter * | fl ...').
  if (words.size() == 1 && words[0].find_first_of(" \t\n") != std::string::npos) {
    words = SplitCommandLine(words[0]);
  }
  if (words.empty()) return Fail(kExitUsage, "no command (try hnvctl --help)");
  const std::string& cmd = words[0];
  if (cmd.find('-') != std::string::npos && cmd[0] != '-') return ParseCmdlet(words);
  if (cmd == "get" || cmd == "new" || cmd == "set" || cmd == "remove") {
    return ParseShortObject(words);
  }
  if (cmd == "show") return Simple(words, "show", View::kPolicy, 5000);
  if (cmd == "apply") return Simple(words, "apply", View::kApply, 120000);
  if (cmd == "counters") return Simple(words, "counters", View::kCounters, 5000);
  if (cmd == "version") return Simple(words, "version", View::kVersion, 5000);
  if (cmd == "trace") return ParseTrace(words);
  if (cmd == "capture") return ParseCapture(words);
  if (cmd == "compartments" || cmd == "compartment") return ParseCompartments(words);
  if (cmd == "vpn") return ParseVpn(words);
  if (cmd == "nat" || cmd == "lb") return ParseNat(words);
  return Fail(kExitUsage, "unknown command \"" + cmd + "\" (try hnvctl --help)");
}

std::string UsageText() {
  return R"(usage: hnvctl [--socket PATH] [--json] [--timeout MS] COMMAND ...

Talks to a running hnv-vswitch or hnv-gateway over its control socket
(default $HNV_SOCKET, else /run/hnv/vswitch.sock).

Short forms (fields are those of the YAML files, see config/README.md):
  hnvctl get KIND [field=value ...]         show objects (optionally only matching ones)
  hnvctl new KIND field=value ...           create an object
  hnvctl set KIND field=value ...           change an object (its identity fields select it)
  hnvctl remove KIND field=value ...        remove the matching objects
  hnvctl show                               every Get-* view
  hnvctl apply                              reload the configuration files
  hnvctl counters                           port and drop counters
  hnvctl version                            client and server versions
  hnvctl trace PORT FRAME-HEX               follow one frame through the pipeline
  hnvctl trace PORT --describe 'eth src=.. dst=.. / ipv4 src=.. dst=.. / icmp'
  hnvctl capture PORT FILE [--count N] [--seconds S] [--background]
                                            write a pcap on the server (PORT: a port, a VM
                                            adapter, or hnv-gateway's TENANT/INTERFACE)
  hnvctl capture --status ID | --stop ID    a background capture's progress / end it now
  hnvctl compartments                       hnv-gateway: every compartment, one line each
  hnvctl compartment NAME                   hnv-gateway: a compartment's interfaces, routes,
                                            neighbours and counters
  hnvctl vpn show TENANT                    hnv-gateway: a tenant's site-to-site connections
                                            and SAs, point-to-site clients, BGP neighbours,
                                            learned prefixes and their routes
  hnvctl nat TENANT [--address A] [--port P] [--limit N]
                                            hnv-gateway: the tenant's NAT: addresses, counters,
                                            drops by reason, sessions (filtered)
  hnvctl lb TENANT                          hnv-gateway: the tenant's load balancers: each
                                            backend's health, weight and share of the table
KIND: lookup-record, customer-route, provider-address, provider-route,
      vm-network-adapter, routing-domain, virtual-subnet, port-acl, port-extended-acl

The chapter's cmdlets (names and parameters case-insensitive):
  New-|Get-|Set-|Remove-NetVirtualizationLookupRecord -CustomerAddress -VirtualSubnetID
      -MACAddress -ProviderAddress -Rule [-Type] [-VMName]
  New-|Get-|Set-|Remove-NetVirtualizationCustomerRoute -RoutingDomainID -VirtualSubnetID
      -DestinationPrefix -NextHop [-Metric]
  New-|Get-|Set-|Remove-NetVirtualizationProviderAddress -ProviderAddress -InterfaceIndex
      -PrefixLength [-VlanID] [-MACAddress]
  New-|Get-|Set-|Remove-NetVirtualizationProviderRoute -DestinationPrefix -InterfaceIndex -NextHop
  Get-VMNetworkAdapter [*|NAME|-VMName NAME] [| fl PROPERTY,...|*]
  Set-VMNetworkAdapter -VMName NAME [-VirtualSubnetId N] [-StaticMacAddress MAC]
      [-MacAddressSpoofing On|Off] [-DhcpGuard On|Off] [-RouterGuard On|Off]
  Add-|Remove-|Get-VMNetworkAdapterAcl -VMName NAME [-RemoteIPAddress ANY|ADDR|PREFIX |
      -RemoteMacAddress MAC] -Direction Inbound|Outbound|Both -Action Allow|Deny|Meter
  Add-|Remove-|Get-VMNetworkAdapterExtendedAcl -VMName NAME -Action Allow|Deny
      -Direction Inbound|Outbound -Weight N [-LocalIPAddress A] [-RemoteIPAddress A]
      [-LocalPort N[-M]] [-RemotePort N[-M]] [-Protocol TCP|UDP|ICMP|ICMPv6|N]
      [-Stateful $true|$false] [-IdleSessionTimeout S]
  (port ACLs apply at once; Get-VMNetworkAdapterAcl shows what each Meter rule counted)
Get-* take the same parameters as filters. InterfaceIndex is the dataplane port
number. Quote a whole cmdlet to keep '*' and '|' from the shell:
  hnvctl 'Get-VMNetworkAdapter * | fl VMName,MacAddress,VirtualSubnetId,SwitchName'

Frame descriptions (trace --describe): layers eth, vlan, arp, ipv4, ipv6, icmp,
icmp6, udp, tcp, nvgre, payload separated by '/', each with key=value pairs;
lengths, types and checksums are filled in (see config/hnvctl/frame_spec.h).

The central policy store (etcd; config/store/README.md), instead of a socket:
  hnvctl --store URL apply FILE... [--wait]   host, gateway and tenant files, validated
                                            against the whole store, one transaction
  hnvctl --store URL [--host NAME] new|set|remove KIND ... | New-/Set-/Remove-... [--wait]
  hnvctl --store URL migrate VM --to HOST [--port PORT] [--wait]
  hnvctl --store URL --host NAME get KIND ... | Get-... | show   that host's policy
  hnvctl --store URL status                 each host's applied generation
  hnvctl --store URL delete-tenant NAME | delete-host NAME
  hnvctl --store URL store init --hosts A,B [--writers W] [--root-password P]
--wait returns once every host concerned applied it (--wait-timeout S, 30);
--host NAME names the host of provider addresses, provider routes and VM
adapters. TLS: --store-ca FILE --store-cert FILE --store-key FILE; etcd
password auth: --store-user NAME --store-password P ($HNV_STORE_PASSWORD);
--store-root PREFIX (default /hnv/v1/); --retries N after a conflict.

Options:
  --socket PATH   the control socket
  --json          print the server's result as JSON
  --timeout MS    how long to wait for the answer (default 5000; apply 120000)
Exit status: 0 done, 1 refused or failed, 2 malformed command line.
)";
}

}  // namespace hnv::ctl
