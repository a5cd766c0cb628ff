// The s2s daemons as compartment services of hnv-gateway
// (gateway/compartment/service.h): "charon" (CharonService) in every
// compartment whose tenant has site_to_site connections or point_to_site,
// "frr" (FrrService: zebra + bgpd) in every one whose tenant has bgp. The
// gateway adds VpnServices() after the standard services (gateway/main.cc),
// so they start once the namespace, its TAPs, the mirror and the tenant
// file's addresses are there, and stop before them.
//
// Theory of operation. Each service wraps one s2s service on the
// compartment's ServiceEnv{tenant, namespace, state directory}:
//  - Start: the state directory (made traversable for the frr user, which
//    zebra and bgpd run as), then the s2s service's Start (write the files,
//    adopt the daemons a previous hnv-gateway left running or launch them,
//    load). A failure stops what was started and fails the compartment's
//    start (or, on `hnvctl apply`, is reported and the service is left out).
//  - Update(next): the s2s service's Update with next.vpn (only the changed
//    connections and neighbours are touched, s2s/README.md). A tenant whose
//    file no longer has the sections loses the service (its factory returns
//    nullptr: Stop(kRemove)); one that gains them gets it started.
//  - Poll (every 100 ms): the s2s service's Poll (restarts a daemon that
//    died, after its backoff); false ("failed" in `hnvctl compartment`)
//    while a daemon is not running.
//  - Status (every `hnvctl compartment`, so cheap): charon's summary and
//    detail from its Status; FRR's from the daemons' state and the
//    configuration only. Inspect (`hnvctl vpn show TENANT`): the s2s
//    service's whole Status JSON. Neither waits for a daemon: charon's SAs
//    and bgpd's tables are fetched by the gateway's StatusRefresher
//    (s2s/status_refresher.h: a few worker threads for all tenants, made by
//    VpnServices(), shared by both factories), and the status says how old
//    they are (`as_of`, `age_ms`).
//  - Stop: kRemove / kStartFailed stop the daemons (charon deletes its SAs
//    and tells the peers; zebra takes its routes out) and remove their
//    directories; kDetach (hnv-gateway exits without stopping, or the
//    compartment is re-created) leaves them running for the next Start to
//    adopt.
//
// Routes: charon's ipsec0 routes (protocol 242 "s2s") and zebra's BGP
// routes (186 "bgp") land in the namespace's main table through ipsec0; the
// mirror (gateway/compartment/mirror_service.h) gives such a route a punt
// entry (ipsec0 is not one of the compartment's TAPs), so the fast path
// hands those packets to the compartment's kernel, and kernel-libipsec in
// charon encrypts them.
//
// Thread: the control thread (the compartment's).
#pragma once

#include <vector>

#include "gateway/compartment/service.h"

namespace hnv::s2s {

// The factories of "charon" and "frr", in this order.
std::vector<gateway::ServiceFactory> VpnServices();

}  // namespace hnv::s2s
