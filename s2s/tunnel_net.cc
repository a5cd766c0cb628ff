// ipsec0's addresses and routes (tunnel_net.h).
#include "s2s/tunnel_net.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "s2s/files.h"
#include "s2s/process.h"
#include "s2s/service.h"

namespace hnv::s2s {
namespace {

using nlohmann::json;

constexpr auto kIpTimeout = std::chrono::seconds(10);

std::optional<IpPrefix> ParseDst(const std::string& dst, bool v6) {
  if (dst == "default") return IpPrefix{IpAddr::Parse(v6 ? "::" : "0.0.0.0").value(), 0};
  if (dst.find('/') != std::string::npos) return IpPrefix::Parse(dst);
  const std::optional<IpAddr> a = IpAddr::Parse(dst);
  if (!a) return std::nullopt;
  return IpPrefix{*a, static_cast<uint8_t>(a->bits())};
}

std::string RouteSpec(const TunnelRoute& r) {
  std::string s = r.destination.ToString();
  if (!r.via.IsUnspecified()) s += " via " + r.via.ToString();
  s += std::string(" dev ") + kTunnelDevice + " proto " + std::to_string(kRouteProtocolS2s);
  if (!r.src.IsUnspecified()) s += " src " + r.src.ToString();
  return s;
}

std::string AddressSpec(const TunnelAddress& a) {
  return a.local.ToString() + " peer " + a.peer.ToString() + " dev " + kTunnelDevice;
}

int RunIp(const std::string& netns, std::vector<std::string> args, std::string* out) {
  LaunchSpec spec;
  spec.argv = {kIpProgram, "-n", netns};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = BaseEnvironment();
  return Run(spec, kIpTimeout, out);
}

}  // namespace

TunnelNet WantedTunnelNet(const TenantVpn& vpn) {
  TunnelNet n;
  for (const Connection& k : vpn.connections) {
    if (k.mode == TunnelMode::kRoute) {
      n.addresses.push_back({k.tunnel_local, k.tunnel_peer});
      for (const IpPrefix& p : k.routes) n.routes.push_back({p, k.tunnel_peer, IpAddr{}});
    } else {
      for (const IpPrefix& p : k.remote_ts) n.routes.push_back({p, IpAddr{}, k.route_source});
    }
  }
  if (vpn.p2s.enabled) n.routes.push_back({vpn.p2s.pool, IpAddr{}, IpAddr{}});
  return n;
}

bool ParseAddresses(const std::string& ip_json, std::vector<TunnelAddress>* out,
                    std::string* error) {
  const json j = json::parse(ip_json, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    *error = "ip -j addr: not a JSON list: " + ip_json.substr(0, 200);
    return false;
  }
  for (const json& link : j) {
    if (!link.contains("addr_info")) continue;
    for (const json& a : link["addr_info"]) {
      if (a.value("scope", "") == "link") continue;  // fe80::/64: the kernel's own
      const std::optional<IpAddr> local = IpAddr::Parse(a.value("local", ""));
      const std::optional<IpAddr> peer = IpAddr::Parse(a.value("address", ""));
      if (!local) continue;
      out->push_back({*local, peer ? *peer : IpAddr{}});
    }
  }
  return true;
}

bool ParseRoutes(const std::string& ip_json, std::vector<TunnelRoute>* out, std::string* error) {
  const json j = json::parse(ip_json, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    *error = "ip -j route: not a JSON list: " + ip_json.substr(0, 200);
    return false;
  }
  for (const json& r : j) {
    const std::string gw = r.value("gateway", "");
    const bool v6 =
        r.value("dst", "").find(':') != std::string::npos || gw.find(':') != std::string::npos;
    const std::optional<IpPrefix> dst = ParseDst(r.value("dst", ""), v6);
    if (!dst) continue;
    TunnelRoute t{*dst, {}, {}};
    if (std::optional<IpAddr> a = IpAddr::Parse(gw)) t.via = *a;
    if (std::optional<IpAddr> a = IpAddr::Parse(r.value("prefsrc", ""))) t.src = *a;
    out->push_back(t);
  }
  return true;
}

std::string TunnelNetBatch(const TunnelNet& have, const TunnelNet& want) {
  std::string batch;
  auto has = [](const auto& list, const auto& x) {
    return std::find(list.begin(), list.end(), x) != list.end();
  };
  // Routes first out, addresses last out; addresses first in, routes last in
  // (a route via the tunnel peer needs the peer address).
  for (const TunnelRoute& r : have.routes) {
    const bool kept =
        std::any_of(want.routes.begin(), want.routes.end(),
                    [&](const TunnelRoute& w) { return w.destination == r.destination; });
    if (!kept)
      batch += "route del " + r.destination.ToString() + " proto " +
               std::to_string(kRouteProtocolS2s) + "\n";
  }
  for (const TunnelAddress& a : have.addresses)
    if (!has(want.addresses, a)) batch += "address del " + AddressSpec(a) + "\n";
  for (const TunnelAddress& a : want.addresses)
    if (!has(have.addresses, a)) batch += "address replace " + AddressSpec(a) + "\n";
  for (const TunnelRoute& r : want.routes)
    if (!has(have.routes, r)) batch += "route replace " + RouteSpec(r) + "\n";
  return batch;
}

bool ReconcileTunnelNet(const std::string& netns, const TunnelNet& want, const std::string& scratch,
                        std::string* error) {
  TunnelNet have;
  std::string out;
  if (RunIp(netns, {"-j", "addr", "show", "dev", kTunnelDevice}, &out) != 0) {
    *error = "netns " + netns + ": no " + kTunnelDevice + " (is charon running?): " + out;
    return false;
  }
  if (!ParseAddresses(out, &have.addresses, error)) return false;
  for (const char* family : {"-4", "-6"}) {
    if (RunIp(netns,
              {family, "-j", "route", "show", "table", "main", "proto",
               std::to_string(kRouteProtocolS2s)},
              &out) != 0 ||
        !ParseRoutes(out, &have.routes, error)) {
      if (error->empty()) *error = "netns " + netns + ": ip route show: " + out;
      return false;
    }
  }
  const std::string batch = TunnelNetBatch(have, want);
  if (batch.empty()) return true;
  if (!WriteFiles(std::string(scratch.substr(0, scratch.rfind('/'))),
                  {RenderedFile{scratch.substr(scratch.rfind('/') + 1), batch, 0600, false}},
                  Owner{}, nullptr, error))
    return false;
  if (RunIp(netns, {"-batch", scratch}, &out) != 0) {
    *error = "netns " + netns + ": ip -batch:\n" + batch + out;
    return false;
  }
  return true;
}

}  // namespace hnv::s2s
