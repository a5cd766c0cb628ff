// What `hnvctl trace` and `capture` use of the fast path: the tracer sees a
// compartment's decisions stage by stage, and a capture of a compartment's
// VM-network interface copies the frames it exchanges with the VM network.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "dataplane/runtime/capture.h"
#include "gateway/fastpath/path_trace.h"
#include "tests/unit/gateway/gateway_harness.h"

namespace hnv::gateway::test {
namespace {

using hnv::test::Ip;
using hnv::test::PacketBuilder;

Frame FromPhysical(const char* dst) {
  return PacketBuilder().Eth(kContosoExtMac, kPhysicalMac).Ipv4(Ip("10.1.3.100"), Ip(dst)).Icmp().Payload(32).Build();
}

std::string Steps(const RecordingTracer& t) {
  std::string s;
  for (const RecordingTracer::Step& x : t.steps()) s += x.stage + ": " + x.decision + "\n";
  return s;
}

TEST(PathTrace, ForwardedFrameShowsEachStage) {
  GatewayHarness h;
  SetUpContoso(h.gw());
  RecordingTracer t(std::vector<std::vector<std::string>>{{"contoso/vmnet", "contoso/ext0"}});
  h.fp().SetTracer(&t);
  h.RunExternal(kExtPort, {FromPhysical("10.0.1.101")});
  const std::string s = Steps(t);
  EXPECT_NE(s.find("gw-input: in on contoso/ext0 (compartment 0)\n"), std::string::npos) << s;
  EXPECT_NE(s.find("gw-route: route: out contoso/vmnet (into the VM network, port " +
                   std::to_string(kContosoVmPort) + "), next hop 10.0.2.1\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("gw-rewrite: neighbour found, MACs and TTL rewritten: into the VM network"), std::string::npos) << s;
  EXPECT_EQ(s.find("punted"), std::string::npos) << s;
}

TEST(PathTrace, PuntAndDropCarryTheirReason) {
  GatewayHarness h;
  SetUpContoso(h.gw());
  RecordingTracer t(std::vector<std::vector<std::string>>{{"contoso/vmnet", "contoso/ext0"}});
  h.fp().SetTracer(&t);
  h.RunExternal(kExtPort, {FromPhysical("10.77.0.1")});
  EXPECT_NE(Steps(t).find("gw-route: punted to the kernel: no-route ("), std::string::npos) << Steps(t);
  h.DrainPunts();
  RecordingTracer t2;
  h.fp().SetTracer(&t2);
  Frame ttl1 = PacketBuilder().Eth(kContosoExtMac, kPhysicalMac).Ipv4(Ip("10.1.3.100"), Ip("10.0.1.101")).Ttl(1).Icmp().Payload(8).Build();
  h.RunExternal(kExtPort, {ttl1});
  EXPECT_NE(Steps(t2).find("interface 1"), std::string::npos) << Steps(t2);  // no names given
  EXPECT_TRUE(Steps(t2).find("punted") != std::string::npos || Steps(t2).find("dropped") != std::string::npos)
      << Steps(t2);
  h.DrainPunts();
}

TEST(PathTrace, WithoutATracerNothingIsRecorded) {
  GatewayHarness h;
  SetUpContoso(h.gw());
  RecordingTracer t;
  h.fp().SetTracer(&t);
  h.fp().SetTracer(nullptr);
  h.RunExternal(kExtPort, {FromPhysical("10.0.1.101")});
  EXPECT_TRUE(t.steps().empty());
  EXPECT_EQ(h.fp().Counters(kContoso).fwd_vm.packets, 1u);
}

TEST(VmInterfaceCapture, CopiesWhatTheCompartmentExchangesWithTheVmNetwork) {
  GatewayHarness h;
  SetUpContoso(h.gw());
  const std::string path = ::testing::TempDir() + "/gw_vm_capture.pcap";
  CaptureBuffer buf;
  std::string error;
  ASSERT_TRUE(buf.Open(path, 65535, &error)) << error;
  ASSERT_TRUE(h.fp().SetVmCapture(kContosoVmPort, &buf));
  CaptureBuffer other;
  EXPECT_FALSE(h.fp().SetVmCapture(kContosoVmPort, &other)) << "one at a time";
  // Three frames into the VM network, one that stays outside (no route: punted).
  h.RunExternal(kExtPort, {FromPhysical("10.0.1.101"), FromPhysical("10.0.1.102"),
                           FromPhysical("10.0.1.103"), FromPhysical("10.77.0.1")});
  h.DrainPunts();
  EXPECT_EQ(buf.Drain(), 3u);
  h.fp().ClearVmCapture();
  h.RunExternal(kExtPort, {FromPhysical("10.0.1.101")});
  EXPECT_EQ(buf.Drain(), 0u) << "cleared: nothing more";
  EXPECT_EQ(buf.lost(), 0u);
  buf.Close();
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // pcap header 24 bytes, then per frame a 16-byte record header and the frame.
  EXPECT_EQ(bytes.size(), 24 + 3 * (16 + FromPhysical("10.0.1.101").size()));
}

}  // namespace
}  // namespace hnv::gateway::test
