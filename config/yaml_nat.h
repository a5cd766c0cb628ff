// Internals of LoadGatewayConfig: a tenant file's `nat:` and
// `load_balancers:` sections (config/README.md "NAT and load balancers")
// read into a nat::TenantNat (nat/model.h), with the origin of every value,
// and checked in the load's two phases:
//  1. ReadNatSections (one file: keys, types, values), then CheckNat (the
//     tenant as a whole: its external interfaces and subnets, overlapping
//     and conflicting mappings, VIPs, backends, port ranges, pool sizes);
//  2. ResolveNat, once the tenant resolved against the policy: internal
//     sources, static and forwarded internal addresses and backends must be
//     in the routing domain's virtual subnets; the NAT's default internal
//     prefixes are the routing domain's IPv4 prefixes.
//
// Not an API: use gateway_config.h. Thread: any; allocates.
#pragma once

#include <string>
#include <vector>

#include "config/yaml_origin.h"
#include "config/yaml_reader.h"
#include "nat/model.h"

namespace hnv::config::yaml {

struct TenantDraft;
struct PolicyBuilder;

struct NatDraft {
  nat::TenantNat spec;
  FieldOrigin nat;  // the `nat:` key (path "nat")
  std::vector<FieldOrigin> addresses, interfaces, internal;  // parallel to the spec's lists
  FieldOrigin ports, limits, timeouts;
  struct Static {
    FieldOrigin item, external, internal;
  };
  std::vector<Static> statics;
  struct Forward {
    FieldOrigin item, protocol, external, external_port, internal, internal_port;
  };
  std::vector<Forward> forwards;
  struct Lb {
    FieldOrigin item, name, vip, protocol, port, table_size, empty_pool, backends_key;
    FieldOrigin health, health_type, health_port, health_path, health_interval, health_timeout;
    struct BackendOrigin {
      FieldOrigin item, address, port, weight;
    };
    std::vector<BackendOrigin> backends;
  };
  std::vector<Lb> lbs;
};

// The root keys this file adds to a gateway load.
inline constexpr std::string_view kNatKeys[] = {"nat", "load_balancers"};

// Reads `nat:` and `load_balancers:` of a file's root mapping into
// `tenant->nat`; `own_file` is false for a gateway or included file, where
// they are errors. `tenant` may be null (a tenant file without `tenant:`).
void ReadNatSections(Reader& r, const Map& root, bool own_file, TenantDraft* tenant);

// Phase 1 for each tenant. `files` are the load's files (for messages).
void CheckNat(TenantDraft* t, const std::vector<std::string>& files, ErrorList* errors);

// Phase 2 for a tenant that resolved. Returns false when it reported an error.
bool ResolveNat(TenantDraft* t, const PolicyBuilder& b, const std::vector<std::string>& files,
                ErrorList* errors);

}  // namespace hnv::config::yaml
