// One hnvctl change (new / set / remove of an object of one kind) applied to a
// Policy value, and the journal that keeps such changes across reloads and
// restarts.
//
// Identity of an object, per kind (what `set` and `remove` match on, and
// what `new` must not duplicate):
//   lookup-record       vsid + customer_address; for records without a CA
//                       (L2Only, GatewayWildcard) vsid + mac + type
//   customer-route      rdid + destination
//   provider-address    address
//   provider-route      destination
//   vm-network-adapter  vm_name
//   routing-domain      rdid
//   virtual-subnet      vsid
// `set` changes the fields it is given on the one object its identity
// fields select; `remove` removes every object matching the fields given
// (at least one identity field), and fails when none does.
//
// Thread: any; pure functions of their arguments (the journal does file I/O).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "config/json_model.h"
#include "config/policy/record_index.h"
#include "dataplane/policy/model.h"

namespace hnv::config {

struct Change {
  std::string op;  // "new", "set", "remove", "upsert" (set, or new when absent)
  Kind kind = Kind::kLookupRecord;
  nlohmann::json object;
};

// The identity fields (above) of an object of `kind` given as `given`
// (canonical JSON; a lookup record's depend on its customer_address).
std::vector<std::string> IdentityFields(Kind kind, const nlohmann::json& given);

// Applies `c` to *p. Returns an empty string, or the error (one line, naming
// the field). *p is unchanged on error. Whole-policy rules are not checked
// here: validate the result (ValidatePolicy) before using it.
std::string ApplyChange(Policy* p, const Change& c, const FromJsonOptions& options = {});

// ApplyChange for one lookup record, found through the index's hashes instead
// of a scan: the edit that ApplyChange would make to the index's policy, or
// the error it would give (same words). `handled` is false where the change
// is not one record's (a remove that names several, or no VSID with a CA or
// MAC to find them by): use ApplyChange on index.ToPolicy() then.
struct RecordPlan {
  bool handled = false;
  std::string error;  // handled: ApplyChange's error, or "" with `edit` set
  RecordEdit edit;
};
RecordPlan PlanRecordChange(const RecordIndex& index, const Change& c,
                            const FromJsonOptions& options = {});

// Parses a request's {"kind": ..., "object": {...}} for `op`.
std::string ParseChange(const std::string& op, const nlohmann::json& args, Change* out);

// An append-only file of changes, one JSON object per line, replayed over the
// configuration at every start and reload so that nothing said through
// hnvctl (or learned) is lost.
class Journal {
 public:
  explicit Journal(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  // Appends and flushes (fsync) one change. Returns an error message or "".
  std::string Append(const Change& c);
  // Reads every change; malformed lines are reported in `errors` and skipped.
  std::vector<Change> Read(std::vector<std::string>* errors) const;
  // Rewrites the journal with exactly `changes` (atomic rename).
  std::string Rewrite(const std::vector<Change>& changes);

 private:
  std::string path_;
};

nlohmann::json ChangeToJson(const Change& c);

}  // namespace hnv::config
