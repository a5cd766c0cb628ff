// A TCP relay on loopback between the store's clients and a real etcd, which
// a test cuts and restores: Cut() closes every relayed connection and refuses
// new ones (clients see the store unreachable while etcd keeps running and
// taking other clients' writes); Restore() accepts again on the same port.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace hnv::store::test {

class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  void Cut();
  void Restore();

 private:
  void Run();
  bool Listen();

  int target_port_;
  int port_ = 0;
  std::mutex mu_;
  int listen_fd_ = -1;
  std::vector<std::pair<int, int>> pairs_;  // client fd, etcd fd
  bool cut_ = false;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace hnv::store::test
