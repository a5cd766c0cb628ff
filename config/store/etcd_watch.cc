#include "config/store/etcd_watch.h"

#include <algorithm>
#include <chrono>

#include "config/store/etcd_grpc.h"

namespace hnv::store {

struct WatchStream::Stream {
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
      rw;
};

WatchStream::WatchStream(EtcdClient* client, Callback callback)
    : client_(client), callback_(std::move(callback)) {
  thread_ = std::thread([this] { Run(); });
}

WatchStream::~WatchStream() { Stop(); }

void WatchStream::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    if (stream_) stream_->ctx.TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t WatchStream::NextRevision(int64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = specs_.find(id);
  return it == specs_.end() ? 0 : it->second.next_revision;
}

void WatchStream::SendCreate(int64_t id, const Spec& spec) {
  etcdserverpb::WatchRequest req;
  etcdserverpb::WatchCreateRequest* c = req.mutable_create_request();
  c->set_key(spec.key);
  c->set_range_end(spec.range_end);
  c->set_start_revision(spec.next_revision);
  c->set_watch_id(id);
  // A failed write means the stream is broken: Read sees it too.
  stream_->rw->Write(req);
}

void WatchStream::SendCancel(int64_t id) {
  etcdserverpb::WatchRequest req;
  req.mutable_cancel_request()->set_watch_id(id);
  stream_->rw->Write(req);
}

void WatchStream::Watch(int64_t id, std::string key, std::string range_end,
                        int64_t start_revision) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool replace = specs_.count(id) != 0;
  Spec& spec = specs_[id];
  spec = Spec{std::move(key), std::move(range_end), start_revision};
  if (stream_ && connected_.load(std::memory_order_relaxed)) {
    if (replace) SendCancel(id);
    SendCreate(id, spec);
  }
}

void WatchStream::Cancel(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (specs_.erase(id) == 0) return;
  if (stream_ && connected_.load(std::memory_order_relaxed)) SendCancel(id);
}

// Fills *update from one response; false when there is nothing to report
// (a watch created, a response for a watch no longer registered).
bool WatchStream::Handle(WatchUpdate* update, const void* response) {
  const auto& resp = *static_cast<const etcdserverpb::WatchResponse*>(response);
  update->watch_id = resp.watch_id();
  update->revision = resp.header().revision();
  std::lock_guard<std::mutex> lock(mu_);
  if (resp.canceled() && resp.watch_id() == -1) {
    // etcd refused a creation without naming it (a duplicate id).
    update->kind = WatchUpdate::Kind::kCanceled;
    update->reason = resp.cancel_reason();
    return true;
  }
  const auto it = specs_.find(resp.watch_id());
  if (it == specs_.end()) return false;
  if (resp.canceled()) {
    // A watch whose start revision is compacted is refused at creation
    // (created and canceled together) or cancelled later; either way it is
    // gone on the server, so it is gone here too.
    specs_.erase(it);
    if (resp.compact_revision() > 0) {
      update->kind = WatchUpdate::Kind::kCompacted;
      update->compact_revision = resp.compact_revision();
    } else {
      update->kind = WatchUpdate::Kind::kCanceled;
      update->reason = resp.cancel_reason().empty() ? "cancelled by etcd" : resp.cancel_reason();
    }
    return true;
  }
  if (resp.events_size() == 0) return false;
  update->kind = WatchUpdate::Kind::kEvents;
  update->events.reserve(static_cast<size_t>(resp.events_size()));
  for (const mvccpb::Event& e : resp.events()) {
    update->events.push_back(WatchEvent{e.type() == mvccpb::Event::DELETE, FromProto(e.kv())});
  }
  it->second.next_revision =
      std::max(it->second.next_revision, update->events.back().kv.mod_revision + 1);
  return true;
}

void WatchStream::Run() {
  EtcdClient::Impl& impl = client_->impl();
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      stream_ = std::make_unique<Stream>();
      impl.Prepare(&stream_->ctx, /*deadline=*/false);
      stream_->rw = impl.watch->Watch(&stream_->ctx);
      for (const auto& [id, spec] : specs_) SendCreate(id, spec);
      connected_.store(true, std::memory_order_release);
    }
    bool reported_up = false;
    etcdserverpb::WatchResponse resp;
    while (stream_->rw->Read(&resp)) {
      if (!reported_up) {
        // The first response proves the stream is up (gRPC connects lazily).
        reported_up = true;
        backoff = std::chrono::milliseconds(100);
        WatchUpdate up;
        up.kind = WatchUpdate::Kind::kConnected;
        up.revision = resp.header().revision();
        callback_(up);
      }
      WatchUpdate update;
      if (Handle(&update, &resp)) callback_(update);
    }
    const grpc::Status status = stream_->rw->Finish();
    {
      std::lock_guard<std::mutex> lock(mu_);
      connected_.store(false, std::memory_order_release);
      stream_.reset();
      if (stopping_) return;
    }
    EtcdStatus st = FromGrpc(status);
    if (st.code == EtcdStatus::Code::kUnauthenticated && !impl.options.user.empty())
      impl.Authenticate();
    WatchUpdate down;
    down.kind = WatchUpdate::Kind::kDisconnected;
    down.reason = st.ToString();
    callback_(down);
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, backoff, [this] { return stopping_; });
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace hnv::store
