#include "config/store/host_publisher.h"

namespace hnv::store {

HostPublisher::HostPublisher(EtcdClient* client, Layout layout, std::string host,
                             int64_t ttl_seconds)
    : client_(client), layout_(std::move(layout)), host_(std::move(host)) {
  keeper_ = std::make_unique<LeaseKeeper>(client_, ttl_seconds,
                                          [this](int64_t lease) { Republish(lease); });
}

HostPublisher::~HostPublisher() { Stop(false); }

void HostPublisher::Stop(bool revoke) {
  if (keeper_) keeper_->Stop(revoke);
}

EtcdStatus HostPublisher::PutLocked(const std::string& key, const std::string& value,
                                    int64_t lease) {
  // Without a lease yet, the write waits for it: Republish writes it then.
  if (lease == 0) return {EtcdStatus::Code::kUnavailable, "no lease yet"};
  return client_->Put(key, value, lease);
}

EtcdStatus HostPublisher::DeleteLocked(const std::string& key) {
  EtcdStatus st = client_->Delete(key);
  if (st.ok()) dirty_deletes_.erase(key);
  else dirty_deletes_.insert(key);
  return st;
}

void HostPublisher::Republish(int64_t lease) {
  std::lock_guard<std::mutex> lock(mu_);
  // Keys under an old lease are gone with it; deletes that failed are moot.
  dirty_deletes_.clear();
  dirty_puts_.clear();
  status_dirty_ = status_ && !PutLocked(layout_.Status(host_), ToJson(*status_), lease).ok();
  for (const auto& [key, doc] : learned_)
    if (!PutLocked(key, ToJson(doc), lease).ok()) dirty_puts_.insert(key);
}

EtcdStatus HostPublisher::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t lease = keeper_->id();
  EtcdStatus last;
  for (auto it = dirty_deletes_.begin(); it != dirty_deletes_.end();) {
    EtcdStatus st = client_->Delete(*it);
    if (!st.ok()) return st;  // still unreachable: the rest would wait in vain
    it = dirty_deletes_.erase(it);
  }
  for (auto it = dirty_puts_.begin(); it != dirty_puts_.end();) {
    const auto doc = learned_.find(*it);
    if (doc != learned_.end()) {
      EtcdStatus st = PutLocked(*it, ToJson(doc->second), lease);
      if (!st.ok()) return st;
    }
    it = dirty_puts_.erase(it);
  }
  if (status_dirty_ && status_) {
    last = PutLocked(layout_.Status(host_), ToJson(*status_), lease);
    status_dirty_ = !last.ok();
  }
  return last;
}

bool HostPublisher::dirty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_dirty_ || !dirty_puts_.empty() || !dirty_deletes_.empty();
}

std::map<std::string, LearnedDoc> HostPublisher::learned() const {
  std::lock_guard<std::mutex> lock(mu_);
  return learned_;
}

EtcdStatus HostPublisher::Publish(const StatusDoc& status) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
  status_->host = host_;
  EtcdStatus st = PutLocked(layout_.Status(host_), ToJson(*status_), keeper_->id());
  status_dirty_ = !st.ok();
  return st;
}

EtcdStatus HostPublisher::Learn(const LookupRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = layout_.Learned(host_, record.vsid, record.ca);
  LearnedDoc doc{host_, record};
  doc.record.type = RecordType::kDynamic;
  learned_[key] = doc;
  dirty_deletes_.erase(key);
  EtcdStatus st = PutLocked(key, ToJson(doc), keeper_->id());
  if (st.ok()) dirty_puts_.erase(key);
  else dirty_puts_.insert(key);
  return st;
}

EtcdStatus HostPublisher::Forget(uint32_t vsid, const IpAddr& ca) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = layout_.Learned(host_, vsid, ca);
  learned_.erase(key);
  dirty_puts_.erase(key);
  return DeleteLocked(key);
}

EtcdStatus HostPublisher::ForgetMac(uint32_t vsid, const MacAddr& mac) {
  std::lock_guard<std::mutex> lock(mu_);
  EtcdStatus last;
  for (auto it = learned_.begin(); it != learned_.end();) {
    if (it->second.record.vsid != vsid || !(it->second.record.mac == mac)) {
      ++it;
      continue;
    }
    dirty_puts_.erase(it->first);
    if (EtcdStatus st = DeleteLocked(it->first); !st.ok()) last = st;
    it = learned_.erase(it);
  }
  return last;
}

}  // namespace hnv::store
