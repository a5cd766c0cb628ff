#include "gateway/compartment/standard_services.h"

#include "daemon/log.h"
#include "gateway/compartment/mirror_service.h"

namespace hnv::gateway {

using nlohmann::json;

std::vector<ServiceFactory> StandardServices() {
  return {
      [](const CompartmentSpec&) { return std::make_unique<NamespaceService>(); },
      [](const CompartmentSpec&) { return std::make_unique<TapService>(); },
      [](const CompartmentSpec&) { return std::make_unique<MirrorService>(); },
      [](const CompartmentSpec&) { return std::make_unique<ConfigService>(); },
  };
}

// ---- namespace ----

bool NamespaceService::Start(ServiceContext& ctx, std::string* error) {
  const CompartmentSpec& spec = ctx.spec();
  ns_ = NetNamespace::CreateOrOpen(spec.netns, &created_, error);
  if (!ns_) return false;
  Log("compartment %s: namespace %s %s", spec.name.c_str(), spec.netns.c_str(),
      created_ ? "created" : "exists, reused");
  ctx.set_netns(ns_.get());
  return true;
}

void NamespaceService::Stop(ServiceContext& ctx, StopReason why) {
  ctx.set_netns(nullptr);
  if (ns_ && (why == StopReason::kRemove || (why == StopReason::kStartFailed && created_))) {
    std::string error;
    const std::string& who = ctx.spec().name;
    if (ns_->Delete(&error))
      Log("compartment %s: namespace %s removed", who.c_str(), ns_->name().c_str());
    else
      Log("compartment %s: %s", who.c_str(), error.c_str());
  }
  ns_.reset();
}

std::string NamespaceService::NeedsRecreate(const ServiceContext& ctx,
                                            const CompartmentSpec& next) const {
  return next.netns != ctx.spec().netns ? "namespace changed" : "";
}

ServiceStatus NamespaceService::Status(const ServiceContext& /*ctx*/) const {
  ServiceStatus s;
  if (!ns_) return s;
  s.summary = ns_->path() + (created_ ? " (created)" : " (reused)");
  s.detail = {{"path", ns_->path()}, {"inode", ns_->inode()}, {"created", created_}};
  return s;
}

// ---- taps ----

bool TapService::Start(ServiceContext& ctx, std::string* error) {
  const CompartmentSpec& spec = ctx.spec();
  if (ctx.netns() == nullptr) {
    *error = "needs the namespace service before it";
    return false;
  }
  id_ = spec.id;
  auto fail = [&] {
    Stop(ctx, StopReason::kStartFailed);
    return false;
  };
  auto tap = Tap::Create(*ctx.netns(), spec.vm_interface, spec.vm_mac, spec.vm_mtu, error);
  if (!tap) return fail();
  taps_.push_back(std::move(tap));
  for (const ExternalSpec& e : spec.external) {
    tap = Tap::Create(*ctx.netns(), e.interface, e.mac, e.mtu, error);
    if (!tap) return fail();
    taps_.push_back(std::move(tap));
  }
  CompartmentLayout layout;
  layout.vm_port = spec.vm_port;
  layout.vm_mac = spec.vm_mac;
  layout.vm_mtu = spec.vm_mtu;
  layout.max_routes = spec.max_routes;
  for (const ExternalSpec& e : spec.external)
    layout.external.push_back({e.port, e.vlan, e.mac, e.mtu});
  if (!ctx.tables().SetCompartment(id_, layout, error)) return fail();
  registered_ = true;
  ctx.fastpath().ResetCounters(id_);
  for (size_t i = 0; i < taps_.size(); ++i) {
    if (!ctx.punt().AddTap(TapIdOf(id_, static_cast<uint8_t>(i)), taps_[i]->fd())) {
      *error = "punt thread refused TAP " + taps_[i]->ifname();
      return fail();
    }
    punt_taps_ = i + 1;
  }
  std::vector<const Tap*> view;
  for (const auto& t : taps_) view.push_back(t.get());
  ctx.set_taps(std::move(view));
  return true;
}

void TapService::Stop(ServiceContext& ctx, StopReason why) {
  // The workers stop using the compartment first (after a grace period the
  // tables free it), then the punt thread lets go of the TAPs. On a detach
  // the devices stay, with their addresses and routes, for the next start.
  ctx.set_taps({});
  if (registered_) ctx.tables().RemoveCompartment(id_);
  registered_ = false;
  for (size_t i = 0; i < punt_taps_; ++i)
    ctx.punt().RemoveTap(TapIdOf(id_, static_cast<uint8_t>(i)));
  punt_taps_ = 0;
  if (why == StopReason::kDetach)
    for (const auto& t : taps_) t->Keep();
  taps_.clear();
}

std::string TapService::NeedsRecreate(const ServiceContext& ctx, const CompartmentSpec& n) const {
  const CompartmentSpec& s = ctx.spec();
  const std::string kChanged = "interfaces changed";
  if (n.id != s.id || n.vm_interface != s.vm_interface || n.vsid != s.vsid ||
      n.vm_mac != s.vm_mac || n.vm_port != s.vm_port || n.vm_mtu != s.vm_mtu ||
      n.max_routes != s.max_routes || n.rdid != s.rdid || n.external.size() != s.external.size())
    return kChanged;
  for (size_t i = 0; i < n.external.size(); ++i) {
    const ExternalSpec& a = n.external[i];
    const ExternalSpec& b = s.external[i];
    if (a.interface != b.interface || a.port != b.port || a.vlan != b.vlan || a.mac != b.mac ||
        a.mtu != b.mtu)
      return kChanged;
  }
  return {};
}

ServiceStatus TapService::Status(const ServiceContext& ctx) const {
  ServiceStatus s;
  json taps = json::array();
  for (size_t i = 0; i < taps_.size(); ++i) {
    const TapId id = TapIdOf(id_, static_cast<uint8_t>(i));
    const PuntTapCounters c = ctx.punt().Counters(id);
    json drops = json::object();
    for (size_t d = 0; d < static_cast<size_t>(PuntDrop::kCount); ++d)
      drops[PuntDropName(static_cast<PuntDrop>(d))] = c.drops[d];
    taps.push_back(
        {{"name", taps_[i]->ifname()},
         {"ifindex", taps_[i]->ifindex()},
         {"tap_id", id},
         {"adopted", taps_[i]->adopted()},
         {"to_kernel", {{"packets", c.to_kernel_packets}, {"bytes", c.to_kernel_bytes}}},
         {"from_kernel", {{"packets", c.from_kernel_packets}, {"bytes", c.from_kernel_bytes}}},
         {"drops", drops}});
    s.summary += (i == 0 ? "" : ", ") + taps_[i]->ifname();
  }
  size_t adopted = 0;
  for (const auto& t : taps_) adopted += t->adopted() ? 1 : 0;
  s.summary = std::to_string(taps_.size()) + " TAPs (" + s.summary +
              ") in the fast path and the punt thread" +
              (adopted != 0 ? ", " + std::to_string(adopted) + " adopted from the previous run" : "");
  s.detail = {{"taps", taps}};
  return s;
}

// ---- config ----

namespace {

RouteSpec ToRouteSpec(const StaticRoute& r, int oif) {
  RouteSpec s;
  s.destination = r.destination;
  s.gateway = r.next_hop;
  s.oif = oif;
  s.metric = r.metric;
  s.protocol = kRouteProtocolHnv;
  return s;
}

std::vector<IfAddress> AddressesOf(const CompartmentSpec& c, size_t iface) {
  return iface == 0 ? std::vector<IfAddress>{c.vm_address} : c.external[iface - 1].addresses;
}

bool Has(const std::vector<IfAddress>& v, const IfAddress& a) {
  for (const IfAddress& x : v)
    if (x == a) return true;
  return false;
}

}  // namespace

bool ConfigService::Start(ServiceContext& ctx, std::string* error) {
  if (ctx.netns() == nullptr || ctx.taps().empty()) {
    *error = "needs the namespace and taps services before it";
    return false;
  }
  nl_ = NetlinkConfig::Create(*ctx.netns(), error);
  if (!nl_) return false;
  if (!Install(ctx, ctx.spec(), nullptr, error)) {
    nl_.reset();
    return false;
  }
  return true;
}

bool ConfigService::Update(ServiceContext& ctx, const CompartmentSpec& next, std::string* error) {
  return Install(ctx, next, &ctx.spec(), error);
}

void ConfigService::Stop(ServiceContext& /*ctx*/, StopReason /*why*/) { nl_.reset(); }

ServiceStatus ConfigService::Status(const ServiceContext& ctx) const {
  const CompartmentSpec& spec = ctx.spec();
  size_t addresses = 0;
  for (size_t i = 0; i <= spec.external.size(); ++i) addresses += AddressesOf(spec, i).size();
  ServiceStatus s;
  s.summary = std::to_string(addresses) + " addresses, " + std::to_string(spec.routes.size()) +
              " static routes from " + spec.file;
  s.detail = {{"addresses", addresses}, {"routes", spec.routes.size()}, {"file", spec.file}};
  return s;
}

bool ConfigService::Install(const ServiceContext& ctx, const CompartmentSpec& s,
                            const CompartmentSpec* old, std::string* error) {
  const std::vector<const Tap*>& taps = ctx.taps();
  auto oif_of = [&](const CompartmentSpec& c, const StaticRoute& r) {
    if (r.interface.empty()) return 0;
    if (r.interface == c.vm_interface) return taps[0]->ifindex();
    for (size_t i = 0; i < c.external.size(); ++i)
      if (c.external[i].interface == r.interface) return taps[i + 1]->ifindex();
    return 0;
  };
  const std::string& who = ctx.spec().name;
  // Old routes first (a route may depend on an address that goes).
  if (old != nullptr) {
    for (const StaticRoute& r : old->routes) {
      bool kept = false;
      for (const StaticRoute& n : s.routes) kept = kept || n == r;
      std::string e;
      if (!kept && !nl_->DeleteRoute(ToRouteSpec(r, oif_of(*old, r)), &e))
        Log("compartment %s: %s", who.c_str(), e.c_str());
    }
  }
  for (size_t i = 0; i < taps.size(); ++i) {
    const int ifindex = taps[i]->ifindex();
    if (old != nullptr) {
      for (const IfAddress& a : AddressesOf(*old, i)) {
        std::string e;
        if (!Has(AddressesOf(s, i), a) && !nl_->DeleteAddress(ifindex, a.addr, a.len, &e))
          Log("compartment %s: %s", who.c_str(), e.c_str());
      }
    }
    for (const IfAddress& a : AddressesOf(s, i)) {
      if (old != nullptr && Has(AddressesOf(*old, i), a)) continue;
      if (!nl_->ReplaceAddress(ifindex, a.addr, a.len, error, /*nodad=*/true)) {
        *error = taps[i]->ifname() + ": address " + a.ToString() + ": " + *error;
        return false;
      }
    }
  }
  for (const StaticRoute& r : s.routes) {
    if (!nl_->ReplaceRoute(ToRouteSpec(r, oif_of(s, r)), error)) {
      *error =
          "route " + r.destination.ToString() + " via " + r.next_hop.ToString() + ": " + *error;
      return false;
    }
  }
  return true;
}

}  // namespace hnv::gateway
