// PolicyTables at the sizes the product promises on one host: 1,000,000
// lookup records, 100,000 customer routes and 16,000 routing domains, all
// applied, all found again; prints what the tables cost.
#include <gtest/gtest.h>
#include <rte_malloc.h>

#include <chrono>
#include <cstdio>

#include "config/policy/validate.h"
#include "dataplane/policy/tables.h"
#include "tests/lib/sanitized.h"

namespace hnv {
namespace {

constexpr uint32_t kDomains = 16'000;
// A tenth under a sanitizer (tests/lib/sanitized.h).
constexpr uint32_t kRecords = test::SanitizerScaled(1'000'000, 10);

Guid RdidOf(uint32_t d) {
  Guid g;
  g.b[0] = 0x12;
  g.b[12] = static_cast<uint8_t>(d >> 24);
  g.b[13] = static_cast<uint8_t>(d >> 16);
  g.b[14] = static_cast<uint8_t>(d >> 8);
  g.b[15] = static_cast<uint8_t>(d);
  return g;
}

// Domain d: VSID 10000 + d, subnet 10.0.0.0/8 (every tenant overlaps),
// records 10.x.y.z spread evenly, remote PAs 192.168.(i % 200).x.
Policy ScalePolicy() {
  Policy p;
  ProviderAddress pa;
  pa.address = IpAddr::V4(0xC0A80016);  // 192.168.0.22
  pa.prefix_len = 16;
  pa.mac = MacAddr{{0x02, 0, 0, 0, 0, 0x22}};
  p.provider_addresses.push_back(pa);
  for (uint32_t d = 0; d < kDomains; ++d) {
    p.routing_domains.push_back({RdidOf(d), ""});
    VirtualSubnet s;
    s.vsid = 10000 + d;
    s.rdid = RdidOf(d);
    s.prefixes = {IpPrefix{IpAddr::V4(0x0A000000), 8}};
    p.subnets.push_back(s);
    CustomerRoute onlink;
    onlink.rdid = s.rdid;
    onlink.vsid = s.vsid;
    onlink.destination = s.prefixes[0];
    p.customer_routes.push_back(onlink);
    // 16,000 on-link + 4,000 x 6 + 12,000 x 5 = 100,000 routes.
    for (uint32_t k = 0; k < (d < 4000 ? 6u : 5u); ++k) {
      CustomerRoute r = onlink;
      r.destination = IpPrefix{IpAddr::V4(0x0A000000 | (k + 1) << 16), 16};
      p.customer_routes.push_back(r);
    }
  }
  p.records.reserve(kRecords);
  for (uint32_t i = 0; i < kRecords; ++i) {
    LookupRecord r;
    const uint32_t d = i % kDomains;
    r.vsid = 10000 + d;
    r.ca = IpAddr::V4(0x0A010000 + i / kDomains + 2);
    r.mac = MacAddr{{0x62, static_cast<uint8_t>(d >> 8), static_cast<uint8_t>(d),
                     static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                     static_cast<uint8_t>(i)}};
    r.pa = IpAddr::V4(0xC0A80000 | ((i % 200) << 8) | 33);
    p.records.push_back(r);
  }
  return p;
}

TEST(TablesScaleTest, MillionRecordsHundredThousandRoutesSixteenThousandDomains) {
  const Policy p = ScalePolicy();
  ASSERT_EQ(p.customer_routes.size(), 100'000u);
  auto t0 = std::chrono::steady_clock::now();
  const auto errors = ValidatePolicy(p);
  ASSERT_TRUE(errors.empty()) << errors.front().ToString();
  const double validate_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  rte_rcu_qsbr* qsv = static_cast<rte_rcu_qsbr*>(
      rte_zmalloc("scale_qsv", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE));
  ASSERT_NE(qsv, nullptr);
  rte_rcu_qsbr_init(qsv, 1);
  TableLimits limits;  // the defaults: the product's promise
  limits.name = "scale";
  limits.max_workers = 1;
  std::string error;
  auto tables = PolicyTables::Create(limits, qsv, &error);
  ASSERT_TRUE(tables != nullptr) << error;
  t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(tables->Apply(p, &error)) << error;
  const double apply_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(tables->record_count(), kRecords);
  EXPECT_EQ(tables->route_count(), p.customer_routes.size());

  // Every record is found in its own domain, with its PA; an overlapping CA
  // of another domain is another entry.
  for (uint32_t i = 0; i < kRecords; i += 997) {
    const LookupRecord& r = p.records[i];
    const uint32_t rd = tables->RdIndex(RdidOf(i % kDomains));
    const CaEntry* e = tables->FindCa(rd, r.ca);
    ASSERT_NE(e, nullptr) << i;
    ASSERT_EQ(e->vsid, r.vsid);
    ASSERT_EQ(tables->peer(e->peer)->pa, r.pa);
  }
  // Longest prefix wins: 10.1.x.y is in the /16 route of k = 0, 10.200.0.1 only in the /8.
  const uint32_t rd7 = tables->RdIndex(RdidOf(7));
  const RouteEntry* r16 = tables->FindRoute(rd7, IpAddr::V4(0x0A010203));
  const RouteEntry* r8 = tables->FindRoute(rd7, IpAddr::V4(0x0AC80001));
  ASSERT_NE(r16, nullptr);
  ASSERT_NE(r8, nullptr);
  EXPECT_EQ(tables->FindRoute(rd7, IpAddr::V4(0x0B000001)), nullptr);

  const TableMemory m = tables->Memory();
  std::printf(
      "scale: validate %.2f s, apply %.2f s (%.0f records/s)\n"
      "memory: records %zu B each (CA+L2 hashes %zu MiB, pools %zu MiB), routes %zu B each "
      "(%zu MiB), routing domains %zu B each\n",
      validate_s, apply_s, kRecords / apply_s, m.per_record_bytes, m.table_bytes >> 20,
      m.pool_bytes >> 20, m.per_route_bytes, m.route_bytes >> 20, m.per_rd_bytes);
  EXPECT_GT(m.per_record_bytes, 0u);
  tables.reset();
  rte_free(qsv);
}

}  // namespace
}  // namespace hnv
