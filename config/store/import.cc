#include "config/store/import.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "config/gateway_config.h"
#include "config/json_model.h"
#include "config/store/vm_records.h"
#include "config/yaml_loader.h"
#include "config/policy/policy_dump.h"

namespace hnv::store {
namespace {

using config::ConfigError;
using config::yaml::ElementOrigin;
using config::yaml::FieldOrigin;
using config::yaml::FileLoader;
using config::yaml::FileRole;

enum class FileKind : uint8_t { kHost, kGateway, kTenant };

FileKind KindOf(const std::string& path) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    if (root.IsMap() && root["gateway"]) return FileKind::kGateway;
    if (root.IsMap() && root["host"]) return FileKind::kHost;
  } catch (const YAML::Exception&) {
    // The loader reports it with its line.
  }
  return FileKind::kTenant;
}


// Reads the shared sections only: gateway: and tenant: were checked by
// LoadGatewayConfig, whose compartments we take.
class SharedSections final : public FileLoader::Extension {
 public:
  bool Allow(config::yaml::Reader&, const config::yaml::Value&, std::string_view,
             const config::yaml::FileInfo&) override {
    return true;
  }
  void ReadSections(config::yaml::Reader&, const config::yaml::Map&,
                    const config::yaml::FileInfo&) override {}
  void EmptyFile(config::yaml::Reader&, const config::yaml::FileInfo&) override {}
};

std::string Key(const nlohmann::json& j) { return j.dump(); }

// "Contoso Ltd." -> "contoso-ltd."-ish: a tenant name from a routing domain's.
std::string TenantNameOf(const RoutingDomain& rd) {
  std::string s;
  for (char c : rd.name) {
    const auto u = static_cast<unsigned char>(c);
    s += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : (c == '_' ? '_' : '-');
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  while (!s.empty() && s.front() == '-') s.erase(s.begin());
  if (!s.empty()) return s;
  return "rd-" + rd.rdid.ToString().substr(1, 8);
}

class Importer {
 public:
  explicit Importer(const StoreState& current) : current_(current) {}
  void File(const std::string& path);
  ImportResult Finish();

 private:
  template <typename T>
  struct Item {
    T value;
    ElementOrigin origin;
  };
  struct Record {
    LookupRecord r;
    bool local = false;
    ElementOrigin origin;
  };
  struct Adapter {
    VmPort vp;
    std::string host;
    std::string port;
    ElementOrigin origin;
  };
  struct Compartment {
    std::string name;
    GatewayDoc doc;
    ElementOrigin origin;
  };

  int TableFile(const std::string& name) {
    std::vector<std::string>& files = out_.origins.files;
    const auto it = std::find(files.begin(), files.end(), name);
    if (it != files.end()) return static_cast<int>(it - files.begin());
    files.push_back(name);
    return static_cast<int>(files.size() - 1);
  }
  ElementOrigin Mapped(ElementOrigin o, const std::vector<std::string>& files) {
    o.file = TableFile(files[static_cast<size_t>(o.file)]);
    return o;
  }
  void Error(const ElementOrigin& o, const std::string& field, std::string message) {
    const FieldOrigin* f = o.Find(field);
    out_.errors.push_back(ConfigError{out_.origins.files[static_cast<size_t>(o.file)],
                                      f ? f->line : o.line, f ? f->path : o.path,
                                      std::move(message)});
  }
  template <typename T>
  static void AddOnce(std::vector<Item<T>>* items, const T& v, ElementOrigin o) {
    const std::string k = Key(config::ToJson(v));
    for (const Item<T>& i : *items)
      if (Key(config::ToJson(i.value)) == k) return;
    items->push_back(Item<T>{v, std::move(o)});
  }
  void Collect(FileLoader& loader, FileKind kind, const config::GatewayConfig* gw);
  void MakeTenants();
  void MakeVms();

  const StoreState& current_;
  ImportResult out_;
  std::vector<Item<RoutingDomain>> rds_;
  std::vector<Item<VirtualSubnet>> subnets_;
  std::vector<Item<CustomerRoute>> routes_;
  std::vector<Record> records_;
  std::vector<Adapter> adapters_;
  std::vector<Compartment> compartments_;
  std::map<uint32_t, std::string> vsid_tenant_;  // imported tenants' VSIDs
};

void Importer::File(const std::string& path) {
  const FileKind kind = KindOf(path);
  std::optional<config::GatewayConfig> gw;
  // First as the daemons load them: the same checks and messages.
  if (kind == FileKind::kHost) {
    config::LoadResult r = config::LoadHostConfig(path);
    if (!r.errors.empty()) {
      for (ConfigError& e : r.errors) out_.errors.push_back(std::move(e));
      return;
    }
  } else if (kind == FileKind::kGateway) {
    std::map<std::string, uint32_t> ids;
    for (const auto& [name, t] : current_.tenants)
      if (t.gateway) ids[name] = t.gateway->spec.id;
    config::GatewayLoadResult r = config::LoadGatewayConfig(path, ids);
    if (!r.errors.empty()) {
      for (ConfigError& e : r.errors) out_.errors.push_back(std::move(e));
      return;
    }
    gw = std::move(r.config);
  }
  SharedSections sections;
  FileLoader loader(config::kGatewayFileKeys, kind == FileKind::kGateway ? "gateway file" : "host file", &sections);
  loader.Load(path, kind == FileKind::kTenant ? FileRole::kOwn : FileRole::kMain);
  if (gw)
    for (const std::string& f : gw->tenant_files) loader.Load(f, FileRole::kOwn);
  config::yaml::PolicyBuilder& b = loader.builder();
  config::yaml::ErrorList& errors = loader.errors();
  config::yaml::ResolvePorts(loader.config().ports, &b, &errors);
  for (ConfigError& e : errors.TakeSorted()) out_.errors.push_back(std::move(e));
  if (kind == FileKind::kTenant) {
    const Policy& p = b.policy;
    auto refuse = [&](const std::vector<ElementOrigin>& section, const char* what) {
      if (section.empty()) return;
      out_.errors.push_back(ConfigError{path, section.front().line, section.front().path,
                                        std::string(what) +
                                            " belong in a host file; a tenant file holds "
                                            "routing domains and lookup records"});
    };
    refuse(b.origins.provider_addresses, "provider addresses");
    refuse(b.origins.provider_routes, "provider routes");
    refuse(b.origins.vm_ports, "VM network adapters");
    if (!p.provider_addresses.empty() || !p.provider_routes.empty() || !p.vm_ports.empty()) return;
  }
  Collect(loader, kind, gw ? &*gw : nullptr);
}

void Importer::Collect(FileLoader& loader, FileKind kind, const config::GatewayConfig* gw) {
  const config::HostConfig& hc = loader.config();
  config::yaml::PolicyBuilder& b = loader.builder();
  const Policy& p = b.policy;
  const std::vector<std::string>& files = hc.files;
  if (kind != FileKind::kTenant) {
    HostDoc h;
    h.name = hc.host_name;
    h.settings = p.settings;
    h.ports = hc.ports;
    h.provider_addresses = p.provider_addresses;
    h.provider_routes = p.provider_routes;
    if (gw) {
      h.role = HostDoc::Role::kGateway;
      h.namespace_prefix = gw->namespace_prefix;
      h.state_dir = gw->state_dir;
    }
    if (out_.hosts.count(h.name)) {
      out_.errors.push_back(ConfigError{files[0], 0, "host.name",
                                        h.name + " is the host of two files applied together"});
      return;
    }
    const std::string id = "host/" + h.name;
    out_.origins.elements[id] = ElementOrigin{TableFile(files[0]), "host", 0, {}};
    out_.origins.elements[id + "/settings"] = Mapped(b.origins.settings, files);
    for (size_t i = 0; i < p.provider_addresses.size(); ++i)
      out_.origins.elements[id + "/pa/" + std::to_string(i)] =
          Mapped(b.origins.provider_addresses[i], files);
    for (size_t i = 0; i < p.provider_routes.size(); ++i)
      out_.origins.elements[id + "/route/" + std::to_string(i)] =
          Mapped(b.origins.provider_routes[i], files);
    for (size_t i = 0; i < p.vm_ports.size(); ++i)
      adapters_.push_back(Adapter{p.vm_ports[i], h.name, hc.ports[p.vm_ports[i].port].name,
                                  Mapped(b.origins.vm_ports[i], files)});
    out_.hosts[h.name] = std::move(h);
  }
  if (gw) {
    for (size_t i = 0; i < gw->compartments.size(); ++i) {
      const config::CompartmentSpec& c = gw->compartments[i];
      compartments_.push_back(Compartment{
          c.name, GatewayDoc{gw->host.host_name, c},
          ElementOrigin{TableFile(c.file.empty() ? gw->tenant_files[i] : c.file), "tenant", 0, {}}});
    }
  }
  for (size_t i = 0; i < p.routing_domains.size(); ++i)
    AddOnce(&rds_, p.routing_domains[i], Mapped(b.origins.routing_domains[i], files));
  for (size_t i = 0; i < p.subnets.size(); ++i)
    AddOnce(&subnets_, p.subnets[i], Mapped(b.origins.subnets[i], files));
  for (size_t i = 0; i < p.customer_routes.size(); ++i)
    AddOnce(&routes_, p.customer_routes[i], Mapped(b.origins.customer_routes[i], files));
  std::set<size_t> local;
  for (const config::yaml::LocalPaRef& ref : b.local_pas) local.insert(ref.record);
  for (size_t i = 0; i < p.records.size(); ++i) {
    Record rec{p.records[i], local.count(i) != 0, Mapped(b.origins.records[i], files)};
    if (rec.local) rec.r.pa = IpAddr{};
    const std::string k = Key(config::ToJson(rec.r)) + (rec.local ? "local" : "");
    if (std::none_of(records_.begin(), records_.end(), [&](const Record& o) {
          return Key(config::ToJson(o.r)) + (o.local ? "local" : "") == k;
        }))
      records_.push_back(std::move(rec));
  }
}

void Importer::MakeTenants() {
  std::map<std::string, Guid> taken;  // tenant name -> its RDID
  for (const Item<RoutingDomain>& rd : rds_) {
    const auto c = std::find_if(compartments_.begin(), compartments_.end(), [&](const Compartment& x) {
      return x.doc.spec.rdid == rd.value.rdid;
    });
    const std::string name = c != compartments_.end() ? c->name : TenantNameOf(rd.value);
    if (const auto t = taken.find(name); t != taken.end()) {
      if (!(t->second == rd.value.rdid))
        Error(rd.origin, "name",
              "routing domain " + rd.value.rdid.ToString() + " would be tenant " + name +
                  ", which is already routing domain " + t->second.ToString() +
                  "'s; give them different names");
      else
        Error(rd.origin, "rdid",
              rd.value.rdid.ToString() + " is declared twice with different contents (a routing "
                                         "domain is declared once, in one file)");
      continue;
    }
    taken[name] = rd.value.rdid;
    TenantDoc t;
    t.name = name;
    t.routing_domain = rd.value;
    const std::string id = "tenant/" + name;
    out_.origins.elements[id + "/rd"] = rd.origin;
    for (const Item<VirtualSubnet>& s : subnets_) {
      if (!(s.value.rdid == rd.value.rdid)) continue;
      out_.origins.elements[id + "/subnet/" + std::to_string(t.subnets.size())] = s.origin;
      t.subnets.push_back(s.value);
      vsid_tenant_[s.value.vsid] = name;
    }
    for (const Item<CustomerRoute>& r : routes_) {
      if (!(r.value.rdid == rd.value.rdid)) continue;
      out_.origins.elements[id + "/route/" + std::to_string(t.customer_routes.size())] = r.origin;
      t.customer_routes.push_back(r.value);
    }
    if (c != compartments_.end()) {
      t.gateway = c->doc;
      out_.origins.elements[id + "/gateway"] = c->origin;
    } else if (const auto was = current_.tenants.find(name);
               was != current_.tenants.end() && was->second.gateway &&
               !out_.hosts.count(was->second.gateway->host)) {
      // The tenant's compartment is its gateway file's: without that file
      // here (host and tenant files only), the store's stays.
      t.gateway = was->second.gateway;
    }
    out_.tenants[name] = std::move(t);
  }
  for (const Record& rec : records_) {
    if (!rec.local) continue;
    const auto t = vsid_tenant_.find(rec.r.vsid);
    if (t == vsid_tenant_.end()) continue;  // reported with the VMs' records
    TenantDoc& td = out_.tenants[t->second];
    out_.origins.elements["tenant/" + td.name + "/local/" + std::to_string(td.local_records.size())] =
        rec.origin;
    td.local_records.push_back(rec.r);
  }
}

void Importer::MakeVms() {
  const std::map<IpAddr, std::string> pa_host = PaHosts(current_, out_.hosts);
  std::map<uint32_t, std::string> store_vsids;  // the store's tenants not in the files
  for (const auto& [name, t] : current_.tenants)
    if (!out_.tenants.count(name))
      for (const VirtualSubnet& s : t.subnets) store_vsids[s.vsid] = name;
  // Each tenant's records, grouped into VMs.
  std::map<std::string, std::vector<const Record*>> by_tenant;
  for (const Record& rec : records_) {
    const auto t = vsid_tenant_.find(rec.r.vsid);
    if (t == vsid_tenant_.end()) {
      const auto s = store_vsids.find(rec.r.vsid);
      Error(rec.origin, "vsid",
            std::to_string(rec.r.vsid) + " is not a virtual subnet of a routing domain in these files" +
                (s != store_vsids.end()
                     ? " (it is tenant " + s->second +
                           "'s in the store: apply that tenant's routing domain with its records)"
                     : ""));
      continue;
    }
    if (!rec.local) by_tenant[t->second].push_back(&rec);
  }
  std::map<std::string, std::vector<GroupedVm>> groups;  // by tenant
  std::map<std::string, std::vector<const Record*>> sources;
  for (auto& [tenant, recs] : by_tenant) {
    std::vector<LookupRecord> records;
    for (const Record* r : recs) records.push_back(r->r);
    std::vector<GroupError> errors;
    groups[tenant] = GroupRecords(tenant, records, pa_host, &errors);
    for (const GroupError& e : errors) Error(recs[e.record]->origin, e.field, e.message);
    sources[tenant] = recs;
  }
  for (const auto& [name, t] : out_.tenants) out_.vms[name];  // every imported tenant, even empty
  // Adapters name their VM and put it on their host and port.
  std::map<std::string, std::vector<const Adapter*>> adapter_of;  // "tenant/index" of the group
  for (const Adapter& a : adapters_) {
    const auto t = vsid_tenant_.find(a.vp.vsid);
    if (t != vsid_tenant_.end()) {
      std::vector<GroupedVm>& gs = groups[t->second];
      auto g = std::find_if(gs.begin(), gs.end(), [&](const GroupedVm& x) {
        return x.vm.vsid == a.vp.vsid && x.vm.mac == a.vp.mac && x.vm.type != RecordType::kGatewayWildcard;
      });
      if (g == gs.end()) {  // an adapter without records
        GroupedVm n;
        n.vm.tenant = t->second;
        n.vm.vsid = a.vp.vsid;
        n.vm.mac = a.vp.mac;
        n.vm.host = a.host;
        gs.push_back(std::move(n));
        g = gs.end() - 1;
      } else if (g->vm.host != a.host) {
        Error(a.origin, "vm_name",
              a.vp.vm_name + "'s adapter is on host " + a.host + ", but its lookup records' PA is host " +
                  g->vm.host + "'s; a VM's records carry the PA of the host it runs on");
        continue;
      }
      g->vm.name = a.vp.vm_name;
      g->vm.port = a.port;
      adapter_of[t->second + "/" + a.vp.vm_name].push_back(&a);
      continue;
    }
    // A VM of a tenant the store has, moved here.
    const auto s = store_vsids.find(a.vp.vsid);
    const VmDoc* vm = nullptr;
    if (s != store_vsids.end())
      if (const auto vms = current_.vms.find(s->second); vms != current_.vms.end())
        for (const auto& [name, v] : vms->second)
          if (v.vsid == a.vp.vsid && v.mac == a.vp.mac) vm = &v;
    if (vm == nullptr) {
      Error(a.origin, "mac",
            "no VM with MAC " + a.vp.mac.ToCompactString() + " on VSID " + std::to_string(a.vp.vsid) +
                " in these files or the store: apply its tenant's routing domain and records too");
      continue;
    }
    VmDoc moved = *vm;
    moved.host = a.host;
    moved.port = a.port;
    out_.origins.elements["vm/" + moved.tenant + "/" + moved.name] = a.origin;
    out_.origins.elements["vm/" + moved.tenant + "/" + moved.name + "/port"] = a.origin;
    out_.vms[moved.tenant][moved.name] = std::move(moved);
  }
  for (auto& [tenant, gs] : groups) {
    const auto known = current_.vms.find(tenant);
    NameVms(tenant, known == current_.vms.end() ? nullptr : &known->second, &gs);
    std::map<std::string, VmDoc>& vms = out_.vms[tenant];
    for (const GroupedVm& g : gs) {
      const auto adapters = adapter_of.find(tenant + "/" + g.vm.name);
      const Adapter* adapter = adapters == adapter_of.end() ? nullptr : adapters->second.front();
      const ElementOrigin& where =
          adapter ? adapter->origin : sources[tenant][g.records.front()]->origin;
      if (vms.count(g.vm.name)) {
        Error(where, adapter ? "vm_name" : "mac",
              "VM " + g.vm.name + " is named twice in tenant " + tenant +
                  " (two MACs or two VSIDs with one name)");
        continue;
      }
      const std::string id = "vm/" + tenant + "/" + g.vm.name;
      out_.origins.elements[id] = where;
      for (size_t k = 0; k < g.records.size(); ++k)
        out_.origins.elements[id + "/record/" + std::to_string(k)] = sources[tenant][g.records[k]]->origin;
      if (adapter) out_.origins.elements[id + "/port"] = adapter->origin;
      vms[g.vm.name] = g.vm;
    }
  }
}

ImportResult Importer::Finish() {
  if (out_.errors.empty()) {
    MakeTenants();
    MakeVms();
  }
  return std::move(out_);
}

}  // namespace

ImportResult ImportFiles(const std::vector<std::string>& files, const StoreState& current) {
  Importer im(current);
  for (const std::string& f : files) im.File(f);
  return im.Finish();
}

}  // namespace hnv::store
