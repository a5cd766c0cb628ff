// hnvctl's port ACL cmdlets (config/hnvctl/acl_commands.cc): the request
// each Add-/Remove-/Get-VMNetworkAdapter(Extended)Acl sends, the views with
// meter counts, and the errors; the hnvctl binary against a recording server
// (hnvctl_fixture.h).
#include "tests/unit/config/hnvctl_fixture.h"

namespace hnv::config {
namespace {

TEST_F(HnvctlTest, AddAndRemoveVMNetworkAdapterAcl) {
  ExpectRequest({"Add-VMNetworkAdapterAcl", "-VMName", "Contoso1", "-RemoteIPAddress",
                 "10.0.1.0/24", "-Direction", "Inbound", "-Action", "Deny"},
                R"({"op":"new","args":{"kind":"port-acl","object":{
                    "vm_name":"Contoso1","remote_ip_address":"10.0.1.0/24",
                    "direction":"Inbound","action":"Deny"}}})");
  // Hyper-V's spellings: any case, an address for a /32, a MAC in dashes.
  ExpectRequest({"add-vmnetworkadapteracl", "-vmname", "Contoso1", "-RemoteIPAddress",
                 "10.0.1.103/32", "-Direction", "both", "-Action", "meter"},
                R"({"op":"new","args":{"kind":"port-acl","object":{
                    "vm_name":"Contoso1","remote_ip_address":"10.0.1.103",
                    "direction":"Both","action":"Meter"}}})");
  ExpectRequest({"Add-VMNetworkAdapterAcl -VMName Contoso2 -RemoteMacAddress 60-00-60-00-01-01 "
                 "-Direction Outbound -Action Allow"},
                R"({"op":"new","args":{"kind":"port-acl","object":{
                    "vm_name":"Contoso2","remote_mac_address":"600060000101",
                    "direction":"Outbound","action":"Allow"}}})");
  ExpectRequest({"Remove-VMNetworkAdapterAcl", "-VMName", "Contoso1", "-RemoteIPAddress", "ANY",
                 "-Direction", "Inbound", "-Action", "Deny"},
                R"({"op":"remove","args":{"kind":"port-acl","object":{
                    "vm_name":"Contoso1","remote_ip_address":"ANY",
                    "direction":"Inbound","action":"Deny"}}})");
}

TEST_F(HnvctlTest, AddAndRemoveVMNetworkAdapterExtendedAcl) {
  ExpectRequest({"Add-VMNetworkAdapterExtendedAcl", "-VMName", "Contoso1", "-Action", "Allow",
                 "-Direction", "Outbound", "-RemoteIPAddress", "10.0.1.103", "-RemotePort", "5001",
                 "-Protocol", "TCP", "-Weight", "100", "-Stateful", "$true",
                 "-IdleSessionTimeout", "60"},
                R"({"op":"new","args":{"kind":"port-extended-acl","object":{
                    "vm_name":"Contoso1","action":"Allow","direction":"Outbound",
                    "remote_ip_address":"10.0.1.103","remote_port":"5001","protocol":"TCP",
                    "weight":100,"stateful":true,"idle_session_timeout":60}}})");
  ExpectRequest({"Add-VMNetworkAdapterExtendedAcl", "-VMName", "Contoso3", "-Action", "deny",
                 "-Direction", "inbound", "-LocalPort", "1-1023", "-Protocol", "17", "-Weight",
                 "1"},
                R"({"op":"new","args":{"kind":"port-extended-acl","object":{
                    "vm_name":"Contoso3","action":"Deny","direction":"Inbound",
                    "local_port":"1-1023","protocol":"UDP","weight":1}}})");
  ExpectRequest({"Remove-VMNetworkAdapterExtendedAcl", "-VMName", "Contoso1", "-Direction",
                 "Outbound", "-Weight", "100"},
                R"({"op":"remove","args":{"kind":"port-extended-acl","object":{
                    "vm_name":"Contoso1","direction":"Outbound","weight":100}}})");
}

TEST_F(HnvctlTest, GetVMNetworkAdapterAclShowsRulesAndMeters) {
  Policy p = test::ChapterHost1();
  PortAcl deny;
  deny.vm_name = "Contoso1";
  deny.direction = AclDirection::kInbound;
  deny.action = AclAction::kDeny;
  deny.remote_ip.any = false;
  deny.remote_ip.prefix = *IpPrefix::Parse("10.0.1.0/24");
  PortAcl meter = deny;
  meter.direction = AclDirection::kBoth;
  meter.action = AclAction::kMeter;
  PortAcl other = deny;
  other.vm_name = "Contoso2";
  other.by_mac = true;
  other.remote_mac = *MacAddr::Parse("600060000101");
  p.port_acls = {deny, meter, other};
  handler_.SetPolicy(p, Kind::kPortAcl,
                     json::parse(R"([{}, {"metered_packets": 3, "metered_bytes": 2097252}])"));
  CtlRun r = Hnvctl({"Get-VMNetworkAdapterAcl", "-VMName", "Contoso1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "VMName: Contoso1\nDirection: Inbound\nAction: Deny\nRemoteIPAddress: 10.0.1.0/24\n"
            "\n"
            "VMName: Contoso1\nDirection: Both\nAction: Meter\nRemoteIPAddress: 10.0.1.0/24\n"
            "MeteredPackets: 3\nMeteredBytes: 2097252\nMeteredMegabytes: 2\n");
  EXPECT_EQ(OnlyRequest(), json::parse(R"({"op":"get","args":{"kind":"port-acl"}})"));
  r = Hnvctl({"Get-VMNetworkAdapterAcl Contoso2 | fl RemoteMacAddress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "RemoteMacAddress: 600060000101\n");
  OnlyRequest();

  PortExtendedAcl e;
  e.vm_name = "Contoso1";
  e.direction = AclDirection::kOutbound;
  e.weight = 100;
  e.protocol = kIpProtoTcp;
  e.remote_port = {5001, 5001};
  e.stateful = true;
  p.port_extended_acls = {e};
  handler_.SetPolicy(p);
  r = Hnvctl({"Get-VMNetworkAdapterExtendedAcl", "-VMName", "Contoso1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "VMName: Contoso1\nDirection: Outbound\nAction: Allow\nWeight: 100\n"
            "LocalIPAddress: ANY\nRemoteIPAddress: ANY\nLocalPort: ANY\nRemotePort: 5001\n"
            "Protocol: TCP\nStateful: True\nIdleSessionTimeout: 255\n");
  OnlyRequest();
}

TEST_F(HnvctlTest, AclCmdletErrors) {
  ExpectError({"Add-VMNetworkAdapterAcl", "-VMName", "Contoso1", "-Direction", "Inbound",
               "-Action", "Deny"},
              2, "hnvctl: Add-VMNetworkAdapterAcl: missing -RemoteIPAddress or -RemoteMacAddress");
  ExpectError({"Add-VMNetworkAdapterAcl", "-VMName", "Contoso1", "-RemoteIPAddress", "ANY",
               "-RemoteMacAddress", "600060000101", "-Direction", "Inbound", "-Action", "Deny"},
              2, "hnvctl: Add-VMNetworkAdapterAcl: give -RemoteIPAddress or -RemoteMacAddress, not both");
  ExpectError({"Add-VMNetworkAdapterAcl", "-VMName", "Contoso1", "-RemoteIPAddress", "ANY",
               "-Action", "Deny"},
              2, "hnvctl: Add-VMNetworkAdapterAcl: missing -Direction");
  ExpectError({"Add-VMNetworkAdapterAcl", "-VMName", "Contoso1", "-RemoteIPAddress",
               "10.0.1.0/33", "-Direction", "Inbound", "-Action", "Deny"},
              1,
              "hnvctl: Add-VMNetworkAdapterAcl: -RemoteIPAddress: \"10.0.1.0/33\" is not a prefix "
              "(such as 10.0.1.0/24, with its host bits clear)");
  ExpectError({"Add-VMNetworkAdapterAcl", "-VMName", "Contoso1", "-RemoteIPAddress", "ANY",
               "-Direction", "Sideways", "-Action", "Deny"},
              1,
              "hnvctl: Add-VMNetworkAdapterAcl: -Direction: \"Sideways\" is not a direction "
              "(Inbound, Outbound or Both)");
  ExpectError({"Add-VMNetworkAdapterExtendedAcl", "-VMName", "Contoso1", "-Action", "Allow",
               "-Direction", "Outbound", "-Weight", "1", "-Stateful", "maybe"},
              1,
              "hnvctl: Add-VMNetworkAdapterExtendedAcl: -Stateful: \"maybe\" is not true or false "
              "($true, $false)");
  ExpectError({"Add-VMNetworkAdapterExtendedAcl", "-VMName", "Contoso1", "-Action", "Allow",
               "-Direction", "Outbound"},
              2, "hnvctl: Add-VMNetworkAdapterExtendedAcl: missing -Weight");
  ExpectError({"New-VMNetworkAdapterAcl", "-VMName", "Contoso1"}, 2,
              "hnvctl: unknown command \"New-VMNetworkAdapterAcl\" (try hnvctl --help)");
  ExpectError({"Set-VMNetworkAdapterExtendedAcl", "-VMName", "Contoso1"}, 2,
              "hnvctl: unknown command \"Set-VMNetworkAdapterExtendedAcl\" (try hnvctl --help)");
  ExpectError({"Add-VMNetworkAdapter", "-VMName", "Contoso1"}, 2,
              "hnvctl: unknown command \"Add-VMNetworkAdapter\" (try hnvctl --help)");
}

}  // namespace
}  // namespace hnv::config
