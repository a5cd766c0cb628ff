// Shared by the host YAML tests: a temporary directory, the base host file
// (line numbers in its comments), and loading with errors as strings.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/host_config.h"

namespace hnv::config::test_util {

namespace fs = std::filesystem;

inline std::vector<std::string> Strings(const std::vector<ConfigError>& errors) {
  std::vector<std::string> out;
  for (const ConfigError& e : errors) out.push_back(e.ToString());
  return out;
}

inline std::string Join(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const ConfigError& e : errors) out += e.ToString() + "\n";
  return out;
}

// A directory of YAML files for one test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "hnv-config-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to `name` (relative to the directory) and returns its path.
  std::string Write(const std::string& name, const std::string& text) const {
    const fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string Path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// `text` with its only occurrence of `from` replaced by `to`.
inline std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
    ADD_FAILURE() << "\"" << from << "\" is not in the text exactly once";
    return text;
  }
  return text.replace(at, from.size(), to);
}

// A small valid host file; the tests below change one thing in it. Line
// numbers are in the comments the expected errors refer to.
inline const std::string kBase =
    "host:\n"                                                 // 1
    "  name: t\n"                                             // 2
    "ports:\n"                                                // 3
    "  - name: uplink\n"                                      // 4
    "    device: net_null0\n"                                 // 5
    "  - name: vm1\n"                                         // 6
    "    device: net_null1\n"                                 // 7
    "provider_addresses:\n"                                   // 8
    "  - address: 192.168.0.22\n"                             // 9
    "    prefix_length: 24\n"                                 // 10
    "    mac: 324455667788\n"                                 // 11
    "    port: uplink\n"                                      // 12
    "vm_network_adapters:\n"                                  // 13
    "  - vm_name: Contoso1\n"                                 // 14
    "    mac: 600060000101\n"                                 // 15
    "    vsid: 6000\n"                                        // 16
    "    port: vm1\n"                                         // 17
    "routing_domains:\n"                                      // 18
    "  - rdid: \"{12345678-1000-2000-3000-123456780001}\"\n"  // 19
    "    virtual_subnets:\n"                                  // 20
    "      - vsid: 6000\n"                                    // 21
    "        prefix: 10.0.1.0/24\n"                           // 22
    "    customer_routes:\n"                                  // 23
    "      - vsid: 6000\n"                                    // 24
    "        destination: 10.0.1.0/24\n"                      // 25
    "lookup_records:\n"                                       // 26
    "  - customer_address: 10.0.1.1\n"                        // 27
    "    vsid: 6000\n"                                        // 28
    "    mac: 600060000100\n"                                 // 29
    "    provider_address: local\n"                           // 30
    "  - customer_address: 10.0.1.101\n"                      // 31
    "    vsid: 6000\n"                                        // 32
    "    mac: 600060000101\n"                                 // 33
    "    provider_address: 192.168.0.22\n";                   // 34

inline const std::string kRdid = "{12345678-1000-2000-3000-123456780001}";

// Loads `text` as h.yaml in a fresh directory; returns the error strings with
// the directory replaced by "DIR".
inline std::vector<std::string> Errors(const std::string& text) {
  TempDir dir;
  const LoadResult r = LoadHostConfig(dir.Write("h.yaml", text));
  EXPECT_EQ(r.config.has_value(), r.errors.empty());
  std::vector<std::string> out;
  for (std::string s : Strings(r.errors)) {
    for (size_t at; (at = s.find(dir.Path(""))) != std::string::npos;)
      s.replace(at, dir.Path("").size(), "DIR/");
    out.push_back(s);
  }
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace hnv::config::test_util
