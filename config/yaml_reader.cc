#include "config/yaml_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <tuple>

namespace hnv::config::yaml {

std::vector<ConfigError> ErrorList::TakeSorted() {
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.file_index, a.error.line) < std::tie(b.file_index, b.error.line);
  });
  std::vector<ConfigError> out;
  out.reserve(entries_.size());
  for (Entry& e : entries_) out.push_back(std::move(e.error));
  entries_.clear();
  return out;
}

int LineOf(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return m.line < 0 ? 0 : m.line + 1;
}

std::string Describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "\"" + n.Scalar() + "\"";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::optional<Value> Map::Get(std::string_view key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return v.node.IsNull() ? std::nullopt : std::optional<Value>(v);
  return std::nullopt;
}

std::optional<Value> Map::Need(std::string_view key) const {
  std::optional<Value> v = Get(key);
  if (v) return v;
  if (const std::optional<Value> empty = Find(key)) {
    reader_->Error(empty->line, empty->path,
                   "required key \"" + std::string(key) + "\" has no value");
  } else {
    const std::string path = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    reader_->Error(line_, path, "missing required key \"" + std::string(key) + "\"");
  }
  return std::nullopt;
}

std::optional<Value> Map::Find(std::string_view key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return v;
  return std::nullopt;
}

bool Reader::EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

namespace {

// Edit distance with adjacent transpositions ("nmae" is one edit from
// "name"), case-insensitive; keys are short.
size_t Distance(std::string_view a, std::string_view b) {
  auto same = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  };
  const size_t w = b.size() + 1;
  std::vector<size_t> d((a.size() + 1) * w);
  for (size_t i = 0; i <= a.size(); ++i) d[i * w] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t best = std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1,
                              d[(i - 1) * w + j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]))
        best = std::min(best, d[(i - 2) * w + j - 2] + 1);
      d[i * w + j] = best;
    }
  }
  return d[a.size() * w + b.size()];
}

std::string JoinKeys(std::span<const std::string_view> keys) {
  std::string out;
  for (std::string_view k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

}  // namespace

std::string ClosestKey(std::string_view key, std::span<const std::string_view> known) {
  std::string best;
  size_t best_distance = 3;  // at most two edits, and fewer than half the key
  for (std::string_view k : known) {
    const size_t d = Distance(key, k);
    if (d < best_distance && d * 2 < std::max(key.size(), k.size())) {
      best_distance = d;
      best = k;
    }
  }
  return best;
}

std::optional<Map> Reader::AsMap(const Value& v, std::span<const std::string_view> known) {
  if (!v.node.IsMap()) {
    Error(v.line, v.path, "expected a mapping, got " + Describe(v.node));
    return std::nullopt;
  }
  Map m;
  m.reader_ = this;
  m.path_ = v.path;
  m.line_ = LineOf(v.node) > 0 ? LineOf(v.node) : v.line;
  for (const auto& kv : v.node) {
    const YAML::Node& key = kv.first;
    const int line = LineOf(key) > 0 ? LineOf(key) : m.line_;
    if (!key.IsScalar()) {
      Error(line, v.path, "a key is a plain name, not " + Describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string path = v.path.empty() ? name : v.path + "." + name;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      const std::string close = ClosestKey(name, known);
      Error(line, path,
            "unknown key \"" + name + "\"" +
                (close.empty() ? " (known keys: " + JoinKeys(known) + ")"
                               : "; did you mean \"" + close + "\"?"));
      continue;
    }
    auto first = std::find_if(m.entries_.begin(), m.entries_.end(),
                              [&](const auto& e) { return e.first == name; });
    if (first != m.entries_.end()) {
      Error(line, path,
            "duplicate key \"" + name + "\" (first at line " + std::to_string(first->second.line) +
                ")");
      continue;
    }
    m.entries_.emplace_back(name, Value{kv.second, path, line});
  }
  return m;
}

std::vector<Value> Reader::AsList(const Value& v) {
  std::vector<Value> items;
  if (v.node.IsNull()) return items;
  if (!v.node.IsSequence()) {
    Error(v.line, v.path, "expected a list, got " + Describe(v.node));
    return items;
  }
  items.reserve(v.node.size());
  for (const YAML::Node& item : v.node) {
    const int line = LineOf(item);
    items.push_back(
        Value{item, v.path + "[" + std::to_string(items.size()) + "]", line > 0 ? line : v.line});
  }
  return items;
}

std::optional<std::string> Reader::Text(const Value& v, const char* expected) {
  if (v.node.IsScalar()) return v.node.Scalar();
  Error(v.line, v.path, std::string("expected ") + expected + ", got " + Describe(v.node));
  return std::nullopt;
}

std::optional<uint64_t> Reader::Uint(const Value& v, const IntSpec& spec) {
  const std::string range = std::to_string(spec.lo) + ".." + std::to_string(spec.hi);
  std::optional<std::string> text = Text(v, (std::string(spec.what) + " (an integer)").c_str());
  if (!text) return std::nullopt;
  const bool digits = !text->empty() && std::all_of(text->begin(), text->end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    Error(v.line, v.path, *text + " is not " + spec.what + " (an integer in " + range + ")");
    return std::nullopt;
  }
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value > spec.max) {
    Error(v.line, v.path, *text + " is outside " + range);
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> Reader::UintIn(const Value& v, const IntSpec& spec) {
  std::optional<uint64_t> x = Uint(v, spec);
  if (x && (*x < spec.lo || *x > spec.hi)) {
    Error(v.line, v.path,
          std::to_string(*x) + " is outside " + std::to_string(spec.lo) + ".." +
              std::to_string(spec.hi));
    return std::nullopt;
  }
  return x;
}

std::optional<MacAddr> Reader::Mac(const Value& v) {
  std::optional<std::string> text = Text(v, "a MAC address");
  if (!text) return std::nullopt;
  if (std::optional<MacAddr> m = MacAddr::Parse(*text)) return m;
  Error(v.line, v.path,
        *text + " is not a MAC address (600060000101, 60-00-60-00-01-01 or 60:00:60:00:01:01)");
  return std::nullopt;
}

std::optional<IpAddr> Reader::Ip(const Value& v) {
  std::optional<std::string> text = Text(v, "an IP address");
  if (!text) return std::nullopt;
  if (std::optional<IpAddr> a = IpAddr::Parse(*text)) return a;
  Error(v.line, v.path, *text + " is not an IPv4 or IPv6 address");
  return std::nullopt;
}

std::optional<IpPrefix> Reader::Prefix(const Value& v) {
  std::optional<std::string> text = Text(v, "an IP prefix");
  if (!text) return std::nullopt;
  if (std::optional<IpPrefix> p = IpPrefix::Parse(*text)) return p;
  // Say what is wrong with it: the shape, the length, or host bits.
  const size_t slash = text->find('/');
  const std::optional<IpAddr> addr =
      slash == std::string::npos ? std::nullopt : IpAddr::Parse(text->substr(0, slash));
  const std::string len_text = slash == std::string::npos ? "" : text->substr(slash + 1);
  unsigned len = 0;
  const auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  const bool len_ok = !len_text.empty() && len_text.size() <= 3 && ec == std::errc() &&
                      end == len_text.data() + len_text.size();
  if (addr && len_ok && len > static_cast<unsigned>(addr->bits())) {
    Error(v.line, v.path,
          *text + ": length " + len_text + " is longer than an " +
              (addr->is_v4() ? "IPv4" : "IPv6") + " address");
  } else if (addr && len_ok) {
    const IpPrefix masked{addr->Masked(static_cast<int>(len)), static_cast<uint8_t>(len)};
    Error(v.line, v.path, *text + " has host bits set (did you mean " + masked.ToString() + "?)");
  } else {
    Error(v.line, v.path, *text + " is not an IP prefix (address/length, e.g. 10.0.1.0/24)");
  }
  return std::nullopt;
}

std::optional<Guid> Reader::Rdid(const Value& v) {
  // rdid: {1234...} unquoted is a YAML flow mapping with one null-valued key.
  if (v.node.IsMap() && v.node.size() == 1) {
    const auto kv = *v.node.begin();
    if (kv.first.IsScalar() && kv.second.IsNull() && Guid::Parse(kv.first.Scalar())) {
      const std::string text = "{" + kv.first.Scalar() + "}";
      Error(v.line, v.path,
            text + " must be quoted: unquoted braces make a YAML mapping (write \"" + text + "\")");
      return std::nullopt;
    }
  }
  std::optional<std::string> text = Text(v, "a GUID");
  if (!text) return std::nullopt;
  if (std::optional<Guid> g = Guid::Parse(*text)) return g;
  Error(v.line, v.path,
        *text + " is not a GUID (\"{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}\", 32 hex digits)");
  return std::nullopt;
}

std::optional<std::string> Reader::Name(const Value& v) {
  std::optional<std::string> text = Text(v, "a name");
  if (!text) return std::nullopt;
  const bool ok = !text->empty() && std::all_of(text->begin(), text->end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
  if (ok) return text;
  Error(v.line, v.path, "\"" + *text + "\" is not a name (letters, digits, '.', '_' and '-')");
  return std::nullopt;
}

}  // namespace hnv::config::yaml
