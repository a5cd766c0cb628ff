// Whole-store validation on documents (no etcd): the chapter's store is
// valid; each rule about VMs, hosts and gateways that the YAML cannot break
// by itself is broken on purpose and named at the store key and field.
#include <gtest/gtest.h>

#include "config/store/validate_store.h"
#include "tests/unit/store/store_test_util.h"

namespace hnv::store {
namespace {

class ValidateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ImportResult im = ImportFiles(test::ChapterFiles(), StoreState());
    ASSERT_TRUE(im.errors.empty()) << test::Join(im.errors);
    state_ = test::StateOf(im);
  }
  void PutVm(const VmDoc& vm) {
    state_.Put(KeyValue{L().Vm(vm.tenant, vm.name), ToJson(vm), 0, ++rev_, 1, 0});
  }
  void PutTenant(const TenantDoc& t) {
    state_.Put(KeyValue{L().TenantSpec(t.name), ToJson(t), 0, ++rev_, 1, 0});
  }
  void PutHost(const HostDoc& h) { state_.Put(KeyValue{L().Host(h.name), ToJson(h), 0, ++rev_, 1, 0}); }
  const Layout& L() const { return state_.layout(); }
  VmDoc Vm(const std::string& name) { return state_.vms.at("contoso").at(name); }
  std::string All() { return test::Join(ValidateStore(state_, ValidationScope{})); }
  // A second tenant with a gateway on the chapter's gateway.
  TenantDoc Fabrikam() {
    TenantDoc t = state_.tenants.at("contoso");
    t.name = "fabrikam";
    t.routing_domain.rdid = *Guid::Parse("{12345678-1000-2000-3000-123456780002}");
    t.subnets[0].vsid = 7000;
    t.subnets[1].vsid = 7001;
    for (CustomerRoute& r : t.customer_routes) r.vsid += 1000;
    for (LookupRecord& r : t.local_records) r.vsid += 1000;
    t.gateway->spec.id = 1;
    t.gateway->spec.netns = "hnv-fabrikam";
    t.gateway->spec.vsid = 7001;
    t.gateway->spec.external[0].vlan = 10;
    VmDoc gw = Vm("contoso-600160010301");
    gw.name = "fabrikam-gw";
    gw.tenant = "fabrikam";
    gw.vsid = 7001;
    PutVm(gw);
    return t;
  }

  StoreState state_;
  int64_t rev_ = 100;
};

TEST_F(ValidateStoreTest, TheChaptersStoreIsValid) { EXPECT_EQ(All(), ""); }

TEST_F(ValidateStoreTest, VmRules) {
  VmDoc v = Vm("Contoso1");
  v.vsid = 7000;  // no such subnet in Contoso
  v.port = "vm9";
  PutVm(v);
  VmDoc l2 = Vm("Contoso2");
  l2.type = RecordType::kL2Only;  // with an address
  PutVm(l2);
  VmDoc gw = Vm("contoso-600160010301");
  gw.port = "external";
  PutVm(gw);
  EXPECT_EQ(All(),
            "store: tenants/contoso/vms/Contoso1.vsid: 7000 is not a virtual subnet of tenant contoso\n"
            "store: tenants/contoso/vms/Contoso1.port: vm9 is not a port of host host1 (ports: "
            "uplink, vm1, vm2)\n"
            "store: tenants/contoso/vms/Contoso2.addresses: a L2Only VM has no addresses (its "
            "record's CA is unspecified)\n"
            "store: tenants/contoso/vms/contoso-600160010301.port: host gateway is a gateway: it has "
            "no VM network adapters (a tenant's interface into its VM network is its compartment)\n"
            "store: tenants/contoso/vms/Contoso1.vsid: 7000 is not a virtual subnet of this policy\n");
}

TEST_F(ValidateStoreTest, NamesAndHosts) {
  HostDoc h = state_.hosts.at("host2");
  h.name = "host 2";
  h.provider_addresses[0].address = *IpAddr::Parse("192.168.0.44");
  PutHost(h);
  TenantDoc t = Fabrikam();
  t.name = "fab/rikam";
  PutTenant(t);
  EXPECT_EQ(All(),
            "store: hosts/host 2.name: \"host 2\" is not a host name (letters, digits, '.', '_' "
            "and '-')\n"
            "store: tenants/fab/rikam/spec.name: \"fab/rikam\" is not a tenant name (letters, "
            "digits, '-' and '_')\n"
            "store: tenants/fabrikam/vms/fabrikam-gw.tenant: tenant fabrikam is not in the store\n"
            "store: tenants/fab/rikam/spec.gateway.vm_network.address: the gateway CA 10.0.2.2 on "
            "VSID 7001 is the address of no VM of tenant fab/rikam\n"
            "store: tenants/fab/rikam/spec.gateway.vm_network.vsid: 7001 is the subnet of the "
            "gateway 10.0.2.2 (tenants/fab/rikam/spec.customer_routes[2]); the gateway is on its "
            "own VSID, shared only with the default gateway record (on host gateway)\n");
}

TEST_F(ValidateStoreTest, GatewayRules) {
  TenantDoc f = Fabrikam();
  f.gateway->spec.id = 0;                      // contoso's
  f.gateway->spec.netns = "hnv-contoso";       // contoso's
  f.gateway->spec.external[0].vlan = 0;        // contoso's port and VLAN
  f.gateway->spec.vm_mac = *MacAddr::Parse("600160010399");
  PutTenant(f);
  EXPECT_EQ(All(),
            "store: tenants/fabrikam/spec.gateway.id: compartment id 0 of gateway gateway is already "
            "tenant contoso's\n"
            "store: tenants/fabrikam/spec.gateway.namespace: namespace hnv-contoso on gateway "
            "gateway is already tenant contoso's\n"
            "store: tenants/fabrikam/spec.gateway.external[0].vlan: port external VLAN 0 of gateway "
            "gateway is already tenant contoso's; a port and VLAN carry one external interface\n"
            "store: tenants/fabrikam/spec.gateway.vm_network.mac: 600160010399 is not the MAC of VM "
            "fabrikam-gw, the gateway CA: 600160010301\n"
            "store: tenants/fabrikam/spec.gateway.vm_network.vsid: 7001 is the subnet of the "
            "gateway 10.0.2.2 (tenants/fabrikam/spec.customer_routes[2]); the gateway is on its own "
            "VSID, shared only with the default gateway record (on host gateway)\n");
  f = Fabrikam();
  f.gateway->spec.external[0].port_name = "uplink";
  f.gateway->host = "host1";
  PutTenant(f);
  EXPECT_EQ(All(), "store: tenants/fabrikam/spec.gateway.host: host1 is not a gateway\n");
  // The gateway CA on another host than the gateway.
  f = Fabrikam();
  PutTenant(f);
  VmDoc gw = state_.vms.at("fabrikam").at("fabrikam-gw");
  gw.host = "host2";
  PutVm(gw);
  EXPECT_EQ(All(),
            "store: tenants/fabrikam/spec.gateway.vm_network.address: the gateway CA 10.0.2.2 is VM "
            "fabrikam-gw's, on host host2, not on gateway gateway\n");
}

TEST_F(ValidateStoreTest, AScopedCheckLooksOnlyAtWhatChanged) {
  // Break Contoso, then check a change of another tenant only.
  VmDoc v = Vm("Contoso1");
  v.host = "host9";
  PutVm(v);
  TenantDoc f = Fabrikam();
  PutTenant(f);
  ValidationScope scope;
  scope.all = false;
  scope.tenants = {"fabrikam"};
  EXPECT_EQ(test::Join(ValidateStore(state_, scope)), "");
  scope.tenants = {"contoso"};
  EXPECT_EQ(test::Join(ValidateStore(state_, scope)),
            "store: tenants/contoso/vms/Contoso1.host: host host9 is not in the store (hosts: "
            "gateway, host1, host2)\n");
  // A touched host touches the tenants whose VMs name it.
  scope.tenants = {};
  scope.hosts = {"host9"};  // a host removed from under Contoso1
  EXPECT_EQ(test::Join(ValidateStore(state_, scope)),
            "store: tenants/contoso/vms/Contoso1.host: host host9 is not in the store (hosts: "
            "gateway, host1, host2)\n");
  scope.hosts = {"host2"};
  EXPECT_EQ(test::Join(ValidateStore(state_, scope)),
            "store: tenants/contoso/vms/Contoso1.host: host host9 is not in the store (hosts: "
            "gateway, host1, host2)\n");
}

}  // namespace
}  // namespace hnv::store
