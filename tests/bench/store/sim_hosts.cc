#include "tests/bench/store/sim_hosts.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <unordered_set>

namespace hnv::store::bench {
namespace {

// A record's identity and value for the diff (what PolicyTables::Apply compares).
std::string Key(const LookupRecord& r) {
  return std::to_string(r.vsid) + "/" + r.ca.ToString() + "/" + r.mac.ToCompactString() + "/" +
         r.pa.ToString() + "/" + std::to_string(static_cast<int>(r.type));
}

}  // namespace

SimHosts::SimHosts(const std::vector<EtcdClient*>& clients, const Layout& layout,
                   const std::vector<std::string>& hosts, int apply_threads)
    : hosts_(hosts.size()) {
  for (size_t i = 0; i < hosts.size(); ++i) {
    FollowerOptions o;
    o.host = hosts[i];
    o.layout = layout;
    o.status_ttl_s = 30;
    hosts_[i].follower = std::make_unique<StoreFollower>(clients[i % clients.size()], o);
    hosts_[i].follower->Start();
  }
  const size_t n = static_cast<size_t>(std::max(1, apply_threads));
  for (size_t t = 0; t < n; ++t) threads_.emplace_back([this, t, n] { ApplyLoop(t, n); });
}

SimHosts::~SimHosts() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
  for (Host& h : hosts_) h.follower->Stop(/*revoke=*/true);
}

void SimHosts::Apply(Host& h, FollowedPolicy p) {
  // As hnv-vswitch's ApplyStorePolicy: the policy out of the hand-over, the
  // diff against what runs, the new index, the status.
  Policy policy = p.policy.policy;
  std::unordered_set<std::string> before;
  // (h.running is replaced only by this thread; the lock is for records())
  if (h.running) h.running->ForEach([&](const LookupRecord& r) { before.insert(Key(r)); });
  size_t added = 0;
  for (const LookupRecord& r : policy.records)
    if (before.erase(Key(r)) == 0) ++added;
  (void)added;  // + before.size() removed: what the tables would change
  auto running = std::make_unique<RecordIndex>(std::move(policy));
  const size_t records = running->size();
  const Clock::time_point now = Clock::now();
  h.follower->Applied(p, true, {}, records);
  std::lock_guard<std::mutex> lock(mu_);
  h.running = std::move(running);
  h.applied.emplace_back(p.revision, now);
  applies_.fetch_add(1);
}

void SimHosts::ApplyLoop(size_t first, size_t step) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = first; i < hosts_.size(); i += step) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, hosts_[i].follower->wake_fd(), &ev);
  }
  std::vector<epoll_event> events(256);
  while (!stop_.load()) {
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    for (int k = 0; k < n; ++k) {
      Host& h = hosts_[events[k].data.u64];
      if (std::optional<FollowedPolicy> p = h.follower->Take(); p) Apply(h, std::move(*p));
    }
  }
  ::close(ep);
}

bool SimHosts::WaitApplied(int64_t revision, std::chrono::milliseconds timeout) {
  return WaitApplied(std::vector<int64_t>(hosts_.size(), revision), timeout);
}

bool SimHosts::WaitApplied(const std::vector<int64_t>& revisions,
                           std::chrono::milliseconds timeout) {
  const Clock::time_point end = Clock::now() + timeout;
  for (;;) {
    bool all = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 0; i < hosts_.size() && all; ++i)
        all = revisions[i] == 0 ||
              (!hosts_[i].applied.empty() && hosts_[i].applied.back().first >= revisions[i]);
    }
    if (all) return true;
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::vector<Clock::time_point> SimHosts::AppliedAt(int64_t revision) const {
  std::vector<Clock::time_point> out(hosts_.size());
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < hosts_.size(); ++i)
    for (const auto& [rev, when] : hosts_[i].applied)
      if (rev >= revision) {
        out[i] = when;
        break;
      }
  return out;
}

size_t SimHosts::records() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const Host& h : hosts_)
    if (h.running) n += h.running->size();
  return n;
}

}  // namespace hnv::store::bench
