// PolicyTables' L2 entries of remote records (tables.h, L2GroupKey): the
// remote records naming one (VSID, MAC) share one L2 entry toward their PA,
// whose type and rule follow from all of them; a local VM port holding that
// MAC wins over them.
#include "dataplane/policy/tables.h"

namespace hnv {

void PolicyTables::L2Group::Add(const LookupRecord& r, int delta) {
  uint32_t& n = by[static_cast<int>(r.type)][static_cast<int>(r.rule)];
  n = static_cast<uint32_t>(static_cast<int>(n) + delta);
}

uint32_t PolicyTables::L2Group::Count() const {
  uint32_t n = 0;
  for (const auto& t : by) n += t[0] + t[1];
  return n;
}

void PolicyTables::L2Group::Attributes(L2Entry* e) const {
  for (RecordType t : {RecordType::kL2Only, RecordType::kStatic, RecordType::kDynamic}) {
    const auto& n = by[static_cast<int>(t)];
    if (n[0] + n[1] == 0) continue;
    e->type = t;
    e->rule = n[static_cast<int>(TranslationRule::kEncap)] > 0 ? TranslationRule::kEncap
                                                               : TranslationRule::kNone;
    return;
  }
}

// The group's remote entry toward `pa`, over `prev` (an entry of an earlier
// PA, released once replaced, or nothing).
bool PolicyTables::InstallL2(const L2Key& k, const L2Group& g, const IpAddr& pa,
                             const L2Entry* prev, std::string* error) {
  L2Entry e;
  g.Attributes(&e);
  e.peer = AcquirePeer(pa);
  if (e.peer == kNoPeer) {
    *error = "peer table full (" + std::to_string(limits_.max_peers) + " provider addresses)";
    return false;
  }
  const uint32_t prev_peer = prev ? prev->peer : kNoPeer;
  if (!l2_.Upsert(k, e)) {
    ReleasePeer(e.peer);
    *error = "L2 table full (" + std::to_string(limits_.max_records) + " entries)";
    return false;
  }
  ReleasePeer(prev_peer);
  return true;
}

// The entry's type and rule after the group changed; its peer stays.
void PolicyTables::RefreshL2(const L2Key& k, const L2Group& g) {
  const L2Entry* cur = l2_.Get(k);
  if (cur == nullptr || cur->peer == kLocalPeer) return;
  L2Entry e = *cur;
  g.Attributes(&e);
  // A new slot replaces the old one (a reader sees one or the other; the old
  // is reused after a grace period). Should the table have no free slot
  // left, the entry keeps its old type and rule until the next change.
  if (e.type != cur->type || e.rule != cur->rule) l2_.Upsert(k, e);
}

bool PolicyTables::L2Ref(const LookupRecord& r, std::string* error) {
  if (r.type == RecordType::kGatewayWildcard || IsLocalPa(r.pa)) return true;
  L2Group& g = l2_refs_[L2GroupOf(r.vsid, r.mac)];
  const bool first = g.Count() == 0;
  g.Add(r, +1);
  L2Key k;
  k.vsid = r.vsid;
  k.mac = r.mac;
  const L2Entry* prev = l2_.Get(k);
  // A local VM port wins: the record is counted (the entry comes back when
  // the port goes: RestoreRemoteL2) but takes no peer reference.
  if (prev != nullptr && prev->peer == kLocalPeer) return true;
  if (!first && prev != nullptr) {
    RefreshL2(k, g);
    return true;
  }
  if (!InstallL2(k, g, r.pa, prev, error)) {
    g.Add(r, -1);
    return false;
  }
  return true;
}

void PolicyTables::L2Unref(const LookupRecord& r) {
  if (r.type == RecordType::kGatewayWildcard || IsLocalPa(r.pa)) return;
  auto it = l2_refs_.find(L2GroupOf(r.vsid, r.mac));
  if (it == l2_refs_.end()) return;
  L2Key k;
  k.vsid = r.vsid;
  k.mac = r.mac;
  if (it->second.Count() > 1) {  // 0: left by a change that failed (table full); the entry goes
    it->second.Add(r, -1);
    RefreshL2(k, it->second);
    return;
  }
  l2_refs_.erase(it);
  const L2Entry* prev = l2_.Get(k);
  if (prev == nullptr || prev->peer == kLocalPeer) return;
  const uint32_t prev_peer = prev->peer;
  l2_.Remove(k);
  ReleasePeer(prev_peer);
}

bool PolicyTables::RestoreRemoteL2(uint32_t vsid, const MacAddr& mac, std::string* error) {
  auto g = l2_refs_.find(L2GroupOf(vsid, mac));
  if (g == l2_refs_.end() || g->second.Count() == 0) return true;
  // The records counted while the port held the MAC share one PA
  // (validation): the first found gives it. A scan of the records, on a
  // port's removal only.
  for (const auto& [id, r] : records_) {
    if (r.vsid != vsid || r.mac != mac || r.type == RecordType::kGatewayWildcard || IsLocalPa(r.pa))
      continue;
    L2Key k;
    k.vsid = vsid;
    k.mac = mac;
    return InstallL2(k, g->second, r.pa, nullptr, error);
  }
  return true;
}

}  // namespace hnv
