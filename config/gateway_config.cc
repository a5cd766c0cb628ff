// LoadGatewayConfig: the gateway file and its includes, then each tenant file
// of the tenants directory (by name) and its includes, through the host
// file's loader (yaml_loader.h) with the gateway's own sections; then the
// tenant checks (yaml_tenant.h), the compartment ids, one VmPort per
// compartment, and ValidatePolicy on the whole. The phases and the error
// format are LoadHostConfig's (host_config.cc); the schema is in
// config/README.md ("Gateway configuration").
#include "config/gateway_config.h"

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <utility>

#include "config/policy/validate.h"
#include "config/yaml_loader.h"
#include "config/yaml_s2s.h"  // s2s (issue 12)
#include "config/yaml_tenant.h"

namespace hnv::config {
namespace {

using yaml::FieldOrigin;
using yaml::FileInfo;
using yaml::FileLoader;
using yaml::FileRole;
using yaml::Map;
using yaml::Reader;
using yaml::TenantDraft;
using yaml::Value;
namespace fs = std::filesystem;

constexpr std::string_view kGatewayKeys[] = {"tenants_dir", "namespace_prefix", "state_dir"};

// The gateway's sections and its rules on which file holds what.
class GatewaySections final : public FileLoader::Extension {
 public:
  explicit GatewaySections(const std::string& gateway_file)
      : gateway_file_(gateway_file),
        tenants_dir_((fs::path(gateway_file).parent_path() / "tenants").lexically_normal()) {}

  bool Allow(Reader& r, const Value& section, std::string_view key, const FileInfo& file) override {
    if (key == "vm_network_adapters") {
      r.Error(section.line, section.path,
              "a gateway has no VM network adapters; a tenant's interface into its VM network "
              "is tenant.vm_network in its tenant file");
      return false;
    }
    const bool host_level =
        key == "ports" || key == "provider_addresses" || key == "provider_routes";
    if (host_level && file.tree == FileRole::kOwn) {
      r.Error(section.line, section.path,
              std::string(key) + " belong in the gateway file (" + gateway_file_ +
                  "); a tenant file and the files it includes hold a tenant and its policy");
      return false;
    }
    return true;
  }

  void ReadSections(Reader& r, const Map& root, const FileInfo& file) override {
    if (const std::optional<Value> g = root.Get("gateway")) {
      if (file.role == FileRole::kMain)
        ReadGateway(r, *g);
      else
        r.Error(g->line, g->path,
                "only the gateway file (" + gateway_file_ + ") has a gateway section");
    }
    if (const std::optional<Value> t = root.Get("tenant")) {
      if (file.role == FileRole::kOwn) {
        tenants_.push_back(yaml::ReadTenant(r, *t));
      } else if (file.role == FileRole::kMain) {
        r.Error(t->line, t->path,
                "a tenant is a file of its own in the tenants directory (" + tenants_dir_.string() +
                    "), not a section of the gateway file");
      } else {
        r.Error(t->line, t->path,
                "only a tenant file (in " + tenants_dir_.string() +
                    ") has a tenant section; an included file holds policy");
      }
    } else if (file.role == FileRole::kOwn) {
      root.Need("tenant");
    }
    vpns_.push_back(yaml::ReadVpn(r, root, file.role == FileRole::kOwn));  // s2s (issue 12)
    // The tenant's NAT and load balancers (config/yaml_nat.h).
    const bool own = file.role == FileRole::kOwn;
    yaml::ReadNatSections(r, root, own, own && root.Get("tenant") ? &tenants_.back() : nullptr);
  }

  void EmptyFile(Reader& r, const FileInfo&) override {
    r.Error(0, "tenant", "missing required key \"tenant\" (the file is empty)");
  }

  const fs::path& tenants_dir() const { return tenants_dir_; }
  const FieldOrigin& tenants_dir_origin() const { return tenants_dir_origin_; }
  const std::string& namespace_prefix() const { return namespace_prefix_; }
  const std::string& state_dir() const { return state_dir_; }
  std::vector<TenantDraft>& tenants() { return tenants_; }
  std::vector<yaml::VpnDraft>& vpns() { return vpns_; }  // s2s (issue 12)

 private:
  void ReadGateway(Reader& r, const Value& v) {
    std::optional<Map> m = r.AsMap(v, kGatewayKeys);
    if (!m) return;
    tenants_dir_origin_ = FieldOrigin{m->path() + ".tenants_dir", m->line()};
    if (const std::optional<Value> x = m->Get("tenants_dir")) {
      tenants_dir_origin_ = FieldOrigin{x->path, x->line};
      if (std::optional<std::string> text = r.Text(*x, "a directory")) {
        if (text->empty()) {
          r.Error(x->line, x->path, "an empty path is not a directory");
        } else {
          fs::path p(*text);
          if (p.is_relative()) p = fs::path(gateway_file_).parent_path() / p;
          tenants_dir_ = p.lexically_normal();
        }
      }
    }
    if (const std::optional<Value> x = m->Get("namespace_prefix")) {
      if (std::optional<std::string> text = r.Text(*x, "a namespace prefix")) {
        if (!yaml::NamespaceNameProblem(*text + "x").empty()) {
          r.Error(x->line, x->path,
                  "\"" + *text +
                      "\" is not a namespace prefix (letters, digits, '.', '_' and '-', not "
                      "starting with '.' or '-')");
        } else {
          namespace_prefix_ = *text;
        }
      }
    }
    if (const std::optional<Value> x = m->Get("state_dir")) {
      if (std::optional<std::string> text = r.Text(*x, "a directory")) {
        if (text->empty() || (*text)[0] != '/')
          r.Error(x->line, x->path, "\"" + *text + "\" is not an absolute path");
        else
          state_dir_ = *text;
      }
    }
  }

  std::string gateway_file_;
  fs::path tenants_dir_;
  FieldOrigin tenants_dir_origin_{"gateway.tenants_dir", 0};
  std::string namespace_prefix_ = "hnv-";
  std::string state_dir_;
  std::vector<TenantDraft> tenants_;
  std::vector<yaml::VpnDraft> vpns_;  // s2s (issue 12): one per file read
};

// The *.yaml files directly in `dir` (not hidden ones: editors' lock files
// are ".#name.yaml"), sorted by name; nullopt with the reason when the
// directory cannot be read.
std::optional<std::vector<std::string>> TenantFiles(const fs::path& dir, std::string* why) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    *why = ec.message();
    return std::nullopt;
  }
  std::vector<std::string> names;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (name.size() > 5 && name[0] != '.' && name.ends_with(".yaml") &&
        it->is_regular_file(type_ec))
      names.push_back(name);
  }
  if (ec) {
    *why = ec.message();
    return std::nullopt;
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> files;
  for (const std::string& name : names) files.push_back((dir / name).string());
  return files;
}

// Stable ids: a tenant of `previous` keeps its id; the others, in file order,
// take the lowest id nobody keeps or took.
void AssignIds(std::vector<TenantDraft>* tenants, const std::map<std::string, uint32_t>& previous,
               yaml::ErrorList* errors) {
  std::vector<bool> used(kMaxCompartments, false);
  std::vector<bool> assigned(tenants->size(), false);
  for (size_t i = 0; i < tenants->size(); ++i) {
    CompartmentSpec& s = (*tenants)[i].spec;
    const auto it = previous.find(s.name);
    if (s.name.empty() || it == previous.end() || it->second >= kMaxCompartments ||
        used[it->second])
      continue;
    s.id = it->second;
    used[s.id] = true;
    assigned[i] = true;
  }
  uint32_t next = 0;
  for (size_t i = 0; i < tenants->size(); ++i) {
    if (assigned[i]) continue;
    TenantDraft& t = (*tenants)[i];
    while (next < kMaxCompartments && used[next]) ++next;
    if (next == kMaxCompartments) {
      errors->Add(t.file, t.file_name, t.name.line, t.name.path,
                  "a gateway has at most " + std::to_string(kMaxCompartments) +
                      " compartments; no id is left for tenant " + t.spec.name);
      continue;
    }
    t.spec.id = next;
    used[next] = true;
  }
}

// The compartment's interface into its VM network, as the dataplane sees it:
// a local VM adapter on the gateway VSID. A trusted one: the compartment is
// the tenant's router (it forwards sources from outside the VM network, and
// its kernel may send redirects), and no VM's: no port security.
void AddVmPort(const TenantDraft& t, yaml::PolicyBuilder* b) {
  const CompartmentSpec& s = t.spec;
  VmPort port{"compartment " + s.name, s.vm_port, s.vm_mac, s.vsid};
  port.Trust();
  b->policy.vm_ports.push_back(port);
  yaml::ElementOrigin o{t.file, t.vm.path, t.vm.line, {}};
  o.Set("vm_name", t.name);
  o.Set("port", t.name);
  o.Set("mac", t.mac);
  o.Set("vsid", t.vsid);
  b->origins.vm_ports.push_back(std::move(o));
}

}  // namespace

GatewayLoadResult LoadGatewayConfig(const std::string& path,
                                    const std::map<std::string, uint32_t>& previous_ids) {
  GatewaySections sections(path);
  FileLoader loader(kGatewayFileKeys, "gateway file", &sections);
  loader.Load(path, FileRole::kMain);
  HostConfig& host = loader.config();
  yaml::PolicyBuilder& builder = loader.builder();
  yaml::ErrorList& errors = loader.errors();

  GatewayConfig gw;
  gw.tenants_dir = sections.tenants_dir().string();
  std::string why;
  if (std::optional<std::vector<std::string>> files = TenantFiles(sections.tenants_dir(), &why)) {
    const std::string gateway_id = yaml::FileIdentity(path);
    for (const std::string& file : *files) {
      if (yaml::FileIdentity(file) == gateway_id) continue;  // tenants_dir: .
      if (loader.IsLoaded(file)) {
        errors.Add(static_cast<int>(host.files.size()), file, 0, "",
                   "this file is included by the gateway file's configuration, but every *.yaml "
                   "in the tenants directory is a tenant file, read on its own");
        continue;
      }
      gw.tenant_files.push_back(file);
      loader.Load(file, FileRole::kOwn);
    }
  } else {
    const FieldOrigin& o = sections.tenants_dir_origin();
    errors.Add(0, path, o.line, o.path,
               "cannot read the tenants directory " + gw.tenants_dir + ": " + why);
  }

  yaml::ResolvePorts(host.ports, &builder, &errors);
  yaml::ResolveLocalPas(&builder, &errors);
  if (host.ports.size() > kFirstVirtualPort) {
    const yaml::PortOrigin& o = loader.port_origins()[kFirstVirtualPort];
    errors.Add(o.file, host.files[static_cast<size_t>(o.file)], o.name.line, o.name.path,
               "a gateway has at most " + std::to_string(kFirstVirtualPort) +
                   " ports (policy ports " + std::to_string(kFirstVirtualPort) +
                   ".. are its compartments' interfaces into their VM networks)");
  }
  std::vector<TenantDraft>& tenants = sections.tenants();
  yaml::CheckTenants(&tenants, sections.namespace_prefix(), host.ports, builder, host.files,
                     &errors);
  for (TenantDraft& t : tenants) yaml::CheckNat(&t, host.files, &errors);  // config/yaml_nat.h
  AssignIds(&tenants, previous_ids, &errors);
  if (errors.empty()) {
    for (TenantDraft& t : tenants) {
      if (!yaml::ResolveTenant(&t, builder, host.files, &errors)) continue;
      AddVmPort(t, &builder);
      yaml::ResolveNat(&t, builder, host.files, &errors);  // config/yaml_nat.h
    }
    if (errors.empty()) {  // s2s: each tenant's site_to_site/bgp/point_to_site
      std::map<std::string, TenantVpn> vpns = yaml::CheckVpns(&sections.vpns(), tenants, builder, &errors);
      for (TenantDraft& t : tenants) {  // a tenant without them keeps an empty TenantVpn
        TenantVpn& v = vpns[t.spec.name];
        if (v.NeedsCharon() || v.NeedsFrr()) t.spec.vpn = std::move(v);
      }
    }
    yaml::AddPolicyErrors(ValidatePolicy(builder.policy), builder.origins, host.files, host.ports,
                          &errors);
  }

  GatewayLoadResult result;
  result.errors = errors.TakeSorted();
  if (!result.errors.empty()) return result;
  host.policy = std::move(builder.policy);
  gw.namespace_prefix = sections.namespace_prefix();
  gw.state_dir =
      sections.state_dir().empty() ? "/var/lib/hnv/" + host.host_name : sections.state_dir();
  for (TenantDraft& t : tenants) {
    t.spec.nat = std::move(t.nat.spec);
    gw.compartments.push_back(std::move(t.spec));
  }
  gw.host = std::move(host);
  result.config = std::move(gw);
  return result;
}

}  // namespace hnv::config
