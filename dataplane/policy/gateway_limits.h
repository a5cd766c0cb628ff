// hnv-gateway's limits: how many compartments a gateway holds, how many
// interfaces each has, and where the compartments' virtual ports start in the
// policy-port space (tables.h's kMaxPorts). The configuration numbers
// compartments and their ports with them (config/gateway_config.h) and the
// gateway's fast path sizes its tables by them (gateway/fastpath/), so they
// sit here, below both: config/ may include dataplane/policy, the fast path
// may include dataplane/, and neither includes the other.
//
// Thread: constants.
#pragma once

#include <cstdint>

namespace hnv {

inline constexpr uint32_t kMaxCompartments = 128;
inline constexpr uint8_t kMaxInterfaces = 8;  // per compartment: 0 VM network, 1.. external
// Compartment c's interface into the VM network is the virtual policy port
// kFirstVirtualPort + c (a VM adapter port with no ethdev); ports below it are
// ethdev ports.
inline constexpr uint16_t kFirstVirtualPort = 64;

}  // namespace hnv
