// Port ACLs in the host YAML (config/README.md, "Port ACLs"): an adapter's
// acls and extended_acls as Hyper-V's cmdlets take them, and the errors
// (file, line, field) of what they must not say.
#include <gtest/gtest.h>

#include "tests/unit/config/host_config_test_util.h"

namespace hnv::config {
namespace {

using namespace test_util;  // NOLINT: the shared helpers

// kBase with `acls` added to Contoso1's adapter (after its line 17).
std::string WithAcls(const std::string& acls) {
  return Replace(kBase, "    port: vm1\n", "    port: vm1\n" + acls);
}

TEST(HostConfigAcls, ReadAsTheCmdletsSayThem) {
  TempDir dir;
  const LoadResult r = LoadHostConfig(dir.Write(
      "h.yaml", WithAcls("    acls:\n"
                         "      - remote_ip_address: 10.0.1.0/24\n"
                         "        direction: Inbound\n"
                         "        action: Deny\n"
                         "      - remote_ip_address: 10.0.1.103\n"
                         "        direction: both\n"
                         "        action: Meter\n"
                         "      - remote_mac_address: 60-00-60-00-01-02\n"
                         "        direction: Outbound\n"
                         "        action: Allow\n"
                         "    extended_acls:\n"
                         "      - action: Allow\n"
                         "        direction: Outbound\n"
                         "        weight: 100\n"
                         "        protocol: TCP\n"
                         "        remote_ip_address: 10.0.1.0/24\n"
                         "        remote_port: 8000-8080\n"
                         "        local_port: ANY\n"
                         "        stateful: $true\n"
                         "        idle_session_timeout: 60\n"
                         "      - action: Deny\n"
                         "        direction: Inbound\n"
                         "        weight: 1\n")));
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  const Policy& p = r.config->policy;
  ASSERT_EQ(p.port_acls.size(), 3u);
  EXPECT_EQ(p.port_acls[0].vm_name, "Contoso1");
  EXPECT_EQ(p.port_acls[0].direction, AclDirection::kInbound);
  EXPECT_EQ(p.port_acls[0].action, AclAction::kDeny);
  EXPECT_EQ(p.port_acls[0].remote_ip.prefix, *IpPrefix::Parse("10.0.1.0/24"));
  EXPECT_EQ(p.port_acls[1].remote_ip.prefix, *IpPrefix::Parse("10.0.1.103/32"));
  EXPECT_EQ(p.port_acls[1].direction, AclDirection::kBoth);
  EXPECT_EQ(p.port_acls[1].action, AclAction::kMeter);
  EXPECT_TRUE(p.port_acls[2].by_mac);
  EXPECT_EQ(p.port_acls[2].remote_mac, *MacAddr::Parse("600060000102"));
  ASSERT_EQ(p.port_extended_acls.size(), 2u);
  const PortExtendedAcl& x = p.port_extended_acls[0];
  EXPECT_EQ(x.vm_name, "Contoso1");
  EXPECT_EQ(x.weight, 100u);
  EXPECT_EQ(x.protocol, 6);
  EXPECT_EQ(x.remote_port, (PortRange{8000, 8080}));
  EXPECT_TRUE(x.local_port.IsAny());
  EXPECT_TRUE(x.local_ip.any);
  EXPECT_TRUE(x.stateful);
  EXPECT_EQ(x.idle_session_timeout, 60u);
  EXPECT_FALSE(p.port_extended_acls[1].stateful);
  EXPECT_EQ(p.port_extended_acls[1].protocol, kAnyProtocol);
}

TEST(HostConfigAcls, ErrorsNameFileLineAndField) {
  // Lines: the adapter's acls start at line 18.
  EXPECT_EQ(Errors(WithAcls("    acls:\n"
                            "      - remote_ip_address: 10.0.1.1/24\n"      // 19
                            "        direction: Sideways\n"                 // 20
                            "        action: Deny\n"
                            "      - direction: Inbound\n"                  // 22
                            "        action: Allow\n")),
            (Lines{
                "DIR/h.yaml:19: vm_network_adapters[0].acls[0].remote_ip_address: 10.0.1.1/24 is "
                "not a prefix (such as 10.0.1.0/24, with its host bits clear)",
                "DIR/h.yaml:20: vm_network_adapters[0].acls[0].direction: Sideways is not a "
                "direction (Inbound, Outbound or Both)",
                "DIR/h.yaml:22: vm_network_adapters[0].acls[1].remote_ip_address: an ACL needs "
                "remote_ip_address (ANY, an address or a prefix) or remote_mac_address",
            }));
  // What parses but the policy's validation refuses (reported once the file parses).
  EXPECT_EQ(Errors(WithAcls("    acls:\n"
                            "      - remote_mac_address: 600060000102\n"    // 19
                            "        direction: Both\n"
                            "        action: Meter\n")),                    // 21
            (Lines{"DIR/h.yaml:21: vm_network_adapters[0].acls[0].action: a Meter ACL counts "
                   "traffic by remote IP address; give remote_ip_address instead of "
                   "remote_mac_address"}));
  EXPECT_EQ(Errors(WithAcls("    extended_acls:\n"
                            "      - action: Allow\n"                        // 19
                            "        direction: Outbound\n"
                            "        weight: 10\n"
                            "        remote_port: 80\n"                      // 22
                            "      - action: Deny\n"                         // 23
                            "        direction: Outbound\n"
                            "        weight: 10\n"                           // 25
                            "        stateful: true\n"                       // 26
                            "      - action: Allow\n"                        // 27
                            "        direction: Both\n"                      // 28
                            "        weight: 3\n")),
            (Lines{
                "DIR/h.yaml:22: vm_network_adapters[0].extended_acls[0].remote_port: ports need "
                "protocol TCP or UDP",
                "DIR/h.yaml:25: vm_network_adapters[0].extended_acls[1].weight: weight 10 is "
                "already used by vm_network_adapters[0].extended_acls[0] (line 19) (weights are "
                "unique per adapter and direction)",
                "DIR/h.yaml:26: vm_network_adapters[0].extended_acls[1].stateful: only an Allow "
                "rule can be stateful",
                "DIR/h.yaml:28: vm_network_adapters[0].extended_acls[2].direction: an extended "
                "ACL is Inbound or Outbound, not Both",
            }));
  EXPECT_EQ(Errors(WithAcls("    extended_acls:\n"
                            "      - action: Allow\n"
                            "        direction: Outbound\n"
                            "        weight: 10\n"
                            "        protocol: SCTP\n")),                   // 22
            (Lines{"DIR/h.yaml:22: vm_network_adapters[0].extended_acls[0].protocol: SCTP is not "
                   "a protocol (TCP, UDP, ICMP, ICMPv6, ANY or 0..255)"}));
}

}  // namespace
}  // namespace hnv::config
