#include "tests/lib/chapter_policy.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace hnv::test {
namespace {

[[noreturn]] void Die(const char* what, std::string_view s) {
  std::fprintf(stderr, "chapter_policy: bad %s \"%.*s\"\n", what, static_cast<int>(s.size()),
               s.data());
  std::abort();
}

enum class Host { k1, k2, kGateway };

struct Variant {
  bool v6_tenant = false;    // add the IPv6 tenant Fabrikam
  bool v6_provider = false;  // IPv6 PAs instead of IPv4 ones
};

// The PA of each host, by the chapter (IPv4) or by our IPv6 provider variant.
IpAddr PaOf(Host h, const Variant& v) {
  switch (h) {
    case Host::k1:
      return Ip(v.v6_provider ? "fd00:ffff::22" : "192.168.0.22");
    case Host::k2:
      return Ip(v.v6_provider ? "fd00:ffff::33" : "192.168.0.33");
    case Host::kGateway:
      return Ip(v.v6_provider ? "fd00:ffff::11" : "192.168.0.11");
  }
  std::abort();
}

LookupRecord Record(std::string_view ca, uint32_t vsid, std::string_view mac, const IpAddr& pa) {
  LookupRecord r;
  r.ca = Ip(ca);
  r.vsid = vsid;
  r.mac = Mac(mac);
  r.pa = pa;
  r.rule = TranslationRule::kEncap;
  r.type = RecordType::kStatic;
  // vm_name stays empty: the chapter's Get-NetVirtualizationLookupRecord
  // output shows "VMName:" empty, as New-NetVirtualizationLookupRecord was
  // given none.
  return r;
}

CustomerRoute Route(const Guid& rdid, uint32_t vsid, std::string_view dest,
                    std::string_view next_hop) {
  CustomerRoute r;
  r.rdid = rdid;
  r.vsid = vsid;
  r.destination = Prefix(dest);
  r.next_hop = Ip(next_hop);
  r.metric = 0;
  return r;
}

VmPort Port(std::string_view name, uint16_t port, std::string_view mac, uint32_t vsid) {
  return VmPort{std::string(name), port, Mac(mac), vsid};
}

// A tenant laid out like the chapter's Contoso: two subnets, the second
// holding the gateway, identical on every host except the DFGW records' PA
// (the local host's, as the chapter's step 7 says).
struct TenantSpec {
  Guid rdid;
  const char* name;
  uint32_t vsid_vm, vsid_gw;
  const char* prefix_vm;
  const char* prefix_gw;
  const char* wildcard;     // "0.0.0.0/0" or "::/0"
  const char* unspecified;  // "0.0.0.0" or "::"
  const char* dfgw_vm;
  const char* dfgw_vm_mac;
  const char* vm[3];  // on Host 1, Host 1, Host 2
  const char* vm_mac[3];
  const char* gw;
  const char* gw_mac;
  const char* dfgw_gw;
  const char* dfgw_gw_mac;
};

void AddTenant(const TenantSpec& t, Host local, const Variant& v, Policy* p) {
  p->routing_domains.push_back(RoutingDomain{t.rdid, t.name});
  p->subnets.push_back(VirtualSubnet{t.vsid_vm, t.rdid, {Prefix(t.prefix_vm)}});
  p->subnets.push_back(VirtualSubnet{t.vsid_gw, t.rdid, {Prefix(t.prefix_gw)}});

  // The chapter's steps 4..6, in its order.
  p->customer_routes.push_back(Route(t.rdid, t.vsid_vm, t.prefix_vm, t.unspecified));
  p->customer_routes.push_back(Route(t.rdid, t.vsid_gw, t.prefix_gw, t.unspecified));
  p->customer_routes.push_back(Route(t.rdid, t.vsid_gw, t.wildcard, t.gw));

  // Steps 7..11, in the chapter's order. The DFGW MAC is the same on every
  // host (DESIGN §2): the chapter's Host 1 value; its Host 2 step uses
  // ...0200, which its own Get output contradicts.
  const IpAddr local_pa = PaOf(local, v);
  p->records.push_back(Record(t.dfgw_vm, t.vsid_vm, t.dfgw_vm_mac, local_pa));
  p->records.push_back(Record(t.vm[0], t.vsid_vm, t.vm_mac[0], PaOf(Host::k1, v)));
  p->records.push_back(Record(t.vm[1], t.vsid_vm, t.vm_mac[1], PaOf(Host::k1, v)));
  p->records.push_back(Record(t.vm[2], t.vsid_vm, t.vm_mac[2], PaOf(Host::k2, v)));
  p->records.push_back(Record(t.gw, t.vsid_gw, t.gw_mac, PaOf(Host::kGateway, v)));
  // The gateway subnet's DFGW record: the chapter configures it only on the
  // gateway host (its step 7, with a PA typo, 192.168.0.33, that we read as
  // the local PA). Our addition on Hosts 1 and 2, so every host answers
  // 10.0.2.1 the same way and routes to the gateway subnet alike.
  p->records.push_back(Record(t.dfgw_gw, t.vsid_gw, t.dfgw_gw_mac, local_pa));
}

const TenantSpec& Contoso() {
  static const TenantSpec t = {
      ContosoRdid(),
      "Contoso",
      6000,
      6001,
      "10.0.1.0/24",
      "10.0.2.0/24",
      "0.0.0.0/0",
      "0.0.0.0",
      "10.0.1.1",
      "600060000100",
      {"10.0.1.101", "10.0.1.102", "10.0.1.103"},
      // The chapter's Set-VMNetworkAdapter and New-...LookupRecord values;
      // its Get output's 6001... MACs for these VMs are typos.
      {"600060000101", "600060000102", "600060000203"},
      "10.0.2.2",
      "600160010301",
      "10.0.2.1",
      "600160010300",
  };
  return t;
}

// Ours, not the chapter's: Contoso's layout with IPv6 CAs and 7000-range VSIDs
// and MACs.
const TenantSpec& Fabrikam() {
  static const TenantSpec t = {
      FabrikamRdid(),
      "Fabrikam",
      7000,
      7001,
      "fd00:1::/64",
      "fd00:2::/64",
      "::/0",
      "::",
      "fd00:1::1",
      "700070000100",
      {"fd00:1::101", "fd00:1::102", "fd00:1::103"},
      {"700070000101", "700070000102", "700070000203"},
      "fd00:2::2",
      "700170010301",
      "fd00:2::1",
      "700170010300",
  };
  return t;
}

Policy Build(Host host, const Variant& v) {
  Policy p;
  AddTenant(Contoso(), host, v, &p);
  if (v.v6_tenant) AddTenant(Fabrikam(), host, v, &p);

  // The chapter's New-NetVirtualizationProviderAddress, PrefixLength 24; the
  // chapter's InterfaceIndex 12 is our uplink port 0.
  ProviderAddress pa;
  pa.address = PaOf(host, v);
  pa.prefix_len = v.v6_provider ? 64 : 24;
  pa.vlan = 0;
  pa.port = kChapterUplinkPort;
  switch (host) {
    case Host::k1:
      // The chapter's 334455667788 has the group bit set (0x33: the IPv6
      // multicast MAC prefix): no NIC may send from it, and ValidatePolicy
      // rejects it. We clear that one bit.
      pa.mac = Mac("324455667788");
      p.vm_ports.push_back(Port("Contoso1", 1, "600060000101", 6000));
      p.vm_ports.push_back(Port("Contoso2", 2, "600060000102", 6000));
      if (v.v6_tenant) {
        p.vm_ports.push_back(Port("Fabrikam1", 3, "700070000101", 7000));
        p.vm_ports.push_back(Port("Fabrikam2", 4, "700070000102", 7000));
      }
      break;
    case Host::k2:
      pa.mac = Mac("445566778899");
      p.vm_ports.push_back(Port("Contoso3", 1, "600060000203", 6000));
      if (v.v6_tenant) p.vm_ports.push_back(Port("Fabrikam3", 2, "700070000203", 7000));
      break;
    case Host::kGateway:
      pa.mac = Mac("223344556677");
      // MT-GW's internal NIC (IntNIC); its external NIC is on another switch.
      p.vm_ports.push_back(Port("MT-GW", 1, "600160010301", 6001));
      break;
  }
  p.provider_addresses.push_back(pa);
  return p;
}

}  // namespace

// Ip() and Mac() are defined once, in packet_builder.cc.

IpPrefix Prefix(std::string_view s) {
  if (auto a = IpPrefix::Parse(s)) return *a;
  Die("prefix", s);
}

Guid Rdid(std::string_view s) {
  if (auto a = Guid::Parse(s)) return *a;
  Die("GUID", s);
}

Guid ContosoRdid() { return Rdid("{12345678-1000-2000-3000-123456780001}"); }
Guid FabrikamRdid() { return Rdid("{12345678-1000-2000-3000-123456780002}"); }

Policy ChapterHost1() { return Build(Host::k1, {}); }
Policy ChapterHost2() { return Build(Host::k2, {}); }
Policy ChapterGatewayHost() { return Build(Host::kGateway, {}); }
Policy ChapterHost1V6() { return Build(Host::k1, {.v6_tenant = true}); }
Policy ChapterHost2V6() { return Build(Host::k2, {.v6_tenant = true}); }
Policy ChapterHost1V6Provider() { return Build(Host::k1, {.v6_provider = true}); }
Policy ChapterHost2V6Provider() { return Build(Host::k2, {.v6_provider = true}); }

}  // namespace hnv::test
