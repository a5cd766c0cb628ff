// Helpers for the store's tests: the repository's files, a StoreState made
// from documents without etcd, and error lists as text.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "config/host_config.h"
#include "config/policy_ops.h"
#include "config/store/import.h"
#include "config/store/store_state.h"

namespace hnv::store::test {

std::filesystem::path SourceDir();
std::filesystem::path ChapterDir();
// The chapter's lab: host1.yaml, host2.yaml and gateway/gateway.yaml.
std::vector<std::string> ChapterFiles();

// A state holding these documents (as if read from etcd), placement included.
StoreState StateOf(const ImportResult& im, const Layout& layout = Layout());
// Writes the documents of `im` into `state` as a writer would.
void PutAll(const ImportResult& im, StoreState* state);

std::string Join(const std::vector<config::ConfigError>& errors);

// A second tenant: Fabrikam, RDID ...0002, VSID 7000 on 10.0.1.0/24 (the
// same prefix as Contoso's), its DFGW, and one VM Fabrikam1 (10.0.1.101)
// on the host of `pa`.
std::string FabrikamYaml(const std::string& pa);

// One hnvctl change.
config::Change Change(const std::string& op, config::Kind kind, nlohmann::json object);

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  // Writes `text` to `name` (relative) and returns its path.
  std::string Write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

// Polls `done` every 20 ms until it holds, at most `limit`; its last answer.
template <typename F>
bool WaitFor(F&& done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// The text of a file of tests/unit/store/golden; with HNV_UPDATE_GOLDEN=1
// set, writes `actual` there instead (then review the diff).
std::string Golden(const std::string& name, const std::string& actual);

}  // namespace hnv::store::test
