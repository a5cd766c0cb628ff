// Port ACLs (Add-VMNetworkAdapterAcl / -ExtendedAcl: policy/port_acl.h,
// pipeline/port_acl.h), exact frames through the whole pipeline of Host 1
// (Contoso1 on port 1, Contoso2 on port 2, Contoso3 behind Host 2's PA):
// the most specific rule wins and Deny beats Allow at equal length, MAC
// rules before IP rules, meters count packets and bytes, extended rules by
// weight, stateful sessions admit replies (switched and decapsulated) and
// nothing unsolicited, until idle.
#include <gtest/gtest.h>

#include <functional>

#include "dataplane/pipeline/nvgre_encap.h"
#include "tests/unit/pipeline/pipeline_test_util.h"

namespace hnv::test::pipe {
namespace {

constexpr auto kIn = AclDirection::kInbound;
constexpr auto kOut = AclDirection::kOutbound;
constexpr auto kBoth = AclDirection::kBoth;
constexpr auto kAllow = AclAction::kAllow;
constexpr auto kDeny = AclAction::kDeny;
constexpr uint8_t kTcpAck = 0x10;

PortAcl IpAcl(const std::string& vm, AclDirection d, AclAction a, const std::string& prefix) {
  PortAcl x;
  x.vm_name = vm;
  x.direction = d;
  x.action = a;
  if (prefix != "ANY") {
    x.remote_ip.any = false;
    x.remote_ip.prefix = *IpPrefix::Parse(prefix);
  }
  return x;
}

PortAcl MacAcl(const std::string& vm, AclDirection d, AclAction a, const MacAddr& mac) {
  PortAcl x;
  x.vm_name = vm;
  x.direction = d;
  x.action = a;
  x.by_mac = true;
  x.remote_mac = mac;
  return x;
}

PortExtendedAcl Ext(const std::string& vm, AclDirection d, AclAction a, uint32_t weight,
                    uint16_t protocol = kAnyProtocol, bool stateful = false) {
  PortExtendedAcl x;
  x.vm_name = vm;
  x.direction = d;
  x.action = a;
  x.weight = weight;
  x.protocol = protocol;
  x.stateful = stateful;
  return x;
}

Frame Tcp(const MacAddr& dst_mac, const MacAddr& src_mac, const IpAddr& src, const IpAddr& dst,
          uint16_t sport, uint16_t dport, uint8_t flags) {
  return PacketBuilder()
      .Eth(dst_mac, src_mac)
      .Ipv4(src, dst)
      .Tcp(sport, dport, flags)
      .Payload(8)
      .Build();
}

class PortAclTest : public ::testing::Test {
 protected:
  // Host 1 with `acls` and `ext` added.
  void Start(std::vector<PortAcl> acls, std::vector<PortExtendedAcl> ext = {}) {
    Policy p = ChapterHost1();
    p.port_acls = std::move(acls);
    p.port_extended_acls = std::move(ext);
    h_ = std::make_unique<PipelineHarness>(p);
    h_->tables().LearnNeighbor(kUplink, kPa2, kPa2Mac);
    h_->tables().Synchronize();
  }
  // `f` from `port` to a local port `to`: delivered as it is, or dropped for `why`.
  void ExpectLocal(uint16_t port, const Frame& f, uint16_t to, Drop why = Drop::kCount) {
    h_->ResetCounters();
    const auto tx = h_->Run(port, f);
    if (why == Drop::kCount) {
      ExpectTx(tx, {{to, f}});
      EXPECT_EQ(h_->total_drops(), 0u);
    } else {
      ExpectNothing(tx);
      ExpectOnlyDrop(*h_, why);
    }
  }
  // `inner` from Contoso3 (Host 2) decapsulated for local port `to`.
  void ExpectFromHost2(const Frame& inner, uint16_t to, Drop why = Drop::kCount) {
    h_->ResetCounters();
    const auto tx = h_->Run(kUplink, Encap(kPa1Mac, kPa2Mac, kPa2, kPa1, 6000, 0, inner));
    if (why == Drop::kCount) {
      ExpectTx(tx, {{to, inner}});
    } else {
      ExpectNothing(tx);
      ExpectOnlyDrop(*h_, why);
    }
  }
  // `f` from `port` toward Contoso3: encapsulated on the uplink, or dropped.
  void ExpectToHost2(uint16_t port, const Frame& f, Drop why = Drop::kCount) {
    h_->ResetCounters();
    const auto tx = h_->Run(port, f);
    if (why == Drop::kCount) {
      EXPECT_EQ(OnPort(tx, kUplink).size(), 1u) << DescribeTx(tx);
      EXPECT_EQ(h_->total_drops(), 0u);
    } else {
      ExpectNothing(tx);
      ExpectOnlyDrop(*h_, why);
    }
  }
  std::unique_ptr<PipelineHarness> h_;
};

TEST_F(PortAclTest, NoAclsNoTable) {
  Start({});
  EXPECT_EQ(h_->tables().snapshot()->ports[kC2Port].acl, nullptr);
  ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port);
}

TEST_F(PortAclTest, MostSpecificPrefixWins) {
  // Contoso2 takes nothing from its subnet but Contoso1.
  Start({IpAcl("Contoso2", kIn, kDeny, "10.0.1.0/24"), IpAcl("Contoso2", kIn, kAllow, "10.0.1.101/32")});
  ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port);
  ExpectFromHost2(Ping(kC2Mac, kC3Mac, kC3, kC2), kC2Port, Drop::kAclDeny);
  // Contoso2 may still send to both (the rules are inbound only).
  ExpectLocal(kC2Port, Ping(kC1Mac, kC2Mac, kC2, kC1), kC1Port);
  ExpectToHost2(kC2Port, Ping(kC3Mac, kC2Mac, kC2, kC3));
  // The other way round: the /32 Deny is more specific than the /24 Allow.
  Start({IpAcl("Contoso2", kIn, kAllow, "10.0.1.0/24"), IpAcl("Contoso2", kIn, kDeny, "10.0.1.101/32")});
  ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port, Drop::kAclDeny);
  ExpectFromHost2(Ping(kC2Mac, kC3Mac, kC3, kC2), kC2Port);
}

TEST_F(PortAclTest, DenyBeatsAllowAtEqualSpecificity) {
  for (bool deny_first : {true, false}) {
    std::vector<PortAcl> acls = {IpAcl("Contoso2", kBoth, kAllow, "10.0.1.101/32"),
                                 IpAcl("Contoso2", kBoth, kDeny, "10.0.1.101/32")};
    if (deny_first) std::swap(acls[0], acls[1]);
    Start(acls);
    ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port, Drop::kAclDeny);
    ExpectLocal(kC2Port, Ping(kC1Mac, kC2Mac, kC2, kC1), kC1Port, Drop::kAclDeny);
  }
}

TEST_F(PortAclTest, OutboundDenyStopsWhatTheVmSends) {
  Start({IpAcl("Contoso1", kOut, kDeny, "10.0.1.103/32")});
  ExpectToHost2(kC1Port, Ping(kC3Mac, kC1Mac, kC1, kC3), Drop::kAclDeny);
  ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port);
  // ANY denies every address, of either family; ARP is not IP and passes.
  Start({IpAcl("Contoso1", kOut, kDeny, "ANY")});
  ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port, Drop::kAclDeny);
  const Frame reply = ArpReply(kC1Mac, kC1, kC2Mac, kC2);
  ExpectLocal(kC1Port, reply, kC2Port);
}

TEST_F(PortAclTest, MacRuleDecidesBeforeIpRules) {
  Start({MacAcl("Contoso2", kIn, kDeny, kC1Mac), IpAcl("Contoso2", kIn, kAllow, "10.0.1.101/32")});
  ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port, Drop::kAclDeny);
  // ... also for ARP.
  ExpectLocal(kC1Port, ArpReply(kC1Mac, kC1, kC2Mac, kC2), kC2Port, Drop::kAclDeny);
  // An allowing MAC rule overrides an IP Deny.
  Start({MacAcl("Contoso2", kIn, kAllow, kC1Mac), IpAcl("Contoso2", kIn, kDeny, "ANY")});
  ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port);
  ExpectFromHost2(Ping(kC2Mac, kC3Mac, kC3, kC2), kC2Port, Drop::kAclDeny);
}

TEST_F(PortAclTest, MeterCountsPacketsAndBytesPerDirection) {
  PortAcl meter = IpAcl("Contoso2", kBoth, AclAction::kMeter, "10.0.1.0/24");
  Start({meter});
  const uint16_t in = h_->tables().MeterSlot(meter, PortAclTable::kIn);
  const uint16_t out = h_->tables().MeterSlot(meter, PortAclTable::kOut);
  ASSERT_NE(in, kNoMeter);
  ASSERT_NE(out, kNoMeter);
  ASSERT_NE(in, out);
  h_->ResetCounters();
  const Frame to2 = Ping(kC2Mac, kC1Mac, kC1, kC2, 100);
  const Frame from2 = Ping(kC1Mac, kC2Mac, kC2, kC1, 10);
  for (int i = 0; i < 3; ++i) ExpectTx(h_->Run(kC1Port, to2), {{kC2Port, to2}});
  ExpectTx(h_->Run(kC2Port, from2), {{kC1Port, from2}});
  const WorkerCounters& c = h_->counters();
  EXPECT_EQ(c.acl_meter_packets[in], 3u);
  EXPECT_EQ(c.acl_meter_bytes[in], 3 * to2.size());
  EXPECT_EQ(c.acl_meter_packets[out], 1u);
  EXPECT_EQ(c.acl_meter_bytes[out], from2.size());
  // Contoso1's traffic to Contoso3 is not Contoso2's.
  EXPECT_EQ(OnPort(h_->Run(kC1Port, Ping(kC3Mac, kC1Mac, kC1, kC3)), kUplink).size(), 1u);
  EXPECT_EQ(c.acl_meter_packets[out] + c.acl_meter_packets[in], 4u);
}

TEST_F(PortAclTest, ExtendedHighestWeightWins) {
  PortExtendedAcl web = Ext("Contoso2", kIn, kAllow, 20, kIpProtoTcp);
  web.local_port = {80, 80};
  Start({}, {Ext("Contoso2", kIn, kDeny, 10), web});
  ExpectLocal(kC1Port, Tcp(kC2Mac, kC1Mac, kC1, kC2, 40000, 80, kTcpSyn), kC2Port);
  ExpectLocal(kC1Port, Tcp(kC2Mac, kC1Mac, kC1, kC2, 40000, 22, kTcpSyn), kC2Port,
              Drop::kAclExtendedDeny);
  ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port, Drop::kAclExtendedDeny);
  // The Deny heavier than the Allow: nothing gets in.
  web.weight = 5;
  Start({}, {Ext("Contoso2", kIn, kDeny, 10), web});
  ExpectLocal(kC1Port, Tcp(kC2Mac, kC1Mac, kC1, kC2, 40000, 80, kTcpSyn), kC2Port,
              Drop::kAclExtendedDeny);
  // Remote address and port ranges narrow a rule.
  PortExtendedAcl from3 = Ext("Contoso2", kIn, kAllow, 20, kIpProtoUdp);
  from3.remote_ip = AclAddress{false, *IpPrefix::Parse("10.0.1.103/32")};
  from3.remote_port = {5000, 5010};
  Start({}, {Ext("Contoso2", kIn, kDeny, 10), from3});
  const auto udp = [](const MacAddr& src_mac, const IpAddr& src, uint16_t sport) {
    return PacketBuilder().Eth(kC2Mac, src_mac).Ipv4(src, kC2).Udp(sport, 53).Payload(4).Build();
  };
  ExpectFromHost2(udp(kC3Mac, kC3, 5005), kC2Port);
  ExpectFromHost2(udp(kC3Mac, kC3, 5011), kC2Port, Drop::kAclExtendedDeny);
  ExpectLocal(kC1Port, udp(kC1Mac, kC1, 5005), kC2Port, Drop::kAclExtendedDeny);
}

// The case: Contoso1 may open TCP to others, nobody may open TCP
// to Contoso1; replies of its connections come back (switched and
// decapsulated), until the session has been idle for its timeout.
TEST_F(PortAclTest, StatefulAdmitsRepliesOnly) {
  PortExtendedAcl open = Ext("Contoso1", kOut, kAllow, 100, kIpProtoTcp, /*stateful=*/true);
  open.idle_session_timeout = 30;
  Start({}, {open, Ext("Contoso1", kIn, kDeny, 1)});
  constexpr uint8_t kSynAck = kTcpSyn | kTcpAck;
  // Unsolicited: refused.
  ExpectLocal(kC2Port, Tcp(kC1Mac, kC2Mac, kC2, kC1, 50000, 22, kTcpSyn), kC1Port,
              Drop::kAclExtendedDeny);
  ExpectFromHost2(Tcp(kC1Mac, kC3Mac, kC3, kC1, 50000, 22, kTcpSyn), kC1Port,
                  Drop::kAclExtendedDeny);
  // Contoso1 opens to Contoso2 (switched) and Contoso3 (encapsulated).
  ExpectLocal(kC1Port, Tcp(kC2Mac, kC1Mac, kC1, kC2, 41000, 80, kTcpSyn), kC2Port);
  ExpectToHost2(kC1Port, Tcp(kC3Mac, kC1Mac, kC1, kC3, 41001, 80, kTcpSyn));
  EXPECT_EQ(h_->acl_sessions().live(), 2u);
  // Their replies come in.
  ExpectLocal(kC2Port, Tcp(kC1Mac, kC2Mac, kC2, kC1, 80, 41000, kSynAck), kC1Port);
  ExpectFromHost2(Tcp(kC1Mac, kC3Mac, kC3, kC1, 80, 41001, kSynAck), kC1Port);
  // Not another port of the same peer, nor another peer.
  ExpectLocal(kC2Port, Tcp(kC1Mac, kC2Mac, kC2, kC1, 81, 41000, kSynAck), kC1Port,
              Drop::kAclExtendedDeny);
  ExpectFromHost2(Tcp(kC1Mac, kC3Mac, kC3, kC1, 80, 41000, kSynAck), kC1Port,
                  Drop::kAclExtendedDeny);
  // Traffic refreshes a session; idle past its timeout, it is gone.
  h_->acl_sessions().AdvanceClockForTest(20);
  ExpectLocal(kC2Port, Tcp(kC1Mac, kC2Mac, kC2, kC1, 80, 41000, kTcpAck), kC1Port);
  h_->acl_sessions().AdvanceClockForTest(20);
  ExpectLocal(kC2Port, Tcp(kC1Mac, kC2Mac, kC2, kC1, 80, 41000, kTcpAck), kC1Port);
  ExpectFromHost2(Tcp(kC1Mac, kC3Mac, kC3, kC1, 80, 41001, kTcpAck), kC1Port,
                  Drop::kAclExtendedDeny);
  h_->acl_sessions().AdvanceClockForTest(31);
  ExpectLocal(kC2Port, Tcp(kC1Mac, kC2Mac, kC2, kC1, 80, 41000, kTcpAck), kC1Port,
              Drop::kAclExtendedDeny);
  EXPECT_EQ(h_->acl_sessions().live(), 0u);
  EXPECT_EQ(h_->acl_sessions().expired(), 2u);
}

// A burst's lookups are staged (candidates found before any frame is
// decided): a session opened by one frame must be found by the next frames
// of its flow in the same burst, not opened again.
TEST_F(PortAclTest, ASessionOpenedInABurstServesTheRestOfIt) {
  Start({}, {Ext("Contoso1", kOut, kAllow, 100, kIpProtoTcp, true)});
  const auto syn = Tcp(kC2Mac, kC1Mac, kC1, kC2, 42000, 80, kTcpSyn);
  const auto ack = Tcp(kC2Mac, kC1Mac, kC1, kC2, 42000, 80, kTcpAck);
  const auto other = Tcp(kC2Mac, kC1Mac, kC1, kC2, 42001, 80, kTcpSyn);
  EXPECT_EQ(h_->RunBurst(kC1Port, {syn, ack, ack, other, ack}).size(), 5u);
  EXPECT_EQ(h_->acl_sessions().opened(), 2u);
  EXPECT_EQ(h_->acl_sessions().live(), 2u);
}

TEST_F(PortAclTest, FullSessionTableRefusesNewConnections) {
  Start({}, {Ext("Contoso1", kOut, kAllow, 100, kIpProtoTcp, true)});
  uint32_t opened = 0;
  h_->ResetCounters();
  for (uint16_t p = 1; p <= 1100; ++p)
    opened += h_->Run(kC1Port, Tcp(kC2Mac, kC1Mac, kC1, kC2, p, 80, kTcpSyn)).size();
  EXPECT_EQ(opened, h_->acl_sessions().live());
  EXPECT_GE(opened, 1000u);  // the harness's table holds 1024
  EXPECT_EQ(h_->drops(Drop::kAclSessionsFull), 1100u - opened);
  EXPECT_EQ(h_->acl_sessions().full(), 1100u - opened);
}

TEST_F(PortAclTest, AReusedMeterSlotCountsFromZero) {
  const PortAcl first = IpAcl("Contoso2", kIn, AclAction::kMeter, "10.0.1.0/24");
  Start({first});
  const uint16_t slot = h_->tables().MeterSlot(first, PortAclTable::kIn);
  ASSERT_NE(slot, kNoMeter);
  h_->ResetCounters();
  for (int i = 0; i < 2; ++i) h_->Run(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2));
  EXPECT_EQ(h_->counters().acl_meter_packets[slot], 2u);
  // Without it, then with every slot taken: one of the new meters has its slot.
  Policy p = ChapterHost1();
  h_->Apply(p);
  for (int i = 0; i < kMaxAclMeters; ++i)
    p.port_acls.push_back(IpAcl("Contoso1", kOut, AclAction::kMeter,
                                "10.9." + std::to_string(i / 200) + "." +
                                    std::to_string(i % 200) + "/32"));
  h_->Apply(p);
  int holders = 0;
  for (const PortAcl& a : p.port_acls) holders += h_->tables().MeterSlot(a, PortAclTable::kOut) == slot;
  EXPECT_EQ(holders, 1);
  EXPECT_EQ(h_->counters().acl_meter_packets[slot], 0u);
  EXPECT_EQ(h_->counters().acl_meter_bytes[slot], 0u);
}

TEST_F(PortAclTest, AppliedLiveAndRemoved) {
  Start({});
  ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port);
  Policy p = ChapterHost1();
  p.port_acls = {IpAcl("Contoso2", kIn, kDeny, "ANY")};
  h_->Apply(p);
  ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port, Drop::kAclDeny);
  p.port_acls.clear();
  h_->Apply(p);
  EXPECT_EQ(h_->tables().snapshot()->ports[kC2Port].acl, nullptr);
  ExpectLocal(kC1Port, Ping(kC2Mac, kC1Mac, kC1, kC2), kC2Port);
}

}  // namespace
}  // namespace hnv::test::pipe
