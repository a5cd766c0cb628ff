// Internals of LoadHostConfig (host_config.h): strict reading of yaml-cpp
// nodes. Every problem becomes a ConfigError at the file and 1-based line of
// the offending key, with its YAML path ("lookup_records[3].mac") and a
// message naming the offending value. Nothing throws; a reader function that
// reports an error returns nullopt and reading goes on, so one pass finds
// every error of a file.
//
// Strictness: mappings take only their known keys, each once (yaml-cpp keeps
// duplicate keys, so they are found by walking the mapping); values are
// parsed completely ("6000x" is not a VSID); a key with an empty or null
// value counts as absent.
//
// Not an API: use host_config.h. Thread: any; allocates.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/host_config.h"
#include "dataplane/packet/types.h"

namespace hnv::config::yaml {

// The errors of one load. Each carries the index of its file in load order,
// so they can be reported in file order whatever order they were found in.
class ErrorList {
 public:
  void Add(int file_index, std::string file, int line, std::string field, std::string message) {
    entries_.push_back(Entry{
        file_index, ConfigError{std::move(file), line, std::move(field), std::move(message)}});
  }
  bool empty() const { return entries_.empty(); }
  // By (file index, line); errors on one line keep the order they were found.
  std::vector<ConfigError> TakeSorted();

 private:
  struct Entry {
    int file_index;
    ConfigError error;
  };
  std::vector<Entry> entries_;
};

// 1-based line of a node, or 0 when yaml-cpp has no mark for it.
int LineOf(const YAML::Node& n);

// "a mapping", "a list", "nothing", or the scalar in quotes.
std::string Describe(const YAML::Node& n);

// A node with the YAML path that leads to it and the line of its key (of the
// item, for list items).
struct Value {
  YAML::Node node;
  std::string path;
  int line = 0;
};

// An unsigned integer field: its name for messages, the range the policy
// allows (checked here only as far as the model's type cannot hold the value;
// ValidatePolicy checks the rest), and the largest value the model holds.
struct IntSpec {
  const char* what;  // "a VSID"
  uint64_t lo;
  uint64_t hi;
  uint64_t max;
};

template <typename E>
struct EnumName {
  const char* name;  // matched case-insensitively
  E value;
};

class Reader;

// A mapping whose keys were checked against the known ones.
class Map {
 public:
  const std::string& path() const { return path_; }
  int line() const { return line_; }
  // The value of `key` (its first occurrence), or nullopt when it is absent
  // or null.
  std::optional<Value> Get(std::string_view key) const;
  // As Get, and reports a missing key.
  std::optional<Value> Need(std::string_view key) const;
  // The value of `key` even when it is null, or nullopt when it is absent.
  std::optional<Value> Find(std::string_view key) const;

 private:
  friend class Reader;
  Reader* reader_ = nullptr;
  std::string path_;
  int line_ = 0;
  std::vector<std::pair<std::string, Value>> entries_;
};

// Reads the nodes of one file; errors go to the load's ErrorList.
class Reader {
 public:
  Reader(int file_index, std::string file_name, ErrorList* errors)
      : file_index_(file_index), file_(std::move(file_name)), errors_(errors) {}

  int file_index() const { return file_index_; }
  const std::string& file() const { return file_; }
  void Error(int line, std::string path, std::string message) {
    errors_->Add(file_index_, file_, line, std::move(path), std::move(message));
  }

  // A mapping that may hold only `known` keys, each once.
  std::optional<Map> AsMap(const Value& v, std::span<const std::string_view> known);
  // The items of a list; null is an empty list.
  std::vector<Value> AsList(const Value& v);

  // Scalars. `expected` names what was expected for a type error.
  std::optional<std::string> Text(const Value& v, const char* expected);
  std::optional<uint64_t> Uint(const Value& v, const IntSpec& spec);
  // As Uint, and the value must be in spec.lo..spec.hi ("70000 is outside 1..4094").
  std::optional<uint64_t> UintIn(const Value& v, const IntSpec& spec);
  std::optional<MacAddr> Mac(const Value& v);
  std::optional<IpAddr> Ip(const Value& v);
  std::optional<IpPrefix> Prefix(const Value& v);
  std::optional<Guid> Rdid(const Value& v);
  // Letters, digits, '.', '_', '-': names that end up in paths and commands.
  std::optional<std::string> Name(const Value& v);
  template <typename E>
  std::optional<E> Enum(const Value& v, std::span<const EnumName<E>> names, const char* what) {
    std::optional<std::string> text = Text(v, what);
    if (!text) return std::nullopt;
    for (const EnumName<E>& n : names)
      if (EqualsIgnoreCase(*text, n.name)) return n.value;
    std::string list;
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) list += i + 1 == names.size() ? " or " : ", ";
      list += names[i].name;
    }
    Error(v.line, v.path, *text + " is not " + what + " (" + list + ")");
    return std::nullopt;
  }

  static bool EqualsIgnoreCase(std::string_view a, std::string_view b);

 private:
  int file_index_;
  std::string file_;
  ErrorList* errors_;
};

// The known key closest to an unknown one (a typo), or "" when none is close.
std::string ClosestKey(std::string_view key, std::span<const std::string_view> known);

}  // namespace hnv::config::yaml
