#include "config/policy/record_index.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "config/policy/validate_internal.h"

namespace hnv {
namespace {

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

// Groups of records whose VSID has no routing domain: apart from every rd.
constexpr uint64_t kVsidGroup = uint64_t{1} << 32;

}  // namespace

size_t RecordIndex::KeyHash::operator()(const CaKey& k) const noexcept {
  uint64_t w[2];
  std::memcpy(w, k.ca.b.data(), 16);
  return Mix(Mix(Mix(k.group, w[0]), w[1]), static_cast<uint64_t>(k.ca.family));
}

size_t RecordIndex::KeyHash::operator()(const MacKey& k) const noexcept {
  return Mix(Mix(k.group, k.mac), 0x5bd1e995);
}

RecordIndex::RecordIndex(Policy policy) : rest_(std::make_unique<Policy>()) {
  std::vector<LookupRecord> records = std::move(policy.records);
  policy.records.clear();
  *rest_ = std::move(policy);
  validator_ = std::make_unique<validate_internal::Validator>(*rest_);
  validator_->LearnShape();
  validator_->errors().Take();  // the caller validates the whole policy
  Rebuild(std::move(records));
}

RecordIndex::~RecordIndex() = default;

Policy RecordIndex::ToPolicy() const {
  Policy p = *rest_;
  p.records.reserve(live_);
  ForEach([&](const LookupRecord& r) { p.records.push_back(r); });
  return p;
}

int RecordIndex::RdOfVsid(uint32_t vsid) const { return validator_->RdOfVsid(vsid); }

uint64_t RecordIndex::GroupOf(uint32_t vsid) const {
  const int rd = RdOfVsid(vsid);
  return rd >= 0 ? static_cast<uint64_t>(rd) : kVsidGroup | vsid;
}

void RecordIndex::Rebuild(std::vector<LookupRecord> records) {
  slots_.clear();
  slots_.reserve(records.size());
  for (LookupRecord& r : records) slots_.push_back(Slot{std::move(r), true});
  live_ = slots_.size();
  size_t cap = 1024;
  while (cap < slots_.size() + 1) cap *= 2;
  // Fenwick over all-ones: node i covers (i - lowbit(i), i].
  fenwick_.assign(cap + 1, 0);
  for (size_t i = 1; i <= cap; ++i) fenwick_[i] = i <= slots_.size() ? 1 : 0;
  for (size_t i = 1; i <= cap; ++i) {
    const size_t parent = i + (i & (~i + 1));
    if (parent <= cap) fenwick_[parent] += fenwick_[i];
  }
  by_ca_.clear();
  by_mac_.clear();
  by_ca_.reserve(slots_.size());
  by_mac_.reserve(slots_.size());
  for (uint32_t s = 0; s < slots_.size(); ++s) IndexSlot(s);
}

void RecordIndex::FenwickAdd(uint32_t slot, int delta) {
  const size_t cap = fenwick_.size() - 1;
  for (size_t i = slot + 1; i <= cap; i += i & (~i + 1))
    fenwick_[i] = static_cast<uint32_t>(static_cast<int64_t>(fenwick_[i]) + delta);
}

uint32_t RecordIndex::IndexOf(uint32_t slot) const {
  uint32_t sum = 0;  // live slots before `slot`
  for (size_t i = slot; i > 0; i -= i & (~i + 1)) sum += fenwick_[i];
  return sum;
}

void RecordIndex::IndexSlot(uint32_t slot) {
  const LookupRecord& r = slots_[slot].record;
  const uint64_t group = GroupOf(r.vsid);
  if (!r.ca.IsUnspecified()) by_ca_.emplace(CaKey{group, r.ca}, slot);
  by_mac_.emplace(MacKey{group, r.mac.AsU64()}, slot);
}

void RecordIndex::UnindexSlot(uint32_t slot) {
  const LookupRecord& r = slots_[slot].record;
  const uint64_t group = GroupOf(r.vsid);
  auto drop = [slot](auto& map, const auto& key) {
    auto [it, end] = map.equal_range(key);
    for (; it != end; ++it) {
      if (it->second == slot) {
        map.erase(it);
        return;
      }
    }
  };
  if (!r.ca.IsUnspecified()) drop(by_ca_, CaKey{group, r.ca});
  drop(by_mac_, MacKey{group, r.mac.AsU64()});
}

std::vector<uint32_t> RecordIndex::FindByCa(uint32_t vsid, const IpAddr& ca) const {
  std::vector<uint32_t> out;
  auto [it, end] = by_ca_.equal_range(CaKey{GroupOf(vsid), ca});
  for (; it != end; ++it)
    if (slots_[it->second].record.vsid == vsid) out.push_back(it->second);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> RecordIndex::FindByMac(uint32_t vsid, const MacAddr& mac) const {
  std::vector<uint32_t> out;
  auto [it, end] = by_mac_.equal_range(MacKey{GroupOf(vsid), mac.AsU64()});
  for (; it != end; ++it)
    if (slots_[it->second].record.vsid == vsid) out.push_back(it->second);
  std::sort(out.begin(), out.end());
  return out;
}

void RecordIndex::CaGroup(int rd, const IpAddr& ca, std::vector<uint32_t>* slots) const {
  auto [it, end] = by_ca_.equal_range(CaKey{static_cast<uint64_t>(rd), ca});
  for (; it != end; ++it) slots->push_back(it->second);
}

void RecordIndex::MacGroup(int rd, const MacAddr& mac, std::vector<uint32_t>* slots) const {
  auto [it, end] = by_mac_.equal_range(MacKey{static_cast<uint64_t>(rd), mac.AsU64()});
  for (; it != end; ++it) slots->push_back(it->second);
}

void RecordIndex::Commit(const RecordEdit& edit) {
  switch (edit.op) {
    case RecordEdit::Op::kAppend: {
      if (slots_.size() + 1 >= fenwick_.size()) {  // full: grow (and drop dead slots)
        std::vector<LookupRecord> records;
        records.reserve(live_ + 1);
        ForEach([&](const LookupRecord& r) { records.push_back(r); });
        records.push_back(edit.record);
        Rebuild(std::move(records));
        return;
      }
      const uint32_t slot = end_slot();
      slots_.push_back(Slot{edit.record, true});
      FenwickAdd(slot, +1);
      ++live_;
      IndexSlot(slot);
      return;
    }
    case RecordEdit::Op::kReplace:
      UnindexSlot(edit.slot);
      slots_[edit.slot].record = edit.record;
      IndexSlot(edit.slot);
      return;
    case RecordEdit::Op::kErase: {
      UnindexSlot(edit.slot);
      slots_[edit.slot].live = false;
      slots_[edit.slot].record = LookupRecord{};
      FenwickAdd(edit.slot, -1);
      --live_;
      const size_t dead = slots_.size() - live_;
      if (dead > 1024 && dead > live_) {
        std::vector<LookupRecord> records;
        records.reserve(live_);
        ForEach([&](const LookupRecord& r) { records.push_back(r); });
        Rebuild(std::move(records));
      }
      return;
    }
  }
}

}  // namespace hnv
