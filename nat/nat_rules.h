// NatRules: one compartment's NAT configuration as the workers read it,
// compiled from a NatSpec (model.h) by the control thread. Immutable once
// built; a configuration change builds a new one (published by the
// compartment's snapshot and freed after a grace period).
//
// What it answers, each in a few loads and no allocation:
//  - pool: whether an address is one of the NAPT's external addresses, and
//    its index (sessions store the index); the preferred pool address of an
//    internal address (a hash: "paired" pooling, RFC 4787 REQ-2, so all of
//    one host's mappings share one external address while it has ports);
//  - internal: whether a source is one the NAPT translates (prefix list);
//  - static one-to-one NAT, both directions (address -> address);
//  - port forwards, both directions ((address, protocol, port) -> the other
//    end);
//  - whether an address is any of the NAT's external addresses (pool,
//    static, port forward): a packet from the inside to one is hairpinned;
//  - `local` addresses: pool addresses that are also the compartment's own
//    interface addresses; unsolicited inbound traffic to one is the
//    namespace's (Edge::kPass), not dropped.
// Addresses and ports are raw (network order), as PacketView has them.
//
// Thread: built and destroyed by the control thread; read by any worker.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/policy/flat_map.h"
#include "nat/model.h"
#include "nat/packet.h"
#include "nat/tcp_state.h"

namespace hnv::nat {

class NatRules {
 public:
  static constexpr int kNotPool = -1;

  // nullptr and *error when `spec` cannot be compiled (too many pool
  // addresses, an IPv6 address: config/ validates these first).
  static std::unique_ptr<NatRules> Build(const NatSpec& spec,
                                         const std::vector<IpAddr>& local_addresses,
                                         std::string* error);

  int PoolIndex(uint32_t addr) const noexcept {
    const uint32_t i = pool_index_.Find(addr);
    return i == FlatU32Map::kMissing ? kNotPool : static_cast<int>(i);
  }
  uint32_t pool_address(uint32_t i) const { return pool_[i]; }
  uint32_t pool_size() const { return static_cast<uint32_t>(pool_.size()); }
  bool pool_local(uint32_t i) const { return pool_local_[i]; }
  uint8_t Preferred(uint32_t in_addr) const noexcept {
    if (pool_.empty()) return 0;
    const uint32_t h = (in_addr * 0x9e3779b1u) >> 16;
    return static_cast<uint8_t>(h % pool_.size());
  }

  bool IsInternal(uint32_t addr) const noexcept {
    for (const Net& n : internal_)
      if ((addr & n.mask) == n.addr) return true;
    return false;
  }
  bool StaticOut(uint32_t in_addr, uint32_t* ext) const noexcept {
    return !static_ext_.empty() && Lookup32(static_out_, in_addr, static_ext_, ext);
  }
  bool StaticIn(uint32_t ext_addr, uint32_t* in) const noexcept {
    return !static_ext_.empty() && Lookup32(static_in_, ext_addr, static_int_, in);
  }
  bool ForwardOut(Proto p, Endpoint in, Endpoint* ext) const noexcept {
    if (forwards_.empty()) return false;
    const uint32_t i = forward_out_.Find(Key(p, in));
    if (i == FlatU64Map::kMissing) return false;
    *ext = forwards_[i].ext;
    return true;
  }
  bool ForwardIn(Proto p, Endpoint ext, Endpoint* in) const noexcept {
    if (forwards_.empty()) return false;
    const uint32_t i = forward_in_.Find(Key(p, ext));
    if (i == FlatU64Map::kMissing) return false;
    *in = forwards_[i].in;
    return true;
  }
  // Checked on every translated packet (hairpin): a 64-bit filter first
  // answers "no" for almost every address that is not one.
  bool IsNatAddress(uint32_t addr) const noexcept {
    if ((nat_filter_ & FilterBit(addr)) == 0) return false;
    return nat_address_.Find(addr) != FlatU32Map::kMissing;
  }
  // Whether a packet from the inside to `dst` is one the NAT takes back in
  // (hairpinning, RFC 4787 REQ-9, RFC 5382 REQ-8): to a static external
  // address (any protocol), to a port forward, or (TCP, UDP) to a pool
  // address on a port the NAPT allocates. Anything else to one of these
  // addresses (an echo request to a pool address, a service of the
  // namespace on its own address) is not the NAT's. `dst.port` (raw) counts
  // for TCP and UDP only.
  bool HairpinTarget(uint8_t ip_proto, Endpoint dst) const noexcept {
    if (!IsNatAddress(dst.addr)) return false;
    uint32_t in_addr;
    if (StaticIn(dst.addr, &in_addr)) return true;
    if (ip_proto != kIpProtoTcp && ip_proto != kIpProtoUdp) return false;
    Endpoint in;
    if (ForwardIn(ip_proto == kIpProtoTcp ? Proto::kTcp : Proto::kUdp, dst, &in)) return true;
    const uint16_t port = Be16::FromRaw(dst.port).ToHost();
    return PoolIndex(dst.addr) != kNotPool && port >= spec_.ports.first && port <= spec_.ports.last;
  }
  bool has_static() const { return !static_ext_.empty() || !forwards_.empty(); }

  const TimeoutsMs& timeouts() const { return timeouts_; }
  Filtering filtering() const { return spec_.filtering; }
  bool hairpinning() const { return spec_.hairpinning; }
  const NatSpec& spec() const { return spec_; }

 private:
  struct Net {
    uint32_t addr, mask;  // raw
  };
  struct Forward {
    Endpoint ext, in;
  };
  static uint64_t FilterBit(uint32_t addr) { return uint64_t{1} << ((addr * 0x9e3779b1u) >> 26); }
  static uint64_t Key(Proto p, Endpoint e) {
    return static_cast<uint64_t>(e.addr) << 24 | static_cast<uint64_t>(p) << 16 | e.port;
  }
  static bool Lookup32(const FlatU32Map& m, uint32_t key, const std::vector<uint32_t>& values,
                       uint32_t* out) noexcept {
    const uint32_t i = m.Find(key);
    if (i == FlatU32Map::kMissing) return false;
    *out = values[i];
    return true;
  }

  NatSpec spec_;
  TimeoutsMs timeouts_;
  std::vector<uint32_t> pool_;
  std::vector<bool> pool_local_;
  FlatU32Map pool_index_;
  std::vector<Net> internal_;
  std::vector<uint32_t> static_ext_, static_int_;  // parallel, by rule
  FlatU32Map static_out_, static_in_;              // -> rule
  std::vector<Forward> forwards_;
  FlatU64Map forward_out_, forward_in_;  // -> forwards_
  FlatU32Map nat_address_;
  uint64_t nat_filter_ = 0;  // FilterBit of every NAT address
};

}  // namespace hnv::nat
