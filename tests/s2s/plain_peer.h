// Independent peers for the daemon tests: an unmodified strongSwan charon
// and FRR (zebra + bgpd), configured from text the test writes itself, not
// from the project's renderers, and started the way RECIPES.md §1/§2 start
// them (`ip netns exec` with a private /run, FRR with -d and private
// sockets). This is what the lab's on-premises site will be.
#pragma once

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/s2s/s2s_fixture.h"

namespace hnv::s2s::test {

class PlainStrongswan {
 public:
  // `dir` is the instance directory; `swanctl` the whole swanctl.conf.
  PlainStrongswan(std::string ns, std::string dir) : ns_(std::move(ns)), dir_(std::move(dir)) {}
  ~PlainStrongswan() { Stop(); }

  // Starts charon and loads `swanctl`. On failure error() says which step
  // failed and why (swanctl's output, charon's last log lines).
  bool Start(const std::string& swanctl) {
    Stop();
    error_.clear();
    Sh("mkdir -p " + dir_ + "/run " + dir_ + "/x509ca " + dir_ + "/x509 " + dir_ + "/private");
    WriteText(dir_ + "/strongswan.conf", R"(charon {
    load = random nonce openssl aes sha1 sha2 hmac gcm pem pkcs1 pkcs8 x509 revocation constraints pubkey gmp curve25519 kdf eap-identity eap-mschapv2 kernel-libipsec kernel-netlink socket-default vici
    install_routes = yes
    routing_table = 220
    routing_table_prio = 32767
    filelog {
        peer {
            path = )" + dir_ + R"(/charon.log
            default = 1
            ike_name = yes
        }
    }
    plugins {
        vici {
            socket = unix://)" + dir_ + R"(/charon.vici
        }
    }
}
swanctl {
    socket = unix://)" + dir_ + R"(/charon.vici
}
)");
    WriteText(dir_ + "/swanctl.conf", swanctl);
    // What a charon killed in this directory left: its socket file (which
    // reads as "ready" until the new charon replaces it, so swanctl would
    // meet a refused connection) and its pid file (charon refuses to start
    // while the PID in it is alive, and PIDs are reused).
    unlink((dir_ + "/charon.vici").c_str());
    unlink((dir_ + "/run/charon.pid").c_str());
    const std::string pid =
        ShOut("STRONGSWAN_CONF=" + dir_ + "/strongswan.conf setsid ip netns exec " + ns_ +
              " sh -c 'mount --bind " + dir_ + "/run /run && exec /usr/lib/ipsec/charon' >" + dir_ +
              "/charon.stdout 2>&1 </dev/null & echo $!");
    pid_ = std::atoi(pid.c_str());
    if (pid_ <= 0) return Failed("no PID for charon: " + pid);
    // 30 s: charon creates its TUN and routing rules under the RTNL lock,
    // which other tests' namespace teardowns hold for seconds on a loaded machine.
    bool died = false;
    if (!WaitFor(
            [&] {
              died = Gone(pid_);
              return died || Answers(dir_ + "/charon.vici");
            },
            30000))
      return Failed("charon (pid " + std::to_string(pid_) +
                    ") did not answer on its VICI socket within 30 s");
    if (died) {
      pid_ = 0;
      return Failed("charon exited at start");
    }
    std::string out;
    if (Swanctl("--load-all --noprompt --file " + dir_ + "/swanctl.conf", &out) != 0)
      return Failed("swanctl --load-all failed:\n" + out);
    return true;
  }
  const std::string& error() const { return error_; }
  int Swanctl(const std::string& args, std::string* out = nullptr) {
    return Sh("STRONGSWAN_CONF=" + dir_ + "/strongswan.conf swanctl " + args, out);
  }
  // A crash: `sig` (SIGKILL) and the wait until it is gone (its sockets,
  // UDP 500/4500 and ipsec0 released), so that a new one can start here.
  void Kill(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    WaitFor([&] { return Gone(pid_); }, 10000);
    pid_ = 0;
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    if (!WaitFor([&] { return Gone(pid_); }, 5000)) {
      kill(pid_, SIGKILL);
      WaitFor([&] { return Gone(pid_); }, 5000);
    }
    pid_ = 0;
  }
  const std::string& dir() const { return dir_; }

  static void WriteText(const std::string& path, const std::string& text) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return;
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }

  // No process `pid`, or only its zombie (it is not our child: whatever
  // adopted it reaps it; its files and sockets are closed by then).
  static bool Gone(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(f, stat);
    const size_t paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] == 'Z' ||
           stat[paren + 2] == 'X';
  }
  // Whether a process accepts connections on the unix socket `path`.
  static bool Answers(const std::string& path) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    return ok;
  }

 private:
  bool Failed(const std::string& why) {
    error_ = dir_ + ": " + why + "\ncharon.stdout: " + ShOut("tail -5 " + dir_ + "/charon.stdout") +
             "charon.log (last lines):\n" + ShOut("tail -15 " + dir_ + "/charon.log");
    return false;
  }

  std::string ns_;
  std::string dir_;
  int pid_ = 0;
  std::string error_;
};

class PlainFrr {
 public:
  PlainFrr(std::string ns, std::string dir) : ns_(std::move(ns)), dir_(std::move(dir)) {}
  ~PlainFrr() { Stop(); }

  bool Start(const std::string& bgpd_conf) {
    Sh("mkdir -p " + dir_ + "/run && touch " + dir_ + "/vtysh.conf");
    PlainStrongswan::WriteText(dir_ + "/zebra.conf", "hostname peer\n");
    PlainStrongswan::WriteText(dir_ + "/bgpd.conf", bgpd_conf);
    Sh("chown -R frr:frr " + dir_);
    const std::string c =
        " -d -u frr -g frr -P 0 --vty_socket " + dir_ + "/run -z " + dir_ + "/run/zserv.api ";
    return Sh("ip netns exec " + ns_ + " /usr/lib/frr/zebra" + c + "-f " + dir_ +
              "/zebra.conf -i " + dir_ + "/run/zebra.pid") == 0 &&
           Sh("ip netns exec " + ns_ + " /usr/lib/frr/bgpd" + c + "-f " + dir_ + "/bgpd.conf -i " +
              dir_ + "/run/bgpd.pid") == 0;
  }
  void Stop() {
    for (const char* d : {"bgpd", "zebra"}) {
      const int pid = std::atoi(ShOut("cat " + dir_ + "/run/" + d + ".pid 2>/dev/null").c_str());
      if (pid > 0) {
        kill(pid, SIGTERM);
        WaitFor([&] { return kill(pid, 0) != 0; }, 5000);
      }
    }
  }

 private:
  std::string ns_;
  std::string dir_;
};

// A test CA and certificates signed by it (strongSwan's pki), in `dir`:
// ca.pem/ca.key, <name>.pem/<name>.key with subjectAltName `san`.
inline bool MakeCa(const std::string& dir) {
  return Sh("cd " + dir +
            " && pki --gen --type ecdsa --size 256 --outform pem 2>/dev/null > ca.key"
            " && pki --self --ca --lifetime 30 --in ca.key --type ecdsa --dn 'CN=s2s test CA'"
            " --outform pem 2>/dev/null > ca.pem") == 0;
}
inline bool MakeCert(const std::string& dir, const std::string& name, const std::string& san) {
  return Sh("cd " + dir + " && pki --gen --type ecdsa --size 256 --outform pem 2>/dev/null > " +
            name + ".key && chmod 600 " + name + ".key && pki --pub --in " + name +
            ".key --type ecdsa 2>/dev/null | pki --issue --lifetime 30 --cacert ca.pem --cakey "
            "ca.key --dn 'CN=" +
            san + "' --san " + san + " --flag serverAuth --flag clientAuth --outform pem > " +
            name + ".pem 2>/dev/null") == 0;
}

}  // namespace hnv::s2s::test
