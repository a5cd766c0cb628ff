// ValidateRecordChange against ValidatePolicy: on random valid policies
// (small subnets, few MACs and PAs, a gateway on its own VSID, VM ports, so
// that edits collide), every random single-record edit (append, replace with
// a new or a mutated record, erase) gets exactly ValidatePolicy's errors on
// the edited policy: same paths, messages and order. Valid edits are
// committed, so the walk also checks RecordIndex's order, lookups and
// compaction against a plain Policy.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "config/policy/record_index.h"
#include "config/policy/validate.h"
#include "tests/lib/chapter_policy.h"
#include "tests/lib/random_policy.h"
#include "tests/lib/sanitized.h"

namespace hnv {
namespace {

using test::Ip;
using test::Mac;
using test::Pools;
using test::Rdid;
using test::RandomRecord;
using test::RandomShape;
using test::MakeValid;
using test::Mutate;

Policy Applied(const Policy& p, const RecordIndex& index, const RecordEdit& e) {
  Policy q = p;
  const size_t i = e.op == RecordEdit::Op::kAppend ? q.records.size() : index.IndexOf(e.slot);
  switch (e.op) {
    case RecordEdit::Op::kAppend:
      q.records.push_back(e.record);
      break;
    case RecordEdit::Op::kReplace:
      q.records[i] = e.record;
      break;
    case RecordEdit::Op::kErase:
      q.records.erase(q.records.begin() + static_cast<long>(i));
      break;
  }
  return q;
}

bool SameRecords(const std::vector<LookupRecord>& a, const std::vector<LookupRecord>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].ca != b[i].ca || a[i].vsid != b[i].vsid || a[i].mac != b[i].mac ||
        a[i].pa != b[i].pa || a[i].rule != b[i].rule || a[i].type != b[i].type)
      return false;
  return true;
}

std::string Dump(const std::vector<PolicyError>& errors) {
  std::string s;
  for (const PolicyError& e : errors) s += "  " + e.ToString() + "\n";
  return s;
}

TEST(ValidateRecordChangeTest, EqualsValidatePolicyOnRandomEdits) {
  const Pools pools;
  size_t checked = 0, refused = 0, committed = 0;
  // Each rule that involves other records must be hit (by the refusals).
  const char* const kRules[] = {"is already used by",
                                "one L2Only record per MAC",
                                "differs from",
                                "vm_ports[",
                                "is the subnet of the gateway",
                                "is the default gateway of",
                                "is the broadcast address",
                                "is unreachable"};
  size_t seen[std::size(kRules)] = {};
  for (uint32_t seed = 1, seeds = test::SanitizerScaled(150, 3); seed <= seeds; ++seed) {
    std::mt19937 rng(seed);
    Policy p = RandomShape(rng);
    const int n = std::uniform_int_distribution<int>(5, 60)(rng);
    for (int i = 0; i < n; ++i) p.records.push_back(RandomRecord(rng, pools));
    MakeValid(&p);
    if (HasFatalFailure()) return;
    RecordIndex index(p);
    for (int step = 0; step < 400; ++step) {
      RecordEdit e;
      const int what = std::uniform_int_distribution<int>(0, 9)(rng);
      if (index.size() == 0 || what < 3) {
        e = RecordEdit{RecordEdit::Op::kAppend, 0, RandomRecord(rng, pools)};
      } else {
        // A live slot: the record at a random model index.
        const uint32_t target = std::uniform_int_distribution<uint32_t>(
            0, static_cast<uint32_t>(index.size()) - 1)(rng);
        uint32_t slot = 0;
        while (index.IndexOf(slot) != target || index.IndexOf(slot + 1) != target + 1) ++slot;
        if (what < 5)
          e = RecordEdit{RecordEdit::Op::kReplace, slot, RandomRecord(rng, pools)};
        else if (what < 8)
          e = RecordEdit{RecordEdit::Op::kReplace, slot, Mutate(rng, pools, index.record(slot))};
        else
          e = RecordEdit{RecordEdit::Op::kErase, slot, {}};
      }
      const Policy next = Applied(p, index, e);
      const std::vector<PolicyError> want = ValidatePolicy(next);
      const std::vector<PolicyError> got = ValidateRecordChange(index, e);
      ++checked;
      ASSERT_EQ(got, want) << "seed " << seed << " step " << step << " op "
                           << static_cast<int>(e.op) << "\nValidatePolicy:\n"
                           << Dump(want) << "ValidateRecordChange:\n"
                           << Dump(got);
      if (!want.empty()) {
        ++refused;
        for (const PolicyError& err : want)
          for (size_t k = 0; k < std::size(kRules); ++k)
            if (err.ToString().find(kRules[k]) != std::string::npos) ++seen[k];
        continue;
      }
      index.Commit(e);
      p = next;
      ++committed;
      ASSERT_TRUE(SameRecords(index.ToPolicy().records, p.records)) << "seed " << seed;
    }
  }
  // The walk must exercise both verdicts, many times.
  EXPECT_GT(refused, checked / 5);
  EXPECT_GT(committed, checked / 10);
  for (size_t k = 0; k < std::size(kRules); ++k) EXPECT_GT(seen[k], 10u) << kRules[k];
  std::printf("%zu edits checked: %zu refused, %zu committed\n", checked, refused, committed);
}

// Lookups by identity and model order survive appends, erases and the
// compaction that erases trigger.
TEST(RecordIndexTest, OrderAndLookupsAcrossCompaction) {
  Policy p = test::ChapterHost1();
  const size_t base = p.records.size();
  RecordIndex index(p);
  const uint32_t vsid = p.records.back().vsid;
  auto rec = [&](uint32_t i) {
    LookupRecord r;
    r.vsid = vsid;
    r.ca = IpAddr::V4(0x0a640000u + i);
    r.mac = Mac("02aa00000000");
    r.mac.b[4] = static_cast<uint8_t>(i >> 8);
    r.mac.b[5] = static_cast<uint8_t>(i);
    r.pa = Ip("192.168.0.22");
    return r;
  };
  for (uint32_t i = 0; i < 5000; ++i) index.Commit(RecordEdit{RecordEdit::Op::kAppend, 0, rec(i)});
  for (uint32_t i = 0; i < 5000; i += 2) {
    const auto slots = index.FindByCa(vsid, rec(i).ca);
    ASSERT_EQ(slots.size(), 1u);
    index.Commit(RecordEdit{RecordEdit::Op::kErase, slots[0], {}});
  }
  for (uint32_t i = 1; i < 4000; i += 2) {
    const auto slots = index.FindByCa(vsid, rec(i).ca);
    ASSERT_EQ(slots.size(), 1u);
    index.Commit(RecordEdit{RecordEdit::Op::kErase, slots[0], {}});
  }
  ASSERT_EQ(index.size(), base + 500);
  const Policy q = index.ToPolicy();
  for (uint32_t k = 0; k < 500; ++k) {
    const uint32_t i = 4001 + 2 * k;
    EXPECT_EQ(q.records[base + k].ca, rec(i).ca);
    const auto slots = index.FindByMac(vsid, rec(i).mac);
    ASSERT_EQ(slots.size(), 1u);
    EXPECT_EQ(index.IndexOf(slots[0]), base + k);
  }
}

}  // namespace
}  // namespace hnv

namespace hnv {
namespace {

// The cost of one validated edit does not grow with the table: appends and
// migrations (replace with another PA) at 1,000 and at 100,000 records.
// Printed, not asserted (timings on a shared machine).
TEST(RecordIndexTest, EditCostIsFlat) {
  for (const uint32_t n : {1'000u, 100'000u}) {
    Policy p = test::ChapterHost1();
    const uint32_t vsid = 9000;
    p.routing_domains.push_back(RoutingDomain{Rdid("{12345678-0000-0000-0000-000000000099}"), ""});
    p.subnets.push_back({vsid, p.routing_domains.back().rdid, {test::Prefix("10.0.0.0/14")}});
    auto rec = [&](uint32_t i) {
      LookupRecord r;
      r.vsid = vsid;
      r.ca = IpAddr::V4(0x0a010000u + i);
      r.mac = Mac("02aa00000000");
      r.mac.b[3] = static_cast<uint8_t>(i >> 16);
      r.mac.b[4] = static_cast<uint8_t>(i >> 8);
      r.mac.b[5] = static_cast<uint8_t>(i);
      r.pa = i % 2 ? Ip("192.168.0.33") : Ip("192.168.0.44");
      return r;
    };
    for (uint32_t i = 0; i < n; ++i) p.records.push_back(rec(i));
    ASSERT_TRUE(ValidatePolicy(p).empty()) << ValidatePolicy(p).front().ToString();
    RecordIndex index(std::move(p));
    constexpr uint32_t kEdits = 20'000;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint32_t k = 0; k < kEdits; ++k) {
      RecordEdit e;
      if (k % 2 == 0) {
        e = RecordEdit{RecordEdit::Op::kAppend, 0, rec(n + k)};
      } else {
        const uint32_t slot = index.FindByCa(vsid, rec(k * 7 % n).ca).front();
        LookupRecord moved = index.record(slot);
        moved.pa = moved.pa == Ip("192.168.0.33") ? Ip("192.168.0.44") : Ip("192.168.0.33");
        e = RecordEdit{RecordEdit::Op::kReplace, slot, moved};
      }
      ASSERT_TRUE(ValidateRecordChange(index, e).empty());
      index.Commit(e);
    }
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%u records: %.2f us per validated edit (append or migration)\n", n, us / kEdits);
  }
}

}  // namespace
}  // namespace hnv
