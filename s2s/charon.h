// CharonService: strongSwan's charon for one tenant compartment, run inside
// its namespace from files rendered into <state_dir>/charon (render.h), and
// its status. A compartment service: Start, Update, Poll, Status, Stop
// (service.h); a tenant without connections or point-to-site has no charon
// (Update stops it, Start does nothing).
//
// Theory of operation:
//  - Start writes the files, adopts the charon that a previous hnv-gateway
//    left running (its record charon.process: PID and start time; a crash of
//    hnv-gateway does not take the tunnels down) or launches one (process.h:
//    setns, a private /run for its hard-coded pid file, STRONGSWAN_CONF
//    pointing at the instance's strongswan.conf), waits for its VICI socket,
//    loads everything (`swanctl --load-all`), then gives ipsec0 its addresses
//    and routes (tunnel_net.h).
//  - Update rewrites the files; terminates over VICI the SAs of removed
//    connections and of those whose IKE or IPsec settings changed; when
//    swanctl.conf, the secrets or a key link changed it loads again
//    (`swanctl --load-all`: connections, credentials and pools; connections
//    no longer in the file are unloaded, changed ones are started again by
//    charon), and reconciles ipsec0. Connections whose SAs would be the same
//    (nothing, only the key or only static routes changed) keep their SAs
//    untouched; a new key is used at the next authentication.
//  - Poll restarts a charon that died (daemon.h's backoff), re-doing the
//    load and ipsec0 (which came back empty), and reads the log for
//    failures (charon_log.h). It never waits for charon: it launches it, and
//    a later Poll finds the VICI socket answering (or gives up after 60 s).
//    Start and Update may wait (10 s at most for the socket, then Poll
//    carries on). Start fails only when charon cannot be launched, exits, or
//    refuses the configuration; slowness is not failure (on a loaded
//    machine charon's start, `ip` and a killed charon's exit all wait for
//    the kernel's RTNL lock): ipsec0 not set up yet is set up by a later
//    Poll, and the error is in Status meanwhile.
//  - Status never asks charon: a worker of the gateway's StatusRefresher
//    (status_refresher.h) lists the SAs over its own VICI connection
//    (list-sas) with the rekey counters (get-counters, the counters plugin)
//    every second while someone looks (10 s otherwise), and Status composes
//    the per-connection view from the latest answer, with its age (`as_of`,
//    `age_ms`) and the daemon's state, which the service owns. An answer
//    older than charon's current process is not used (state "unknown"
//    until a new one comes).
//  - Poll's re-initiation of always-up connections without an IKE SA (every
//    10 s) judges from an answer taken after it became due (it kicks a
//    refresh and decides at a later Poll), and hands the `initiate` to the
//    worker (StatusRefresher::Queue): a stopped charon never holds Poll.
//  - Stop: SIGTERM (charon deletes its SAs and tells the peers), SIGKILL
//    after 3 s, the wait until it is reaped, then the instance directory is
//    removed. ipsec0, its addresses and routes, and the routing rule go with
//    charon. A killed charon whose exit the kernel still holds 5 s later is
//    reaped later (process.h); Stop then says so and returns false.
//
// Thread: one owner (the control thread). Start and Update may block for a
// few seconds at most (charon start, swanctl, ip, and their VICI terminate /
// initiate, which must run in order with the load); Poll and Status never
// wait for charon. The refresher's worker touches only its job (the socket
// path, copied).
#pragma once

#include <memory>
#include <string>

#include "s2s/charon_log.h"
#include "s2s/daemon.h"
#include "s2s/service.h"
#include "s2s/spec.h"
#include "s2s/status_refresher.h"
#include "s2s/vici.h"

namespace hnv::s2s {

class CharonService {
 public:
  // `refresher`: the gateway's (one for all tenants).
  CharonService(ServiceEnv env, std::shared_ptr<StatusRefresher> refresher);
  ~CharonService();
  CharonService(const CharonService&) = delete;
  CharonService& operator=(const CharonService&) = delete;

  bool Start(const TenantVpn& vpn, Clock::time_point now, std::string* error);
  bool Update(const TenantVpn& vpn, Clock::time_point now, std::string* error);
  void Poll(Clock::time_point now);
  // From the latest answer of charon (see above): never waits.
  Json Status(Clock::time_point now);
  // Asks the refresher for a new answer as soon as it can (after a change).
  void Refresh() { refresher_->Kick(*job_); }
  // When the refresher last asked the daemon (the answer Status uses now,
  // or a failure since): epoch when it never did.
  Clock::time_point status_asked() { return refresher_->Peek(*job_)->asked(); }
  // Returns false when charon, killed, had not ended yet (see above), or its
  // directory could not be removed.
  bool Stop(std::string* error);
  // Leaves charon running and its directory as they are (hnv-gateway exits
  // or re-creates the compartment): the next Start adopts it.
  void Detach();

  const std::string& dir() const { return dir_; }
  const Daemon& daemon() const { return daemon_; }
  std::string vici_socket() const;
  // A VICI connection to this instance's charon.
  std::unique_ptr<ViciClient> Vici(std::string* error) const;

 private:
  bool WriteConfig(const TenantVpn& vpn, bool* changed, std::string* error);
  // Launch, socket, load, ipsec0, waiting; on failure the daemon is
  // scheduled again. Poll does the same in steps: LaunchDaemon, then
  // CheckReady at each Poll until the VICI socket answers.
  bool StartDaemon(Clock::time_point now, std::string* error);
  bool LaunchDaemon(Clock::time_point now, std::string* error);
  enum Ready { kNotYet, kReady, kFailed };
  Ready CheckReady(Clock::time_point now, std::string* error);
  bool Load(std::string* error);
  bool Network(std::string* error);
  void Terminate(const std::string& connection);
  void Initiate(const std::string& connection);
  bool HasSa(const std::string& connection) const;
  Json ConnectionStatus(const Connection& k, const Json& sas, const Json& counters,
                        bool known) const;

  ServiceEnv env_;
  std::string dir_;
  Daemon daemon_;
  TenantVpn vpn_;
  bool started_ = false;     // Start called (and Stop not)
  bool network_ok_ = false;  // ipsec0 reconciled since charon's last start
  bool launching_ = false;   // launched, its VICI socket not answering yet
  Clock::time_point launched_at_{};
  Clock::time_point since_{};  // charon's current process launched or adopted (Clock::now())
  // Poll initiates an always-up connection without an IKE SA again, at most
  // this often (see kReinitiateEvery); `reinitiated_` counts it.
  Clock::time_point next_reinitiate_{};
  uint64_t reinitiated_ = 0;
  bool reinitiate_kicked_ = false;  // a fresh answer asked for the re-initiation
  std::string last_error_;  // of the last load / network attempt
  CharonLog log_;
  LogTail tail_;
  std::shared_ptr<StatusRefresher> refresher_;
  std::shared_ptr<StatusRefresher::Job> job_;
};

}  // namespace hnv::s2s
