// Isolation (DESIGN §3 "Rules that hold everywhere"): a frame never reaches
// a port or PA of another routing domain. Property test over random
// policies of two or three tenants that reuse the same customer addresses
// and MACs on the same hosts, and random valid-looking frames (ARP, IP,
// NVGRE with random VSIDs) whose addresses are drawn from every tenant.
// Host 1's encapsulated output toward Host 2 is fed to Host 2 (and back),
// and a second phase re-applies the policy with the tenants' routing
// domains rotated (every VSID moves to another RD, records unchanged).
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "config/policy/validate.h"
#include "tests/unit/pipeline/pipeline_test_util.h"

namespace hnv::test::pipe {
namespace {

const IpAddr kPa44 = Ip("192.168.0.44");
const IpAddr kPa55 = Ip("192.168.0.55");

MacAddr MacOf(uint8_t a, uint8_t b, uint8_t c) { return MacAddr{{0x02, 0x00, 0x00, a, b, c}}; }
IpAddr V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return IpAddr::V4(static_cast<uint32_t>(a) << 24 | b << 16 | c << 8 | d);
}
Guid TenantRdid(int t) {
  Guid g;
  g.b[15] = static_cast<uint8_t>(t + 1);
  g.b[0] = 0x12;
  return g;
}

// The tenant policy, the same on both hosts; Build() makes one host's view.
struct World {
  std::vector<RoutingDomain> rds;
  std::vector<VirtualSubnet> subnets;
  std::vector<LookupRecord> records;  // DFGW records with PA unspecified: the host's own
  std::vector<CustomerRoute> routes;
  HostSettings settings;
  // For drawing frames.
  std::vector<IpAddr> ips;
  std::vector<MacAddr> macs;
  std::vector<uint32_t> vsids;

  Policy Build(const IpAddr& pa, const MacAddr& pa_mac) const {
    Policy p;
    p.settings = settings;
    p.routing_domains = rds;
    p.subnets = subnets;
    p.customer_routes = routes;
    uint16_t port = 1;
    for (LookupRecord r : records) {
      if (r.pa.IsUnspecified()) r.pa = pa;  // DFGW
      else if (r.pa == pa && r.type != RecordType::kGatewayWildcard)
        // Trusted with any source (MacAddressSpoofing On): isolation must
        // hold against VMs that spoof, not only thanks to anti-spoofing.
        p.vm_ports.push_back(VmPort{"", port++, r.mac, r.vsid, /*mac_address_spoofing=*/true});
      p.records.push_back(r);
    }
    ProviderAddress a;
    a.address = pa;
    a.prefix_len = 24;
    a.mac = pa_mac;
    a.port = kUplink;
    p.provider_addresses.push_back(a);
    return p;
  }

  // The same policy with every subnet and route moved to the next tenant's
  // routing domain.
  World Rotated() const {
    World w = *this;
    std::map<Guid, Guid> next;
    for (size_t i = 0; i < rds.size(); ++i) next[rds[i].rdid] = rds[(i + 1) % rds.size()].rdid;
    for (VirtualSubnet& s : w.subnets) s.rdid = next[s.rdid];
    for (CustomerRoute& r : w.routes) r.rdid = next[r.rdid];
    return w;
  }
};

World RandomWorld(std::mt19937& rng) {
  World w;
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
  const IpAddr pas[] = {kPa1, kPa2, kPa44, kPa55};
  auto any_pa = [&] { return pas[rng() % 4]; };
  std::vector<uint32_t> vsid_pool;
  for (uint32_t v = 10000; v < 10016; ++v) vsid_pool.push_back(v);
  std::shuffle(vsid_pool.begin(), vsid_pool.end(), rng);
  size_t next_vsid = 0;
  const int tenants = 2 + static_cast<int>(rng() % 2);
  w.settings.flow_id_mode = chance(50) ? FlowIdMode::kEntropy : FlowIdMode::kZero;
  for (int t = 0; t < tenants; ++t) {
    const Guid rdid = TenantRdid(t);
    w.rds.push_back(RoutingDomain{rdid, "t" + std::to_string(t)});
    auto add_subnet = [&](uint8_t k) {
      const uint32_t vsid = vsid_pool[next_vsid++];
      w.vsids.push_back(vsid);
      w.subnets.push_back(VirtualSubnet{vsid, rdid, {IpPrefix{V4(10, 0, k, 0), 24}}});
      CustomerRoute r;
      r.rdid = rdid;
      r.vsid = vsid;
      r.destination = IpPrefix{V4(10, 0, k, 0), 24};
      r.next_hop = IpAddr{};
      w.routes.push_back(r);
      // Same DFGW MAC in every tenant: MACs may overlap across RDs.
      w.records.push_back(MakeRecord(V4(10, 0, k, 1), vsid, MacOf(0xdf, k, 1), IpAddr{}));
      return vsid;
    };
    const int subnets = 1 + static_cast<int>(rng() % 3);
    for (uint8_t k = 1; k <= subnets; ++k) {
      const uint32_t vsid = add_subnet(k);
      const int vms = 1 + static_cast<int>(rng() % 4);
      for (uint8_t i = 0; i < vms; ++i) {
        // Same CA and MAC in every tenant.
        const IpAddr ca = V4(10, 0, k, static_cast<uint8_t>(10 + i));
        const MacAddr mac = MacOf(0, k, i);
        if (chance(20)) {
          w.records.push_back(MakeRecord(IpAddr{}, vsid, mac, any_pa(), RecordType::kL2Only));
        } else {
          w.records.push_back(MakeRecord(ca, vsid, mac, any_pa()));
        }
      }
    }
    if (chance(60)) {  // a gateway on its own VSID, and the wildcard route to it
      const uint32_t vsid = add_subnet(9);
      const IpAddr gw_pa = any_pa();
      w.records.push_back(MakeRecord(V4(10, 0, 9, 2), vsid, MacOf(0, 9, 2), gw_pa));
      if (chance(50))
        w.records.push_back(
            MakeRecord(IpAddr{}, vsid, MacOf(0, 9, 3), gw_pa, RecordType::kGatewayWildcard));
      CustomerRoute r;
      r.rdid = rdid;
      r.vsid = vsid;
      r.destination = IpPrefix{IpAddr{}, 0};
      r.next_hop = V4(10, 0, 9, 2);
      w.routes.push_back(r);
    }
  }
  for (const LookupRecord& r : w.records) {
    if (!r.ca.IsUnspecified()) w.ips.push_back(r.ca);
    w.macs.push_back(r.mac);
  }
  for (const IpAddr& a : {V4(10, 0, 1, 200), V4(10, 1, 3, 100), V4(8, 8, 8, 8), IpAddr{},
                          V4(255, 255, 255, 255), V4(10, 0, 2, 11)})
    w.ips.push_back(a);
  for (const MacAddr& m : {MacAddr::Broadcast(), MacOf(0x77, 7, 7), kPa1Mac, kPa2Mac})
    w.macs.push_back(m);
  w.vsids.push_back(4096);
  w.vsids.push_back(99999);
  return w;
}

// ---- random frames ---------------------------------------------------------------

struct Gen {
  std::mt19937& rng;
  const World& w;
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[rng() % v.size()];
  }
  bool Chance(int percent) { return static_cast<int>(rng() % 100) < percent; }

  // A frame a VM with `mac` and `ip` might send (or a spoofing one).
  Frame VmFrame(const MacAddr& mac, const IpAddr& ip) {
    const MacAddr src = Chance(90) ? mac : Pick(w.macs);
    const IpAddr sip = Chance(80) ? ip : Pick(w.ips);
    const int kind = static_cast<int>(rng() % 10);
    if (kind < 3) {
      const MacAddr dst = Chance(85) ? MacAddr::Broadcast() : Pick(w.macs);
      return PacketBuilder().Eth(dst, src).Arp(kArpRequest, src, sip, MacAddr{}, Pick(w.ips)).Build();
    }
    if (kind < 4) {
      const MacAddr dst = Pick(w.macs);
      return PacketBuilder().Eth(dst, src).Arp(kArpReply, src, sip, dst, Pick(w.ips)).Build();
    }
    PacketBuilder b;
    b.Eth(Pick(w.macs), src).Ipv4(sip, Pick(w.ips)).Ttl(Chance(10) ? 1 : 64);
    switch (rng() % 3) {
      case 0:
        b.Icmp().Payload(rng() % 64);
        break;
      case 1:
        b.Udp(static_cast<uint16_t>(rng()), 53).Payload(rng() % 64);
        break;
      default:
        b.Tcp(static_cast<uint16_t>(rng()), 443, kTcpSyn, 1460);
        break;
    }
    return b.Build();
  }

  // NVGRE from a random PA with a random VSID around a random inner frame.
  Frame UplinkFrame(const IpAddr& local_pa, const MacAddr& local_mac, uint32_t* vsid) {
    static const IpAddr kSenders[] = {kPa1, kPa2, kPa44, kPa55, Ip("192.168.0.11")};
    IpAddr src = kSenders[rng() % 5];
    if (src == local_pa) src = kPa55;
    *vsid = Pick(w.vsids);
    const Frame inner = VmFrame(Pick(w.macs), Pick(w.ips));
    return PacketBuilder()
        .Eth(local_mac, kRouterMac)
        .Ipv4(src, local_pa)
        .DontFragment()
        .Nvgre(*vsid, static_cast<uint8_t>(rng()))
        .Payload(inner)
        .Build();
  }
};

// ---- the property ---------------------------------------------------------------

struct Host {
  IpAddr pa;
  MacAddr mac;
  Policy policy;
  std::unique_ptr<PipelineHarness> h;
};

class Checker {
 public:
  Checker(const World& w, Host* hosts) : hosts_(hosts) {
    for (const VirtualSubnet& s : w.subnets) rd_of_vsid_[s.vsid] = s.rdid;
  }

  // Runs `frame` on host `i`'s `port` (whose traffic belongs to `origin`),
  // checks every output, and follows encapsulated output to the other host.
  void Run(int i, uint16_t port, const Frame& frame, const std::optional<Guid>& origin,
           int depth = 0) {
    Host& host = hosts_[i];
    const auto tx = host.h->Run(port, frame);
    ++frames_;
    for (const TxFrame& t : tx) {
      if (!origin) {
        ADD_FAILURE() << "output for a frame of no routing domain\n" << DescribeFrame(frame)
                      << "->\n" << DescribeTx({t});
        continue;
      }
      if (t.port != kUplink) {
        const VmPort* vp = PortOf(host.policy, t.port);
        ASSERT_NE(vp, nullptr) << "output on unknown port " << t.port;
        EXPECT_TRUE(rd_of_vsid_.at(vp->vsid) == *origin)
            << "host " << i << ": frame reached port " << t.port << " (VSID " << vp->vsid
            << ") of another routing domain\n" << DescribeFrame(frame) << "->\n"
            << DescribeFrame(t.bytes);
        ++delivered_;
        continue;
      }
      ASSERT_NE(port, kUplink) << "provider input came back out on the uplink\n"
                               << DescribeFrame(frame) << "->\n" << DescribeFrame(t.bytes);
      ParsedFrame pf;
      ASSERT_EQ(ParseFrame(t.bytes.data(), static_cast<uint32_t>(t.bytes.size()), &pf),
                ParseError::kOk);
      ASSERT_EQ(pf.l3, L3Kind::kIpv4);
      ASSERT_EQ(pf.l4_proto, kIpProtoGre) << DescribeFrame(t.bytes);
      ASSERT_EQ(U16At(t.bytes, pf.l4_offset), kNvgreFlags);
      const uint32_t vsid = U32At(t.bytes, pf.l4_offset + 4) >> 8;
      const auto rd = rd_of_vsid_.find(vsid);
      ASSERT_NE(rd, rd_of_vsid_.end()) << "encapsulated with unknown VSID " << vsid;
      EXPECT_TRUE(rd->second == *origin)
          << "host " << i << ": encapsulated into VSID " << vsid << " of another routing domain\n"
          << DescribeFrame(frame) << "->\n" << DescribeFrame(t.bytes);
      const IpAddr dst = IpAddr::V4Raw(pf.At<Ipv4Hdr>(t.bytes.data(), pf.l3_offset)->dst);
      bool pa_of_rd = false;
      host.h->tables().ForEachRecord([&](const LookupRecord& r) {
        const auto it = rd_of_vsid_.find(r.vsid);
        pa_of_rd |= r.pa == dst && it != rd_of_vsid_.end() && it->second == *origin;
      });
      EXPECT_TRUE(pa_of_rd) << "host " << i << ": sent to PA " << dst.ToString()
                            << ", which holds no record of the sender's routing domain\n"
                            << DescribeFrame(frame) << "->\n" << DescribeFrame(t.bytes);
      ++encapsulated_;
      // Follow it to the other host when it is one of ours.
      for (int j = 0; j < 2; ++j)
        if (j != i && hosts_[j].pa == dst && depth == 0) {
          ++followed_;
          Run(j, kUplink, t.bytes, rd->second, depth + 1);
        }
    }
  }

  std::optional<Guid> RdOfVsid(uint32_t vsid) const {
    const auto it = rd_of_vsid_.find(vsid);
    if (it == rd_of_vsid_.end()) return std::nullopt;
    return it->second;
  }

  static const VmPort* PortOf(const Policy& p, uint16_t port) {
    for (const VmPort& v : p.vm_ports)
      if (v.port == port) return &v;
    return nullptr;
  }

  uint64_t frames_ = 0, delivered_ = 0, encapsulated_ = 0, followed_ = 0;

 private:
  Host* hosts_;
  std::map<uint32_t, Guid> rd_of_vsid_;
};

struct Totals {
  uint64_t frames = 0, delivered = 0, encapsulated = 0, followed = 0;
};

void Phase(std::mt19937& rng, const World& w, Host* hosts, int frames, Totals* totals) {
  for (int i = 0; i < 2; ++i) {
    hosts[i].policy = w.Build(hosts[i].pa, hosts[i].mac);
    const auto errors = ValidatePolicy(hosts[i].policy);
    std::string text;
    for (const PolicyError& e : errors) text += e.ToString() + "\n";
    ASSERT_TRUE(errors.empty()) << "the generator made an invalid policy:\n" << text;
    if (hosts[i].h == nullptr) {
      hosts[i].h = std::make_unique<PipelineHarness>(hosts[i].policy);
    } else {
      hosts[i].h->Apply(hosts[i].policy);
    }
    hosts[i].h->ResolveNeighbors(kRouterMac);
    hosts[i].h->tables().Synchronize();
  }
  Checker c(w, hosts);
  Gen g{rng, w};
  for (int n = 0; n < frames; ++n) {
    const int i = static_cast<int>(rng() % 2);
    Host& host = hosts[i];
    if (rng() % 10 < 7 && !host.policy.vm_ports.empty()) {
      const VmPort& vp = g.Pick(host.policy.vm_ports);
      IpAddr ip = Ip("0.0.0.0");
      for (const LookupRecord& r : host.policy.records)
        if (r.vsid == vp.vsid && r.mac == vp.mac && !r.ca.IsUnspecified()) ip = r.ca;
      c.Run(i, vp.port, g.VmFrame(vp.mac, ip), c.RdOfVsid(vp.vsid));
    } else {
      uint32_t vsid = 0;
      const Frame f = g.UplinkFrame(host.pa, host.mac, &vsid);
      c.Run(i, kUplink, f, c.RdOfVsid(vsid));
    }
    if (::testing::Test::HasFatalFailure()) return;
    if (n % 25 == 24) {  // learning, as the control thread would
      hosts[0].h->ProcessEvents();
      hosts[1].h->ProcessEvents();
    }
  }
  totals->frames += c.frames_;
  totals->delivered += c.delivered_;
  totals->encapsulated += c.encapsulated_;
  totals->followed += c.followed_;
}

TEST(Isolation, RandomPoliciesAndFrames) {
  Totals totals;
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const World w = RandomWorld(rng);
    Host hosts[2] = {{kPa1, kPa1Mac, {}, nullptr}, {kPa2, kPa2Mac, {}, nullptr}};
    Phase(rng, w, hosts, 300, &totals);
    if (HasFatalFailure()) return;
    // Policy change under the same tables: every VSID to another RD.
    Phase(rng, w.Rotated(), hosts, 300, &totals);
    if (HasFatalFailure()) return;
  }
  // The property must not hold merely because nothing got through.
  EXPECT_GT(totals.delivered, 3000u);
  EXPECT_GT(totals.encapsulated, 1000u);
  EXPECT_GT(totals.followed, 300u);
  std::printf("isolation: %lu frames (incl. followed), %lu delivered, %lu encapsulated\n",
              static_cast<unsigned long>(totals.frames), static_cast<unsigned long>(totals.delivered),
              static_cast<unsigned long>(totals.encapsulated));
}

// The deterministic core of the rotation phase: two tenants with the same
// addresses and MACs on one host; when their routing domains are swapped,
// routing follows the new assignment.
TEST(Isolation, VsidMovedToAnotherRoutingDomain) {
  World w;
  for (int t = 0; t < 2; ++t) {
    const Guid rdid = TenantRdid(t);
    w.rds.push_back(RoutingDomain{rdid, ""});
    for (uint8_t k = 1; k <= 2; ++k) {
      const uint32_t vsid = 10000 + t * 10 + k;
      w.subnets.push_back(VirtualSubnet{vsid, rdid, {IpPrefix{V4(10, 0, k, 0), 24}}});
      CustomerRoute r;
      r.rdid = rdid;
      r.vsid = vsid;
      r.destination = IpPrefix{V4(10, 0, k, 0), 24};
      w.routes.push_back(r);
      w.records.push_back(MakeRecord(V4(10, 0, k, 1), vsid, MacOf(0xdf, k, 1), IpAddr{}));
      w.records.push_back(MakeRecord(V4(10, 0, k, 10), vsid, MacOf(0, k, 0), kPa1));
    }
  }
  // Tenant 0: VSIDs 10001, 10002 (ports 1, 2); tenant 1: 10011, 10012 (ports 3, 4).
  PipelineHarness h(w.Build(kPa1, kPa1Mac));
  const Frame ping = Ping(MacOf(0xdf, 1, 1), MacOf(0, 1, 0), V4(10, 0, 1, 10), V4(10, 0, 2, 10));
  auto routed_to = [&](uint16_t in_port) {
    const auto tx = h.Run(in_port, ping);
    return tx.size() == 1 ? tx[0].port : uint16_t{0xffff};
  };
  EXPECT_EQ(routed_to(1), 2);  // tenant 0 to tenant 0
  EXPECT_EQ(routed_to(3), 4);  // tenant 1 to tenant 1
  // Swap the routing domains of 10002 and 10012 only.
  World x = w;
  for (VirtualSubnet& s : x.subnets)
    if (s.vsid == 10002 || s.vsid == 10012) s.rdid = TenantRdid(s.vsid == 10002 ? 1 : 0);
  for (CustomerRoute& r : x.routes)
    if (r.vsid == 10002 || r.vsid == 10012) r.rdid = TenantRdid(r.vsid == 10002 ? 1 : 0);
  const Policy p = x.Build(kPa1, kPa1Mac);
  ASSERT_TRUE(ValidatePolicy(p).empty());
  h.Apply(p);
  EXPECT_EQ(routed_to(1), 4);  // 10001 and 10012 now share a routing domain
  EXPECT_EQ(routed_to(3), 2);
}

}  // namespace
}  // namespace hnv::test::pipe
