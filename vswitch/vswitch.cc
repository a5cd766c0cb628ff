#include "vswitch/vswitch.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "config/journal_compact.h"
#include "config/policy/validate.h"
#include "daemon/counters_json.h"
#include "daemon/log.h"
#include "dataplane/runtime/capture.h"
#include "dataplane/runtime/trace.h"

namespace hnv::vswitch {

using config::Change;
using config::Response;
using daemon::ArgReader;
using daemon::JoinErrors;
using nlohmann::json;

bool ChangeArgs::Parse(ArgReader& r, ChangeArgs* out) {
  const std::string error = config::ParseChange(std::string(r.op()), r.args(), &out->change);
  return error.empty() || r.FailWith(error);
}

VSwitch::VSwitch(daemon::Shell& shell, std::string journal_path)
    : shell_(shell),
      journal_path_(std::move(journal_path)),
      captures_([this](const daemon::CaptureArgs& a, std::string* e) { return OpenCapture(a, e); }) {
  RegisterOperations();
  if (!shell_.options().store.url.empty()) {
    store_ = std::make_unique<daemon::StoreBinding>(shell_.options().store);
    store_->RegisterOperations(shell_.operations());
  }
}

VSwitch::~VSwitch() {
  captures_.StopAll();
  if (dp_) dp_->Stop();
}

std::optional<uint16_t> VSwitch::PortByName(std::string_view name) const {
  for (const config::PortSpec& p : config_.ports)
    if (p.name == name) return p.index;
  for (const VmPort& v : policy_->rest().vm_ports)
    if (v.vm_name == name) return v.port;
  return std::nullopt;
}

bool VSwitch::BuildPolicy(config::HostConfig* cfg, Policy* policy, size_t* journal_entries,
                          std::string* error) {
  config::LoadResult loaded = config::LoadHostConfig(shell_.options().config_path);
  if (!loaded.config) {
    *error = JoinErrors(loaded.errors);
    return false;
  }
  *cfg = std::move(*loaded.config);
  if (!journal_) {
    std::string path = journal_path_;
    if (path.empty()) path = "/var/lib/hnv/" + (cfg->host_name.empty() ? "vswitch" : cfg->host_name) + ".journal";
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    journal_ = std::make_unique<config::Journal>(path);
  }
  std::vector<std::string> bad;
  config::FromJsonOptions opts;
  opts.port_by_name = [cfg](std::string_view name) -> std::optional<uint16_t> {
    for (const config::PortSpec& p : cfg->ports)
      if (p.name == name) return p.index;
    return std::nullopt;
  };
  const std::vector<Change> changes = journal_->Read(&bad);
  *journal_entries = changes.size() + bad.size();
  std::vector<std::string> skipped;
  if (changes.empty()) *policy = cfg->policy;
  else *policy = config::ReplayChanges(cfg->policy, changes, opts, &skipped)->ToPolicy();
  for (const std::string& s : skipped) bad.push_back(journal_->path() + ": " + s);
  for (const std::string& b : bad) Log("journal: %s", b.c_str());
  const auto errors = ValidatePolicy(*policy);
  if (!errors.empty()) {
    *error = "the policy (configuration + journal " + journal_->path() + ") is invalid:\n" +
             JoinErrors(errors);
    return false;
  }
  return true;
}

// Compacting is safe at any moment: the journal is replaced by one that
// replays to the same policy over the same files (checked before it is
// written), by rename, so a crash leaves the old journal or the new one.
void VSwitch::MaybeCompactJournal(size_t journal_entries) {
  std::error_code ec;
  const uintmax_t journal_bytes = std::filesystem::file_size(journal_->path(), ec);
  if (ec || journal_bytes == 0) return;
  uintmax_t config_bytes = 0;
  for (const std::string& f : config_.files) {
    const uintmax_t n = std::filesystem::file_size(f, ec);
    if (!ec) config_bytes += n;
  }
  if (journal_entries <= kCompactEntries && journal_bytes <= config_bytes) return;
  config::FromJsonOptions opts;
  opts.port_by_name = [this](std::string_view n) { return PortByName(n); };
  const auto changes = config::CompactChanges(config_.policy, policy_->ToPolicy(), opts);
  if (!changes) {
    Log("journal %s: %zu entries, no compact form found; left as it is", journal_->path().c_str(),
        journal_entries);
    return;
  }
  if (!changes->empty() && changes->size() >= journal_entries) return;
  if (const std::string err = journal_->Rewrite(*changes); !err.empty()) {
    Log("journal compaction failed: %s", err.c_str());
    return;
  }
  Log("journal %s compacted: %zu entries -> %zu", journal_->path().c_str(), journal_entries,
      changes->size());
}

bool VSwitch::Start(std::string* error) {
  Policy policy;
  size_t journal_entries = 0;
  std::optional<store::FollowedPolicy> first;
  if (store_) {
    first = store_->Start(daemon::kStoreStartWait, error);
    if (!first) return false;
    config_ = daemon::StoreBinding::HostConfigOf(*first);
    policy = config_.policy;
  } else if (!BuildPolicy(&config_, &policy, &journal_entries, error)) {
    return false;
  }
  shell_.startup().Mark("configuration");
  dp_ = shell_.CreateDataplane(config_.ports, /*spread_all=*/false, error);
  if (!dp_) return false;
  dp_->tables().SetLearnCallback([this](const LookupRecord& r) { OnLearned(r); });
  if (!dp_->tables().Apply(policy, error)) return false;
  shell_.startup().Mark("policy");
  if (!dp_->Start(error)) return false;
  shell_.startup().Mark("workers");
  policy_ = std::make_unique<RecordIndex>(std::move(policy));
  if (store_)
    store_->Applied(*first, true, {}, policy_->size());
  else
    MaybeCompactJournal(journal_entries);
  const std::string socket = shell_.Listen(config_.control_socket, error);
  if (socket.empty()) return false;
  Log("running: %zu ports, %zu lookup records, %zu customer routes, control socket %s, %s",
      config_.ports.size(), policy_->size(), policy_->rest().customer_routes.size(), socket.c_str(),
      store_ ? store_->Describe().c_str() : ("journal " + journal_->path()).c_str());
  return true;
}

void VSwitch::Poll() {
  dp_->Poll();
  if (store_)
    if (std::optional<store::FollowedPolicy> p = store_->Next(); p) ApplyStorePolicy(*p);
  captures_.Poll();
}

void VSwitch::ApplyStorePolicy(const store::FollowedPolicy& p) {
  config::HostConfig cfg = daemon::StoreBinding::HostConfigOf(p);
  std::string error = daemon::PortsChangeProblem(config_.ports, cfg.ports);
  if (error.empty()) dp_->tables().Apply(cfg.policy, &error);
  if (!error.empty()) {
    store_->Applied(p, false, {error}, policy_->size());
    return;
  }
  store_->PortsGone(policy_->rest().vm_ports, cfg.policy.vm_ports);
  policy_ = std::make_unique<RecordIndex>(std::move(cfg.policy));
  config_ = std::move(cfg);
  store_->Applied(p, true, {}, policy_->size());
}

void VSwitch::Stop() {
  captures_.StopAll();
  dp_->Stop();
  if (store_) store_->Stop();
}

bool VSwitch::Reload(std::string* error) {
  if (store_) {
    *error = "this host follows the " + store_->Describe() + ": nothing to reload";
    return false;
  }
  config::HostConfig cfg;
  Policy policy;
  size_t journal_entries = 0;
  if (!BuildPolicy(&cfg, &policy, &journal_entries, error)) return false;
  if (std::string p = daemon::PortsChangeProblem(config_.ports, cfg.ports); !p.empty()) {
    *error = std::move(p);
    return false;
  }
  if (!dp_->tables().Apply(policy, error)) return false;
  config_ = std::move(cfg);
  policy_ = std::make_unique<RecordIndex>(std::move(policy));
  MaybeCompactJournal(journal_entries);
  return true;
}

void VSwitch::OnLearned(const LookupRecord& r) {
  if (!policy_) return;
  // The tables hold the record already (PolicyTables::LearnDynamic); it
  // joins the policy and the journal only if the policy stays valid.
  Change c{"upsert", config::Kind::kLookupRecord, config::ToJson(r)};
  const config::RecordPlan plan = config::PlanRecordChange(*policy_, c);
  std::string err = plan.error;
  if (err.empty()) {
    const auto errors = ValidateRecordChange(*policy_, plan.edit);
    if (!errors.empty()) err = errors.front().ToString();
  }
  if (!err.empty()) {
    Log("learned %s on VSID %u refused: %s", r.ca.ToString().c_str(), r.vsid, err.c_str());
    std::string ignored;
    if (plan.error.empty() && plan.edit.op == RecordEdit::Op::kReplace)
      dp_->tables().UpsertRecord(policy_->record(plan.edit.slot), &ignored);
    else
      dp_->tables().RemoveRecord(r);
    return;
  }
  if (store_)
    store_->Learned(r);
  else if (const std::string jerr = journal_->Append(c); !jerr.empty())
    Log("%s", jerr.c_str());
  policy_->Commit(plan.edit);
  Log("learned Dynamic record %s %s on VSID %u at PA %s", r.ca.ToString().c_str(),
      r.mac.ToCompactString().c_str(), r.vsid, r.pa.ToString().c_str());
}

namespace {

std::string RefusedMessage(const std::string& op, const Change& c,
                           const std::vector<PolicyError>& errors) {
  std::string msg = op + " " + config::KindName(c.kind) + " refused: " + errors.front().ToString();
  if (errors.size() > 1) msg += " (and " + std::to_string(errors.size() - 1) + " more)";
  return msg;
}

}  // namespace

bool VSwitch::ApplyRecordEdit(const RecordEdit& edit, std::string* error) {
  PolicyTables& t = dp_->tables();
  switch (edit.op) {
    case RecordEdit::Op::kAppend:
      return t.UpsertRecord(edit.record, error);
    case RecordEdit::Op::kReplace: {
      const LookupRecord& old = policy_->record(edit.slot);
      if (PolicyTables::SameIdentity(old, edit.record)) return t.UpsertRecord(edit.record, error);
      t.RemoveRecord(old);
      if (t.UpsertRecord(edit.record, error)) return true;
      std::string ignored;
      t.UpsertRecord(old, &ignored);
      return false;
    }
    case RecordEdit::Op::kErase:
      t.RemoveRecord(policy_->record(edit.slot));
      return true;
  }
  return false;
}

Response VSwitch::HandleChange(const Change& c) {
  const std::string& op = c.op;
  config::FromJsonOptions opts;
  opts.port_by_name = [this](std::string_view n) { return PortByName(n); };
  std::string error;
  if (const config::RecordPlan plan = config::PlanRecordChange(*policy_, c, opts); plan.handled) {
    if (!plan.error.empty())
      return Response::Error(op + " " + config::KindName(c.kind) + ": " + plan.error);
    // Several GatewayWildcard records may share the tables' identity (VSID,
    // PA); the full path below keeps the tables' choice among them.
    const bool wildcard = plan.edit.record.type == RecordType::kGatewayWildcard ||
                          (plan.edit.op != RecordEdit::Op::kAppend &&
                           policy_->record(plan.edit.slot).type == RecordType::kGatewayWildcard);
    if (!wildcard) {
      const auto errors = ValidateRecordChange(*policy_, plan.edit);
      if (!errors.empty()) return Response::Error(RefusedMessage(op, c, errors));
      if (!ApplyRecordEdit(plan.edit, &error)) return Response::Error(error);
      if (std::string jerr = journal_->Append(c); !jerr.empty()) Log("%s", jerr.c_str());
      policy_->Commit(plan.edit);
      return Response{true, c.object, {}};
    }
  }
  Policy next = policy_->ToPolicy();
  if (std::string err = config::ApplyChange(&next, c, opts); !err.empty())
    return Response::Error(op + " " + config::KindName(c.kind) + ": " + err);
  const auto errors = ValidatePolicy(next);
  if (!errors.empty()) return Response::Error(RefusedMessage(op, c, errors));
  if (!dp_->tables().Apply(next, &error)) return Response::Error(error);
  if (std::string jerr = journal_->Append(c); !jerr.empty()) Log("%s", jerr.c_str());
  policy_ = std::make_unique<RecordIndex>(std::move(next));
  return Response{true, c.object, {}};
}

Response VSwitch::Counters() const {
  const WorkerCounters c = dp_->Counters();
  std::vector<std::pair<uint16_t, std::string>> ports;
  for (const config::PortSpec& p : config_.ports) ports.emplace_back(p.index, p.name);
  json result = daemon::CountersJson(*dp_, c, ports);
  result["l2only_arp"] = c.l2only_arp;
  result["mss_clamped"] = c.mss_clamped;
  return Response{true, std::move(result), {}};
}

Response VSwitch::Trace(const daemon::TraceArgs& args) {
  if (!args.interface.empty()) return Response::Error("trace: no port \"" + args.interface + "\"");
  return daemon::TraceResponse(TraceFrame(dp_->tables(), dp_->pool(), args.port, args.frame));
}

std::unique_ptr<FrameCapture> VSwitch::OpenCapture(const daemon::CaptureArgs& args,
                                                   std::string* error) {
  if (!args.interface.empty()) {
    *error = "no port \"" + args.interface + "\"";
    return nullptr;
  }
  auto cap = std::make_unique<PortCapture>();
  if (!cap->Start(*dp_, args.port, args.file, 65535, error)) return nullptr;
  return cap;
}

nlohmann::json VSwitch::MetricsJson() {
  return {{"counters", Counters().result},
          {"policy", {{"generation", dp_->tables().snapshot()->generation}}}};
}

Response VSwitch::Get(const daemon::GetArgs& args) const {
  if (args.kind == config::Kind::kPortAcl) return Response{true, PortAclsWithMeters(), {}};
  if (args.kind != config::Kind::kLookupRecord)
    return Response{true, config::KindToJson(policy_->rest(), args.kind), {}};
  json records = json::array();
  policy_->ForEach([&](const LookupRecord& r) { records.push_back(config::ToJson(r)); });
  return Response{true, std::move(records), {}};
}

// Get-VMNetworkAdapterAcl: each Meter rule with what the workers counted
// for it (both directions of a Both rule, added).
json VSwitch::PortAclsWithMeters() const {
  const std::vector<PortAcl>& acls = policy_->rest().port_acls;
  json out = config::KindToJson(policy_->rest(), config::Kind::kPortAcl);
  bool any = false;
  for (const PortAcl& a : acls) any |= a.action == AclAction::kMeter;
  if (!any) return out;
  const WorkerCounters c = dp_->Counters();
  for (size_t i = 0; i < acls.size(); ++i) {
    if (acls[i].action != AclAction::kMeter) continue;
    uint64_t packets = 0, bytes = 0;
    for (PortAclTable::Dir d : {PortAclTable::kIn, PortAclTable::kOut}) {
      const uint16_t slot = dp_->tables().MeterSlot(acls[i], d);
      if (slot == kNoMeter) continue;
      packets += c.acl_meter_packets[slot];
      bytes += c.acl_meter_bytes[slot];
    }
    out[i]["metered_packets"] = packets;
    out[i]["metered_bytes"] = bytes;
  }
  return out;
}

void VSwitch::RegisterOperations() {
  daemon::Operations& ops = shell_.operations();
  ops.set_port_by_name([this](std::string_view name) { return PortByName(name); });
  ops.Add<daemon::NoArgs>("apply", [this](const daemon::NoArgs&) {
    std::string error;
    if (!Reload(&error)) return Response::Error(error);
    return Response{true, {{"files", config_.files}, {"lookup_records", policy_->size()}}, {}};
  });
  ops.Add<daemon::GetArgs>("get", [this](const daemon::GetArgs& a) { return Get(a); });
  for (const char* op : {"new", "set", "remove"})
    ops.Add<ChangeArgs>(op, [this](const ChangeArgs& a) { return HandleChange(a.change); });
  ops.Add<daemon::NoArgs>("counters", [this](const daemon::NoArgs&) { return Counters(); });
  ops.Add<daemon::TraceArgs>("trace", [this](const daemon::TraceArgs& a) { return Trace(a); });
  captures_.Register(ops);
}

}  // namespace hnv::vswitch
