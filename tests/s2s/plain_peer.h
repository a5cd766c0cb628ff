// Independent peers for the daemon tests: an unmodified strongSwan charon
// and FRR (zebra + bgpd), configured from text the test writes itself, not
// from the project's renderers, and started the way RECIPES.md §1/§2 start
// them (`ip netns exec` with a private /run, FRR with -d and private
// sockets). This is what the lab's on-premises site will be.
#pragma once

#include <signal.h>

#include <string>

#include "tests/s2s/s2s_fixture.h"

namespace hnv::s2s::test {

class PlainStrongswan {
 public:
  // `dir` is the instance directory; `swanctl` the whole swanctl.conf.
  PlainStrongswan(std::string ns, std::string dir) : ns_(std::move(ns)), dir_(std::move(dir)) {}
  ~PlainStrongswan() { Stop(); }

  bool Start(const std::string& swanctl) {
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
    const std::string pid =
        ShOut("STRONGSWAN_CONF=" + dir_ + "/strongswan.conf setsid ip netns exec " + ns_ +
              " sh -c 'mount --bind " + dir_ + "/run /run && exec /usr/lib/ipsec/charon' >" + dir_ +
              "/charon.stdout 2>&1 </dev/null & echo $!");
    pid_ = std::atoi(pid.c_str());
    if (!WaitFor([&] { return access((dir_ + "/charon.vici").c_str(), F_OK) == 0; }, 10000))
      return false;
    return Swanctl("--load-all --noprompt --file " + dir_ + "/swanctl.conf") == 0;
  }
  int Swanctl(const std::string& args, std::string* out = nullptr) {
    return Sh("STRONGSWAN_CONF=" + dir_ + "/strongswan.conf swanctl " + args, out);
  }
  void Kill(int sig) {
    if (pid_ > 0) kill(pid_, sig);
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    WaitFor([&] { return kill(pid_, 0) != 0; }, 5000);
    pid_ = 0;
  }
  const std::string& dir() const { return dir_; }

  static void WriteText(const std::string& path, const std::string& text) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return;
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }

 private:
  std::string ns_;
  std::string dir_;
  int pid_ = 0;
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
