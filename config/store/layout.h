// The policy store's key layout in etcd (README.md "Key layout"). Every key
// is under one root, "/hnv/v1/" unless configured otherwise (so several data
// centers, or tests, can share one etcd):
//
//   <root>generation                       the policy generation (a number,
//                                          then what the write touched:
//                                          documents.h GenerationDoc),
//                                          written by every policy change
//   <root>hosts/<host>                     a host or gateway (HostDoc)
//   <root>tenants/<tenant>/spec            a tenant: its VM network (TenantDoc)
//   <root>tenants/<tenant>/vms/<vm>        a VM of that tenant (VmDoc)
//   <root>placement/<host>/<tenant>/<vm>   index: that VM is on that host
//                                          (empty value, written with the VM)
//   <root>status/<host>                    what the host applied (under its lease)
//   <root>learned/<host>/<vsid>/<ca>       a Dynamic record the host learned
//                                          (under its lease)
//
// Names in keys are percent-encoded outside [A-Za-z0-9._-] (a VM name may
// hold spaces), so '/' in a name never splits a key. Policy (generation,
// hosts, tenants, placement) is written only by writers (StoreWriter, in one
// transaction per change); status and learned records only by the host they
// name, which etcd roles can enforce (README.md "Roles").
//
// Thread: any; pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dataplane/packet/types.h"

namespace hnv::store {

inline constexpr std::string_view kDefaultRoot = "/hnv/v1/";

class Layout {
 public:
  explicit Layout(std::string root = std::string(kDefaultRoot));
  const std::string& root() const { return root_; }

  std::string Generation() const { return root_ + "generation"; }
  std::string HostsPrefix() const { return root_ + "hosts/"; }
  std::string Host(std::string_view host) const;
  std::string TenantsPrefix() const { return root_ + "tenants/"; }
  std::string TenantPrefix(std::string_view tenant) const;
  std::string TenantSpec(std::string_view tenant) const;
  std::string VmsPrefix(std::string_view tenant) const;
  std::string Vm(std::string_view tenant, std::string_view vm) const;
  std::string PlacementsPrefix() const { return root_ + "placement/"; }
  std::string PlacementPrefix(std::string_view host) const;
  std::string Placement(std::string_view host, std::string_view tenant, std::string_view vm) const;
  std::string StatusPrefix() const { return root_ + "status/"; }
  std::string Status(std::string_view host) const;
  std::string LearnedPrefix() const { return root_ + "learned/"; }
  std::string LearnedHostPrefix(std::string_view host) const;
  std::string Learned(std::string_view host, uint32_t vsid, const IpAddr& ca) const;

  // What a key of this layout is, with its names decoded.
  struct Key {
    enum class Kind : uint8_t {
      kGeneration,
      kHost,
      kTenantSpec,
      kVm,
      kPlacement,
      kStatus,
      kLearned,
      kUnknown,  // under the root but not of this layout, or not under it
    };
    Kind kind = Kind::kUnknown;
    std::string host;
    std::string tenant;
    std::string vm;
    uint32_t vsid = 0;
    IpAddr ca;
  };
  Key Parse(std::string_view key) const;

 private:
  std::string root_;
};

// Percent-encoding of a name for a key, and back (nullopt: malformed).
std::string EncodeName(std::string_view name);
std::optional<std::string> DecodeName(std::string_view encoded);

}  // namespace hnv::store
