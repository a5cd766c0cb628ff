// The daemon tests' plumbing: network namespaces and veths the test creates
// (names unique to the process: "s2s<pid>-<name>", veths "s<pid><tag>"),
// every one removed in TearDown, also when the test failed, together with
// any process still running in them (all started by the test, killed by
// PID); shell helpers; TenantVpn builders for two sites.
//
// Traffic stays inside these namespaces: the "Internet" between two
// gateways is a veth pair with TEST-NET addresses, nothing is added to the
// root namespace.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "s2s/spec.h"
#include "s2s/status_refresher.h"
#include "tests/lib/shell.h"

namespace hnv::s2s::test {

using hnv::test::Sh;
using hnv::test::ShOut;

// The daemons' state changes in tens of milliseconds: check every 50 ms.
inline bool WaitFor(const std::function<bool()>& pred, int ms,
                    const std::function<void()>& step = nullptr) {
  return hnv::test::WaitFor(pred, ms, step, 50);
}

// A service's status as of now (CharonService, FrrService): their Status
// never waits for the daemon but answers from the refresher's latest
// answer; a test that checks what it just did asks for a new one and waits
// for it (10 s at most) first.
template <typename S>
Json Fresh(S&& service, int ms = 10000) {
  const Clock::time_point t = Clock::now();
  service->Refresh();
  WaitFor([&] { return service->status_asked() >= t; }, ms);
  return service->Status(Clock::now());
}

inline IpAddr A(const char* s) { return IpAddr::Parse(s).value(); }
inline IpPrefix P(const char* s) { return IpPrefix::Parse(s).value(); }

class NetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, daemons)";
    for (const char* p : {"/usr/lib/ipsec/charon", "/usr/lib/frr/bgpd", "/usr/sbin/swanctl"})
      if (access(p, X_OK) != 0) GTEST_SKIP() << p << " missing (scripts/install-deps.sh)";
    base_ = "/tmp/s2st" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    Sh("rm -rf " + base_ + " && mkdir -p " + base_ + " && chmod 755 " + base_);
  }

  void TearDown() override {
    if (geteuid() != 0) return;
    for (auto it = cleanups_.rbegin(); it != cleanups_.rend(); ++it) (*it)();
    cleanups_.clear();
    for (const std::string& ns : namespaces_) {
      // Whatever still runs there was started by this test (the namespace is
      // its own): by PID, TERM then KILL.
      for (int sig : {SIGTERM, SIGKILL}) {
        std::string pids = ShOut("ip netns pids " + ns);
        if (pids.empty()) break;
        for (size_t pos = 0; pos < pids.size();) {
          const size_t nl = pids.find('\n', pos);
          const int pid = std::atoi(pids.substr(pos, nl - pos).c_str());
          if (pid > 0) kill(pid, sig);
          pos = nl == std::string::npos ? pids.size() : nl + 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
      Sh("ip netns del " + ns);
    }
    namespaces_.clear();
    if (!KeepLogs())
      Sh("rm -rf " + base_);
    else
      std::fprintf(stderr, "s2s test: logs kept in %s\n", base_.c_str());
  }

  // The instance directories (logs) are kept when the test failed, or
  // with HNV_S2S_KEEP=1.
  bool KeepLogs() const { return HasFailure() || std::getenv("HNV_S2S_KEEP") != nullptr; }

  // "s2s<pid>-<name>", created with lo up and forwarding on.
  std::string Ns(const std::string& name) {
    const std::string ns = "s2s" + std::to_string(getpid()) + "-" + name;
    EXPECT_EQ(Sh("ip netns add " + ns), 0) << ns;
    namespaces_.push_back(ns);
    Sh("ip -n " + ns + " link set lo up");
    Sh("ip netns exec " + ns + " sysctl -qw net.ipv4.ip_forward=1");
    return ns;
  }

  // A veth between two namespaces, each end with an address ("" = none).
  void Link(const std::string& ns1, const std::string& addr1, const std::string& ns2,
            const std::string& addr2) {
    const std::string a = "s" + std::to_string(getpid() % 100000) + "l" + std::to_string(links_);
    const std::string b = a + "p";
    ++links_;
    ASSERT_EQ(
        Sh("ip link add " + a + " netns " + ns1 + " type veth peer name " + b + " netns " + ns2),
        0);
    if (!addr1.empty()) Sh("ip -n " + ns1 + " addr add " + addr1 + " dev " + a);
    if (!addr2.empty()) Sh("ip -n " + ns2 + " addr add " + addr2 + " dev " + b);
    Sh("ip -n " + ns1 + " link set " + a + " up");
    Sh("ip -n " + ns2 + " link set " + b + " up");
  }

  // A host behind a gateway: its own namespace, default route via the gateway.
  std::string Host(const std::string& name, const std::string& gw_ns, const char* gw_addr,
                   const char* host_addr) {
    const std::string ns = Ns(name);
    Link(gw_ns, gw_addr, ns, host_addr);
    const std::string gw(gw_addr);
    Sh("ip -n " + ns + " route add default via " + gw.substr(0, gw.find('/')));
    return ns;
  }

  bool Ping(const std::string& ns, const std::string& to, int count = 1) {
    return Sh("ip netns exec " + ns + " ping -c" + std::to_string(count) + " -i0.2 -W1 " + to) == 0;
  }

  std::string Dir(const std::string& name) {
    const std::string d = base_ + "/" + name;
    Sh("mkdir -p " + d);
    return d;
  }

  // One for all the services of a test, as in hnv-gateway.
  std::shared_ptr<StatusRefresher> refresher_ = std::make_shared<StatusRefresher>();
  std::string base_;
  std::vector<std::string> namespaces_;
  std::vector<std::function<void()>> cleanups_;
  int links_ = 0;
};

// Site `side` (0 or 1) of a route-based tunnel with BGP between two gateways
// 203.0.113.1 and .2 (tunnel 10.255.0.1 <-> .2); site 0 initiates. LANs
// 10.1.0.0/24 and 10.2.0.0/24.
inline TenantVpn TwoSites(int side, const std::string& tenant, const std::string& psk,
                          bool bgp = true) {
  TenantVpn v;
  v.tenant = tenant;
  v.file = "tenants/" + tenant + ".yaml";
  Connection k;
  k.name = side == 0 ? "to-b" : "to-a";
  k.local_address = A(side == 0 ? "203.0.113.1" : "203.0.113.2");
  k.peer_address = A(side == 0 ? "203.0.113.2" : "203.0.113.1");
  k.local_id = k.local_address.ToString();
  k.remote_id = k.peer_address.ToString();
  k.psk = psk;
  k.initiate = side == 0 ? Initiate::kAlways : Initiate::kNever;
  k.mode = TunnelMode::kRoute;
  k.tunnel_local = A(side == 0 ? "10.255.0.1" : "10.255.0.2");
  k.tunnel_peer = A(side == 0 ? "10.255.0.2" : "10.255.0.1");
  k.local_ts = {P("0.0.0.0/0")};
  k.remote_ts = {P("0.0.0.0/0")};
  if (!bgp) k.routes = {P(side == 0 ? "10.2.0.0/24" : "10.1.0.0/24")};
  v.connections.push_back(k);
  if (bgp) {
    v.bgp.asn = side == 0 ? 65001 : 65002;
    v.bgp.router_id = k.tunnel_local;
    v.bgp.announce = {P(side == 0 ? "10.1.0.0/24" : "10.2.0.0/24")};
    v.bgp.reject = {PrefixMatch{P(side == 0 ? "10.1.0.0/24" : "10.2.0.0/24"), 0, 32}};
    BgpNeighbor n;
    n.address = k.tunnel_peer;
    n.remote_asn = side == 0 ? 65002 : 65001;
    n.connection = k.name;
    n.update_source = k.tunnel_local;
    n.accept = {PrefixMatch{P("10.0.0.0/8"), 0, 24}};
    n.keepalive = 3;
    n.hold = 9;
    v.bgp.neighbors.push_back(n);
  }
  return v;
}

}  // namespace hnv::s2s::test
