// StatusRefresher (status_refresher.h).
#include "s2s/status_refresher.h"

#include <algorithm>
#include <ctime>

#include "s2s/process.h"

namespace hnv::s2s {

Json Snapshot::Age(Clock::time_point now) const {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  Json j;
  if (!valid()) {
    j["as_of"] = nullptr;
  } else {
    const auto ms = duration_cast<milliseconds>(taken_wall.time_since_epoch()).count();
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms % 1000));
    j["as_of"] = buf;
    j["age_ms"] = std::max<long long>(0, duration_cast<milliseconds>(now - taken).count());
  }
  if (!error.empty()) {
    j["error"] = error;
    j["error_age_ms"] = std::max<long long>(0, duration_cast<milliseconds>(now - error_at).count());
  }
  return j;
}

StatusRefresher::~StatusRefresher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

std::shared_ptr<StatusRefresher::Job> StatusRefresher::Add(std::string name, Fetch fetch,
                                                           Clock::duration watched_every,
                                                           Clock::duration idle_every) {
  auto job = std::make_shared<Job>(std::move(name), std::move(fetch), watched_every, idle_every);
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(job);
    // Started by the first job, from the control thread: outside any
    // namespace a service entered (it enters none to add a job).
    while (workers_.size() < static_cast<size_t>(kWorkers))
      workers_.emplace_back([this] { Work(); });
  }
  cv_.notify_one();
  return job;
}

void StatusRefresher::Remove(const std::shared_ptr<Job>& job) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase(jobs_, job);
}

std::shared_ptr<const Snapshot> StatusRefresher::Latest(Job& job) {
  const Clock::time_point now = Clock::now();
  bool kick = false;
  std::shared_ptr<const Snapshot> s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    job.watched_until_ = now + kWatchedFor;
    s = job.snapshot_;
    // Someone looks again after a while: refresh now rather than at the
    // idle pace.
    if (!job.in_flight_ && now - s->taken > job.watched_every_ && job.due_ > now) {
      job.due_ = now;
      kick = true;
    }
  }
  if (kick) cv_.notify_one();
  return s;
}

std::shared_ptr<const Snapshot> StatusRefresher::Peek(Job& job) {
  std::lock_guard<std::mutex> lock(mu_);
  return job.snapshot_;
}

void StatusRefresher::Kick(Job& job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    job.due_ = Clock::time_point{};
  }
  cv_.notify_one();
}

void StatusRefresher::Queue(Job& job, Json request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    job.requests_.push_back(std::move(request));
    job.due_ = Clock::time_point{};
  }
  cv_.notify_one();
}

void StatusRefresher::Work() {
  UseLaunchCpus();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    // The most overdue job no other worker is fetching.
    std::shared_ptr<Job> next;
    for (const std::shared_ptr<Job>& j : jobs_)
      if (!j->in_flight_ && (!next || j->due_ < next->due_)) next = j;
    const Clock::time_point now = Clock::now();
    if (!next) {
      cv_.wait(lock);
      continue;
    }
    if (next->due_ > now) {
      cv_.wait_until(lock, next->due_);
      continue;
    }
    next->in_flight_ = true;
    next->due_ = Clock::time_point::max();
    std::vector<Json> requests;
    requests.swap(next->requests_);
    lock.unlock();

    // The fetch: only what the job captured, no lock held.
    const Clock::time_point started = Clock::now();
    const auto started_wall = std::chrono::system_clock::now();
    std::string error;
    Json data = next->fetch_(requests, &error);

    lock.lock();
    auto s = std::make_shared<Snapshot>(*next->snapshot_);  // the answer is shared, not copied
    const bool failed = data.is_null();
    if (!failed) {
      s->data = std::make_shared<const Json>(std::move(data));
      s->taken = started;
      s->taken_wall = started_wall;
      s->error.clear();
    } else {
      s->error = error.empty() ? "no answer" : error;
      s->error_at = Clock::now();
    }
    next->snapshot_ = std::move(s);
    next->in_flight_ = false;
    // Kicked or given a request during the fetch (due_ reset): again at
    // once; otherwise at the job's pace, the watched one after a failure (a
    // daemon just started answers a moment later).
    if (next->due_ == Clock::time_point::max()) {
      const Clock::time_point done = Clock::now();
      next->due_ = done + (failed || done < next->watched_until_ ? next->watched_every_
                                                                 : next->idle_every_);
    }
  }
}

}  // namespace hnv::s2s
