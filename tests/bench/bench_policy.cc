#include "tests/bench/bench_policy.h"

#include <cstdlib>
#include <string>

#include "tests/lib/chapter_policy.h"

namespace hnv::bench {
namespace {

IpAddr V4(uint32_t host_order) { return IpAddr::V4(host_order); }

IpPrefix V4Prefix(uint32_t host_order, uint8_t len) { return IpPrefix{V4(host_order), len}; }

LookupRecord Record(uint32_t ca, uint32_t vsid, const MacAddr& mac, uint32_t pa) {
  LookupRecord r;
  r.ca = V4(ca);
  r.vsid = vsid;
  r.mac = mac;
  r.pa = V4(pa);
  r.rule = TranslationRule::kEncap;
  r.type = RecordType::kStatic;
  return r;
}

CustomerRoute OnLink(const Guid& rdid, uint32_t vsid, const IpPrefix& dest) {
  CustomerRoute r;
  r.rdid = rdid;
  r.vsid = vsid;
  r.destination = dest;
  r.next_hop = V4(0);
  return r;
}

// The chapter's records with a CA that are not DFGW records: Contoso1,
// Contoso2, Contoso3 and MT-GW.
constexpr uint32_t kChapterCaRecords = 4;

}  // namespace

MacAddr MacFromU64(uint64_t v) {
  MacAddr m;
  for (int i = 5; i >= 0; --i, v >>= 8) m.b[i] = static_cast<uint8_t>(v);
  return m;
}

MacAddr LocalPaMac() {
  static const MacAddr mac = test::ChapterHost1().provider_addresses.front().mac;
  return mac;
}
MacAddr ProviderGwMac() { return MacFromU64(0x020000c0a801ull); }
MacAddr BenchAMac() { return MacFromU64(0x640061000003ull); }
MacAddr BenchBMac(uint32_t k) { return MacFromU64(0x660161010000ull + 10 + k); }
MacAddr DfgwAMac() { return MacFromU64(0x640061000100ull); }
MacAddr DfgwBMac() { return MacFromU64(0x660161010100ull); }

uint32_t BaseCaRecords() { return kChapterCaRecords + 1 + kBenchBCount; }

LookupRecord RemoteRecord(uint32_t i, uint32_t pa_index) {
  return Record(RemoteCa(i), kVsidA, MacFromU64(RemoteMacU64(i)), RemotePa(pa_index));
}

Policy BenchPolicy(uint32_t total) {
  if (total < BaseCaRecords()) std::abort();
  Policy p = test::ChapterHost1();
  p.settings.underlay_mtu = kUnderlayMtu;
  const Guid rd = test::ContosoRdid();

  p.subnets.push_back(VirtualSubnet{kVsidA, rd, {V4Prefix(0x0a400000, 10)}});
  p.subnets.push_back(VirtualSubnet{kVsidB, rd, {V4Prefix(0x0a800000, 16)}});
  p.customer_routes.push_back(OnLink(rd, kVsidA, V4Prefix(0x0a400000, 10)));
  p.customer_routes.push_back(OnLink(rd, kVsidB, V4Prefix(0x0a800000, 16)));

  p.records.push_back(Record(0x0a400001, kVsidA, DfgwAMac(), kLocalPa));
  p.records.push_back(Record(0x0a800001, kVsidB, DfgwBMac(), kLocalPa));
  p.records.push_back(Record(kBenchACa, kVsidA, BenchAMac(), kLocalPa));
  p.vm_ports.push_back(VmPort{"BenchA", kBenchAPort, BenchAMac(), kVsidA});
  for (uint32_t k = 0; k < kBenchBCount; ++k) {
    const auto port = static_cast<uint16_t>(kFirstBenchBPort + k);
    p.records.push_back(Record(kFirstBenchBCa + k, kVsidB, BenchBMac(k), kLocalPa));
    p.vm_ports.push_back(VmPort{"BenchB" + std::to_string(k), port, BenchBMac(k), kVsidB});
  }

  const uint32_t remote = RemoteRecordsFor(total);
  p.records.reserve(p.records.size() + remote);
  for (uint32_t i = 0; i < remote; ++i) p.records.push_back(RemoteRecord(i, RemotePaIndex(i)));

  ProviderRoute pr;
  pr.destination = V4Prefix(0xac100000, 12);
  pr.port = kUplinkPort;
  pr.next_hop = V4(kProviderGw);
  p.provider_routes.push_back(pr);
  return p;
}

}  // namespace hnv::bench
