#include "gateway/gateway.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/json_model.h"
#include "daemon/counters_json.h"
#include "daemon/log.h"
#include "dataplane/runtime/trace.h"
#include "gateway/compartment/standard_services.h"
#include "gateway/nat/nat_service.h"
#include "gateway/fastpath/path_trace.h"
#include "gateway/gateway_capture.h"

namespace hnv::gateway {

using config::Response;
using daemon::JoinErrors;
using nlohmann::json;

namespace {

constexpr unsigned kPuntRingSize = 4096;

}  // namespace

bool CompartmentsArgs::Parse(daemon::ArgReader& r, CompartmentsArgs* out) {
  std::string name;
  if (!r.String("name", &name, daemon::ArgReader::Need::kOptional, "must be a compartment's name"))
    return false;
  if (r.Has("name")) out->name = std::move(name);
  return true;
}

bool VpnArgs::Parse(daemon::ArgReader& r, VpnArgs* out) {
  return r.String("name", &out->name, daemon::ArgReader::Need::kRequired, "must be a tenant's name");
}

bool NatArgs::Parse(daemon::ArgReader& r, NatArgs* out) {
  uint64_t port = 0, limit = out->limit;
  if (!r.String("name", &out->name, daemon::ArgReader::Need::kRequired,
                "must be a compartment's name") ||
      !r.String("address", &out->address, daemon::ArgReader::Need::kOptional,
                "must be an IPv4 address") ||
      !r.Unsigned("port", &port, daemon::ArgReader::Need::kOptional, "must be a port") ||
      !r.Unsigned("limit", &limit, daemon::ArgReader::Need::kOptional, "must be a number"))
    return false;
  if (port > 65535) return r.Fail("port", "must be a port (0-65535)");
  if (!out->address.empty() && !IpAddr::Parse(out->address))
    return r.Fail("address", "must be an IPv4 address");
  out->port = static_cast<uint32_t>(port);
  out->limit = static_cast<uint32_t>(std::min<uint64_t>(limit, 100000));
  return true;
}

Gateway::Gateway(daemon::Shell& shell, Options options)
    : shell_(shell),
      options_(std::move(options)),
      captures_([this](const daemon::CaptureArgs& a, std::string* e) { return OpenCapture(a, e); }) {
  RegisterOperations();
  if (!shell_.options().store.url.empty()) {
    store_ = std::make_unique<daemon::StoreBinding>(shell_.options().store);
    store_->RegisterOperations(shell_.operations());
  }
}

Gateway::~Gateway() {
  captures_.StopAll();
  compartments_.clear();  // detached: the namespaces stay for the next start
  if (dp_) dp_->Stop();
  if (punt_) punt_->Stop();
  fastpath_.reset();
  tables_.reset();
  punt_.reset();
  dp_.reset();
  for (rte_ring* r : {rings_.to_kernel, rings_.from_kernel}) {
    if (r == nullptr) continue;
    rte_mbuf* m;
    while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    rte_ring_free(r);
  }
}

std::vector<std::string> Gateway::PortNames() const {
  std::vector<std::string> names(kMaxPorts);
  for (const config::PortSpec& p : config_.host.ports)
    if (p.index < kMaxPorts) names[p.index] = p.name;
  return names;
}

std::map<std::string, uint32_t> Gateway::LoadState() {
  std::map<std::string, uint32_t> ids;
  std::ifstream in(config_.state_dir + "/compartments");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name, netns;
    uint32_t id;
    if (ls >> name >> id >> netns) {
      ids[name] = id;
      known_netns_[name] = netns;
    }
  }
  return ids;
}

void Gateway::SaveState() {
  std::error_code ec;
  std::filesystem::create_directories(config_.state_dir, ec);
  const std::string path = config_.state_dir + "/compartments";
  {
    std::ofstream out(path + ".tmp");
    out << "# hnv-gateway: tenant, compartment id, namespace (rewritten by the daemon)\n";
    for (const auto& [name, c] : compartments_) out << name << ' ' << c->spec().id << ' ' << c->spec().netns << '\n';
    if (!out) {
      Log("cannot write %s", path.c_str());
      return;
    }
  }
  std::filesystem::rename(path + ".tmp", path, ec);
  if (ec) Log("cannot write %s: %s", path.c_str(), ec.message().c_str());
  known_netns_.clear();
  for (const auto& [name, c] : compartments_) known_netns_[name] = c->spec().netns;
}

bool Gateway::Load(config::GatewayConfig* cfg, std::string* error) {
  std::map<std::string, uint32_t> ids;
  for (const auto& [name, c] : compartments_) ids[name] = c->spec().id;
  if (compartments_.empty() && dp_ == nullptr) {
    // First load: the ids of the previous run, from its state file.
    config::GatewayLoadResult first = config::LoadGatewayConfig(shell_.options().config_path);
    if (!first.config) {
      *error = JoinErrors(first.errors);
      return false;
    }
    config_.state_dir = options_.state_dir.empty() ? first.config->state_dir : options_.state_dir;
    ids = LoadState();
  }
  config::GatewayLoadResult r = config::LoadGatewayConfig(shell_.options().config_path, ids);
  if (!r.config) {
    *error = JoinErrors(r.errors);
    return false;
  }
  *cfg = std::move(*r.config);
  Override(cfg);
  return true;
}

void Gateway::Override(config::GatewayConfig* cfg) const {
  if (!options_.state_dir.empty()) cfg->state_dir = options_.state_dir;
  if (!options_.namespace_prefix.empty()) {
    for (CompartmentSpec& s : cfg->compartments)
      if (s.netns == cfg->namespace_prefix + s.name) s.netns = options_.namespace_prefix + s.name;
    cfg->namespace_prefix = options_.namespace_prefix;
  }
}

bool Gateway::LoadFromStore(std::string* error) {
  first_ = store_->Start(daemon::kStoreStartWait, error);
  if (!first_) return false;
  config_ = daemon::StoreBinding::GatewayConfigOf(*first_);
  Override(&config_);
  LoadState();  // the namespaces the last run made (ids are the store's)
  return true;
}

void Gateway::ApplyStorePolicy(const store::FollowedPolicy& p) {
  config::GatewayConfig cfg = daemon::StoreBinding::GatewayConfigOf(p);
  Override(&cfg);
  std::string error = daemon::PortsChangeProblem(config_.host.ports, cfg.host.ports);
  if (!error.empty()) {
    store_->Applied(p, false, {error}, config_.host.policy.records.size());
    return;
  }
  const bool ok = ApplyCompartments(cfg, &error);
  config_ = std::move(cfg);
  SaveState();
  std::vector<std::string> errors;
  if (!ok) errors.push_back(error);
  store_->Applied(p, true, std::move(errors), config_.host.policy.records.size());
}

bool Gateway::Start(std::string* error) {
  if (!(store_ ? LoadFromStore(error) : Load(&config_, error))) return false;
  shell_.startup().Mark("configuration");
  dp_ = shell_.CreateDataplane(config_.host.ports, /*spread_all=*/true, error);
  if (!dp_) return false;
  tables_ = GatewayTables::Create(GatewayLimits{}, dp_->reclaimer(), error);
  if (!tables_) return false;
  const int socket = static_cast<int>(rte_socket_id());
  rings_.to_kernel = rte_ring_create("gw_to_kernel", kPuntRingSize, socket, RING_F_SC_DEQ);
  rings_.from_kernel = rte_ring_create("gw_from_kernel", kPuntRingSize, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (rings_.to_kernel == nullptr || rings_.from_kernel == nullptr) {
    *error = "punt rings: out of DPDK memory";
    return false;
  }
  fastpath_ = std::make_unique<GatewayFastPath>(tables_.get(), rings_, dp_->worker_count());
  // Counters are copied by each worker on request, never read while it writes them.
  fastpath_->SetWorkerRunner([dp = dp_.get()](const std::function<void(uint32_t)>& fn) {
    dp->RunOnWorkers([&fn](WorkerContext& ctx) { fn(ctx.worker_id); });
  });
  dp_->SetExtension(fastpath_.get());
  punt_ = PuntIo::Create(dp_->pool(), rings_, error);
  if (!punt_ || !punt_->Start(error)) return false;
  shell_.startup().Mark("gateway tables");
  if (!dp_->tables().Apply(config_.host.policy, error)) return false;
  shell_.startup().Mark("policy");
  if (!dp_->Start(error)) return false;
  shell_.startup().Mark("workers");
  // Namespaces of tenants removed while the daemon was not running.
  std::set<std::string> wanted;
  for (const CompartmentSpec& s : config_.compartments) wanted.insert(s.netns);
  for (const auto& [name, netns] : known_netns_) {
    if (wanted.count(netns) != 0) continue;
    std::string e;
    if (NetNamespace::DeleteByName(netns, &e)) Log("tenant %s is gone: namespace %s removed", name.c_str(), netns.c_str());
    std::error_code ec;
    if (!config_.state_dir.empty())
      std::filesystem::remove_all(CompartmentStateDir(config_.state_dir, name), ec);
  }
  if (!ApplyCompartments(config_, error)) return false;
  SaveState();
  if (store_) store_->Applied(*first_, true, {}, config_.host.policy.records.size());
  shell_.startup().Mark("compartments");
  const std::string sock = shell_.Listen(config_.host.control_socket, error);
  if (sock.empty()) return false;
  Log("running: %zu ports, %zu compartments, %zu lookup records, control socket %s, state %s",
      config_.host.ports.size(), compartments_.size(), config_.host.policy.records.size(), sock.c_str(),
      config_.state_dir.c_str());
  return true;
}

CompartmentEnv Gateway::EnvFor(const config::GatewayConfig& cfg) const {
  CompartmentEnv env{tables_.get(), fastpath_.get(), punt_.get(), cfg.state_dir,
                     StandardServices()};
  env.services.insert(env.services.end(), extra_services_.begin(), extra_services_.end());
  return env;
}

bool Gateway::ApplyCompartments(const config::GatewayConfig& cfg, std::string* error) {
  std::map<std::string, const CompartmentSpec*> next;
  for (const CompartmentSpec& s : cfg.compartments) next[s.name] = &s;
  // 1. Tenants that are gone, and compartments whose interfaces change.
  for (auto it = compartments_.begin(); it != compartments_.end();) {
    auto n = next.find(it->first);
    if (n == next.end()) {
      Log("tenant %s removed", it->first.c_str());
      it->second->DeleteNamespace();
      it = compartments_.erase(it);
    } else if (const std::string why = it->second->NeedsRecreate(*n->second); !why.empty()) {
      Log("tenant %s: %s, compartment re-created", it->first.c_str(), why.c_str());
      const CompartmentSpec old = it->second->spec();
      if (n->second->netns != old.netns) it->second->DeleteNamespace();
      it = compartments_.erase(it);
      if (n->second->netns == old.netns) DeleteGoneTaps(old, *n->second);
    } else {
      ++it;
    }
  }
  // 2. The HNV policy (records, routes, the compartments' VM ports).
  if (!dp_->tables().Apply(cfg.host.policy, error)) return false;
  // 3. New and changed tenants.
  bool ok = true;
  for (const CompartmentSpec& s : cfg.compartments) {
    auto it = compartments_.find(s.name);
    std::string e;
    if (it == compartments_.end()) {
      auto c = Compartment::Create(s, EnvFor(cfg), &e);
      if (!c) {
        *error += (error->empty() ? "" : "\n") + e;
        ok = false;
        continue;
      }
      Log("tenant %s: compartment %u in namespace %s (%s)", s.name.c_str(), s.id, s.netns.c_str(), s.file.c_str());
      compartments_[s.name] = std::move(c);
    } else if (!(it->second->spec() == s)) {
      if (!it->second->Update(s, &e)) {
        *error += (error->empty() ? "" : "\n") + ("tenant " + s.name + ": " + e);
        ok = false;
      } else {
        Log("tenant %s updated", s.name.c_str());
      }
    }
  }
  return ok;
}

bool Gateway::Reload(std::string* error) {
  if (store_) {
    *error = "this gateway follows the " + store_->Describe() + ": nothing to reload";
    return false;
  }
  config::GatewayConfig cfg;
  if (!Load(&cfg, error)) return false;
  if (std::string p = daemon::PortsChangeProblem(config_.host.ports, cfg.host.ports); !p.empty()) {
    *error = std::move(p);
    return false;
  }
  const bool ok = ApplyCompartments(cfg, error);
  config_ = std::move(cfg);
  SaveState();
  return ok;
}

void Gateway::Poll() {
  dp_->Poll();
  captures_.Poll();
  tables_->Reclaim();
  for (auto& [name, c] : compartments_) c->Poll();
  if (store_)
    if (std::optional<store::FollowedPolicy> p = store_->Next(); p) ApplyStorePolicy(*p);
}

// A clean stop detaches: the compartments' namespaces, TAPs (with their
// addresses and routes) and whatever runs inside stay, and the state file
// keeps their ids, so the next start adopts them (a package upgrade, a
// restart). Only removing a tenant deletes its namespace.
void Gateway::Stop() {
  captures_.StopAll();
  compartments_.clear();  // StopReason::kDetach
  if (dp_) dp_->Stop();
  if (punt_) punt_->Stop();
  if (store_) store_->Stop();
}

// A compartment re-created in the same namespace keeps the TAPs (detached,
// then adopted) of the interfaces it still has; those it lost go.
void Gateway::DeleteGoneTaps(const CompartmentSpec& old, const CompartmentSpec& next) {
  std::vector<std::string> gone;
  auto kept = [&](const std::string& ifname) {
    if (ifname == next.vm_interface) return true;
    for (const ExternalSpec& e : next.external)
      if (e.interface == ifname) return true;
    return false;
  };
  if (!kept(old.vm_interface)) gone.push_back(old.vm_interface);
  for (const ExternalSpec& e : old.external)
    if (!kept(e.interface)) gone.push_back(e.interface);
  if (gone.empty()) return;
  std::string error;
  std::unique_ptr<NetNamespace> ns = NetNamespace::Open(old.netns, &error);
  std::unique_ptr<NetlinkConfig> nl = ns ? NetlinkConfig::Create(*ns, &error) : nullptr;
  for (const std::string& ifname : gone)
    if (!nl || !nl->DeleteLink(ifname, &error))
      Log("tenant %s: TAP %s not removed: %s", old.name.c_str(), ifname.c_str(), error.c_str());
}

Response Gateway::Compartments(const CompartmentsArgs& args) const {
  const std::string only = args.name.value_or("");
  if (!only.empty() && compartments_.count(only) == 0) return Response::Error("no compartment \"" + only + "\"");
  json list = json::array();
  const std::vector<std::string> names = PortNames();
  for (const auto& [name, c] : compartments_) {
    if (!only.empty() && name != only) continue;
    list.push_back(c->Status("vm:" + std::to_string(c->spec().vm_port), names));
  }
  return Response{true, {{"compartments", list}}, {}};
}

Response Gateway::Vpn(const VpnArgs& args) const {
  auto it = compartments_.find(args.name);
  if (it == compartments_.end()) return Response::Error("no tenant \"" + args.name + "\"");
  const json c = it->second->Status("vm:" + std::to_string(it->second->spec().vm_port), PortNames());
  json out = {{"tenant", args.name}};
  for (const char* name : {"charon", "frr"})
    if (json detail = it->second->Inspect(name); !detail.is_null()) out[name] = std::move(detail);
  json routes = json::array();
  for (const json& r : c["routes"]) {
    const std::string origin = r.value("origin", "");
    if (origin == "bgp" || origin == "s2s") routes.push_back(r);
  }
  out["routes"] = std::move(routes);
  return Response{true, std::move(out), {}};
}

Response Gateway::Counters() const {
  const WorkerCounters c = dp_->Counters();
  std::vector<std::pair<uint16_t, std::string>> ports;
  for (const config::PortSpec& p : config_.host.ports) ports.emplace_back(p.index, p.name);
  for (const auto& [name, comp] : compartments_)
    ports.emplace_back(comp->spec().vm_port, "compartment " + name);
  json result = daemon::CountersJson(*dp_, c, ports);
  const GlobalCounters g = fastpath_->Global();
  json gw = json::object();
  for (size_t d = 0; d < kGlobalDropCount; ++d) gw[GlobalDropName(static_cast<GlobalDrop>(d))] = g.drop[d];
  result["gateway_drops"] = std::move(gw);
  return Response{true, std::move(result), {}};
}

Response Gateway::NatOrLb(const NatArgs& a, bool lb) const {
  auto it = compartments_.find(a.name);
  if (it == compartments_.end()) return Response::Error("no compartment \"" + a.name + "\"");
  const auto* s = dynamic_cast<const NatService*>(it->second->service("nat"));
  json result;
  if (s == nullptr) {
    result = lb ? json{{"load_balancers", json::array()}} : json{{"enabled", false}};
  } else if (lb) {
    result = s->LbView(it->second->context());
  } else {
    result = s->NatView(it->second->context(), NatQuery{a.address, a.port, a.limit});
  }
  result["name"] = a.name;
  return Response{true, std::move(result), {}};
}

std::optional<uint16_t> Gateway::PortByName(std::string_view name) const {
  for (const config::PortSpec& p : config_.host.ports)
    if (p.name == name) return p.index;
  return std::nullopt;
}

const Compartment* Gateway::FindInterface(const std::string& text, uint8_t* iface,
                                          std::string* error) const {
  const size_t slash = text.find('/');
  const std::string tenant = text.substr(0, slash);
  const std::string ifname = slash == std::string::npos ? "" : text.substr(slash + 1);
  const auto it = compartments_.find(tenant);
  if (it == compartments_.end()) {
    *error = "no compartment \"" + tenant + "\"";
    return nullptr;
  }
  const CompartmentSpec& s = it->second->spec();
  if (ifname == s.vm_interface) {
    *iface = 0;
    return it->second.get();
  }
  for (size_t i = 0; i < s.external.size(); ++i) {
    if (s.external[i].interface == ifname) {
      *iface = static_cast<uint8_t>(i + 1);
      return it->second.get();
    }
  }
  std::string known = s.vm_interface;
  for (const ExternalSpec& e : s.external) known += ", " + e.interface;
  *error = "compartment " + tenant + " has no interface \"" + ifname + "\" (it has " + known + ")";
  return nullptr;
}

Response Gateway::Trace(const daemon::TraceArgs& args) {
  if (!args.interface.empty())
    return Response::Error("trace: a frame enters the gateway on a port (an external port or the "
                           "provider port), not on \"" + args.interface + "\"");
  // The trace's own fast path: one worker (this thread), its own punt ring
  // (what it punts is reported, never sent to a TAP), the live tables.
  static unsigned serial = 0;
  rte_ring* punts = rte_ring_create(("gw_trace" + std::to_string(serial++)).c_str(), 256,
                                    SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (punts == nullptr) return Response::Error("trace: out of DPDK memory");
  GatewayFastPath fp(tables_.get(), PuntRings{punts, nullptr}, 1);
  std::vector<std::vector<std::string>> names;
  TraceExtension ext;
  ext.ext = &fp;
  for (const auto& [tenant, c] : compartments_) {
    const CompartmentSpec& s = c->spec();
    if (s.id >= names.size()) names.resize(s.id + 1);
    names[s.id].push_back(tenant + "/" + s.vm_interface);
    for (const ExternalSpec& e : s.external) names[s.id].push_back(tenant + "/" + e.interface);
    if (s.vm_port < kMaxPorts) ext.is_virtual[s.vm_port] = true;
  }
  RecordingTracer tracer(std::move(names));
  fp.SetTracer(&tracer);
  TraceResult r = TraceFrame(dp_->tables(), dp_->pool(), args.port, args.frame, &ext);
  rte_mbuf* m;
  while (rte_ring_dequeue(punts, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
  rte_ring_free(punts);
  // The HNV pipeline's steps are a summary (first the frame as received,
  // then what its stages did); the compartment's come in the order taken.
  std::vector<TraceStep> ours;
  for (const RecordingTracer::Step& t : tracer.steps()) ours.push_back({t.stage, t.decision});
  r.steps.insert(r.steps.begin() + (r.steps.empty() ? 0 : 1), ours.begin(), ours.end());
  return daemon::TraceResponse(r);
}

std::unique_ptr<FrameCapture> Gateway::OpenCapture(const daemon::CaptureArgs& args,
                                                   std::string* error) {
  constexpr uint32_t kSnaplen = 65535;
  if (args.interface.empty()) {
    auto cap = std::make_unique<PortCapture>();
    if (!cap->Start(*dp_, args.port, args.file, kSnaplen, error)) return nullptr;
    return cap;
  }
  uint8_t iface = 0;
  const Compartment* c = FindInterface(args.interface, &iface, error);
  if (c == nullptr) return nullptr;
  if (iface == 0) {
    auto cap = std::make_unique<VmInterfaceCapture>(*dp_, *fastpath_);
    if (!cap->Start(c->spec().vm_port, args.file, kSnaplen, error)) return nullptr;
    return cap;
  }
  const ExternalSpec& e = c->spec().external[iface - 1];
  auto cap = std::make_unique<PortCapture>();
  if (!cap->Start(*dp_, e.port, args.file, kSnaplen, error, e.vlan)) return nullptr;
  return cap;
}

json Gateway::MetricsJson() {
  return {{"counters", Counters().result},
          {"compartments", Compartments(CompartmentsArgs{}).result["compartments"]},
          {"policy", {{"generation", dp_->tables().snapshot()->generation}}}};
}

void Gateway::RegisterOperations() {
  daemon::Operations& ops = shell_.operations();
  ops.Add<daemon::NoArgs>("apply", [this](const daemon::NoArgs&) {
    std::string error;
    if (!Reload(&error)) return Response::Error(error);
    json names = json::array();
    for (const auto& [name, c] : compartments_) names.push_back(name);
    return Response{true, {{"files", config_.host.files}, {"tenants", names}}, {}};
  });
  ops.Add<daemon::GetArgs>("get", [this](const daemon::GetArgs& a) {
    return Response{true, config::KindToJson(config_.host.policy, a.kind), {}};
  });
  ops.Add<CompartmentsArgs>("compartments",
                            [this](const CompartmentsArgs& a) { return Compartments(a); });
  ops.Add<daemon::NoArgs>("counters", [this](const daemon::NoArgs&) { return Counters(); });
  ops.Add<VpnArgs>("vpn", [this](const VpnArgs& a) { return Vpn(a); });
  ops.Add<NatArgs>("nat", [this](const NatArgs& a) { return NatOrLb(a, false); });
  ops.Add<NatArgs>("lb", [this](const NatArgs& a) { return NatOrLb(a, true); });
  ops.Add<daemon::TraceArgs>("trace", [this](const daemon::TraceArgs& a) { return Trace(a); });
  captures_.Register(ops);
  ops.set_port_by_name([this](std::string_view name) { return PortByName(name); });
  for (const char* op : {"new", "set", "remove"}) {
    ops.Refuse(op, std::string(op) + ": the gateway's policy comes from its tenant files: " +
                       "edit them and run `hnvctl apply`");
  }
}

}  // namespace hnv::gateway
