// Port ACLs in the host YAML (config/README.md, "Port ACLs"): an adapter's
// acls and extended_acls as Hyper-V's cmdlets take them, and the errors
// (file, line, field) of what they must not say.
#include <gtest/gtest.h>

#include "config/journal_compact.h"
#include "config/policy/validate.h"
#include "config/policy_ops.h"
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

// hnvctl's Add-/Remove-VMNetworkAdapter(Extended)Acl as the daemon takes
// them (vswitch.cc HandleChange): ApplyChange, the YAML's validator, and a
// journal replayed (and compacted) over the files gives the same ACLs.
TEST(HostConfigAcls, ChangesAreValidatedAndReplayed) {
  TempDir dir;
  const LoadResult r = LoadHostConfig(dir.Write("h.yaml", WithAcls("")));
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  const Policy files = r.config->policy;
  using nlohmann::json;
  const Change deny{"new", Kind::kPortAcl,
                    json{{"vm_name", "Contoso1"}, {"remote_ip_address", "10.0.1.0/24"},
                         {"direction", "inbound"}, {"action", "Deny"}}};
  const Change web{"new", Kind::kPortExtendedAcl,
                   json{{"vm_name", "Contoso1"}, {"direction", "Outbound"}, {"action", "Allow"},
                        {"weight", 100}, {"protocol", "TCP"}, {"remote_port", "5001"},
                        {"stateful", "$true"}}};
  Policy p = files;
  ASSERT_EQ(ApplyChange(&p, deny), "");
  ASSERT_EQ(ApplyChange(&p, web), "");
  EXPECT_TRUE(ValidatePolicy(p).empty());
  ASSERT_EQ(p.port_acls.size(), 1u);
  EXPECT_EQ(p.port_acls[0].direction, AclDirection::kInbound);
  EXPECT_EQ(p.port_acls[0].remote_ip.prefix, *IpPrefix::Parse("10.0.1.0/24"));
  ASSERT_EQ(p.port_extended_acls.size(), 1u);
  EXPECT_TRUE(p.port_extended_acls[0].stateful);
  EXPECT_EQ(p.port_extended_acls[0].remote_port, (PortRange{5001, 5001}));
  // The same rule twice, and a rule the validator refuses.
  Policy again = p;
  EXPECT_EQ(ApplyChange(&again, deny),
            "port-acl vm_name, direction, action, remote_ip_address, remote_mac_address already "
            "exists (use set to change it)");
  Change same_weight = web;
  same_weight.object["remote_port"] = "5002";
  EXPECT_EQ(ApplyChange(&again, same_weight),
            "port-extended-acl vm_name, direction, weight already exists (use set to change it)");
  Change nobody = deny;
  nobody.object["vm_name"] = "Nobody";
  ASSERT_EQ(ApplyChange(&again, nobody), "");
  const auto errors = ValidatePolicy(again);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(),
            "port_acls[1].vm_name: \"Nobody\" is not the vm_name of a VM network adapter of "
            "this host");
  // Removes select by the fields given; a journal replays to the same ACLs.
  const Change remove{"remove", Kind::kPortExtendedAcl,
                      json{{"vm_name", "Contoso1"}, {"direction", "Outbound"}, {"weight", 100}}};
  std::vector<std::string> skipped;
  const Policy replayed = ReplayChanges(files, {deny, web, remove}, {}, &skipped)->ToPolicy();
  EXPECT_TRUE(skipped.empty());
  EXPECT_EQ(KindToJson(replayed, Kind::kPortAcl), KindToJson(p, Kind::kPortAcl));
  EXPECT_TRUE(replayed.port_extended_acls.empty());
  const auto compact = CompactChanges(files, p);
  ASSERT_TRUE(compact.has_value());
  ASSERT_EQ(compact->size(), 2u);
  const Policy from_compact = ReplayChanges(files, *compact, {}, &skipped)->ToPolicy();
  EXPECT_EQ(KindToJson(from_compact, Kind::kPortExtendedAcl),
            KindToJson(p, Kind::kPortExtendedAcl));
}

// Remove-VMNetworkAdapterAcl -Direction Inbound|Outbound on a Both rule, as
// Hyper-V does it: the rule stays for the other direction (kept once when
// that rule exists already); the journal replays to the same rules.
TEST(HostConfigAcls, RemovingOneDirectionOfABothRuleKeepsTheOther) {
  TempDir dir;
  const LoadResult r = LoadHostConfig(dir.Write("h.yaml", WithAcls("")));
  ASSERT_TRUE(r.errors.empty()) << Join(r.errors);
  const Policy files = r.config->policy;
  auto acl = [](const char* op, const char* prefix, const char* direction) {
    return Change{op, Kind::kPortAcl,
                  nlohmann::json{{"vm_name", "Contoso1"}, {"remote_ip_address", prefix},
                                 {"direction", direction}, {"action", "Deny"}}};
  };
  auto rules = [](const Policy& p, const char* prefix) {
    std::vector<AclDirection> out;
    for (const PortAcl& a : p.port_acls)
      if (a.remote_ip.prefix == *IpPrefix::Parse(prefix)) out.push_back(a.direction);
    return out;
  };
  using Dirs = std::vector<AclDirection>;
  const std::vector<Change> changes = {
      acl("new", "10.0.1.0/24", "Both"),        acl("new", "10.0.2.0/24", "Both"),
      acl("remove", "10.0.1.0/24", "inbound"),  // 2: Both -> Outbound
      acl("new", "10.0.3.0/24", "Outbound"),    acl("new", "10.0.3.0/24", "Both"),
      acl("remove", "10.0.3.0/24", "Inbound"),  // 5: Both -> Outbound, which exists: one left
  };
  Policy p = files;
  for (size_t i = 0; i < changes.size(); ++i) ASSERT_EQ(ApplyChange(&p, changes[i]), "") << i;
  EXPECT_EQ(rules(p, "10.0.1.0/24"), (Dirs{AclDirection::kOutbound}));
  EXPECT_EQ(rules(p, "10.0.2.0/24"), (Dirs{AclDirection::kBoth}));  // not named: untouched
  EXPECT_EQ(rules(p, "10.0.3.0/24"), (Dirs{AclDirection::kOutbound}));
  ASSERT_EQ(p.port_acls.size(), 3u);
  EXPECT_TRUE(ValidatePolicy(p).empty());
  std::vector<std::string> skipped;
  const Policy replayed = ReplayChanges(files, changes, {}, &skipped)->ToPolicy();
  EXPECT_TRUE(skipped.empty());
  EXPECT_EQ(KindToJson(replayed, Kind::kPortAcl), KindToJson(p, Kind::kPortAcl));
  // Nothing of 10.0.1.0/24 is inbound any more; Outbound removes the rest.
  Policy after = p;
  EXPECT_EQ(ApplyChange(&after, acl("remove", "10.0.1.0/24", "Inbound")), "no port-acl matches");
  ASSERT_EQ(ApplyChange(&after, acl("remove", "10.0.1.0/24", "Outbound")), "");
  EXPECT_TRUE(rules(after, "10.0.1.0/24").empty());
  // -Direction Both still removes a Both rule whole.
  ASSERT_EQ(ApplyChange(&after, acl("remove", "10.0.2.0/24", "Both")), "");
  EXPECT_TRUE(rules(after, "10.0.2.0/24").empty());
}

}  // namespace
}  // namespace hnv::config
