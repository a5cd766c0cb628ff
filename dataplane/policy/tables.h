// PolicyTables: the HNV policy compiled into the structures the workers read.
//
// Theory of operation. Big tables change in place and are read without locks:
//  - CA table   (routing domain, customer address) -> CaEntry: MAC, VSID, rule,
//                type, and the peer (remote PA) or kLocalPeer.
//  - L2 table   (VSID, MAC) -> L2Entry: a local VM port, or a remote peer.
//  - Routes     (routing domain, prefix length, prefix) -> RouteEntry; one
//                PrefixTable (prefix_table.h) for all routing domains, searched
//                longest length first over the lengths present in that domain,
//                so 16,000 domains cost nothing until they hold routes.
//  - Peers      an array of atomic pointers to immutable PeerEntry: the outer
//                Ethernet (+802.1Q) + IP header template toward one remote PA,
//                rebuilt when its provider next hop is (re)resolved.
// Small structural state (VSIDs, their routing domain, DFGW, flood lists,
// ports and the (VSID, MAC) each VM port holds, local PAs, settings) is an
// immutable Snapshot swapped through one
// atomic pointer. Everything a reader may hold is reclaimed after an RCU
// grace period (rte_rcu_qsbr); workers report quiescence once per loop.
//
// Readers look keys up one at a time (FindCa, FindL2, FindRoute) or a burst
// at once (FindCaBulk, FindL2Bulk: rcu_hash.h, FindBulk), always with keys
// built in registers (KeyWords).
//
// Thread contract: the Find*/snapshot()/peer() readers from registered
// workers; everything else from the single control thread.
#pragma once

#include <rte_rcu_qsbr.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/packet/headers.h"
#include "dataplane/policy/flat_map.h"
#include "dataplane/policy/local_port_map.h"
#include "dataplane/policy/prefix_table.h"
#include "dataplane/policy/model.h"
#include "dataplane/policy/port_acl.h"
#include "dataplane/policy/port_binding.h"
#include "dataplane/policy/rcu_hash.h"

namespace hnv {

inline constexpr uint32_t kLocalPeer = 0xffffffffu;
inline constexpr uint32_t kNoPeer = 0xfffffffeu;
// Policy port indices: ethdev-backed ports and virtual ones (hnv-gateway's
// compartment interfaces into the VM network) share this space.
inline constexpr uint16_t kMaxPorts = 256;
static_assert(PortBindings::kPorts == kMaxPorts);
inline constexpr uint16_t kNoPort = 0xffff;

struct TableLimits {
  uint32_t max_records = 1'100'000;  // CA entries and L2 entries each
  uint32_t max_routes = 110'000;
  uint32_t max_rds = 16'384;
  uint32_t max_peers = 65'536;
  uint32_t max_workers = 8;
  std::string name = "hnv";  // distinguishes several instances in one process
};

struct CaKey {
  uint32_t rd = 0;
  IpAddr ip;
};
static_assert(sizeof(CaKey) == 24);

struct CaEntry {
  MacAddr mac;
  RecordType type = RecordType::kStatic;
  TranslationRule rule = TranslationRule::kEncap;
  uint32_t vsid = 0;
  uint32_t peer = kNoPeer;  // kLocalPeer when the PA is one of ours
};
static_assert(sizeof(CaEntry) == 16);

// 16 bytes, not 12: two whole words to hash and compare.
struct L2Key {
  uint32_t vsid = 0;
  MacAddr mac;
  uint16_t zero = 0;
  uint32_t zero2 = 0;
};
static_assert(sizeof(L2Key) == 16);

struct L2Entry {
  uint32_t peer = kNoPeer;  // kLocalPeer: a VM port on this host
  uint16_t port = kNoPort;  // the VM port when local
  RecordType type = RecordType::kStatic;
  TranslationRule rule = TranslationRule::kEncap;
};

struct RouteEntry {
  uint32_t vsid = 0;
  uint32_t metric = 0;
  IpAddr next_hop;  // unspecified when on-link
  bool on_link = true;
};

// Outer headers toward one remote PA, ready to copy in front of GRE.
struct PeerEntry {
  IpAddr pa;
  IpAddr local_pa;
  uint16_t port = 0;
  uint16_t vlan = 0;
  bool resolved = false;  // false: no provider next-hop MAC yet
  uint8_t hdr_len = 0;    // Ethernet (+802.1Q) + IPv4/IPv6
  uint8_t ip_offset = 0;  // where the outer IP header starts in hdr
  uint8_t hdr[sizeof(EthHdr) + sizeof(VlanTag) + sizeof(Ipv6Hdr)] = {};
};

enum class PortKind : uint8_t { kUnused, kUplink, kVm };

// A VM port's port security (VmPort's switches), as vm-ingress reads it.
enum PortGuards : uint8_t {
  kGuardAddresses = 1,  // anti-spoofing: MAC, IP, ARP, ND (MacAddressSpoofing Off)
  kGuardDhcp = 2,       // DhcpGuard On
  kGuardRouter = 4,     // RouterGuard On
};

struct PortInfo {
  PortKind kind = PortKind::kUnused;
  uint8_t guards = 0;  // PortGuards bits
  uint32_t vsid = 0;
  uint32_t vsid_index = FlatU32Map::kMissing;
  MacAddr mac;  // a VM port's configured MAC
  const PortAclTable* acl = nullptr;  // its port ACLs (owned by the snapshot); null: none
};

struct VsidInfo {
  uint32_t vsid = 0;
  uint32_t rd = 0;  // routing-domain index
  Family family = Family::kV4;
  IpPrefix prefix;
  bool has_dfgw = false;
  MacAddr dfgw_mac;
  IpAddr dfgw_ip;
  std::vector<uint16_t> local_ports;     // flood set on this host
  std::vector<uint32_t> l2only_peers;    // remote PAs holding L2Only records here
  std::vector<uint32_t> wildcard_peers;  // PAs allowed to source any address here
  bool l2only_local = false;             // a local VM holds an L2Only record here
  struct LocalL2Only {
    MacAddr mac;
    IpAddr pa;
  };
  std::vector<LocalL2Only> l2only_local_macs;  // ... which MACs, under which local PA
  // Whether a VM may claim `ca` by dynamic learning: inside the subnet, not
  // its network, broadcast or DFGW address (port_binding.cc).
  bool MayLearn(const IpAddr& ca) const;
};

struct LocalPa {
  IpAddr addr;
  uint8_t prefix_len = 0;
  MacAddr mac;
  uint16_t vlan = 0;
  uint16_t port = 0;
};

// The immutable part of the policy, swapped as a whole.
struct Snapshot {
  uint64_t generation = 0;
  HostSettings settings;
  FlatU32Map vsid_index;
  std::vector<VsidInfo> vsids;
  std::array<PortInfo, kMaxPorts> ports{};
  // (VSID, MAC) -> port of every vm_ports entry: what deliver looks up
  // (the L2 table's local entries, without its million remote ones). Built
  // from the same vm_ports as `ports`, so the two always agree.
  LocalPortMap local_macs;
  std::vector<LocalPa> pas;
  uint32_t rd_count = 0;  // routing domains in the policy (for display)
  std::vector<std::unique_ptr<PortAclTable>> acls;  // what ports[].acl point to

  const VsidInfo* Vsid(uint32_t vsid) const noexcept {
    const uint32_t i = vsid_index.Find(vsid);
    return i == FlatU32Map::kMissing ? nullptr : &vsids[i];
  }
  const LocalPa* PaFor(const IpAddr& a) const noexcept {
    for (const LocalPa& p : pas)
      if (p.addr == a) return &p;
    return nullptr;
  }
};

// What the control plane is told about a learned Dynamic record.
using LearnCallback = std::function<void(const LookupRecord&)>;

// Memory the worker-visible tables reserve at creation (sized from
// TableLimits; nothing grows later).
struct TableMemory {
  size_t table_bytes = 0;       // CA + L2 tables (buckets, key/value slots: what the workers read)
  size_t pool_bytes = 0;        // the tables' writer-side free lists and the peer array
  size_t per_record_bytes = 0;  // (CA + L2 tables and free lists) / max_records
  size_t route_bytes = 0;       // route table + free list
  size_t per_route_bytes = 0;   // route_bytes / max_routes
  size_t per_rd_bytes = 0;      // prefix-length masks per routing domain (+ control-side counts)
};

class PolicyTables {
 public:
  // Retires through `reclaimer` (the Dataplane's, shared with other
  // tables), or through a Reclaimer of its own on `qsv`, which must have
  // room for limits.max_workers readers.
  static std::unique_ptr<PolicyTables> Create(const TableLimits& limits, Reclaimer& reclaimer,
                                              std::string* error);
  static std::unique_ptr<PolicyTables> Create(const TableLimits& limits, rte_rcu_qsbr* qsv,
                                              std::string* error);
  ~PolicyTables();

  // ---- reader side (workers) ----
  const Snapshot* snapshot() const noexcept { return snapshot_.load(std::memory_order_acquire); }
  // The keys are built in registers (rcu_hash.h, KeyWords): the CaKey and
  // L2Key layouts, word by word.
  static KeyWords<CaKey> CaKeyOf(uint32_t rd, const IpAddr& ip) noexcept {
    static_assert(offsetof(CaKey, ip) == 4 && sizeof(IpAddr) == 20);
    const auto* a = reinterpret_cast<const unsigned char*>(&ip);  // CaKey bytes 4..23
    KeyWords<CaKey> k;
    uint32_t first, last, tail;
    std::memcpy(&first, a, 4);
    std::memcpy(&k.w[1], a + 4, 8);
    std::memcpy(&last, a + 12, 4);
    std::memcpy(&tail, a + 16, 4);  // family and pad
    k.w[0] = rd | uint64_t{first} << 32;
    k.w[2] = last | uint64_t{tail} << 32;
    return k;
  }
  // The same key from the address's 16 bytes as two little-endian words
  // (bytes 0..7, 8..15) and its family (pad zero), all in registers.
  static KeyWords<CaKey> CaKeyOf(uint32_t rd, uint64_t lo, uint64_t hi, Family f) noexcept {
    KeyWords<CaKey> k;
    k.w[0] = rd | lo << 32;
    k.w[1] = lo >> 32 | hi << 32;
    k.w[2] = hi >> 32 | uint64_t{static_cast<uint8_t>(f)} << 32;
    return k;
  }
  static KeyWords<L2Key> L2KeyOf(uint32_t vsid, const MacAddr& mac) noexcept {
    static_assert(offsetof(L2Key, mac) == 4 && offsetof(L2Key, zero) == 10);
    KeyWords<L2Key> k;
    uint32_t head;
    uint16_t tail;
    std::memcpy(&head, mac.b.data(), 4);
    std::memcpy(&tail, mac.b.data() + 4, 2);
    k.w[0] = vsid | uint64_t{head} << 32;
    k.w[1] = tail;  // then L2Key::zero and zero2
    return k;
  }
  const CaEntry* FindCa(uint32_t rd, const IpAddr& ip) const noexcept {
    return ca_.Find(CaKeyOf(rd, ip));
  }
  const L2Entry* FindL2(uint32_t vsid, const MacAddr& mac) const noexcept {
    return l2_.Find(L2KeyOf(vsid, mac));
  }
  // n <= kMaxBulk lookups at once, the found entries prefetched (the stages
  // look a burst up in one call: rcu_hash.h, FindBulk); misses give nullptr.
  static constexpr uint32_t kMaxBulk = RcuHashTable<CaKey, CaEntry>::kMaxBulk;
  // True when the L2 table is big enough for a bulk lookup to pay
  // (RcuHashTable::kBulkFrom keys); below, a stage may look up one by one.
  bool L2BulkPays() const noexcept { return l2_.size() >= l2_.kBulkFrom; }
  void FindCaBulk(const KeyWords<CaKey>* keys, uint32_t n, const CaEntry** out) const noexcept {
    ca_.FindBulk(keys, n, out);
  }
  void FindL2Bulk(const KeyWords<L2Key>* keys, uint32_t n, const L2Entry** out) const noexcept {
    l2_.FindBulk(keys, n, out);
  }
  // The source addresses VM port `port` may use (anti-spoofing).
  const PortBinding& Binding(uint16_t port) const noexcept { return bindings_->Get(port); }
  // Longest-prefix match in routing domain `rd`.
  const RouteEntry* FindRoute(uint32_t rd, const IpAddr& dst) const noexcept {
    return routes_.Find(rd, dst);
  }
  // The same for an address given as its 16 bytes in two little-endian
  // words and its family, as a stage loads it from a frame (stage_util.h,
  // IpWords): no IpAddr is built and read back.
  const RouteEntry* FindRoute(uint32_t rd, uint64_t lo, uint64_t hi, Family f) const noexcept {
    return routes_.Find(rd, lo, hi, f);
  }
  const PeerEntry* peer(uint32_t id) const noexcept {
    return id < limits_.max_peers ? peers_[id].load(std::memory_order_acquire) : nullptr;
  }
  // Whether peer `id` is the PA given as its 16 bytes in two little-endian
  // words and its family: nvgre-decap's source check. Read from a dense
  // array of 24-byte addresses, not through the PeerEntry pointer (two
  // dependent loads into a 100-byte entry). A peer id keeps its address
  // until it is reused, and is reused only after a grace period, so a reader
  // holding an id from a lookup sees that id's address; kLocalPeer, kNoPeer
  // and free ids match nothing.
  bool PeerHasPa(uint32_t id, uint64_t lo, uint64_t hi, Family f) const noexcept {
    if (id >= limits_.max_peers) return false;
    const PeerPa& p = peer_pas_[id];
    return ((p.w[0].load(std::memory_order_relaxed) ^ lo) |
            (p.w[1].load(std::memory_order_relaxed) ^ hi) |
            (p.fam.load(std::memory_order_relaxed) ^ static_cast<uint8_t>(f))) == 0;
  }
  // Worker side, on a frame dropped because peer `id`'s provider next hop is
  // not resolved yet: marks the peer so that the resolver asks for that next
  // hop at its base interval rather than its backed-off one (TakeUnresolved).
  // One relaxed byte store, skipped when already marked.
  void WantPeer(uint32_t id) const noexcept {
    if (id < limits_.max_peers && peer_wanted_[id].load(std::memory_order_relaxed) == 0)
      peer_wanted_[id].store(1, std::memory_order_relaxed);
  }

  // ---- writer side (control thread) ----
  // Replaces the whole policy with `p` (already validated), as a diff: entries
  // that do not change are not touched. Returns false with `error` set if a
  // table is full; what was applied before the failure stays applied.
  bool Apply(const Policy& p, std::string* error);
  // Single-record changes (hnvctl, learning, migration). The record's VSID
  // must exist in the applied policy.
  bool UpsertRecord(const LookupRecord& r, std::string* error);
  // Whether `b` replaces `a` in place through UpsertRecord: the same record
  // as the tables know them (Static/Dynamic: VSID and CA; L2Only: VSID and
  // MAC; GatewayWildcard: VSID, PA and MAC). Otherwise a replacement is a
  // RemoveRecord of `a` and an UpsertRecord of `b`.
  static bool SameIdentity(const LookupRecord& a, const LookupRecord& b) {
    return IdOf(a) == IdOf(b);
  }
  bool RemoveRecord(const LookupRecord& r);
  // A provider-network neighbour (from an ARP reply / NA or configuration):
  // rebuilds the templates of every peer reached through it.
  void LearnNeighbor(uint16_t port, const IpAddr& ip, const MacAddr& mac);
  // The provider next hop a peer is waiting for (to send ARP/NS for it).
  struct PendingResolution {
    uint16_t port;
    uint16_t vlan;
    IpAddr next_hop;
    IpAddr local_pa;
    MacAddr local_mac;
    bool wanted = false;  // traffic for a peer behind it was dropped (WantPeer)
  };
  std::vector<PendingResolution> Unresolved() const { return Pending(false); }
  // The same, and the wanted marks cleared: what the control thread's
  // resolver reads once per round, so `wanted` means "since the last round".
  std::vector<PendingResolution> TakeUnresolved() { return Pending(true); }
  // A Dynamic record learned by a worker (ARP/ND against an L2Only record).
  // Adds it if new and a valid CA of the VSID's subnet (not its network,
  // broadcast or DFGW address), and calls the learn callback. Returns true
  // if it was added.
  bool LearnDynamic(uint32_t vsid, const IpAddr& ca, const MacAddr& mac, const IpAddr& pa);
  void SetLearnCallback(LearnCallback cb) { learn_cb_ = std::move(cb); }
  // Called with the meter slots (WorkerCounters::acl_meter_*) a snapshot
  // gives to rules that did not have one, before it is published: the
  // owner of the counters zeroes them, so a rule counts from zero even in
  // a slot an older rule used.
  using MeterReset = std::function<void(const std::vector<uint16_t>& slots)>;
  void SetMeterReset(MeterReset f) { meter_reset_ = std::move(f); }

  void Reclaim();      // hands back what a grace period has freed
  void Synchronize();  // waits for a grace period, then reclaims everything

  // The applied policy; its `records` vector is left empty: records live in
  // an index (ForEachRecord) so single-record changes are O(1).
  const Policy& applied() const { return applied_; }
  template <typename F>
  void ForEachRecord(F&& f) const {
    for (const auto& [id, r] : records_) f(r);
  }
  const LookupRecord* FindRecord(uint32_t vsid, const IpAddr& ca) const;
  uint32_t record_count() const { return ca_.size(); }
  uint32_t route_count() const { return routes_.size(); }
  TableMemory Memory() const;
  const TableLimits& limits() const { return limits_; }
  // Routing-domain index of an RDID, or kMissing.
  uint32_t RdIndex(const Guid& rdid) const;
  // The worker counter slot (WorkerCounters::acl_meter_*) of a Meter port
  // ACL of the applied policy in direction `d`, or kNoMeter.
  uint16_t MeterSlot(const PortAcl& a, PortAclTable::Dir d) const;

 private:
  explicit PolicyTables(const TableLimits& limits);
  static constexpr uint32_t kOwnReclaimerSize = 1u << 16;
  void FreePeerId(uint32_t id);  // a released peer id, after its grace period
  bool Init(std::string* error);

  // A record's identity: (VSID, CA) for records with a CA; (VSID, MAC) for
  // L2Only; (VSID, PA) for GatewayWildcard.
  struct RecordId {
    uint32_t vsid = 0;
    uint32_t kind = 0;
    IpAddr addr;
    MacAddr mac;
    uint16_t zero = 0;
    friend bool operator==(const RecordId&, const RecordId&) = default;
  };
  struct RecordIdHash {
    size_t operator()(const RecordId& id) const noexcept;
  };
  static RecordId IdOf(const LookupRecord& r);
  struct PeerState {
    uint32_t id;
    uint32_t refs;
    IpAddr pa;
  };

  uint32_t AcquirePeer(const IpAddr& pa);
  void ReleasePeer(uint32_t id);
  void PublishPeer(uint32_t id, const IpAddr& pa);
  bool IsLocalPa(const IpAddr& pa) const;
  bool ResolveProvider(const IpAddr& pa, uint16_t* port, IpAddr* next_hop, const LocalPa** local) const;
  bool ApplyRecordEntries(const LookupRecord& r, std::string* error);
  // After a VM port left (vsid, mac): the remote entry of the records that
  // name that MAC, if any.
  bool RestoreRemoteL2(uint32_t vsid, const MacAddr& mac, std::string* error);
  void RemoveRecordEntries(const LookupRecord& r);
  bool AddRoute(uint32_t rd, const CustomerRoute& r, std::string* error);
  void RemoveRoute(uint32_t rd, const IpPrefix& prefix);
  void PublishSnapshot();
  uint32_t AssignRd(const Guid& rdid);
  bool L2Ref(const LookupRecord& r, std::string* error);
  void L2Unref(const LookupRecord& r);
  bool IsDfgwRecord(const LookupRecord& r) const;
  uint32_t RdOfVsid(uint32_t vsid) const;
  std::unique_ptr<Snapshot> BuildSnapshot();
  void CompileAcls(Snapshot& s);  // the port ACLs of applied_.vm_ports into s
  void ReleaseSnapshotRefs(const Snapshot* s);
  void RebuildAllPeers();
  std::vector<PendingResolution> Pending(bool take_wanted) const;

  TableLimits limits_;
  // Declared before the tables that retire through it (destroyed after them).
  std::unique_ptr<Reclaimer> own_reclaimer_;
  Reclaimer* reclaimer_ = nullptr;
  RcuHashTable<CaKey, CaEntry> ca_;
  RcuHashTable<L2Key, L2Entry> l2_;
  PrefixTable<RouteEntry> routes_;  // customer routes, scope = routing-domain index
  std::unique_ptr<std::atomic<const PeerEntry*>[]> peers_;
  // Each peer id's PA for PeerHasPa; fam kNoFamily while the id is free.
  struct PeerPa {
    static constexpr uint64_t kNoFamily = ~uint64_t{0};
    std::atomic<uint64_t> w[2] = {0, 0};
    std::atomic<uint64_t> fam = kNoFamily;
  };
  std::unique_ptr<PeerPa[]> peer_pas_;
  std::unique_ptr<std::atomic<uint8_t>[]> peer_wanted_;  // WantPeer's marks, per peer id
  std::atomic<const Snapshot*> snapshot_{nullptr};
  std::unique_ptr<PortBindings> bindings_;

  // Control-thread state.
  Policy applied_;
  std::map<Guid, uint32_t> rd_index_;
  std::vector<uint32_t> free_rds_;
  std::map<IpAddr, PeerState> peer_by_pa_;
  std::vector<uint32_t> free_peers_;
  std::map<std::pair<uint16_t, IpAddr>, MacAddr> neighbors_;
  std::unordered_map<RecordId, LookupRecord, RecordIdHash> records_;
  // Records that shape the snapshot: DFGW, L2Only, GatewayWildcard.
  std::unordered_map<RecordId, LookupRecord, RecordIdHash> special_;
  // The remote records that name one (VSID, MAC): an L2Only record and its
  // Dynamic records share one (validation), and the L2 entry is theirs. Its
  // type and rule follow from all of them, not from whichever came first,
  // so a diff and a fresh Apply of one policy agree: L2Only before Static
  // before Dynamic, and Encap if any record of that type encapsulates.
  struct L2GroupKey {
    uint32_t vsid = 0;
    uint64_t mac = 0;
    friend bool operator==(const L2GroupKey&, const L2GroupKey&) = default;
  };
  struct L2GroupKeyHash {
    size_t operator()(const L2GroupKey& k) const noexcept {
      return (k.mac ^ uint64_t{k.vsid} << 48 ^ uint64_t{k.vsid} >> 16) * 0x9e3779b97f4a7c15ull >> 16;
    }
  };
  struct L2Group {
    uint32_t by[4][2] = {};  // records by [RecordType][TranslationRule]
    void Add(const LookupRecord& r, int delta);
    uint32_t Count() const;
    void Attributes(L2Entry* e) const;
  };
  static L2GroupKey L2GroupOf(uint32_t vsid, const MacAddr& mac) { return {vsid, mac.AsU64()}; }
  bool InstallL2(const L2Key& k, const L2Group& g, const IpAddr& pa, const L2Entry* prev,
                 std::string* error);
  void RefreshL2(const L2Key& k, const L2Group& g);
  std::unordered_map<L2GroupKey, L2Group, L2GroupKeyHash> l2_refs_;
  uint64_t generation_ = 0;
  LearnCallback learn_cb_;
  // Meter rules' counter slots, kept while the rule is in the policy;
  // freed slots are reused last, and zeroed first (meter_reset_).
  static std::string MeterKey(const PortAcl& a, PortAclTable::Dir d);
  std::map<std::string, uint16_t> meter_slots_;
  std::deque<uint16_t> free_meters_;
  std::vector<uint16_t> fresh_meters_;  // given out by the snapshot being built
  MeterReset meter_reset_;
};

}  // namespace hnv
