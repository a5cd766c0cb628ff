// PortBindings: which source addresses each local VM port may use, for
// anti-spoofing (dataplane/pipeline/port_guard.h).
//
// Theory of operation. A VM port holds (VSID, MAC); the CAs bound to it are
// those of the Static and Dynamic lookup records with that VSID and MAC
// (whatever their PA: a VM that just migrated here sends before its records
// name this host). An L2Only record with that VSID and MAC lets the port
// claim free CAs of its subnet (dynamic learning binds them once learned);
// a GatewayWildcard record with that MAC lets it send from any address.
// The CA table stays the authority: a binding is its per-port cache, so the
// common frame (a VM sending from one of its first few CAs) is checked
// against a few words loaded once per burst instead of a hash lookup per
// frame. A CA beyond the inline few, or one a record gave the port since
// the binding was published, is found in the CA table by the slow path.
//
// Each port's binding is an immutable PortBinding published through one
// atomic pointer and retired through the Reclaimer after a grace period;
// the control thread keeps per port the set of its CAs and flags, fed by
// PolicyTables on every record change (OnRecord) and by the vm_ports of
// every applied policy (SetPorts): a record change or a migration moves the
// binding with it.
//
// Thread contract: Get from workers (registered RCU readers); everything
// else from the control thread (PolicyTables' writer).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "dataplane/policy/model.h"
#include "dataplane/policy/reclaimer.h"

namespace hnv {

struct PortBinding {
  static constexpr int kInlineV4 = 4;
  static constexpr int kInlineV6 = 2;
  uint8_t n4 = 0;
  uint8_t n6 = 0;
  bool l2only = false;             // an L2Only record: free CAs of the subnet may be claimed
  bool wildcard = false;           // a GatewayWildcard record: any source
  uint32_t v4[kInlineV4] = {};     // addresses as loaded from a frame (network order)
  uint64_t v6[kInlineV6][2] = {};  // the 16 bytes as two words, in memory order

  bool HasV4(uint32_t raw) const noexcept {
    for (uint32_t i = 0; i < n4; ++i)
      if (v4[i] == raw) return true;
    return false;
  }
  bool HasV6(uint64_t lo, uint64_t hi) const noexcept {
    for (uint32_t i = 0; i < n6; ++i)
      if (((v6[i][0] ^ lo) | (v6[i][1] ^ hi)) == 0) return true;
    return false;
  }
};

class PortBindings {
 public:
  static constexpr uint16_t kPorts = 256;  // PolicyTables' kMaxPorts

  explicit PortBindings(Reclaimer& reclaimer) : reclaimer_(reclaimer) {}
  ~PortBindings();
  PortBindings(const PortBindings&) = delete;
  PortBindings& operator=(const PortBindings&) = delete;

  // ---- reader side (workers) ----
  // The port's binding; an empty one for a port with none.
  const PortBinding& Get(uint16_t port) const noexcept {
    const PortBinding* b = port < kPorts ? ports_[port].load(std::memory_order_acquire) : nullptr;
    return b != nullptr ? *b : kEmpty;
  }

  // ---- writer side (control thread) ----
  // The VM ports of a newly applied policy. A port whose (VSID, MAC) is new
  // is bound from scratch: for_each_record(fn) must call fn(record) for
  // every record the tables hold.
  template <typename ForEachRecord>
  void SetPorts(const std::vector<VmPort>& ports, ForEachRecord&& for_each_record);
  // A record added (delta +1) or removed (-1).
  void OnRecord(const LookupRecord& r, int delta);

 private:
  struct State {
    uint32_t vsid = 0;
    MacAddr mac;
    std::set<IpAddr> cas;
    uint32_t l2only = 0;
    uint32_t wildcard = 0;
  };
  using Key = std::pair<uint32_t, uint64_t>;  // (VSID, MAC)
  static Key KeyOf(uint32_t vsid, const MacAddr& mac) { return {vsid, mac.AsU64()}; }
  bool Apply(State& s, const LookupRecord& r, int delta);
  void Publish(uint16_t port, const State* s);
  // Ports whose (VSID, MAC) changed are reset; returns them.
  std::vector<uint16_t> ResetPorts(const std::vector<VmPort>& ports);

  static const PortBinding kEmpty;
  Reclaimer& reclaimer_;
  std::array<std::atomic<const PortBinding*>, kPorts> ports_{};
  std::map<uint16_t, State> state_;
  std::map<Key, uint16_t> port_of_;
};

template <typename ForEachRecord>
void PortBindings::SetPorts(const std::vector<VmPort>& ports, ForEachRecord&& for_each_record) {
  const std::vector<uint16_t> fresh = ResetPorts(ports);
  if (fresh.empty()) return;
  for_each_record([&](const LookupRecord& r) {
    auto it = port_of_.find(KeyOf(r.vsid, r.mac));
    if (it == port_of_.end()) return;
    for (uint16_t p : fresh)
      if (p == it->second) Apply(state_[p], r, +1);
  });
  for (uint16_t p : fresh) Publish(p, &state_[p]);
}

}  // namespace hnv
