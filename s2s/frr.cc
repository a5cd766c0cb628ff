// FrrService (frr.h).
#include "s2s/frr.h"

#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "s2s/render.h"

namespace hnv::s2s {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kZservTimeout = seconds(10);
constexpr auto kVtyshTimeout = seconds(10);
constexpr auto kReloadTimeout = seconds(60);
constexpr auto kStopGrace = seconds(3);
// How often bgpd's tables are fetched while someone looks, and otherwise
// (nothing but `hnvctl vpn show` uses them: a vtysh per tenant is not free).
constexpr auto kRefreshWatched = seconds(1);
constexpr auto kRefreshIdle = seconds(30);

// The top-level JSON objects in the output of several vtysh commands, in
// order (a command that answers with text instead gives none).
std::vector<std::string> JsonDocuments(const std::string& text) {
  std::vector<std::string> docs;
  int depth = 0;
  bool in_string = false;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      if (depth++ == 0) start = i;
    } else if (c == '}' && depth > 0 && --depth == 0) {
      docs.push_back(text.substr(start, i + 1 - start));
    }
  }
  return docs;
}

long long Int(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<long long>() : 0;
}

// One address family's `show bgp ... summary json` peers.
void Neighbors(const Json& summary, const Bgp& bgp, Json* out) {
  if (!summary.contains("peers")) return;
  for (const auto& [address, p] : summary["peers"].items()) {
    Json n;
    n["address"] = address;
    n["remote_asn"] = Int(p, "remoteAs");
    for (const BgpNeighbor& b : bgp.neighbors)
      if (b.address.ToString() == address && !b.connection.empty()) n["connection"] = b.connection;
    n["state"] = p.value("state", "");
    n["up_seconds"] = Int(p, "peerUptimeMsec") / 1000;
    n["prefixes_received"] = Int(p, "pfxRcd");
    n["prefixes_sent"] = Int(p, "pfxSnt");
    n["messages_received"] = Int(p, "msgRcvd");
    n["messages_sent"] = Int(p, "msgSent");
    out->push_back(n);
  }
}

// `show bgp <family> unicast json` routes: every path, best or not.
void Routes(const Json& table, Json* out) {
  if (!table.contains("routes")) return;
  for (const auto& [prefix, paths] : table["routes"].items()) {
    for (const Json& p : paths) {
      Json r;
      r["prefix"] = prefix;
      r["best"] = p.value("bestpath", false);
      r["valid"] = p.value("valid", false);
      const std::string peer = p.value("peerId", "");
      r["from"] = peer == "(unspec)" ? "local" : peer;
      r["as_path"] = p.value("path", "");
      if (p.contains("nexthops") && !p["nexthops"].empty())
        r["next_hop"] = p["nexthops"][0].value("ip", "");
      out->push_back(r);
    }
  }
}

// On a refresher's worker: one vtysh for the four answers (each vtysh start
// costs a second or more on a loaded machine), parsed: {"docs": [...]}.
Json FetchBgp(const std::string& dir, std::string* error) {
  std::string out;
  if (!FrrService::RunVtysh(dir,
                            {"show bgp ipv4 unicast summary json", "show bgp ipv4 unicast json",
                             "show bgp ipv6 unicast summary json", "show bgp ipv6 unicast json"},
                            &out, error))
    return nullptr;
  Json docs = Json::array();
  for (const std::string& doc : JsonDocuments(out)) {
    Json d = Json::parse(doc, nullptr, false);
    if (!d.is_discarded()) docs.push_back(std::move(d));
  }
  return Json{{"docs", std::move(docs)}};
}

}  // namespace

FrrService::FrrService(ServiceEnv env, std::shared_ptr<StatusRefresher> refresher)
    : env_(std::move(env)),
      dir_(env_.state_dir + "/frr"),
      zebra_("zebra", kZebraProgram, dir_ + "/zebra.process"),
      bgpd_("bgpd", kBgpdProgram, dir_ + "/bgpd.process"),
      refresher_(std::move(refresher)) {
  job_ = refresher_->Add(
      env_.tenant + " bgpd",
      [dir = dir_](const std::vector<Json>&, std::string* error) { return FetchBgp(dir, error); },
      kRefreshWatched, kRefreshIdle);
}

FrrService::~FrrService() { refresher_->Remove(job_); }

bool FrrService::WriteConfig(const TenantVpn& vpn, bool* bgpd_changed, std::string* error) {
  const std::optional<Owner> frr = LookupUser("frr");
  if (!frr) {
    *error = "there is no user frr (is the frr package installed?)";
    return false;
  }
  frr_ = *frr;
  if (!MakeDirs(dir_, {"run"}, frr_, error)) return false;
  chmod(dir_.c_str(), 0750);
  std::vector<std::string> written;
  if (!WriteFiles(dir_, RenderFrr(vpn, dir_), frr_, &written, error)) return false;
  *bgpd_changed = std::find(written.begin(), written.end(), "bgpd.conf") != written.end();
  return true;
}

bool FrrService::LaunchDaemon(Daemon* d, Clock::time_point now, std::string* error) {
  const std::string program = d == &zebra_ ? kZebraProgram : kBgpdProgram;
  const std::string run = dir_ + "/run";
  LaunchSpec spec;
  spec.argv = {program,
               "-u",
               "frr",
               "-g",
               "frr",
               "-P",
               "0",
               "--vty_socket",
               run,
               "-z",
               run + "/zserv.api",
               "-f",
               dir_ + "/" + d->name() + ".conf",
               "-i",
               run + "/" + d->name() + ".pid"};
  spec.env = BaseEnvironment();
  spec.netns = env_.netns;
  spec.log = dir_ + "/" + d->name() + ".stdout";
  if (d == &zebra_) unlink((run + "/zserv.api").c_str());
  if (!d->Launch(spec, now, error)) {
    last_error_ = *error;
    return false;
  }
  if (d == &zebra_) {
    zebra_launching_ = true;
    launched_at_ = now;
  } else {
    bgpd_since_ = Clock::now();
  }
  return true;
}

// bgpd would retry, but a zserv socket missing at its start is logged as an
// error: bgpd starts once zebra has opened it.
FrrService::Ready FrrService::ZebraReady(Clock::time_point now, std::string* error) {
  const std::string zserv = dir_ + "/run/zserv.api";
  if (access(zserv.c_str(), F_OK) == 0) {
    zebra_launching_ = false;
    return kReady;
  }
  if (IsRunning(zebra_.id()) && now - launched_at_ < kZservTimeout) return kNotYet;
  zebra_launching_ = false;
  *error = "zebra did not open " + zserv + "; see " + dir_ + "/zebra.log";
  zebra_.StartFailed(now, *error);
  last_error_ = *error;
  return kFailed;
}

bool FrrService::StartDaemon(Daemon* d, Clock::time_point now, std::string* error) {
  if (!LaunchDaemon(d, now, error)) return false;
  if (d != &zebra_) return true;
  const Clock::time_point t0 = Clock::now();
  for (;;) {
    const Ready r = ZebraReady(now + (Clock::now() - t0), error);
    if (r != kNotYet) return r == kReady;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

bool FrrService::Start(const TenantVpn& vpn, Clock::time_point now, std::string* error) {
  vpn_ = vpn;
  started_ = true;
  if (!vpn.NeedsFrr()) return true;
  bool changed = false;
  if (!WriteConfig(vpn, &changed, error)) return false;
  const bool zebra_adopted = zebra_.Adopt(now);
  if (!zebra_adopted && !StartDaemon(&zebra_, now, error)) return false;
  bool ok;
  if (bgpd_.Adopt(now)) {  // a previous hnv-gateway's bgpd: apply the file
    bgpd_since_ = Clock::now();
    ok = Reload(error);
  } else {
    ok = StartDaemon(&bgpd_, now, error);
  }
  Refresh();  // the first answer of this bgpd, rather than at the idle pace
  return ok;
}

bool FrrService::Reload(std::string* error) {
  LaunchSpec spec;
  spec.argv = {kFrrReloadProgram, "--reload",         "--daemon",     "bgpd",
               "--bindir",        "/usr/bin",         "--confdir",    dir_,
               "--rundir",        dir_ + "/run",      "--vty_socket", dir_ + "/run",
               "--stdout",        dir_ + "/bgpd.conf"};
  spec.env = BaseEnvironment();
  std::string out;
  if (Run(spec, kReloadTimeout, &out) != 0) {
    *error = "frr-reload.py " + dir_ + "/bgpd.conf failed:\n" + out;
    last_error_ = *error;
    return false;
  }
  last_error_.clear();
  return true;
}

bool FrrService::Update(const TenantVpn& vpn, Clock::time_point now, std::string* error) {
  if (!started_) return Start(vpn, now, error);
  if (!vpn.NeedsFrr()) {
    vpn_ = vpn;
    const bool ok = Stop(error);
    started_ = true;
    return ok;
  }
  const bool was = vpn_.NeedsFrr();
  vpn_ = vpn;
  bool changed = false;
  if (!WriteConfig(vpn, &changed, error)) return false;
  if (!was) return Start(vpn, now, error);
  const bool ok = !changed || !bgpd_.running() || Reload(error);  // a bgpd that is down starts from the new file
  Refresh();
  return ok;  // a bgpd that is down starts from the new file
}

void FrrService::Poll(Clock::time_point now) {
  if (!started_ || !vpn_.NeedsFrr()) return;
  // As watchfrr does: the daemons do not recover from a zebra restart (bgpd
  // reconnects but never gives the new zebra its routes), so bgpd goes with it.
  if (zebra_.CheckDied(now)) {
    zebra_launching_ = false;
    if (bgpd_.running()) bgpd_.StartFailed(now, "stopped: zebra died, bgpd restarts after it");
  }
  bgpd_.CheckDied(now);
  // Never waits: zebra is launched, a later Poll sees its socket, then bgpd.
  std::string error;
  if (zebra_.Due(now)) {
    LaunchDaemon(&zebra_, now, &error);
    return;
  }
  if (zebra_launching_ && ZebraReady(now, &error) != kReady) return;
  if (zebra_.running() && bgpd_.Due(now)) LaunchDaemon(&bgpd_, now, &error);
}

void FrrService::Detach() {
  started_ = false;
  zebra_launching_ = false;
  zebra_.Forget();
  bgpd_.Forget();
}

bool FrrService::RunVtysh(const std::string& dir, const std::vector<std::string>& commands,
                          std::string* out, std::string* error) {
  LaunchSpec spec;
  spec.argv = {kVtyshProgram, "--vty_socket", dir + "/run", "--config_dir", dir};
  std::string said;
  for (const std::string& c : commands) {
    spec.argv.insert(spec.argv.end(), {"-c", c});
    said += " -c '" + c + "'";
  }
  spec.env = BaseEnvironment();
  if (Run(spec, kVtyshTimeout, out) != 0) {
    *error = "vtysh" + said + ": " + *out;
    return false;
  }
  return true;
}

Json FrrService::Status(Clock::time_point now) {
  Json j;
  j["daemons"] = {{"zebra", zebra_.Status(now)}, {"bgpd", bgpd_.Status(now)}};
  if (!last_error_.empty()) j["error"] = last_error_;
  if (!vpn_.NeedsFrr()) return j;
  j["asn"] = vpn_.bgp.asn;
  j["router_id"] = vpn_.bgp.router_id.ToString();
  Json neighbors = Json::array();
  Json routes = Json::array();
  // bgpd's latest answer (the refresher's), when it is of bgpd's current
  // process. A summary has "peers", a table "routes": each takes its own.
  const std::shared_ptr<const Snapshot> snap = refresher_->Latest(*job_);
  const Json age = snap->Age(Clock::now());
  j["as_of"] = age["as_of"];
  if (age.contains("age_ms")) j["age_ms"] = age["age_ms"];
  if (bgpd_.running()) {
    // Failures before this bgpd started (no daemon, no files yet) are not its.
    if (!snap->error.empty() && snap->error_at >= bgpd_since_) j["vtysh_error"] = snap->error;
    if (snap->valid() && snap->taken >= bgpd_since_) {
      for (const Json& d : snap->data->value("docs", Json::array())) {
        Neighbors(d, vpn_.bgp, &neighbors);
        Routes(d, &routes);
      }
    } else {
      j["neighbors_unknown"] = true;  // no answer of this bgpd yet
    }
  }
  j["neighbors"] = neighbors;
  j["routes"] = routes;
  return j;
}

bool FrrService::Stop(std::string* error) {
  started_ = false;
  const pid_t bgpd = bgpd_.id().pid;
  const pid_t zebra = zebra_.id().pid;
  if (!bgpd_.Stop(kStopGrace)) {
    *error = "bgpd (pid " + std::to_string(bgpd) + ") did not stop";
    return false;
  }
  if (!zebra_.Stop(kStopGrace)) {
    *error = "zebra (pid " + std::to_string(zebra) + ") did not stop";
    return false;
  }
  return RemoveDir(dir_, error);
}

}  // namespace hnv::s2s
