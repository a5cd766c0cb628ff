// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable
// Software Network Load Balancer", NSDI 2016, section 3.4), with weights.
//
// Theory of operation. The lookup table has M entries (M prime); each entry
// names a backend. Every backend has its own permutation of 0..M-1, from
// two hashes of its identity (address and port): offset = h1 % M, skip =
// h2 % (M - 1) + 1, permutation[j] = (offset + j * skip) % M. Backends take
// turns; in its turn a backend takes the next entry of its permutation that
// is still empty, until the table is full. Weights: in each round a backend
// earns its weight in credit and takes a turn for every `max weight` of
// credit it holds, so the entries it ends with are proportional to its
// weight (to within one). A flow's backend is table[hash(flow) % M].
//
// Because a backend's permutation depends on it alone, adding or removing
// one backend changes few entries of the others (the property the unit
// tests measure: with 100 backends and M = 65,537, removing one moves under
// 1 % of the flows of the rest), and equal weights give every backend
// M / N entries to within one.
//
// Build cost: O(M log M) on average, no allocation beyond the table and a
// few per-backend arrays; on the control thread.
#pragma once

#include <cstdint>
#include <vector>

namespace hnv::nat {

inline constexpr uint16_t kMaglevEmpty = 0xffff;

struct MaglevBackend {
  uint64_t id = 0;      // stable identity: MaglevId(address, port)
  uint32_t weight = 1;  // 0 = takes no entry
};

// The identity of a backend (raw address and port), as Build hashes it.
inline uint64_t MaglevId(uint32_t addr_raw, uint16_t port_raw) {
  return static_cast<uint64_t>(addr_raw) << 16 | port_raw;
}


// Fills `table` (resized to m) with backend indexes (into `backends`), or
// with kMaglevEmpty everywhere when no backend has a weight. m must be a prime
// (IsPrime, model.h)
// above 1; at most 65,535 backends.
void BuildMaglev(const std::vector<MaglevBackend>& backends, uint32_t m,
                 std::vector<uint16_t>* table);

// The entry of a flow hash in a table of m entries.
inline uint32_t MaglevEntry(uint64_t flow_hash, uint32_t m) {
  return static_cast<uint32_t>(((flow_hash >> 32) * m) >> 32);
}

}  // namespace hnv::nat
