#include "dataplane/policy/port_binding.h"

#include "dataplane/policy/tables.h"

namespace hnv {

const PortBinding PortBindings::kEmpty{};

bool VsidInfo::MayLearn(const IpAddr& ca) const {
  if (!prefix.Contains(ca) || ca == prefix.addr || ca == dfgw_ip) return false;
  if (ca.is_v4() && prefix.len < 32) {
    const uint32_t host_mask = ~uint32_t{0} >> prefix.len;
    if ((ca.v4_host() & host_mask) == host_mask) return false;  // the subnet's broadcast
  }
  return true;
}

PortBindings::~PortBindings() {
  // No reader runs any more (the tables go only after the workers stopped).
  for (auto& p : ports_) delete p.load(std::memory_order_relaxed);
}

std::vector<uint16_t> PortBindings::ResetPorts(const std::vector<VmPort>& ports) {
  std::map<Key, uint16_t> next;
  for (const VmPort& v : ports)
    if (v.port < kPorts) next[KeyOf(v.vsid, v.mac)] = v.port;
  std::vector<uint16_t> fresh;
  // Ports that went, or whose (VSID, MAC) changed, lose their binding.
  for (auto it = state_.begin(); it != state_.end();) {
    auto n = next.find(KeyOf(it->second.vsid, it->second.mac));
    if (n != next.end() && n->second == it->first) {
      ++it;
      continue;
    }
    Publish(it->first, nullptr);
    it = state_.erase(it);
  }
  for (const auto& [key, port] : next) {
    if (state_.count(port) != 0) continue;
    State& s = state_[port];
    s.vsid = key.first;
    std::memcpy(s.mac.b.data(), &key.second, 6);
    fresh.push_back(port);
  }
  port_of_ = std::move(next);
  return fresh;
}

bool PortBindings::Apply(State& s, const LookupRecord& r, int delta) {
  switch (r.type) {
    case RecordType::kStatic:
    case RecordType::kDynamic:
      return delta > 0 ? s.cas.insert(r.ca).second : s.cas.erase(r.ca) > 0;
    case RecordType::kL2Only:
      s.l2only = static_cast<uint32_t>(static_cast<int>(s.l2only) + delta);
      return true;
    case RecordType::kGatewayWildcard:
      s.wildcard = static_cast<uint32_t>(static_cast<int>(s.wildcard) + delta);
      return true;
  }
  return false;
}

void PortBindings::OnRecord(const LookupRecord& r, int delta) {
  auto it = port_of_.find(KeyOf(r.vsid, r.mac));
  if (it == port_of_.end()) return;
  State& s = state_[it->second];
  if (Apply(s, r, delta)) Publish(it->second, &s);
}

void PortBindings::Publish(uint16_t port, const State* s) {
  PortBinding* b = nullptr;
  if (s != nullptr) {
    b = new PortBinding;
    b->l2only = s->l2only > 0;
    b->wildcard = s->wildcard > 0;
    for (const IpAddr& ca : s->cas) {
      if (ca.is_v4() && b->n4 < PortBinding::kInlineV4) {
        std::memcpy(&b->v4[b->n4++], ca.b.data(), 4);
      } else if (ca.is_v6() && b->n6 < PortBinding::kInlineV6) {
        std::memcpy(b->v6[b->n6++], ca.b.data(), 16);
      }
    }
  }
  reclaimer_.Delete(ports_[port].exchange(b, std::memory_order_acq_rel));
}

}  // namespace hnv
