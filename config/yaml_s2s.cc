// ReadVpn: the `site_to_site:`, `bgp:` and `point_to_site:` sections of one
// tenant file, keys, types and values only; the secrets files they name and
// the certificate files are read here too (yaml_s2s.h). What needs the
// tenant or the policy is in yaml_s2s_check.cc.
#include "config/yaml_s2s.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

namespace hnv::config::yaml {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
constexpr IntSpec kAsnSpec{"an AS number", 1, kU32, kU32};
constexpr IntSpec kDpdSpec{"seconds", 0, 3600, kU32};
constexpr IntSpec kRekeySpec{"seconds", 60, 604800, kU32};
constexpr IntSpec kMaxPrefixSpec{"a prefix count", 1, 1000000, kU32};
constexpr IntSpec kMultihopSpec{"a hop count", 1, 255, kU32};
constexpr IntSpec kKeepaliveSpec{"seconds", 1, 21845, kU32};
constexpr IntSpec kHoldSpec{"seconds", 3, 65535, kU32};

constexpr std::string_view kS2sKeys[] = {"secrets", "connections"};
constexpr std::string_view kConnKeys[] = {
    "name",      "local_address", "peer_address", "local_id", "remote_id",     "auth",
    "psk",       "certificate",   "private_key",  "ca",       "ike_proposals", "esp_proposals",
    "dpd_delay", "ike_rekey",     "child_rekey",  "initiate", "mode",          "tunnel",
    "routes",    "local_ts",      "remote_ts"};
constexpr std::string_view kTunnelKeys[] = {"local", "peer"};
constexpr std::string_view kBgpKeys[] = {"asn", "router_id", "announce", "neighbors"};
constexpr std::string_view kNeighborKeys[] = {"address",   "connection",   "remote_asn",
                                              "accept",    "max_prefixes", "ebgp_multihop",
                                              "keepalive", "hold"};
constexpr std::string_view kP2sKeys[] = {
    "secrets", "local_address", "local_id", "certificate",   "private_key",  "client_ca",
    "pool",    "routes",        "dns",      "ike_proposals", "esp_proposals"};
constexpr std::string_view kSecretsKeys[] = {"psk", "eap"};

constexpr EnumName<AuthMethod> kAuthNames[] = {{"psk", AuthMethod::kPsk},
                                               {"certificate", AuthMethod::kCertificate}};
constexpr EnumName<Initiate> kInitiateNames[] = {{"always", Initiate::kAlways},
                                                 {"on_traffic", Initiate::kOnTraffic},
                                                 {"never", Initiate::kNever}};
constexpr EnumName<TunnelMode> kModeNames[] = {{"route", TunnelMode::kRoute},
                                               {"policy", TunnelMode::kPolicy}};

// A pre-shared key shorter than this is refused (RFC 7296 §2.15 wants a key
// as strong as a random one; 16 characters is the floor for typed ones).
constexpr size_t kMinPskLength = 16;

template <typename T>
void SetUint(Reader& r, const Map& m, std::string_view key, const IntSpec& spec, T* out) {
  if (const std::optional<Value> x = m.Get(key))
    if (std::optional<uint64_t> n = r.UintIn(*x, spec)) *out = static_cast<T>(*n);
}

// A text that ends up in a generated file between quotes.
std::optional<std::string> Identity(Reader& r, const Value& v) {
  std::optional<std::string> text = r.Text(v, "an IKE identity");
  if (!text) return std::nullopt;
  if (std::string why = IdentityProblem(*text); !why.empty()) {
    r.Error(v.line, v.path, why);
    return std::nullopt;
  }
  return text;
}

std::vector<std::string> Proposals(Reader& r, const Value& v, bool ike) {
  std::vector<std::string> out;
  const std::vector<Value> items = r.AsList(v);
  for (const Value& item : items) {
    std::optional<std::string> text = r.Text(item, "a strongSwan proposal");
    if (!text) continue;
    if (std::string why = ProposalProblem(*text, ike); !why.empty())
      r.Error(item.line, item.path, why);
    else
      out.push_back(*text);
  }
  if (items.empty() && v.node.IsSequence()) r.Error(v.line, v.path, "an empty list of proposals");
  return out;
}

std::vector<IpPrefix> Prefixes(Reader& r, const Value& v, std::vector<FieldOrigin>* origins) {
  std::vector<IpPrefix> out;
  for (const Value& item : r.AsList(v)) {
    if (std::optional<IpPrefix> p = r.Prefix(item)) {
      out.push_back(*p);
      if (origins != nullptr) origins->push_back(Of(item));
    }
  }
  return out;
}

// A file the tenant file names: absolute, or relative to the tenant file's
// directory. It must be readable now (charon reads it at every load);
// `private_file` also wants it unreadable for others.
std::optional<std::string> FilePath(Reader& r, const Value& v, const char* what,
                                    bool private_file) {
  std::optional<std::string> text = r.Text(v, what);
  if (!text) return std::nullopt;
  if (text->empty() || text->find_first_of("\"\\\n\r") != std::string::npos) {
    r.Error(v.line, v.path,
            "\"" + *text +
                "\" is not a usable path (empty, or holds '\"', '\\' "
                "or a line break)");
    return std::nullopt;
  }
  fs::path p(*text);
  if (p.is_relative()) p = fs::path(r.file()).parent_path() / p;
  const std::string path = fs::absolute(p).lexically_normal().string();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r.Error(v.line, v.path, "cannot read " + path + ": " + std::strerror(errno));
    return std::nullopt;
  }
  struct stat st {};
  fstat(fd, &st);
  close(fd);
  if (!S_ISREG(st.st_mode)) {
    r.Error(v.line, v.path, path + " is not a regular file");
    return std::nullopt;
  }
  if (private_file && (st.st_mode & 0007) != 0) {
    r.Error(
        v.line, v.path, path + " is readable by every user (mode " + [&] {
          std::ostringstream o;
          o << std::oct << (st.st_mode & 0777);
          return o.str();
        }() + "); make it private (chmod o-rwx)");
    return std::nullopt;
  }
  return path;
}

// The secrets file: `psk:` and `eap:` maps of name -> secret.
struct Secrets {
  bool loaded = false;
  std::string path;
  std::map<std::string, std::string> psk;
  std::map<std::string, std::string> eap;
  std::vector<std::string> eap_order;  // as written
};

Secrets ReadSecrets(Reader& r, const Value& v) {
  Secrets s;
  std::optional<std::string> path = FilePath(r, v, "a secrets file", true);
  if (!path) return s;
  s.path = *path;
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(*path);
  } catch (const YAML::Exception& e) {
    r.Error(v.line, v.path,
            *path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg + " (YAML syntax error)");
    return s;
  }
  // Errors inside the secrets file are reported at the key that names it,
  // each with the secrets file's own line and field.
  ErrorList local;
  Reader in(r.file_index(), *path, &local);
  const Value root{doc, "", LineOf(doc)};
  if (doc.IsNull()) {
    s.loaded = true;
    return s;
  }
  if (std::optional<Map> m = in.AsMap(root, kSecretsKeys)) {
    for (const char* section : {"psk", "eap"}) {
      const std::optional<Value> sv = m->Get(section);
      if (!sv) continue;
      if (!sv->node.IsMap()) {
        in.Error(sv->line, sv->path,
                 "expected a mapping of name: secret, got " + Describe(sv->node));
        continue;
      }
      for (const auto& kv : sv->node) {
        const std::string name = kv.first.Scalar();
        const Value item{kv.second, sv->path + "." + name, LineOf(kv.first)};
        std::optional<std::string> secret = in.Text(item, "a secret (text)");
        if (!secret) continue;
        if (std::string(section) == "psk" && secret->size() < kMinPskLength) {
          in.Error(item.line, item.path,
                   "a pre-shared key of " + std::to_string(secret->size()) +
                       " characters is too weak; use at least " + std::to_string(kMinPskLength));
          continue;
        }
        if (secret->empty()) {
          in.Error(item.line, item.path, "an empty password");
          continue;
        }
        if (std::string(section) == "psk") {
          s.psk[name] = *secret;
        } else {
          if (IdentityProblem(name) != "") {
            in.Error(item.line, item.path,
                     "\"" + name + "\" is not a user name: " + IdentityProblem(name));
            continue;
          }
          s.eap[name] = *secret;
          s.eap_order.push_back(name);
        }
      }
    }
  }
  for (const ConfigError& e : local.TakeSorted()) r.Error(v.line, v.path, e.ToString());
  s.loaded = true;
  return s;
}

// The secrets files of this tenant file, read once each.
class SecretsCache {
 public:
  const Secrets& Get(Reader& r, const Value& v) {
    std::optional<std::string> text = r.Text(v, "a secrets file");
    const std::string key = text ? *text : "";
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, ReadSecrets(r, v)).first;
    return it->second;
  }

 private:
  std::map<std::string, Secrets> cache_;
};

void ReadTunnel(Reader& r, const Value& v, Connection* k, VpnDraft::Conn* o) {
  o->has_tunnel = true;
  o->tunnel = o->tunnel_local = o->tunnel_peer = Of(v);
  std::optional<Map> m = r.AsMap(v, kTunnelKeys);
  if (!m) return;
  if (const std::optional<Value> x = m->Need("local")) {
    o->tunnel_local = Of(*x);
    if (std::optional<IpAddr> a = r.Ip(*x)) k->tunnel_local = *a;
  }
  if (const std::optional<Value> x = m->Need("peer")) {
    o->tunnel_peer = Of(*x);
    if (std::optional<IpAddr> a = r.Ip(*x)) k->tunnel_peer = *a;
  }
}

void ReadConnection(Reader& r, const Value& item, const std::optional<Value>& secrets_key,
                    SecretsCache* cache, VpnDraft* d) {
  std::optional<Map> m = r.AsMap(item, kConnKeys);
  if (!m) return;
  Connection k;
  VpnDraft::Conn o;
  o.item = o.name = o.local_address = o.peer_address = o.tunnel = o.psk = Of(item);
  o.remote_ts = o.local_ts = o.routes = Of(item);
  if (const std::optional<Value> x = m->Need("name")) {
    o.name = Of(*x);
    if (std::optional<std::string> name = r.Name(*x)) {
      if (*name == "p2s" || name->starts_with("p2s-"))
        r.Error(x->line, x->path,
                "\"" + *name +
                    "\": names p2s and p2s-* are the point-to-site "
                    "connections'");
      else
        k.name = *name;
    }
  }
  if (const std::optional<Value> x = m->Need("local_address")) {
    o.local_address = Of(*x);
    if (std::optional<IpAddr> a = r.Ip(*x)) k.local_address = *a;
  }
  if (const std::optional<Value> x = m->Need("peer_address")) {
    o.peer_address = Of(*x);
    if (std::optional<IpAddr> a = r.Ip(*x)) k.peer_address = *a;
  }
  if (const std::optional<Value> x = m->Get("local_id")) {
    o.has_local_id = true;
    if (std::optional<std::string> id = Identity(r, *x)) k.local_id = *id;
  }
  if (const std::optional<Value> x = m->Get("remote_id")) {
    o.has_remote_id = true;
    if (std::optional<std::string> id = Identity(r, *x)) k.remote_id = *id;
  }
  const std::optional<Value> auth_key = m->Get("auth");
  if (auth_key)
    if (auto a = r.Enum<AuthMethod>(*auth_key, kAuthNames, "an auth method")) k.auth = *a;
  const FieldOrigin auth_origin = auth_key ? Of(*auth_key) : o.item;
  auto misplaced = [&](std::string_view key, const char* why) {
    if (const std::optional<Value> x = m->Find(key)) r.Error(x->line, x->path, why);
  };
  if (k.auth == AuthMethod::kPsk) {
    misplaced("certificate", "auth is psk: no certificate (or set auth: certificate)");
    misplaced("private_key", "auth is psk: no private key (or set auth: certificate)");
    misplaced("ca", "auth is psk: no CA (or set auth: certificate)");
    // The key's name in the secrets file: `psk:`, else the connection's name.
    std::string key_name = k.name;
    const std::optional<Value> psk_key = m->Get("psk");
    if (psk_key) {
      o.psk = Of(*psk_key);
      if (std::optional<std::string> n = r.Text(*psk_key, "the name of a key in the secrets file"))
        key_name = *n;
    }
    if (!secrets_key) {
      r.Error(auth_origin.line, auth_origin.path,
              "a pre-shared key needs site_to_site.secrets, the file that holds the keys");
    } else if (const Secrets& s = cache->Get(r, *secrets_key); s.loaded && !key_name.empty()) {
      const auto it = s.psk.find(key_name);
      if (it != s.psk.end())
        k.psk = it->second;
      else
        r.Error(
            o.psk.line, o.psk.path,
            "no key \"" + key_name + "\" in the psk: section of " + s.path +
                (psk_key ? "" : " (a connection's key has its name unless psk: names another)"));
    }
  } else {
    misplaced("psk", "auth is certificate: no pre-shared key");
    if (const std::optional<Value> x = m->Need("certificate"))
      if (auto p = FilePath(r, *x, "a certificate file", false)) k.certs.certificate = *p;
    if (const std::optional<Value> x = m->Need("private_key"))
      if (auto p = FilePath(r, *x, "a private key file", true)) k.certs.private_key = *p;
    if (const std::optional<Value> x = m->Need("ca")) {
      for (const Value& ca : r.AsList(*x))
        if (auto p = FilePath(r, ca, "a CA certificate file", false)) k.certs.ca.push_back(*p);
      if (r.AsList(*x).empty()) r.Error(x->line, x->path, "at least one CA certificate");
    }
  }
  if (const std::optional<Value> x = m->Get("ike_proposals"))
    k.ike_proposals = Proposals(r, *x, true);
  if (const std::optional<Value> x = m->Get("esp_proposals"))
    k.esp_proposals = Proposals(r, *x, false);
  SetUint(r, *m, "dpd_delay", kDpdSpec, &k.dpd_delay);
  SetUint(r, *m, "ike_rekey", kRekeySpec, &k.ike_rekey);
  SetUint(r, *m, "child_rekey", kRekeySpec, &k.child_rekey);
  if (const std::optional<Value> x = m->Get("initiate"))
    if (auto i = r.Enum<Initiate>(*x, kInitiateNames, "an initiate mode")) k.initiate = *i;
  if (const std::optional<Value> x = m->Get("mode"))
    if (auto mode = r.Enum<TunnelMode>(*x, kModeNames, "a tunnel mode")) k.mode = *mode;
  if (const std::optional<Value> x = m->Get("tunnel")) ReadTunnel(r, *x, &k, &o);
  if (const std::optional<Value> x = m->Get("routes")) {
    o.routes = Of(*x);
    k.routes = Prefixes(r, *x, &o.route_items);
  }
  if (const std::optional<Value> x = m->Get("local_ts")) {
    o.local_ts = Of(*x);
    o.has_local_ts = true;
    k.local_ts = Prefixes(r, *x, &o.local_ts_items);
  }
  if (const std::optional<Value> x = m->Get("remote_ts")) {
    o.remote_ts = Of(*x);
    o.has_remote_ts = true;
    k.remote_ts = Prefixes(r, *x, &o.remote_ts_items);
  }
  d->vpn.connections.push_back(std::move(k));
  d->conns.push_back(std::move(o));
}

// "10.2.0.0/16", "10.2.0.0/16 le 24", "10.2.0.0/16 ge 20 le 24", "any".
std::optional<PrefixMatch> Accept(Reader& r, const Value& v) {
  std::optional<std::string> text = r.Text(v, "a prefix filter");
  if (!text) return std::nullopt;
  if (*text == "any") return PrefixMatch{IpPrefix{}, 0, kAcceptAny};  // the family's: phase 2
  std::istringstream in(*text);
  std::string prefix_text, word;
  in >> prefix_text;
  const std::optional<IpPrefix> p = IpPrefix::Parse(prefix_text);
  const char* shape =
      " is not a prefix filter (\"10.2.0.0/16\", \"10.2.0.0/16 le 24\", "
      "\"10.2.0.0/16 ge 20 le 24\" or \"any\")";
  if (!p) {
    r.Error(v.line, v.path, "\"" + *text + "\"" + shape);
    return std::nullopt;
  }
  PrefixMatch m{*p, 0, 0};
  while (in >> word) {
    unsigned n = 0;
    std::string number;
    if ((word != "ge" && word != "le") || !(in >> number) ||
        number.find_first_not_of("0123456789") != std::string::npos || number.size() > 3) {
      r.Error(v.line, v.path, "\"" + *text + "\"" + shape);
      return std::nullopt;
    }
    n = static_cast<unsigned>(std::stoul(number));
    if (n <= p->len || n > static_cast<unsigned>(p->addr.bits())) {
      r.Error(v.line, v.path,
              "\"" + *text + "\": " + word + " " + number + " must be above the prefix length " +
                  std::to_string(p->len) + " and at most " + std::to_string(p->addr.bits()));
      return std::nullopt;
    }
    if ((word == "ge" && (m.ge != 0 || m.le != 0)) || (word == "le" && m.le != 0)) {
      r.Error(v.line, v.path, "\"" + *text + "\"" + shape);
      return std::nullopt;
    }
    (word == "ge" ? m.ge : m.le) = static_cast<uint8_t>(n);
  }
  if (m.ge != 0 && m.le != 0 && m.ge > m.le) {
    r.Error(v.line, v.path, "\"" + *text + "\": ge is above le");
    return std::nullopt;
  }
  return m;
}

void ReadNeighbor(Reader& r, const Value& item, VpnDraft* d) {
  std::optional<Map> m = r.AsMap(item, kNeighborKeys);
  if (!m) return;
  BgpNeighbor n;
  VpnDraft::Neighbor o;
  o.item = o.address = o.connection = Of(item);
  if (const std::optional<Value> x = m->Get("address")) {
    o.address = Of(*x);
    o.has_address = true;
    if (std::optional<IpAddr> a = r.Ip(*x)) n.address = *a;
  }
  if (const std::optional<Value> x = m->Get("connection")) {
    o.connection = Of(*x);
    if (std::optional<std::string> c = r.Name(*x)) n.connection = *c;
  }
  if (!o.has_address && n.connection.empty() && !m->Find("connection"))
    r.Error(item.line, item.path, "a neighbour needs an address or a connection (its tunnel)");
  if (const std::optional<Value> x = m->Need("remote_asn"))
    if (std::optional<uint64_t> a = r.UintIn(*x, kAsnSpec))
      n.remote_asn = static_cast<uint32_t>(*a);
  if (const std::optional<Value> x = m->Get("accept")) {
    o.has_accept = true;
    for (const Value& e : r.AsList(*x))
      if (std::optional<PrefixMatch> a = Accept(r, e)) n.accept.push_back(*a);
  }
  SetUint(r, *m, "max_prefixes", kMaxPrefixSpec, &n.max_prefixes);
  SetUint(r, *m, "ebgp_multihop", kMultihopSpec, &n.ebgp_multihop);
  SetUint(r, *m, "keepalive", kKeepaliveSpec, &n.keepalive);
  SetUint(r, *m, "hold", kHoldSpec, &n.hold);
  if (n.keepalive * 3 > n.hold)
    r.Error(item.line, item.path,
            "keepalive " + std::to_string(n.keepalive) + " s is more than a third of hold " +
                std::to_string(n.hold) + " s");
  d->vpn.bgp.neighbors.push_back(std::move(n));
  d->neighbors.push_back(std::move(o));
}

void ReadBgp(Reader& r, const Value& v, VpnDraft* d) {
  d->has_bgp = true;
  d->bgp = d->router_id = d->announce = Of(v);
  std::optional<Map> m = r.AsMap(v, kBgpKeys);
  if (!m) return;
  Bgp& b = d->vpn.bgp;
  if (const std::optional<Value> x = m->Need("asn"))
    if (std::optional<uint64_t> a = r.UintIn(*x, kAsnSpec)) b.asn = static_cast<uint32_t>(*a);
  if (const std::optional<Value> x = m->Get("router_id")) {
    d->router_id = Of(*x);
    d->has_router_id = true;
    if (std::optional<IpAddr> a = r.Ip(*x)) {
      if (!a->is_v4())
        r.Error(x->line, x->path, a->ToString() + ": a BGP router id is an IPv4 address");
      else
        b.router_id = *a;
    }
  }
  if (const std::optional<Value> x = m->Get("announce")) {
    d->announce = Of(*x);
    d->has_announce = true;
    b.announce = Prefixes(r, *x, &d->announce_items);
  }
  if (const std::optional<Value> x = m->Get("neighbors"))
    for (const Value& item : r.AsList(*x)) ReadNeighbor(r, item, d);
}

void ReadPointToSite(Reader& r, const Value& v, SecretsCache* cache, VpnDraft* d) {
  d->point_to_site = d->p2s_local_address = d->pool = d->p2s_routes = Of(v);
  std::optional<Map> m = r.AsMap(v, kP2sKeys);
  if (!m) return;
  PointToSite& p = d->vpn.p2s;
  p.enabled = true;
  if (const std::optional<Value> x = m->Get("secrets")) {
    const Secrets& s = cache->Get(r, *x);
    for (const std::string& user : s.eap_order) p.users.emplace_back(user, s.eap.at(user));
    if (s.loaded && s.eap.empty()) r.Error(x->line, x->path, s.path + " has no eap: users");
  }
  if (const std::optional<Value> x = m->Need("local_address")) {
    d->p2s_local_address = Of(*x);
    if (std::optional<IpAddr> a = r.Ip(*x)) p.local_address = *a;
  }
  if (const std::optional<Value> x = m->Get("local_id")) {
    d->has_p2s_local_id = true;
    if (std::optional<std::string> id = Identity(r, *x)) p.local_id = *id;
  }
  if (const std::optional<Value> x = m->Need("certificate"))
    if (auto path = FilePath(r, *x, "a certificate file", false)) p.server.certificate = *path;
  if (const std::optional<Value> x = m->Need("private_key"))
    if (auto path = FilePath(r, *x, "a private key file", true)) p.server.private_key = *path;
  if (const std::optional<Value> x = m->Get("client_ca"))
    for (const Value& ca : r.AsList(*x))
      if (auto path = FilePath(r, ca, "a CA certificate file", false)) p.server.ca.push_back(*path);
  if (!m->Get("secrets") && !m->Get("client_ca"))
    r.Error(v.line, v.path,
            "no client can connect: name a secrets file with eap: users, or client_ca for "
            "certificate clients, or both");
  if (const std::optional<Value> x = m->Need("pool")) {
    d->pool = Of(*x);
    if (std::optional<IpPrefix> pool = r.Prefix(*x)) {
      const bool v4 = pool->addr.is_v4();
      if (pool->len < (v4 ? 16 : 112) || pool->len > (v4 ? 30 : 126))
        r.Error(x->line, x->path,
                pool->ToString() + ": a pool is a /" + (v4 ? "16../30" : "112../126"));
      else
        p.pool = *pool;
    }
  }
  if (const std::optional<Value> x = m->Get("routes")) {
    d->p2s_routes = Of(*x);
    d->has_p2s_routes = true;
    p.routes = Prefixes(r, *x, &d->p2s_route_items);
  }
  if (const std::optional<Value> x = m->Get("dns"))
    for (const Value& a : r.AsList(*x))
      if (std::optional<IpAddr> ip = r.Ip(a)) p.dns.push_back(*ip);
  if (const std::optional<Value> x = m->Get("ike_proposals"))
    p.ike_proposals = Proposals(r, *x, true);
  if (const std::optional<Value> x = m->Get("esp_proposals"))
    p.esp_proposals = Proposals(r, *x, false);
}

}  // namespace

VpnDraft ReadVpn(Reader& r, const Map& root, bool own) {
  VpnDraft d;
  d.file = r.file_index();
  d.file_name = r.file();
  d.vpn.file = r.file();
  for (std::string_view key : kVpnRootKeys) {
    if (own) continue;
    if (const std::optional<Value> x = root.Get(key))
      r.Error(x->line, x->path,
              "only a tenant file has " + std::string(key) + "; an included file holds policy");
  }
  if (!own) return d;
  SecretsCache cache;
  if (const std::optional<Value> s = root.Get("site_to_site")) {
    d.has_site_to_site = true;
    d.site_to_site = Of(*s);
    if (std::optional<Map> m = r.AsMap(*s, kS2sKeys)) {
      const std::optional<Value> secrets = m->Get("secrets");
      if (secrets) cache.Get(r, *secrets);
      if (const std::optional<Value> x = m->Need("connections"))
        for (const Value& item : r.AsList(*x)) ReadConnection(r, item, secrets, &cache, &d);
    }
  }
  if (const std::optional<Value> b = root.Get("bgp")) ReadBgp(r, *b, &d);
  if (const std::optional<Value> p = root.Get("point_to_site")) ReadPointToSite(r, *p, &cache, &d);
  return d;
}

std::string IdentityProblem(const std::string& id) {
  if (id.empty() || id.size() > 255) return "\"" + id + "\" is not an identity (1..255 characters)";
  for (unsigned char c : id)
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
      return "\"" + id +
             "\" holds a character an identity cannot have ('\"', '\\' or a control "
             "character)";
  return "";
}

}  // namespace hnv::config::yaml
