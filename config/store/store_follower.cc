#include "config/store/store_follower.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "config/policy/validate.h"

namespace hnv::store {
namespace {

using Clock = std::chrono::steady_clock;

void Signal(int fd) {
  const uint64_t one = 1;
  (void)!::write(fd, &one, sizeof(one));
}

void Drain(int fd) {
  uint64_t n;
  (void)!::read(fd, &n, sizeof(n));
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// At most this many validation errors go into a status (the first ones).
constexpr size_t kStatusErrors = 20;

}  // namespace

StoreFollower::StoreFollower(EtcdClient* client, FollowerOptions options)
    : client_(client), options_(std::move(options)) {
  task_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  mirror_ = std::make_unique<StoreMirror>(client_, options_.layout, options_.host);
}

StoreFollower::~StoreFollower() {
  Stop(false);
  if (task_fd_ >= 0) ::close(task_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void StoreFollower::Start() {
  if (thread_.joinable()) return;
  if (options_.publish)
    publisher_ = std::make_unique<HostPublisher>(client_, options_.layout, options_.host,
                                                 options_.status_ttl_s);
  thread_ = std::thread([this] { Run(); });
}

void StoreFollower::Stop(bool revoke) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  Signal(task_fd_);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (publisher_) publisher_->Stop(revoke);
}

void StoreFollower::Post(Task t) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(t));
  }
  Signal(task_fd_);
}

std::optional<FollowedPolicy> StoreFollower::Take(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!pending_ && wait.count() > 0)
    cv_.wait_for(lock, wait, [this] { return pending_.has_value() || stopping_; });
  std::optional<FollowedPolicy> p;
  p.swap(pending_);
  Drain(wake_fd_);
  return p;
}

StoreFollower::Health StoreFollower::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  Health h = health_;
  h.lease = publisher_ ? publisher_->lease() : 0;
  return h;
}

void StoreFollower::Applied(const FollowedPolicy& p, bool applied, std::vector<std::string> errors,
                            size_t records) {
  StatusDoc d;
  d.host = options_.host;
  d.revision = p.revision;
  d.time_ms = NowMs();
  d.tenants = p.tenant_revisions;
  d.records = records;
  d.errors = p.policy.errors;
  d.errors.insert(d.errors.end(), errors.begin(), errors.end());
  {
    std::lock_guard<std::mutex> lock(mu_);
    d.generation = applied ? p.generation : health_.applied_generation;
    if (applied) {
      health_.applied_generation = p.generation;
      health_.applied_revision = p.revision;
    }
    health_.last_error = !d.errors.empty() ? d.errors.front() : p.incomplete;
    last_status_ = d;
    applied_seq_ = p.seq;
  }
  Post(Task{Task::Kind::kStatus, std::move(d), {}});
}

void StoreFollower::Learned(const LookupRecord& record) {
  Post(Task{Task::Kind::kLearn, {}, record});
}

void StoreFollower::PortGone(uint32_t vsid, const MacAddr& mac) {
  LookupRecord r;
  r.vsid = vsid;
  r.mac = mac;
  Post(Task{Task::Kind::kPortGone, {}, r});
}

bool StoreFollower::Wait(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{mirror_->wake_fd(), POLLIN, 0}, {task_fd_, POLLIN, 0}};
  ::poll(fds, 2, static_cast<int>(timeout.count()));
  Drain(task_fd_);
  std::lock_guard<std::mutex> lock(mu_);
  return !stopping_;
}

void StoreFollower::PublishStatus(StatusDoc doc) {
  if (publisher_) publisher_->Publish(doc);
  last_status_time_ = Clock::now();
}

void StoreFollower::Refused(std::string why) {
  refused_ = true;
  StatusDoc d;
  {
    std::lock_guard<std::mutex> lock(mu_);
    health_.last_error = why;
    d = last_status_;  // what runs stays what runs
  }
  d.host = options_.host;
  d.time_ms = NowMs();
  d.revision = mirror_->revision();
  d.tenants = mirror_->tenant_revisions();
  d.errors = {std::move(why)};
  PublishStatus(std::move(d));
}

void StoreFollower::RunTasks() {
  std::deque<Task> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks.swap(tasks_);
  }
  const StoreState& state = mirror_->state();
  const Layout& L = state.layout();
  for (Task& t : tasks) {
    switch (t.kind) {
      case Task::Kind::kStatus:
        PublishStatus(std::move(t.status));
        generation_behind_ = false;
        break;
      case Task::Kind::kLearn: {
        // Only a record of a VM here (its PA is one of ours) is this host's
        // to publish; one it learned of a VM elsewhere, that host publishes.
        const auto h = state.hosts.find(options_.host);
        if (h == state.hosts.end()) break;
        const bool local =
            std::any_of(h->second.provider_addresses.begin(), h->second.provider_addresses.end(),
                        [&](const ProviderAddress& pa) { return pa.address == t.record.pa; });
        if (!local) break;
        t.record.type = RecordType::kDynamic;
        if (publisher_) publisher_->Learn(t.record);
        const std::string key = L.Learned(options_.host, t.record.vsid, t.record.ca);
        mirror_->PutLocal(KeyValue{key, ToJson(LearnedDoc{options_.host, t.record}), 0, 0, 0, 0});
        break;
      }
      case Task::Kind::kPortGone: {
        std::vector<std::string> keys;
        for (const auto& [key, doc] : state.learned)
          if (doc.host == options_.host && doc.record.vsid == t.record.vsid &&
              doc.record.mac == t.record.mac)
            keys.push_back(key);
        if (publisher_) publisher_->ForgetMac(t.record.vsid, t.record.mac);
        for (const std::string& key : keys) mirror_->EraseLocal(key);
        break;
      }
    }
  }
}

bool StoreFollower::Relevant(const MirrorChanges& c) const {
  if (seq_ == 0 || c.everything || c.placement || !c.tenants.empty()) return true;
  if (c.hosts.count(options_.host)) return true;
  const StoreState& state = mirror_->state();
  for (const std::string& t : carried_) {
    if (!c.hosts.empty()) {
      // A host a carried VM runs on (its PA is in our records).
      if (const auto vms = state.vms.find(t); vms != state.vms.end())
        for (const auto& [name, vm] : vms->second)
          if (c.hosts.count(vm.host)) return true;
      if (const auto tenant = state.tenants.find(t); tenant != state.tenants.end())
        if (tenant->second.gateway && c.hosts.count(tenant->second.gateway->host)) return true;
    }
    if (!c.learned_vsids.empty())
      if (const auto tenant = state.tenants.find(t); tenant != state.tenants.end())
        for (const VirtualSubnet& s : tenant->second.subnets)
          if (c.learned_vsids.count(s.vsid)) return true;
  }
  return false;
}

void StoreFollower::Compute() {
  std::string incomplete;
  incomplete.swap(incomplete_);
  const StoreState& state = mirror_->state();
  std::optional<HostPolicy> hp = ComputeHostPolicy(state, options_.host);
  if (!hp) {
    carried_.clear();
    Refused("host " + options_.host + " is not in the store");
    return;
  }
  carried_ = hp->tenants;
  refused_ = false;
  if (const std::vector<PolicyError> errors = ValidatePolicy(hp->policy); !errors.empty()) {
    std::string why = "the policy computed from the store at revision " +
                      std::to_string(mirror_->revision()) + " is invalid (the previous one runs):";
    for (size_t i = 0; i < errors.size() && i < kStatusErrors; ++i) why += "\n" + errors[i].ToString();
    Refused(std::move(why));
    return;
  }
  FollowedPolicy p;
  {
    std::lock_guard<std::mutex> lock(mu_);
    p.seq = ++seq_;
  }
  p.host = state.hosts.at(options_.host);
  p.policy = std::move(*hp);
  p.generation = state.generation;
  p.revision = mirror_->revision();
  p.tenant_revisions = mirror_->tenant_revisions();
  p.computed = Clock::now();
  p.incomplete = std::move(incomplete);
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = std::move(p);
    ++health_.policies;
  }
  generation_behind_ = false;
  Signal(wake_fd_);
  cv_.notify_all();
}

void StoreFollower::Run() {
  auto backoff = std::chrono::milliseconds(100);
  auto wait = std::chrono::milliseconds(500);
  bool started = false;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (!started) {
      const EtcdStatus st = mirror_->Start();
      if (!st.ok()) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          health_.last_error = "cannot read the store: " + st.ToString();
        }
        if (!Wait(backoff)) return;
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        RunTasks();  // (learned records wait in the publisher for the store)
        continue;
      }
      started = true;
      std::lock_guard<std::mutex> lock(mu_);
      health_.started = true;
      health_.last_error.clear();
    } else if (!Wait(wait)) {
      return;
    }
    wait = std::chrono::milliseconds(500);
    mirror_->Poll();
    RunTasks();
    {
      std::lock_guard<std::mutex> lock(mu_);
      health_.connected = mirror_->connected();
      health_.generation = mirror_->state().generation;
      health_.revision = mirror_->revision();
      health_.resyncs = mirror_->resyncs();
      health_.disconnects = mirror_->disconnects();
    }
    if (publisher_ && mirror_->connected() && publisher_->dirty()) publisher_->Flush();
    if (!mirror_->consistent()) {
      // Part of a write is still on its way: compute once it is here (the
      // changes wait in the mirror), or take the state as it is after
      // consistency_wait.
      // While the stream is down nothing can come: the wait starts again
      // once it is up (and the host keeps its last policy meanwhile).
      const Clock::time_point now = Clock::now();
      if (!waiting_since_ || !mirror_->connected()) waiting_since_ = now;
      const auto left = *waiting_since_ + options_.consistency_wait - now;
      if (left > Clock::duration::zero()) {
        wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(left));
        continue;
      }
      incomplete_ = "computed at revision " + std::to_string(mirror_->state().revision) +
                    " without waiting longer than " + std::to_string(options_.consistency_wait.count()) +
                    " ms for " + mirror_->AcceptIncomplete();
      std::lock_guard<std::mutex> lock(mu_);
      ++health_.incomplete;
      health_.last_error = incomplete_;
      health_.revision = mirror_->revision();
    }
    waiting_since_.reset();
    const MirrorChanges changes = mirror_->TakeChanges();
    if (Relevant(changes)) {
      Compute();
      continue;
    }
    // Only the generation (or something this host does not carry) moved:
    // the running policy is what the new generation says for this host.
    generation_behind_ |= changes.any();
    if (!generation_behind_ || refused_ || Clock::now() - last_status_time_ < options_.status_interval)
      continue;
    StatusDoc d;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Only once the last computed policy runs.
      if (applied_seq_ != seq_ || seq_ == 0) continue;
      d = last_status_;
      d.generation = mirror_->state().generation;
      d.revision = mirror_->revision();
      d.time_ms = NowMs();
      last_status_ = d;
      health_.applied_generation = d.generation;
    }
    PublishStatus(std::move(d));
    generation_behind_ = false;
  }
}

}  // namespace hnv::store
