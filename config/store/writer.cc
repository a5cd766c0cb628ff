#include "config/store/writer.h"

#include <memory>

#include "config/store/changes.h"
#include "config/store/import.h"
#include "config/store/validate_store.h"

namespace hnv::store {

using Outcome = WriteResult::Outcome;

std::string WriteResult::ToString() const {
  std::string s;
  for (const config::ConfigError& e : errors) s += (s.empty() ? "" : "\n") + e.ToString();
  if (!message.empty()) s += (s.empty() ? "" : "\n") + message;
  return s;
}

StoreWriter::StoreWriter(EtcdClient* client, Layout layout)
    : client_(client), state_(std::move(layout), /*keep_raw=*/true) {}

EtcdStatus StoreWriter::Refresh() {
  EtcdStatus st = LoadState(*client_, &state_);
  loaded_ = st.ok();
  return st;
}

WriteResult StoreWriter::Write(const std::function<Made(const StoreState&)>& make,
                               const std::string& what) {
  for (int attempt = 0;; ++attempt) {
    if (!loaded_) {
      const EtcdStatus st = Refresh();
      if (!st.ok()) {
        WriteResult r;
        r.message = what + ": cannot read the store: " + st.ToString();
        return r;
      }
    }
    Made m = make(state_);
    if (!m.errors.empty()) {
      WriteResult r;
      r.outcome = Outcome::kInvalid;
      r.errors = std::move(m.errors);
      r.generation = state_.generation;
      return r;
    }
    WriteResult r = Commit(m.edit, m.origins, what);
    if (r.outcome != Outcome::kConflict || attempt >= retries_) return r;
  }
}

WriteResult StoreWriter::Commit(const StoreEdit& e, const OriginTable* origins,
                                const std::string& what) {
  const Layout& L = state_.layout();
  const auto& raw = state_.raw();
  // key -> new value, or nullopt to delete; one entry per key (etcd refuses
  // to touch a key twice in a transaction).
  std::map<std::string, std::optional<std::string>> changes;
  auto put = [&](const std::string& key, std::string value) {
    const auto it = raw.find(key);
    if (it != raw.end() && it->second.value == value) {
      changes.erase(key);
      return;
    }
    changes[key] = std::move(value);
  };
  auto del = [&](const std::string& key) {
    if (raw.count(key)) changes[key] = std::nullopt;
    else changes.erase(key);
  };
  auto del_vm = [&](const std::string& tenant, const VmDoc& vm) {
    del(L.Vm(tenant, vm.name));
    del(L.Placement(vm.host, tenant, vm.name));
  };
  for (const std::string& name : e.remove_hosts) del(L.Host(name));
  for (const auto& [name, doc] : e.hosts) put(L.Host(name), ToJson(doc));
  for (const std::string& name : e.remove_tenants) {
    del(L.TenantSpec(name));
    if (const auto vms = state_.vms.find(name); vms != state_.vms.end())
      for (const auto& [vm_name, vm] : vms->second) del_vm(name, vm);
  }
  for (const auto& [name, doc] : e.tenants) put(L.TenantSpec(name), ToJson(doc));
  for (const std::string& tenant : e.replace_vms) {
    const auto vms = state_.vms.find(tenant);
    if (vms == state_.vms.end()) continue;
    const auto keep = e.vms.find(tenant);
    for (const auto& [name, vm] : vms->second)
      if (keep == e.vms.end() || !keep->second.count(name)) del_vm(tenant, vm);
  }
  for (const auto& [tenant, vms] : e.vms) {
    const auto current = state_.vms.find(tenant);
    for (const auto& [name, doc] : vms) {
      const VmDoc* old = nullptr;
      if (current != state_.vms.end())
        if (const auto it = current->second.find(name); it != current->second.end()) old = &it->second;
      if (!doc) {
        if (old != nullptr) del_vm(tenant, *old);
        continue;
      }
      if (old != nullptr && old->host != doc->host) del(L.Placement(old->host, tenant, name));
      put(L.Vm(tenant, name), ToJson(*doc));
      put(L.Placement(doc->host, tenant, name), "");
    }
  }

  WriteResult r;
  r.generation = state_.generation;
  if (changes.empty()) {
    r.outcome = Outcome::kUnchanged;
    return r;
  }
  // What changed, and which hosts carried it before. The generation's
  // manifest names the ranges the transaction touches, for the hosts'
  // mirrors (store_mirror.h).
  GenerationDoc next{state_.generation + 1, true, {}, {}, {}};
  for (const auto& [key, value] : changes) {
    const Layout::Key k = L.Parse(key);
    if (k.kind == Layout::Key::Kind::kPlacement) next.placement.insert(k.host);
    if (k.kind == Layout::Key::Kind::kHost) next.hosts.insert(k.host);
    if (k.kind == Layout::Key::Kind::kTenantSpec || k.kind == Layout::Key::Kind::kVm)
      next.tenants.insert(k.tenant);
    if (!k.tenant.empty()) r.tenants.insert(k.tenant);
    if (k.kind == Layout::Key::Kind::kHost) r.hosts.insert(k.host);
    (value ? r.puts : r.deletes) += 1;
  }
  std::set<std::string> touched_hosts = r.hosts;
  // The hosts whose policy the change reaches: those that carry a changed
  // tenant, or a tenant with a VM on a changed host (its PA is in their
  // records), before or after the change.
  auto reached = [&] {
    for (const std::string& t : r.tenants)
      for (const std::string& h : HostsOfTenant(state_, t)) r.hosts.insert(h);
    for (const std::string& host : touched_hosts)
      if (const auto vms = state_.host_vms.find(host); vms != state_.host_vms.end())
        for (const auto& [t, names] : vms->second)
          for (const std::string& h : HostsOfTenant(state_, t)) r.hosts.insert(h);
  };
  reached();

  // Apply to our copy, validate, and undo unless written.
  std::vector<std::pair<std::string, std::optional<StoreState::Raw>>> undo;
  for (const auto& [key, value] : changes) {
    const auto old = raw.find(key);
    undo.emplace_back(key, old == raw.end() ? std::nullopt : std::optional(old->second));
    if (value)
      state_.Put(KeyValue{key, *value, 0, 0, 0, 0});
    else
      state_.Erase(key);
  }
  auto revert = [&] {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      if (it->second)
        state_.Put(KeyValue{it->first, it->second->value, 0, it->second->mod_revision, 0, 0});
      else
        state_.Erase(it->first);
    }
  };
  reached();
  ValidationScope scope;
  scope.all = false;
  scope.tenants = r.tenants;
  scope.hosts = touched_hosts;
  r.errors = ValidateStore(state_, scope, origins);
  if (!r.errors.empty()) {
    revert();
    r.outcome = Outcome::kInvalid;
    return r;
  }

  std::vector<TxnOp> ops;
  ops.reserve(changes.size() + 1);
  for (const auto& [key, value] : changes)
    ops.push_back(value ? TxnOp::Put(key, *value) : TxnOp::Delete(key));
  ops.push_back(TxnOp::Put(L.Generation(), ToText(next)));
  TxnResult t = client_->Txn({Compare::ModRevision(L.Generation(), state_.generation_mod_revision)},
                             ops, {TxnOp::Get(L.Generation())});
  if (!t.status.ok() || !t.succeeded) {
    revert();
    if (!t.status.ok()) {
      r.outcome = Outcome::kFailed;
      r.message = what + ": nothing was written: " + t.status.ToString();
      if (t.status.code == EtcdStatus::Code::kInvalid)
        r.message += " (the change is " + std::to_string(ops.size()) +
                     " operations in one transaction: etcd's --max-txn-ops and "
                     "--max-request-bytes must allow it)";
      return r;
    }
    std::string now = "gone";
    if (!t.ranges.empty() && !t.ranges[0].kvs.empty()) {
      std::string why;
      const std::optional<GenerationDoc> g = GenerationFromText(t.ranges[0].kvs[0].value, &why);
      now = (g ? std::to_string(g->number) : "\"" + t.ranges[0].kvs[0].value + "\"") +
            " (revision " + std::to_string(t.ranges[0].kvs[0].mod_revision) + ")";
    }
    r.outcome = Outcome::kConflict;
    r.message = what + ": conflict: another writer changed the store after it was read "
                "(generation " + std::to_string(state_.generation) + " read, now " + now +
                "); nothing was written: read the store again and retry";
    loaded_ = false;
    return r;
  }
  for (const auto& [key, value] : changes)
    if (value) state_.Put(KeyValue{key, *value, 0, t.revision, 0, 0});
  state_.Put(KeyValue{L.Generation(), ToText(next), 0, t.revision, 0, 0});
  state_.revision = t.revision;
  r.outcome = Outcome::kApplied;
  r.generation = next.number;
  r.revision = t.revision;
  return r;
}

WriteResult StoreWriter::ApplyFiles(const std::vector<std::string>& files) {
  std::shared_ptr<ImportResult> held;
  return Write(
      [&](const StoreState& s) {
        held = std::make_shared<ImportResult>(ImportFiles(files, s));
        Made m;
        m.errors = held->errors;
        m.origins = &held->origins;
        m.edit.hosts = held->hosts;
        m.edit.tenants = held->tenants;
        for (const auto& [tenant, vms] : held->vms)
          for (const auto& [name, vm] : vms) m.edit.vms[tenant][name] = vm;
        for (const auto& [name, t] : held->tenants) m.edit.replace_vms.insert(name);
        return m;
      },
      "apply");
}

WriteResult StoreWriter::ApplyChange(const config::Change& change, const std::string& host) {
  return Write([&](const StoreState& s) { return MakeChange(s, change, host); },
               change.op + " " + config::KindName(change.kind));
}

namespace {

StoreWriter::Made Refused(const std::string& what, std::string message) {
  StoreWriter::Made m;
  m.errors.push_back(config::ConfigError{what, 0, "", std::move(message)});
  return m;
}

}  // namespace

WriteResult StoreWriter::MigrateVm(const std::string& vm, const std::string& to_host,
                                   const std::string& port) {
  return Write(
      [&](const StoreState& s) {
        const VmDoc* doc = s.FindVm(vm);
        if (doc == nullptr) return Refused("migrate", "no VM named " + vm + " in the store");
        if (!s.hosts.count(to_host)) return Refused("migrate", "no host named " + to_host + " in the store");
        VmDoc moved = *doc;
        moved.host = to_host;
        if (!port.empty()) moved.port = port;
        Made m;
        m.edit.vms[moved.tenant][moved.name] = std::move(moved);
        return m;
      },
      "migrate " + vm);
}

WriteResult StoreWriter::RemoveTenant(const std::string& tenant) {
  return Write(
      [&](const StoreState& s) {
        if (!s.tenants.count(tenant) && !s.vms.count(tenant))
          return Refused("remove tenant", "no tenant named " + tenant + " in the store");
        Made m;
        m.edit.remove_tenants.insert(tenant);
        return m;
      },
      "remove tenant " + tenant);
}

WriteResult StoreWriter::RemoveHost(const std::string& host) {
  return Write(
      [&](const StoreState& s) {
        if (!s.hosts.count(host))
          return Refused("remove host", "no host named " + host + " in the store");
        Made m;
        m.edit.remove_hosts.insert(host);
        return m;
      },
      "remove host " + host);
}

}  // namespace hnv::store
