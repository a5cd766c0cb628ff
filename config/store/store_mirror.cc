#include "config/store/store_mirror.h"

#include <sys/eventfd.h>
#include <unistd.h>

namespace hnv::store {
StoreMirror::StoreMirror(EtcdClient* client, Layout layout, std::string host)
    : client_(client), host_(std::move(host)), state_(std::move(layout)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

StoreMirror::~StoreMirror() {
  if (stream_) stream_->Stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void StoreMirror::OnUpdate(WatchUpdate& u) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(u));
  }
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  cv_.notify_one();
}

void StoreMirror::Note(const Range& range, const std::string& key) {
  switch (range.role) {
    case Range::Role::kGeneration:
      changes_.generation = true;
      return;
    case Range::Role::kHosts:
      changes_.hosts.insert(state_.layout().Parse(key).host);
      return;
    case Range::Role::kLearned:
      changes_.learned_vsids.insert(state_.layout().Parse(key).vsid);
      return;
    case Range::Role::kPlacement:
      changes_.placement = true;
      return;
    case Range::Role::kTenant:
      changes_.tenants.insert(range.tenant);
      return;
  }
}

void StoreMirror::PutLocal(const KeyValue& kv) {
  state_.Put(kv);
  changes_.learned_vsids.insert(state_.layout().Parse(kv.key).vsid);
}

void StoreMirror::EraseLocal(const std::string& key) {
  state_.Erase(key);
  changes_.learned_vsids.insert(state_.layout().Parse(key).vsid);
}

MirrorChanges StoreMirror::TakeChanges() {
  MirrorChanges out;
  std::swap(out, changes_);
  return out;
}

int64_t StoreMirror::Load(const Range& range, int64_t revision, EtcdStatus* status) {
  RangeResult r =
      range.end.empty() ? client_->Get(range.key, revision) : client_->RangePrefix(range.key, revision);
  *status = r.status;
  if (!r.status.ok()) return 0;
  state_.EraseRange(range.key, range.end);
  for (const KeyValue& kv : r.kvs) state_.Put(kv);
  if (r.revision > state_.revision) state_.revision = r.revision;
  if (range.role == Range::Role::kTenant) {
    tenant_revision_[range.tenant] = r.revision;
    changes_.tenants.insert(range.tenant);
  } else {
    changes_.everything = true;
  }
  const int64_t id = next_id_++;
  ranges_[id] = range;
  stream_->Watch(id, range.key, range.end, r.revision + 1);
  return id;
}

EtcdStatus StoreMirror::Start() {
  const Layout& L = state_.layout();
  if (stream_) stream_->Stop();
  stream_ = std::make_unique<WatchStream>(client_, [this](WatchUpdate& u) { OnUpdate(u); });
  state_ = StoreState(L);
  ranges_.clear();
  tenant_watch_.clear();
  tenant_revision_.clear();
  reload_.clear();
  missing_tenants_ = 0;
  // One revision for the whole first read: the generation's read fixes it.
  RangeResult g = client_->Get(L.Generation());
  if (!g.status.ok()) return g.status;
  const int64_t rev = g.revision;
  using Role = Range::Role;
  const Range fixed[] = {
      {Role::kGeneration, L.Generation(), "", ""},
      {Role::kHosts, L.HostsPrefix(), PrefixEnd(L.HostsPrefix()), ""},
      {Role::kLearned, L.LearnedPrefix(), PrefixEnd(L.LearnedPrefix()), ""},
      {Role::kPlacement, L.PlacementPrefix(host_), PrefixEnd(L.PlacementPrefix(host_)), ""},
  };
  EtcdStatus st;
  for (const Range& range : fixed)
    if (Load(range, rev, &st) == 0) return st;
  std::vector<std::string> tenants;
  if (const auto it = state_.placement.find(host_); it != state_.placement.end())
    for (const auto& [tenant, vms] : it->second) tenants.push_back(tenant);
  for (const std::string& tenant : tenants) {
    const Range range{Role::kTenant, L.TenantPrefix(tenant), PrefixEnd(L.TenantPrefix(tenant)), tenant};
    const int64_t id = Load(range, rev, &st);
    if (id == 0) return st;
    tenant_watch_[tenant] = id;
  }
  return {};
}

void StoreMirror::FollowPlacement(bool* changed) {
  const Layout& L = state_.layout();
  std::set<std::string> wanted;
  if (const auto it = state_.placement.find(host_); it != state_.placement.end())
    for (const auto& [tenant, vms] : it->second) wanted.insert(tenant);
  for (auto it = tenant_watch_.begin(); it != tenant_watch_.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    stream_->Cancel(it->second);
    ranges_.erase(it->second);
    state_.EraseRange(L.TenantPrefix(it->first), PrefixEnd(L.TenantPrefix(it->first)));
    tenant_revision_.erase(it->first);
    changes_.tenants.insert(it->first);
    it = tenant_watch_.erase(it);
    *changed = true;
  }
  missing_tenants_ = 0;
  for (const std::string& tenant : wanted) {
    if (tenant_watch_.count(tenant)) continue;
    const Range range{Range::Role::kTenant, L.TenantPrefix(tenant), PrefixEnd(L.TenantPrefix(tenant)),
                      tenant};
    EtcdStatus st;
    const int64_t id = Load(range, 0, &st);
    if (id == 0) {
      // Unreachable right now: the next Poll tries again.
      if (errors_.size() < kMaxErrors) errors_.push_back("tenant " + tenant + ": " + st.ToString());
      ++missing_tenants_;
      continue;
    }
    tenant_watch_[tenant] = id;
    *changed = true;
  }
}

void StoreMirror::RetryReads(bool* changed) {
  std::vector<Range> ranges;
  ranges.swap(reload_);
  bool placement = false;
  for (const Range& range : ranges) {
    EtcdStatus st;
    const int64_t id = Load(range, 0, &st);
    if (id == 0) {
      reload_.push_back(range);
      continue;
    }
    if (range.role == Range::Role::kTenant) tenant_watch_[range.tenant] = id;
    placement |= range.role == Range::Role::kPlacement;
    *changed = true;
  }
  if (placement || missing_tenants_ > 0) FollowPlacement(changed);
}

void StoreMirror::Apply(const WatchUpdate& u, bool* changed) {
  switch (u.kind) {
    case WatchUpdate::Kind::kConnected:
      return;
    case WatchUpdate::Kind::kDisconnected:
      ++disconnects_;
      disconnect_reason_ = u.reason;
      return;
    case WatchUpdate::Kind::kCanceled: {
      const auto it = ranges_.find(u.watch_id);
      if (errors_.size() < kMaxErrors)
        errors_.push_back("watch of " + (it != ranges_.end() ? it->second.key : std::string("?")) +
                          ": " + u.reason);
      return;
    }
    case WatchUpdate::Kind::kCompacted: {
      const auto it = ranges_.find(u.watch_id);
      if (it == ranges_.end()) return;
      // The events in between are gone: read the range whole again.
      ++resyncs_;
      const Range range = it->second;
      ranges_.erase(it);
      EtcdStatus st;
      const int64_t id = Load(range, 0, &st);
      if (id == 0) {
        if (errors_.size() < kMaxErrors) errors_.push_back("resync of " + range.key + ": " + st.ToString());
        reload_.push_back(range);  // the next Poll tries again
        return;
      }
      if (range.role == Range::Role::kTenant) tenant_watch_[range.tenant] = id;
      *changed = true;
      if (range.role == Range::Role::kPlacement) FollowPlacement(changed);
      return;
    }
    case WatchUpdate::Kind::kEvents: {
      const auto it = ranges_.find(u.watch_id);
      if (it == ranges_.end()) return;  // a tenant dropped meanwhile
      for (const WatchEvent& e : u.events) {
        if (e.is_delete)
          state_.Erase(e.kv.key);
        else
          state_.Put(e.kv);
        Note(it->second, e.kv.key);
        if (e.kv.mod_revision > state_.revision) state_.revision = e.kv.mod_revision;
      }
      if (it->second.role == Range::Role::kTenant)
        tenant_revision_[it->second.tenant] = u.events.back().kv.mod_revision;
      *changed = true;
      if (it->second.role == Range::Role::kPlacement) FollowPlacement(changed);
      return;
    }
  }
}

bool StoreMirror::Poll(std::chrono::milliseconds timeout) {
  std::deque<WatchUpdate> batch;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (queue_.empty() && timeout.count() > 0)
      cv_.wait_for(lock, timeout, [this] { return !queue_.empty(); });
    batch.swap(queue_);
    uint64_t drained;
    (void)!::read(wake_fd_, &drained, sizeof(drained));
  }
  bool changed = false;
  for (const WatchUpdate& u : batch) Apply(u, &changed);
  // Only with the stream up: a read would wait for the store in vain.
  if ((!reload_.empty() || missing_tenants_ > 0) && connected()) RetryReads(&changed);
  return changed;
}

}  // namespace hnv::store
