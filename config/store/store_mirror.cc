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

bool StoreMirror::Range::TouchedBy(const GenerationDoc& g, const std::string& host) const {
  switch (role) {
    case Role::kHosts: return !g.hosts.empty();
    case Role::kPlacement: return g.placement.count(host) != 0;
    case Role::kTenant: return g.tenants.count(tenant) != 0;
    case Role::kGeneration:
    case Role::kLearned: return false;
  }
  return false;
}

int64_t StoreMirror::WatchOfForTest(const std::string& key) const {
  for (const auto& [watch, r] : ranges_)
    if (r.end.empty() ? key == r.key : key >= r.key && key < r.end) return watch;
  return 0;
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
  if (range.role == Range::Role::kGeneration)
    generation_through_ = std::max(generation_through_, r.revision);
  if (range.role == Range::Role::kTenant) {
    tenant_revision_[range.tenant] = r.revision;
    changes_.tenants.insert(range.tenant);
  } else {
    changes_.everything = true;
  }
  const int64_t id = next_id_++;
  Range& watched = ranges_[id] = range;
  watched.through = r.revision;
  stream_->Watch(id, range.key, range.end, r.revision + 1);
  return id;
}

int64_t StoreMirror::LatestRevision(EtcdStatus* status) {
  const RangeResult g = client_->Get(state_.layout().Generation());
  *status = g.status;
  if (!g.status.ok()) return 0;
  // A range read at g.revision holds every write up to it, which the rest
  // of the state may not have yet: the generation's event says when it has.
  if (!g.kvs.empty()) required_ = std::max(required_, g.kvs[0].mod_revision);
  return g.revision;
}

int64_t StoreMirror::LoadLatest(const Range& range, EtcdStatus* status) {
  const int64_t revision = LatestRevision(status);
  return revision == 0 ? 0 : Load(range, revision, status);
}

bool StoreMirror::Resync(const Range& range, bool* changed) {
  EtcdStatus st;
  const int64_t id = LoadLatest(range, &st);
  if (id == 0) {
    last_read_error_ = st.ToString();
    reload_.push_back(range);  // the next Poll tries again
    return false;
  }
  if (range.role == Range::Role::kTenant) tenant_watch_[range.tenant] = id;
  *changed = true;
  if (range.role == Range::Role::kPlacement) FollowPlacement(changed);
  if (range.role == Range::Role::kGeneration) {
    // The manifests of the writes in between are gone with the history: a
    // range not yet through the generation read now is read again.
    const int64_t g = state_.generation_mod_revision;
    std::vector<int64_t> behind;
    for (const auto& [watch, r] : ranges_)
      if (r.written_by_writers() && r.through < g) behind.push_back(watch);
    for (const int64_t watch : behind) {
      const auto it = ranges_.find(watch);
      if (it == ranges_.end()) continue;  // a tenant dropped by a placement read meanwhile
      const Range again = it->second;
      stream_->Cancel(watch);
      ranges_.erase(it);
      if (again.role == Range::Role::kTenant) tenant_watch_.erase(again.tenant);
      Resync(again, changed);
    }
  }
  return true;
}

void StoreMirror::Reconcile() {
  for (auto it = expected_.begin(); it != expected_.end();) {
    bool met = true;
    for (const auto& [watch, r] : ranges_) met = met && !(r.TouchedBy(it->second, host_) && r.through < it->first);
    it = met ? expected_.erase(it) : std::next(it);
  }
  const int64_t through = std::max(generation_through_, accepted_);
  consistent_ = expected_.empty() && through >= required_ && reload_.empty() && missing_tenants_ == 0;
  if (consistent_) whole_revision_ = through;
}

std::string StoreMirror::Waiting() const {
  if (consistent_) return "";
  std::string s;
  auto add = [&s](const std::string& part) { s += (s.empty() ? "" : "; ") + part; };
  if (!expected_.empty()) {
    const auto& [rev, g] = *expected_.begin();
    std::string keys;
    for (const auto& [watch, r] : ranges_)
      if (r.TouchedBy(g, host_) && r.through < rev) keys += (keys.empty() ? "" : ", ") + r.key;
    add("the changes of revision " + std::to_string(rev) + " (generation " + std::to_string(g.number) +
        ") to " + keys);
  }
  if (std::max(generation_through_, accepted_) < required_)
    add("the generation written at revision " + std::to_string(required_) +
        " (a policy key changed then arrived without it)");
  if (!reload_.empty()) add(std::to_string(reload_.size()) + " ranges to read again");
  if (missing_tenants_ > 0) add(std::to_string(missing_tenants_) + " tenants to read");
  return s;
}

std::string StoreMirror::AcceptIncomplete() {
  std::string why = Waiting();
  accepted_ = std::max(accepted_, required_);
  expected_.clear();
  Reconcile();
  return why;
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
  expected_.clear();
  generation_through_ = required_ = accepted_ = whole_revision_ = 0;
  consistent_ = true;
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
  Reconcile();
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
  // The new tenants, read at one revision.
  int64_t revision = 0;
  EtcdStatus st;
  for (const std::string& tenant : wanted) {
    if (tenant_watch_.count(tenant)) continue;
    const Range range{Range::Role::kTenant, L.TenantPrefix(tenant), PrefixEnd(L.TenantPrefix(tenant)),
                      tenant};
    if (revision == 0) revision = LatestRevision(&st);
    const int64_t id = revision == 0 ? 0 : Load(range, revision, &st);
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
  for (const Range& range : ranges) Resync(range, changed);
  if (missing_tenants_ > 0) FollowPlacement(changed);
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
      if (!Resync(range, changed) && errors_.size() < kMaxErrors)
        errors_.push_back("resync of " + range.key + ": " + last_read_error_);
      return;
    }
    case WatchUpdate::Kind::kEvents: {
      const auto it = ranges_.find(u.watch_id);
      if (it == ranges_.end()) return;  // a tenant dropped meanwhile
      Range& range = it->second;
      for (const WatchEvent& e : u.events) {
        if (e.is_delete)
          state_.Erase(e.kv.key);
        else
          state_.Put(e.kv);
        Note(range, e.kv.key);
        if (e.kv.mod_revision > state_.revision) state_.revision = e.kv.mod_revision;
        if (range.role == Range::Role::kGeneration && !e.is_delete) {
          // What this write touched: those of our watches must deliver it.
          std::string why;
          if (std::optional<GenerationDoc> g = GenerationFromText(e.kv.value, &why); g && g->has_manifest)
            expected_[e.kv.mod_revision] = std::move(*g);
        }
      }
      // One watch's events of a revision come in one response.
      const int64_t last = u.events.back().kv.mod_revision;
      range.through = std::max(range.through, last);
      if (range.role == Range::Role::kGeneration) generation_through_ = std::max(generation_through_, last);
      if (range.written_by_writers()) required_ = std::max(required_, last);
      if (range.role == Range::Role::kTenant) tenant_revision_[range.tenant] = last;
      *changed = true;
      if (range.role == Range::Role::kPlacement) FollowPlacement(changed);
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
  Reconcile();
  return changed;
}

}  // namespace hnv::store
