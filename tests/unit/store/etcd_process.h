// A real etcd (Debian's etcd-server) for the store's tests: a single member
// listening on loopback only, on ports nobody else uses, with a fresh data
// directory. The process is killed by its PID when the object goes (and by
// the kernel if the test process dies first: PR_SET_PDEATHSIG), and the
// directory removed. Optionally TLS with client certificates (a CA and
// certificates made with openssl in the data directory).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "config/store/etcd_client.h"
#include "config/store/layout.h"

namespace hnv::store::test {

class EtcdProcess {
 public:
  struct Options {
    bool tls = false;  // https with client certificates required
    std::vector<std::string> extra_args;
  };
  EtcdProcess() : EtcdProcess(Options{}) {}
  explicit EtcdProcess(Options options);
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  // Starts etcd and waits until it answers (fails the test otherwise).
  bool Start();
  // SIGKILL and wait; the data directory stays for Start again.
  void Kill();
  bool running() const { return pid_ > 0; }

  int client_port() const { return client_port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }
  const std::string& dir() const { return dir_; }
  // Client options for this member (TLS files set when tls): as root, or as
  // `user` with a certificate for that name.
  EtcdOptions ClientOptions() const;
  // A client certificate and key signed by the test CA for common name `cn`
  // (tls only): paths of the .crt and .key.
  std::pair<std::string, std::string> MakeClientCert(const std::string& cn) const;
  std::string ca_file() const { return dir_ + "/ca.crt"; }

  std::unique_ptr<EtcdClient> Connect() const;

 private:
  bool MakeCertificates();

  Options options_;
  std::string dir_;
  int client_port_ = 0;
  int peer_port_ = 0;
  pid_t pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound, then released).
int FreeLoopbackPort();

class TcpProxy;

// A test suite with one etcd for all its tests; each test has a client and
// its own key root ("/test/<test name>/hnv/v1/"), so tests do not see each
// other's keys.
class EtcdSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  // A client whose connection goes through `proxy` (calls give up after
  // `timeout_ms`).
  std::unique_ptr<EtcdClient> ClientThrough(const TcpProxy& proxy, int timeout_ms = 1000);

  static EtcdProcess* etcd_;
  std::unique_ptr<EtcdClient> client_;
  Layout layout_;
};

}  // namespace hnv::store::test
