// StatusRefresher: the daemons' slow answers (charon's SA list over VICI,
// bgpd's tables through vtysh) fetched off the control thread, so that
// Status, Inspect and Poll of the s2s services never wait for a daemon.
//
// Theory of operation. One StatusRefresher per hnv-gateway (VpnServices()
// makes it; the daemon tests make their own) runs a small fixed pool of
// worker threads (kWorkers, started at the first Add), whatever the number
// of tenants. Each service adds one Job: a Fetch function that captures
// only immutable copies of what it needs (charon's VICI socket path, FRR's
// directory) and opens its own connection or runs its own vtysh, so a
// worker never touches a service's state. A worker takes the most overdue
// job that no other worker is fetching, runs its Fetch without any lock,
// and publishes the answer as an immutable Snapshot (shared_ptr, swapped
// under the refresher's mutex). The control thread reads the latest
// Snapshot (a pointer copy under that mutex, never held during a fetch) and
// composes the status from it with what it owns (the daemons' state, the
// configuration, charon's log).
//
// When: a job is refreshed every `watched_every` (1 s) while someone looks
// at it (Latest() within the last kWatchedFor) or after a failed fetch,
// every `idle_every` otherwise; Latest() on a snapshot older than `watched_every` and Kick()
// make it due at once (a user's first `hnvctl vpn show` after a while gets
// the last snapshot with its age at once, and a fresh one a moment later).
// A fetch that fails keeps the last good answer (`data`, `taken`) and
// records the error and its time: a stopped daemon shows as an ageing
// snapshot with an error, never as a wait.
//
// Requests: Queue() hands the job a request for its next fetch (charon's
// `initiate` of an always-up connection from Poll); Fetch gets them all,
// in order, before it queries.
//
// Thread: Add, Remove, Latest, Peek, Kick, Queue from any thread (the
// control thread); Fetch runs on a worker. The destructor stops the workers
// and waits for the fetches under way (each bounded by its own timeout).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "s2s/daemon.h"
#include "s2s/vici.h"

namespace hnv::s2s {

// One answer of a daemon, immutable once published.
struct Snapshot {
  std::shared_ptr<const Json> data;                 // the last good answer (null: none yet)
  Clock::time_point taken{};                        // when the fetch of `data` started
  std::chrono::system_clock::time_point taken_wall{};
  std::string error;                                // of the last fetch, "" when it succeeded
  Clock::time_point error_at{};
  bool valid() const { return data != nullptr; }
  Clock::time_point asked() const { return std::max(taken, error_at); }
  // {"as_of": "2026-12-07T20:40:01.123Z" | null, "age_ms", "error"?}:
  // the fields every status built from a snapshot carries.
  Json Age(Clock::time_point now) const;
};

class StatusRefresher {
 public:
  // Runs on a worker: `requests` (Queue()) first, then the query. Returns
  // the answer, or null with *error.
  using Fetch = std::function<Json(const std::vector<Json>& requests, std::string* error)>;

  static constexpr int kWorkers = 2;
  static constexpr std::chrono::seconds kWatchedFor{30};

  class Job;

  StatusRefresher() = default;
  ~StatusRefresher();
  StatusRefresher(const StatusRefresher&) = delete;
  StatusRefresher& operator=(const StatusRefresher&) = delete;

  // A job, due at once. `name` is for the log.
  std::shared_ptr<Job> Add(std::string name, Fetch fetch, Clock::duration watched_every,
                           Clock::duration idle_every);
  // Not refreshed any more (a fetch under way ends into the void).
  void Remove(const std::shared_ptr<Job>& job);

  // The latest snapshot (never null); marks the job watched.
  std::shared_ptr<const Snapshot> Latest(Job& job);
  // The same without marking it watched (Poll).
  std::shared_ptr<const Snapshot> Peek(Job& job);
  // Refresh as soon as a worker is free.
  void Kick(Job& job);
  // A request for the job's next fetch; kicks it.
  void Queue(Job& job, Json request);

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Job>> jobs_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
};

class StatusRefresher::Job {
 public:
  Job(std::string name, Fetch fetch, Clock::duration watched_every, Clock::duration idle_every)
      : name_(std::move(name)),
        fetch_(std::move(fetch)),
        watched_every_(watched_every),
        idle_every_(idle_every),
        snapshot_(std::make_shared<Snapshot>()) {}

 private:
  friend class StatusRefresher;
  // All under StatusRefresher::mu_ but fetch_, which is immutable.
  const std::string name_;
  const Fetch fetch_;
  const Clock::duration watched_every_;
  const Clock::duration idle_every_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<Json> requests_;
  Clock::time_point due_{};
  Clock::time_point watched_until_{};
  bool in_flight_ = false;
};

}  // namespace hnv::s2s
