// hnvctl's command line: the short forms (`get lookup-record`, `new KIND
// key=value ...`) and the chapter's cmdlets (`New-NetVirtualizationLookupRecord
// -CustomerAddress 10.0.1.101 ...`), both turned into one control-socket
// request (config/control.h) plus what the output needs to know.
//
// Cmdlet and parameter names are case-insensitive; `-Name value` and
// `-Name:value` both work; a value may keep its quotes ("{1234...}" or
// '...'). After a lone `|`, `fl` / `Format-List` with property names
// (`Get-VMNetworkAdapter * | fl VMName,MacAddress,VirtualSubnetId,SwitchName`)
// selects the lines of a Get- view, `fl *` shows all (as without it); any
// other pipeline is ignored. A whole cmdlet may also come as one argument,
// split PowerShell-style (SplitCommandLine), so the shell does not see its
// `*` and `|`.
//
// Values are checked here (config/json_model.h) and sent in canonical form;
// errors name the parameter as the user wrote the command:
//   New-NetVirtualizationLookupRecord: -VirtualSubnetID: "abc" is not a number
//   new lookup-record: vsid: "abc" is not a number
//
// `capture`'s FILE is made absolute against the working directory: the
// server writes it and has another one.
//
// Thread: any; no I/O beyond getcwd.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/control.h"
#include "config/json_model.h"

namespace hnv::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // a bad value, a refused request, no server
inline constexpr int kExitUsage = 2;  // a malformed command line

// How the result of the request is shown.
enum class View : uint8_t {
  kObjects,  // get/new/set: the Get-* view of `kind`
  kNothing,  // remove
  kPolicy,   // show: every Get-* view (one get per kind)
  kCounters,
  kTrace,
  kCapture,
  kVersion,
  kApply,
  kCompartments,  // hnv-gateway: every compartment, one line each
  kCompartment,   // hnv-gateway: one compartment in full (args.name)
  kVpn,           // hnv-gateway: a tenant's VPN (args.name)
  kNat,           // hnv-gateway: a compartment's NAT sessions and counters
  kLb,            // hnv-gateway: a compartment's load balancers and their pools
};

struct Command {
  std::string label;  // names the command in error lines
  config::Request request;
  std::optional<config::Kind> kind;
  // get: only objects whose fields equal these (canonical values) are shown;
  // the protocol's get has no filter, so hnvctl filters what comes back.
  nlohmann::json filter = nlohmann::json::object();
  // `| fl A,B`: the properties (lines "A: ...") of the view to show; empty: all.
  std::vector<std::string> properties;
  View view = View::kNothing;
  int timeout_ms = 5000;
  // capture: return once it started, instead of asking for its status until
  // it ends (the server captures beside its control loop either way).
  bool background = false;
};

struct ParseOutcome {
  std::optional<Command> command;
  std::string error;  // one line, without "hnvctl: "
  int exit_code = kExitOk;
};

// `words` are the command and its arguments, after hnvctl's own options.
ParseOutcome ParseCommand(const std::vector<std::string>& words);

// Splits one string as PowerShell would for our purposes: whitespace between
// words, "..." and '...' group (quotes removed), a backtick before a newline
// joins lines.
std::vector<std::string> SplitCommandLine(std::string_view line);

// The usage text for --help.
std::string UsageText();

}  // namespace hnv::ctl
