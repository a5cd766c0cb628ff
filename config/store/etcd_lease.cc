#include "config/store/etcd_lease.h"

#include <algorithm>
#include <chrono>

#include "config/store/etcd_grpc.h"

namespace hnv::store {

using Clock = std::chrono::steady_clock;

LeaseKeeper::LeaseKeeper(EtcdClient* client, int64_t ttl_seconds,
                         std::function<void(int64_t)> on_granted)
    : client_(client), ttl_(std::max<int64_t>(ttl_seconds, 2)), on_granted_(std::move(on_granted)) {
  thread_ = std::thread([this] { Run(); });
}

LeaseKeeper::~LeaseKeeper() { Stop(false); }

void LeaseKeeper::Stop(bool revoke) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (live_ctx_ != nullptr) static_cast<grpc::ClientContext*>(live_ctx_)->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  const int64_t id = id_.exchange(0);
  if (revoke && id != 0) client_->LeaseRevoke(id, /*timeout_ms=*/1000);
}

bool LeaseKeeper::Sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

void LeaseKeeper::Run() {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    const LeaseResult granted = client_->LeaseGrant(ttl_);
    if (!granted.status.ok()) {
      if (!Sleep(backoff)) return;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    id_.store(granted.id, std::memory_order_release);
    grants_.fetch_add(1, std::memory_order_acq_rel);
    if (on_granted_) on_granted_(granted.id);
    if (!KeepAlive(granted.id)) return;  // stopping: Stop may revoke it
    id_.store(0, std::memory_order_release);
  }
}

bool LeaseKeeper::KeepAlive(int64_t id) {
  EtcdClient::Impl& impl = client_->impl();
  const auto period = std::chrono::milliseconds(ttl_ * 1000 / 3);
  Clock::time_point last_ok = Clock::now();
  for (;;) {
    // One refresh: a short stream that waits for the store no longer than
    // the lease can live without one.
    const Clock::time_point lost_at = last_ok + std::chrono::seconds(ttl_);
    if (Clock::now() >= lost_at) return true;
    grpc::ClientContext ctx;
    impl.Prepare(&ctx, /*deadline=*/false);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::min<Clock::duration>(lost_at - Clock::now(), period * 2));
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return false;
      live_ctx_ = &ctx;
    }
    auto rw = impl.lease->LeaseKeepAlive(&ctx);
    etcdserverpb::LeaseKeepAliveRequest req;
    req.set_id(id);
    etcdserverpb::LeaseKeepAliveResponse resp;
    const bool answered = rw->Write(req) && rw->Read(&resp);
    ctx.TryCancel();
    rw->Finish();
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_ctx_ = nullptr;
      if (stopping_) return false;
    }
    if (answered && resp.ttl() <= 0) return true;  // expired or revoked: its keys are gone
    if (answered) last_ok = Clock::now();
    if (!Sleep(answered ? period : std::chrono::milliseconds(200))) return false;
  }
}

}  // namespace hnv::store
