#include "tests/unit/store/store_test_util.h"

#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace hnv::store::test {

namespace fs = std::filesystem;

fs::path SourceDir() {
  if (const char* env = std::getenv("HNV_SOURCE_DIR")) return env;
  return HNV_SOURCE_ROOT;
}

fs::path ChapterDir() { return SourceDir() / "config" / "examples" / "chapter"; }

std::vector<std::string> ChapterFiles() {
  return {(ChapterDir() / "host1.yaml").string(), (ChapterDir() / "host2.yaml").string(),
          (ChapterDir() / "gateway" / "gateway.yaml").string()};
}

void PutAll(const ImportResult& im, StoreState* s) {
  const Layout& l = s->layout();
  int64_t rev = s->revision;
  for (const auto& [name, h] : im.hosts) s->Put(KeyValue{l.Host(name), ToJson(h), 0, ++rev, 1, 0});
  for (const auto& [name, t] : im.tenants)
    s->Put(KeyValue{l.TenantSpec(name), ToJson(t), 0, ++rev, 1, 0});
  for (const auto& [tenant, vms] : im.vms)
    for (const auto& [name, vm] : vms) {
      if (const VmDoc* old = s->FindVm(name); old != nullptr && old->tenant == tenant)
        s->Erase(l.Placement(old->host, tenant, name));
      s->Put(KeyValue{l.Vm(tenant, name), ToJson(vm), 0, ++rev, 1, 0});
      s->Put(KeyValue{l.Placement(vm.host, tenant, name), "", 0, ++rev, 1, 0});
    }
}

StoreState StateOf(const ImportResult& im, const Layout& layout) {
  StoreState s(layout);
  PutAll(im, &s);
  return s;
}

std::string Join(const std::vector<config::ConfigError>& errors) {
  std::string out;
  for (const config::ConfigError& e : errors) out += e.ToString() + "\n";
  return out;
}

std::string FabrikamYaml(const std::string& pa) {
  return R"(routing_domains:
  - rdid: "{12345678-1000-2000-3000-123456780002}"
    name: Fabrikam
    virtual_subnets:
      - vsid: 7000
        prefix: 10.0.1.0/24
lookup_records:
  - customer_address: 10.0.1.1
    vsid: 7000
    mac: 700070000100
    provider_address: local
  - customer_address: 10.0.1.101
    vsid: 7000
    mac: 700070000101
    provider_address: )" +
         pa + R"(
    vm_name: Fabrikam1
)";
}

config::Change Change(const std::string& op, config::Kind kind, nlohmann::json object) {
  config::Change c;
  c.op = op;
  c.kind = kind;
  c.object = std::move(object);
  return c;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/hnv-store-unit-XXXXXX";
  if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& name, const std::string& text) const {
  const fs::path p = path_ / name;
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
  return p.string();
}

std::string Golden(const std::string& name, const std::string& actual) {
  const fs::path p = SourceDir() / "tests" / "unit" / "store" / "golden" / name;
  if (const char* u = std::getenv("HNV_UPDATE_GOLDEN"); u != nullptr && std::string(u) == "1") {
    std::ofstream(p) << actual;
    return actual;
  }
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace hnv::store::test
