#include "config/yaml_origin.h"

#include <cctype>
#include <charconv>
#include <optional>

namespace hnv::config::yaml {

const std::vector<ElementOrigin>* PolicyOrigins::Section(std::string_view name) const {
  if (name == "routing_domains") return &routing_domains;
  if (name == "subnets") return &subnets;
  if (name == "records") return &records;
  if (name == "customer_routes") return &customer_routes;
  if (name == "provider_addresses") return &provider_addresses;
  if (name == "provider_routes") return &provider_routes;
  if (name == "vm_ports") return &vm_ports;
  if (name == "port_acls") return &port_acls;
  if (name == "port_extended_acls") return &port_extended_acls;
  return nullptr;
}

namespace {

// A model path as ValidatePolicy writes it: section[index].field[sub], or
// settings.field.
struct ModelPath {
  std::string section;
  size_t index = 0;
  std::string field;  // may be empty in a reference inside a message
  int sub = -1;
};

bool IsIdent(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Parses "[123]" at text[*pos], advancing past it.
std::optional<size_t> ParseIndex(std::string_view text, size_t* pos) {
  if (*pos >= text.size() || text[*pos] != '[') return std::nullopt;
  const size_t close = text.find(']', *pos);
  if (close == std::string_view::npos || close == *pos + 1) return std::nullopt;
  size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data() + *pos + 1, text.data() + close, value);
  if (ec != std::errc() || end != text.data() + close) return std::nullopt;
  *pos = close + 1;
  return value;
}

// Parses a model path starting at text[*pos]; on success advances *pos past
// it. A bare "settings" or a section without an index is not a path.
std::optional<ModelPath> ParseModelPath(std::string_view text, size_t* pos,
                                        const PolicyOrigins& origins) {
  size_t p = *pos;
  if (p > 0 && IsIdent(text[p - 1])) return std::nullopt;
  size_t name_end = p;
  while (name_end < text.size() && IsIdent(text[name_end])) ++name_end;
  ModelPath mp;
  mp.section = std::string(text.substr(p, name_end - p));
  p = name_end;
  if (mp.section != "settings") {
    if (origins.Section(mp.section) == nullptr) return std::nullopt;
    std::optional<size_t> index = ParseIndex(text, &p);
    if (!index) return std::nullopt;
    mp.index = *index;
  }
  if (p + 1 < text.size() && text[p] == '.' &&
      std::isalpha(static_cast<unsigned char>(text[p + 1]))) {
    size_t field_end = p + 1;
    while (field_end < text.size() && IsIdent(text[field_end])) ++field_end;
    mp.field = std::string(text.substr(p + 1, field_end - p - 1));
    p = field_end;
    size_t q = p;
    if (std::optional<size_t> sub = ParseIndex(text, &q)) {
      mp.sub = static_cast<int>(*sub);
      p = q;
    }
  }
  if (mp.section == "settings" && mp.field.empty()) return std::nullopt;
  *pos = p;
  return mp;
}

// The YAML key of a model field that the element's origin did not record
// (a default value).
std::string YamlKey(std::string_view section, std::string_view field) {
  if (section == "records" && field == "ca") return "customer_address";
  if (section == "records" && field == "pa") return "provider_address";
  if (section == "provider_addresses" && field == "prefix_len") return "prefix_length";
  return std::string(field);
}

struct Location {
  int file = 0;
  std::string path;
  int line = 0;
};

std::optional<Location> Locate(const ModelPath& mp, const PolicyOrigins& origins) {
  const ElementOrigin* element = nullptr;
  if (mp.section == "settings") {
    element = &origins.settings;
  } else {
    const std::vector<ElementOrigin>* section = origins.Section(mp.section);
    if (section == nullptr || mp.index >= section->size()) return std::nullopt;
    element = &(*section)[mp.index];
  }
  Location loc{element->file, element->path, element->line};
  if (mp.field.empty()) return loc;
  const std::string sub = mp.sub >= 0 ? "[" + std::to_string(mp.sub) + "]" : "";
  const FieldOrigin* f = mp.sub >= 0 ? element->Find(mp.field + sub) : nullptr;
  if (f == nullptr) f = element->Find(mp.field);
  if (f != nullptr) {
    loc.path = f->path;
    loc.line = f->line;
  } else {
    loc.path += "." + YamlKey(mp.section, mp.field) + sub;
  }
  return loc;
}

// Rewrites the model references in a message as YAML paths with locations.
std::string RewriteReferences(const std::string& message, int error_file,
                              const PolicyOrigins& origins, const std::vector<std::string>& files) {
  std::string out;
  size_t pos = 0;
  while (pos < message.size()) {
    size_t p = pos;
    std::optional<ModelPath> mp;
    if (std::isalpha(static_cast<unsigned char>(message[pos])))
      mp = ParseModelPath(message, &p, origins);
    std::optional<Location> loc = mp ? Locate(*mp, origins) : std::nullopt;
    if (!loc) {
      // Copy the whole word so a match never starts inside one.
      do {
        out += message[pos++];
      } while (pos < message.size() && IsIdent(message[pos]) && IsIdent(message[pos - 1]));
      continue;
    }
    out += loc->path;
    if (loc->line > 0) {
      out += " (";
      if (loc->file != error_file && loc->file >= 0 &&
          static_cast<size_t>(loc->file) < files.size())
        out += files[loc->file] + ":" + std::to_string(loc->line);
      else
        out += "line " + std::to_string(loc->line);
      out += ")";
    }
    pos = p;
  }
  return out;
}

// ValidatePolicy names ports by number ("3 is already the port of ...",
// "port 0 has no IPv6 provider address"); the user wrote names.
std::string NamePort(const std::string& message, const std::vector<PortSpec>& ports) {
  const bool prefixed = message.rfind("port ", 0) == 0;
  const size_t start = prefixed ? 5 : 0;
  size_t number = 0;
  const auto [end, ec] =
      std::from_chars(message.data() + start, message.data() + message.size(), number);
  if (ec != std::errc() || *end != ' ' || number >= ports.size()) return message;
  const std::string rest(end);
  const std::string& name = ports[number].name;
  const std::string n = std::to_string(number);
  return prefixed ? "port " + name + " (" + n + ")" + rest : name + " (port " + n + ")" + rest;
}

}  // namespace

void AddPolicyErrors(const std::vector<PolicyError>& errors, const PolicyOrigins& origins,
                     const std::vector<std::string>& files, const std::vector<PortSpec>& ports,
                     ErrorList* out) {
  for (const PolicyError& e : errors) {
    size_t pos = 0;
    std::optional<ModelPath> mp = ParseModelPath(e.path, &pos, origins);
    std::optional<Location> loc = mp && pos == e.path.size() ? Locate(*mp, origins) : std::nullopt;
    if (!loc) {
      // Not a path we know: keep the model's words rather than lose the error.
      out->Add(0, files.empty() ? "" : files[0], 0, e.path, e.message);
      continue;
    }
    std::string message = RewriteReferences(e.message, loc->file, origins, files);
    if (mp->field == "port" && (mp->section == "vm_ports" || mp->section == "provider_routes"))
      message = NamePort(message, ports);
    const std::string& file =
        static_cast<size_t>(loc->file) < files.size() ? files[loc->file] : files.front();
    out->Add(loc->file, file, loc->line, loc->path, std::move(message));
  }
}

}  // namespace hnv::config::yaml
