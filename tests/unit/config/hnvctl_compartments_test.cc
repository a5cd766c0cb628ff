// hnvctl's gateway views (`compartments`, `compartment NAME`): the built
// binary (HNVCTL_PATH) against an in-process ControlServer that answers the
// "compartments" op with a canned hnv-gateway response; the request sent,
// the exact text printed, --json, and the error lines.
#include "tests/unit/config/hnvctl_fixture.h"

namespace hnv::config {
namespace {

using nlohmann::json;

// hnv-gateway's answer for the chapter's Contoso compartment.
const char* kContoso = R"({"compartments":[{"name":"contoso","id":0,"namespace":"hnv-contoso",
  "rdid":"{12345678-1000-2000-3000-123456780001}","file":"tenants/contoso.yaml",
  "interfaces":[{"name":"vmnet","role":"vm-network","ifindex":2,"mac":"60-01-60-01-03-01","vsid":6001,"port":"vm:64","vlan":0,"mtu":1458,"addresses":["10.0.2.2/24"]},
                {"name":"ext0","role":"external","ifindex":3,"mac":"60-01-60-01-03-02","port":"external","vlan":0,"mtu":1500,"addresses":["10.1.3.2/24"]}],
  "routes":[{"destination":"10.1.3.0/24","next_hop":"0.0.0.0","interface":"ext0","metric":0,"origin":"kernel","fast_path":"forward"},
            {"destination":"10.0.1.0/24","next_hop":"10.0.2.1","interface":"vmnet","metric":0,"origin":"hnv","fast_path":"forward"}],
  "neighbors":[{"ip":"10.1.3.100","mac":"02-00-00-00-00-01","interface":"ext0"}],
  "counters":{"rx_vm":{"packets":0,"bytes":0},"rx_external":{"packets":0,"bytes":0},"to_external":{"packets":0,"bytes":0},"to_vm":{"packets":0,"bytes":0},"injected":{"packets":0,"bytes":0},"punted":{"local":0},"dropped":{"no-neighbor":0}}}]})";

// hnv-gateway's answer to {"op":"vpn","args":{"name":"contoso"}}: one
// route-based connection up, one BGP neighbour, one learned prefix.
const char* kContosoVpn = R"({"tenant":"contoso",
  "charon":{"daemon":{"state":"running","pid":4242,"restarts":0},
    "connections":[{"name":"onprem","local":"10.1.3.2","peer":"10.1.3.100","mode":"route","state":"up",
      "rekeys":{"ike":0,"child":1},
      "ike_sas":[{"id":1,"state":"ESTABLISHED","local":"10.1.3.2:4500","remote":"10.1.3.100:4500",
        "local_id":"gw.contoso.example","remote_id":"onprem.example","initiator":true,
        "algorithms":{"encryption":"AES_GCM_16-256","prf":"PRF_HMAC_SHA2_384","dh_group":"ECP_384"},
        "established_seconds":12,"established_since":"2026-12-07T14:00:00Z","rekey_in_seconds":13000,
        "child_sas":[{"name":"onprem","state":"INSTALLED","mode":"TUNNEL","protocol":"ESP",
          "udp_encapsulation":true,"spi_in":"c1a2b3c4","spi_out":"d1e2f3a4",
          "algorithms":{"encryption":"AES_GCM_16-256"},"bytes_in":1000,"packets_in":10,
          "bytes_out":2000,"packets_out":20,"installed_since":"2026-12-07T14:00:01Z",
          "local_ts":["0.0.0.0/0"],"remote_ts":["0.0.0.0/0"]}]}]}]},
  "frr":{"daemons":{"zebra":{"state":"running"},"bgpd":{"state":"running"}},"asn":65001,
    "router_id":"10.0.2.2",
    "neighbors":[{"address":"10.255.0.2","remote_asn":65002,"connection":"onprem","state":"Established",
      "up_seconds":10,"prefixes_received":1,"prefixes_sent":2}],
    "routes":[{"prefix":"10.2.0.0/24","best":true,"valid":true,"from":"10.255.0.2","as_path":"65002",
      "next_hop":"10.255.0.2"}]},
  "routes":[{"destination":"10.2.0.0/24","next_hop":"10.255.0.2","interface":"#5","metric":20,
    "origin":"bgp","table":"main","fast_path":"punt"}]})";

class CompartmentsHandler : public RequestHandler {
 public:
  Response Handle(const Request& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(json{{"op", r.op}, {"args", r.args}});
    if (r.op == "vpn") {
      if (r.args.value("name", "") != "contoso") return Response::Error("no tenant \"x\"");
      return Response{true, json::parse(kContosoVpn), {}};
    }
    if (r.op != "compartments") return Response::Error("unknown operation \"" + r.op + "\"");
    if (!r.args.contains("name")) return Response{true, answer_, {}};
    const std::string name = r.args["name"].get<std::string>();
    json one = {{"compartments", json::array()}};
    for (const json& c : answer_["compartments"])
      if (c["name"] == name) one["compartments"].push_back(c);
    if (one["compartments"].empty()) return Response::Error("no compartment " + name);
    return Response{true, one, {}};
  }
  std::vector<json> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  void Answer(json answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answer_ = std::move(answer);
  }

 private:
  std::mutex mu_;
  json answer_ = json::parse(kContoso);
  std::vector<json> requests_;
};

using HnvctlCompartmentsTest = HnvctlFixture<CompartmentsHandler>;

TEST_F(HnvctlCompartmentsTest, CompartmentsIsOneLineEach) {
  const CtlRun r = Hnvctl({"compartments"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "NAME     ID  NAMESPACE    RDID                                    VSID  GATEWAY CA   "
            "EXTERNAL                             FORWARDED  PUNTED\n"
            "contoso  0   hnv-contoso  {12345678-1000-2000-3000-123456780001}  6001  10.0.2.2/24  "
            "ext0 (external, VLAN 0) 10.1.3.2/24          0       0\n");
  EXPECT_EQ(handler_.requests(),
            (std::vector<json>{json::parse(R"({"op":"compartments","args":{}})")}));
}

// hnv-gateway's answer carries the configured gateway CA: the list shows it,
// not the TAP's addresses (which include the kernel's IPv6 link-local one).
TEST_F(HnvctlCompartmentsTest, GatewayCaIsTheConfiguredOne) {
  json answer = json::parse(kContoso);
  answer["compartments"][0]["gateway_ca"] = "10.0.2.2/24";
  answer["compartments"][0]["interfaces"][0]["addresses"] =
      json::array({"fe80::6201:60ff:fe01:301/64", "10.0.2.2/24"});
  handler_.Answer(answer);
  const CtlRun r = Hnvctl({"compartments"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  6001  10.0.2.2/24  "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("fe80::"), std::string::npos) << r.out;
}

TEST_F(HnvctlCompartmentsTest, CompartmentShowsEverything) {
  const CtlRun r = Hnvctl({"compartment", "contoso"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(
      r.out,
      "Compartment contoso (id 0)\n"
      "  namespace  hnv-contoso\n"
      "  rdid       {12345678-1000-2000-3000-123456780001}\n"
      "  file       tenants/contoso.yaml\n"
      "\n"
      "Interfaces\n"
      "NAME   ROLE        IFINDEX  MAC                PORT      VLAN  VSID  MTU   ADDRESSES\n"
      "vmnet  vm-network  2        60-01-60-01-03-01  vm:64     0     6001  1458  10.0.2.2/24\n"
      "ext0   external    3        60-01-60-01-03-02  external  0     -     1500  10.1.3.2/24\n"
      "\n"
      "Routes\n"
      "DESTINATION  NEXT HOP  INTERFACE  METRIC  ORIGIN  FAST PATH\n"
      "10.1.3.0/24  0.0.0.0   ext0       0       kernel  forward\n"
      "10.0.1.0/24  10.0.2.1  vmnet      0       hnv     forward\n"
      "\n"
      "Neighbors\n"
      "IP          MAC                INTERFACE\n"
      "10.1.3.100  02-00-00-00-00-01  ext0\n"
      "\n"
      "Counters\n"
      "             PACKETS  BYTES\n"
      "rx_vm              0      0\n"
      "rx_external        0      0\n"
      "to_external        0      0\n"
      "to_vm              0      0\n"
      "injected           0      0\n"
      "punted: none\n"
      "dropped: none\n");
  EXPECT_EQ(handler_.requests(),
            (std::vector<json>{json::parse(R"({"op":"compartments","args":{"name":"contoso"}})")}));
}

// A newer server: what feeds the fast path, the services, and routes of
// another table (a TABLE column appears only then).
TEST_F(HnvctlCompartmentsTest, CompartmentShowsServicesAndTheFastPathRule) {
  json answer = json::parse(kContoso);
  json& c = answer["compartments"][0];
  c["fast_path"] = "main table; the kernel decides the prefixes of table 220 (rule 220 precedes main)";
  c["services"] = json::parse(R"j([
    {"name":"namespace","state":"running","summary":"/run/netns/hnv-contoso (created)","detail":{}},
    {"name":"charon","state":"failed","summary":"charon exited","detail":{},"error":"exit status 1"}])j");
  for (json& r : c["routes"]) r["table"] = "main";
  c["routes"].push_back({{"destination", "10.2.0.0/16"}, {"next_hop", "0.0.0.0"}, {"interface", "ext0"},
                         {"metric", 0}, {"origin", "static"}, {"table", "220"},
                         {"fast_path", "punt (table 220 precedes main)"}});
  handler_.Answer(answer);
  const CtlRun r = Hnvctl({"compartment", "contoso"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string head =
      "Compartment contoso (id 0)\n"
      "  namespace  hnv-contoso\n"
      "  rdid       {12345678-1000-2000-3000-123456780001}\n"
      "  file       tenants/contoso.yaml\n"
      "  fast path  main table; the kernel decides the prefixes of table 220 (rule 220 precedes main)\n"
      "\n"
      "Services\n"
      "SERVICE    STATE    SUMMARY\n"
      "namespace  running  /run/netns/hnv-contoso (created)\n"
      "charon     failed   charon exited (error: exit status 1)\n";
  EXPECT_EQ(r.out.substr(0, head.size()), head) << r.out;
  const std::string routes =
      "Routes\n"
      "DESTINATION  NEXT HOP  INTERFACE  METRIC  ORIGIN  TABLE  FAST PATH\n"
      "10.1.3.0/24  0.0.0.0   ext0       0       kernel  main   forward\n"
      "10.0.1.0/24  10.0.2.1  vmnet      0       hnv     main   forward\n"
      "10.2.0.0/16  0.0.0.0   ext0       0       static  220    punt (table 220 precedes main)\n";
  EXPECT_NE(r.out.find(routes), std::string::npos) << r.out;
}

TEST_F(HnvctlCompartmentsTest, TotalsAndNonZeroReasons) {
  json answer = json::parse(kContoso);
  json& counters = answer["compartments"][0]["counters"];
  counters["to_external"] = {{"packets", 7}, {"bytes", 700}};
  counters["to_vm"] = {{"packets", 5}, {"bytes", 500}};
  counters["punted"] = {{"local", 3}, {"arp", 0}, {"no-route", 2}};
  counters["dropped"] = {{"no-neighbor", 4}, {"ttl", 0}};
  handler_.Answer(answer);

  const CtlRun list = Hnvctl({"compartments"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("10.1.3.2/24         12       5\n"), std::string::npos) << list.out;

  const CtlRun one = Hnvctl({"compartment", "contoso"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  const std::string tail =
      "to_external        7    700\n"
      "to_vm              5    500\n"
      "injected           0      0\n"
      "punted:\n"
      "  local     3\n"
      "  no-route  2\n"
      "dropped:\n"
      "  no-neighbor  4\n";
  ASSERT_GE(one.out.size(), tail.size());
  EXPECT_EQ(one.out.substr(one.out.size() - tail.size()), tail) << one.out;
}

TEST_F(HnvctlCompartmentsTest, JsonPassesTheServersAnswerThrough) {
  const CtlRun all = Hnvctl({"--json", "compartments"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(json::parse(all.out), json::parse(kContoso));
  const CtlRun one = Hnvctl({"--json", "compartment", "contoso"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(json::parse(one.out), json::parse(kContoso));
}

TEST_F(HnvctlCompartmentsTest, Errors) {
  const CtlRun unknown = Hnvctl({"compartment", "fabrikam"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "hnvctl: no compartment fabrikam\n");
  EXPECT_EQ(unknown.out, "");

  const CtlRun no_name = Hnvctl({"compartment"});
  EXPECT_EQ(no_name.exit_code, 2);
  EXPECT_EQ(no_name.err, "hnvctl: compartment: usage: hnvctl compartment NAME\n");
  const CtlRun extra = Hnvctl({"compartments", "contoso"});
  EXPECT_EQ(extra.exit_code, 2);
  EXPECT_EQ(extra.err, "hnvctl: compartments: takes no arguments\n");
  EXPECT_EQ(handler_.requests().size(), 1u);  // the unknown name only

  handler_.Answer(json::parse(R"({"compartments":[]})"));
  const CtlRun none = Hnvctl({"compartments"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "no compartments\n");

  handler_.Answer(json("surprise"));
  const CtlRun odd = Hnvctl({"compartments"});
  EXPECT_EQ(odd.exit_code, 1);
  EXPECT_EQ(odd.err, "hnvctl: unexpected result from the server: \"surprise\"\n");
}

TEST_F(HnvctlCompartmentsTest, VpnShowsSasNeighborsAndRoutes) {
  const CtlRun r = Hnvctl({"vpn", "show", "contoso"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(handler_.requests(),
            (std::vector<json>{json::parse(R"({"op":"vpn","args":{"name":"contoso"}})")}));
  for (const char* line : {
           "VPN of tenant contoso\n",
           "charon: running (pid 4242, restarts 0)\n",
           "onprem  up  10.1.3.2 -> 10.1.3.100 (route-based), rekeys IKE 0, CHILD 1\n",
           "  IKE SA ESTABLISHED  10.1.3.2:4500 (gw.contoso.example) <-> 10.1.3.100:4500 "
           "(onprem.example)\n",
           "    AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384, established 2026-12-07T14:00:00Z, rekey "
           "in 13000 s\n",
           "    CHILD SA INSTALLED TUNNEL ESP-in-UDP, SPIs c1a2b3c4/d1e2f3a4, AES_GCM_16-256",
           "      in 1000 B / 10 packets, out 2000 B / 20 packets; 0.0.0.0/0 === 0.0.0.0/0\n",
           "BGP AS 65001, router id 10.0.2.2, zebra running, bgpd running\n",
           "10.255.0.2  65002  onprem      Established      10         1     2\n",
           "10.2.0.0/24  10.255.0.2  10.255.0.2  65002    yes\n",
           "10.2.0.0/24  10.255.0.2  #5         bgp     punt\n",
       })
    EXPECT_NE(r.out.find(line), std::string::npos) << "missing: " << line << "\nin:\n" << r.out;
  const CtlRun json_run = Hnvctl({"--json", "vpn", "show", "contoso"});
  EXPECT_EQ(json_run.exit_code, 0) << json_run.err;
  EXPECT_EQ(json::parse(json_run.out)["frr"]["asn"], 65001) << json_run.out;
}

TEST_F(HnvctlCompartmentsTest, VpnErrors) {
  CtlRun r = Hnvctl({"vpn", "contoso"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "hnvctl: vpn: usage: hnvctl vpn show TENANT\n");
  r = Hnvctl({"vpn", "show", "fabrikam"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no tenant"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hnv::config
