#include "dataplane/policy/tables.h"

#include <algorithm>
#include <bit>
#include <set>

#include "dataplane/packet/checksum.h"

namespace hnv {
namespace {

bool HasCa(const LookupRecord& r) {
  return r.type == RecordType::kStatic || r.type == RecordType::kDynamic;
}

bool SameRecord(const LookupRecord& a, const LookupRecord& b) {
  return a.ca == b.ca && a.vsid == b.vsid && a.mac == b.mac && a.pa == b.pa &&
         a.rule == b.rule && a.type == b.type && a.vm_name == b.vm_name;
}

// The subnet's first address: the distributed router's (DFGW) address.
IpAddr FirstAddress(const IpPrefix& p) {
  IpAddr a = p.addr;
  for (int i = a.is_v4() ? 3 : 15; i >= 0; --i)
    if (++a.b[i] != 0) break;
  return a;
}

}  // namespace

size_t PolicyTables::RecordIdHash::operator()(const RecordId& id) const noexcept {
  return rte_hash_crc(&id, sizeof(id), 0);
}

PolicyTables::RecordId PolicyTables::IdOf(const LookupRecord& r) {
  RecordId id;
  id.vsid = r.vsid;
  switch (r.type) {
    case RecordType::kStatic:
    case RecordType::kDynamic:
      id.kind = 0;
      id.addr = r.ca;
      break;
    case RecordType::kL2Only:
      id.kind = 1;
      id.mac = r.mac;
      break;
    case RecordType::kGatewayWildcard:
      // With its MAC: two wildcard records of one PA on a VSID that differ
      // only in the MAC are two records (validation accepts both), and
      // removing one must not take the other's wildcard away.
      id.kind = 2;
      id.addr = r.pa;
      id.mac = r.mac;
      break;
  }
  return id;
}

PolicyTables::PolicyTables(const TableLimits& limits) : limits_(limits) {}

std::unique_ptr<PolicyTables> PolicyTables::Create(const TableLimits& limits, rte_rcu_qsbr* qsv,
                                                   std::string* error) {
  auto own = Reclaimer::Create(qsv, limits.name + "_rcl", kOwnReclaimerSize, error);
  if (own == nullptr) return nullptr;
  std::unique_ptr<PolicyTables> t = Create(limits, *own, error);
  if (t != nullptr) t->own_reclaimer_ = std::move(own);
  return t;
}

std::unique_ptr<PolicyTables> PolicyTables::Create(const TableLimits& limits, Reclaimer& reclaimer,
                                                   std::string* error) {
  std::unique_ptr<PolicyTables> t(new PolicyTables(limits));
  t->reclaimer_ = &reclaimer;
  if (!t->Init(error)) return nullptr;
  return t;
}

bool PolicyTables::Init(std::string* error) {
  if (!ca_.Init(limits_.name + "_ca", limits_.max_records, reclaimer_, error)) return false;
  if (!l2_.Init(limits_.name + "_l2", limits_.max_records, reclaimer_, error)) return false;
  if (!routes_.Init(limits_.name + "_rt", limits_.max_routes, limits_.max_rds, reclaimer_, error))
    return false;
  peers_ = std::make_unique<std::atomic<const PeerEntry*>[]>(limits_.max_peers);
  peer_pas_ = std::make_unique<PeerPa[]>(limits_.max_peers);
  peer_wanted_ = std::make_unique<std::atomic<uint8_t>[]>(limits_.max_peers);
  free_peers_.reserve(limits_.max_peers);
  for (uint32_t i = limits_.max_peers; i > 0; --i) free_peers_.push_back(i - 1);
  for (uint32_t i = limits_.max_rds; i > 0; --i) free_rds_.push_back(i - 1);
  bindings_ = std::make_unique<PortBindings>(*reclaimer_);
  PublishSnapshot();
  return true;
}

PolicyTables::~PolicyTables() {
  if (reclaimer_ != nullptr) reclaimer_->Synchronize();  // what was retired, while `this` lives
  delete snapshot_.load();
  for (uint32_t i = 0; peers_ && i < limits_.max_peers; ++i) delete peers_[i].load();
}

// ---------------------------------------------------------------- readers

// ---------------------------------------------------------------- helpers

uint32_t PolicyTables::RdIndex(const Guid& rdid) const {
  auto it = rd_index_.find(rdid);
  return it == rd_index_.end() ? FlatU32Map::kMissing : it->second;
}

uint32_t PolicyTables::AssignRd(const Guid& rdid) {
  auto it = rd_index_.find(rdid);
  if (it != rd_index_.end()) return it->second;
  if (free_rds_.empty()) return FlatU32Map::kMissing;
  const uint32_t idx = free_rds_.back();
  free_rds_.pop_back();
  rd_index_[rdid] = idx;
  return idx;
}

uint32_t PolicyTables::RdOfVsid(uint32_t vsid) const {
  const VsidInfo* v = snapshot()->Vsid(vsid);
  return v == nullptr ? FlatU32Map::kMissing : v->rd;
}

bool PolicyTables::IsLocalPa(const IpAddr& pa) const {
  for (const ProviderAddress& p : applied_.provider_addresses)
    if (p.address == pa) return true;
  return false;
}

bool PolicyTables::IsDfgwRecord(const LookupRecord& r) const {
  if (!HasCa(r)) return false;
  // The published snapshot already holds every VSID being applied.
  const VsidInfo* v = snapshot()->Vsid(r.vsid);
  return v != nullptr && v->dfgw_ip == r.ca;
}

bool PolicyTables::ResolveProvider(const IpAddr& pa, uint16_t* port, IpAddr* next_hop,
                                   const LocalPa** local) const {
  const Snapshot* s = snapshot();
  // On-link: a local PA whose subnet holds the remote PA.
  for (const LocalPa& l : s->pas) {
    if (l.addr.family != pa.family) continue;
    IpPrefix net{l.addr.Masked(l.prefix_len), l.prefix_len};
    if (net.Contains(pa)) {
      *port = l.port;
      *next_hop = pa;
      *local = &l;
      return true;
    }
  }
  // Otherwise the longest provider route, out of a port with a PA of the family.
  const ProviderRoute* best = nullptr;
  for (const ProviderRoute& r : applied_.provider_routes)
    if (r.destination.Contains(pa) && (best == nullptr || r.destination.len > best->destination.len))
      best = &r;
  if (best == nullptr) return false;
  for (const LocalPa& l : s->pas) {
    if (l.port == best->port && l.addr.family == pa.family) {
      *port = l.port;
      *next_hop = best->next_hop.IsUnspecified() ? pa : best->next_hop;
      *local = &l;
      return true;
    }
  }
  return false;
}

void PolicyTables::PublishPeer(uint32_t id, const IpAddr& pa) {
  auto* e = new PeerEntry;
  e->pa = pa;
  uint16_t port = 0;
  IpAddr nh;
  const LocalPa* local = nullptr;
  if (ResolveProvider(pa, &port, &nh, &local)) {
    e->port = port;
    e->vlan = local->vlan;
    e->local_pa = local->addr;
    MacAddr dst{};
    auto it = neighbors_.find({port, nh});
    if (it != neighbors_.end()) {
      dst = it->second;
      e->resolved = true;
    }
    const uint16_t type = pa.is_v4() ? kEtherTypeIpv4 : kEtherTypeIpv6;
    uint8_t off = 0;
    auto* eth = reinterpret_cast<EthHdr*>(e->hdr);
    eth->dst = dst;
    eth->src = local->mac;
    off = sizeof(EthHdr);
    if (local->vlan != 0) {
      eth->ether_type = Be16::FromHost(kEtherTypeVlan);
      auto* tag = reinterpret_cast<VlanTag*>(e->hdr + off);
      tag->tci = Be16::FromHost(local->vlan);
      tag->ether_type = Be16::FromHost(type);
      off += sizeof(VlanTag);
    } else {
      eth->ether_type = Be16::FromHost(type);
    }
    e->ip_offset = off;
    const uint8_t ttl = applied_.settings.outer_ttl;
    if (pa.is_v4()) {
      auto* ip = reinterpret_cast<Ipv4Hdr*>(e->hdr + off);
      ip->version_ihl = 0x45;
      ip->frag = Be16::FromHost(kIpv4DontFragment);  // NVGRE is never fragmented
      ip->ttl = ttl;
      ip->protocol = kIpProtoGre;
      std::memcpy(ip->src, local->addr.b.data(), 4);
      std::memcpy(ip->dst, pa.b.data(), 4);
      ip->checksum = Ipv4HeaderChecksum(ip);  // with total_length 0; adjusted per packet
      off += sizeof(Ipv4Hdr);
    } else {
      auto* ip = reinterpret_cast<Ipv6Hdr*>(e->hdr + off);
      ip->vtc_flow = Be32::FromHost(6u << 28);
      ip->next_header = kIpProtoGre;
      ip->hop_limit = ttl;
      std::memcpy(ip->src, local->addr.b.data(), 16);
      std::memcpy(ip->dst, pa.b.data(), 16);
      off += sizeof(Ipv6Hdr);
    }
    e->hdr_len = off;
  }
  const PeerEntry* old = peers_[id].exchange(e, std::memory_order_acq_rel);
  reclaimer_->Delete(old);
}

uint32_t PolicyTables::AcquirePeer(const IpAddr& pa) {
  auto it = peer_by_pa_.find(pa);
  if (it != peer_by_pa_.end()) {
    ++it->second.refs;
    return it->second.id;
  }
  if (free_peers_.empty()) return kNoPeer;
  const uint32_t id = free_peers_.back();
  free_peers_.pop_back();
  peer_by_pa_[pa] = PeerState{id, 1, pa};
  // The address before any record can name the id (records are published
  // after this, with release).
  PeerPa& p = peer_pas_[id];
  uint64_t w[2];
  std::memcpy(w, pa.b.data(), 16);
  p.w[0].store(w[0], std::memory_order_relaxed);
  p.w[1].store(w[1], std::memory_order_relaxed);
  p.fam.store(static_cast<uint8_t>(pa.family), std::memory_order_release);
  PublishPeer(id, pa);
  return id;
}

void PolicyTables::ReleasePeer(uint32_t id) {
  if (id == kLocalPeer || id == kNoPeer) return;
  const PeerEntry* e = peers_[id].load(std::memory_order_relaxed);
  if (e == nullptr) return;
  auto it = peer_by_pa_.find(e->pa);
  if (it == peer_by_pa_.end() || it->second.id != id || --it->second.refs > 0) return;
  peer_by_pa_.erase(it);
  // The entry stays readable until every reader that may have seen a
  // reference to it is gone (a packet of a migrating VM in flight must still
  // find its PA); then Reclaim clears the slot, frees it and reuses the id.
  reclaimer_->Retire(
      [](void* t, uint64_t i) { static_cast<PolicyTables*>(t)->FreePeerId(static_cast<uint32_t>(i)); },
      this, id);
}

void PolicyTables::RebuildAllPeers() {
  for (const auto& [pa, st] : peer_by_pa_) PublishPeer(st.id, pa);
}

// ---------------------------------------------------------------- snapshot

std::unique_ptr<Snapshot> PolicyTables::BuildSnapshot() {
  auto s = std::make_unique<Snapshot>();
  s->generation = ++generation_;
  s->settings = applied_.settings;
  std::vector<std::pair<uint32_t, uint32_t>> index;
  for (const VirtualSubnet& sub : applied_.subnets) {
    VsidInfo v;
    v.vsid = sub.vsid;
    v.rd = RdIndex(sub.rdid);
    if (!sub.prefixes.empty()) {
      v.prefix = sub.prefixes.front();
      v.family = v.prefix.addr.family;
      v.dfgw_ip = FirstAddress(v.prefix);
    }
    index.emplace_back(sub.vsid, static_cast<uint32_t>(s->vsids.size()));
    s->vsids.push_back(std::move(v));
  }
  s->vsid_index = FlatU32Map(index);
  for (const auto& [id, r] : special_) {
    const uint32_t i = s->vsid_index.Find(r.vsid);
    if (i == FlatU32Map::kMissing) continue;
    VsidInfo& v = s->vsids[i];
    switch (r.type) {
      case RecordType::kStatic:
      case RecordType::kDynamic:
        v.has_dfgw = true;
        v.dfgw_mac = r.mac;
        break;
      case RecordType::kL2Only:
        if (IsLocalPa(r.pa)) {
          v.l2only_local = true;
          v.l2only_local_macs.push_back({r.mac, r.pa});
        } else if (const IpAddr& pa = r.pa;
                   std::find_if(v.l2only_peers.begin(), v.l2only_peers.end(), [&](uint32_t p) {
                     return peer(p) != nullptr && peer(p)->pa == pa;
                   }) == v.l2only_peers.end()) {
          const uint32_t p = AcquirePeer(r.pa);
          if (p != kNoPeer) v.l2only_peers.push_back(p);
        }
        break;
      case RecordType::kGatewayWildcard:
        if (const IpAddr& pa = r.pa;
            std::find_if(v.wildcard_peers.begin(), v.wildcard_peers.end(), [&](uint32_t p) {
              return peer(p) != nullptr && peer(p)->pa == pa;
            }) == v.wildcard_peers.end()) {
          const uint32_t p = AcquirePeer(r.pa);
          if (p != kNoPeer) v.wildcard_peers.push_back(p);
        }
        break;
    }
  }
  std::vector<LocalPortMap::Item> local;
  local.reserve(applied_.vm_ports.size());
  for (const VmPort& p : applied_.vm_ports) local.push_back({p.vsid, p.mac, p.port});
  s->local_macs = LocalPortMap(local);
  for (const VmPort& p : applied_.vm_ports) {
    if (p.port >= kMaxPorts) continue;
    PortInfo& pi = s->ports[p.port];
    pi.kind = PortKind::kVm;
    pi.vsid = p.vsid;
    pi.vsid_index = s->vsid_index.Find(p.vsid);
    pi.mac = p.mac;
    pi.guards = static_cast<uint8_t>((p.mac_address_spoofing ? 0 : kGuardAddresses) |
                                     (p.dhcp_guard ? kGuardDhcp : 0) |
                                     (p.router_guard ? kGuardRouter : 0));
    if (pi.vsid_index != FlatU32Map::kMissing) s->vsids[pi.vsid_index].local_ports.push_back(p.port);
  }
  CompileAcls(*s);
  for (const ProviderAddress& pa : applied_.provider_addresses) {
    if (pa.port < kMaxPorts) s->ports[pa.port].kind = PortKind::kUplink;
    s->pas.push_back(LocalPa{pa.address, pa.prefix_len, pa.mac, pa.vlan, pa.port});
  }
  s->rd_count = static_cast<uint32_t>(rd_index_.size());
  return s;
}

std::string PolicyTables::MeterKey(const PortAcl& a, PortAclTable::Dir d) {
  return a.vm_name + (d == PortAclTable::kIn ? "|in|" : "|out|") +
         (a.by_mac ? a.remote_mac.ToString()
                   : a.remote_ip.any ? std::string("any") : a.remote_ip.prefix.ToString());
}

uint16_t PolicyTables::MeterSlot(const PortAcl& a, PortAclTable::Dir d) const {
  const auto it = meter_slots_.find(MeterKey(a, d));
  return it == meter_slots_.end() ? kNoMeter : it->second;
}

void PolicyTables::CompileAcls(Snapshot& s) {
  if (applied_.port_acls.empty() && applied_.port_extended_acls.empty() && meter_slots_.empty())
    return;
  if (free_meters_.empty() && meter_slots_.empty())
    for (uint16_t i = 0; i < kMaxAclMeters; ++i) free_meters_.push_back(i);
  std::set<std::string> used;
  auto slot = [&](const PortAcl& a, PortAclTable::Dir d) -> uint16_t {
    const std::string key = MeterKey(a, d);
    used.insert(key);
    if (auto it = meter_slots_.find(key); it != meter_slots_.end()) return it->second;
    if (free_meters_.empty()) return kNoMeter;  // validation keeps it from happening
    const uint16_t i = free_meters_.front();
    free_meters_.pop_front();
    meter_slots_[key] = i;
    fresh_meters_.push_back(i);
    return i;
  };
  for (const VmPort& p : applied_.vm_ports) {
    if (p.port >= kMaxPorts) continue;
    std::unique_ptr<PortAclTable> t =
        CompilePortAcls(p.vm_name, applied_.port_acls, applied_.port_extended_acls, slot);
    if (!t) continue;
    s.ports[p.port].acl = t.get();
    s.acls.push_back(std::move(t));
  }
  for (auto it = meter_slots_.begin(); it != meter_slots_.end();) {
    if (used.count(it->first) != 0) {
      ++it;
      continue;
    }
    free_meters_.push_back(it->second);
    it = meter_slots_.erase(it);
  }
}

void PolicyTables::ReleaseSnapshotRefs(const Snapshot* s) {
  for (const VsidInfo& v : s->vsids) {
    for (uint32_t p : v.l2only_peers) ReleasePeer(p);
    for (uint32_t p : v.wildcard_peers) ReleasePeer(p);
  }
}

void PolicyTables::PublishSnapshot() {
  std::unique_ptr<Snapshot> next = BuildSnapshot();
  if (!fresh_meters_.empty()) {
    if (meter_reset_) meter_reset_(fresh_meters_);
    fresh_meters_.clear();
  }
  const Snapshot* old = snapshot_.exchange(next.release(), std::memory_order_acq_rel);
  if (old != nullptr) {
    ReleaseSnapshotRefs(old);
    reclaimer_->Delete(old);
  }
}

// ---------------------------------------------------------------- records

bool PolicyTables::ApplyRecordEntries(const LookupRecord& r, std::string* error) {
  if (!HasCa(r) || IsDfgwRecord(r)) return L2Ref(r, error);
  const uint32_t rd = RdOfVsid(r.vsid);
  if (rd == FlatU32Map::kMissing) {
    *error = "VSID " + std::to_string(r.vsid) + " is not in the applied policy";
    return false;
  }
  CaEntry e;
  e.mac = r.mac;
  e.type = r.type;
  e.rule = r.rule;
  e.vsid = r.vsid;
  e.peer = IsLocalPa(r.pa) ? kLocalPeer : AcquirePeer(r.pa);
  if (e.peer == kNoPeer) {
    *error = "peer table full (" + std::to_string(limits_.max_peers) + " provider addresses)";
    return false;
  }
  CaKey k;
  k.rd = rd;
  k.ip = r.ca;
  const CaEntry* prev = ca_.Get(k);
  const uint32_t prev_peer = prev ? prev->peer : kNoPeer;
  if (!ca_.Upsert(k, e)) {
    ReleasePeer(e.peer);
    *error = "lookup-record table full (" + std::to_string(limits_.max_records) + " records)";
    return false;
  }
  ReleasePeer(prev_peer);
  return L2Ref(r, error);
}

void PolicyTables::RemoveRecordEntries(const LookupRecord& r) {
  if (HasCa(r) && !IsDfgwRecord(r)) {
    const uint32_t rd = RdOfVsid(r.vsid);
    CaKey k;
    k.rd = rd;
    k.ip = r.ca;
    const CaEntry* prev = ca_.Get(k);
    // The CA may meanwhile belong to another VSID of the domain: leave that.
    if (prev != nullptr && prev->vsid == r.vsid) {
      const uint32_t prev_peer = prev->peer;
      ca_.Remove(k);
      ReleasePeer(prev_peer);
    }
  }
  L2Unref(r);
}

bool PolicyTables::UpsertRecord(const LookupRecord& r, std::string* error) {
  const RecordId id = IdOf(r);
  auto it = records_.find(id);
  const bool special = !HasCa(r) || IsDfgwRecord(r);
  if (it != records_.end()) {
    const LookupRecord& old = it->second;
    if (SameRecord(old, r)) return true;
    auto refs = l2_refs_.end();
    if (old.vsid == r.vsid && old.mac == r.mac && !IsLocalPa(old.pa) && !IsLocalPa(r.pa))
      refs = l2_refs_.find(L2GroupOf(old.vsid, old.mac));
    if (refs != l2_refs_.end() && refs->second.Count() == 1) {
      // Migration of a remote MAC: with no reference left, L2Ref below
      // overwrites the entry in place (no gap) and releases the old peer.
      refs->second = L2Group{};
    } else {
      L2Unref(old);
    }
  }
  if (!ApplyRecordEntries(r, error)) return false;
  if (it != records_.end()) bindings_->OnRecord(it->second, -1);
  bindings_->OnRecord(r, +1);
  if (it != records_.end()) {
    it->second = r;
  } else {
    records_.emplace(id, r);
  }
  if (special) {
    special_[id] = r;
    PublishSnapshot();
  }
  return true;
}

bool PolicyTables::RemoveRecord(const LookupRecord& r) {
  auto it = records_.find(IdOf(r));
  if (it == records_.end()) return false;
  const LookupRecord old = it->second;
  records_.erase(it);
  RemoveRecordEntries(old);
  bindings_->OnRecord(old, -1);
  if (special_.erase(IdOf(old)) > 0) PublishSnapshot();
  return true;
}

const LookupRecord* PolicyTables::FindRecord(uint32_t vsid, const IpAddr& ca) const {
  RecordId id;
  id.vsid = vsid;
  id.addr = ca;
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

bool PolicyTables::LearnDynamic(uint32_t vsid, const IpAddr& ca, const MacAddr& mac,
                                const IpAddr& pa) {
  // What a VM claims in an ARP/ND message is learned only as validation
  // would accept it as a record: inside its VSID's subnet, not the network,
  // broadcast or DFGW address. (A VM could otherwise take an unused address
  // of another subnet of its domain, and the router would deliver it there.)
  // A CA another record holds is not taken over by a VM of this host (its
  // port's anti-spoofing refuses such claims; this closes the race of two
  // VMs claiming one free CA at once): only a remote learn moves it.
  const VsidInfo* v = snapshot()->Vsid(vsid);
  if (v == nullptr || !v->MayLearn(ca)) return false;
  const LookupRecord* cur = FindRecord(vsid, ca);
  if (cur != nullptr && (cur->type == RecordType::kStatic || (cur->mac == mac && cur->pa == pa) ||
                         (cur->mac != mac && IsLocalPa(pa))))
    return false;
  LookupRecord r;
  r.ca = ca;
  r.vsid = vsid;
  r.mac = mac;
  r.pa = pa;
  r.type = RecordType::kDynamic;
  std::string error;
  if (!UpsertRecord(r, &error)) return false;
  if (learn_cb_) learn_cb_(r);
  return true;
}

// ---------------------------------------------------------------- routes

bool PolicyTables::AddRoute(uint32_t rd, const CustomerRoute& r, std::string* error) {
  RouteEntry e;
  e.vsid = r.vsid;
  e.metric = r.metric;
  e.next_hop = r.next_hop;
  e.on_link = r.next_hop.IsUnspecified();
  if (!routes_.Upsert(rd, r.destination, e)) {
    *error = "customer-route table full (" + std::to_string(limits_.max_routes) + " routes)";
    return false;
  }
  return true;
}

void PolicyTables::RemoveRoute(uint32_t rd, const IpPrefix& prefix) { routes_.Remove(rd, prefix); }

// ---------------------------------------------------------------- apply

bool PolicyTables::Apply(const Policy& p, std::string* error) {
  for (const RoutingDomain& rd : p.routing_domains) {
    if (AssignRd(rd.rdid) == FlatU32Map::kMissing) {
      *error = "routing-domain table full (" + std::to_string(limits_.max_rds) + " domains)";
      return false;
    }
  }
  // A VSID that moves to another routing domain takes its records along:
  // their CA entries are keyed by the domain, so they are removed while the
  // old assignment is still published and added again below. (Kept, as
  // "unchanged", they would let the old domain route into the moved VSID.)
  {
    std::map<uint32_t, Guid> rd_now;
    for (const VirtualSubnet& s : applied_.subnets) rd_now[s.vsid] = s.rdid;
    std::set<uint32_t> moved;
    for (const VirtualSubnet& s : p.subnets) {
      const auto it = rd_now.find(s.vsid);
      if (it != rd_now.end() && it->second != s.rdid) moved.insert(s.vsid);
    }
    std::vector<LookupRecord> out;
    for (const auto& [id, r] : records_)
      if (moved.count(r.vsid) != 0) out.push_back(r);
    for (const LookupRecord& r : out) RemoveRecord(r);
  }
  const Policy old = [&] {
    Policy o = applied_;
    return o;
  }();
  // Structure first, so that VSIDs exist before their records do. This
  // snapshot already carries the new vm_ports (ports, flood lists and the
  // (VSID, MAC) -> port map deliver reads): a new VM port receives from here
  // on and a removed one no longer does, before any table entry changes.
  // Every later snapshot is built from the same applied_.vm_ports, so none
  // can take a port's delivery back while the L2 table is being updated.
  applied_ = p;
  applied_.records.clear();
  bindings_->SetPorts(p.vm_ports, [this](auto&& fn) {
    for (const auto& [id, r] : records_) fn(r);
  });
  // Keep the old VSIDs visible too until their entries are gone.
  for (const VirtualSubnet& s : old.subnets)
    if (std::none_of(p.subnets.begin(), p.subnets.end(),
                     [&](const VirtualSubnet& n) { return n.vsid == s.vsid; }))
      applied_.subnets.push_back(s);
  RebuildAllPeers();
  PublishSnapshot();

  // Records: remove what is gone, upsert what is new or changed.
  std::unordered_map<RecordId, const LookupRecord*, RecordIdHash> desired;
  desired.reserve(p.records.size());
  for (const LookupRecord& r : p.records) desired[IdOf(r)] = &r;
  std::vector<LookupRecord> gone;
  for (const auto& [id, r] : records_)
    if (desired.find(id) == desired.end()) gone.push_back(r);
  for (const LookupRecord& r : gone) RemoveRecord(r);
  for (const LookupRecord& r : p.records)
    if (!UpsertRecord(r, error)) return false;

  // Customer routes: the lowest metric wins per (domain, prefix).
  std::map<std::pair<uint32_t, IpPrefix>, const CustomerRoute*> want;
  for (const CustomerRoute& r : p.customer_routes) {
    const uint32_t rd = RdIndex(r.rdid);
    if (rd == FlatU32Map::kMissing) continue;
    auto [it, inserted] = want.emplace(std::make_pair(rd, r.destination), &r);
    if (!inserted && r.metric < it->second->metric) it->second = &r;
  }
  std::vector<std::pair<uint32_t, IpPrefix>> stale;
  routes_.ForEach([&](uint32_t rd, const IpPrefix& pf, const RouteEntry&) {
    if (want.find({rd, pf}) == want.end()) stale.emplace_back(rd, pf);
  });
  for (const auto& [rd, pf] : stale) RemoveRoute(rd, pf);
  for (const auto& [key, r] : want) {
    const RouteEntry* cur = routes_.Get(key.first, key.second);
    if (cur != nullptr && cur->vsid == r->vsid && cur->metric == r->metric &&
        cur->next_hop == r->next_hop)
      continue;
    if (!AddRoute(key.first, *r, error)) return false;
  }

  // Local VM ports in the L2 table (l2-switch and the router deliver through
  // it; deliver after decapsulation reads the snapshot's copy, published above).
  auto port_key = [](const VmPort& v) {
    L2Key k;
    k.vsid = v.vsid;
    k.mac = v.mac;
    return k;
  };
  for (const VmPort& v : old.vm_ports) {
    const bool kept = std::any_of(p.vm_ports.begin(), p.vm_ports.end(), [&](const VmPort& n) {
      return n.vsid == v.vsid && n.mac == v.mac && n.port == v.port;
    });
    if (!kept) {
      const L2Entry* cur = l2_.Get(port_key(v));
      if (cur != nullptr && cur->peer == kLocalPeer) {
        l2_.Remove(port_key(v));
        if (!RestoreRemoteL2(v.vsid, v.mac, error)) return false;
      }
    }
  }
  for (const VmPort& v : p.vm_ports) {
    L2Entry e;
    e.peer = kLocalPeer;
    e.port = v.port;
    const L2Entry* cur = l2_.Get(port_key(v));
    if (cur != nullptr && cur->peer == kLocalPeer && cur->port == v.port) continue;
    const uint32_t prev_peer = cur ? cur->peer : kNoPeer;
    if (!l2_.Upsert(port_key(v), e)) {
      *error = "L2 table full";
      return false;
    }
    ReleasePeer(prev_peer);
  }

  // Final structure: drop the VSIDs and routing domains that are gone.
  applied_.subnets = p.subnets;
  RebuildAllPeers();
  PublishSnapshot();
  std::set<Guid> keep;
  for (const RoutingDomain& rd : p.routing_domains) keep.insert(rd.rdid);
  for (auto it = rd_index_.begin(); it != rd_index_.end();) {
    if (keep.count(it->first) == 0) {
      free_rds_.push_back(it->second);
      it = rd_index_.erase(it);
    } else {
      ++it;
    }
  }
  return true;
}

// ---------------------------------------------------------------- neighbours

void PolicyTables::LearnNeighbor(uint16_t port, const IpAddr& ip, const MacAddr& mac) {
  auto [it, inserted] = neighbors_.try_emplace({port, ip}, mac);
  if (!inserted && it->second == mac) return;
  it->second = mac;
  RebuildAllPeers();
}

std::vector<PolicyTables::PendingResolution> PolicyTables::Pending(bool take_wanted) const {
  std::vector<PendingResolution> out;
  for (const auto& [pa, st] : peer_by_pa_) {
    const PeerEntry* e = peer(st.id);
    if (e == nullptr || e->resolved) continue;
    uint16_t port = 0;
    IpAddr nh;
    const LocalPa* local = nullptr;
    if (!ResolveProvider(pa, &port, &nh, &local)) continue;
    std::atomic<uint8_t>& mark = peer_wanted_[st.id];
    const bool wanted = (take_wanted ? mark.exchange(0, std::memory_order_relaxed)
                                     : mark.load(std::memory_order_relaxed)) != 0;
    auto same = std::find_if(out.begin(), out.end(), [&](const PendingResolution& x) {
      return x.port == port && x.next_hop == nh;
    });
    if (same != out.end()) same->wanted |= wanted;
    else out.push_back({port, local->vlan, nh, local->addr, local->mac, wanted});
  }
  return out;
}

// ---------------------------------------------------------------- reclaim

void PolicyTables::FreePeerId(uint32_t id) {
  delete peers_[id].exchange(nullptr, std::memory_order_acq_rel);
  peer_pas_[id].fam.store(PeerPa::kNoFamily, std::memory_order_relaxed);
  peer_wanted_[id].store(0, std::memory_order_relaxed);
  free_peers_.push_back(id);
}

void PolicyTables::Reclaim() { reclaimer_->Reclaim(); }

void PolicyTables::Synchronize() { reclaimer_->Synchronize(); }

TableMemory PolicyTables::Memory() const {
  TableMemory m;
  m.table_bytes = ca_.TableBytes() + l2_.TableBytes();
  m.pool_bytes = ca_.WriterBytes() + l2_.WriterBytes() + routes_.WriterBytes() +
                 (sizeof(std::atomic<const PeerEntry*>) + sizeof(PeerPa) + 1) * limits_.max_peers;
  m.per_record_bytes =
      (m.table_bytes + ca_.WriterBytes() + l2_.WriterBytes()) / limits_.max_records;
  m.route_bytes = routes_.TableBytes() + routes_.WriterBytes();
  m.per_route_bytes = m.route_bytes / limits_.max_routes;
  m.per_rd_bytes = PrefixTable<RouteEntry>::kPerScopeBytes + sizeof(uint32_t);
  return m;
}

}  // namespace hnv
