// The benchmark's policy: the chapter's Host 1 (tests/lib/chapter_policy.h)
// grown to a given number of lookup records, and the traffic that exercises
// it.
//
// Layout, all in the chapter's routing domain Contoso, Host 1 (PA
// 192.168.0.22/24, uplink port 0):
//   VSID 6000 10.0.1.0/24, 6001 10.0.2.0/24   the chapter's, unchanged
//   VSID 6100 10.64.0.0/10  DFGW 10.64.0.1 640061000100
//            local VM "BenchA" port 3, 10.64.0.3 640061000003
//            the remote records: CA 10.65.0.0 + i, MAC 62:00:00:00:00:00 + i,
//            PA 172.16.0.1 + (i % 1000) (1,000 remote PAs reached through the
//            provider route 172.16.0.0/12 via 192.168.0.1)
//   VSID 6101 10.128.0.0/16 DFGW 10.128.0.1 660161010100
//            32 local VMs "BenchB<k>" ports 4..35, 10.128.0.(10+k),
//            660161010000 + 10 + k: the targets of routing on one host
// Customer routes: the chapter's plus 10.64.0.0/10 and 10.128.0.0/16 on-link.
// The underlay MTU is 1600, so 1,500-byte inner frames fit (RFC 7637 needs
// 42 bytes more than the inner frame).
//
// The remote record count is chosen so that the CA table holds exactly the
// requested number of records (the chapter's and the local VMs' included).
#pragma once

#include <cstdint>

#include "dataplane/policy/model.h"

namespace hnv::bench {

inline constexpr uint16_t kUplinkPort = 0;
inline constexpr uint16_t kBenchAPort = 3;
inline constexpr uint16_t kFirstBenchBPort = 4;
inline constexpr uint16_t kBenchBCount = 32;
inline constexpr uint32_t kVsidA = 6100;
inline constexpr uint32_t kVsidB = 6101;
inline constexpr uint32_t kRemotePas = 1000;
inline constexpr uint32_t kUnderlayMtu = 1600;

// Addresses, host order unless the name says otherwise.
inline constexpr uint32_t kLocalPa = 0xc0a80016;        // 192.168.0.22
inline constexpr uint32_t kProviderGw = 0xc0a80001;     // 192.168.0.1
inline constexpr uint32_t kFirstRemotePa = 0xac100001;  // 172.16.0.1
inline constexpr uint32_t kBenchACa = 0x0a400003;       // 10.64.0.3
inline constexpr uint32_t kFirstRemoteCa = 0x0a410000;  // 10.65.0.0
inline constexpr uint32_t kFirstBenchBCa = 0x0a80000a;  // 10.128.0.10
inline constexpr uint64_t kFirstRemoteMac = 0x620000000000ull;

MacAddr MacFromU64(uint64_t v);  // most significant byte first
MacAddr LocalPaMac();            // the chapter's Host 1 PA MAC (from its fixture)
MacAddr ProviderGwMac();         // the provider router's MAC
MacAddr BenchAMac();
MacAddr BenchBMac(uint32_t k);
MacAddr DfgwAMac();
MacAddr DfgwBMac();

inline uint32_t RemoteCa(uint32_t i) { return kFirstRemoteCa + i; }
inline uint32_t RemotePa(uint32_t pa_index) { return kFirstRemotePa + pa_index; }
inline uint32_t RemotePaIndex(uint32_t i) { return i % kRemotePas; }
inline uint64_t RemoteMacU64(uint32_t i) { return kFirstRemoteMac + i; }

// Records with a CA that the policy holds besides the remote ones (DFGW
// records do not count: they live in the snapshot, not the CA table).
uint32_t BaseCaRecords();
// How many remote records make `total` CA records; total >= BaseCaRecords().
inline uint32_t RemoteRecordsFor(uint32_t total) { return total - BaseCaRecords(); }

// The PA index of remote record i once it has been moved `moves` times, each
// time to the next of the kRemotePas PAs.
inline uint32_t MovedPaIndex(uint32_t i, uint64_t moves) {
  return static_cast<uint32_t>((RemotePaIndex(i) + moves) % kRemotePas);
}

// Remote record i on PA index `pa_index`.
LookupRecord RemoteRecord(uint32_t i, uint32_t pa_index);

// The whole policy with `total` CA records.
Policy BenchPolicy(uint32_t total);

}  // namespace hnv::bench
