// CharonService (charon.h).
#include "s2s/charon.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <thread>

#include "s2s/files.h"
#include "s2s/render.h"
#include "s2s/tunnel_net.h"

namespace hnv::s2s {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kViciTimeout = seconds(5);
// The refresher's VICI calls (list-sas, get-counters, queued initiates): a
// charon that does not answer holds a worker this long at most.
constexpr auto kFetchTimeout = seconds(3);
// How often the SA list is refreshed while someone looks at the status, and
// otherwise (Poll's re-initiation asks for a fresh one when it is due).
constexpr auto kRefreshWatched = seconds(1);
constexpr auto kRefreshIdle = seconds(10);
// charon's start to its VICI socket answering. It creates ipsec0 and its
// routing rules under the RTNL lock, which namespace teardowns elsewhere on
// a loaded machine hold for seconds: Start waits kStartWait, then Poll (which
// never waits) keeps checking until kStartTimeout.
constexpr auto kStartWait = seconds(10);
constexpr auto kStartTimeout = seconds(60);
constexpr auto kSwanctlTimeout = seconds(20);
constexpr auto kStopGrace = seconds(3);
// How often a connection that should always be up, and has no IKE SA, is
// initiated again. charon retries by itself after timeouts (keyingtries 0),
// not after a refusal (a peer that answered NO_PROPOSAL_CHOSEN or
// AUTHENTICATION_FAILED while it came back without its configuration).
constexpr auto kReinitiateEvery = seconds(10);

// Directories swanctl looks into (relative to swanctl.conf); created so it
// does not complain about each missing one.
const std::vector<std::string> kSwanctlDirs = {"run",    "private", "x509",    "x509ca", "x509ocsp",
                                               "x509aa", "x509ac",  "x509crl", "pubkey", "rsa",
                                               "ecdsa",  "bliss",   "pkcs8",   "pkcs12"};

std::map<std::string, std::string> Peers(const TenantVpn& vpn) {
  std::map<std::string, std::string> peers;
  for (const Connection& k : vpn.connections) peers[k.name] = k.peer_address.ToString();
  return peers;
}

const Connection* Find(const TenantVpn& vpn, const std::string& name) {
  for (const Connection& k : vpn.connections)
    if (k.name == name) return &k;
  return nullptr;
}

long long Number(const Json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return 0;
  return std::strtoll(j[key].get<std::string>().c_str(), nullptr, 10);
}

std::string Text(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// "2024-05-01T10:00:00Z", `ago` seconds before now.
std::string Since(long long ago) {
  const std::time_t t = std::time(nullptr) - static_cast<std::time_t>(ago);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384" in parts.
Json Algorithms(const Json& sa) {
  Json a = Json::object();
  if (const std::string e = Text(sa, "encr-alg"); !e.empty())
    a["encryption"] = e + (sa.contains("encr-keysize") ? "-" + Text(sa, "encr-keysize") : "");
  if (const std::string i = Text(sa, "integ-alg"); !i.empty()) a["integrity"] = i;
  if (const std::string p = Text(sa, "prf-alg"); !p.empty()) a["prf"] = p;
  if (const std::string d = Text(sa, "dh-group"); !d.empty()) a["dh_group"] = d;
  return a;
}

Json ChildSa(const Json& c) {
  Json j;
  j["name"] = Text(c, "name");
  j["state"] = Text(c, "state");
  j["mode"] = Text(c, "mode");
  j["protocol"] = Text(c, "protocol");
  j["udp_encapsulation"] = Text(c, "encap") == "yes";
  j["spi_in"] = Text(c, "spi-in");
  j["spi_out"] = Text(c, "spi-out");
  j["algorithms"] = Algorithms(c);
  j["bytes_in"] = Number(c, "bytes-in");
  j["packets_in"] = Number(c, "packets-in");
  j["bytes_out"] = Number(c, "bytes-out");
  j["packets_out"] = Number(c, "packets-out");
  const long long installed = Number(c, "install-time");
  j["installed_seconds"] = installed;
  j["installed_since"] = Since(installed);
  j["rekey_in_seconds"] = Number(c, "rekey-time");
  j["local_ts"] = c.value("local-ts", Json::array());
  j["remote_ts"] = c.value("remote-ts", Json::array());
  return j;
}

Json IkeSa(const Json& sa) {
  Json j;
  j["id"] = Number(sa, "uniqueid");
  j["state"] = Text(sa, "state");
  j["local"] = Text(sa, "local-host") + ":" + Text(sa, "local-port");
  j["remote"] = Text(sa, "remote-host") + ":" + Text(sa, "remote-port");
  j["local_id"] = Text(sa, "local-id");
  j["remote_id"] = Text(sa, "remote-id");
  if (sa.contains("remote-eap-id")) j["remote_eap_id"] = Text(sa, "remote-eap-id");
  j["initiator"] = Text(sa, "initiator") == "yes";
  j["algorithms"] = Algorithms(sa);
  if (sa.contains("established")) {
    const long long up = Number(sa, "established");
    j["established_seconds"] = up;
    j["established_since"] = Since(up);
  }
  if (sa.contains("rekey-time")) j["rekey_in_seconds"] = Number(sa, "rekey-time");
  if (sa.contains("remote-vips")) j["virtual_ips"] = sa["remote-vips"];
  Json children = Json::array();
  if (sa.contains("child-sas"))
    for (const auto& [key, c] : sa["child-sas"].items()) children.push_back(ChildSa(c));
  j["child_sas"] = children;
  return j;
}

// Whether an answer of list-sas (its events: {<connection>: <IKE SA>})
// has an IKE SA of `connection`.
bool HasSaIn(const Json& sas, const std::string& connection) {
  for (const Json& event : sas)
    if (event.contains(connection)) return true;
  return false;
}

// On a refresher's worker: the queued requests ({"command", "request"}),
// then the SAs and the counters, over a connection of its own.
Json FetchSas(const std::string& socket, const std::vector<Json>& requests, std::string* error) {
  std::unique_ptr<ViciClient> vici = ViciClient::Connect(socket, kFetchTimeout, error);
  if (!vici) return nullptr;
  for (const Json& r : requests) {
    std::string ignored;  // initiate with timeout -1: charon answers before it acts
    vici->Call(r["command"].get<std::string>(), r["request"], &ignored);
  }
  std::vector<Json> sas;
  if (!vici->CallStreamed("list-sas", "list-sa", Json::object(), &sas, error)) return nullptr;
  Json out;
  out["sas"] = sas;
  std::string e;
  std::optional<Json> c = vici->Call("get-counters", Json{{"all", "yes"}}, &e);
  out["counters"] = c && c->contains("counters") ? (*c)["counters"] : Json::object();
  return out;
}

const char* ModeName(TunnelMode m) { return m == TunnelMode::kRoute ? "route" : "policy"; }

// Whether two versions of a connection negotiate the same SAs: all but the
// key (used at the next authentication) and what only the kernel routes.
bool SameSa(Connection a, Connection b) {
  a.psk = b.psk;
  a.routes = b.routes;
  a.route_source = b.route_source;
  return a == b;
}

}  // namespace

CharonService::CharonService(ServiceEnv env, std::shared_ptr<StatusRefresher> refresher)
    : env_(std::move(env)),
      dir_(env_.state_dir + "/charon"),
      daemon_("charon", kCharonProgram, dir_ + "/charon.process"),
      tail_(dir_ + "/" + kCharonLog),
      refresher_(std::move(refresher)) {
  job_ = refresher_->Add(
      env_.tenant + " charon",
      [socket = vici_socket()](const std::vector<Json>& requests, std::string* error) {
        return FetchSas(socket, requests, error);
      },
      kRefreshWatched, kRefreshIdle);
}

CharonService::~CharonService() { refresher_->Remove(job_); }

std::string CharonService::vici_socket() const { return dir_ + "/" + kViciSocket; }

std::unique_ptr<ViciClient> CharonService::Vici(std::string* error) const {
  return ViciClient::Connect(vici_socket(), kViciTimeout, error);
}

bool CharonService::WriteConfig(const TenantVpn& vpn, bool* changed, std::string* error) {
  if (!MakeDirs(dir_, kSwanctlDirs, Owner{}, error)) return false;
  chmod(dir_.c_str(), 0700);  // secrets.conf and the key links are in it
  std::vector<std::string> written;
  if (!WriteFiles(dir_, RenderCharon(vpn, dir_), Owner{}, &written, error)) return false;
  *changed = !written.empty();
  log_.SetPeers(Peers(vpn));
  return true;
}

bool CharonService::Start(const TenantVpn& vpn, Clock::time_point now, std::string* error) {
  vpn_ = vpn;
  started_ = true;
  if (!vpn.NeedsCharon()) return true;
  bool changed = false;
  if (!WriteConfig(vpn, &changed, error)) return false;
  if (daemon_.Adopt(now)) {
    since_ = Clock::now();
    // A previous hnv-gateway's charon: its SAs stay; bring its configuration
    // and ipsec0 up to date (ipsec0 again at each Poll until it works).
    if (!Load(error)) return false;
    network_ok_ = Network(error);
    Refresh();
    return true;
  }
  const bool ok = StartDaemon(now, error);
  Refresh();  // the first answer of this charon, rather than at the idle pace
  return ok;
}

bool CharonService::LaunchDaemon(Clock::time_point now, std::string* error) {
  network_ok_ = false;
  unlink(vici_socket().c_str());
  // charon refuses to start while the PID in its pid file is alive, and PIDs
  // are reused (pid_max is 32768 here): a killed charon's file names some
  // other process sooner or later. Ours is not running, so the file is stale.
  unlink((dir_ + "/run/charon.pid").c_str());
  LaunchSpec spec;
  spec.argv = {kCharonProgram};
  spec.env = BaseEnvironment({"STRONGSWAN_CONF=" + dir_ + "/strongswan.conf"});
  spec.netns = env_.netns;
  spec.private_run = dir_ + "/run";
  spec.log = dir_ + "/charon.stdout";
  if (!daemon_.Launch(spec, now, error)) {
    last_error_ = *error;
    return false;
  }
  launching_ = true;
  launched_at_ = now;
  since_ = Clock::now();
  next_reinitiate_ = now + kReinitiateEvery;  // charon's own start_action first
  return true;
}

CharonService::Ready CharonService::CheckReady(Clock::time_point now, std::string* error) {
  if (!IsRunning(daemon_.id())) {
    *error = "charon exited at start; see " + dir_ + "/" + kCharonLog + " and charon.stdout";
  } else if (std::string why; access(vici_socket().c_str(), F_OK) == 0 &&
                              ViciClient::Connect(vici_socket(), kViciTimeout, &why)) {
    launching_ = false;
    if (Load(error)) {
      network_ok_ = Network(error);
      return kReady;
    }
  } else if (now - launched_at_ < kStartTimeout) {
    return kNotYet;
  } else {
    *error = "charon did not open its VICI socket " + vici_socket() + " within " +
             std::to_string(std::chrono::duration_cast<seconds>(kStartTimeout).count()) + " s";
  }
  launching_ = false;
  daemon_.StartFailed(now, *error);
  last_error_ = *error;
  return kFailed;
}

// Fails for what will not mend itself: charon cannot be launched, exits,
// or its configuration is refused. A charon still starting after kStartWait
// is left to Poll, and ipsec0's addresses and routes that could not be set
// yet are set by a later Poll (`ip` waits for the RTNL lock too): the
// compartment need not fail for a slow kernel.
bool CharonService::StartDaemon(Clock::time_point now, std::string* error) {
  if (!LaunchDaemon(now, error)) return false;
  const Clock::time_point t0 = Clock::now();
  for (;;) {
    const Clock::duration waited = Clock::now() - t0;
    const Ready r = CheckReady(now + waited, error);
    if (r != kNotYet) return r == kReady;
    if (waited >= kStartWait) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

bool CharonService::Load(std::string* error) {
  LaunchSpec spec;
  spec.argv = {kSwanctlProgram, "--load-all", "--noprompt", "--file", dir_ + "/swanctl.conf"};
  spec.env = BaseEnvironment({"STRONGSWAN_CONF=" + dir_ + "/strongswan.conf"});
  std::string out;
  if (Run(spec, kSwanctlTimeout, &out) != 0) {
    *error = "swanctl --load-all (" + dir_ + "/swanctl.conf) failed:\n" + out;
    last_error_ = *error;
    return false;
  }
  return true;
}

bool CharonService::Network(std::string* error) {
  if (!ReconcileTunnelNet(env_.netns, WantedTunnelNet(vpn_), dir_ + "/ip.batch", error)) {
    last_error_ = *error;
    return false;
  }
  last_error_.clear();
  return true;
}

void CharonService::Terminate(const std::string& connection) {
  std::string error;
  std::unique_ptr<ViciClient> vici = Vici(&error);
  if (!vici) return;
  // Not waiting for the peer's answer: the SA goes at once either way.
  vici->Call("terminate", Json{{"ike", connection}, {"force", "yes"}, {"timeout", "-1"}}, &error);
  log_.Forget(connection);
}

bool CharonService::HasSa(const std::string& connection) const {
  std::string error;
  std::unique_ptr<ViciClient> vici = Vici(&error);
  std::vector<Json> sas;
  return vici &&
         vici->CallStreamed("list-sas", "list-sa", Json{{"ike", connection}}, &sas, &error) &&
         !sas.empty();
}

void CharonService::Initiate(const std::string& connection) {
  std::string error;
  std::unique_ptr<ViciClient> vici = Vici(&error);
  if (!vici) return;
  vici->Call("initiate", Json{{"child", connection}, {"ike", connection}, {"timeout", "-1"}},
             &error);
}

bool CharonService::Update(const TenantVpn& vpn, Clock::time_point now, std::string* error) {
  if (!started_) return Start(vpn, now, error);
  if (!vpn.NeedsCharon()) {
    vpn_ = vpn;
    const bool ok = Stop(error);
    started_ = true;  // Update may bring it back
    return ok;
  }
  const TenantVpn old = vpn_;
  vpn_ = vpn;
  bool changed = false;
  if (!WriteConfig(vpn, &changed, error)) return false;
  if (!daemon_.running()) {
    // Not running (never needed before, or waiting for a restart): the next
    // start loads the new files.
    if (!old.NeedsCharon() || daemon_.Due(now)) return StartDaemon(now, error);
    return true;
  }
  // SAs of connections that went, or whose IKE/IPsec settings changed, end
  // before the load: charon starts a changed connection again itself when
  // it loads it (start_action); one whose key, routes or nothing changed
  // keeps its SAs.
  std::vector<std::string> restarted;
  for (const Connection& k : old.connections) {
    const Connection* now_k = Find(vpn, k.name);
    if (now_k != nullptr && SameSa(*now_k, k)) continue;
    Terminate(k.name);
    if (now_k != nullptr && now_k->initiate == Initiate::kAlways) restarted.push_back(k.name);
  }
  if (old.p2s.enabled && !(vpn.p2s == old.p2s)) {
    Terminate(kP2sEapConnection);
    Terminate(kP2sCertConnection);
  }
  bool ok = true;
  if (changed) ok = Load(error);
  // Should charon not have started one (it did not see a change), start it.
  for (const std::string& name : restarted)
    if (!HasSa(name)) Initiate(name);
  if (ok) ok = network_ok_ = Network(error);
  Refresh();
  return ok;
}

void CharonService::Poll(Clock::time_point now) {
  if (!started_ || !vpn_.NeedsCharon()) return;
  tail_.Read(&log_);
  if (daemon_.CheckDied(now)) {
    network_ok_ = false;
    launching_ = false;
  }
  std::string error;
  if (daemon_.Due(now)) {
    LaunchDaemon(now, &error);  // ready at a later Poll: no waiting here
  } else if (launching_) {
    CheckReady(now, &error);
  } else if (daemon_.running() && !network_ok_) {
    network_ok_ = Network(&error);
  }
  if (daemon_.running() && !launching_ && now >= next_reinitiate_) {
    // Judged from an answer taken since it became due: asked for once, then
    // a later Poll decides. The initiate goes to the refresher's worker.
    const std::shared_ptr<const Snapshot> snap = refresher_->Peek(*job_);
    if (snap->valid() && snap->taken >= next_reinitiate_ && snap->taken >= since_) {
      next_reinitiate_ = now + kReinitiateEvery;
      reinitiate_kicked_ = false;
      for (const Connection& k : vpn_.connections)
        if (k.initiate == Initiate::kAlways && !HasSaIn((*snap->data)["sas"], k.name)) {
          refresher_->Queue(*job_, Json{{"command", "initiate"},
                                        {"request", {{"child", k.name},
                                                     {"ike", k.name},
                                                     {"timeout", "-1"}}}});
          ++reinitiated_;
        }
    } else if (!reinitiate_kicked_) {
      refresher_->Kick(*job_);
      reinitiate_kicked_ = true;
    }
  }
}

void CharonService::Detach() {
  started_ = false;
  launching_ = false;
  daemon_.Forget();
}

Json CharonService::ConnectionStatus(const Connection& k, const Json& sas, const Json& counters,
                                     bool known) const {
  Json j;
  j["name"] = k.name;
  j["local"] = k.local_address.ToString();
  j["peer"] = k.peer_address.ToString();
  j["mode"] = ModeName(k.mode);
  Json ike = Json::array();
  bool up = false;
  for (const Json& event : sas) {
    if (!event.contains(k.name)) continue;
    const Json sa = IkeSa(event[k.name]);
    if (sa["state"] == "ESTABLISHED")
      for (const Json& c : sa["child_sas"]) up = up || c["state"] == "INSTALLED";
    ike.push_back(sa);
  }
  j["state"] = !known ? "unknown" : up ? "up" : ike.empty() ? "down" : "connecting";
  j["ike_sas"] = ike;
  if (const ConnectionError* e = log_.LastError(k.name); e != nullptr && !up) {
    j["last_error"] = e->message;
    j["last_error_log"] = e->log;
  }
  if (counters.contains(k.name)) {
    const Json& c = counters[k.name];
    j["rekeys"] = {{"ike", Number(c, "ike-rekey-init") + Number(c, "ike-rekey-resp")},
                   {"child", Number(c, "child-rekey")}};
  }
  return j;
}

Json CharonService::Status(Clock::time_point now) {
  tail_.Read(&log_);
  Json j;
  j["daemon"] = daemon_.Status(now);
  if (!last_error_.empty()) j["error"] = last_error_;
  j["reinitiated"] = reinitiated_;
  // charon's latest answer (the refresher's), used when it is of the
  // current process; a charon that is not running has no SAs.
  const std::shared_ptr<const Snapshot> snap = refresher_->Latest(*job_);
  const Json age = snap->Age(Clock::now());
  j["as_of"] = age["as_of"];
  if (age.contains("age_ms")) j["age_ms"] = age["age_ms"];
  const bool running = daemon_.running() && !launching_;
  // Failures before this charon started (no socket yet) are not its.
  if (running && !snap->error.empty() && snap->error_at >= since_) j["vici_error"] = snap->error;
  const bool known = !running || (snap->valid() && snap->taken >= since_);
  static const Json kNone = Json::object();
  const Json& answer = running && known ? *snap->data : kNone;
  const Json sas = answer.value("sas", Json::array());
  const Json counters = answer.value("counters", Json::object());
  Json conns = Json::array();
  for (const Connection& k : vpn_.connections)
    conns.push_back(ConnectionStatus(k, sas, counters, known));
  j["connections"] = conns;
  if (vpn_.p2s.enabled) {
    Json clients = Json::array();
    for (const Json& event : sas)
      for (const char* name : {kP2sEapConnection, kP2sCertConnection})
        if (event.contains(name)) clients.push_back(IkeSa(event[name]));
    j["point_to_site"] = {{"pool", vpn_.p2s.pool.ToString()}, {"clients", clients}};
  }
  return j;
}

bool CharonService::Stop(std::string* error) {
  started_ = false;
  launching_ = false;
  network_ok_ = false;
  const pid_t pid = daemon_.id().pid;
  const bool stopped = daemon_.Stop(kStopGrace);
  // Killed either way (what is left is the kernel's side of its exit), so
  // its directory goes: a new charon here must not adopt it.
  if (!RemoveDir(dir_, error)) return false;
  if (!stopped) {
    *error = "charon (pid " + std::to_string(pid) + ") killed, still exiting " +
             "5 s after SIGKILL (reaped when it has)";
    return false;
  }
  return true;
}

}  // namespace hnv::s2s
