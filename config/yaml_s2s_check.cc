// CheckVpns (phase 2 of yaml_s2s.h): a tenant's VPN sections against the
// tenant (its external addresses and VM network), the policy (the routing
// domain's prefixes) and themselves; the defaults that need them. And the
// value rules shared with phase 1 (strongSwan proposals).
#include <algorithm>
#include <array>
#include <set>

#include "config/yaml_s2s.h"

namespace hnv::config::yaml {
namespace {

// strongSwan's proposal keywords (its proposal_keywords), by role.
enum class Kw : uint8_t { kEncr, kAead, kInteg, kPrf, kDh, kEsn };
struct Keyword {
  std::string_view name;
  Kw kind;
};
constexpr Keyword kKeywords[] = {
    {"aes128", Kw::kEncr},       {"aes192", Kw::kEncr},
    {"aes256", Kw::kEncr},       {"aes128ctr", Kw::kEncr},
    {"aes192ctr", Kw::kEncr},    {"aes256ctr", Kw::kEncr},
    {"camellia128", Kw::kEncr},  {"camellia192", Kw::kEncr},
    {"camellia256", Kw::kEncr},  {"3des", Kw::kEncr},
    {"aes128gcm8", Kw::kAead},   {"aes128gcm12", Kw::kAead},
    {"aes128gcm16", Kw::kAead},  {"aes192gcm8", Kw::kAead},
    {"aes192gcm12", Kw::kAead},  {"aes192gcm16", Kw::kAead},
    {"aes256gcm8", Kw::kAead},   {"aes256gcm12", Kw::kAead},
    {"aes256gcm16", Kw::kAead},  {"aes128gcm64", Kw::kAead},
    {"aes128gcm96", Kw::kAead},  {"aes128gcm128", Kw::kAead},
    {"aes256gcm64", Kw::kAead},  {"aes256gcm96", Kw::kAead},
    {"aes256gcm128", Kw::kAead}, {"aes128ccm8", Kw::kAead},
    {"aes128ccm12", Kw::kAead},  {"aes128ccm16", Kw::kAead},
    {"aes256ccm8", Kw::kAead},   {"aes256ccm12", Kw::kAead},
    {"aes256ccm16", Kw::kAead},  {"chacha20poly1305", Kw::kAead},
    {"md5", Kw::kInteg},         {"sha1", Kw::kInteg},
    {"sha256", Kw::kInteg},      {"sha384", Kw::kInteg},
    {"sha512", Kw::kInteg},      {"sha256_96", Kw::kInteg},
    {"aesxcbc", Kw::kInteg},     {"aescmac", Kw::kInteg},
    {"prfmd5", Kw::kPrf},        {"prfsha1", Kw::kPrf},
    {"prfsha256", Kw::kPrf},     {"prfsha384", Kw::kPrf},
    {"prfsha512", Kw::kPrf},     {"prfaesxcbc", Kw::kPrf},
    {"prfaescmac", Kw::kPrf},    {"modp1024", Kw::kDh},
    {"modp1536", Kw::kDh},       {"modp2048", Kw::kDh},
    {"modp3072", Kw::kDh},       {"modp4096", Kw::kDh},
    {"modp6144", Kw::kDh},       {"modp8192", Kw::kDh},
    {"ecp256", Kw::kDh},         {"ecp384", Kw::kDh},
    {"ecp521", Kw::kDh},         {"ecp256bp", Kw::kDh},
    {"ecp384bp", Kw::kDh},       {"ecp512bp", Kw::kDh},
    {"curve25519", Kw::kDh},     {"x25519", Kw::kDh},
    {"curve448", Kw::kDh},       {"x448", Kw::kDh},
    {"esn", Kw::kEsn},           {"noesn", Kw::kEsn},
};

// Whether some prefix of `list` holds all of p.
bool Holds(const std::vector<IpPrefix>& list, const IpPrefix& p) {
  return std::any_of(list.begin(), list.end(), [&](const IpPrefix& q) {
    return q.addr.family == p.addr.family && q.len <= p.len && q.Contains(p.addr);
  });
}

// A prefix of `list` that overlaps p, or nullptr.
const IpPrefix* Covering(const std::vector<IpPrefix>& list, const IpPrefix& p) {
  for (const IpPrefix& q : list)
    if (q.addr.family == p.addr.family &&
        (q.len <= p.len ? q.Contains(p.addr) : p.Contains(q.addr)))
      return &q;
  return nullptr;
}

IpPrefix Any(bool v4) { return IpPrefix{IpAddr::Parse(v4 ? "0.0.0.0" : "::").value(), 0}; }
IpPrefix Host(const IpAddr& a) { return IpPrefix{a, static_cast<uint8_t>(a.bits())}; }

const char* FamilyName(bool v4) { return v4 ? "IPv4" : "IPv6"; }

struct Ctx {
  VpnDraft* d;
  const TenantDraft* t;
  ErrorList* errors;
  bool v4 = true;                     // the tenant's inner family (its VM network's)
  std::vector<IpPrefix> vm_prefixes;  // the routing domain's subnets
  std::vector<IfAddress> external;    // the tenant's external addresses
  void Error(const FieldOrigin& o, std::string message) const {
    errors->Add(d->file, d->file_name, o.line, o.path, std::move(message));
  }
  std::string ExternalList() const {
    std::string s;
    for (const IfAddress& a : external) s += (s.empty() ? "" : ", ") + a.addr.ToString();
    return s.empty() ? "none: the tenant has no external addresses" : s;
  }
  bool IsExternal(const IpAddr& a) const {
    return std::any_of(external.begin(), external.end(),
                       [&](const IfAddress& e) { return e.addr == a; });
  }
  bool IsOwn(const IpAddr& a) const { return IsExternal(a) || a == t->spec.vm_address.addr; }
  bool OnExternalSubnet(const IpAddr& a) const {
    return std::any_of(external.begin(), external.end(), [&](const IfAddress& e) {
      return IpPrefix{e.addr.Masked(e.len), e.len}.Contains(a);
    });
  }
  // The shortest prefix that holds every VM network prefix (10.0.0.0/22 for
  // 10.0.1.0/24 and 10.0.2.0/24): it holds the gateway CA too.
  IpPrefix VmSupernet() const {
    if (vm_prefixes.empty()) return Host(t->spec.vm_address.addr);
    IpPrefix s = vm_prefixes[0];
    while (!Holds({s}, Host(t->spec.vm_address.addr)) ||
           !std::all_of(vm_prefixes.begin(), vm_prefixes.end(),
                        [&](const IpPrefix& p) { return Holds({s}, p); })) {
      --s.len;
      s.addr = s.addr.Masked(s.len);
    }
    return s;
  }
  // kernel-libipsec installs a route for each outbound policy with a source
  // address from its local selector, and fails the CHILD_SA when the
  // compartment has none there: "" when `p` holds one, else the message.
  std::string NoAddressIn(const IpPrefix& p) const {
    if (p.Contains(t->spec.vm_address.addr)) return "";
    std::string own = t->spec.vm_address.addr.ToString();
    for (const IfAddress& e : external) {
      if (p.Contains(e.addr)) return "";
      own += ", " + e.addr.ToString();
    }
    return p.ToString() + " holds none of the compartment's addresses (" + own +
           "): kernel-libipsec takes the source of each local selector's route from it; use a "
           "prefix that holds one, e.g. " +
           VmSupernet().ToString();
  }
  // "10.0.1.0/24 (the VM network)" when p overlaps it, "" otherwise.
  std::string VmOverlap(const IpPrefix& p) const {
    const IpPrefix* q = Covering(vm_prefixes, p);
    return q == nullptr ? "" : q->ToString();
  }
};

void CheckConnections(Ctx& c) {
  TenantVpn& vpn = c.d->vpn;
  std::map<std::string, size_t> names;
  // Destinations routed into ipsec0 (routes and remote selectors), by owner.
  std::vector<std::pair<IpPrefix, size_t>> routed;
  size_t route_based = 0;
  for (const Connection& k : vpn.connections) route_based += k.mode == TunnelMode::kRoute;
  for (size_t i = 0; i < vpn.connections.size(); ++i) {
    Connection& k = vpn.connections[i];
    const VpnDraft::Conn& o = c.d->conns[i];
    if (auto [it, fresh] = names.emplace(k.name, i); !fresh)
      c.Error(o.name, "connection " + k.name + " is already defined at " +
                          c.d->conns[it->second].name.path + " (line " +
                          std::to_string(c.d->conns[it->second].name.line) + ")");
    if (!c.IsExternal(k.local_address))
      c.Error(o.local_address, k.local_address.ToString() +
                                   " is not an address of the tenant's external interfaces (" +
                                   c.ExternalList() + ")");
    if (k.peer_address.family != k.local_address.family)
      c.Error(o.peer_address, k.peer_address.ToString() +
                                  " is not of the family of local_address " +
                                  k.local_address.ToString());
    else if (c.IsOwn(k.peer_address))
      c.Error(o.peer_address, k.peer_address.ToString() + " is an address of the tenant itself");
    for (size_t j = 0; j < i; ++j)
      if (vpn.connections[j].peer_address == k.peer_address &&
          vpn.connections[j].local_address == k.local_address)
        c.Error(o.peer_address, "connection " + vpn.connections[j].name + " (" +
                                    c.d->conns[j].item.path + ") already joins " +
                                    k.local_address.ToString() + " and " +
                                    k.peer_address.ToString());
    if (!o.has_local_id) k.local_id = k.local_address.ToString();
    if (!o.has_remote_id) k.remote_id = k.peer_address.ToString();

    if (k.mode == TunnelMode::kRoute) {
      if (!o.has_tunnel) {
        c.Error(o.item,
                "a route-based connection needs tunnel: {local, peer}, its addresses on "
                "ipsec0 (or mode: policy)");
        continue;
      }
      if (o.has_local_ts)
        c.Error(o.local_ts,
                "a route-based connection carries what is routed into it; local_ts "
                "is for mode: policy");
      for (const auto& [a, origin] :
           {std::pair{k.tunnel_local, o.tunnel_local}, std::pair{k.tunnel_peer, o.tunnel_peer}}) {
        if (a.is_v4() != c.v4)
          c.Error(origin, a.ToString() + " is not " + FamilyName(c.v4) +
                              ", the family of the tenant's VM network");
        else if (c.IsOwn(a))
          c.Error(origin, a.ToString() + " is an address of the tenant itself");
        else if (const std::string vm = c.VmOverlap(Host(a)); !vm.empty())
          c.Error(origin, a.ToString() + " is inside the VM network's " + vm);
        else if (c.OnExternalSubnet(a))
          c.Error(origin, a.ToString() +
                              " is on an external subnet of the tenant; a tunnel's "
                              "addresses are its own");
      }
      if (k.tunnel_local == k.tunnel_peer) c.Error(o.tunnel_peer, "tunnel.peer is tunnel.local");
      for (size_t j = 0; j < i; ++j) {
        const Connection& x = vpn.connections[j];
        if (x.mode != TunnelMode::kRoute) continue;
        for (const IpAddr& a : {x.tunnel_local, x.tunnel_peer})
          if (a == k.tunnel_local || a == k.tunnel_peer)
            c.Error(o.tunnel,
                    a.ToString() + " is already a tunnel address of connection " + x.name);
      }
      if (!o.has_remote_ts) {
        if (route_based > 1)
          c.Error(o.item,
                  "with several route-based connections each needs remote_ts, the "
                  "destinations it carries (not overlapping the others'): "
                  "kernel-libipsec picks a packet's tunnel by its selectors");
        k.remote_ts = {Any(c.v4)};
      }
      k.local_ts = {Any(c.v4)};
      for (size_t r = 0; r < k.routes.size(); ++r) {
        const IpPrefix& p = k.routes[r];
        if (p.addr.is_v4() != c.v4)
          c.Error(o.route_items[r], p.ToString() + " is not " + FamilyName(c.v4));
        else if (const std::string vm = c.VmOverlap(p); !vm.empty())
          c.Error(o.route_items[r], p.ToString() + " overlaps the VM network's " + vm);
        else if (!Holds(k.remote_ts, p))
          c.Error(o.route_items[r], p.ToString() + " is outside the connection's remote_ts");
      }
      if (!Holds(k.remote_ts, Host(k.tunnel_peer))) k.remote_ts.push_back(Host(k.tunnel_peer));
    } else {
      if (o.has_tunnel) c.Error(o.tunnel, "tunnel: is for mode: route");
      if (!k.routes.empty())
        c.Error(o.routes,
                "a policy-based connection routes its remote_ts; routes: is for mode: route");
      if (!o.has_remote_ts) c.Error(o.item, "a policy-based connection needs remote_ts");
      if (!o.has_local_ts) k.local_ts = {c.VmSupernet()};
      k.route_source = IpAddr{};
      for (const IpPrefix& p : k.local_ts)
        if (p.Contains(c.t->spec.vm_address.addr)) k.route_source = c.t->spec.vm_address.addr;
      for (size_t l = 0; l < k.local_ts.size(); ++l) {
        const IpPrefix& p = k.local_ts[l];
        if (p.addr.is_v4() != c.v4)
          c.Error(o.local_ts_items[l], p.ToString() + " is not " + FamilyName(c.v4));
        else if (const std::string why = c.NoAddressIn(p); !why.empty())
          c.Error(o.local_ts_items[l], why);
      }
      for (size_t r = 0; r < k.remote_ts.size(); ++r) {
        const IpPrefix& p = k.remote_ts[r];
        if (p.addr.is_v4() != c.v4)
          c.Error(o.remote_ts_items[r], p.ToString() + " is not " + FamilyName(c.v4));
        else if (const std::string vm = c.VmOverlap(p); !vm.empty())
          c.Error(o.remote_ts_items[r], p.ToString() + " overlaps the VM network's " + vm);
      }
    }
    // What each connection carries must not overlap another's: the routes
    // into ipsec0 are by destination, and libipsec picks the SA by selector.
    // A lone route-based tunnel's 0/0 is the exception: it carries what
    // routes send it, and libipsec prefers the more specific selectors of
    // policy-based tunnels beside it.
    for (const IpPrefix& p : k.remote_ts) {
      if (p.len == 0 && k.mode == TunnelMode::kRoute) continue;
      for (const auto& [q, owner] : routed)
        if (Covering({q}, p) != nullptr)
          c.Error(o.remote_ts, p.ToString() + " overlaps " + q.ToString() + " of connection " +
                                   vpn.connections[owner].name);
      routed.emplace_back(p, i);
    }
  }
}

void CheckBgp(Ctx& c) {
  VpnDraft& d = *c.d;
  Bgp& b = d.vpn.bgp;
  if (!d.has_router_id) {
    if (c.t->spec.vm_address.addr.is_v4())
      b.router_id = c.t->spec.vm_address.addr;
    else
      c.Error(d.bgp,
              "an IPv6 tenant needs bgp.router_id (an IPv4 address, unique among its peers)");
  }
  if (!d.has_announce) b.announce = c.vm_prefixes;
  for (size_t i = 0; i < b.announce.size(); ++i)
    if (b.announce[i].addr.is_v4() != c.v4)
      c.Error(d.announce_items[i], b.announce[i].ToString() + " is not " + FamilyName(c.v4));
  // Never taken from a site: the VM network and what is more specific, and
  // anything covering an IKE peer (the tunnel would route through itself).
  b.reject.clear();
  for (const IpPrefix& p : c.vm_prefixes)
    b.reject.push_back(PrefixMatch{p, 0, static_cast<uint8_t>(p.addr.bits())});
  for (const Connection& k : d.vpn.connections)
    for (int len = 1; len <= k.peer_address.bits(); ++len)
      b.reject.push_back(
          PrefixMatch{IpPrefix{k.peer_address.Masked(len), static_cast<uint8_t>(len)}, 0, 0});
  std::set<IpAddr> seen;
  for (size_t i = 0; i < b.neighbors.size(); ++i) {
    BgpNeighbor& n = b.neighbors[i];
    const VpnDraft::Neighbor& o = d.neighbors[i];
    const Connection* tunnel = nullptr;
    if (!n.connection.empty()) {
      for (const Connection& k : d.vpn.connections)
        if (k.name == n.connection && tunnel == nullptr) tunnel = &k;
      if (tunnel == nullptr) {
        c.Error(o.connection, "no connection " + n.connection + " in site_to_site.connections");
        continue;
      }
      if (tunnel->mode != TunnelMode::kRoute) {
        c.Error(o.connection, "connection " + n.connection +
                                  " is policy-based: BGP runs over route-based tunnels (zebra "
                                  "cannot resolve a next hop behind a policy)");
        continue;
      }
      if (!o.has_address)
        n.address = tunnel->tunnel_peer;
      else if (n.address != tunnel->tunnel_peer)
        c.Error(o.address, n.address.ToString() + " is not the tunnel peer " +
                               tunnel->tunnel_peer.ToString() + " of connection " + n.connection);
    } else {
      for (const Connection& k : d.vpn.connections)
        if (k.mode == TunnelMode::kRoute && k.tunnel_peer == n.address) tunnel = &k;
      if (tunnel != nullptr) {
        n.connection = tunnel->name;
      } else if (c.IsOwn(n.address)) {
        c.Error(o.address, n.address.ToString() + " is an address of the tenant itself");
      } else if (!c.OnExternalSubnet(n.address) && n.ebgp_multihop == 0) {
        c.Error(o.address, n.address.ToString() +
                               " is neither a tunnel peer nor on an external interface's subnet "
                               "(set ebgp_multihop for a neighbour further away)");
      }
    }
    if (tunnel != nullptr) n.update_source = tunnel->tunnel_local;
    if (!seen.insert(n.address).second)
      c.Error(o.item, "a second neighbour " + n.address.ToString());
    if (!o.has_accept) {
      const bool v4 = n.address.is_v4();
      n.accept = {PrefixMatch{Any(v4), 0, static_cast<uint8_t>(v4 ? 32 : 128)}};
    }
    for (PrefixMatch& m : n.accept)
      if (m.le == kAcceptAny) {
        const bool v4 = n.address.is_v4();
        m = PrefixMatch{Any(v4), 0, static_cast<uint8_t>(v4 ? 32 : 128)};
      }
  }
}

void CheckPointToSite(Ctx& c) {
  VpnDraft& d = *c.d;
  PointToSite& p = d.vpn.p2s;
  if (!c.IsExternal(p.local_address))
    c.Error(d.p2s_local_address, p.local_address.ToString() +
                                     " is not an address of the tenant's external interfaces (" +
                                     c.ExternalList() + ")");
  if (!d.has_p2s_local_id) p.local_id = p.local_address.ToString();
  if (!d.has_p2s_routes) p.routes = {c.VmSupernet()};
  for (size_t i = 0; i < p.routes.size(); ++i) {
    if (p.routes[i].addr.is_v4() != c.v4)
      c.Error(d.p2s_route_items[i], p.routes[i].ToString() + " is not " + FamilyName(c.v4));
    else if (const std::string why = c.NoAddressIn(p.routes[i]); !why.empty())
      c.Error(d.p2s_route_items[i], why);
  }
  if (p.pool.addr.is_v4() != c.v4) {
    c.Error(d.pool, p.pool.ToString() + " is not " + FamilyName(c.v4) +
                        ", the family of the tenant's VM network");
    return;
  }
  if (const std::string vm = c.VmOverlap(p.pool); !vm.empty())
    c.Error(d.pool, p.pool.ToString() + " overlaps the VM network's " + vm);
  for (const IfAddress& e : c.external)
    if (Covering({IpPrefix{e.addr.Masked(e.len), e.len}}, p.pool) != nullptr)
      c.Error(d.pool, p.pool.ToString() + " overlaps the external subnet of " + e.addr.ToString());
  for (const Connection& k : d.vpn.connections) {
    for (const IpPrefix& q : k.mode == TunnelMode::kRoute ? k.routes : k.remote_ts)
      if (Covering({q}, p.pool) != nullptr)
        c.Error(d.pool,
                p.pool.ToString() + " overlaps " + q.ToString() + " of connection " + k.name);
    if (k.mode == TunnelMode::kRoute &&
        (p.pool.Contains(k.tunnel_local) || p.pool.Contains(k.tunnel_peer)))
      c.Error(d.pool, p.pool.ToString() + " holds a tunnel address of connection " + k.name);
  }
}

}  // namespace

std::string ProposalProblem(const std::string& proposal, bool ike) {
  std::array<int, 6> count{};
  std::vector<std::string_view> names;
  for (const Keyword& k : kKeywords) names.push_back(k.name);
  size_t start = 0;
  while (start <= proposal.size()) {
    const size_t dash = proposal.find('-', start);
    const std::string token =
        proposal.substr(start, dash == std::string::npos ? std::string::npos : dash - start);
    const Keyword* k = nullptr;
    for (const Keyword& x : kKeywords)
      if (x.name == token) k = &x;
    if (k == nullptr) {
      const std::string near = ClosestKey(token, names);
      return proposal + ": \"" + token + "\" is not a strongSwan algorithm" +
             (near.empty() ? "" : " (" + near + "?)");
    }
    ++count[static_cast<size_t>(k->kind)];
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  auto n = [&](Kw k) { return count[static_cast<size_t>(k)]; };
  if (n(Kw::kEncr) + n(Kw::kAead) == 0) return proposal + ": no encryption algorithm";
  if (n(Kw::kEncr) > 0 && n(Kw::kAead) > 0)
    return proposal +
           ": AEAD (gcm, ccm, chacha20poly1305) and other encryption algorithms "
           "cannot share a proposal";
  if (n(Kw::kEncr) > 0 && n(Kw::kInteg) == 0)
    return proposal + ": no integrity algorithm (e.g. sha256) for a non-AEAD cipher";
  if (n(Kw::kAead) > 0 && n(Kw::kInteg) > 0)
    return proposal + ": an AEAD cipher has its own integrity; drop the integrity algorithm";
  if (ike) {
    if (n(Kw::kAead) > 0 && n(Kw::kPrf) == 0)
      return proposal + ": an IKE proposal with an AEAD cipher needs a PRF (e.g. prfsha384)";
    if (n(Kw::kDh) == 0) return proposal + ": an IKE proposal needs a DH group (e.g. ecp384)";
    if (n(Kw::kEsn) > 0) return proposal + ": esn/noesn are for ESP proposals";
  } else if (n(Kw::kPrf) > 0) {
    return proposal + ": an ESP proposal has no PRF";
  }
  return "";
}

std::map<std::string, TenantVpn> CheckVpns(std::vector<VpnDraft>* drafts,
                                           const std::vector<TenantDraft>& tenants,
                                           const PolicyBuilder& b, ErrorList* errors) {
  std::map<std::string, TenantVpn> out;
  for (const TenantDraft& t : tenants) {
    TenantVpn& result = out[t.spec.name];
    result.tenant = t.spec.name;
    result.file = t.file_name;
    VpnDraft* d = nullptr;
    for (VpnDraft& x : *drafts)
      if (x.file == t.file) d = &x;
    if (d == nullptr) continue;
    Ctx c{d, &t, errors};
    c.v4 = t.spec.vm_address.addr.is_v4();
    for (const VirtualSubnet& s : b.policy.subnets)
      if (s.rdid == t.spec.rdid)
        for (const IpPrefix& p : s.prefixes)
          if (p.addr.is_v4() == c.v4) c.vm_prefixes.push_back(p);
    for (const ExternalSpec& e : t.spec.external)
      c.external.insert(c.external.end(), e.addresses.begin(), e.addresses.end());
    d->vpn.tenant = t.spec.name;
    CheckConnections(c);
    if (d->has_bgp) CheckBgp(c);
    if (d->vpn.p2s.enabled) CheckPointToSite(c);
    result = d->vpn;
  }
  return out;
}

}  // namespace hnv::config::yaml
