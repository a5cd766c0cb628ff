// Watches on one etcd Watch stream: several key ranges, each from a revision,
// with reconnection.
//
// Each watch has an id the caller chooses (> 0, unique on the stream; etcd
// takes client-chosen ids since 3.4). Never use an id twice: etcd may keep a
// cancelled or compacted watch's id and then refuses a new watch with it
// (reported as kCanceled with watch_id -1). The stream runs on its own thread: it
// connects, creates every registered watch from the revision after the last
// event it delivered for it (its start revision until then), and hands each
// response to the callback. When the stream breaks (store unreachable,
// member down), the callback hears kDisconnected, and the thread reconnects
// with a backoff (100 ms doubling to 2 s) and resumes every watch where it
// stopped, so no event is lost or repeated. When a watch's next revision has
// been compacted meanwhile, etcd cancels it: the callback hears kCompacted
// (the watch is then gone) and the owner must read the range whole again
// and Watch it again from the revision after that read.
//
// Events of one watch arrive in revision order; etcd sends the events of
// watches that are caught up ("synced") in revision order across the
// watches of one stream too.
//
// Thread: Watch, Cancel and Stop from any thread; the callback runs on the
// stream's thread, one call at a time, and must not call Stop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/store/etcd_client.h"

namespace hnv::store {

struct WatchEvent {
  bool is_delete = false;
  KeyValue kv;  // a delete: the key and mod_revision (the deletion's) only
};

struct WatchUpdate {
  enum class Kind : uint8_t {
    kEvents,        // events of one watch
    kCompacted,     // the watch's next revision was compacted: the watch is gone
    kCanceled,      // etcd ended the watch (e.g. permission denied): it is gone
    kConnected,     // the stream is up and every watch was (re)created
    kDisconnected,  // the stream broke; it reconnects by itself
  };
  Kind kind = Kind::kEvents;
  int64_t watch_id = 0;
  int64_t revision = 0;          // the response header's store revision
  int64_t compact_revision = 0;  // kCompacted: the oldest revision still kept
  std::string reason;            // kCanceled, kDisconnected
  std::vector<WatchEvent> events;
};

class WatchStream {
 public:
  using Callback = std::function<void(WatchUpdate& update)>;

  // `client` must outlive the stream. The thread starts at once.
  WatchStream(EtcdClient* client, Callback callback);
  ~WatchStream();
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // Watches [key, range_end) (range_end empty: the key alone) from
  // `start_revision` (0: from now). Replaces a watch with the same id.
  void Watch(int64_t id, std::string key, std::string range_end, int64_t start_revision);
  void Cancel(int64_t id);
  // Ends the stream and joins its thread; no callback runs after it returns.
  void Stop();

  bool connected() const { return connected_.load(std::memory_order_acquire); }
  // The revision a watch would resume from (0: unknown id).
  int64_t NextRevision(int64_t id) const;

 private:
  struct Spec {
    std::string key;
    std::string range_end;
    int64_t next_revision = 0;  // 0: from now
  };
  struct Stream;

  void Run();
  void SendCreate(int64_t id, const Spec& spec);  // stream_mu_ held
  void SendCancel(int64_t id);                    // stream_mu_ held
  bool Handle(WatchUpdate* update, const void* response);

  EtcdClient* client_;
  Callback callback_;
  mutable std::mutex mu_;  // specs_, stream_, stopping_
  std::condition_variable wake_;
  std::map<int64_t, Spec> specs_;
  std::unique_ptr<Stream> stream_;  // the live stream, if any
  bool stopping_ = false;
  std::atomic<bool> connected_{false};
  std::thread thread_;
};

}  // namespace hnv::store
