// The cmdlets' nouns (command.cc parses them all alike): each noun's kind,
// its parameters as Hyper-V spells them with the JSON field each fills, and
// the verbs it takes. The port ACL nouns are acl_commands.cc's.
// Thread: any; constant tables.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/json_model.h"

namespace hnv::ctl {

struct Param {
  const char* name;          // as the chapter spells it
  const char* field;         // the JSON field
  bool number_only = false;  // InterfaceIndex: a port number, never a name
};

enum Verbs : uint8_t {
  kVerbNew = 1,
  kVerbGet = 2,
  kVerbSet = 4,
  kVerbRemove = 8,
  kVerbAdd = 16,  // Add-: a new object (op "new"), as Hyper-V's ACL cmdlets say it
};

struct Noun {
  const char* name;
  config::Kind kind;
  std::vector<Param> params;
  uint8_t verbs;            // Verbs
  bool vm_first = false;    // the VM name may come first, unnamed (params[0] is VMName)
};

// Add-/Remove-/Get-VMNetworkAdapterAcl and -ExtendedAcl.
const std::vector<Noun>& AclNouns();

// What Add-VMNetworkAdapterAcl needs beyond the required parameters (one
// remote address, IP or MAC): "" or the message (after the label).
std::string CheckAclToAdd(config::Kind kind, const nlohmann::json& object);

// The Get- views of port-acl and port-extended-acl objects (as `get`
// returns them: a Meter rule carries metered_packets and metered_bytes,
// its counts in both directions), "Name: value" lines, a block per rule.
std::string RenderAcls(config::Kind kind, const nlohmann::json& objects);

}  // namespace hnv::ctl
