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
//  - Status lists the SAs over VICI (list-sas) and the rekey counters
//    (get-counters, the counters plugin), per configured connection.
//  - Stop: SIGTERM (charon deletes its SAs and tells the peers), SIGKILL
//    after 3 s, the wait until it is reaped, then the instance directory is
//    removed. ipsec0, its addresses and routes, and the routing rule go with
//    charon. A killed charon whose exit the kernel still holds 5 s later is
//    reaped later (process.h); Stop then says so and returns false.
//
// Thread: one owner (the control thread); every call may block for a few
// seconds at most (charon start, swanctl, ip).
#pragma once

#include <memory>
#include <string>

#include "s2s/charon_log.h"
#include "s2s/daemon.h"
#include "s2s/service.h"
#include "s2s/spec.h"
#include "s2s/vici.h"

namespace hnv::s2s {

class CharonService {
 public:
  explicit CharonService(ServiceEnv env);

  bool Start(const TenantVpn& vpn, Clock::time_point now, std::string* error);
  bool Update(const TenantVpn& vpn, Clock::time_point now, std::string* error);
  void Poll(Clock::time_point now);
  Json Status(Clock::time_point now);
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
  Json ConnectionStatus(const Connection& k, const std::vector<Json>& sas, ViciClient* vici,
                        Clock::time_point now) const;

  ServiceEnv env_;
  std::string dir_;
  Daemon daemon_;
  TenantVpn vpn_;
  bool started_ = false;     // Start called (and Stop not)
  bool network_ok_ = false;  // ipsec0 reconciled since charon's last start
  bool launching_ = false;   // launched, its VICI socket not answering yet
  Clock::time_point launched_at_{};
  // Poll initiates an always-up connection without an IKE SA again, at most
  // this often (see kReinitiateEvery); `reinitiated_` counts it.
  Clock::time_point next_reinitiate_{};
  uint64_t reinitiated_ = 0;
  std::string last_error_;  // of the last load / network attempt
  CharonLog log_;
  LogTail tail_;
};

}  // namespace hnv::s2s
