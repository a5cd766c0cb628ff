// The documents of the policy store (README.md "Documents"), one JSON value
// per key of the layout (layout.h). Field names are those of the YAML files
// (config/README.md); policy elements use the canonical JSON of
// config/json_model.h, so a MAC reads 600060000101 and a GUID
// "{12345678-...}" whatever way it was written.
//
//   HostDoc     a host or gateway: settings, DPDK ports, provider addresses
//               (port = index into its ports) and routes; a gateway's
//               namespace prefix and state directory.
//   TenantDoc   one VM network (routing domain): RDID, virtual subnets,
//               customer routes, the records every host carries with its own
//               PA (the DFGW records, `provider_address: local` in YAML), and
//               the tenant's gateway compartment when it has one.
//   VmDoc       a VM: its adapter's MAC and VSID, its CAs, the host it runs
//               on and the port of that host it is attached to. Its lookup
//               records (one per CA, or one L2Only record) carry the PA of
//               its host: a migration changes `host` and nothing else.
//   LearnedDoc  a Dynamic record learned by a host.
//   StatusDoc   what a host applied.
//
// Parsing is strict: unknown fields, wrong types and bad values are errors
// naming the field ("addresses[1]: \"10.0.1.x\" is not an IP address").
//
// Thread: any; pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/host_config.h"
#include "dataplane/policy/model.h"
#include "config/compartment_spec.h"

namespace hnv::store {

struct HostDoc {
  enum class Role : uint8_t { kHost, kGateway };
  std::string name;
  Role role = Role::kHost;
  HostSettings settings;
  std::vector<config::PortSpec> ports;  // index = position
  std::vector<ProviderAddress> provider_addresses;
  std::vector<ProviderRoute> provider_routes;
  // kGateway only.
  std::string namespace_prefix = "hnv-";
  std::string state_dir;
  friend bool operator==(const HostDoc&, const HostDoc&);
};

// A tenant's compartment on a gateway: the gateway host, and the tenant file's
// `tenant:` section (gateway/compartment_spec.h; name and rdid are the
// tenant's, vm_port follows from id).
struct GatewayDoc {
  std::string host;
  config::CompartmentSpec spec;
  friend bool operator==(const GatewayDoc&, const GatewayDoc&) = default;
};

struct TenantDoc {
  std::string name;
  RoutingDomain routing_domain;
  std::vector<VirtualSubnet> subnets;
  std::vector<CustomerRoute> customer_routes;
  // Carried by every host with its own provider address (`pa` unset here).
  std::vector<LookupRecord> local_records;
  std::optional<GatewayDoc> gateway;
  friend bool operator==(const TenantDoc&, const TenantDoc&);
};

struct VmDoc {
  std::string name;     // the VM; unique in the data center
  std::string vm_name;  // what its lookup records show as VMName (may be empty)
  std::string tenant;
  uint32_t vsid = 0;
  MacAddr mac;
  std::vector<IpAddr> addresses;      // one Static record each
  RecordType type = RecordType::kStatic;  // kL2Only / kGatewayWildcard: one record, no CA
  TranslationRule rule = TranslationRule::kEncap;
  std::string host;
  std::string port;  // the host's port for its adapter; empty: no adapter (records only)
  friend bool operator==(const VmDoc&, const VmDoc&);
};

struct LearnedDoc {
  std::string host;  // who learned it
  LookupRecord record;
};

struct StatusDoc {
  std::string host;
  uint64_t generation = 0;         // the policy generation applied
  int64_t revision = 0;            // the store revision it was computed at
  int64_t time_ms = 0;             // when (Unix time, ms)
  std::vector<std::string> errors;  // why something was not applied
  // The revision each tenant the host carries was applied at (for
  // `hnvctl apply --wait`: a change at revision r has reached a host when its
  // tenant's revision here is >= r).
  std::map<std::string, int64_t> tenants;
  uint64_t records = 0;  // lookup records in the applied policy
};

std::string ToJson(const HostDoc& d);
std::string ToJson(const TenantDoc& d);
std::string ToJson(const VmDoc& d);
std::string ToJson(const LearnedDoc& d);
std::string ToJson(const StatusDoc& d);

// Each returns the document, or nullopt with the error in *error.
std::optional<HostDoc> HostFromJson(const std::string& text, std::string* error);
std::optional<TenantDoc> TenantFromJson(const std::string& text, std::string* error);
std::optional<VmDoc> VmFromJson(const std::string& text, std::string* error);
std::optional<LearnedDoc> LearnedFromJson(const std::string& text, std::string* error);
std::optional<StatusDoc> StatusFromJson(const std::string& text, std::string* error);

// The generation key's value: the policy generation and what the write
// that made it touched (README.md "Key layout"). Every policy write puts the
// generation key in its transaction, so the key's event at revision R tells
// a host's mirror which of its watches must also deliver revision R before
// its state is whole at R (store_mirror.h).
//
// Text: the number, then a space and a JSON object of the touched names:
//   7 {"hosts":[],"placement":["host1","host2"],"tenants":["contoso"]}
// (the number first, so `cut -d' ' -f1` reads it). A bare number (a writer
// before the manifest) is a generation without one: touched is unknown.
struct GenerationDoc {
  uint64_t number = 0;
  bool has_manifest = false;
  std::set<std::string> hosts;      // host documents put or deleted
  std::set<std::string> placement;  // hosts with placement keys put or deleted
  std::set<std::string> tenants;    // tenants with keys under tenants/<t>/ put or deleted
};
std::string ToText(const GenerationDoc& d);
std::optional<GenerationDoc> GenerationFromText(const std::string& text, std::string* error);

// The settings' YAML spellings ("icmp-and-clamp", "entropy").
const char* MtuPolicyName(MtuPolicy p);
const char* FlowIdName(FlowIdMode m);

// The provider address a host's records use for CAs of `family`: its first
// of that family, else its first (IPv6 CAs over IPv4 PAs): the rule of
// `provider_address: local` (config/README.md). nullptr: the host has none.
const ProviderAddress* HostPa(const std::vector<ProviderAddress>& pas, Family family);

}  // namespace hnv::store
