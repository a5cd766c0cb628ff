// Internals of LoadHostConfig: where each element of a Policy came from, so
// ValidatePolicy's errors (model paths such as "records[3].mac" or
// "subnets[1].prefixes[0]") can be reported at the YAML file, line and field
// the user wrote ("contoso.yaml:31: lookup_records[3].mac").
//
// Not an API: use host_config.h. Thread: any; allocates.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/host_config.h"
#include "config/policy/validate.h"
#include "config/yaml_reader.h"

namespace hnv::config::yaml {

struct FieldOrigin {
  std::string path;  // "routing_domains[0].virtual_subnets[1].vsid"
  int line = 0;
};

// Where a value is.
inline FieldOrigin Of(const Value& v) { return FieldOrigin{v.path, v.line}; }

// One Policy element: its file, its YAML path and line, and for each model
// field ("mac", "pa", "prefixes[0]") the YAML path and line that set it.
struct ElementOrigin {
  int file = 0;      // index into the loaded files
  std::string path;  // "lookup_records[3]"
  int line = 0;
  std::vector<std::pair<std::string, FieldOrigin>> fields;

  void Set(std::string model_field, const Value& v) {
    fields.emplace_back(std::move(model_field), FieldOrigin{v.path, v.line});
  }
  void Set(std::string model_field, FieldOrigin o) {
    fields.emplace_back(std::move(model_field), std::move(o));
  }
  const FieldOrigin* Find(std::string_view model_field) const {
    for (const auto& [name, origin] : fields)
      if (name == model_field) return &origin;
    return nullptr;
  }
};

// Parallel to Policy: origins.records[i] is where policy.records[i] came from.
struct PolicyOrigins {
  ElementOrigin settings;
  std::vector<ElementOrigin> routing_domains;
  std::vector<ElementOrigin> subnets;
  std::vector<ElementOrigin> records;
  std::vector<ElementOrigin> customer_routes;
  std::vector<ElementOrigin> provider_addresses;
  std::vector<ElementOrigin> provider_routes;
  std::vector<ElementOrigin> vm_ports;
  std::vector<ElementOrigin> port_acls;
  std::vector<ElementOrigin> port_extended_acls;

  // The origins of a model section by its name in PolicyError paths, or
  // nullptr.
  const std::vector<ElementOrigin>* Section(std::string_view name) const;
};

// Adds ValidatePolicy's errors to `out` at their YAML file, line and field.
// Model references inside messages ("already used by records[1]") become YAML
// paths with their location ("lookup_records[1] (line 25)", or
// "(contoso.yaml:25)" in another file), and port numbers get their names.
void AddPolicyErrors(const std::vector<PolicyError>& errors, const PolicyOrigins& origins,
                     const std::vector<std::string>& files, const std::vector<PortSpec>& ports,
                     ErrorList* out);

}  // namespace hnv::config::yaml
