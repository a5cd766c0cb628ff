// A host's configuration as users write it in YAML: the dataplane ports, the
// host settings, and the HNV policy (possibly split over included files, e.g.
// one shared file per tenant). LoadHostConfig parses, resolves includes,
// builds the Policy and validates it as a whole (config/policy/validate.h);
// every error names the file, the line and the field.
//
// Thread: any; allocates; never on the per-packet path.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dataplane/policy/model.h"

namespace hnv::config {

struct ConfigError {
  std::string file;    // as given / as included
  int line = 0;        // 1-based; 0 when the error is about the file as a whole
  std::string field;   // YAML path, e.g. "lookup_records[3].mac"
  std::string message; // names the offending value and the rule
  // "tenants/contoso.yaml:14: lookup_records[3].vsid: 70000000 is outside 4096..16777214"
  std::string ToString() const;
};

// A dataplane port: index 0.. in the order of the file (the uplink first is
// the convention, not a rule); `device` is a DPDK device string
// ("net_af_packet0,iface=eth1", "net_vhost1,iface=/run/hnv/vm1.sock", a PCI
// address).
struct PortSpec {
  uint16_t index = 0;
  std::string name;
  std::string device;
};

struct HostConfig {
  std::string host_name;
  std::string control_socket;      // default "/run/hnv/<host_name>.sock"
  std::vector<PortSpec> ports;
  Policy policy;                   // port fields refer to PortSpec::index
  std::vector<std::string> files;  // the main file and every include, in load order
};

struct LoadResult {
  std::optional<HostConfig> config;  // set when errors is empty
  std::vector<ConfigError> errors;
};

LoadResult LoadHostConfig(const std::string& path);

}  // namespace hnv::config
