// GwMeta: what the compartment path knows of a frame, kept in the mbuf
// (PacketMeta::ext, the dataplane's scratch for a program's own stages), so
// it travels with the frame through the stages, the features and a handoff
// to another worker.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/pipeline/context.h"

namespace hnv::gateway {

struct GwMeta {
  // Where a frame handed to another worker (or deferred to the next loop
  // iteration of its own) goes on.
  enum class Resume : uint8_t { kPreRoute, kToVm };
  enum Flags : uint8_t {
    kHairpinOk = 1,  // a feature translated it: VM network back into it is fine
    kInbound = 2,    // a feature turned it around (a NAT hairpin): the pre-route
                     // features treat it as arrived from outside
  };
  uint16_t compartment;
  uint8_t in_iface;   // 0: from the VM network; 1..: external
  uint8_t out_iface;  // after gw-route
  uint32_t next_hop;  // after gw-route: IPv4 neighbour (gateway or destination), host order
  Resume resume;
  uint8_t flags;
};
static_assert(sizeof(GwMeta) <= sizeof(PacketMeta::ext));

inline GwMeta* Gw(rte_mbuf* m) noexcept { return reinterpret_cast<GwMeta*>(Meta(m)->ext); }
inline const GwMeta* Gw(const rte_mbuf* m) noexcept {
  return reinterpret_cast<const GwMeta*>(
      static_cast<const PacketMeta*>(rte_mbuf_to_priv(const_cast<rte_mbuf*>(m)))->ext);
}

}  // namespace hnv::gateway
