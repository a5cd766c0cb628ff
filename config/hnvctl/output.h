// What hnvctl prints for each result: the chapter's Get-* views (built into a
// Policy and printed by config/policy/policy_dump.h), counters as a table,
// trace steps, and the short answers of apply, capture and version.
//
// Thread: any; pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/json_model.h"

namespace hnv::ctl {

struct Rendered {
  std::string text;   // for stdout
  std::string error;  // one line; set when the result is not what the kind promises
};

// The objects of a get result (an array) that match `filter` (canonical
// field values; a text value with * or ? is a wildcard). Fields the client
// does not know are kept.
nlohmann::json FilterObjects(config::Kind kind, const nlohmann::json& objects,
                             const nlohmann::json& filter);

// The Get-* view of objects of `kind` (an array, or one object as new/set
// return it). Fields this client does not know are ignored, so a newer server
// still prints. kPartial shows absent fields with their defaults; kFull
// fails on an object that lacks a required field.
Rendered RenderObjects(config::Kind kind, const nlohmann::json& objects, config::Mode mode);

// `| fl A,B`: only the lines "A: ..." and "B: ..." of each block of a Get-
// view, in the view's order (names case-insensitive); no properties: the
// view as it is.
std::string SelectProperties(const std::string& view, const std::vector<std::string>& properties);

// `show`: each kind's view under its cmdlet name, as DumpPolicy prints them;
// `results` maps a kind's name to its get result.
Rendered RenderPolicy(const nlohmann::json& results);

// Routing domains and virtual subnets have no cmdlet in the chapter; their
// views follow the same "Name: value" style.
std::string DumpRoutingDomains(const Policy& p);
std::string DumpVirtualSubnets(const Policy& p);

// A text table, one row a line: the first `label_columns` columns
// left-aligned, the others right-aligned, two spaces between columns.
std::string Table(const std::vector<std::vector<std::string>>& rows, size_t label_columns);

// A field of a JSON object as text: strings as they are, numbers as
// numbers, "-" when absent (or `o` is no object).
std::string Field(const nlohmann::json& o, const char* key);
// A field that is an array, or an empty array.
const nlohmann::json& Array(const nlohmann::json& o, const char* key);

// Counters: per port rx/tx (every numeric field of the port objects as a
// column, and a total row), then the nonzero drop reasons and their total,
// then any other numbers. Expected shape (extra fields are shown too):
//   {"ports": [{"port": 0, "name": "uplink", "rx_packets": .., "rx_bytes": ..,
//               "tx_packets": .., "tx_bytes": .., ...}, ...],
//    "drops": {"reason": count, ...} (nested objects are flattened with '.')}
std::string RenderCounters(const nlohmann::json& result);

// Trace: {"steps": [{"stage": .., "decision": .., ...}, ...], ...} one line per step.
std::string RenderTrace(const nlohmann::json& result);

std::string RenderApply(const nlohmann::json& result);
std::string RenderCapture(const nlohmann::json& result, const nlohmann::json& args);
std::string RenderVersion(const nlohmann::json& result);

}  // namespace hnv::ctl
