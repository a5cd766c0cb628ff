#include "config/policy/policy_dump.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace hnv {
namespace {

// Accumulates "Name: value" blocks, a blank line between blocks.
class Blocks {
 public:
  void Begin() {
    if (!out_.empty()) out_ += '\n';
  }
  void Line(std::string_view name, std::string_view value) {
    out_ += name;
    out_ += ':';
    if (!value.empty()) {
      out_ += ' ';
      out_ += value;
    }
    out_ += '\n';
  }
  void Line(std::string_view name, uint64_t value) { Line(name, std::to_string(value)); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

constexpr std::string_view kNilGuid = "{00000000-0000-0000-0000-000000000000}";

}  // namespace

const char* RuleName(TranslationRule r) {
  switch (r) {
    case TranslationRule::kEncap:
      return "TranslationMethodEncap";
    case TranslationRule::kNone:
      return "TranslationMethodNone";
  }
  return "?";
}

const char* TypeName(RecordType t) {
  switch (t) {
    case RecordType::kStatic:
      return "Static";
    case RecordType::kDynamic:
      return "Dynamic";
    case RecordType::kL2Only:
      return "L2Only";
    case RecordType::kGatewayWildcard:
      return "GatewayWildcard";
  }
  return "?";
}

std::string DumpLookupRecords(const Policy& p) {
  Blocks b;
  for (const LookupRecord& r : p.records) {
    b.Begin();
    b.Line("CustomerAddress", r.ca.ToString());
    b.Line("VirtualSubnetID", r.vsid);
    b.Line("MACAddress", r.mac.ToCompactString());
    b.Line("ProviderAddress", r.pa.ToString());
    b.Line("CustomerID", kNilGuid);
    b.Line("Context", "");
    b.Line("Rule", RuleName(r.rule));
    b.Line("VMName", r.vm_name);
    b.Line("UseVmMACAddress", "False");
    b.Line("Type", TypeName(r.type));
  }
  return b.Take();
}

std::string DumpCustomerRoutes(const Policy& p) {
  Blocks b;
  for (const CustomerRoute& r : p.customer_routes) {
    b.Begin();
    b.Line("RoutingDomainID", r.rdid.ToString());
    b.Line("VirtualSubnetID", r.vsid);
    b.Line("DestinationPrefix", r.destination.ToString());
    b.Line("NextHop", r.next_hop.ToString());
    b.Line("Metric", r.metric);
  }
  return b.Take();
}

std::string DumpProviderAddresses(const Policy& p) {
  Blocks b;
  for (const ProviderAddress& a : p.provider_addresses) {
    b.Begin();
    b.Line("ProviderAddress", a.address.ToString());
    b.Line("InterfaceIndex", a.port);
    b.Line("PrefixLength", a.prefix_len);
    b.Line("VlanID", a.vlan);
    b.Line("AddressState", "Preferred");
    b.Line("MACAddress", a.mac.ToCompactString());
    b.Line("ManagedByCluster", "False");
  }
  return b.Take();
}

std::string DumpProviderRoutes(const Policy& p) {
  Blocks b;
  for (const ProviderRoute& r : p.provider_routes) {
    b.Begin();
    b.Line("InterfaceIndex", r.port);
    b.Line("DestinationPrefix", r.destination.ToString());
    b.Line("NextHop", r.next_hop.ToString());
    b.Line("Metric", uint64_t{0});
  }
  return b.Take();
}

std::string DumpVmNetworkAdapters(const Policy& p) {
  Blocks b;
  for (const VmPort& v : p.vm_ports) {
    b.Begin();
    b.Line("VMName", v.vm_name);
    b.Line("MacAddress", v.mac.ToCompactString());
    b.Line("VirtualSubnetId", v.vsid);
    b.Line("SwitchName", "HNVSwitch");
    b.Line("MacAddressSpoofing", v.mac_address_spoofing ? "On" : "Off");
    b.Line("DhcpGuard", v.dhcp_guard ? "On" : "Off");
    b.Line("RouterGuard", v.router_guard ? "On" : "Off");
  }
  return b.Take();
}

std::string DumpPolicy(const Policy& p) {
  struct Section {
    const char* cmdlet;
    std::string (*dump)(const Policy&);
  };
  static constexpr Section kSections[] = {
      {"Get-NetVirtualizationLookupRecord", DumpLookupRecords},
      {"Get-NetVirtualizationCustomerRoute", DumpCustomerRoutes},
      {"Get-NetVirtualizationProviderAddress", DumpProviderAddresses},
      {"Get-NetVirtualizationProviderRoute", DumpProviderRoutes},
      {"Get-VMNetworkAdapter", DumpVmNetworkAdapters},
  };
  std::string out;
  bool separate = false;  // the previous section ended with an element
  for (const Section& s : kSections) {
    if (separate) out += '\n';
    out += s.cmdlet;
    out += "\n\n";
    const std::string body = s.dump(p);
    out += body;
    separate = !body.empty();
  }
  return out;
}

}  // namespace hnv
