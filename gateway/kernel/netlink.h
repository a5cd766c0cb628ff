// Configuration of a compartment's namespace through rtnetlink (libnl):
// interface addresses and routes, the kernel half of a tenant's YAML.
//
// Theory of operation: NetlinkConfig owns one NETLINK_ROUTE socket created
// while the calling thread is inside the namespace; a netlink socket stays
// bound to the namespace it was created in, so the object then works from any
// thread without entering the namespace again. Each call is one synchronous
// request acknowledged by the kernel; a failure returns false with a message
// naming the namespace, the operation and the object
// ("netns t1: add route 10.2.0.0/16 via 10.9.0.2 dev #3 metric 5 proto hnv: Object exists").
//
// Route protocol: routes we install from configuration carry rtm_protocol
// kRouteProtocolHnv (241). Linux passes the number through untouched; it is
// only a tag. 241 is outside what the kernel (0..4, RTPROT_*), FRR/zebra
// (11, 186..198), BIRD (12), Babel (42), OpenR (99) and DHCP (16) use, so
// `ip route show proto 241` lists exactly ours, a restart can find and
// reconcile them, and the netlink mirror can tell them from the kernel's own
// (connected) routes and from FRR's. iproute2 prints "proto 241" unless
// /etc/iproute2/rt_protos.d/ names it.
//
// Metric 0 means "no RTA_PRIORITY": IPv4 then has metric 0, IPv6 the
// kernel's default 1024. DeleteRoute matches on what the spec gives:
// destination and table always, type, and protocol / metric / gateway / oif
// when non-zero (protocol defaults to kRouteProtocolHnv, so by default only
// our own route is removed); the scope is left as a wildcard.
//
// Thread contract: one NetlinkConfig must not be used by two threads at once
// (libnl sockets are not synchronised); any single thread may use it.
#pragma once

#include <linux/rtnetlink.h>

#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/packet/types.h"
#include "gateway/kernel/netns.h"

struct nl_sock;

namespace hnv::gateway {

inline constexpr uint8_t kRouteProtocolHnv = 241;

// "kernel", "boot", "static", "hnv", "bgp", "ospf", ... or the number as text
// for one nobody names (a static buffer per number: never freed, thread-safe).
const char* RouteProtocolName(uint8_t protocol);

struct RouteSpec {
  IpPrefix destination;
  IpAddr gateway;  // unspecified (of either family) = no gateway (on-link, needs oif)
  int oif = 0;     // 0 = chosen by the kernel from the gateway
  uint32_t metric = 0;
  uint8_t protocol = kRouteProtocolHnv;  // 0 on delete = any protocol
  uint8_t type = RTN_UNICAST;            // RTN_BLACKHOLE/UNREACHABLE/PROHIBIT take no next hop
  uint32_t table = RT_TABLE_MAIN;
  // "10.2.0.0/16 via 10.9.0.2 dev #3 metric 5 proto hnv"
  std::string ToString() const;
};

class NetlinkConfig {
 public:
  static std::unique_ptr<NetlinkConfig> Create(const NetNamespace& ns, std::string* error);
  ~NetlinkConfig();
  NetlinkConfig(const NetlinkConfig&) = delete;
  NetlinkConfig& operator=(const NetlinkConfig&) = delete;

  // `len` is the prefix length (host bits are the address itself). nodad
  // skips IPv6 duplicate address detection (the address is usable at once).
  // AddAddress fails if the address is there; ReplaceAddress takes it over
  // (an adopted TAP's addresses, kept from the previous run).
  bool AddAddress(int ifindex, const IpAddr& addr, uint8_t len, std::string* error,
                  bool nodad = false);
  bool ReplaceAddress(int ifindex, const IpAddr& addr, uint8_t len, std::string* error,
                      bool nodad = false);
  bool DeleteAddress(int ifindex, const IpAddr& addr, uint8_t len, std::string* error);

  bool AddRoute(const RouteSpec& r, std::string* error);      // fails if it exists
  bool ReplaceRoute(const RouteSpec& r, std::string* error);  // creates or replaces
  bool DeleteRoute(const RouteSpec& r, std::string* error);

  // The index of interface `ifname` in the namespace; 0 (with *error) if none.
  int LinkIndex(const std::string& ifname, std::string* error);
  // Deletes interface `ifname`; false with *error if it does not exist.
  bool DeleteLink(const std::string& ifname, std::string* error);
  // Sets the interface administratively up or down.
  bool SetLinkUp(int ifindex, bool up, std::string* error);

  const std::string& netns_name() const { return netns_; }

 private:
  NetlinkConfig(std::string netns, nl_sock* sk) : netns_(std::move(netns)), sk_(sk) {}
  bool RouteRequest(const RouteSpec& r, int op, std::string* error);
  bool AddressRequest(bool add, int ifindex, const IpAddr& addr, uint8_t len, bool nodad,
                      bool replace, std::string* error);

  std::string netns_;
  nl_sock* sk_ = nullptr;
};

}  // namespace hnv::gateway
