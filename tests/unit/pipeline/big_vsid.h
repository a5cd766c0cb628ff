// A host with big tables for the pipeline tests that need the stages' bulk
// branches (RcuHashTable::kBulkFrom keys and more): the chapter's Host 1
// plus VSID 6010 (10.16.0.0/16, Contoso's routing domain) holding 20,000
// remote records over 50 remote PAs, and the local VMs a test asks for.
#pragma once

#include <initializer_list>

#include "tests/unit/pipeline/pipeline_test_util.h"

namespace hnv::test::pipe {

inline constexpr uint32_t kVsid6010 = 6010;
inline constexpr uint32_t kBigRecords = 20'000;
inline const IpAddr kDfgw6010 = Ip("10.16.0.1");
inline const MacAddr kDfgw6010Mac = Mac("601060100000");

// Remote record i: its CA, MAC and PA.
inline IpAddr BigCa(uint32_t i) { return IpAddr::V4(0x0a100000u + 2 + i); }  // 10.16.0.2 ..
inline MacAddr BigMac(uint32_t i) {
  return MacAddr{{0x60, 0x10, 0x61, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                  static_cast<uint8_t>(i)}};
}
inline IpAddr BigPa(uint32_t i) { return IpAddr::V4(0xc0a80000u + 100 + i % 50); }  // 192.168.0.100 ..

// A local VM of VSID 6010 on Host 1 (PA 1): its record always, its VM port
// only when `has_port`.
struct BigVm {
  const char* name;
  uint16_t port;
  MacAddr mac;
  IpAddr ca;
  bool has_port = true;
};

inline Policy Host1WithBigVsid(std::initializer_list<BigVm> vms) {
  Policy p = ChapterHost1();
  p.subnets.push_back(VirtualSubnet{kVsid6010, ContosoRdid(), {Prefix("10.16.0.0/16")}});
  CustomerRoute r;
  r.rdid = ContosoRdid();
  r.vsid = kVsid6010;
  r.destination = Prefix("10.16.0.0/16");
  r.next_hop = Ip("0.0.0.0");
  p.customer_routes.push_back(r);
  p.records.push_back(MakeRecord(kDfgw6010, kVsid6010, kDfgw6010Mac, kPa1));
  for (const BigVm& vm : vms) p.records.push_back(MakeRecord(vm.ca, kVsid6010, vm.mac, kPa1));
  for (uint32_t i = 0; i < kBigRecords; ++i)
    p.records.push_back(MakeRecord(BigCa(i), kVsid6010, BigMac(i), BigPa(i)));
  for (const BigVm& vm : vms)
    if (vm.has_port) p.vm_ports.push_back(VmPort{vm.name, vm.port, vm.mac, kVsid6010});
  return p;
}

inline TableLimits BigLimits() {
  TableLimits l = SmallLimitsForTest();
  l.max_records = 32'768;
  return l;
}

}  // namespace hnv::test::pipe
