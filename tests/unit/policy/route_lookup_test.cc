// PolicyTables::FindRoute against a naive longest-prefix match over random
// routes of both families in two routing domains, at every prefix length
// (odd ones included: /3, /57, /121), for random addresses and addresses
// inside the routes; the IpAddr and the word forms agree.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>

#include "dataplane/policy/tables.h"
#include "tests/unit/policy/small_tables.h"

namespace hnv {
namespace {

IpAddr RandomAddr(std::mt19937_64& rng, Family f) {
  IpAddr a;
  a.family = f;
  const int n = f == Family::kV4 ? 4 : 16;
  for (int i = 0; i < n; ++i) a.b[i] = static_cast<uint8_t>(rng());
  return a;
}

// An address inside `p`: its bits, then random ones.
IpAddr Inside(std::mt19937_64& rng, const IpPrefix& p) {
  IpAddr a = RandomAddr(rng, p.addr.family);
  for (int bit = 0; bit < p.len; ++bit) {
    const uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    a.b[bit / 8] = static_cast<uint8_t>((a.b[bit / 8] & ~mask) | (p.addr.b[bit / 8] & mask));
  }
  return a;
}

TEST(RouteLookupTest, LongestPrefixMatchOfBothFamiliesAgreesWithANaiveScan) {
  test::SmallTables t("route_lookup", 64, 4096);
  std::string error;

  std::mt19937_64 rng(7637);
  Policy p;
  std::vector<Guid> rdids(2);
  for (size_t d = 0; d < rdids.size(); ++d) {
    rdids[d].b[0] = static_cast<uint8_t>(0x10 + d);
    p.routing_domains.push_back({rdids[d], ""});
    VirtualSubnet s4, s6;
    s4.vsid = 5000 + static_cast<uint32_t>(d) * 2;
    s4.rdid = rdids[d];
    s4.prefixes = {IpPrefix{IpAddr::V4(0x0A000000), 8}};
    s6 = s4;
    s6.vsid = s4.vsid + 1;
    s6.prefixes = {*IpPrefix::Parse("fd00::/16")};
    p.subnets.push_back(s4);
    p.subnets.push_back(s6);
  }
  // Unique (domain, prefix) routes; a route's metric is its index.
  std::set<std::pair<size_t, IpPrefix>> seen;
  std::vector<size_t> rd_of;
  while (p.customer_routes.size() < 1500) {
    const size_t d = rng() % rdids.size();
    const Family f = rng() % 2 == 0 ? Family::kV4 : Family::kV6;
    const int len = static_cast<int>(rng() % ((f == Family::kV4 ? 32 : 128) + 1));
    // Clustered, so that prefixes nest: the first 8 bits from a small set.
    IpAddr a = RandomAddr(rng, f);
    a.b[0] = static_cast<uint8_t>(rng() % 3);
    const IpPrefix prefix{a.Masked(len), static_cast<uint8_t>(len)};
    if (!seen.emplace(d, prefix).second) continue;
    CustomerRoute r;
    r.rdid = rdids[d];
    r.vsid = 5000 + static_cast<uint32_t>(d) * 2 + (f == Family::kV6 ? 1 : 0);
    r.destination = prefix;
    r.metric = static_cast<uint32_t>(p.customer_routes.size());
    p.customer_routes.push_back(r);
    rd_of.push_back(d);
  }
  ASSERT_TRUE(t->Apply(p, &error)) << error;

  auto naive = [&](size_t d, const IpAddr& a) -> int {
    int best = -1, best_len = -1;
    for (size_t i = 0; i < p.customer_routes.size(); ++i) {
      const IpPrefix& pf = p.customer_routes[i].destination;
      if (rd_of[i] != d || pf.addr.family != a.family) continue;
      if (pf.len > best_len && a.Masked(pf.len) == pf.addr) {
        best = static_cast<int>(i);
        best_len = pf.len;
      }
    }
    return best;
  };
  auto check = [&](int iterations) {
    int found = 0;
    for (int iter = 0; iter < iterations; ++iter) {
      const size_t d = rng() % rdids.size();
      const uint32_t rd = t->RdIndex(rdids[d]);
      IpAddr a;
      if (iter % 2 == 0) {
        a = Inside(rng, p.customer_routes[rng() % p.customer_routes.size()].destination);
      } else {
        a = RandomAddr(rng, rng() % 2 == 0 ? Family::kV4 : Family::kV6);
        a.b[0] = static_cast<uint8_t>(rng() % 3);
      }
      const int want = naive(d, a);
      const RouteEntry* e = t->FindRoute(rd, a);
      uint64_t w[2];
      std::memcpy(w, a.b.data(), 16);
      EXPECT_EQ(t->FindRoute(rd, w[0], w[1], a.family), e) << a.ToString();
      if (want < 0) {
        EXPECT_EQ(e, nullptr) << a.ToString() << " in domain " << d;
        continue;
      }
      if (e == nullptr) {
        ADD_FAILURE() << a.ToString() << " in domain " << d << ": nothing found, want "
                      << p.customer_routes[want].destination.ToString();
        return found;
      }
      EXPECT_EQ(e->metric, p.customer_routes[want].metric)
          << a.ToString() << ": found metric " << e->metric << ", want "
          << p.customer_routes[want].destination.ToString();
      ++found;
    }
    return found;
  };
  EXPECT_GT(check(20000), 10000);
  // Every other route goes (both families, lengths shared or not): the
  // lengths left must still be probed, the emptied ones need not be.
  for (size_t i = p.customer_routes.size(); i-- > 0;) {
    if (i % 2 == 0) continue;
    p.customer_routes.erase(p.customer_routes.begin() + static_cast<std::ptrdiff_t>(i));
    rd_of.erase(rd_of.begin() + static_cast<std::ptrdiff_t>(i));
  }
  ASSERT_TRUE(t->Apply(p, &error)) << error;
  EXPECT_GT(check(20000), 10000);
}

}  // namespace
}  // namespace hnv
