// PolicyTables::PeerHasPa: nvgre-decap's source check reads each peer id's
// PA from a dense array instead of the PeerEntry. It must agree with the
// entry for every live id, in both families, and match nothing for the
// local peer, no peer, or an id whose PA was released and reclaimed.
#include <gtest/gtest.h>

#include <cstring>

#include "dataplane/policy/tables.h"
#include "tests/unit/policy/small_tables.h"

namespace hnv {
namespace {

bool HasPa(const PolicyTables& t, uint32_t id, const IpAddr& pa) {
  uint64_t w[2];
  std::memcpy(w, pa.b.data(), 16);
  return t.PeerHasPa(id, w[0], w[1], pa.family);
}

LookupRecord Record(uint32_t vsid, uint32_t ca, uint8_t mac_last, const IpAddr& pa) {
  LookupRecord r;
  r.vsid = vsid;
  r.ca = IpAddr::V4(ca);
  r.mac = MacAddr{{0x02, 0, 0, 0, 0x10, mac_last}};
  r.pa = pa;
  return r;
}

TEST(PeerPaTest, AgreesWithThePeerEntryAndForgetsReleasedIds) {
  test::SmallTables t("peer_pa", 64, 64);
  std::string error;

  Policy p;
  ProviderAddress local4;
  local4.address = IpAddr::V4(0xC0A80016);  // 192.168.0.22/24
  local4.prefix_len = 24;
  local4.mac = MacAddr{{0x02, 0, 0, 0, 0, 0x22}};
  ProviderAddress local6 = local4;
  local6.address = *IpAddr::Parse("fd00::22");
  local6.prefix_len = 64;
  p.provider_addresses = {local4, local6};
  Guid rdid;
  rdid.b[0] = 0x42;
  p.routing_domains.push_back({rdid, ""});
  VirtualSubnet s;
  s.vsid = 5001;
  s.rdid = rdid;
  s.prefixes = {IpPrefix{IpAddr::V4(0x0A000000), 24}};
  p.subnets.push_back(s);
  const IpAddr pa4 = IpAddr::V4(0xC0A80021);  // 192.168.0.33
  const IpAddr pa6 = *IpAddr::Parse("fd00::33");
  p.records = {Record(5001, 0x0A000005, 5, pa4), Record(5001, 0x0A000006, 6, pa6)};
  ASSERT_TRUE(t->Apply(p, &error)) << error;

  const uint32_t rd = t->RdIndex(rdid);
  const CaEntry* e4 = t->FindCa(rd, IpAddr::V4(0x0A000005));
  const CaEntry* e6 = t->FindCa(rd, IpAddr::V4(0x0A000006));
  ASSERT_NE(e4, nullptr);
  ASSERT_NE(e6, nullptr);
  const uint32_t id4 = e4->peer, id6 = e6->peer;
  ASSERT_NE(id4, id6);
  EXPECT_EQ(t->peer(id4)->pa, pa4);
  EXPECT_TRUE(HasPa(*t, id4, pa4));
  EXPECT_TRUE(HasPa(*t, id6, pa6));
  EXPECT_FALSE(HasPa(*t, id4, pa6));
  EXPECT_FALSE(HasPa(*t, id6, pa4));
  // The same 16 bytes in the other family are another address.
  IpAddr pa4_as_v6 = pa4;
  pa4_as_v6.family = Family::kV6;
  EXPECT_FALSE(HasPa(*t, id4, pa4_as_v6));
  EXPECT_FALSE(HasPa(*t, id4, IpAddr::V4(0xC0A80022)));
  EXPECT_FALSE(HasPa(*t, kLocalPeer, pa4));
  EXPECT_FALSE(HasPa(*t, kNoPeer, pa4));
  for (uint32_t id = 0; id < t.max_peers(); ++id) {
    if (id == id4 || id == id6) continue;
    EXPECT_FALSE(HasPa(*t, id, IpAddr{})) << "free id " << id << " matches the unspecified address";
  }

  // The IPv6 PA's only record goes: after the grace period its id is free
  // and matches nothing; the IPv4 peer is untouched.
  p.records.pop_back();
  ASSERT_TRUE(t->Apply(p, &error)) << error;
  t->Synchronize();
  EXPECT_EQ(t->peer(id6), nullptr);
  EXPECT_FALSE(HasPa(*t, id6, pa6));
  EXPECT_TRUE(HasPa(*t, id4, pa4));

}

}  // namespace
}  // namespace hnv
