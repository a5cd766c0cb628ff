// Replaying hnvctl changes over a policy, and compacting a journal of them.
//
// ReplayChanges is what every start and reload does with the journal: each
// change in order, as ApplyChange would make it (a change that fails is
// skipped and reported); lookup-record changes go through a RecordIndex
// (O(1) each) instead of copying the policy, the others through ApplyChange.
//
// CompactChanges finds a short list of changes that turns the policy of the
// configuration files into the running one, order of every section included:
// per kind, the running objects are matched in order against the files' by
// identity (policy_ops.h); the files' objects left unmatched are removed,
// matched ones that differ are set, and the rest of the running ones are
// appended with new. The list is replayed and compared with the running
// policy before it is returned; when the replay differs (identities that are
// not unique, say) there is no compact form and the journal stays as it is.
//
// Thread: any; pure functions of their arguments.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/json_model.h"
#include "config/policy/record_index.h"
#include "config/policy_ops.h"
#include "dataplane/policy/model.h"

namespace hnv::config {

// `base` with `changes` replayed; `skipped` gets one line per change that
// failed ("new lookup-record skipped: ...", prefixed by the caller).
std::unique_ptr<RecordIndex> ReplayChanges(Policy base, const std::vector<Change>& changes,
                                           const FromJsonOptions& options,
                                           std::vector<std::string>* skipped);

// The changes that turn `files` into `running`, or nullopt (see above).
// Empty when the files already hold the running policy.
std::optional<std::vector<Change>> CompactChanges(const Policy& files, const Policy& running,
                                                  const FromJsonOptions& options = {});

}  // namespace hnv::config
