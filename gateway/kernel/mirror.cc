#include "gateway/kernel/mirror.h"

#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/route/addr.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <sys/socket.h>

#include <cstring>

#include "gateway/kernel/nl_util.h"

namespace hnv::gateway {
namespace {

constexpr int kEventBufferBytes = 4 << 20;
constexpr int kUsableStates =
    NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;

struct CacheDeleter {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};

int ValidCb(nl_msg* msg, void* arg) { return static_cast<NetlinkMirror*>(arg)->OnMessage(msg); }

struct ParseCtx {
  NetlinkMirror* self;
  bool removed;
};
void ParseCb(nl_object* obj, void* arg) {
  auto* ctx = static_cast<ParseCtx*>(arg);
  ctx->self->OnObject(obj, ctx->removed);
}
void DumpCb(nl_object* obj, void* arg) { static_cast<NetlinkMirror*>(arg)->OnObject(obj, false); }
int RuleDumpCb(nl_msg* msg, void* arg) { return static_cast<NetlinkMirror*>(arg)->OnRuleDump(msg); }

struct CbDeleter {
  void operator()(nl_cb* cb) const { nl_cb_put(cb); }
};

bool IsType(nl_object* obj, const char* type) {
  return std::strcmp(nl_object_get_type(obj), type) == 0;
}

}  // namespace

std::unique_ptr<NetlinkMirror> NetlinkMirror::Create(NetNamespace& ns, MirrorCallbacks cbs,
                                                     std::string* error) {
  std::unique_ptr<NetlinkMirror> m(new NetlinkMirror(ns.name(), std::move(cbs)));
  const std::string what = "netns " + ns.name() + ": netlink mirror: ";
  m->events_ = nl_socket_alloc();
  m->sync_ = nl_socket_alloc();
  if (m->events_ == nullptr || m->sync_ == nullptr) {
    *error = what + "nl_socket_alloc failed";
    return nullptr;
  }
  nl_socket_disable_seq_check(m->events_);
  nl_socket_modify_cb(m->events_, NL_CB_VALID, NL_CB_CUSTOM, ValidCb, m.get());
  int err_events = 0;
  int err_sync = 0;
  std::string why;
  if (!ns.Enter(
          [&] {
            err_events = nl_connect(m->events_, NETLINK_ROUTE);
            err_sync = nl_connect(m->sync_, NETLINK_ROUTE);
          },
          &why)) {
    *error = what + why;
    return nullptr;
  }
  if (err_events < 0 || err_sync < 0) {
    *error = what + "connect: " + nl::Err(err_events < 0 ? err_events : err_sync);
    return nullptr;
  }
  int err =
      nl_socket_add_memberships(m->events_, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEIGH,
                                RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_LINK, 0);
  if (err >= 0 && m->cbs_.rule)
    err = nl_socket_add_memberships(m->events_, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE, 0);
  if (err < 0) {
    *error = what + "subscribe: " + nl::Err(err);
    return nullptr;
  }
  err = nl_socket_set_nonblocking(m->events_);
  if (err < 0) {
    *error = what + "non-blocking: " + nl::Err(err);
    return nullptr;
  }
  // A large receive buffer makes overruns (and full resyncs) rare; FORCE
  // passes rmem_max as we run as root; the plain size is the fallback.
  const int fd = nl_socket_get_fd(m->events_);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kEventBufferBytes, sizeof(int)) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kEventBufferBytes, sizeof(int));
  if (!m->Resync(kRoutes | kNeighbors | kAddresses | kRules, &why)) {
    *error = what + why;
    return nullptr;
  }
  m->resyncs_ = 0;  // the initial dump is not a resync
  return m;
}

NetlinkMirror::~NetlinkMirror() {
  if (events_ != nullptr) nl_socket_free(events_);
  if (sync_ != nullptr) nl_socket_free(sync_);
}

int NetlinkMirror::fd() const { return nl_socket_get_fd(events_); }

bool NetlinkMirror::Process(std::string* error) {
  for (;;) {
    const int err = nl_recvmsgs_default(events_);
    if (err >= 0) continue;
    if (err == -NLE_AGAIN) break;
    if (err == -NLE_NOMEM) {  // ENOBUFS: notifications were lost
      pending_resync_ |= kRoutes | kNeighbors | kAddresses | kRules;
      continue;
    }
    if (error != nullptr) *error = "netns " + netns_ + ": netlink mirror: receive: " + nl::Err(err);
    return false;
  }
  std::string why;
  if (pending_resync_ != 0) {
    const unsigned what = pending_resync_;
    pending_resync_ = 0;
    pending_rules_ = pending_rules_ && (what & kRules) == 0;
    if (!Resync(what, &why)) {
      if (error != nullptr) *error = "netns " + netns_ + ": netlink mirror: " + why;
      return false;
    }
  }
  if (pending_rules_) {
    pending_rules_ = false;
    if (!DumpRules(&why)) {
      if (error != nullptr) *error = "netns " + netns_ + ": netlink mirror: " + why;
      return false;
    }
  }
  return true;
}

int NetlinkMirror::OnMessage(nl_msg* msg) {
  const nlmsghdr* h = nlmsg_hdr(msg);
  switch (h->nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      // The kernel flushes IPv4 routes of a link that goes down or away
      // without telling: re-dump the routes once this batch is handled.
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return NL_OK;
      const auto* ifi = static_cast<const ifinfomsg*>(nlmsg_data(h));
      if (h->nlmsg_type == RTM_DELLINK || (ifi->ifi_flags & IFF_UP) == 0)
        pending_resync_ |= kRoutes;
      return NL_OK;
    }
    case RTM_NEWRULE:
    case RTM_DELRULE: {
      MirrorRule r;
      if (!cbs_.rule || !ParseRule(h, &r)) return NL_OK;
      SetRule(h->nlmsg_type == RTM_NEWRULE, r);
      // An equal rule may still be there (see the header): ask the kernel.
      if (h->nlmsg_type == RTM_DELRULE) pending_rules_ = true;
      return NL_OK;
    }
    case RTM_NEWROUTE:
    case RTM_NEWNEIGH:
    case RTM_NEWADDR:
    case RTM_DELROUTE:
    case RTM_DELNEIGH:
    case RTM_DELADDR: {
      ParseCtx ctx{this, h->nlmsg_type == RTM_DELROUTE || h->nlmsg_type == RTM_DELNEIGH ||
                             h->nlmsg_type == RTM_DELADDR};
      nl_msg_parse(msg, ParseCb, &ctx);  // a message libnl cannot parse is skipped
      return NL_OK;
    }
    default:
      return NL_OK;
  }
}

void NetlinkMirror::OnObject(nl_object* obj, bool removed) {
  if (IsType(obj, "route/route")) {
    auto* r = reinterpret_cast<rtnl_route*>(obj);
    const int family = rtnl_route_get_family(r);
    if (family != AF_INET && family != AF_INET6) return;
    const uint32_t table = rtnl_route_get_table(r);
    if (table == RT_TABLE_LOCAL || (table != RT_TABLE_MAIN && !cbs_.table_route)) return;
    if ((rtnl_route_get_flags(r) & RTM_F_CLONED) != 0) return;
    MirrorRoute m;
    nl_addr* dst = rtnl_route_get_dst(r);
    if (!nl::FromNl(dst, &m.destination.addr)) return;
    if (family == AF_INET6 && !m.destination.addr.is_v6()) m.destination.addr.family = Family::kV6;
    m.destination.len = static_cast<uint8_t>(nl_addr_get_prefixlen(dst));
    m.destination.addr = m.destination.addr.Masked(m.destination.len);
    m.metric = rtnl_route_get_priority(r);
    m.protocol = rtnl_route_get_protocol(r);
    m.type = rtnl_route_get_type(r);
    m.table = rtnl_route_get_table(r);
    if (rtnl_route_get_nnexthops(r) > 0) {
      rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
      m.oif = rtnl_route_nh_get_ifindex(nh);
      IpAddr gw;
      if (nl::FromNl(rtnl_route_nh_get_gateway(nh), &gw)) m.gateway = gw;
    }
    if (seen_routes_ != nullptr) (*seen_routes_)[{m.table, m.destination, m.metric}] = true;
    SetRoute(!removed, m);
  } else if (IsType(obj, "route/neigh")) {
    auto* n = reinterpret_cast<rtnl_neigh*>(obj);
    const int family = rtnl_neigh_get_family(n);
    if (family != AF_INET && family != AF_INET6) return;
    if ((rtnl_neigh_get_flags(n) & NTF_PROXY) != 0) return;
    MirrorNeighbor m;
    m.ifindex = rtnl_neigh_get_ifindex(n);
    if (!nl::FromNl(rtnl_neigh_get_dst(n), &m.ip)) return;
    nl_addr* ll = rtnl_neigh_get_lladdr(n);
    const bool has_mac = ll != nullptr && nl_addr_get_len(ll) == 6;
    if (has_mac) std::memcpy(m.mac.b.data(), nl_addr_get_binary_addr(ll), 6);
    const int state = rtnl_neigh_get_state(n);
    m.usable = !removed && state > 0 && (state & kUsableStates) != 0 && has_mac && !m.mac.IsZero();
    if (seen_neighbors_ != nullptr && m.usable) (*seen_neighbors_)[{m.ip, m.ifindex}] = true;
    SetNeighbor(m.usable, m);
  } else if (IsType(obj, "route/addr")) {
    auto* a = reinterpret_cast<rtnl_addr*>(obj);
    const int family = rtnl_addr_get_family(a);
    if (family != AF_INET && family != AF_INET6) return;
    MirrorAddress m;
    m.ifindex = rtnl_addr_get_ifindex(a);
    if (!nl::FromNl(rtnl_addr_get_local(a), &m.addr)) return;
    m.len = static_cast<uint8_t>(rtnl_addr_get_prefixlen(a));
    if (seen_addresses_ != nullptr) (*seen_addresses_)[{m.addr, m.len, m.ifindex}] = true;
    SetAddress(!removed, m);
  }
}

void NetlinkMirror::SetRoute(bool present, const MirrorRoute& r) {
  const RouteKey key{r.table, r.destination, r.metric};
  const auto& cb = r.table == RT_TABLE_MAIN ? cbs_.route : cbs_.table_route;
  auto it = routes_.find(key);
  if (present) {
    if (it != routes_.end() && it->second == r) return;
    routes_[key] = r;
    if (cb) cb(true, r);
  } else if (it != routes_.end()) {
    const MirrorRoute old = it->second;
    routes_.erase(it);
    if (cb) cb(false, old);
  }
}

void NetlinkMirror::SetRule(bool present, const MirrorRule& r) {
  auto it = rules_.find(r);
  if (present) {
    if (it != rules_.end()) return;
    rules_[r] = true;
    cbs_.rule(true, r);
  } else if (it != rules_.end()) {
    rules_.erase(it);
    cbs_.rule(false, r);
  }
}

int NetlinkMirror::OnRuleDump(nl_msg* msg) {
  const nlmsghdr* h = nlmsg_hdr(msg);
  MirrorRule r;
  if (h->nlmsg_type != RTM_NEWRULE || !ParseRule(h, &r)) return NL_OK;
  (*seen_rules_)[r] = true;
  SetRule(true, r);
  return NL_OK;
}

bool NetlinkMirror::DumpRules(std::string* error) {
  // Through libnl's socket but parsed here (fib_rule.h): libnl's rule
  // object drops the attributes it does not know, and an unknown selector
  // must not read as "every packet".
  fib_rule_hdr req{};
  req.family = AF_UNSPEC;
  int err = nl_send_simple(sync_, RTM_GETRULE, NLM_F_DUMP, &req, sizeof(req));
  if (err < 0) {
    *error = "dump rules: " + nl::Err(err);
    return false;
  }
  std::unique_ptr<nl_cb, CbDeleter> base(nl_socket_get_cb(sync_));  // a reference
  std::unique_ptr<nl_cb, CbDeleter> cb(nl_cb_clone(base.get()));
  if (!cb) {
    *error = "dump rules: out of memory";
    return false;
  }
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, RuleDumpCb, this);
  std::map<MirrorRule, bool> seen;
  seen_rules_ = &seen;
  err = nl_recvmsgs(sync_, cb.get());
  seen_rules_ = nullptr;
  if (err < 0) {
    *error = "dump rules: " + nl::Err(err);
    return false;
  }
  for (auto it = rules_.begin(); it != rules_.end();) {
    auto next = std::next(it);
    if (!seen.count(it->first)) SetRule(false, it->first);
    it = next;
  }
  return true;
}

void NetlinkMirror::SetNeighbor(bool present, const MirrorNeighbor& n) {
  const NeighKey key{n.ip, n.ifindex};
  auto it = neighbors_.find(key);
  if (present) {
    if (it != neighbors_.end() && it->second == n) return;
    neighbors_[key] = n;
    if (cbs_.neighbor) cbs_.neighbor(true, n);
  } else if (it != neighbors_.end()) {
    MirrorNeighbor old = it->second;
    old.usable = false;
    neighbors_.erase(it);
    if (cbs_.neighbor) cbs_.neighbor(false, old);
  }
}

void NetlinkMirror::SetAddress(bool present, const MirrorAddress& a) {
  const AddrKey key{a.addr, a.len, a.ifindex};
  auto it = addresses_.find(key);
  if (present) {
    if (it != addresses_.end()) return;
    addresses_[key] = a;
    if (cbs_.address) cbs_.address(true, a);
  } else if (it != addresses_.end()) {
    addresses_.erase(it);
    if (cbs_.address) cbs_.address(false, a);
  }
}

bool NetlinkMirror::Resync(unsigned what, std::string* error) {
  ++resyncs_;
  // Rules first: a route is judged by the rules in force.
  if ((what & kRules) && cbs_.rule && !DumpRules(error)) return false;
  if (what & kRoutes) {
    nl_cache* raw = nullptr;
    const int err = rtnl_route_alloc_cache(sync_, AF_UNSPEC, 0, &raw);
    std::unique_ptr<nl_cache, CacheDeleter> cache(raw);
    if (err < 0) {
      *error = "dump routes: " + nl::Err(err);
      return false;
    }
    std::map<RouteKey, bool> seen;
    seen_routes_ = &seen;
    nl_cache_foreach(cache.get(), DumpCb, this);
    seen_routes_ = nullptr;
    for (auto it = routes_.begin(); it != routes_.end();) {
      auto next = std::next(it);
      if (!seen.count(it->first)) SetRoute(false, it->second);
      it = next;
    }
  }
  if (what & kNeighbors) {
    nl_cache* raw = nullptr;
    const int err = rtnl_neigh_alloc_cache(sync_, &raw);
    std::unique_ptr<nl_cache, CacheDeleter> cache(raw);
    if (err < 0) {
      *error = "dump neighbours: " + nl::Err(err);
      return false;
    }
    std::map<NeighKey, bool> seen;
    seen_neighbors_ = &seen;
    nl_cache_foreach(cache.get(), DumpCb, this);
    seen_neighbors_ = nullptr;
    for (auto it = neighbors_.begin(); it != neighbors_.end();) {
      auto next = std::next(it);
      if (!seen.count(it->first)) SetNeighbor(false, it->second);
      it = next;
    }
  }
  if (what & kAddresses) {
    nl_cache* raw = nullptr;
    const int err = rtnl_addr_alloc_cache(sync_, &raw);
    std::unique_ptr<nl_cache, CacheDeleter> cache(raw);
    if (err < 0) {
      *error = "dump addresses: " + nl::Err(err);
      return false;
    }
    std::map<AddrKey, bool> seen;
    seen_addresses_ = &seen;
    nl_cache_foreach(cache.get(), DumpCb, this);
    seen_addresses_ = nullptr;
    for (auto it = addresses_.begin(); it != addresses_.end();) {
      auto next = std::next(it);
      if (!seen.count(it->first)) SetAddress(false, it->second);
      it = next;
    }
  }
  return true;
}

}  // namespace hnv::gateway
