// A stable text dump of a Policy in the chapter's `Get-*` output format, for
// golden tests and `hnvctl show`. One "Name: value" line per field, fields in
// the chapter's order, elements separated by a blank line, elements in model
// order. An empty value prints as "Name:" (the chapter's "Context:").
//
// Fields that are constants on Windows and have no counterpart in our model
// print the chapter's values: CustomerID {00000000-0000-0000-0000-000000000000},
// an empty Context, UseVmMACAddress False, AddressState Preferred,
// ManagedByCluster False, SwitchName HNVSwitch. InterfaceIndex is our
// dataplane port. MACs print in the chapter's compact form (600060000101).
//
// Thread: any; pure functions. Not for the per-packet path (allocates).
#pragma once

#include <string>

#include "dataplane/policy/model.h"

namespace hnv {

// Get-NetVirtualizationLookupRecord: CustomerAddress, VirtualSubnetID,
// MACAddress, ProviderAddress, CustomerID, Context, Rule, VMName,
// UseVmMACAddress, Type.
std::string DumpLookupRecords(const Policy& p);

// Get-NetVirtualizationCustomerRoute: RoutingDomainID, VirtualSubnetID,
// DestinationPrefix, NextHop, Metric.
std::string DumpCustomerRoutes(const Policy& p);

// Get-NetVirtualizationProviderAddress: ProviderAddress, InterfaceIndex,
// PrefixLength, VlanID, AddressState, MACAddress, ManagedByCluster.
std::string DumpProviderAddresses(const Policy& p);

// Get-NetVirtualizationProviderRoute (the chapter shows no output; the fields
// are those of MSFT_NetVirtualizationProviderRouteSettingData): InterfaceIndex,
// DestinationPrefix, NextHop, Metric (always 0: our provider routes have none).
std::string DumpProviderRoutes(const Policy& p);

// Get-VMNetworkAdapter * | fl *: VMName, MacAddress, VirtualSubnetId,
// SwitchName, then the port security switches MacAddressSpoofing, DhcpGuard,
// RouterGuard (On / Off). (hnvctl shows the chapter's four with `| fl
// VMName,MacAddress,VirtualSubnetId,SwitchName`.)
std::string DumpVmNetworkAdapters(const Policy& p);

// All five, each under a line with the cmdlet's name and a blank line, in the
// order above, sections separated by a blank line; empty sections keep their
// heading.
std::string DumpPolicy(const Policy& p);

// The chapter's spelling of the enums.
const char* RuleName(TranslationRule r);  // "TranslationMethodEncap"
const char* TypeName(RecordType t);       // "Static"

}  // namespace hnv
