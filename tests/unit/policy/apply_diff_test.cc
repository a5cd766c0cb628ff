// PolicyTables applies a new policy as a diff against the one it holds, and
// single records through UpsertRecord / RemoveRecord (hnvctl's path). Both
// must leave exactly what a fresh table given the final policy holds: on
// random valid policies (random_policy.h) applied one after another, with
// random valid record edits in between, every lookup a worker can make
// (CA and L2 entries with their peers' PAs, routes, the snapshot's VSIDs,
// ports and local MACs, the next hops waiting for resolution) agrees with
// the fresh table's.
#include <gtest/gtest.h>
#include <rte_malloc.h>

#include <algorithm>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/policy/record_index.h"
#include "dataplane/policy/tables.h"
#include "tests/lib/random_policy.h"
#include "tests/unit/policy/small_tables.h"

namespace hnv {
namespace {

using test::Ip;
using test::MakeValid;
using test::Mutate;
using test::Pools;
using test::RandomRecord;
using test::RandomShape;

using Tables = test::SmallTables;

std::string PeerText(const PolicyTables& t, uint32_t id) {
  if (id == kLocalPeer) return "local";
  if (id == kNoPeer) return "none";
  const PeerEntry* p = t.peer(id);
  return p == nullptr ? "freed id" : p->pa.ToString();
}

std::string PeersText(const PolicyTables& t, const std::vector<uint32_t>& ids) {
  std::vector<std::string> v;
  for (uint32_t id : ids) v.push_back(PeerText(t, id));
  std::sort(v.begin(), v.end());
  std::string s;
  for (const std::string& x : v) s += x + ",";
  return s;
}

// Everything a worker can find, as text: two tables with the same policy
// give the same text, whatever their internal ids (routing-domain indexes,
// peer ids, slots) are.
std::string Observe(const PolicyTables& t, const Policy& p, const Pools& pools) {
  std::ostringstream o;
  o << "records " << t.record_count() << " routes " << t.route_count() << "\n";
  std::set<uint32_t> vsids(pools.vsids.begin(), pools.vsids.end());
  for (const VirtualSubnet& s : p.subnets) vsids.insert(s.vsid);
  for (const RoutingDomain& d : p.routing_domains) {
    const uint32_t rd = t.RdIndex(d.rdid);
    o << "rd " << d.rdid.ToString() << (rd == FlatU32Map::kMissing ? " missing" : "") << "\n";
    if (rd == FlatU32Map::kMissing) continue;
    for (const IpAddr& ca : pools.cas) {
      if (const CaEntry* e = t.FindCa(rd, ca))
        o << " ca " << ca.ToString() << " vsid " << e->vsid << " mac " << e->mac.ToString()
          << " type " << static_cast<int>(e->type) << " rule " << static_cast<int>(e->rule)
          << " peer " << PeerText(t, e->peer) << "\n";
      if (const RouteEntry* r = t.FindRoute(rd, ca))
        o << " route for " << ca.ToString() << " vsid " << r->vsid << " metric " << r->metric
          << " nh " << r->next_hop.ToString() << " on_link " << r->on_link << "\n";
    }
  }
  for (uint32_t vsid : vsids)
    for (const MacAddr& mac : pools.macs)
      if (const L2Entry* e = t.FindL2(vsid, mac))
        o << "l2 " << vsid << " " << mac.ToString() << " peer " << PeerText(t, e->peer)
          << " port " << e->port << " type " << static_cast<int>(e->type) << " rule "
          << static_cast<int>(e->rule) << "\n";
  const Snapshot& s = *t.snapshot();
  for (uint32_t vsid : vsids) {
    const VsidInfo* v = s.Vsid(vsid);
    if (v == nullptr) continue;
    std::vector<uint16_t> ports = v->local_ports;
    std::sort(ports.begin(), ports.end());
    o << "vsid " << vsid << " family " << static_cast<int>(v->family) << " prefix "
      << v->prefix.ToString() << " dfgw " << v->has_dfgw << " " << v->dfgw_ip.ToString() << " "
      << v->dfgw_mac.ToString() << " ports";
    for (uint16_t port : ports) o << " " << port;
    o << " l2only " << PeersText(t, v->l2only_peers) << " wildcard "
      << PeersText(t, v->wildcard_peers) << " l2only_local " << v->l2only_local;
    std::vector<std::string> local;
    for (const VsidInfo::LocalL2Only& l : v->l2only_local_macs)
      local.push_back(l.mac.ToString() + "@" + l.pa.ToString());
    std::sort(local.begin(), local.end());
    for (const std::string& l : local) o << " " << l;
    o << "\n";
    for (const MacAddr& mac : pools.macs) {
      uint16_t port = 0;
      if (s.local_macs.Find(vsid, mac, &port)) o << " local " << mac.ToString() << " port " << port << "\n";
    }
  }
  for (uint16_t port = 0; port < 8; ++port) {
    const PortInfo& pi = s.ports[port];
    o << "port " << port << " kind " << static_cast<int>(pi.kind) << " vsid " << pi.vsid << " mac "
      << pi.mac.ToString() << "\n";
  }
  std::vector<std::string> waiting;
  for (const auto& u : t.Unresolved())
    waiting.push_back(std::to_string(u.port) + " " + u.next_hop.ToString());
  std::sort(waiting.begin(), waiting.end());
  for (const std::string& w : waiting) o << "unresolved " << w << "\n";
  return o.str();
}

Policy RandomValidPolicy(std::mt19937& rng, const Pools& pools) {
  Policy p = RandomShape(rng);
  const int n = std::uniform_int_distribution<int>(5, 60)(rng);
  for (int i = 0; i < n; ++i) p.records.push_back(RandomRecord(rng, pools));
  MakeValid(&p);
  return p;
}

// Applies one random valid single-record edit of `p` to `t` the way
// hnv-vswitch does (append: upsert; replace: upsert in place when the tables
// see the same record, else remove the old and upsert the new; erase:
// remove), and to `p`. False when the edit drawn was invalid.
bool RandomEdit(std::mt19937& rng, const Pools& pools, PolicyTables& t, Policy* p) {
  RecordIndex index(*p);
  RecordEdit e;
  const int what = std::uniform_int_distribution<int>(0, 9)(rng);
  if (p->records.empty() || what < 3) {
    e = RecordEdit{RecordEdit::Op::kAppend, 0, RandomRecord(rng, pools)};
  } else {
    const auto i = std::uniform_int_distribution<uint32_t>(
        0, static_cast<uint32_t>(p->records.size()) - 1)(rng);
    const LookupRecord& old = p->records[i];
    e.slot = i;  // a fresh RecordIndex: slot i is record i
    if (what < 8) {
      e.op = RecordEdit::Op::kReplace;
      e.record = what < 5 ? RandomRecord(rng, pools) : Mutate(rng, pools, old);
    } else {
      e.op = RecordEdit::Op::kErase;
    }
  }
  if (!ValidateRecordChange(index, e).empty()) return false;
  std::string error;
  switch (e.op) {
    case RecordEdit::Op::kAppend:
      EXPECT_TRUE(t.UpsertRecord(e.record, &error)) << error;
      p->records.push_back(e.record);
      break;
    case RecordEdit::Op::kReplace:
      if (!PolicyTables::SameIdentity(p->records[e.slot], e.record)) t.RemoveRecord(p->records[e.slot]);
      EXPECT_TRUE(t.UpsertRecord(e.record, &error)) << error;
      p->records[e.slot] = e.record;
      break;
    case RecordEdit::Op::kErase:
      t.RemoveRecord(p->records[e.slot]);
      p->records.erase(p->records.begin() + e.slot);
      break;
  }
  return true;
}

// Where two observations differ, line by line.
std::string Difference(const std::string& got, const std::string& want) {
  std::istringstream g(got), w(want);
  std::string a, b, out;
  for (;;) {
    const bool more_a = static_cast<bool>(std::getline(g, a));
    const bool more_b = static_cast<bool>(std::getline(w, b));
    if (!more_a && !more_b) break;
    if (a != b) out += "  diffed: " + a + "\n  fresh:  " + b + "\n";
    a.clear();
    b.clear();
  }
  return out;
}

std::string Records(const Policy& p) {
  std::string s;
  for (const LookupRecord& r : p.records)
    s += "  " + r.ca.ToString() + " vsid " + std::to_string(r.vsid) + " " + r.mac.ToString() +
         " pa " + r.pa.ToString() + " type " + std::to_string(static_cast<int>(r.type)) +
         " rule " + std::to_string(static_cast<int>(r.rule)) + "\n";
  return s;
}

// The table that lived through everything so far against a fresh one given
// only `p`.
void ExpectSameAsFresh(PolicyTables& diffed, const Policy& p, const Pools& pools,
                       const std::string& where) {
  diffed.Synchronize();
  static int serial = 0;
  Tables fresh("fresh" + std::to_string(serial++));
  std::string error;
  ASSERT_TRUE(fresh->Apply(p, &error)) << error;
  const std::string got = Observe(diffed, p, pools), want = Observe(*fresh, p, pools);
  ASSERT_TRUE(got == want) << where << "\n" << Difference(got, want) << "records:\n" << Records(p);
}

TEST(ApplyDiffTest, DiffsAndRecordEditsLeaveWhatAFreshApplyLeaves) {
  const Pools pools;
  Tables diffed("diffed");
  int edits = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    Policy p = RandomValidPolicy(rng, pools);
    if (HasFatalFailure()) return;
    std::string error;
    ASSERT_TRUE(diffed->Apply(p, &error)) << error;
    ExpectSameAsFresh(*diffed, p, pools, "seed " + std::to_string(seed) + ", after Apply");
    if (HasFatalFailure()) return;
    for (int k = 0; k < 25; ++k) {
      if (!RandomEdit(rng, pools, *diffed, &p)) continue;
      ++edits;
      ExpectSameAsFresh(*diffed, p, pools,
                        "seed " + std::to_string(seed) + ", after edit " + std::to_string(k));
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_GT(edits, 1500);
}

// VSIDs 5001 and 70537 (5001 + 2^16) with the same MAC in two routing
// domains: the records of one (VSID, MAC) are counted apart from the other's
// (the count's key once kept only 16 bits of the VSID).
TEST(ApplyDiffTest, OneMacOnVsidsThatDifferAbove16BitsIsCountedApart) {
  const Pools pools;
  Policy p;
  const Guid a = test::Rdid(test::kRd[0]), b = test::Rdid(test::kRd[1]);
  p.routing_domains = {{a, ""}, {b, ""}};
  p.subnets = {{5001, a, {test::Prefix("10.0.1.0/24")}}, {70537, b, {test::Prefix("10.0.1.0/24")}}};
  ProviderAddress pa;
  pa.address = Ip("192.168.0.10");
  pa.prefix_len = 24;
  pa.mac = test::Mac("020000000099");
  p.provider_addresses.push_back(pa);
  LookupRecord r;
  r.ca = Ip("10.0.1.5");
  r.mac = test::Mac("020000000005");
  r.vsid = 5001;
  r.pa = Ip("192.168.0.20");
  p.records.push_back(r);
  r.vsid = 70537;
  r.pa = Ip("192.168.0.21");
  p.records.push_back(r);
  ASSERT_TRUE(ValidatePolicy(p).empty()) << ValidatePolicy(p).front().ToString();
  Tables t("vsid_bits");
  std::string error;
  ASSERT_TRUE(t->Apply(p, &error)) << error;
  p.records.erase(p.records.begin());  // VSID 5001's record goes
  ASSERT_TRUE(t->Apply(p, &error)) << error;
  t->Synchronize();
  EXPECT_EQ(t->FindL2(5001, r.mac), nullptr);
  const L2Entry* e = t->FindL2(70537, r.mac);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(t->peer(e->peer)->pa, Ip("192.168.0.21"));
  ExpectSameAsFresh(*t, p, pools, "after removing VSID 5001's record");
}

}  // namespace
}  // namespace hnv
