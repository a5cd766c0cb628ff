#include "gateway/kernel/tap.h"

#include <fcntl.h>
#include <poll.h>

#include <cstring>

#include "dataplane/packet/headers.h"
#include "gateway/kernel/netlink.h"
#include "tests/lib/packet_builder.h"
#include "tests/unit/gateway_kernel/kernel_fixture.h"

namespace hnv::gateway::test {
namespace {

using hnv::test::Ip;
using hnv::test::Mac;
using hnv::test::PacketBuilder;
using TapTest = KernelTest;

TEST_F(TapTest, CreatedInsideTheNamespaceWithMacMtuUp) {
  NetNamespace* ns = NewNs();
  ASSERT_NE(ns, nullptr);
  const std::string name = TapName(0);
  std::string error;
  auto tap = Tap::Create(*ns, name, Mac("02:00:5e:10:00:01"), 1458, &error);
  ASSERT_TRUE(tap) << error;
  EXPECT_GE(tap->fd(), 0);
  EXPECT_GT(tap->ifindex(), 0);
  EXPECT_EQ(fcntl(tap->fd(), F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  const std::string link = ShOut("ip -n " + ns->name() + " -o link show " + name);
  EXPECT_EQ(link.find(std::to_string(tap->ifindex()) + ": " + name + ":"), 0u) << link;
  EXPECT_NE(link.find("mtu 1458"), std::string::npos) << link;
  EXPECT_NE(link.find("link/ether 02:00:5e:10:00:01"), std::string::npos) << link;
  EXPECT_NE(link.find(",UP"), std::string::npos) << link;
  // Not in the root namespace.
  EXPECT_NE(Sh("ip link show " + name), 0);
  // Closing the fd removes the device.
  tap.reset();
  EXPECT_NE(Sh("ip -n " + ns->name() + " link show " + name), 0);
  EXPECT_NE(Sh("ip link show " + name), 0);
}

TEST_F(TapTest, APersistentTapOfTheSameNameIsAdoptedWithItsState) {
  NetNamespace* ns = NewNs();
  ASSERT_NE(ns, nullptr);
  const std::string name = TapName(1);
  // What a previous run leaves (a detach, a crash): a persistent TAP of that name.
  ASSERT_EQ(Sh("ip -n " + ns->name() + " tuntap add dev " + name + " mode tap"), 0);
  ASSERT_EQ(Sh("ip -n " + ns->name() + " addr add 10.77.0.1/24 dev " + name), 0);
  std::string error;
  auto tap = Tap::Create(*ns, name, Mac("02:00:5e:10:00:02"), 1500, &error);
  ASSERT_TRUE(tap) << error;
  EXPECT_TRUE(tap->adopted());
  const std::string link = ShOut("ip -n " + ns->name() + " -o addr show dev " + name);
  EXPECT_NE(link.find("10.77.0.1"), std::string::npos) << "the adopted device's address: " << link;
  EXPECT_NE(ShOut("ip -n " + ns->name() + " -o link show " + name).find("02:00:5e:10:00:02"),
            std::string::npos);
  // Without Keep(), the device goes with our fd.
  tap.reset();
  EXPECT_NE(Sh("ip -n " + ns->name() + " link show " + name), 0);
}

TEST_F(TapTest, AKeptTapStaysForTheNextStart) {
  NetNamespace* ns = NewNs();
  ASSERT_NE(ns, nullptr);
  const std::string name = TapName(5);
  std::string error;
  auto tap = Tap::Create(*ns, name, Mac("02:00:5e:10:00:05"), 1400, &error);
  ASSERT_TRUE(tap) << error;
  EXPECT_FALSE(tap->adopted());
  ASSERT_EQ(Sh("ip -n " + ns->name() + " route add 10.78.0.0/16 dev " + name), 0);
  tap->Keep();
  tap.reset();
  ASSERT_EQ(Sh("ip -n " + ns->name() + " link show " + name), 0) << "kept";
  auto again = Tap::Create(*ns, name, Mac("02:00:5e:10:00:05"), 1400, &error);
  ASSERT_TRUE(again) << error;
  EXPECT_TRUE(again->adopted());
  EXPECT_NE(ShOut("ip -n " + ns->name() + " route show 10.78.0.0/16").find(name), std::string::npos)
      << "the route through the kept TAP survived";
  uint8_t frame[60] = {};
  EXPECT_EQ(write(again->fd(), frame, sizeof(frame)), 60);
  again.reset();
  EXPECT_NE(Sh("ip -n " + ns->name() + " link show " + name), 0);
}

TEST_F(TapTest, AKeptTapGoesWithItsNamespaceNeverToTheRootNamespace) {
  NetNamespace* ns = NewNs();
  ASSERT_NE(ns, nullptr);
  const std::string name = TapName(7);
  std::string error;
  auto tap = Tap::Create(*ns, name, Mac("02:00:5e:10:00:07"), 1500, &error);
  ASSERT_TRUE(tap) << error;
  tap->Keep();
  tap.reset();
  ASSERT_TRUE(ns->Delete(&error)) << error;
  usleep(200 * 1000);
  EXPECT_NE(Sh("ip link show " + name), 0) << "the kept TAP surfaced in the root namespace";
}

TEST_F(TapTest, AStaleDeviceOfAnotherKindIsReplaced) {
  NetNamespace* ns = NewNs();
  ASSERT_NE(ns, nullptr);
  const std::string name = TapName(6);
  ASSERT_EQ(Sh("ip -n " + ns->name() + " link add " + name + " type veth peer name " + name + "p"),
            0);
  std::string error;
  auto tap = Tap::Create(*ns, name, Mac("02:00:5e:10:00:06"), 1500, &error);
  ASSERT_TRUE(tap) << error;
  EXPECT_FALSE(tap->adopted());
  EXPECT_NE(Sh("ip -n " + ns->name() + " link show " + name + "p"), 0) << "the veth is gone";
  tap.reset();
  EXPECT_NE(Sh("ip -n " + ns->name() + " link show " + name), 0);
}

TEST_F(TapTest, DeletingTheNamespaceNeverMovesTheTapToTheRootNamespace) {
  NetNamespace* ns = NewNs();
  ASSERT_NE(ns, nullptr);
  const std::string name = TapName(4);
  std::string error;
  auto tap = Tap::Create(*ns, name, Mac("02:00:5e:10:00:04"), 1500, &error);
  ASSERT_TRUE(tap) << error;
  const std::string ns_name = ns->name();
  ASSERT_TRUE(ns->Delete(&error)) << error;
  EXPECT_EQ(ShOut("ip netns list").find(ns_name), std::string::npos);
  // The open TAP holds a reference to the (now nameless) namespace: the
  // device stays there, usable, and never surfaces in the root namespace.
  usleep(100 * 1000);
  EXPECT_NE(Sh("ip link show " + name), 0) << "the TAP surfaced in the root namespace";
  uint8_t frame[60] = {};
  EXPECT_EQ(write(tap->fd(), frame, sizeof(frame)), 60);
  // Closing it removes the device and lets the namespace go.
  tap.reset();
  usleep(100 * 1000);
  EXPECT_NE(Sh("ip link show " + name), 0);
}

TEST_F(TapTest, BadArgumentsAreReported) {
  NetNamespace* ns = NewNs();
  ASSERT_NE(ns, nullptr);
  std::string error;
  EXPECT_FALSE(
      Tap::Create(*ns, "a-name-far-too-long-for-linux", Mac("02:00:00:00:00:01"), 1500, &error));
  EXPECT_NE(error.find("a-name-far-too-long-for-linux"), std::string::npos) << error;
  EXPECT_FALSE(Tap::Create(*ns, TapName(2), MacAddr::Broadcast(), 1500, &error));
  EXPECT_NE(error.find("unicast"), std::string::npos) << error;
  EXPECT_FALSE(Tap::Create(*ns, TapName(2), Mac("02:00:00:00:00:01"), 100000, &error));
  EXPECT_NE(error.find("MTU"), std::string::npos) << error;
}

// Reads frames from `fd` for up to `ms` until one satisfies `want`.
bool ReadUntil(int fd, int ms, const std::function<bool(const uint8_t*, size_t)>& want) {
  uint8_t buf[2048];
  return WaitFor(
      [&] {
        const ssize_t n = read(fd, buf, sizeof(buf));
        return n > 0 && want(buf, static_cast<size_t>(n));
      },
      ms,
      [&] {
        pollfd p{fd, POLLIN, 0};
        poll(&p, 1, 20);
      });
}

TEST_F(TapTest, KernelAnswersArpWrittenIntoTheTap) {
  NetNamespace* ns = NewNs();
  ASSERT_NE(ns, nullptr);
  std::string error;
  const MacAddr tap_mac = Mac("02:00:5e:10:00:03");
  const MacAddr peer_mac = Mac("02:00:5e:99:00:99");
  auto tap = Tap::Create(*ns, TapName(3), tap_mac, 1500, &error);
  ASSERT_TRUE(tap) << error;
  auto nl = NetlinkConfig::Create(*ns, &error);
  ASSERT_TRUE(nl) << error;
  ASSERT_TRUE(nl->AddAddress(tap->ifindex(), Ip("10.9.0.1"), 24, &error)) << error;
  const auto request = PacketBuilder()
                           .Eth(MacAddr::Broadcast(), peer_mac)
                           .Arp(kArpRequest, peer_mac, Ip("10.9.0.99"), MacAddr{}, Ip("10.9.0.1"))
                           .Build();
  ASSERT_EQ(write(tap->fd(), request.data(), request.size()), static_cast<ssize_t>(request.size()));
  const bool answered = ReadUntil(tap->fd(), 2000, [&](const uint8_t* f, size_t n) {
    if (n < 42 || f[12] != 0x08 || f[13] != 0x06) return false;  // other traffic (IPv6 RS, MLD)
    const uint8_t* arp = f + 14;
    EXPECT_EQ(arp[7], kArpReply);
    EXPECT_EQ(std::memcmp(f, peer_mac.b.data(), 6), 0) << "to the requester";
    EXPECT_EQ(std::memcmp(arp + 8, tap_mac.b.data(), 6), 0) << "sender MAC = the TAP's";
    EXPECT_EQ(IpAddr::V4Raw(arp + 14), Ip("10.9.0.1"));
    EXPECT_EQ(IpAddr::V4Raw(arp + 24), Ip("10.9.0.99"));
    return true;
  });
  EXPECT_TRUE(answered) << "no ARP reply from the namespace";
}

}  // namespace
}  // namespace hnv::gateway::test
