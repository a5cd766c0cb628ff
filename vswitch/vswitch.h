// VSwitch: the hnv-vswitch daemon — the dataplane on this host's ports,
// driven by the host's YAML configuration, the hnvctl journal and the
// control socket.
//
// Policy = configuration files (config/host_config.h) + the journal of
// hnvctl changes and learned Dynamic records, replayed in order. At start
// and on every reload (SIGHUP or `hnvctl apply`) the whole policy is rebuilt
// and validated first; if anything is wrong nothing changes and every error
// is reported with file, line and field. A valid policy is applied to the
// running tables as a diff (unchanged entries are not touched). Single
// changes through hnvctl are validated against the whole policy, applied,
// then journalled, so a restart (even after kill -9) comes back with them.
// A lookup-record change (and a learned Dynamic record) is found, validated
// and applied through indexes (config/policy/record_index.h): its cost
// does not grow with the number of records. Other kinds rebuild the policy.
// After a start or reload, a journal of more than kCompactEntries entries, or
// larger than the configuration files, is rewritten (atomically) as the few
// changes from the files to the running policy (config/journal_compact.h).
//
// With --store URL --host NAME the policy is the central store's instead
// (daemon/store_binding.h): the host's ports and policy come from there,
// each new policy is applied as a diff (Poll), learned records are published
// there instead of journalled, and local changes are refused.
//
// The shell around it (options, EAL, signals, the control loop and socket)
// is daemon/shell.h; its control operations are registered as typed
// handlers (daemon/operations.h).
//
// Thread: everything runs on the control thread (the shell's loop); workers
// are the Dataplane's lcores.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/host_config.h"
#include "config/policy/record_index.h"
#include "config/policy_ops.h"
#include "daemon/captures.h"
#include "daemon/shell.h"
#include "daemon/store_binding.h"
#include "dataplane/runtime/dataplane.h"

namespace hnv::vswitch {

// The arguments of hnv-vswitch's own control operations (config/control.h).
// new / set / remove {"kind": K, "object": {...}}
struct ChangeArgs {
  config::Change change;
  static bool Parse(daemon::ArgReader& r, ChangeArgs* out);
};
class VSwitch final : public daemon::Program {
 public:
  // `journal_path` "": /var/lib/hnv/<host>.journal.
  VSwitch(daemon::Shell& shell, std::string journal_path);
  ~VSwitch() override;

  // Loads the configuration, creates the dataplane on the EAL lcores after
  // the main one, attaches the ports, applies the policy, starts the workers
  // and the control socket.
  bool Start(std::string* error) override;
  void Poll() override;
  // Rebuilds the policy from files + journal and applies it if valid.
  bool Reload(std::string* error) override;
  void Stop() override;
  nlohmann::json MetricsJson() override;

  // Journals longer than this are compacted after a start or reload.
  static constexpr size_t kCompactEntries = 1000;

 private:
  void RegisterOperations();
  bool BuildPolicy(config::HostConfig* cfg, Policy* policy, size_t* journal_entries,
                   std::string* error);
  void MaybeCompactJournal(size_t journal_entries);
  // A policy from the store, applied as a diff (the ports must not change).
  void ApplyStorePolicy(const store::FollowedPolicy& p);
  config::Response Get(const daemon::GetArgs& args) const;
  nlohmann::json PortAclsWithMeters() const;
  config::Response HandleChange(const config::Change& c);
  // Applies a validated single-record edit to the tables.
  bool ApplyRecordEdit(const RecordEdit& edit, std::string* error);
  config::Response Counters() const;
  config::Response Trace(const daemon::TraceArgs& args);
  std::unique_ptr<FrameCapture> OpenCapture(const daemon::CaptureArgs& args, std::string* error);
  std::optional<uint16_t> PortByName(std::string_view name) const;
  void OnLearned(const LookupRecord& r);

  daemon::Shell& shell_;
  std::string journal_path_;
  config::HostConfig config_;
  std::unique_ptr<RecordIndex> policy_;  // what the tables hold, as a Policy
  std::unique_ptr<config::Journal> journal_;  // YAML mode only
  std::unique_ptr<daemon::StoreBinding> store_;  // --store mode only
  std::unique_ptr<Dataplane> dp_;
  daemon::Captures captures_;  // after dp_: they go first
};

}  // namespace hnv::vswitch
