#include "tests/unit/store/etcd_process.h"

#include "tests/unit/store/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace hnv::store::test {

int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

namespace {

bool Run(const std::string& command) {
  const int rc = std::system(command.c_str());
  return rc == 0;
}

}  // namespace

EtcdProcess::EtcdProcess(Options options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/hnv-store-test-XXXXXX";
  if (::mkdtemp(tmpl) != nullptr) dir_ = tmpl;
  client_port_ = FreeLoopbackPort();
  peer_port_ = FreeLoopbackPort();
  if (options_.tls && !MakeCertificates()) ADD_FAILURE() << "cannot make test certificates";
}

EtcdProcess::~EtcdProcess() {
  Kill();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool EtcdProcess::MakeCertificates() {
  const std::string d = dir_;
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  return Run("cd " + d + " && openssl req -x509 " + key +
             " -keyout ca.key -out ca.crt -days 2 -subj /CN=hnv-test-ca >/dev/null 2>&1") &&
         Run("cd " + d + " && openssl req " + key +
             " -keyout server.key -out server.csr -subj /CN=127.0.0.1 >/dev/null 2>&1") &&
         Run("cd " + d + " && printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' > server.ext && " +
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out server.crt -days 2 -extfile server.ext >/dev/null 2>&1") &&
         !MakeClientCert("root").first.empty();
}

std::pair<std::string, std::string> EtcdProcess::MakeClientCert(const std::string& cn) const {
  const std::string base = dir_ + "/client-" + cn;
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const bool ok =
      Run("cd " + dir_ + " && openssl req " + key + " -keyout " + base + ".key -out " + base +
          ".csr -subj /CN=" + cn + " >/dev/null 2>&1") &&
      Run("cd " + dir_ + " && printf 'extendedKeyUsage=clientAuth\\n' > client.ext && " +
          "openssl x509 -req -in " + base + ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -out " +
          base + ".crt -days 2 -extfile client.ext >/dev/null 2>&1");
  if (!ok) return {};
  return {base + ".crt", base + ".key"};
}

bool EtcdProcess::Start() {
  if (pid_ > 0) return true;
  const std::string scheme = options_.tls ? "https://" : "http://";
  const std::string client_url = scheme + endpoint();
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port_);
  std::vector<std::string> args = {
      "etcd",
      "--name=hnvtest",
      "--data-dir=" + dir_ + "/data",
      "--listen-client-urls=" + client_url,
      "--advertise-client-urls=" + client_url,
      "--listen-peer-urls=" + peer_url,
      "--initial-advertise-peer-urls=" + peer_url,
      "--initial-cluster=hnvtest=" + peer_url,
      "--logger=zap",
      "--log-level=warn",
      // A transaction of a tenant's bundle can hold thousands of keys.
      "--max-txn-ops=100000",
      "--max-request-bytes=33554432",
  };
  if (options_.tls) {
    args.push_back("--cert-file=" + dir_ + "/server.crt");
    args.push_back("--key-file=" + dir_ + "/server.key");
    args.push_back("--trusted-ca-file=" + dir_ + "/ca.crt");
    args.push_back("--client-cert-auth");
  }
  for (const std::string& a : options_.extra_args) args.push_back(a);
  const std::string log = dir_ + "/etcd.log";
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("etcd", argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  EtcdOptions o = ClientOptions();
  o.timeout_ms = 500;
  std::string error;
  std::unique_ptr<EtcdClient> c = EtcdClient::Connect(o, &error);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (c && std::chrono::steady_clock::now() < deadline) {
    if (c->Get("/").status.ok()) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "etcd did not come up on " << client_url << " (log " << log << ") " << error;
  Kill();
  return false;
}

void EtcdProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

EtcdOptions EtcdProcess::ClientOptions() const {
  EtcdOptions o;
  o.endpoints = {endpoint()};
  if (options_.tls) {
    o.tls = true;
    o.ca_file = ca_file();
    o.cert_file = dir_ + "/client-root.crt";
    o.key_file = dir_ + "/client-root.key";
  }
  return o;
}

std::unique_ptr<EtcdClient> EtcdProcess::Connect() const {
  std::string error;
  std::unique_ptr<EtcdClient> c = EtcdClient::Connect(ClientOptions(), &error);
  if (!c) ADD_FAILURE() << error;
  return c;
}

EtcdProcess* EtcdSuite::etcd_ = nullptr;

void EtcdSuite::SetUpTestSuite() {
  etcd_ = new EtcdProcess();
  ASSERT_TRUE(etcd_->Start());
}

void EtcdSuite::TearDownTestSuite() {
  delete etcd_;
  etcd_ = nullptr;
}

void EtcdSuite::SetUp() {
  ASSERT_NE(etcd_, nullptr);
  ASSERT_TRUE(etcd_->running());
  client_ = etcd_->Connect();
  ASSERT_NE(client_, nullptr);
  layout_ = Layout(std::string("/test/") +
                   ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/hnv/v1/");
}

std::unique_ptr<EtcdClient> EtcdSuite::ClientThrough(const TcpProxy& proxy, int timeout_ms) {
  EtcdOptions o = etcd_->ClientOptions();
  o.endpoints = {proxy.endpoint()};
  o.timeout_ms = timeout_ms;
  std::string error;
  std::unique_ptr<EtcdClient> c = EtcdClient::Connect(o, &error);
  EXPECT_NE(c, nullptr) << error;
  return c;
}

}  // namespace hnv::store::test
