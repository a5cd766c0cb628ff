// NetlinkMirror: follows a compartment namespace's routes, neighbours and
// addresses so the dataplane can mirror them into the compartment's FIB (the
// linux-cp pattern: the kernel and its daemons decide, the dataplane forwards).
//
// Theory of operation: Create() enters the namespace and opens two
// NETLINK_ROUTE sockets there (they stay bound to it afterwards): an event
// socket, non-blocking, subscribed to IPv4/IPv6 route, neighbour, address
// and link notifications; and a synchronous socket for dumps. Subscribing
// comes first, then the initial dump, so nothing that changes in between is
// lost (it may be seen twice, which the tables below absorb).
//
// The mirror keeps what it last reported (three ordered maps) and calls the
// callbacks only for real changes: `add` is an upsert (a key seen for the
// first time, or a known key whose fields changed, e.g. `ip route replace`
// to another gateway), `remove` is only ever called for a key previously
// added. Keys: route = (table, destination, metric); neighbour = (ifindex, ip);
// address = (ifindex, addr, len). The initial state is delivered as adds
// inside Create().
//
// Filters: routes of the main table (RT_TABLE_MAIN) through `route`; when
// the `table_route` callback is set, the routes of every other table but
// local through it (policy routing: tables that rules look up); the local
// table (local/broadcast routes) is never mirrored, the addresses say which
// are ours. Cloned/cached routes (RTM_F_CLONED: PMTU exceptions, IPv6 cache)
// skipped. A multipath route is reported with its first next hop only (the
// FIB has one next hop per route). Neighbours: IPv4/IPv6, not proxy entries;
// a neighbour is "usable" (reported as added) in NUD_REACHABLE, STALE, DELAY,
// PROBE, PERMANENT or NOARP *with* a MAC address; one that becomes FAILED or
// INCOMPLETE (or loses its MAC) is reported as removed, as is a deleted one.
// MirrorNeighbor::usable is therefore always true in an add.
//
// Rules (`ip rule`, IPv4 and IPv6), when the `rule` callback is set: initial
// dump, RTM_NEWRULE/RTM_DELRULE notifications, key = the whole rule
// (fib_rule.h parses it, selectors included). The kernel may hold two equal
// rules (a writer that does not ask for NLM_F_EXCL); the mirror reports a
// set, so after every RTM_DELRULE it re-dumps the rules and reports the one
// that is still there as present.
//
// Resyncs: the kernel flushes IPv4 routes through an interface that goes
// down or away without RTM_DELROUTE notifications. So on a link event (down,
// deleted) the mirror re-dumps the routes and reports the difference. If
// the event socket overflows (ENOBUFS: the kernel dropped notifications),
// everything (rules included) is re-dumped and diffed. Both are counted (resyncs()).
//
// Thread contract: Create, fd, Process and the destructor on one thread (the
// control thread; it polls fd() for POLLIN and calls Process()). Callbacks
// run on that thread, inside Create or Process; they must not destroy the
// mirror.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "dataplane/packet/types.h"
#include "gateway/kernel/fib_rule.h"
#include "gateway/kernel/netlink.h"  // kRouteProtocolHnv, RouteProtocolName
#include "gateway/kernel/netns.h"

struct nl_sock;
struct nl_msg;
struct nl_object;

namespace hnv::gateway {

struct MirrorRoute {
  IpPrefix destination;
  IpAddr gateway;  // unspecified = on-link / none
  int oif = 0;
  uint32_t metric = 0;
  uint8_t protocol = 0;  // RTPROT_*, kRouteProtocolHnv, 186 bgp...
  uint8_t type = 0;      // RTN_UNICAST, RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_LOCAL...
  uint32_t table = 0;
  friend bool operator==(const MirrorRoute&, const MirrorRoute&) = default;
};

struct MirrorNeighbor {
  int ifindex = 0;
  IpAddr ip;
  MacAddr mac;
  bool usable = false;
  friend bool operator==(const MirrorNeighbor&, const MirrorNeighbor&) = default;
};

struct MirrorAddress {
  int ifindex = 0;
  IpAddr addr;
  uint8_t len = 0;
  friend bool operator==(const MirrorAddress&, const MirrorAddress&) = default;
};

struct MirrorCallbacks {
  std::function<void(bool add, const MirrorRoute&)> route;  // main table
  std::function<void(bool add, const MirrorNeighbor&)> neighbor;
  std::function<void(bool add, const MirrorAddress&)> address;
  // Optional: routes of the other tables (not local), and the rules. Left
  // empty, neither is followed.
  std::function<void(bool add, const MirrorRoute&)> table_route;
  std::function<void(bool add, const MirrorRule&)> rule;
};

class NetlinkMirror {
 public:
  static std::unique_ptr<NetlinkMirror> Create(NetNamespace& ns, MirrorCallbacks cbs,
                                               std::string* error);
  ~NetlinkMirror();
  NetlinkMirror(const NetlinkMirror&) = delete;
  NetlinkMirror& operator=(const NetlinkMirror&) = delete;

  int fd() const;  // readable when Process() has work
  // Handles every pending notification without blocking. False (with
  // *error, optional) on a socket error other than "nothing more".
  bool Process(std::string* error = nullptr);

  uint64_t resyncs() const { return resyncs_; }
  size_t route_count() const { return routes_.size(); }  // every table followed
  size_t rule_count() const { return rules_.size(); }
  size_t neighbor_count() const { return neighbors_.size(); }
  size_t address_count() const { return addresses_.size(); }

  // libnl trampolines (public for the C callbacks; not for callers).
  int OnMessage(nl_msg* msg);
  int OnRuleDump(nl_msg* msg);
  void OnObject(nl_object* obj, bool removed);

 private:
  using RouteKey = std::tuple<uint32_t, IpPrefix, uint32_t>;  // table, destination, metric
  using NeighKey = std::tuple<IpAddr, int>;
  using AddrKey = std::tuple<IpAddr, uint8_t, int>;
  enum What : unsigned { kRoutes = 1, kNeighbors = 2, kAddresses = 4, kRules = 8 };

  NetlinkMirror(std::string netns, MirrorCallbacks cbs)
      : netns_(std::move(netns)), cbs_(std::move(cbs)) {}
  // Dumps `what` through the sync socket and reports the differences.
  bool Resync(unsigned what, std::string* error);
  void SetRoute(bool present, const MirrorRoute& r);
  void SetNeighbor(bool present, const MirrorNeighbor& n);
  void SetAddress(bool present, const MirrorAddress& a);
  void SetRule(bool present, const MirrorRule& r);
  bool DumpRules(std::string* error);

  std::string netns_;
  MirrorCallbacks cbs_;
  nl_sock* events_ = nullptr;
  nl_sock* sync_ = nullptr;
  std::map<RouteKey, MirrorRoute> routes_;
  std::map<NeighKey, MirrorNeighbor> neighbors_;
  std::map<AddrKey, MirrorAddress> addresses_;
  std::map<MirrorRule, bool> rules_;
  // During a resync: the keys the dump contained (the rest are removed).
  std::map<RouteKey, bool>* seen_routes_ = nullptr;
  std::map<NeighKey, bool>* seen_neighbors_ = nullptr;
  std::map<AddrKey, bool>* seen_addresses_ = nullptr;
  std::map<MirrorRule, bool>* seen_rules_ = nullptr;
  unsigned pending_resync_ = 0;
  bool pending_rules_ = false;  // re-dump the rules after an RTM_DELRULE (not a resync)
  uint64_t resyncs_ = 0;
};

}  // namespace hnv::gateway
