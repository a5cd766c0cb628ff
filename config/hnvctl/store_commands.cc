#include "config/hnvctl/store_commands.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include "config/hnvctl/command.h"
#include "config/hnvctl/run_command.h"
#include "config/policy_ops.h"
#include "config/store/host_policy.h"
#include "config/store/roles.h"
#include "config/store/store_status.h"
#include "config/store/writer.h"

namespace hnv::ctl {
namespace {

using config::Request;
using nlohmann::json;
using store::WriteResult;
using Outcome = WriteResult::Outcome;
using Clock = std::chrono::steady_clock;

std::string JoinSet(const std::set<std::string>& s) {
  std::string out;
  for (const std::string& x : s) out += (out.empty() ? "" : ", ") + x;
  return out.empty() ? "none" : out;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// Takes "--NAME VALUE" or "--NAME=VALUE" out of `words`. nullopt: absent;
// "" with *bad: present without a value.
std::optional<std::string> TakeOption(std::vector<std::string>* words, const std::string& name,
                                      bool* bad) {
  for (size_t i = 0; i < words->size(); ++i) {
    const std::string& w = (*words)[i];
    if (w.rfind(name + "=", 0) == 0) {
      std::string v = w.substr(name.size() + 1);
      words->erase(words->begin() + static_cast<long>(i));
      return v;
    }
    if (w == name) {
      if (i + 1 >= words->size()) {
        *bad = true;
        words->erase(words->begin() + static_cast<long>(i));
        return "";
      }
      std::string v = (*words)[i + 1];
      words->erase(words->begin() + static_cast<long>(i), words->begin() + static_cast<long>(i) + 2);
      return v;
    }
  }
  return std::nullopt;
}

bool TakeFlag(std::vector<std::string>* words, const std::string& name) {
  for (size_t i = 0; i < words->size(); ++i) {
    if ((*words)[i] == name) {
      words->erase(words->begin() + static_cast<long>(i));
      return true;
    }
  }
  return false;
}

class StoreSession {
 public:
  StoreSession(const StoreArgs& args, bool as_json) : args_(args), as_json_(as_json) {}

  // Connects; on failure prints and returns the exit code.
  int Connect() {
    std::string error;
    std::optional<store::EtcdOptions> eo = store::ParseEndpoints(args_.url, &error);
    if (!eo) return Fail(kExitUsage, "--store: " + error);
    eo->ca_file = args_.ca_file;
    eo->cert_file = args_.cert_file;
    eo->key_file = args_.key_file;
    eo->user = args_.user;
    eo->password = args_.password;
    if (!eo->ca_file.empty()) eo->tls = true;
    client_ = store::EtcdClient::Connect(*eo, &error);
    if (!client_) return Fail(kExitError, "--store " + args_.url + ": " + error);
    layout_ = args_.root.empty() ? store::Layout() : store::Layout(args_.root);
    writer_ = std::make_unique<store::StoreWriter>(client_.get(), layout_);
    writer_->set_retries(args_.retries);
    return kExitOk;
  }

  // Prints what a write did; kExitOk unless it was refused or failed.
  int Report(const WriteResult& r, const std::string& what) {
    switch (r.outcome) {
      case Outcome::kApplied:
        if (as_json_) return kExitOk;
        std::cout << what << ": generation " << r.generation << " written (revision "
                  << r.revision << "): " << r.puts << " keys put, " << r.deletes
                  << " deleted; tenants " << JoinSet(r.tenants) << "; hosts " << JoinSet(r.hosts)
                  << "\n";
        return kExitOk;
      case Outcome::kUnchanged:
        if (!as_json_)
          std::cout << what << ": nothing to change (generation " << r.generation << ")\n";
        return kExitOk;
      case Outcome::kInvalid:
        for (const config::ConfigError& e : r.errors) Fail(kExitError, e.ToString());
        Fail(kExitError, what + ": refused, nothing was written");
        return kExitError;
      case Outcome::kConflict:
      case Outcome::kFailed:
        return Fail(kExitError, r.message);
    }
    return kExitError;
  }

  // --wait: until every host the write concerns published it.
  int Wait(const WriteResult& r, std::chrono::milliseconds timeout) {
    if (r.outcome != Outcome::kApplied || r.hosts.empty()) return kExitOk;
    std::map<std::string, store::HostReached> reached;
    std::string error;
    const bool all = store::WaitForHosts(*client_, layout_, r.hosts, r.revision, timeout,
                                         &reached, &error);
    if (!error.empty()) return Fail(kExitError, "--wait: " + error);
    int rc = all ? kExitOk : kExitError;
    std::string applied;
    for (const auto& [host, h] : reached) {
      if (!h.status) {
        Fail(kExitError, "--wait: host " + host + " did not apply revision " +
                             std::to_string(r.revision) + " within " +
                             std::to_string(timeout.count() / 1000) +
                             " s (is its hnv-vswitch/hnv-gateway --store running?)");
        continue;
      }
      if (!h.status->errors.empty()) {
        rc = kExitError;
        for (const std::string& e : h.status->errors) Fail(kExitError, "host " + host + ": " + e);
        continue;
      }
      applied += (applied.empty() ? "" : ", ") + host + " " + std::to_string(h.after.count()) + " ms";
    }
    if (!as_json_ && !applied.empty()) std::cout << "applied by " << applied << "\n";
    return rc;
  }

  // The answers `get` (the host's computed policy) and new/set/remove (a
  // write) need, for RunCommand.
  std::optional<json> Ask(const Request& request, int* exit_code, bool wait,
                          std::chrono::milliseconds wait_timeout) {
    if (request.op == "get") {
      if (args_.host.empty()) {
        *exit_code = Fail(kExitUsage,
                          "get: give --host NAME: the store shows the policy as that host computes it");
        return std::nullopt;
      }
      if (!state_) {
        state_ = std::make_unique<store::StoreState>(layout_);
        if (const store::EtcdStatus st = store::LoadState(*client_, state_.get()); !st.ok()) {
          *exit_code = Fail(kExitError, "cannot read the store: " + st.ToString());
          return std::nullopt;
        }
      }
      const std::optional<store::HostPolicy> hp = store::ComputeHostPolicy(*state_, args_.host);
      if (!hp) {
        *exit_code = Fail(kExitError, "get: no host named " + args_.host + " in the store");
        return std::nullopt;
      }
      const std::optional<config::Kind> kind =
          config::ParseKind(request.args.value("kind", std::string()));
      return config::KindToJson(hp->policy, kind.value_or(config::Kind::kLookupRecord));
    }
    config::Change change;
    if (const std::string e = config::ParseChange(request.op, request.args, &change); !e.empty()) {
      *exit_code = Fail(kExitError, e);
      return std::nullopt;
    }
    const std::string what = change.op + " " + config::KindName(change.kind);
    const WriteResult r = writer_->ApplyChange(change, args_.host);
    *exit_code = Report(r, what);
    if (*exit_code == kExitOk && wait) *exit_code = Wait(r, wait_timeout);
    if (*exit_code != kExitOk) return std::nullopt;
    return change.op == "remove" ? json() : change.object;
  }

  int Status() {
    store::StoreStatus s;
    if (const store::EtcdStatus st = store::ReadStoreStatus(*client_, layout_, &s); !st.ok())
      return Fail(kExitError, "cannot read the store: " + st.ToString());
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    std::set<std::string> names;
    for (const auto& [n, h] : s.hosts) names.insert(n);
    for (const auto& [n, st] : s.status) names.insert(n);
    if (as_json_) {
      json hosts = json::array();
      for (const std::string& n : names) {
        json h{{"host", n}};
        if (const auto d = s.hosts.find(n); d != s.hosts.end())
          h["role"] = d->second.role == store::HostDoc::Role::kGateway ? "gateway" : "host";
        if (const auto st = s.status.find(n); st != s.status.end())
          h["status"] = json::parse(store::ToJson(st->second));
        else
          h["status"] = nullptr;
        hosts.push_back(std::move(h));
      }
      std::cout << json{{"generation", s.generation}, {"revision", s.revision}, {"hosts", hosts}}
                       .dump(2)
                << "\n";
      return kExitOk;
    }
    std::printf("store %s: generation %llu (revision %lld), %zu hosts\n", args_.url.c_str(),
                static_cast<unsigned long long>(s.generation), static_cast<long long>(s.revision),
                s.hosts.size());
    std::printf("%-16s %-8s %-10s %-9s %-8s %-8s %s\n", "HOST", "ROLE", "GENERATION", "REVISION",
                "RECORDS", "AGE", "STATE");
    std::vector<std::string> notes;
    for (const std::string& n : names) {
      const auto d = s.hosts.find(n);
      const char* role = d == s.hosts.end()                                 ? "?"
                         : d->second.role == store::HostDoc::Role::kGateway ? "gateway"
                                                                            : "host";
      const auto st = s.status.find(n);
      if (st == s.status.end()) {
        std::printf("%-16s %-8s %-10s %-9s %-8s %-8s %s\n", n.c_str(), role, "-", "-", "-", "-",
                    "no status (down, or cut from the store)");
        continue;
      }
      const store::StatusDoc& sd = st->second;
      const std::string state = !sd.errors.empty()                ? "errors"
                                : sd.generation == s.generation ? "current"
                                                                : "behind";
      char age[32];
      std::snprintf(age, sizeof(age), "%.1f s", static_cast<double>(now_ms - sd.time_ms) / 1000);
      std::printf("%-16s %-8s %-10llu %-9lld %-8llu %-8s %s%s\n", n.c_str(), role,
                  static_cast<unsigned long long>(sd.generation),
                  static_cast<long long>(sd.revision), static_cast<unsigned long long>(sd.records),
                  age, state.c_str(), d == s.hosts.end() ? " (not in the store)" : "");
      for (const std::string& e : sd.errors) notes.push_back(n + ": " + e);
    }
    for (const std::string& note : notes) std::printf("  %s\n", note.c_str());
    for (const auto& [key, why] : s.bad) std::printf("  unreadable %s: %s\n", key.c_str(), why.c_str());
    return kExitOk;
  }

  int InitRoles(std::vector<std::string> words) {
    bool bad = false;
    const std::optional<std::string> hosts = TakeOption(&words, "--hosts", &bad);
    const std::optional<std::string> writers = TakeOption(&words, "--writers", &bad);
    const std::optional<std::string> root_pw = TakeOption(&words, "--root-password", &bad);
    if (bad || words.size() != 2 || words[1] != "init")
      return Fail(kExitUsage,
                  "store: usage: hnvctl --store URL store init --hosts A,B,... [--writers W,...] "
                  "[--root-password P]");
    store::RolesPlan plan;
    if (hosts) plan.hosts = SplitList(*hosts);
    if (writers) plan.writers = SplitList(*writers);
    if (root_pw) plan.root_password = *root_pw;
    std::vector<std::string> done;
    const store::EtcdStatus st = store::InitRoles(*client_, layout_, plan, &done);
    for (const std::string& d : done) std::cout << d << "\n";
    if (!st.ok()) return Fail(kExitError, "store init: " + st.ToString());
    return kExitOk;
  }

  store::StoreWriter& writer() { return *writer_; }

 private:
  const StoreArgs& args_;
  bool as_json_;
  std::unique_ptr<store::EtcdClient> client_;
  store::Layout layout_;
  std::unique_ptr<store::StoreWriter> writer_;
  std::unique_ptr<store::StoreState> state_;  // for get: read once
};

}  // namespace

int RunStoreCommand(const StoreArgs& args, std::vector<std::string> words, bool as_json,
                    std::optional<int> timeout_ms) {
  if (words.size() == 1 && words[0].find_first_of(" \t\n") != std::string::npos)
    words = SplitCommandLine(words[0]);
  if (words.empty()) return Fail(kExitUsage, "no command (try hnvctl --help)");
  bool bad = false;
  const bool wait = TakeFlag(&words, "--wait");
  const std::optional<std::string> wait_s = TakeOption(&words, "--wait-timeout", &bad);
  std::chrono::milliseconds wait_timeout(30'000);
  if (wait_s) {
    if (bad || wait_s->empty() || wait_s->size() > 6 ||
        wait_s->find_first_not_of("0123456789") != std::string::npos)
      return Fail(kExitUsage, "--wait-timeout needs a number of seconds");
    wait_timeout = std::chrono::seconds(std::stoi(*wait_s));
  }
  const std::string cmd = words[0];
  StoreSession s(args, as_json);
  auto connect = [&] { return s.Connect(); };

  if (cmd == "apply") {
    if (words.size() < 2)
      return Fail(kExitUsage, "apply: usage: hnvctl --store URL apply FILE... [--wait]");
    if (int rc = connect(); rc != kExitOk) return rc;
    const WriteResult r = s.writer().ApplyFiles({words.begin() + 1, words.end()});
    int rc = s.Report(r, "apply");
    if (rc == kExitOk && wait) rc = s.Wait(r, wait_timeout);
    return rc;
  }
  if (cmd == "migrate") {
    const std::optional<std::string> to = TakeOption(&words, "--to", &bad);
    const std::optional<std::string> port = TakeOption(&words, "--port", &bad);
    if (bad || !to || to->empty() || words.size() != 2)
      return Fail(kExitUsage, "migrate: usage: hnvctl --store URL migrate VM --to HOST [--port PORT] [--wait]");
    if (int rc = connect(); rc != kExitOk) return rc;
    const WriteResult r = s.writer().MigrateVm(words[1], *to, port.value_or(""));
    int rc = s.Report(r, "migrate " + words[1] + " to " + *to);
    if (rc == kExitOk && wait) rc = s.Wait(r, wait_timeout);
    return rc;
  }
  if (cmd == "status") {
    if (words.size() != 1) return Fail(kExitUsage, "status: takes no arguments");
    if (int rc = connect(); rc != kExitOk) return rc;
    return s.Status();
  }
  if (cmd == "delete-tenant" || cmd == "delete-host") {
    if (words.size() != 2) return Fail(kExitUsage, cmd + ": usage: hnvctl --store URL " + cmd + " NAME");
    if (int rc = connect(); rc != kExitOk) return rc;
    const WriteResult r = cmd == "delete-tenant" ? s.writer().RemoveTenant(words[1])
                                                 : s.writer().RemoveHost(words[1]);
    int rc = s.Report(r, cmd + " " + words[1]);
    if (rc == kExitOk && wait) rc = s.Wait(r, wait_timeout);
    return rc;
  }
  if (cmd == "store") {
    if (int rc = connect(); rc != kExitOk) return rc;
    return s.InitRoles(words);
  }
  ParseOutcome parsed = ParseCommand(words);
  if (!parsed.command) return Fail(parsed.exit_code, parsed.error);
  const Command& c = *parsed.command;
  const std::string& op = c.request.op;
  if (op != "get" && op != "new" && op != "set" && op != "remove" && op != "show")
    return Fail(kExitUsage, c.label + " asks a running daemon: use --socket, not --store");
  if (int rc = connect(); rc != kExitOk) return rc;
  return RunCommand(
      c,
      [&](const Request& r, int, int* exit_code) {
        return s.Ask(r, exit_code, wait, wait_timeout);
      },
      as_json, timeout_ms.value_or(c.timeout_ms));
}

}  // namespace hnv::ctl
