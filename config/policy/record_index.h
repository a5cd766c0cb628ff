// RecordIndex: a Policy whose lookup records are indexed so that one record
// can be found, validated and changed without touching the others (hnvctl
// new / set / remove lookup-record, learned Dynamic records, migrations).
//
// The records keep their model order (what `get` lists and what error paths
// such as "records[12]" count): an append goes last, a replacement stays in
// place, an erase closes the gap. They live in slots (a removed record leaves
// a dead slot until the next compaction) with a Fenwick tree over the live
// ones, so a slot's model index costs O(log n). Two hash indexes group the
// records by (routing domain, CA) and by (routing domain, MAC), the groups in
// which ValidatePolicy's uniqueness rules work; a record whose VSID has no
// routing domain is grouped by its VSID alone. Everything but the records
// (`rest()`) is kept as a Policy, with what ValidatePolicy learns from it
// (subnets, families, gateways, reachable PAs).
//
// ValidateRecordChange (validate_record.cc) checks one edit against these
// indexes in O(log n + the size of the groups it touches), with the
// validator's own rule code, so its verdict and messages are ValidatePolicy's.
//
// Thread: control thread; not shared.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "config/policy/validate.h"
#include "dataplane/policy/model.h"

namespace hnv {

namespace validate_internal {
class Validator;
}

// One change to the records of a RecordIndex.
struct RecordEdit {
  enum class Op : uint8_t { kAppend, kReplace, kErase };
  Op op = Op::kAppend;
  uint32_t slot = 0;    // kReplace, kErase: the record's slot (RecordIndex::Find*)
  LookupRecord record;  // kAppend, kReplace: the record as it will be
};

class RecordIndex {
 public:
  explicit RecordIndex(Policy policy);
  ~RecordIndex();
  RecordIndex(const RecordIndex&) = delete;
  RecordIndex& operator=(const RecordIndex&) = delete;

  // Live records.
  size_t size() const { return live_; }
  // The policy without its records (`records` is empty).
  const Policy& rest() const { return *rest_; }
  // The whole policy, records in model order: O(n).
  Policy ToPolicy() const;
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_)
      if (s.live) f(s.record);
  }
  const LookupRecord& record(uint32_t slot) const { return slots_[slot].record; }
  // The record's position in model order (records[i]), O(log n).
  uint32_t IndexOf(uint32_t slot) const;
  // The slot an append takes.
  uint32_t end_slot() const { return static_cast<uint32_t>(slots_.size()); }

  // Slots of the records with this VSID and (specified) CA, or with this VSID
  // and MAC, in model order.
  std::vector<uint32_t> FindByCa(uint32_t vsid, const IpAddr& ca) const;
  std::vector<uint32_t> FindByMac(uint32_t vsid, const MacAddr& mac) const;

  // Applies an edit (validated or not); slots of other records stay valid
  // until an erase compacts the slots (at most once per erase, when dead
  // slots outnumber live ones).
  void Commit(const RecordEdit& edit);

  // ---- for ValidateRecordChange ----
  // The routing domain of a VSID, or -1.
  int RdOfVsid(uint32_t vsid) const;
  // Slots of the records in (rd, CA) / (rd, MAC), unordered.
  void CaGroup(int rd, const IpAddr& ca, std::vector<uint32_t>* slots) const;
  void MacGroup(int rd, const MacAddr& mac, std::vector<uint32_t>* slots) const;
  validate_internal::Validator& validator() const { return *validator_; }

 private:
  struct Slot {
    LookupRecord record;
    bool live = true;
  };
  struct CaKey {
    uint64_t group;
    IpAddr ca;
    friend bool operator==(const CaKey&, const CaKey&) = default;
  };
  struct MacKey {
    uint64_t group;
    uint64_t mac;
    friend bool operator==(const MacKey&, const MacKey&) = default;
  };
  struct KeyHash {
    size_t operator()(const CaKey& k) const noexcept;
    size_t operator()(const MacKey& k) const noexcept;
  };

  uint64_t GroupOf(uint32_t vsid) const;
  void Rebuild(std::vector<LookupRecord> records);
  void IndexSlot(uint32_t slot);
  void UnindexSlot(uint32_t slot);
  void FenwickAdd(uint32_t slot, int delta);

  std::unique_ptr<Policy> rest_;  // the validator keeps a reference to it
  std::unique_ptr<validate_internal::Validator> validator_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> fenwick_;  // 1-based, capacity a power of two
  size_t live_ = 0;
  std::unordered_multimap<CaKey, uint32_t, KeyHash> by_ca_;  // records with a CA
  std::unordered_multimap<MacKey, uint32_t, KeyHash> by_mac_;
};

// The errors ValidatePolicy would report, in its order and words, for the
// index's policy with `edit` applied, given that the index's policy is valid
// (as a running policy is). Empty: the edit is valid.
std::vector<PolicyError> ValidateRecordChange(const RecordIndex& index, const RecordEdit& edit);

}  // namespace hnv
