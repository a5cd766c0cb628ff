// The DPDK side a punt thread needs in a test: an mbuf pool and the two punt
// rings (gateway/punt.h), named uniquely for the process; Free() (or the
// destructor) frees the mbufs still in the rings, then the rings and pool.
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <unistd.h>

#include <string>

#include "gateway/punt.h"

namespace hnv::gateway::test {

struct PuntRig {
  rte_mempool* pool = nullptr;
  PuntRings rings;

  // False when DPDK refuses (out of memory, EAL not started).
  bool Create(unsigned pool_size) {
    static int n = 0;
    const std::string id = std::to_string(getpid() % 100000) + "_" + std::to_string(n++);
    pool = rte_pktmbuf_pool_create(("hnvut_p" + id).c_str(), pool_size, 0, 0,
                                   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    rings.to_kernel = rte_ring_create(("hnvut_tk" + id).c_str(), 256, SOCKET_ID_ANY, RING_F_SC_DEQ);
    rings.from_kernel = rte_ring_create(("hnvut_fk" + id).c_str(), 256, SOCKET_ID_ANY,
                                        RING_F_SP_ENQ | RING_F_SC_DEQ);
    return pool != nullptr && rings.to_kernel != nullptr && rings.from_kernel != nullptr;
  }
  void Free() {
    for (rte_ring* r : {rings.to_kernel, rings.from_kernel}) {
      if (r == nullptr) continue;
      void* m;
      while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      rte_ring_free(r);
    }
    rings = {};
    if (pool != nullptr) rte_mempool_free(pool);
    pool = nullptr;
  }
  ~PuntRig() { Free(); }
};

}  // namespace hnv::gateway::test
