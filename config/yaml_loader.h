// Internals of LoadHostConfig and LoadGatewayConfig: reading a set of YAML
// files into one HostConfig. A load has one main file (the host file, or the
// gateway file) and may read more files on their own (the gateway's tenant
// files); each of them may `include:` others. The sections every program
// shares (host, ports, provider_addresses, provider_routes,
// vm_network_adapters, routing_domains, lookup_records) are read here; a
// program's own sections (gateway:, tenant:) and its rules on which section
// may be in which file go through an Extension.
//
// Only reading (phase 1 of config/README.md "Errors"): resolving port names
// and `local`, and ValidatePolicy, are the caller's.
//
// Not an API: use host_config.h / gateway_config.h. Thread: any; allocates.
#pragma once

#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/host_config.h"
#include "config/yaml_origin.h"
#include "config/yaml_policy.h"
#include "config/yaml_reader.h"

namespace hnv::config::yaml {

// How a file came into the load.
enum class FileRole : uint8_t {
  kMain,     // the host file or the gateway file
  kOwn,      // read on its own, e.g. a tenant file
  kInclude,  // included by another file
};

struct FileInfo {
  int index = 0;  // into HostConfig::files
  FileRole role = FileRole::kMain;
  // The role of the main or own file whose includes led here (its own role
  // for those files themselves).
  FileRole tree = FileRole::kMain;
};

struct PortOrigin {
  int file;
  FieldOrigin name;
};

class FileLoader {
 public:
  class Extension {
   public:
    virtual ~Extension() = default;
    // Whether the shared section `key` may be in this file; reports why not.
    virtual bool Allow(Reader& r, const Value& section, std::string_view key,
                       const FileInfo& file) = 0;
    // The program's own sections of this file's root mapping.
    virtual void ReadSections(Reader& r, const Map& root, const FileInfo& file) = 0;
    // An own file (FileRole::kOwn) that holds nothing.
    virtual void EmptyFile(Reader& r, const FileInfo& file) = 0;
  };

  // `root_keys`: the keys a file's root mapping may have (the shared ones the
  // program accepts plus its own). `main_file` names the main file in
  // messages ("host file", "gateway file").
  FileLoader(std::span<const std::string_view> root_keys, std::string main_file,
             Extension* extension)
      : root_keys_(root_keys), main_file_(std::move(main_file)), extension_(extension) {}

  // Reads a main or own file and its includes. Errors about the file itself
  // (unreadable, empty) are at line 0 of it.
  void Load(const std::string& name, FileRole role) { LoadFile(name, nullptr, role, role); }

  // Whether a file with this path (by identity) has been read.
  bool IsLoaded(const std::string& name) const;

  // "line 7" in the same file, "other.yaml:7" in another.
  std::string Where(int from_file, int file, int line) const;

  HostConfig& config() { return config_; }
  PolicyBuilder& builder() { return builder_; }
  ErrorList& errors() { return errors_; }
  const std::vector<PortOrigin>& port_origins() const { return port_origins_; }

 private:
  // Where an `include:` entry is.
  struct IncludeSite {
    int file;
    std::string file_name;
    int line;
    std::string path;
  };

  void LoadFile(const std::string& name, const IncludeSite* site, FileRole role, FileRole tree);
  void ReadSections(Reader& r, const Map& root, const FileInfo& file);
  void ReadHost(Reader& r, const Value& v);
  void ReadPorts(Reader& r, const Value& v);

  std::span<const std::string_view> root_keys_;
  std::string main_file_;
  Extension* extension_;
  HostConfig config_;
  PolicyBuilder builder_;
  ErrorList errors_;
  std::vector<PortOrigin> port_origins_;  // parallel to config_.ports
  std::vector<std::string> stack_;        // identities of the files being read
  std::vector<std::string> stack_names_;  // and their names as shown
  std::set<std::string> loaded_;          // identities of the files read
};

// The identity of a file for cycle and include-once checks.
std::string FileIdentity(const std::string& path);

}  // namespace hnv::config::yaml
