#include "config/store/store_state.h"

namespace hnv::store {

using Kind = Layout::Key::Kind;

bool StoreState::Policy(Kind kind) const {
  return kind == Kind::kGeneration || kind == Kind::kHost || kind == Kind::kTenantSpec ||
         kind == Kind::kVm || kind == Kind::kPlacement;
}

void StoreState::Put(const KeyValue& kv) {
  const Layout::Key k = layout_.Parse(kv.key);
  if (kv.mod_revision > revision) revision = kv.mod_revision;
  if (keep_raw_ && Policy(k.kind)) raw_[kv.key] = Raw{kv.value, kv.mod_revision};
  bad.erase(kv.key);
  std::string error;
  auto refuse = [&](const std::string& why) { bad[kv.key] = why; };
  switch (k.kind) {
    case Kind::kGeneration: {
      std::optional<GenerationDoc> g = GenerationFromText(kv.value, &error);
      if (!g) return refuse(error);
      generation = g->number;
      generation_mod_revision = kv.mod_revision;
      return;
    }
    case Kind::kHost: {
      std::optional<HostDoc> d = HostFromJson(kv.value, &error);
      if (d && d->name != k.host) error = "name: \"" + d->name + "\" is not the key's " + k.host;
      if (!error.empty()) {
        hosts.erase(k.host);
        return refuse(error);
      }
      hosts[k.host] = std::move(*d);
      return;
    }
    case Kind::kTenantSpec: {
      std::optional<TenantDoc> d = TenantFromJson(kv.value, &error);
      if (d && d->name != k.tenant) error = "name: \"" + d->name + "\" is not the key's " + k.tenant;
      if (!error.empty()) {
        tenants.erase(k.tenant);
        return refuse(error);
      }
      tenants[k.tenant] = std::move(*d);
      return;
    }
    case Kind::kVm: {
      std::optional<VmDoc> d = VmFromJson(kv.value, &error);
      if (d && d->name != k.vm) error = "name: \"" + d->name + "\" is not the key's " + k.vm;
      if (d && error.empty() && d->tenant != k.tenant)
        error = "tenant: \"" + d->tenant + "\" is not the key's " + k.tenant;
      EraseVm(k.tenant, k.vm);
      if (!error.empty()) return refuse(error);
      IndexVm(*d, true);
      vms[k.tenant][k.vm] = std::move(*d);
      return;
    }
    case Kind::kPlacement:
      placement[k.host][k.tenant].insert(k.vm);
      return;
    case Kind::kLearned: {
      std::optional<LearnedDoc> d = LearnedFromJson(kv.value, &error);
      if (d && (d->host != k.host || d->record.vsid != k.vsid || d->record.ca != k.ca))
        error = "the record is not the key's (" + k.host + ", " + std::to_string(k.vsid) + ", " +
                k.ca.ToString() + ")";
      if (!error.empty()) {
        learned.erase(kv.key);
        return refuse(error);
      }
      learned[kv.key] = std::move(*d);
      return;
    }
    case Kind::kStatus: {
      std::optional<StatusDoc> d = StatusFromJson(kv.value, &error);
      if (!d) {
        status.erase(k.host);
        return refuse(error);
      }
      status[k.host] = std::move(*d);
      return;
    }
    case Kind::kUnknown:
      return refuse("not a key of the store's layout");
  }
}

void StoreState::Erase(const std::string& key) {
  const Layout::Key k = layout_.Parse(key);
  raw_.erase(key);
  bad.erase(key);
  switch (k.kind) {
    case Kind::kGeneration:
      generation = 0;
      generation_mod_revision = 0;
      return;
    case Kind::kHost: hosts.erase(k.host); return;
    case Kind::kTenantSpec: tenants.erase(k.tenant); return;
    case Kind::kVm: EraseVm(k.tenant, k.vm); return;
    case Kind::kPlacement:
      if (auto h = placement.find(k.host); h != placement.end()) {
        if (auto t = h->second.find(k.tenant); t != h->second.end()) {
          t->second.erase(k.vm);
          if (t->second.empty()) h->second.erase(t);
        }
        if (h->second.empty()) placement.erase(h);
      }
      return;
    case Kind::kLearned: learned.erase(key); return;
    case Kind::kStatus: status.erase(k.host); return;
    case Kind::kUnknown: return;
  }
}

void StoreState::EraseRange(const std::string& key, const std::string& range_end) {
  // Collect first: Erase changes the maps the keys come from.
  std::vector<std::string> keys;
  auto in = [&](const std::string& k) {
    return range_end.empty() ? k == key : k >= key && k < range_end;
  };
  const Layout& l = layout_;
  if (in(l.Generation()) && generation_mod_revision != 0) keys.push_back(l.Generation());
  for (const auto& [name, d] : hosts)
    if (in(l.Host(name))) keys.push_back(l.Host(name));
  for (const auto& [name, d] : tenants)
    if (in(l.TenantSpec(name))) keys.push_back(l.TenantSpec(name));
  for (const auto& [tenant, m] : vms)
    for (const auto& [name, d] : m)
      if (in(l.Vm(tenant, name))) keys.push_back(l.Vm(tenant, name));
  for (const auto& [host, m] : placement)
    for (const auto& [tenant, names] : m)
      for (const std::string& vm : names)
        if (in(l.Placement(host, tenant, vm))) keys.push_back(l.Placement(host, tenant, vm));
  for (const auto& [k, d] : learned)
    if (in(k)) keys.push_back(k);
  for (const auto& [host, d] : status)
    if (in(l.Status(host))) keys.push_back(l.Status(host));
  for (const auto& [k, why] : bad)
    if (in(k)) keys.push_back(k);
  for (const std::string& k : keys) Erase(k);
}

void StoreState::IndexVm(const VmDoc& vm, bool add) {
  auto edit = [add](auto& map, const auto& key, const std::string& value) {
    if (add) {
      map[key].insert(value);
      return;
    }
    const auto it = map.find(key);
    if (it == map.end()) return;
    it->second.erase(value);
    if (it->second.empty()) map.erase(it);
  };
  edit(vm_names, vm.name, vm.tenant);
  if (!vm.port.empty()) edit(port_users, std::make_pair(vm.host, vm.port), vm.tenant + "/" + vm.name);
  if (add) {
    host_vms[vm.host][vm.tenant].insert(vm.name);
    return;
  }
  if (auto h = host_vms.find(vm.host); h != host_vms.end()) {
    edit(h->second, vm.tenant, vm.name);
    if (h->second.empty()) host_vms.erase(h);
  }
}

void StoreState::EraseVm(const std::string& tenant, const std::string& name) {
  const auto it = vms.find(tenant);
  if (it == vms.end()) return;
  const auto vm = it->second.find(name);
  if (vm == it->second.end()) return;
  IndexVm(vm->second, false);
  it->second.erase(vm);
  if (it->second.empty()) vms.erase(it);
}

const VmDoc* StoreState::FindVm(const std::string& name) const {
  const auto n = vm_names.find(name);
  if (n == vm_names.end()) return nullptr;
  return &vms.at(*n->second.begin()).at(name);
}

EtcdStatus LoadState(EtcdClient& client, StoreState* state) {
  RangeResult all = client.RangePrefix(state->layout().root());
  if (!all.status.ok()) return all.status;
  *state = StoreState(state->layout(), state->keep_raw());
  for (const KeyValue& kv : all.kvs) state->Put(kv);
  state->revision = all.revision;
  return {};
}

}  // namespace hnv::store
