// The built hnvctl binary (HNVCTL_PATH) against an in-process ControlServer
// whose handler records every request and answers with the chapter's Host 1
// policy: the request each command form sends, what is printed, the error
// lines and the exit codes.
#include "tests/unit/config/hnvctl_fixture.h"

namespace hnv::config {
namespace {

TEST_F(HnvctlTest, NewCmdletsOfTheChapter) {
  ExpectRequest({"New-NetVirtualizationLookupRecord", "-CustomerAddress", "10.0.1.101",
                 "-VirtualSubnetID", "6000", "-MACAddress", "600060000101", "-ProviderAddress",
                 "192.168.0.22", "-Rule", "TranslationMethodEncap"},
                R"({"op":"new","args":{"kind":"lookup-record","object":{
                    "customer_address":"10.0.1.101","vsid":6000,"mac":"600060000101",
                    "provider_address":"192.168.0.22","rule":"TranslationMethodEncap"}}})");
  // Case-insensitive names, -Type, another MAC spelling, -Name:value.
  ExpectRequest({"new-netvirtualizationlookuprecord", "-customeraddress", "10.0.1.1",
                 "-VIRTUALSUBNETID:6000", "-MACAddress", "60-00-60-00-01-00", "-ProviderAddress",
                 "192.168.0.22", "-Type", "Static", "-Rule", "translationmethodencap"},
                R"({"op":"new","args":{"kind":"lookup-record","object":{
                    "customer_address":"10.0.1.1","vsid":6000,"mac":"600060000100",
                    "provider_address":"192.168.0.22","type":"Static",
                    "rule":"TranslationMethodEncap"}}})");
  // Quotes kept by the caller are removed.
  ExpectRequest({"New-NetVirtualizationCustomerRoute", "-RoutingDomainID",
                 "\"{12345678-1000-2000-3000-123456780001}\"", "-VirtualSubnetID", "6001",
                 "-DestinationPrefix", "0.0.0.0/0", "-NextHop", "10.0.2.2"},
                R"({"op":"new","args":{"kind":"customer-route","object":{
                    "rdid":"{12345678-1000-2000-3000-123456780001}","vsid":6001,
                    "destination":"0.0.0.0/0","next_hop":"10.0.2.2"}}})");
  ExpectRequest({"New-NetVirtualizationCustomerRoute", "-RoutingDomainID",
                 "{12345678-1000-2000-3000-123456780001}", "-VirtualSubnetID", "6000",
                 "-DestinationPrefix", "10.0.1.0/24", "-NextHop", "0.0.0.0", "-Metric", "0"},
                R"({"op":"new","args":{"kind":"customer-route","object":{
                    "rdid":"{12345678-1000-2000-3000-123456780001}","vsid":6000,
                    "destination":"10.0.1.0/24","next_hop":"0.0.0.0","metric":0}}})");
  ExpectRequest(
      {"New-NetVirtualizationProviderAddress", "-ProviderAddress", "192.168.0.22", "-MacAddress",
       "324455667788", "-InterfaceIndex", "0", "-PrefixLength", "24", "-VlanID", "5"},
      R"({"op":"new","args":{"kind":"provider-address","object":{
                    "address":"192.168.0.22","mac":"324455667788","port":0,
                    "prefix_length":24,"vlan":5}}})");
  ExpectRequest({"New-NetVirtualizationProviderRoute", "-DestinationPrefix", "192.168.64.0/18",
                 "-InterfaceIndex", "0", "-NextHop", "192.168.0.1"},
                R"({"op":"new","args":{"kind":"provider-route","object":{
                    "destination":"192.168.64.0/18","port":0,"next_hop":"192.168.0.1"}}})");
}

TEST_F(HnvctlTest, AWholeCmdletInOneArgument) {
  // As pasted from the chapter, quotes and all.
  ExpectRequest({"New-NetVirtualizationCustomerRoute -RoutingDomainID "
                 "\"{12345678-1000-2000-3000-123456780001}\" -VirtualSubnetID 6000 "
                 "-DestinationPrefix 10.0.1.0/24 -NextHop 0.0.0.0"},
                R"({"op":"new","args":{"kind":"customer-route","object":{
                    "rdid":"{12345678-1000-2000-3000-123456780001}","vsid":6000,
                    "destination":"10.0.1.0/24","next_hop":"0.0.0.0"}}})");
  // Lines joined by PowerShell's backtick.
  ExpectRequest({"Set-VMNetworkAdapter `\n  -VMName \"Contoso1\" `\n  -VirtualSubnetId 6000"},
                R"({"op":"set","args":{"kind":"vm-network-adapter","object":{
                    "vm_name":"Contoso1","vsid":6000}}})");
}

TEST_F(HnvctlTest, SetAndRemoveCmdlets) {
  ExpectRequest({"Set-VMNetworkAdapter", "-VMName", "Contoso1", "-VirtualSubnetId", "6000"},
                R"({"op":"set","args":{"kind":"vm-network-adapter","object":{
                    "vm_name":"Contoso1","vsid":6000}}})");
  ExpectRequest(
      {"Set-VMNetworkAdapter", "-VMName", "Contoso2", "-StaticMacAddress", "600060000102"},
      R"({"op":"set","args":{"kind":"vm-network-adapter","object":{
                    "vm_name":"Contoso2","mac":"600060000102"}}})");
  // The port security switches, as Hyper-V's cmdlet takes them.
  ExpectRequest({"Set-VMNetworkAdapter", "-VMName", "Contoso1", "-MacAddressSpoofing", "On",
                 "-DhcpGuard", "off", "-RouterGuard:Off"},
                R"({"op":"set","args":{"kind":"vm-network-adapter","object":{
                    "vm_name":"Contoso1","mac_address_spoofing":"On","dhcp_guard":"Off",
                    "router_guard":"Off"}}})");
  ExpectRequest({"Set-NetVirtualizationLookupRecord", "-CustomerAddress", "10.0.1.101",
                 "-VirtualSubnetID", "6000", "-ProviderAddress", "192.168.0.33"},
                R"({"op":"set","args":{"kind":"lookup-record","object":{
                    "customer_address":"10.0.1.101","vsid":6000,"provider_address":"192.168.0.33"}}})");
  ExpectRequest({"Remove-NetVirtualizationLookupRecord", "-CustomerAddress", "10.0.1.101",
                 "-VirtualSubnetID", "6000"},
                R"({"op":"remove","args":{"kind":"lookup-record","object":{
                    "customer_address":"10.0.1.101","vsid":6000}}})");
  ExpectRequest({"Remove-NetVirtualizationCustomerRoute", "-RoutingDomainID",
                 "{12345678-1000-2000-3000-123456780001}", "-DestinationPrefix", "0.0.0.0/0"},
                R"({"op":"remove","args":{"kind":"customer-route","object":{
                    "rdid":"{12345678-1000-2000-3000-123456780001}","destination":"0.0.0.0/0"}}})");
  ExpectRequest({"Remove-NetVirtualizationProviderAddress", "-ProviderAddress", "192.168.0.22"},
                R"({"op":"remove","args":{"kind":"provider-address","object":{
                    "address":"192.168.0.22"}}})");
  ExpectRequest({"Remove-NetVirtualizationProviderRoute", "-DestinationPrefix", "192.168.64.0/18"},
                R"({"op":"remove","args":{"kind":"provider-route","object":{
                    "destination":"192.168.64.0/18"}}})");
  ExpectRequest(
      {"Set-NetVirtualizationProviderAddress", "-ProviderAddress", "192.168.0.22", "-VlanID", "7"},
      R"({"op":"set","args":{"kind":"provider-address","object":{
                    "address":"192.168.0.22","vlan":7}}})");
}

TEST_F(HnvctlTest, ShortForms) {
  ExpectRequest(
      {"new", "lookup-record", "customer_address=10.0.1.101", "vsid=6000", "mac=60:00:60:00:01:01",
       "provider_address=192.168.0.22", "rule=encap", "vm_name=Contoso1"},
      R"({"op":"new","args":{"kind":"lookup-record","object":{
                    "customer_address":"10.0.1.101","vsid":6000,"mac":"600060000101",
                    "provider_address":"192.168.0.22","rule":"TranslationMethodEncap",
                    "vm_name":"Contoso1"}}})");
  ExpectRequest({"set", "vm-network-adapter", "vm_name=Contoso1", "vsid=6001"},
                R"({"op":"set","args":{"kind":"vm-network-adapter","object":{
                    "vm_name":"Contoso1","vsid":6001}}})");
  ExpectRequest({"remove", "provider-route", "destination=192.168.64.0/18"},
                R"({"op":"remove","args":{"kind":"provider-route","object":{
                    "destination":"192.168.64.0/18"}}})");
  // A port by name stays a name; the server resolves it.
  ExpectRequest({"new", "provider-address", "address=192.168.0.22", "prefix_length=24",
                 "port=uplink", "mac=32-44-55-66-77-88"},
                R"({"op":"new","args":{"kind":"provider-address","object":{
                    "address":"192.168.0.22","prefix_length":24,"port":"uplink",
                    "mac":"324455667788"}}})");
  ExpectRequest({"new", "virtual-subnet", "vsid=6002", "rdid=12345678-1000-2000-3000-123456780001",
                 "prefixes=10.0.3.0/24"},
                R"({"op":"new","args":{"kind":"virtual-subnet","object":{
                    "vsid":6002,"rdid":"{12345678-1000-2000-3000-123456780001}",
                    "prefixes":["10.0.3.0/24"]}}})");
  ExpectRequest(
      {"new", "routing-domain", "rdid={12345678-1000-2000-3000-123456780009}", "name=Woodgrove"},
      R"({"op":"new","args":{"kind":"routing-domain","object":{
                    "rdid":"{12345678-1000-2000-3000-123456780009}","name":"Woodgrove"}}})");
  for (Kind kind : kAllKinds) {
    CtlRun r = Hnvctl({"get", KindName(kind)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(OnlyRequest(), json({{"op", "get"}, {"args", {{"kind", KindName(kind)}}}}));
  }
  ExpectRequest({"apply"}, R"({"op":"apply","args":{}})");
  ExpectRequest({"counters"}, R"({"op":"counters","args":{}})");
  ExpectRequest({"version"}, R"({"op":"version","args":{}})");
}

TEST_F(HnvctlTest, GetLookupRecordPrintsTheChaptersView) {
  CtlRun r = Hnvctl({"Get-NetVirtualizationLookupRecord"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(OnlyRequest(), json::parse(R"({"op":"get","args":{"kind":"lookup-record"}})"));
  EXPECT_EQ(r.out, DumpLookupRecords(test::ChapterHost1()));
  // The chapter's first block, verbatim.
  EXPECT_EQ(r.out.substr(0, r.out.find("\n\n") + 1),
            "CustomerAddress: 10.0.1.1\n"
            "VirtualSubnetID: 6000\n"
            "MACAddress: 600060000100\n"
            "ProviderAddress: 192.168.0.22\n"
            "CustomerID: {00000000-0000-0000-0000-000000000000}\n"
            "Context:\n"
            "Rule: TranslationMethodEncap\n"
            "VMName:\n"
            "UseVmMACAddress: False\n"
            "Type: Static\n");
}

TEST_F(HnvctlTest, GetViewsOfEveryCmdlet) {
  const Policy p = test::ChapterHost1();
  struct Case {
    const char* cmdlet;
    std::string expected;
  };
  const Case cases[] = {
      {"Get-NetVirtualizationCustomerRoute", DumpCustomerRoutes(p)},
      {"Get-NetVirtualizationProviderAddress", DumpProviderAddresses(p)},
      {"Get-NetVirtualizationProviderRoute", DumpProviderRoutes(p)},
      {"Get-VMNetworkAdapter", DumpVmNetworkAdapters(p)},
      {"Get-VMNetworkAdapter * | fl *", DumpVmNetworkAdapters(p)},
      // Format-List's property list selects the lines, in the view's order.
      {"get-vmnetworkadapter Contoso2 | fl RouterGuard, vmname,DhcpGuard",
       "VMName: Contoso2\nDhcpGuard: On\nRouterGuard: On\n"},
      {"Get-VMNetworkAdapter -VMName Contoso1 | Format-List -Property MacAddressSpoofing",
       "MacAddressSpoofing: Off\n"},
  };
  for (const Case& c : cases) {
    CtlRun r = Hnvctl({c.cmdlet});
    ASSERT_EQ(r.exit_code, 0) << c.cmdlet << ": " << r.err;
    EXPECT_EQ(r.out, c.expected) << c.cmdlet;
    OnlyRequest();
  }
  EXPECT_EQ(DumpCustomerRoutes(p).rfind("RoutingDomainID: {12345678-1000-2000-3000-123456780001}\n"
                                        "VirtualSubnetID: 6000\n"
                                        "DestinationPrefix: 10.0.1.0/24\n"
                                        "NextHop: 0.0.0.0\n"
                                        "Metric: 0\n"
                                        "\n"
                                        "RoutingDomainID: {1234",
                                        0),
            0u);
  // Separate words, as a shell passes them when quoted one by one.
  CtlRun r = Hnvctl(
      {"Get-VMNetworkAdapter", "*", "|", "fl", "VMName,MacAddress,VirtualSubnetId,SwitchName"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(OnlyRequest(), json::parse(R"({"op":"get","args":{"kind":"vm-network-adapter"}})"));
  EXPECT_EQ(r.out,
            "VMName: Contoso1\n"
            "MacAddress: 600060000101\n"
            "VirtualSubnetId: 6000\n"
            "SwitchName: HNVSwitch\n"
            "\n"
            "VMName: Contoso2\n"
            "MacAddress: 600060000102\n"
            "VirtualSubnetId: 6000\n"
            "SwitchName: HNVSwitch\n");
}

TEST_F(HnvctlTest, GetFiltersWhatComesBack) {
  CtlRun r = Hnvctl({"Get-NetVirtualizationLookupRecord", "-CustomerAddress", "10.0.1.101"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The protocol's get has no filter: the whole kind is asked for.
  EXPECT_EQ(OnlyRequest(), json::parse(R"({"op":"get","args":{"kind":"lookup-record"}})"));
  Policy only;
  for (const LookupRecord& rec : test::ChapterHost1().records) {
    if (rec.ca == test::Ip("10.0.1.101")) only.records.push_back(rec);
  }
  ASSERT_EQ(only.records.size(), 1u);
  EXPECT_EQ(r.out, DumpLookupRecords(only));

  r = Hnvctl({"Get-NetVirtualizationLookupRecord", "-VirtualSubnetID", "6001", "-MACAddress",
              "60-01-60-01-03-01"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("CustomerAddress: 10.0.2.2\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\n\n"), std::string::npos) << r.out;  // one block
  OnlyRequest();

  r = Hnvctl({"Get-VMNetworkAdapter", "Contoso2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("VMName: Contoso2\n", 0), 0u) << r.out;
  EXPECT_EQ(r.out.find("Contoso1"), std::string::npos);
  OnlyRequest();

  r = Hnvctl({"get", "vm-network-adapter", "vm_name=Contoso*"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, DumpVmNetworkAdapters(test::ChapterHost1()));
  OnlyRequest();

  r = Hnvctl({"Get-NetVirtualizationLookupRecord", "-CustomerAddress", "10.9.9.9"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  OnlyRequest();
}

TEST_F(HnvctlTest, JsonOutputIsTheServersResult) {
  CtlRun r = Hnvctl({"--json", "get", "lookup-record"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), KindToJson(test::ChapterHost1(), Kind::kLookupRecord));
  OnlyRequest();
  r = Hnvctl({"--json", "Get-NetVirtualizationLookupRecord", "-CustomerAddress", "10.0.1.102"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["mac"], "600060000102");
  OnlyRequest();
  r = Hnvctl({"--json", "counters"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["encapsulated"], 7);
  OnlyRequest();
}

TEST_F(HnvctlTest, ShowPrintsEveryView) {
  CtlRun r = Hnvctl({"show"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, DumpPolicy(test::ChapterHost1()));
  EXPECT_EQ(RequestCount(), 5u);
}

TEST_F(HnvctlTest, NewPrintsTheStoredObject) {
  CtlRun r = Hnvctl({"new", "lookup-record", "customer_address=10.0.1.104", "vsid=6000",
                     "mac=600060000104", "provider_address=192.168.0.33"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("CustomerAddress: 10.0.1.104\nVirtualSubnetID: 6000\n", 0), 0u) << r.out;
  OnlyRequest();
  // A partial echo (set) prints nothing rather than invented defaults.
  r = Hnvctl({"Set-VMNetworkAdapter", "-VMName", "Contoso1", "-VirtualSubnetId", "6000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  OnlyRequest();
}

TEST_F(HnvctlTest, CountersTable) {
  CtlRun r = Hnvctl({"counters"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "PORT   NAME    RX PACKETS  RX BYTES  TX PACKETS  TX BYTES\n"
            "0      uplink          10      1000          12      1500\n"
            "1      vm1              5       500           3       300\n"
            "total                  15      1500          15      1800\n"
            "\n"
            "DROP REASON       PACKETS\n"
            "no-lookup-record        2\n"
            "vsid-mismatch           1\n"
            "total                   3\n"
            "\n"
            "encapsulated  7\n"
            "routed        0\n");
}

TEST_F(HnvctlTest, VersionApplyCapture) {
  CtlRun r = Hnvctl({"version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hnvctl protocol 1\nserver hnv-vswitch 0.1 protocol 1\n");
  r = Hnvctl({"apply"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "applied /etc/hnv/host1.yaml, /etc/hnv/contoso.yaml\nlookup_records: 7\n");

  char cwd[PATH_MAX];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  seen_ = RequestCount();
  r = Hnvctl({"capture", "uplink", "out.pcap", "--count", "5", "--seconds", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(OnlyRequest(), json({{"op", "capture"},
                                 {"args",
                                  {{"port", "uplink"},
                                   {"file", std::string(cwd) + "/out.pcap"},
                                   {"count", 5},
                                   {"seconds", 2}}}}));
  EXPECT_EQ(r.out, "captured 3 packets to " + std::string(cwd) + "/out.pcap\n");
  r = Hnvctl({"capture", "0", "/tmp/x.pcap", "--seconds=0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      OnlyRequest(),
      json::parse(R"({"op":"capture","args":{"port":0,"file":"/tmp/x.pcap","seconds":0.5}})"));
}

TEST_F(HnvctlTest, CaptureAsksForItsStatusUntilItEnds) {
  seen_ = RequestCount();
  CtlRun r = Hnvctl({"capture", "slow", "/tmp/s.pcap", "--seconds", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "captured 4 packets to /tmp/s.pcap\n");
  EXPECT_EQ(RequestCount() - seen_, 4u) << "capture, then capture-status until it is done";
  seen_ = RequestCount();
  r = Hnvctl({"capture", "slow", "/tmp/s.pcap", "--background"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "capture 7 running: 0 packets to /tmp/s.pcap so far (hnvctl capture --status|--stop 7)\n");
  EXPECT_EQ(RequestCount() - seen_, 1u);
  seen_ = RequestCount();
  r = Hnvctl({"capture", "--stop", "7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(OnlyRequest(), json::parse(R"({"op":"capture-stop","args":{"id":7}})"));
  EXPECT_EQ(r.out, "captured 4 packets to the file\n");
  ExpectError({"capture", "--status", "seven"}, 1, "hnvctl: capture: --status: \"seven\" is not a capture id");
}

TEST_F(HnvctlTest, TraceWithHexAndWithADescription) {
  CtlRun r = Hnvctl({"trace", "1", "60:00:60:00:01:00 60:00:60:00:01:01 08:06"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(OnlyRequest(), json::parse(R"({"op":"trace","args":{"port":1,
                                            "frame":"6000600001006000600001010806"}})"));
  EXPECT_EQ(r.out,
            "1. vm-ingress: VSID 6000\n"
            "2. router: to 10.0.2.2 on VSID 6001\n"
            "-> port 0: NVGRE to 192.168.0.11\n"
            "   frame 0011\n");

  struct Case {
    const char* description;
    std::vector<uint8_t> expected;
  };
  using test::Ip;
  using test::Mac;
  const MacAddr c1 = Mac("600060000101");
  const MacAddr gw = Mac("600060000100");
  const Case cases[] = {
      {"eth src=600060000101 dst=600060000100 / ipv4 src=10.0.1.101 dst=10.0.2.2 / icmp "
       "id=0x1234 seq=1",
       test::PacketBuilder().Eth(gw, c1).Ipv4(Ip("10.0.1.101"), Ip("10.0.2.2")).Icmp().Build()},
      {"eth src=60-00-60-00-01-01 / arp spa=10.0.1.101 tpa=10.0.1.1",
       test::PacketBuilder()
           .Eth(MacAddr::Broadcast(), c1)
           .Arp(kArpRequest, c1, Ip("10.0.1.101"), MacAddr{}, Ip("10.0.1.1"))
           .Build()},
      {"eth src=600060000101 dst=600060000100 / vlan id=5 / ipv4 src=10.0.1.101 dst=10.0.1.102 "
       "ttl=3 df=1 / udp sport=5000 dport=53 / payload len=20",
       test::PacketBuilder()
           .Eth(gw, c1)
           .Vlan(5)
           .Ipv4(Ip("10.0.1.101"), Ip("10.0.1.102"))
           .Ttl(3)
           .DontFragment()
           .Udp(5000, 53)
           .Payload(20)
           .Build()},
      {"eth src=700070000101 dst=700070000100 / ipv6 src=fd00:1::101 dst=fd00:2::2 / tcp "
       "sport=40000 dport=80 flags=S seq=1000 mss=1460",
       test::PacketBuilder()
           .Eth(Mac("700070000100"), Mac("700070000101"))
           .Ipv6(Ip("fd00:1::101"), Ip("fd00:2::2"))
           .Tcp(40000, 80, kTcpSyn, 1460)
           .Build()},
      {"eth src=700070000101 dst=700070000100 / ipv6 src=fd00:1::101 dst=fd00:1::102 / icmp6 "
       "id=0x1234 seq=1 / payload hex=0a0b0c",
       test::PacketBuilder()
           .Eth(Mac("700070000100"), Mac("700070000101"))
           .Ipv6(Ip("fd00:1::101"), Ip("fd00:1::102"))
           .Icmp6()
           .Payload({0x0a, 0x0b, 0x0c})
           .Build()},
      {"eth src=445566778899 dst=324455667788 / ipv4 src=192.168.0.33 dst=192.168.0.22 / nvgre "
       "vsid=6000 flowid=7 / eth src=600060000203 dst=600060000101 / ipv4 src=10.0.1.103 "
       "dst=10.0.1.101 / icmp id=0x1234 seq=1",
       test::PacketBuilder()
           .Eth(Mac("324455667788"), Mac("445566778899"))
           .Ipv4(Ip("192.168.0.33"), Ip("192.168.0.22"))
           .Nvgre(6000, 7)
           .Eth(c1, Mac("600060000203"))
           .Ipv4(Ip("10.0.1.103"), Ip("10.0.1.101"))
           .Icmp()
           .Build()},
  };
  for (const Case& c : cases) {
    r = Hnvctl({"trace", "Contoso1", "--describe", c.description});
    ASSERT_EQ(r.exit_code, 0) << c.description << ": " << r.err;
    const json req = OnlyRequest();
    EXPECT_EQ(req["args"]["port"], "Contoso1");
    std::vector<uint8_t> frame;
    const std::string hex = req["args"]["frame"].get<std::string>();
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      frame.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    EXPECT_EQ(frame, c.expected) << c.description << "\n" << test::FrameDiff(c.expected, frame);
    EXPECT_EQ(test::ChecksumErrors(frame), "") << c.description;
  }
  // A neighbour solicitation: checksums right, the option carries the eth source.
  r = Hnvctl({"trace", "2", "--describe",
              "eth src=700070000101 dst=333300000001 / ipv6 src=fd00:1::101 dst=ff02::1:ff00:1 "
              "hlim=255 / icmp6 type=ns target=fd00:1::1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string hex = OnlyRequest()["args"]["frame"].get<std::string>();
  std::vector<uint8_t> frame;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    frame.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  EXPECT_EQ(frame.size(), 14u + 40 + 24 + 8);
  EXPECT_EQ(test::ChecksumErrors(frame), "");
  EXPECT_EQ(hex.substr(hex.size() - 16), "0101700070000101");
}

TEST_F(HnvctlTest, BadValuesAreOneLineAndExit1) {
  ExpectError(
      {"New-NetVirtualizationLookupRecord", "-CustomerAddress", "10.0.1.101", "-VirtualSubnetID",
       "abc", "-MACAddress", "600060000101", "-ProviderAddress", "192.168.0.22", "-Rule",
       "TranslationMethodEncap"},
      1, "hnvctl: New-NetVirtualizationLookupRecord: -VirtualSubnetID: \"abc\" is not a number");
  ExpectError(
      {"new-netvirtualizationlookuprecord", "-macaddress", "60006000010"}, 1,
      "hnvctl: New-NetVirtualizationLookupRecord: -MACAddress: \"60006000010\" is not a MAC "
      "address (600060000101, 60-00-60-00-01-01 or 60:00:60:00:01:01)");
  ExpectError(
      {"New-NetVirtualizationProviderAddress", "-ProviderAddress", "192.168.0.22",
       "-InterfaceIndex", "eth0", "-PrefixLength", "24"},
      1, "hnvctl: New-NetVirtualizationProviderAddress: -InterfaceIndex: \"eth0\" is not a number");
  ExpectError({"Set-VMNetworkAdapter", "-VMName", "Contoso1", "-DhcpGuard", "Maybe"}, 1,
              "hnvctl: Set-VMNetworkAdapter: -DhcpGuard: \"Maybe\" is not On or Off");
  ExpectError(
      {"Set-VMNetworkAdapter", "-VMName", "Contoso1", "-VirtualSubnetId", "70000000"}, 1,
      "hnvctl: Set-VMNetworkAdapter: -VirtualSubnetId: \"70000000\" is outside 4096..16777214");
  ExpectError(
      {"New-NetVirtualizationCustomerRoute", "-RoutingDomainID", "{1234}", "-VirtualSubnetID",
       "6000", "-DestinationPrefix", "10.0.1.0/24", "-NextHop", "0.0.0.0"},
      1,
      "hnvctl: New-NetVirtualizationCustomerRoute: -RoutingDomainID: \"{1234}\" is not a "
      "GUID (like {12345678-1000-2000-3000-123456780001})");
  ExpectError({"new", "lookup-record", "vsid=abc"}, 1,
              "hnvctl: new lookup-record: vsid: \"abc\" is not a number");
  ExpectError(
      {"new", "customer-route", "destination=10.0.1.1/24"}, 1,
      "hnvctl: new customer-route: destination: \"10.0.1.1/24\" has host bits set (10.0.1.0/24?)");
  ExpectError({"trace", "1", "--describe", "eth / ipv4 src=10.0.1 dst=10.0.1.2"}, 1,
              "hnvctl: trace: --describe: ipv4: src: \"10.0.1\" is not an IPv4 address");
  ExpectError({"trace", "1", "--describe", "eth / udp sport=1 dport=2"}, 1,
              "hnvctl: trace: --describe: udp: goes after ipv4 or ipv6");
  ExpectError({"trace", "1", "--describe", "eth / ipv4 src=10.0.0.1 dst=10.0.0.2 ttl=300"}, 1,
              "hnvctl: trace: --describe: ipv4: ttl: \"300\" is outside 0..255");
  ExpectError({"trace", "1", "--describe", "eth / ipv4 src=10.0.0.1 dst=10.0.0.2 / gre"}, 1,
              "hnvctl: trace: --describe: unknown layer \"gre\" (eth, vlan, arp, ipv4, ipv6, icmp, "
              "icmp6, udp, tcp, nvgre, payload)");
  ExpectError({"trace", "1", "0x12345"}, 1, "hnvctl: trace: \"0x12345\" is not a frame in hex");
  ExpectError({"capture", "0", "x.pcap", "--count", "many"}, 1,
              "hnvctl: capture: --count: \"many\" is not a number");
}

TEST_F(HnvctlTest, UsageErrorsExit2) {
  ExpectError({"New-NetVirtualizationLookupRecord", "-CustomerAddress", "10.0.1.101",
               "-VirtualSubnetID", "6000", "-ProviderAddress", "192.168.0.22"},
              2, "hnvctl: New-NetVirtualizationLookupRecord: missing -MACAddress");
  ExpectError({"New-NetVirtualizationLookupRecord", "-CustomerAddres", "10.0.1.101"}, 2,
              "hnvctl: New-NetVirtualizationLookupRecord: unknown parameter -CustomerAddres "
              "(-CustomerAddress, -VirtualSubnetID, -MACAddress, -ProviderAddress, -Rule, -Type, "
              "-VMName)");
  ExpectError({"New-NetVirtualizationLookupRecord", "-CustomerAddress"}, 2,
              "hnvctl: New-NetVirtualizationLookupRecord: -CustomerAddress needs a value");
  ExpectError(
      {"New-NetVirtualizationLookupRecord", "-VirtualSubnetID", "6000", "-VirtualSubnetId", "6001"},
      2, "hnvctl: New-NetVirtualizationLookupRecord: -VirtualSubnetID given twice");
  ExpectError({"New-NetVirtualizationLookupRecord", "10.0.1.101"}, 2,
              "hnvctl: New-NetVirtualizationLookupRecord: unexpected argument \"10.0.1.101\"");
  ExpectError(
      {"Remove-NetVirtualizationLookupRecord"}, 2,
      "hnvctl: Remove-NetVirtualizationLookupRecord: give at least one of -CustomerAddress, "
      "-VirtualSubnetID, -MACAddress, -ProviderAddress, -Rule, -Type, -VMName to select what "
      "to remove");
  ExpectError({"Set-VMNetworkAdapter", "-VirtualSubnetId", "6000"}, 2,
              "hnvctl: Set-VMNetworkAdapter: missing -VMName");
  ExpectError({"New-VMNetworkAdapter", "-VMName", "x"}, 2,
              "hnvctl: unknown command \"New-VMNetworkAdapter\" (try hnvctl --help)");
  ExpectError({"frobnicate"}, 2, "hnvctl: unknown command \"frobnicate\" (try hnvctl --help)");
  ExpectError({}, 2, "hnvctl: no command (try hnvctl --help)");
  ExpectError({"get"}, 2,
              "hnvctl: get: which kind? (lookup-record, customer-route, provider-address, "
              "provider-route, vm-network-adapter, routing-domain, virtual-subnet, port-acl, "
              "port-extended-acl)");
  ExpectError(
      {"get", "lookup-records"}, 2,
      "hnvctl: get: unknown kind \"lookup-records\" (lookup-record, customer-route, "
      "provider-address, provider-route, vm-network-adapter, routing-domain, virtual-subnet, "
      "port-acl, port-extended-acl)");
  ExpectError({"new", "lookup-record", "macc=600060000101"}, 2,
              "hnvctl: new lookup-record: unknown field \"macc\" (lookup-record fields: "
              "customer_address, vsid, mac, provider_address, rule, type, vm_name)");
  ExpectError({"new", "lookup-record", "vsid", "6000"}, 2,
              "hnvctl: new lookup-record: \"vsid\" is not field=value (fields: customer_address, "
              "vsid, mac, provider_address, rule, type, vm_name)");
  ExpectError({"new", "routing-domain", "name=x"}, 2,
              "hnvctl: new routing-domain: rdid: missing (a routing-domain needs rdid)");
  ExpectError({"remove", "lookup-record"}, 2,
              "hnvctl: remove lookup-record: give the fields that select the object "
              "(customer_address, vsid, mac, provider_address, rule, type, vm_name)");
  ExpectError({"--frob", "version"}, 2, "hnvctl: unknown option --frob (try hnvctl --help)");
  ExpectError({"--socket"}, 2, "hnvctl: --socket needs a path");
  ExpectError({"version", "now"}, 2, "hnvctl: version: takes no arguments");
  ExpectError({"trace", "1"}, 2,
              "hnvctl: trace: usage: hnvctl trace PORT FRAME-HEX | hnvctl trace PORT --describe "
              "'eth ... / ...'");
}

TEST_F(HnvctlTest, ServerErrorsAreShownAsGiven) {
  handler_.FailWith(
      "new lookup-record refused: records[7].customer_address: 10.0.1.101 is already used");
  CtlRun r = Hnvctl({"new", "lookup-record", "customer_address=10.0.1.101", "vsid=6000",
                     "mac=600060000109", "provider_address=192.168.0.22"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "hnvctl: new lookup-record refused: records[7].customer_address: 10.0.1.101 is "
            "already used\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(HnvctlTest, NoServer) {
  const std::string missing = dir_ + "/nothing.sock";
  CtlRun r = Hnvctl({"version"}, missing);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "hnvctl: cannot connect to " + missing +
                       ": No such file or directory (is hnv-vswitch running?)\n");
  // --socket wins over HNV_SOCKET.
  r = Hnvctl({"--socket", socket_, "version"}, missing);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Hnvctl({"--socket=" + missing, "version"});
  EXPECT_EQ(r.exit_code, 1);
  // The default when HNV_SOCKET is empty.
  r = Hnvctl({"--timeout", "100", "version"}, std::string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("hnvctl: cannot connect to /run/hnv/vswitch.sock: ", 0), 0u) << r.err;
}

TEST_F(HnvctlTest, HelpGoesToStdout) {
  CtlRun r = Hnvctl({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("New-|Get-|Set-|Remove-NetVirtualizationLookupRecord"), std::string::npos);
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace hnv::config
