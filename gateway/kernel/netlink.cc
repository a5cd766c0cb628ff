#include "gateway/kernel/netlink.h"

#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "gateway/kernel/nl_util.h"

namespace hnv::gateway {
namespace {

enum RouteOp { kAdd, kReplace, kDelete };

struct RouteDeleter {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct AddrObjDeleter {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct MsgDeleter {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};

// Names from the kernel's RTPROT_* and iproute2's rt_protos(.d), plus ours.
const std::array<const char*, 256>& ProtocolNames() {
  static const std::array<const char*, 256> names = [] {
    std::array<const char*, 256> n{};
    n[0] = "unspec";
    n[1] = "redirect";
    n[2] = "kernel";
    n[3] = "boot";
    n[4] = "static";
    n[8] = "gated";
    n[9] = "ra";
    n[10] = "mrt";
    n[11] = "zebra";
    n[12] = "bird";
    n[13] = "dnrouted";
    n[14] = "xorp";
    n[15] = "ntk";
    n[16] = "dhcp";
    n[17] = "mrouted";
    n[18] = "keepalived";
    n[42] = "babel";
    n[99] = "openr";
    n[186] = "bgp";
    n[187] = "isis";
    n[188] = "ospf";
    n[189] = "rip";
    n[190] = "ripng";
    n[191] = "nhrp";
    n[192] = "eigrp";
    n[193] = "ldp";
    n[194] = "sharp";
    n[195] = "pbr";
    n[196] = "frr-static";
    n[197] = "openfabric";
    n[198] = "srte";
    n[kRouteProtocolHnv] = "hnv";
    n[242] = "s2s";  // s2s/spec.h kRouteProtocolS2s: routes into strongSwan's ipsec0
    return n;
  }();
  return names;
}

}  // namespace

const char* RouteProtocolName(uint8_t protocol) {
  if (const char* n = ProtocolNames()[protocol]) return n;
  static const std::array<std::array<char, 4>, 256> numbers = [] {
    std::array<std::array<char, 4>, 256> t{};
    for (int i = 0; i < 256; ++i) std::snprintf(t[i].data(), t[i].size(), "%d", i);
    return t;
  }();
  return numbers[protocol].data();
}

std::string RouteSpec::ToString() const {
  std::string s = destination.ToString();
  switch (type) {
    case RTN_UNICAST:
      break;
    case RTN_BLACKHOLE:
      s = "blackhole " + s;
      break;
    case RTN_UNREACHABLE:
      s = "unreachable " + s;
      break;
    case RTN_PROHIBIT:
      s = "prohibit " + s;
      break;
    case RTN_LOCAL:
      s = "local " + s;
      break;
    default:
      s = "type " + std::to_string(type) + " " + s;
      break;
  }
  if (!gateway.IsUnspecified()) s += " via " + gateway.ToString();
  if (oif != 0) s += " dev #" + std::to_string(oif);
  if (metric != 0) s += " metric " + std::to_string(metric);
  if (protocol != 0) s += std::string(" proto ") + RouteProtocolName(protocol);
  if (table != RT_TABLE_MAIN) s += " table " + std::to_string(table);
  return s;
}

std::unique_ptr<NetlinkConfig> NetlinkConfig::Create(const NetNamespace& ns, std::string* error) {
  nl_sock* sk = nl_socket_alloc();
  if (sk == nullptr) {
    *error = "netns " + ns.name() + ": nl_socket_alloc failed";
    return nullptr;
  }
  int err = 0;
  std::string why;
  if (!ns.Enter([&] { err = nl_connect(sk, NETLINK_ROUTE); }, &why)) {
    nl_socket_free(sk);
    *error = "netns " + ns.name() + ": " + why;
    return nullptr;
  }
  if (err < 0) {
    nl_socket_free(sk);
    *error = "netns " + ns.name() + ": netlink connect: " + nl::Err(err);
    return nullptr;
  }
  return std::unique_ptr<NetlinkConfig>(new NetlinkConfig(ns.name(), sk));
}

NetlinkConfig::~NetlinkConfig() {
  if (sk_ != nullptr) nl_socket_free(sk_);  // closes the socket too
}

bool NetlinkConfig::AddressRequest(bool add, int ifindex, const IpAddr& addr, uint8_t len,
                                   bool nodad, bool replace, std::string* error) {
  const std::string what = std::string(add ? "add" : "delete") + " address " + addr.ToString() +
                           "/" + std::to_string(len) + " dev #" + std::to_string(ifindex);
  if (len > addr.bits()) {
    *error = "netns " + netns_ + ": " + what + ": prefix length out of range";
    return false;
  }
  std::unique_ptr<rtnl_addr, AddrObjDeleter> a(rtnl_addr_alloc());
  nl::AddrPtr local = nl::ToNl(addr, len);
  if (!a || !local) {
    *error = "netns " + netns_ + ": " + what + ": out of memory";
    return false;
  }
  rtnl_addr_set_ifindex(a.get(), ifindex);
  rtnl_addr_set_family(a.get(), nl::FamilyOf(addr));
  rtnl_addr_set_local(a.get(), local.get());
  rtnl_addr_set_prefixlen(a.get(), len);
  if (nodad && addr.is_v6()) rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
  const int err = add ? rtnl_addr_add(sk_, a.get(), replace ? NLM_F_REPLACE : 0)
                      : rtnl_addr_delete(sk_, a.get(), 0);
  if (err < 0) {
    *error = "netns " + netns_ + ": " + what + ": " + nl::Err(err);
    return false;
  }
  return true;
}

bool NetlinkConfig::AddAddress(int ifindex, const IpAddr& addr, uint8_t len, std::string* error,
                               bool nodad) {
  return AddressRequest(true, ifindex, addr, len, nodad, /*replace=*/false, error);
}

bool NetlinkConfig::ReplaceAddress(int ifindex, const IpAddr& addr, uint8_t len,
                                   std::string* error, bool nodad) {
  return AddressRequest(true, ifindex, addr, len, nodad, /*replace=*/true, error);
}

bool NetlinkConfig::DeleteAddress(int ifindex, const IpAddr& addr, uint8_t len,
                                  std::string* error) {
  return AddressRequest(false, ifindex, addr, len, false, false, error);
}

bool NetlinkConfig::RouteRequest(const RouteSpec& r, int op, std::string* error) {
  static const char* const kOps[] = {"add", "replace", "delete"};
  const std::string what = std::string(kOps[op]) + " route " + r.ToString();
  auto fail = [&](const std::string& why) {
    *error = "netns " + netns_ + ": " + what + ": " + why;
    return false;
  };
  const IpAddr& dst = r.destination.addr;
  const bool has_gw = !r.gateway.IsUnspecified();
  if (r.destination.len > dst.bits()) return fail("prefix length out of range");
  if (has_gw && r.gateway.family != dst.family) return fail("gateway of another address family");
  const bool needs_nh = r.type == RTN_UNICAST || r.type == RTN_LOCAL;
  if (op != kDelete && needs_nh && !has_gw && r.oif == 0)
    return fail("needs a gateway or an interface");

  std::unique_ptr<rtnl_route, RouteDeleter> route(rtnl_route_alloc());
  nl::AddrPtr d = nl::ToNl(dst, r.destination.len);
  if (!route || !d) return fail("out of memory");
  rtnl_route_set_family(route.get(), nl::FamilyOf(dst));
  rtnl_route_set_dst(route.get(), d.get());
  rtnl_route_set_table(route.get(), r.table);
  rtnl_route_set_type(route.get(), r.type);
  rtnl_route_set_protocol(route.get(), r.protocol);
  if (r.metric != 0) rtnl_route_set_priority(route.get(), r.metric);
  if (needs_nh && (has_gw || r.oif != 0)) {
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (nh == nullptr) return fail("out of memory");
    if (r.oif != 0) rtnl_route_nh_set_ifindex(nh, r.oif);
    if (has_gw) {
      nl::AddrPtr gw = nl::ToNl(r.gateway);
      if (!gw) {
        rtnl_route_nh_free(nh);
        return fail("out of memory");
      }
      rtnl_route_nh_set_gateway(nh, gw.get());  // takes its own reference
    }
    rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh now
  }
  int err = 0;
  if (op == kAdd) {
    err = rtnl_route_add(sk_, route.get(), NLM_F_CREATE | NLM_F_EXCL);
  } else if (op == kReplace) {
    err = rtnl_route_add(sk_, route.get(), NLM_F_CREATE | NLM_F_REPLACE);
  } else {
    nl_msg* raw = nullptr;
    err = rtnl_route_build_del_request(route.get(), 0, &raw);
    std::unique_ptr<nl_msg, MsgDeleter> msg(raw);
    if (err >= 0) {
      // libnl fills in a guessed scope; the kernel then only deletes a route
      // of exactly that scope. RT_SCOPE_NOWHERE is the kernel's wildcard.
      auto* rtm = static_cast<rtmsg*>(nlmsg_data(nlmsg_hdr(msg.get())));
      rtm->rtm_scope = RT_SCOPE_NOWHERE;
      // libnl's default protocol is RTPROT_STATIC; 0 is the kernel's "any".
      rtm->rtm_protocol = r.protocol;
      err = nl_send_sync(sk_, msg.release());  // frees the message
    }
  }
  if (err < 0) return fail(nl::Err(err));
  return true;
}

bool NetlinkConfig::AddRoute(const RouteSpec& r, std::string* error) {
  return RouteRequest(r, kAdd, error);
}
bool NetlinkConfig::ReplaceRoute(const RouteSpec& r, std::string* error) {
  return RouteRequest(r, kReplace, error);
}
bool NetlinkConfig::DeleteRoute(const RouteSpec& r, std::string* error) {
  return RouteRequest(r, kDelete, error);
}

int NetlinkConfig::LinkIndex(const std::string& ifname, std::string* error) {
  rtnl_link* raw = nullptr;
  const int err = rtnl_link_get_kernel(sk_, 0, ifname.c_str(), &raw);
  std::unique_ptr<rtnl_link, LinkDeleter> link(raw);
  if (err < 0 || !link) {
    *error = "netns " + netns_ + ": interface " + ifname + ": " +
             (err < 0 ? nl::Err(err) : std::string("not found"));
    return 0;
  }
  return rtnl_link_get_ifindex(link.get());
}

bool NetlinkConfig::DeleteLink(const std::string& ifname, std::string* error) {
  std::unique_ptr<rtnl_link, LinkDeleter> link(rtnl_link_alloc());
  if (!link) {
    *error = "netns " + netns_ + ": delete interface " + ifname + ": out of memory";
    return false;
  }
  rtnl_link_set_name(link.get(), ifname.c_str());
  const int err = rtnl_link_delete(sk_, link.get());
  if (err < 0) {
    *error = "netns " + netns_ + ": delete interface " + ifname + ": " + nl::Err(err);
    return false;
  }
  return true;
}

bool NetlinkConfig::SetLinkUp(int ifindex, bool up, std::string* error) {
  std::unique_ptr<rtnl_link, LinkDeleter> orig(rtnl_link_alloc());
  std::unique_ptr<rtnl_link, LinkDeleter> change(rtnl_link_alloc());
  if (!orig || !change) {
    *error = "netns " + netns_ + ": set link #" + std::to_string(ifindex) + ": out of memory";
    return false;
  }
  rtnl_link_set_ifindex(orig.get(), ifindex);
  if (up) {
    rtnl_link_set_flags(change.get(), IFF_UP);
  } else {
    rtnl_link_unset_flags(change.get(), IFF_UP);
  }
  const int err = rtnl_link_change(sk_, orig.get(), change.get(), 0);
  if (err < 0) {
    *error = "netns " + netns_ + ": set link #" + std::to_string(ifindex) +
             (up ? " up: " : " down: ") + nl::Err(err);
    return false;
  }
  return true;
}

}  // namespace hnv::gateway
