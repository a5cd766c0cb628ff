#include "config/journal_compact.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

namespace hnv::config {
namespace {

using nlohmann::json;

// The identity of a canonical object (policy_ops.h), as one string.
std::string IdentityKey(Kind kind, const json& o) {
  const std::vector<std::string> fields = IdentityFields(kind, o);
  json key = json::array();
  for (const std::string& f : fields) key.push_back(o.contains(f) ? o[f] : json());
  return key.dump();
}

// Appends the changes of one kind: removes, then sets, then news.
void DiffKind(Kind kind, const json& files, const json& running, std::vector<Change>* removes,
              std::vector<Change>* sets, std::vector<Change>* news) {
  std::map<std::string, std::vector<size_t>> by_key;  // files' indexes, ascending
  for (size_t j = 0; j < files.size(); ++j) by_key[IdentityKey(kind, files[j])].push_back(j);
  std::vector<bool> kept(files.size(), false);
  size_t next = 0;  // matches keep the files' order
  size_t k = 0;
  for (; k < running.size(); ++k) {
    auto it = by_key.find(IdentityKey(kind, running[k]));
    if (it == by_key.end()) break;
    auto j = std::lower_bound(it->second.begin(), it->second.end(), next);
    if (j == it->second.end()) break;
    kept[*j] = true;
    next = *j + 1;
    if (files[*j] != running[k]) sets->push_back(Change{"set", kind, running[k]});
  }
  for (size_t j = 0; j < files.size(); ++j)
    if (!kept[j]) removes->push_back(Change{"remove", kind, files[j]});
  for (; k < running.size(); ++k) news->push_back(Change{"new", kind, running[k]});
}

}  // namespace

std::unique_ptr<RecordIndex> ReplayChanges(Policy base, const std::vector<Change>& changes,
                                           const FromJsonOptions& options,
                                           std::vector<std::string>* skipped) {
  auto index = std::make_unique<RecordIndex>(std::move(base));
  for (const Change& c : changes) {
    std::string err;
    if (RecordPlan plan = PlanRecordChange(*index, c, options); plan.handled) {
      err = plan.error;
      if (err.empty()) index->Commit(plan.edit);
    } else {
      Policy next = index->ToPolicy();
      err = ApplyChange(&next, c, options);
      if (err.empty()) index = std::make_unique<RecordIndex>(std::move(next));
    }
    if (!err.empty()) skipped->push_back(c.op + " " + KindName(c.kind) + " skipped: " + err);
  }
  return index;
}

std::optional<std::vector<Change>> CompactChanges(const Policy& files, const Policy& running,
                                                  const FromJsonOptions& options) {
  std::vector<Change> removes, sets, news;
  std::vector<json> want;
  for (Kind kind : kAllKinds) {
    want.push_back(KindToJson(running, kind));
    DiffKind(kind, KindToJson(files, kind), want.back(), &removes, &sets, &news);
  }
  std::vector<Change> out = std::move(removes);
  out.insert(out.end(), sets.begin(), sets.end());
  out.insert(out.end(), news.begin(), news.end());

  std::vector<std::string> skipped;
  const Policy replayed = ReplayChanges(files, out, options, &skipped)->ToPolicy();
  if (!skipped.empty()) return std::nullopt;
  for (size_t i = 0; i < std::size(kAllKinds); ++i)
    if (KindToJson(replayed, kAllKinds[i]) != want[i]) return std::nullopt;
  return out;
}

}  // namespace hnv::config
