// Random policies for property tests: a fixed shape (three routing
// domains, five small subnets, one of them IPv6, a PA, a provider route, an
// optional default route, VM ports) and records drawn from small pools of
// CAs, MACs, PAs and VSIDs so that they collide, made valid by dropping
// what ValidatePolicy refuses. Used by validate_record_test.cc and
// apply_diff_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "config/policy/validate.h"
#include "tests/lib/chapter_policy.h"

namespace hnv::test {

inline const char* const kRd[] = {"{12345678-0000-0000-0000-000000000001}",
                           "{12345678-0000-0000-0000-000000000002}",
                           "{12345678-0000-0000-0000-000000000003}"};

struct Pools {
  std::vector<IpAddr> cas, pas;
  std::vector<MacAddr> macs;
  std::vector<uint32_t> vsids = {5001, 5002, 5003, 5004, 5005, 5001, 5003, 9999, 100};
  Pools() {
    for (const char* net : {"10.0.1.", "10.0.3."})
      for (int i = 0; i < 8; ++i) cas.push_back(Ip(net + std::to_string(i)));
    for (const char* s : {"10.0.2.2", "10.0.2.1", "10.0.9.9", "0.0.0.0", "::", "fd00::1", "fd00::2",
                          "fd00::5", "fd00::", "10.0.3.2", "10.0.3.2"})
      cas.push_back(Ip(s));
    for (const char* s : {"192.168.0.10", "192.168.0.20", "192.168.0.20", "172.16.1.1", "10.9.9.9",
                          "fd99::20", "224.0.0.1", "192.168.0.21"})
      pas.push_back(Ip(s));
    for (const char* s : {"020000000001", "020000000002", "020000000003", "020000000004",
                          "02000000000a", "02000000000a", "010000000000"})
      macs.push_back(Mac(s));
  }
};

template <typename T>
const T& Pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

inline LookupRecord RandomRecord(std::mt19937& rng, const Pools& pools) {
  LookupRecord r;
  r.vsid = Pick(rng, pools.vsids);
  r.ca = Pick(rng, pools.cas);
  r.mac = Pick(rng, pools.macs);
  r.pa = Pick(rng, pools.pas);
  const int t = std::uniform_int_distribution<int>(0, 9)(rng);
  r.type = t < 4   ? RecordType::kStatic
           : t < 7 ? RecordType::kDynamic
           : t < 9 ? RecordType::kL2Only
                   : RecordType::kGatewayWildcard;
  if (r.type == RecordType::kL2Only || r.type == RecordType::kGatewayWildcard)
    r.ca = std::uniform_int_distribution<int>(0, 5)(rng) == 0 ? Ip("::") : Ip("0.0.0.0");
  r.rule = std::uniform_int_distribution<int>(0, 7)(rng) == 0 ? TranslationRule::kNone
                                                              : TranslationRule::kEncap;
  return r;
}

inline LookupRecord Mutate(std::mt19937& rng, const Pools& pools, LookupRecord r) {
  switch (std::uniform_int_distribution<int>(0, 5)(rng)) {
    case 0:
      r.pa = Pick(rng, pools.pas);
      break;
    case 1:
      r.mac = Pick(rng, pools.macs);
      break;
    case 2:
      r.ca = Pick(rng, pools.cas);
      break;
    case 3:
      r.vsid = Pick(rng, pools.vsids);
      break;
    case 4:
      r.type = static_cast<RecordType>(std::uniform_int_distribution<int>(0, 3)(rng));
      break;
    default:
      r.rule = r.rule == TranslationRule::kEncap ? TranslationRule::kNone : TranslationRule::kEncap;
  }
  return r;
}

inline Policy RandomShape(std::mt19937& rng) {
  Policy p;
  for (const char* rd : kRd) p.routing_domains.push_back(RoutingDomain{Rdid(rd), ""});
  p.subnets = {{5001, Rdid(kRd[0]), {Prefix("10.0.1.0/29")}},
               {5002, Rdid(kRd[0]), {Prefix("10.0.2.0/29")}},
               {5003, Rdid(kRd[0]), {Prefix("10.0.3.0/29")}},
               {5004, Rdid(kRd[1]), {Prefix("10.0.1.0/29")}},
               {5005, Rdid(kRd[2]), {Prefix("fd00::/125")}}};
  ProviderAddress pa;
  pa.address = Ip("192.168.0.10");
  pa.prefix_len = 24;
  pa.mac = Mac("020000000099");
  p.provider_addresses.push_back(pa);
  p.provider_routes.push_back(ProviderRoute{Prefix("172.16.0.0/16"), 0, Ip("192.168.0.1")});
  if (std::uniform_int_distribution<int>(0, 3)(rng) != 0) {
    CustomerRoute cr;
    cr.rdid = Rdid(kRd[0]);
    cr.vsid = 5003;
    cr.destination = Prefix("0.0.0.0/0");
    cr.next_hop = Ip("10.0.3.2");
    p.customer_routes.push_back(cr);
  }
  p.vm_ports.push_back(VmPort{"vm1", 1, Mac("020000000001"), 5001});
  if (std::uniform_int_distribution<int>(0, 1)(rng) == 0)
    p.vm_ports.push_back(VmPort{"gw", 2, Mac("02000000000a"), 5003});
  return p;
}

// Drops the records and VM ports ValidatePolicy complains about until it
// has nothing to say.
inline void MakeValid(Policy* p) {
  for (;;) {
    const std::vector<PolicyError> errors = ValidatePolicy(*p);
    if (errors.empty()) return;
    std::vector<bool> bad_record(p->records.size()), bad_port(p->vm_ports.size());
    for (const PolicyError& e : errors) {
      const size_t open = e.path.find('['), close = e.path.find(']');
      ASSERT_NE(open, std::string::npos) << e.ToString();
      const size_t i = std::stoul(e.path.substr(open + 1, close - open - 1));
      const std::string section = e.path.substr(0, open);
      if (section == "records")
        bad_record[i] = true;
      else if (section == "vm_ports")
        bad_port[i] = true;
      else
        FAIL() << "the generator's shape is invalid: " << e.ToString();
    }
    std::vector<LookupRecord> records;
    for (size_t i = 0; i < p->records.size(); ++i)
      if (!bad_record[i]) records.push_back(p->records[i]);
    std::vector<VmPort> ports;
    for (size_t i = 0; i < p->vm_ports.size(); ++i)
      if (!bad_port[i]) ports.push_back(p->vm_ports[i]);
    p->records = std::move(records);
    p->vm_ports = std::move(ports);
  }
}

}  // namespace hnv::test
