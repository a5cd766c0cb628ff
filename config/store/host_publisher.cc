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

void HostPublisher::Republish(int64_t lease) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status_) PutLocked(layout_.Status(host_), ToJson(*status_), lease);
  for (const auto& [key, doc] : learned_) PutLocked(key, ToJson(doc), lease);
}

EtcdStatus HostPublisher::Publish(const StatusDoc& status) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
  status_->host = host_;
  return PutLocked(layout_.Status(host_), ToJson(*status_), keeper_->id());
}

EtcdStatus HostPublisher::Learn(const LookupRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = layout_.Learned(host_, record.vsid, record.ca);
  LearnedDoc doc{host_, record};
  doc.record.type = RecordType::kDynamic;
  learned_[key] = doc;
  return PutLocked(key, ToJson(doc), keeper_->id());
}

EtcdStatus HostPublisher::Forget(uint32_t vsid, const IpAddr& ca) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = layout_.Learned(host_, vsid, ca);
  learned_.erase(key);
  return client_->Delete(key);
}

EtcdStatus HostPublisher::ForgetMac(uint32_t vsid, const MacAddr& mac) {
  std::lock_guard<std::mutex> lock(mu_);
  EtcdStatus last;
  for (auto it = learned_.begin(); it != learned_.end();) {
    if (it->second.record.vsid != vsid || !(it->second.record.mac == mac)) {
      ++it;
      continue;
    }
    if (EtcdStatus st = client_->Delete(it->first); !st.ok()) last = st;
    it = learned_.erase(it);
  }
  return last;
}

}  // namespace hnv::store
