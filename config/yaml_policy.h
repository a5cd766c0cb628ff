// Internals of LoadHostConfig: the policy sections of the YAML schema
// (config/README.md) read into a Policy, with the origin of every element.
// Each Read* call appends one file's section; port names and
// `provider_address: local` are resolved once every file has been read, since
// a tenant file's records may name the PA that the host file declares.
//
// Not an API: use host_config.h. Thread: any; allocates.
#pragma once

#include <string>
#include <vector>

#include "config/host_config.h"
#include "config/yaml_origin.h"
#include "config/yaml_reader.h"
#include "dataplane/policy/model.h"

namespace hnv::config::yaml {

// A field that names a port, waiting for the port list.
struct PortRef {
  enum class Kind { kProviderAddress, kProviderRoute, kVmPort };
  Kind kind;
  size_t index;  // into the Policy section of `kind`
  std::string name;
  int file;
  std::string file_name;
  FieldOrigin origin;
};

// A lookup record whose PA is `local`.
struct LocalPaRef {
  size_t record;
  int file;
  std::string file_name;
  FieldOrigin origin;
};

struct PolicyBuilder {
  Policy policy;
  PolicyOrigins origins;
  std::vector<PortRef> port_refs;
  std::vector<LocalPaRef> local_pas;
};

// host.settings (the host file only).
void ReadSettings(Reader& r, const Value& v, PolicyBuilder* b);
void ReadProviderAddresses(Reader& r, const Value& v, PolicyBuilder* b);
void ReadProviderRoutes(Reader& r, const Value& v, PolicyBuilder* b);
void ReadVmNetworkAdapters(Reader& r, const Value& v, PolicyBuilder* b);
// One adapter entry's `acls` and `extended_acls` (yaml_acl.cc).
void ReadAdapterAcls(Reader& r, const Map& adapter, const std::string& vm_name, PolicyBuilder* b);
// Routing domains with their nested virtual_subnets and customer_routes.
void ReadRoutingDomains(Reader& r, const Value& v, PolicyBuilder* b);
void ReadLookupRecords(Reader& r, const Value& v, PolicyBuilder* b);

// Sets the port fields from the names; reports unknown names.
void ResolvePorts(const std::vector<PortSpec>& ports, PolicyBuilder* b, ErrorList* errors);
// Sets each `local` PA to this host's first provider address of the record's
// CA family, or its first provider address when it has none of that family
// (IPv6 CAs over IPv4 PAs); reports a host with no provider address.
void ResolveLocalPas(PolicyBuilder* b, ErrorList* errors);

}  // namespace hnv::config::yaml
