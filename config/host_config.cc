// LoadHostConfig: files and includes, the host and ports sections and the
// policy sections (yaml_loader.h, yaml_policy.h), then ValidatePolicy with
// its errors mapped back to the YAML (yaml_origin.h). The schema is in config/README.md.
//
// Two phases, so that the errors a user sees are the ones to fix first:
//  1. syntax and schema: YAML syntax, includes (missing, unreadable, cycles),
//     types, unknown, duplicate and missing keys, values that do not parse,
//     port names and `provider_address: local` that do not resolve. All of
//     them, over all files.
//  2. only when 1 found nothing: ValidatePolicy on the whole Policy, each
//     error at the file, line and YAML field of the element it is about.
// Either way the errors come back in file order: by file in load order, then
// by line.
#include "config/host_config.h"

#include <string_view>
#include <utility>

#include "config/policy/validate.h"
#include "config/yaml_loader.h"

namespace hnv::config {

std::string ConfigError::ToString() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  s += ": ";
  if (!field.empty()) s += field + ": ";
  s += message;
  return s;
}

namespace {

using yaml::AddPolicyErrors;
using yaml::FileLoader;
using yaml::FileRole;

constexpr std::string_view kRootKeys[] = {
    "include",         "host",
    "ports",           "provider_addresses",
    "provider_routes", "vm_network_adapters",
    "routing_domains", "lookup_records",
};

}  // namespace

LoadResult LoadHostConfig(const std::string& path) {
  FileLoader loader(kRootKeys, "host file", nullptr);
  loader.Load(path, FileRole::kMain);
  HostConfig& config = loader.config();
  yaml::PolicyBuilder& builder = loader.builder();
  yaml::ErrorList& errors = loader.errors();
  yaml::ResolvePorts(config.ports, &builder, &errors);
  yaml::ResolveLocalPas(&builder, &errors);
  if (errors.empty()) {
    AddPolicyErrors(ValidatePolicy(builder.policy), builder.origins, config.files, config.ports,
                    &errors);
  }
  LoadResult result;
  result.errors = errors.TakeSorted();
  if (result.errors.empty()) {
    config.policy = std::move(builder.policy);
    result.config = std::move(config);
  }
  return result;
}

}  // namespace hnv::config
