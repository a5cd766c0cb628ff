// Dataplane: the HNV pipeline running on DPDK ports and worker lcores, with
// the control-thread duties that keep it current.
//
// Theory of operation. Each port (a policy port index: 0 the uplink, 1.. VM
// adapters) is an ethdev: a vdev such as net_af_packet / net_af_xdp /
// net_vhost / net_tap / net_ring, or a PCI NIC; or a VnetPort (vnet_port.h:
// AF_PACKET with the virtio-net header, for VMs that keep their offloads).
// A port has one transmit queue per worker. It is received by one worker
// (queue 0), or, when attached to spread and its device has a receive queue
// per worker, by every worker on its own queue (symmetric RSS where the
// device has RSS: rss.h): the uplink, and hnv-gateway's external ports.
// No queue is ever shared.
//
// Guest offloads (dataplane/pipeline/gso.h). A port that may receive large
// segments or partial checksums (a VnetPort; an ethdev offering checksum or
// LRO receive offloads, e.g. net_vhost) has its bursts finished where they
// are received: partial checksums completed, large segments kept only when
// too big for any NVGRE frame (gso.h, LargeSegmentFloor). Before a port
// that takes large segments (a VnetPort with gso=1) each transmit burst is
// coalesced (gro.h); before any other port, once some port can receive large
// segments, each burst is checked for them and they are split in software
// (gso.h's Segmenter). Without such ports none of this runs. Workers run to completion: load the policy snapshot,
// run the commands of their command ring (frames the control thread wants
// sent, calls it wants made on the worker: RunOnWorkers), take the frames
// other workers handed them (flow affinity: WorkerExtension::
// ReceiveHandoff), receive a burst from each of their ports, run the
// pipeline, flush, then report an RCU quiescent state. The control thread
// (the caller of Poll) applies policy through tables(), turns worker events
// into neighbour entries and Dynamic records, sends ARP/NS for unresolved
// provider next hops (through worker 0's command ring), and reclaims memory
// after grace periods (one Reclaimer for every table: reclaimer()).
//
// Counters: each worker writes its own; the control thread never reads them
// while the worker runs: Counters() has every worker copy them (a command)
// and sums the copies, so nothing is shared unsynchronised.
//
// Thread contract: Create/Attach*/Start/Stop/Poll/tables() from the control
// thread; workers are EAL lcores launched by Start.
#pragma once

#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <atomic>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include "dataplane/pipeline/context.h"
#include "dataplane/pipeline/extension.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/policy/reclaimer.h"
#include "dataplane/policy/tables.h"
#include "dataplane/runtime/vnet_port.h"

namespace hnv {

struct DataplaneConfig {
  TableLimits limits;
  uint32_t mbufs = 16383;
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  std::vector<unsigned> worker_lcores;  // EAL lcore ids, at least one
  // ARP/NS for an unresolved provider next hop: first at once, then after
  // resolve_interval_s, doubling up to resolve_max_interval_s while it stays
  // unanswered (an absent router is not asked every second forever); from
  // the start again once it has been resolved and is lost. While traffic
  // for it is being dropped (kPeerUnresolved) it is asked for every
  // resolve_interval_s, so a router that comes back is found within about
  // that long, not after up to resolve_max_interval_s.
  double resolve_interval_s = 1.0;
  double resolve_max_interval_s = 30.0;
};

class Dataplane {
 public:
  static std::unique_ptr<Dataplane> Create(const DataplaneConfig& cfg, std::string* error);
  ~Dataplane();

  // Probes a vdev ("net_af_packet0,iface=veth0") or finds an existing ethdev
  // by name, configures it and binds it to policy port `index`; a VnetPort
  // ("hnv_vnet0,iface=veth0", vnet_port.h) is opened instead.
  // `spread`: receive it on every worker when the device has a queue per
  // worker (rss.h). Not for VM adapters: their stateful port ACL sessions
  // live on the one worker that receives the adapter (port_acl.h).
  bool AttachPort(uint16_t index, const std::string& device, std::string* error, bool spread = false);
  // Binds an already created ethdev (e.g. from rte_eth_from_rings).
  bool AttachEthPort(uint16_t index, uint16_t eth_port, std::string* error, bool spread = false);

  // Hands the program's own ports and virtual ports to `ext` (extension.h).
  // Before Start; `ext` must outlive the workers.
  void SetExtension(WorkerExtension* ext) { ext_ = ext; }
  rte_rcu_qsbr* qsv() const { return qsv_; }
  Reclaimer& reclaimer() { return *reclaimer_; }

  bool Start(std::string* error);
  void Stop();  // workers finish their loop iteration and return
  bool running() const { return running_.load(std::memory_order_relaxed); }

  // Control thread: call every few milliseconds.
  void Poll();
  // Returns once every worker has finished the loop iteration it was in.
  void SynchronizeWorkers();
  PolicyTables& tables() { return *tables_; }
  const PolicyTables& tables() const { return *tables_; }
  // Runs fn(ctx) on every worker, with that worker's context, between two
  // of its loop iterations (through its command ring), and returns when all
  // have; inline on this thread, worker by worker, when they are stopped.
  // The way for the control thread to read or change what a worker owns.
  void RunOnWorkers(const std::function<void(WorkerContext&)>& fn) const;
  // Sums of every worker's counters (each worker copies its own: RunOnWorkers).
  WorkerCounters Counters() const;
  // What the port's driver counted before the pipeline saw anything: frames
  // lost at a full receive ring (imissed), receive errors, mbuf-pool misses,
  // transmit errors. False for a virtual port or when the driver has none.
  // A VnetPort's: the kernel's ring drops, truncated or unsupported frames,
  // pool misses, frames the kernel refused.
  struct PortLosses {
    uint64_t rx_missed = 0;
    uint64_t rx_errors = 0;
    uint64_t rx_nombuf = 0;
    uint64_t tx_errors = 0;
  };
  bool Losses(uint16_t index, PortLosses* out) const;
  // Queues a frame for transmission on `port` by worker 0 (its command ring).
  bool Inject(uint16_t port, rte_mbuf* m);
  rte_mempool* pool() const { return pool_; }
  uint16_t eth_port(uint16_t index) const { return index < kMaxPorts ? eth_of_[index] : kNoPort; }
  // The VnetPort bound to `index`, or nullptr.
  VnetPort* vnet_port(uint16_t index) const {
    return index < kMaxPorts ? vnet_[index].get() : nullptr;
  }
  uint32_t worker_count() const { return static_cast<uint32_t>(workers_.size()); }

 private:
  struct Worker;
  struct Command;
  class EthTx;
  static void RunCommands(Worker& w);
  explicit Dataplane(const DataplaneConfig& cfg);
  bool Init(std::string* error);
  bool BindPort(uint16_t index, std::string* error);
  static int WorkerMain(void* arg);
  void SendResolutionRequests();

  DataplaneConfig cfg_;
  rte_rcu_qsbr* qsv_ = nullptr;
  std::unique_ptr<Reclaimer> reclaimer_;
  rte_mempool* pool_ = nullptr;
  rte_ring* events_ = nullptr;
  std::vector<rte_ring*> handoff_;  // per worker: frames other workers hand it
  std::unique_ptr<PolicyTables> tables_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::array<uint16_t, kMaxPorts> eth_of_;
  std::array<std::unique_ptr<VnetPort>, kMaxPorts> vnet_;
  // Guest offloads per port (see the theory of operation).
  std::array<bool, kMaxPorts> rx_offloads_{};  // may receive large segments / partial checksums
  std::array<bool, kMaxPorts> takes_large_{};  // transmit: coalesce, send large segments whole
  bool any_rx_offloads_ = false;               // transmit: split large segments elsewhere
  WorkerExtension* ext_ = nullptr;
  std::atomic<bool> running_{false};
  uint64_t last_resolve_tsc_ = 0;
  struct Backoff {
    uint64_t last_tsc = 0;  // when it was last asked for
    uint64_t wait = 0;      // TSC cycles from then to the next request (0: at once)
  };
  std::map<std::pair<uint16_t, IpAddr>, Backoff> resolving_;  // unresolved next hops asked for
  std::string name_;
};

}  // namespace hnv
