// What a host writes to the store (README.md "Key layout"): its status and
// the Dynamic records it learned, both under one lease, so that they vanish
// when the host dies or loses the store for longer than the lease's TTL (a
// dead host disappears from `hnvctl status`; its learned records stop being
// propagated).
//
// The publisher keeps the last status and the learned records it was given
// and writes them again whenever it gets a new lease (LeaseKeeper), e.g.
// after the store was unreachable for longer than the TTL. A write or delete
// that fails (the store unreachable, the lease still alive) is remembered
// (dirty()) and done again by Flush, or by the next lease; nothing blocks
// for longer than the client's timeout.
//
// With etcd roles (README.md "Roles"), the host's user may write only
// status/<host> and learned/<host>/..., which is all this writes.
//
// Thread: Publish, Learn, Forget and Stop from the owner's thread; the
// lease's callback writes from the keeper's thread (under a mutex).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "config/store/documents.h"
#include "config/store/etcd_lease.h"
#include "config/store/layout.h"

namespace hnv::store {

class HostPublisher {
 public:
  HostPublisher(EtcdClient* client, Layout layout, std::string host, int64_t ttl_seconds);
  ~HostPublisher();

  EtcdStatus Publish(const StatusDoc& status);
  EtcdStatus Learn(const LookupRecord& record);
  EtcdStatus Forget(uint32_t vsid, const IpAddr& ca);
  // Forgets every learned record of this MAC on this VSID (the VM's port went).
  EtcdStatus ForgetMac(uint32_t vsid, const MacAddr& mac);
  // Writes again what failed to be written or deleted.
  EtcdStatus Flush();
  bool dirty() const;
  // A clean stop revokes the lease: status and learned records go at once.
  void Stop(bool revoke);

  int64_t lease() const { return keeper_ ? keeper_->id() : 0; }
  // The host's learned records as published (or to be).
  std::map<std::string, LearnedDoc> learned() const;

 private:
  void Republish(int64_t lease);
  EtcdStatus PutLocked(const std::string& key, const std::string& value, int64_t lease);
  EtcdStatus DeleteLocked(const std::string& key);

  EtcdClient* client_;
  Layout layout_;
  std::string host_;
  mutable std::mutex mu_;
  std::optional<StatusDoc> status_;
  std::map<std::string, LearnedDoc> learned_;  // by key
  bool status_dirty_ = false;
  std::set<std::string> dirty_puts_;     // learned keys whose put failed
  std::set<std::string> dirty_deletes_;  // learned keys whose delete failed
  std::unique_ptr<LeaseKeeper> keeper_;
};

}  // namespace hnv::store
