// PlanRecordChange against ApplyChange, and journal compaction.
//  - Random lookup-record changes (new / set / upsert / remove, random subsets
//    of fields, colliding values, bad spellings) on the chapter's Host 1:
//    where PlanRecordChange handles a change, its error is ApplyChange's and
//    its edit gives ApplyChange's policy (records in the same order).
//  - ReplayChanges equals ApplyChange one change at a time, skips included.
//  - CompactChanges: a random journal over the files, compacted, replays to
//    the same running policy, and is shorter; files that already hold it
//    give an empty journal.
//  - Journal::Rewrite is atomic (temp file + rename) and reads back.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "config/journal_compact.h"
#include "config/policy/validate.h"
#include "config/policy_ops.h"
#include "tests/lib/chapter_policy.h"
#include "tests/lib/sanitized.h"

namespace hnv::config {
namespace {

using nlohmann::json;

template <typename T>
const T& Pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

// A random lookup-record change: a few of the fields, values that collide
// with the chapter's records and with each other, some bad ones.
Change RandomChange(std::mt19937& rng) {
  static const std::vector<json> cas = {"10.0.1.101", "10.0.1.102", "10.0.1.103", "10.0.1.120",
                                        "10.0.1.121", "0.0.0.0",    "::",         "10.0.1.1",
                                        "10.0.1.999", "10.0.2.101"};
  static const std::vector<json> vsids = {6000, 6000, 6000, 6001, "6000", 70000000, 5001};
  static const std::vector<json> macs = {"600060000101", "60-00-60-00-01-02", "02aa00000001",
                                         "02aa00000002", "02aa00000002",      "6000600001"};
  static const std::vector<json> pas = {"192.168.0.22", "192.168.0.33", "192.168.0.44", "bad"};
  static const std::vector<json> types = {"Static",          "Dynamic", "L2Only",
                                          "GatewayWildcard", "dynamic", "Weird"};
  static const std::vector<std::string> ops = {"new", "new", "set", "upsert", "remove", "remove"};
  Change c{Pick(rng, ops), Kind::kLookupRecord, json::object()};
  auto maybe = [&](const char* field, const std::vector<json>& pool, int percent) {
    if (std::uniform_int_distribution<int>(0, 99)(rng) < percent) c.object[field] = Pick(rng, pool);
  };
  maybe("customer_address", cas, 80);
  maybe("vsid", vsids, 90);
  maybe("mac", macs, c.op == "new" ? 90 : 40);
  maybe("provider_address", pas, c.op == "new" ? 90 : 40);
  maybe("type", types, 40);
  if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) c.object["vm_name"] = "vm";
  return c;
}

Policy TestFiles() {
  Policy p = test::ChapterHost1();

  return p;
}

TEST(PlanRecordChangeTest, EqualsApplyChange) {
  size_t handled = 0, errors = 0, edits = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    Policy p = TestFiles();
    auto index = std::make_unique<RecordIndex>(p);
    for (int step = 0; step < 300; ++step) {
      const Change c = RandomChange(rng);
      Policy want = p;
      const std::string want_err = ApplyChange(&want, c);
      const RecordPlan plan = PlanRecordChange(*index, c);
      if (!plan.handled) {
        if (want_err.empty()) {
          p = want;
          index = std::make_unique<RecordIndex>(p);
        }
        continue;
      }
      ++handled;
      ASSERT_EQ(plan.error, want_err)
          << "seed " << seed << " step " << step << ": " << ChangeToJson(c).dump();
      if (!want_err.empty()) {
        ++errors;
        continue;
      }
      index->Commit(plan.edit);
      p = want;
      ++edits;
      ASSERT_EQ(KindToJson(index->ToPolicy(), Kind::kLookupRecord),
                KindToJson(p, Kind::kLookupRecord))
          << "seed " << seed << " step " << step << ": " << ChangeToJson(c).dump();
    }
  }
  EXPECT_GT(errors, handled / 5);
  EXPECT_GT(edits, handled / 10);
  std::printf("%zu changes handled: %zu errors, %zu edits\n", handled, errors, edits);
}

// Random journals mixing kinds (the records through the index, a customer
// route and a VM adapter through ApplyChange).
std::vector<Change> RandomJournal(std::mt19937& rng, int n) {
  std::vector<Change> out;
  for (int i = 0; i < n; ++i) {
    const int what = std::uniform_int_distribution<int>(0, 19)(rng);
    if (what == 0) {
      out.push_back(Change{"new", Kind::kVmNetworkAdapter,
                           json{{"vm_name", "extra" + std::to_string(i)},
                                {"port", 20 + i},
                                {"mac", "02bb000000" + std::to_string(10 + i % 80)},
                                {"vsid", 6000}}});
    } else if (what == 1) {
      out.push_back(Change{"remove", Kind::kVmNetworkAdapter, json{{"vm_name", "Contoso1"}}});
    } else {
      out.push_back(RandomChange(rng));
    }
  }
  return out;
}

// What a daemon journals: the changes it accepted, each leaving the policy
// valid.
std::vector<Change> DaemonJournal(std::mt19937& rng, const Policy& files, int attempts) {
  std::vector<Change> out;
  Policy p = files;
  for (const Change& c : RandomJournal(rng, attempts)) {
    Policy next = p;
    if (!ApplyChange(&next, c).empty() || !ValidatePolicy(next).empty()) continue;
    out.push_back(c);
    p = std::move(next);
  }
  return out;
}

TEST(JournalCompactTest, ReplayEqualsApplyChangeAndCompactReplaysTheSame) {
  size_t before = 0, after = 0, compacted = 0;
  const uint32_t seeds = test::SanitizerScaled(60, 6);
  for (uint32_t seed = 1; seed <= seeds; ++seed) {
    std::mt19937 rng(seed);
    Policy files = TestFiles();
    std::vector<Change> journal = DaemonJournal(rng, files, 1500);
    // Journals also outlive edits of the files, and then some changes fail.
    if (seed % 3 == 0) files.records.erase(files.records.begin() + 2);
    if (seed % 4 == 0) journal.push_back(RandomChange(rng));

    Policy want = files;
    size_t want_skipped = 0;
    for (const Change& c : journal) {
      Policy next = want;
      if (ApplyChange(&next, c).empty())
        want = std::move(next);
      else
        ++want_skipped;
    }
    std::vector<std::string> skipped;
    const Policy running = ReplayChanges(files, journal, {}, &skipped)->ToPolicy();
    ASSERT_EQ(skipped.size(), want_skipped) << "seed " << seed;
    for (Kind k : kAllKinds)
      ASSERT_EQ(KindToJson(running, k), KindToJson(want, k)) << "seed " << seed;

    // A daemon compacts only a policy it runs, a valid one; for that one
    // there must be a compact form.
    const auto compact = CompactChanges(files, running);
    if (!ValidatePolicy(running).empty() && !compact) continue;
    ASSERT_TRUE(compact.has_value()) << "seed " << seed;
    skipped.clear();
    const Policy again = ReplayChanges(files, *compact, {}, &skipped)->ToPolicy();
    EXPECT_TRUE(skipped.empty());
    for (Kind k : kAllKinds)
      ASSERT_EQ(KindToJson(again, k), KindToJson(running, k)) << "seed " << seed;
    EXPECT_LE(compact->size(), journal.size());
    before += journal.size();
    after += compact->size();
    ++compacted;
  }
  EXPECT_GT(compacted * 3, seeds * 2);  // most journals compact
  EXPECT_LT(after * 2, before);
  std::printf("%zu journals of %zu changes compacted to %zu\n", compacted, before, after);
}

TEST(JournalCompactTest, FilesHoldingEverythingGiveNothing) {
  const Policy files = TestFiles();
  const auto compact = CompactChanges(files, files);
  ASSERT_TRUE(compact.has_value());
  EXPECT_TRUE(compact->empty());
  // Changes that cancel out compact to nothing too.
  const std::vector<Change> journal = {
      {"new", Kind::kLookupRecord,
       json{{"customer_address", "10.0.1.120"},
            {"vsid", 6000},
            {"mac", "02aa00000001"},
            {"provider_address", "192.168.0.33"}}},
      {"set", Kind::kLookupRecord,
       json{{"customer_address", "10.0.1.120"},
            {"vsid", 6000},
            {"provider_address", "192.168.0.22"}}},
      {"remove", Kind::kLookupRecord, json{{"customer_address", "10.0.1.120"}, {"vsid", 6000}}}};
  std::vector<std::string> skipped;
  const Policy running = ReplayChanges(files, journal, {}, &skipped)->ToPolicy();
  EXPECT_TRUE(skipped.empty());
  const auto none = CompactChanges(files, running);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST(JournalTest, RewriteIsAtomicAndReadsBack) {
  const std::string dir = ::testing::TempDir() + "journal_rewrite_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  Journal j(dir + "/host.journal");
  std::mt19937 rng(7);
  const std::vector<Change> first = RandomJournal(rng, 50);
  for (const Change& c : first) ASSERT_EQ(j.Append(c), "");
  std::vector<std::string> bad;
  ASSERT_EQ(j.Read(&bad).size(), first.size());
  const std::vector<Change> second(first.begin(), first.begin() + 5);
  ASSERT_EQ(j.Rewrite(second), "");
  EXPECT_FALSE(std::filesystem::exists(dir + "/host.journal.tmp"));
  const std::vector<Change> read = j.Read(&bad);
  EXPECT_TRUE(bad.empty());
  ASSERT_EQ(read.size(), second.size());
  for (size_t i = 0; i < read.size(); ++i)
    EXPECT_EQ(ChangeToJson(read[i]), ChangeToJson(second[i]));
  ASSERT_EQ(j.Rewrite({}), "");
  EXPECT_EQ(std::filesystem::file_size(dir + "/host.journal"), 0u);
  // Appends after a rewrite go to the new file.
  ASSERT_EQ(j.Append(first[0]), "");
  EXPECT_EQ(j.Read(&bad).size(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hnv::config
