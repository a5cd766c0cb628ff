// ValidateRecordChange: ValidatePolicy for one lookup-record edit of a valid
// policy (record_index.h). A valid policy has no errors, so the changed one
// can only have errors that involve the edited record:
//  - the new record's own rules (VSID, MAC, rule, CA against its subnet, PA),
//    by the validator's own per-record pass (Validator::CheckRecord);
//  - the CA and MAC uniqueness groups the old and the new record belong to,
//    re-run whole (Validator::CheckCaRun / CheckMacRun) on their members in
//    the changed model order: a group holds one VM NIC's records, a handful;
//  - the gateway's own-VSID rule: for the new record, and, where the old or
//    the new record is the gateway (its CA on the gateway's VSID), for the
//    records and VM ports whose MAC it gives or takes away.
// Errors are collected in ValidatePolicy's pass order and sorted the same
// way, so paths ("records[12]", counted in the changed order), messages and
// their order are identical.
#include <algorithm>
#include <optional>
#include <utility>

#include "config/policy/record_index.h"
#include "config/policy/validate_internal.h"

namespace hnv {

using validate_internal::Validator;

namespace {

class ChangeCheck {
 public:
  ChangeCheck(const RecordIndex& index, const RecordEdit& edit)
      : x_(index), e_(edit), v_(index.validator()) {
    const bool append = edit.op == RecordEdit::Op::kAppend;
    target_ = append ? index.end_slot() : edit.slot;
    if (!append) old_ = &index.record(edit.slot);
    if (edit.op != RecordEdit::Op::kErase) new_ = &edit.record;
  }

  std::vector<PolicyError> Run() {
    v_.errors().Take();  // nothing left from before
    int new_rd = -1;
    if (new_ != nullptr) v_.CheckRecord(IndexOf(target_), *new_, &new_rd, &new_dfgw_);
    const int old_rd = old_ != nullptr ? x_.RdOfVsid(old_->vsid) : -1;

    // CA groups, then MAC groups, as CheckRecordUniqueness.
    const bool old_ca = old_ != nullptr && old_rd >= 0 && !old_->ca.IsUnspecified();
    const bool new_ca = new_ != nullptr && new_rd >= 0 && !new_->ca.IsUnspecified();
    if (old_ca) CaGroup(old_rd, old_->ca);
    if (new_ca && !(old_ca && old_rd == new_rd && old_->ca == new_->ca)) CaGroup(new_rd, new_->ca);
    const bool old_mac = old_ != nullptr && old_rd >= 0;
    const bool new_mac = new_ != nullptr && new_rd >= 0;
    if (old_mac) MacGroup(old_rd, old_->mac);
    if (new_mac && !(old_mac && old_rd == new_rd && old_->mac == new_->mac))
      MacGroup(new_rd, new_->mac);

    Gateway();
    return v_.errors().Take();
  }

 private:
  // The record's index in the changed order.
  uint32_t IndexOf(uint32_t slot) const {
    if (slot == x_.end_slot()) return static_cast<uint32_t>(x_.size());
    uint32_t i = x_.IndexOf(slot);
    if (e_.op == RecordEdit::Op::kErase && slot > e_.slot) --i;
    return i;
  }
  const LookupRecord& At(uint32_t slot) const {
    return slot == target_ && new_ != nullptr ? *new_ : x_.record(slot);
  }
  // A group's slots in the changed policy, in model order: the edited
  // record's old version out, its new version in when it belongs here.
  std::vector<uint32_t> Members(std::vector<uint32_t> slots, bool new_belongs) const {
    std::erase(slots, target_);
    if (new_belongs) slots.push_back(target_);
    std::sort(slots.begin(), slots.end());
    return slots;
  }

  void CaGroup(int rd, const IpAddr& ca) {
    std::vector<uint32_t> slots;
    x_.CaGroup(rd, ca, &slots);
    const bool belongs = new_ != nullptr && !new_->ca.IsUnspecified() && new_->ca == ca &&
                         x_.RdOfVsid(new_->vsid) == rd;
    slots = Members(std::move(slots), belongs);
    if (slots.size() < 2) return;
    for (uint32_t& s : slots) s = IndexOf(s);
    v_.CheckCaRun(rd, ca, slots);
  }

  void MacGroup(int rd, const MacAddr& mac) {
    std::vector<uint32_t> slots;
    x_.MacGroup(rd, mac, &slots);
    const bool belongs = new_ != nullptr && new_->mac == mac && x_.RdOfVsid(new_->vsid) == rd;
    slots = Members(std::move(slots), belongs);
    if (slots.size() < 2) return;
    std::vector<Validator::MacMember> members;
    members.reserve(slots.size());
    for (uint32_t s : slots) members.push_back(Validator::MacMember{IndexOf(s), &At(s)});
    v_.CheckMacRun(rd, members);
  }

  // Some record of the changed policy on `vsid` has the gateway's CA and `mac`.
  bool IsGatewayMac(uint32_t vsid, int gw_rd, const MacAddr& mac) const {
    const int rd = x_.RdOfVsid(vsid);
    if (rd < 0) return false;
    std::vector<uint32_t> slots;
    x_.MacGroup(rd, mac, &slots);
    const bool belongs = new_ != nullptr && new_->mac == mac && x_.RdOfVsid(new_->vsid) == rd;
    slots = Members(std::move(slots), belongs);
    const IpAddr& gw = v_.rd_info(gw_rd).gateway;
    for (uint32_t s : slots)
      if (At(s).vsid == vsid && At(s).ca == gw) return true;
    return false;
  }

  // The default gateway record of its subnet (CheckRecord's verdict, its
  // errors dropped: only the target's are wanted, and they are in already).
  bool IsDfgw(const LookupRecord& r) const {
    validate_internal::Errors kept = std::move(v_.errors());
    v_.errors() = validate_internal::Errors();
    int rd = -1;
    bool dfgw = false;
    v_.CheckRecord(0, r, &rd, &dfgw);
    v_.errors() = std::move(kept);
    return dfgw;
  }

  void Gateway() {
    // The new record on a gateway's VSID.
    if (new_ != nullptr) {
      const int rd = v_.GatewayRdOf(new_->vsid);
      if (rd >= 0 && !new_dfgw_ && new_->type != RecordType::kGatewayWildcard &&
          new_->ca != v_.rd_info(rd).gateway && !IsGatewayMac(new_->vsid, rd, new_->mac))
        v_.AddGatewayRecordError(IndexOf(target_), new_->vsid, rd);
    }
    // The gateway's MACs that the edit takes away or gives: the records and
    // VM ports that have one of them on the gateway's VSID.
    struct Touched {
      uint32_t vsid;
      int rd;
      MacAddr mac;
    };
    std::vector<Touched> touched;
    for (const LookupRecord* r : {old_, new_}) {
      if (r == nullptr) continue;
      const int rd = v_.GatewayRdOf(r->vsid);
      if (rd < 0 || r->ca != v_.rd_info(rd).gateway) continue;
      const bool seen = std::any_of(touched.begin(), touched.end(), [&](const Touched& t) {
        return t.vsid == r->vsid && t.mac == r->mac;
      });
      if (!seen) touched.push_back(Touched{r->vsid, rd, r->mac});
    }
    if (touched.empty()) return;
    std::vector<std::pair<uint32_t, const Touched*>> records;  // (index, why)
    for (const Touched& t : touched) {
      if (IsGatewayMac(t.vsid, t.rd, t.mac)) continue;
      std::vector<uint32_t> slots;
      x_.MacGroup(t.rd, t.mac, &slots);
      slots = Members(std::move(slots), false);  // the target was judged above
      for (uint32_t s : slots) {
        const LookupRecord& r = At(s);
        if (r.vsid != t.vsid || r.type == RecordType::kGatewayWildcard ||
            r.ca == v_.rd_info(t.rd).gateway || IsDfgw(r))
          continue;
        records.emplace_back(IndexOf(s), &t);
      }
    }
    std::sort(records.begin(), records.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [i, t] : records) v_.AddGatewayRecordError(i, t->vsid, t->rd);
    const std::vector<VmPort>& ports = x_.rest().vm_ports;
    for (size_t i = 0; i < ports.size(); ++i) {
      for (const Touched& t : touched) {
        if (ports[i].vsid != t.vsid || ports[i].mac != t.mac || IsGatewayMac(t.vsid, t.rd, t.mac))
          continue;
        v_.AddGatewayPortError(i, t.vsid, t.rd);
      }
    }
  }

  const RecordIndex& x_;
  const RecordEdit& e_;
  Validator& v_;
  uint32_t target_ = 0;
  const LookupRecord* old_ = nullptr;
  const LookupRecord* new_ = nullptr;
  bool new_dfgw_ = false;
};

}  // namespace

std::vector<PolicyError> ValidateRecordChange(const RecordIndex& index, const RecordEdit& edit) {
  return ChangeCheck(index, edit).Run();
}

}  // namespace hnv
