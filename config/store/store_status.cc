#include "config/store/store_status.h"

#include <condition_variable>
#include <deque>
#include <mutex>

#include "config/store/etcd_watch.h"

namespace hnv::store {

EtcdStatus ReadStoreStatus(EtcdClient& client, const Layout& layout, StoreStatus* out) {
  *out = StoreStatus{};
  RangeResult g = client.Get(layout.Generation());
  if (!g.status.ok()) return g.status;
  out->revision = g.revision;
  std::string bad_generation;
  if (!g.kvs.empty()) {
    if (const std::optional<GenerationDoc> d = GenerationFromText(g.kvs[0].value, &bad_generation))
      out->generation = d->number;
    else
      out->bad[g.kvs[0].key] = bad_generation;
  }
  for (const auto& [prefix, is_status] :
       {std::pair{layout.HostsPrefix(), false}, std::pair{layout.StatusPrefix(), true}}) {
    RangeResult r = client.RangePrefix(prefix, g.revision);
    if (!r.status.ok()) return r.status;
    for (const KeyValue& kv : r.kvs) {
      std::string why;
      if (is_status) {
        if (std::optional<StatusDoc> d = StatusFromJson(kv.value, &why))
          out->status[layout.Parse(kv.key).host] = std::move(*d);
        else
          out->bad[kv.key] = why;
      } else if (std::optional<HostDoc> d = HostFromJson(kv.value, &why)) {
        out->hosts[d->name] = std::move(*d);
      } else {
        out->bad[kv.key] = why;
      }
    }
  }
  return {};
}

bool WaitForHosts(EtcdClient& client, const Layout& layout, const std::set<std::string>& hosts,
                  int64_t revision, std::chrono::milliseconds timeout,
                  std::map<std::string, HostReached>* reached, std::string* error) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point t0 = Clock::now();
  const Clock::time_point end = t0 + timeout;
  reached->clear();
  for (const std::string& h : hosts) (*reached)[h] = HostReached{};
  size_t missing = hosts.size();
  auto consider = [&](const KeyValue& kv) {
    const Layout::Key k = layout.Parse(kv.key);
    const auto it = reached->find(k.host);
    if (k.kind != Layout::Key::Kind::kStatus || it == reached->end() || it->second.status) return;
    std::string why;
    std::optional<StatusDoc> d = StatusFromJson(kv.value, &why);
    if (!d || d->revision < revision) return;
    it->second.status = std::move(d);
    it->second.after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
    --missing;
  };
  RangeResult now = client.RangePrefix(layout.StatusPrefix());
  if (!now.status.ok()) {
    *error = "cannot read the hosts' status: " + now.status.ToString();
    return false;
  }
  for (const KeyValue& kv : now.kvs) consider(kv);
  if (missing == 0) return true;

  // The statuses from now on. Not from the revision after the read: hosts
  // that apply a write write their status just then, and a watch that
  // starts at a revision etcd has passed is caught up only by its next
  // sync (every 100 ms), which --wait (and a migration's outage behind it)
  // would wait for too. So the watch starts now, and once etcd has created
  // it (the stream's first response), the statuses are read again for
  // what was written in between.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<KeyValue> puts;
  bool created = false;
  WatchStream stream(&client, [&](WatchUpdate& u) {
    std::lock_guard<std::mutex> lock(mu);
    created |= u.kind == WatchUpdate::Kind::kConnected;
    if (u.kind == WatchUpdate::Kind::kEvents)
      for (WatchEvent& e : u.events)
        if (!e.is_delete) puts.push_back(std::move(e.kv));
    cv.notify_one();
  });
  stream.Watch(1, layout.StatusPrefix(), PrefixEnd(layout.StatusPrefix()), 0);
  std::unique_lock<std::mutex> lock(mu);
  if (cv.wait_until(lock, end, [&] { return created; })) {
    lock.unlock();
    const RangeResult again = client.RangePrefix(layout.StatusPrefix());
    for (const KeyValue& kv : again.kvs) consider(kv);
    lock.lock();
  }
  while (missing > 0) {
    if (!cv.wait_until(lock, end, [&] { return !puts.empty(); })) break;
    while (!puts.empty()) {
      consider(puts.front());
      puts.pop_front();
    }
  }
  lock.unlock();
  stream.Stop();
  return missing == 0;
}

}  // namespace hnv::store
