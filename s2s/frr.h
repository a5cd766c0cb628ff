// FrrService: FRRouting's zebra and bgpd for one tenant compartment, run
// inside its namespace from files rendered into <state_dir>/frr
// (render.h), and the BGP status. A compartment service like CharonService
// (service.h); a tenant without `bgp:` has no FRR.
//
// One FRR per compartment (not one FRR with the compartments as netns VRFs):
// a tenant's routing daemons fail, restart and reload alone, and nothing of
// the host's /etc/frr or /run/frr is used. The figures behind the choice are
// in s2s/README.md.
//
// Theory of operation:
//  - Every path is the instance's (RECIPES.md §2): -f <dir>/<daemon>.conf,
//    -i <dir>/run/<daemon>.pid, --vty_socket <dir>/run, -z
//    <dir>/run/zserv.api for both daemons, -P 0 (no TCP vty), -u/-g frr. The
//    directory belongs to frr. The daemons run in the foreground as our
//    children (no -d), so their deaths are seen at once; after a crash of
//    hnv-gateway they are adopted through their records (<daemon>.process).
//  - Start writes the files and starts (or adopts) zebra, waits for its
//    zserv socket, then bgpd.
//  - Update rewrites the files; a changed bgpd.conf is applied to the
//    running bgpd with FRR's own frr-reload.py (it diffs the running
//    configuration against the file and sends only the difference through
//    vtysh: other neighbours' sessions stay up).
//  - Poll (which never waits: a daemon is launched, and a later Poll finds
//    zebra's socket before bgpd starts) restarts a daemon that died; when zebra dies bgpd is
//    restarted after it (as watchfrr does: bgpd reconnects to a new zebra but never gives it its
//    routes again, tested).
//  - Status never runs vtysh: a worker of the gateway's StatusRefresher
//    (status_refresher.h) runs one vtysh (`show bgp ... summary json` and the
//    BGP tables, IPv4 and IPv6) every second while someone looks (30 s
//    otherwise) and parses its JSON; Status reshapes the latest answer with
//    the configuration (which neighbour runs over which connection) and
//    says how old it is (`as_of`, `age_ms`).
//  - Stop: bgpd, then zebra (which removes its routes from the kernel),
//    then the directory.
//
// Thread: one owner (the control thread); Start, Update and Stop block for
// seconds at most (zebra's socket, frr-reload.py), Poll and Status never.
// The refresher's worker runs only its own vtysh on the directory's path.
#pragma once

#include <string>
#include <vector>

#include "s2s/daemon.h"
#include "s2s/files.h"
#include "s2s/service.h"
#include "s2s/spec.h"
#include "s2s/status_refresher.h"
#include "s2s/vici.h"

namespace hnv::s2s {

class FrrService {
 public:
  // `refresher`: the gateway's (one for all tenants).
  FrrService(ServiceEnv env, std::shared_ptr<StatusRefresher> refresher);
  ~FrrService();
  FrrService(const FrrService&) = delete;
  FrrService& operator=(const FrrService&) = delete;

  bool Start(const TenantVpn& vpn, Clock::time_point now, std::string* error);
  bool Update(const TenantVpn& vpn, Clock::time_point now, std::string* error);
  void Poll(Clock::time_point now);
  // From bgpd's latest answer (see above): never waits.
  Json Status(Clock::time_point now);
  // Asks the refresher for a new answer as soon as it can.
  void Refresh() { refresher_->Kick(*job_); }
  // When the refresher last asked the daemon (the answer Status uses now,
  // or a failure since): epoch when it never did.
  Clock::time_point status_asked() { return refresher_->Peek(*job_)->asked(); }
  bool Stop(std::string* error);
  // Leaves the daemons running and the directory as they are (hnv-gateway
  // exits or re-creates the compartment): the next Start adopts them.
  void Detach();

  const std::string& dir() const { return dir_; }
  const Daemon& zebra() const { return zebra_; }
  const Daemon& bgpd() const { return bgpd_; }
  // One vtysh against this instance running `commands`: their outputs one
  // after the other in *out (what came, also when it failed: *error then).
  bool Vtysh(const std::vector<std::string>& commands, std::string* out,
             std::string* error) const {
    return RunVtysh(dir_, commands, out, error);
  }
  // The same on the instance directory `dir` (the refresher's worker).
  static bool RunVtysh(const std::string& dir, const std::vector<std::string>& commands,
                       std::string* out, std::string* error);

 private:
  bool WriteConfig(const TenantVpn& vpn, bool* bgpd_changed, std::string* error);
  // Launches and, for zebra, waits for its zserv socket; Poll does the same
  // in steps (LaunchDaemon, then ZebraReady at each Poll).
  bool StartDaemon(Daemon* d, Clock::time_point now, std::string* error);
  bool LaunchDaemon(Daemon* d, Clock::time_point now, std::string* error);
  enum Ready { kNotYet, kReady, kFailed };
  Ready ZebraReady(Clock::time_point now, std::string* error);
  bool Reload(std::string* error);

  ServiceEnv env_;
  std::string dir_;
  Daemon zebra_;
  Daemon bgpd_;
  TenantVpn vpn_;
  Owner frr_;
  bool started_ = false;
  bool zebra_launching_ = false;  // launched, zserv socket not there yet
  Clock::time_point launched_at_{};
  std::string last_error_;
  Clock::time_point bgpd_since_{};  // bgpd's current process launched or adopted
  std::shared_ptr<StatusRefresher> refresher_;
  std::shared_ptr<StatusRefresher::Job> job_;
};

}  // namespace hnv::s2s
