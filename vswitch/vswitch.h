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
// Thread: everything runs on the control thread (Run's loop); workers are
// the Dataplane's lcores.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "config/control.h"
#include "config/host_config.h"
#include "config/policy/record_index.h"
#include "config/policy_ops.h"
#include "dataplane/runtime/dataplane.h"

namespace hnv::vswitch {

struct Options {
  std::string config_path;
  std::string journal_path;  // default: <config dir>/<host>.journal
  std::string socket_path;   // overrides the configuration's control_socket
  uint32_t max_records = 1'100'000;  // table sizes (memory is reserved at start)
  uint32_t max_routes = 110'000;
};

class VSwitch final : public config::RequestHandler {
 public:
  explicit VSwitch(Options options);
  ~VSwitch() override;

  // Loads the configuration, creates the dataplane on the EAL lcores after
  // the main one, attaches the ports, applies the policy, starts the workers
  // and the control socket.
  bool Start(std::string* error);
  // Runs the control loop until `stop`; reloads when `reload` is raised.
  void Run(const std::atomic<bool>& stop, std::atomic<bool>& reload);
  // Rebuilds the policy from files + journal and applies it if valid.
  bool Reload(std::string* error);

  config::Response Handle(const config::Request& request) override;

  // Journals longer than this are compacted after a start or reload.
  static constexpr size_t kCompactEntries = 1000;

 private:
  bool BuildPolicy(config::HostConfig* cfg, Policy* policy, size_t* journal_entries,
                   std::string* error);
  void MaybeCompactJournal(size_t journal_entries);
  config::Response HandleChange(const std::string& op, const nlohmann::json& args);
  // Applies a validated single-record edit to the tables.
  bool ApplyRecordEdit(const RecordEdit& edit, std::string* error);
  config::Response Counters() const;
  config::Response Trace(const nlohmann::json& args);
  config::Response Capture(const nlohmann::json& args);
  std::optional<uint16_t> PortByName(std::string_view name) const;
  void OnLearned(const LookupRecord& r);

  Options options_;
  config::HostConfig config_;
  std::unique_ptr<RecordIndex> policy_;  // what the tables hold, as a Policy
  std::unique_ptr<config::Journal> journal_;
  std::unique_ptr<Dataplane> dp_;
  config::ControlServer server_;
};

}  // namespace hnv::vswitch
