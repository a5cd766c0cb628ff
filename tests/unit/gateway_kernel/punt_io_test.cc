#include "gateway/kernel/punt_io.h"

#include <dirent.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "dataplane/packet/headers.h"
#include "gateway/kernel/netlink.h"
#include "gateway/kernel/tap.h"
#include "tests/lib/eal_env.h"
#include "tests/lib/packet_builder.h"
#include "tests/unit/gateway_kernel/kernel_fixture.h"
#include "tests/unit/gateway_kernel/punt_rig.h"

namespace hnv::gateway::test {
namespace {

using hnv::test::Ip;
using hnv::test::Mac;
using hnv::test::PacketBuilder;

constexpr TapId kTap = TapIdOf(3, 1);
const MacAddr kTapMac = Mac("02:00:5e:40:00:01");
const MacAddr kPeerMac = Mac("02:00:5e:99:00:01");

class PuntIoTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(hnv::test::StartEalForTest());
    ASSERT_TRUE(rig_.Create(1023));
    pool_ = rig_.pool;
    rings_ = rig_.rings;
    ns_ = NewNs();
    ASSERT_NE(ns_, nullptr);
    std::string error;
    tap_ = Tap::Create(*ns_, TapName(30), kTapMac, 1500, &error);
    ASSERT_TRUE(tap_) << error;
    auto nl = NetlinkConfig::Create(*ns_, &error);
    ASSERT_TRUE(nl) << error;
    ASSERT_TRUE(nl->AddAddress(tap_->ifindex(), Ip("10.9.0.1"), 24, &error)) << error;
    // The kernel answers without having to resolve the peer first.
    ASSERT_EQ(Sh("ip -n " + ns_->name() + " neigh add 10.9.0.99 lladdr " + kPeerMac.ToString() +
                 " dev " + tap_->ifname() + " nud permanent"),
              0);
    punt_ = PuntIo::Create(pool_, rings_, &error);
    ASSERT_TRUE(punt_) << error;
  }
  void TearDown() override {
    punt_.reset();  // stops the thread
    tap_.reset();
    rig_.Free();
    KernelTest::TearDown();
  }
  // An echo request from the peer to the namespace's address, for TAP `tap`.
  rte_mbuf* EchoRequest(TapId tap, uint16_t seq) {
    const auto frame = PacketBuilder()
                           .Eth(kTapMac, kPeerMac)
                           .Ipv4(Ip("10.9.0.99"), Ip("10.9.0.1"))
                           .Icmp(kIcmpEchoRequest, 0, 0x77000000u | seq)
                           .Payload(56)
                           .Build();
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) return nullptr;
    void* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    std::memcpy(p, frame.data(), frame.size());
    m->port = tap;
    return m;
  }
  static bool IsEchoReply(const rte_mbuf* m) {
    const auto* f = rte_pktmbuf_mtod(m, const uint8_t*);
    return m->data_len >= 14 + 20 + 8 && f[12] == 0x08 && f[13] == 0x00 && f[14 + 9] == 1 &&
           f[14 + 20] == kIcmpEchoReply;
  }
  // Frees what came from the kernel, counting echo replies (and those for `tap`).
  int DrainReplies(TapId tap, int* other_port = nullptr) {
    int replies = 0;
    void* objs[64];
    unsigned n;
    while ((n = rte_ring_dequeue_burst(rings_.from_kernel, objs, 64, nullptr)) > 0) {
      for (unsigned i = 0; i < n; ++i) {
        auto* m = static_cast<rte_mbuf*>(objs[i]);
        if (m->port != tap && other_port != nullptr) ++*other_port;
        if (m->port == tap && IsEchoReply(m)) ++replies;
        rte_pktmbuf_free(m);
      }
    }
    return replies;
  }

  PuntRig rig_;
  rte_mempool* pool_ = nullptr;  // rig_'s
  PuntRings rings_;
  NetNamespace* ns_ = nullptr;
  std::unique_ptr<Tap> tap_;
  std::unique_ptr<PuntIo> punt_;
};

TEST_F(PuntIoTest, EchoRequestThroughTheRingsComesBackAsAReply) {
  std::string error;
  ASSERT_TRUE(punt_->AddTap(kTap, tap_->fd(), &error)) << error;
  ASSERT_TRUE(punt_->Start(&error)) << error;
  rte_mbuf* req = EchoRequest(kTap, 1);
  ASSERT_NE(req, nullptr);
  const uint32_t req_len = req->pkt_len;
  usleep(50 * 1000);  // let the thread go idle: the worst case of the punt path
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(rte_ring_mp_enqueue(rings_.to_kernel, req), 0);
  rte_mbuf* reply = nullptr;
  const bool got = WaitFor(
      [&] {
        void* m;
        while (rte_ring_dequeue(rings_.from_kernel, &m) == 0) {
          auto* mb = static_cast<rte_mbuf*>(m);
          if (IsEchoReply(mb)) {
            reply = mb;
            return true;
          }
          rte_pktmbuf_free(mb);  // IPv6 RS/MLD and such from the new link
        }
        return false;
      },
      2000, [] { usleep(20); });
  ASSERT_TRUE(got) << "no echo reply from the namespace";
  std::printf("echo through the rings from idle: %lld us\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - t0)
                                         .count()));
  EXPECT_EQ(reply->port, kTap);
  EXPECT_EQ(reply->nb_segs, 1);
  const auto* f = rte_pktmbuf_mtod(reply, const uint8_t*);
  EXPECT_EQ(std::memcmp(f, kPeerMac.b.data(), 6), 0);
  EXPECT_EQ(std::memcmp(f + 6, kTapMac.b.data(), 6), 0);
  EXPECT_EQ(IpAddr::V4Raw(f + 14 + 12), Ip("10.9.0.1"));
  EXPECT_EQ(IpAddr::V4Raw(f + 14 + 16), Ip("10.9.0.99"));
  EXPECT_EQ(reply->pkt_len, req_len);
  rte_pktmbuf_free(reply);
  const PuntTapCounters c = punt_->Counters(kTap);
  EXPECT_EQ(c.to_kernel_packets, 1u);
  EXPECT_EQ(c.to_kernel_bytes, req_len);
  EXPECT_GE(c.from_kernel_packets, 1u);
  EXPECT_GE(c.from_kernel_bytes, req_len);
  for (size_t d = 0; d < static_cast<size_t>(PuntDrop::kCount); ++d)
    EXPECT_EQ(c.drops[d], 0u) << PuntDropName(static_cast<PuntDrop>(d));
  // A frame for a TAP nobody added is dropped and counted.
  rte_mbuf* stray = EchoRequest(kTap + 1, 2);
  ASSERT_EQ(rte_ring_mp_enqueue(rings_.to_kernel, stray), 0);
  EXPECT_TRUE(WaitFor([&] { return punt_->unknown_tap_drops() == 1; }, 1000));
  punt_->Stop();
  EXPECT_FALSE(punt_->running());
}

TEST_F(PuntIoTest, AddTapRefusesBadArguments) {
  std::string error;
  EXPECT_FALSE(punt_->AddTap(kMaxTaps, tap_->fd(), &error));
  EXPECT_NE(error.find("out of range"), std::string::npos) << error;
  ASSERT_TRUE(punt_->AddTap(kTap, tap_->fd(), &error)) << error;
  ASSERT_TRUE(punt_->Start(&error)) << error;
  EXPECT_FALSE(punt_->AddTap(kTap, tap_->fd(), &error));
  EXPECT_NE(error.find("already"), std::string::npos) << error;
  EXPECT_FALSE(punt_->AddTap(kTap + 1, -1, &error)) << "epoll refuses a bad fd";
}

TEST_F(PuntIoTest, FullFromKernelRingIsCountedAsDrops) {
  std::string error;
  ASSERT_TRUE(punt_->AddTap(kTap, tap_->fd(), &error)) << error;
  ASSERT_TRUE(punt_->Start(&error)) << error;
  // Fill from_kernel so nothing more fits, then make the kernel send.
  std::vector<rte_mbuf*> filler;
  while (rte_ring_free_count(rings_.from_kernel) > 0) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(m, nullptr);
    if (rte_ring_sp_enqueue(rings_.from_kernel, m) != 0) {
      rte_pktmbuf_free(m);
      break;
    }
  }
  for (uint16_t i = 0; i < 5; ++i)
    ASSERT_EQ(rte_ring_mp_enqueue(rings_.to_kernel, EchoRequest(kTap, i)), 0);
  EXPECT_TRUE(WaitFor([&] { return punt_->Counters(kTap).drop(PuntDrop::kRingFull) >= 5; }, 2000))
      << punt_->Counters(kTap).drop(PuntDrop::kRingFull);
  EXPECT_EQ(punt_->Counters(kTap).to_kernel_packets, 5u);
}

TEST_F(PuntIoTest, RemoveTapWhileTrafficFlows) {
  std::string error;
  ASSERT_TRUE(punt_->AddTap(kTap, tap_->fd(), &error)) << error;
  ASSERT_TRUE(punt_->Start(&error)) << error;
  // A "worker": echo requests as fast as the ring takes them, bounded in time.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};
  std::thread producer([&] {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    uint16_t seq = 0;
    while (!stop.load() && std::chrono::steady_clock::now() < end) {
      rte_mbuf* m = EchoRequest(kTap, seq++);
      if (m == nullptr || rte_ring_mp_enqueue(rings_.to_kernel, m) != 0) {
        if (m != nullptr) rte_pktmbuf_free(m);
        usleep(100);
        continue;
      }
      sent.fetch_add(1);
      if (seq % 16 == 0) usleep(200);
    }
  });
  int replies = 0;
  ASSERT_TRUE(WaitFor([&] { return (replies += DrainReplies(kTap)) >= 50; }, 3000))
      << "replies before the removal: " << replies;
  punt_->RemoveTap(kTap);
  // From here the punt thread no longer touches the fd: its counters freeze
  // while the producer keeps going, and the frames count as unknown-TAP drops.
  const PuntTapCounters frozen = punt_->Counters(kTap);
  const uint64_t unknown_before = punt_->unknown_tap_drops();
  tap_.reset();  // closes the fd: the device disappears
  usleep(200 * 1000);
  DrainReplies(kTap);
  const PuntTapCounters after = punt_->Counters(kTap);
  EXPECT_EQ(after.to_kernel_packets, frozen.to_kernel_packets);
  EXPECT_EQ(after.from_kernel_packets, frozen.from_kernel_packets);
  EXPECT_EQ(after.drop(PuntDrop::kWriteFailed), frozen.drop(PuntDrop::kWriteFailed));
  EXPECT_GT(punt_->unknown_tap_drops(), unknown_before);
  EXPECT_EQ(DrainReplies(kTap), 0) << "nothing new from the removed TAP";
  stop.store(true);
  producer.join();
  EXPECT_GT(sent.load(), 50u);
  EXPECT_GE(frozen.to_kernel_packets, 50u);
  // The thread is still healthy: a new TAP on the same id works.
  tap_ = Tap::Create(*ns_, TapName(31), kTapMac, 1500, &error);
  ASSERT_TRUE(tap_) << error;
  auto nl = NetlinkConfig::Create(*ns_, &error);
  ASSERT_TRUE(nl) << error;
  ASSERT_TRUE(nl->AddAddress(tap_->ifindex(), Ip("10.9.0.1"), 24, &error)) << error;
  ASSERT_EQ(Sh("ip -n " + ns_->name() + " neigh add 10.9.0.99 lladdr " + kPeerMac.ToString() +
               " dev " + tap_->ifname() + " nud permanent"),
            0);
  ASSERT_TRUE(punt_->AddTap(kTap, tap_->fd(), &error)) << error;
  EXPECT_EQ(punt_->Counters(kTap).to_kernel_packets, 0u) << "counters restart";
  ASSERT_EQ(rte_ring_mp_enqueue(rings_.to_kernel, EchoRequest(kTap, 1)), 0);
  EXPECT_TRUE(WaitFor([&] { return DrainReplies(kTap) > 0; }, 2000));
}

// CPU time in ns of this process's thread named `comm` (schedstat), -1 if none.
long long ThreadCpuNs(const std::string& comm) {
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return -1;
  long long ns = -1;
  while (dirent* e = readdir(d)) {
    const std::string dir = std::string("/proc/self/task/") + e->d_name;
    std::string name;
    std::getline(std::ifstream(dir + "/comm"), name);
    if (name != comm) continue;
    std::ifstream(dir + "/schedstat") >> ns;
  }
  closedir(d);
  return ns;
}

TEST_F(PuntIoTest, IdleThreadCostsLittleCpu) {
  std::string error;
  ASSERT_TRUE(punt_->AddTap(kTap, tap_->fd(), &error)) << error;
  ASSERT_TRUE(punt_->Start(&error)) << error;
  usleep(100 * 1000);  // past the initial IPv6 chatter of the new link
  const long long t0 = ThreadCpuNs("hnv-punt");
  ASSERT_GE(t0, 0) << "punt thread not found by name";
  sleep(2);
  const double share = static_cast<double>(ThreadCpuNs("hnv-punt") - t0) / 2e9;
  // Waking 1000 times a second costs a few percent of a core at most (more
  // under sanitizers); a thread that spins would show ~100%.
  EXPECT_LT(share, 0.10) << "idle punt thread used " << share * 100 << "% of a core";
  std::printf("idle punt thread: %.2f%% of a core\n", share * 100);
}

}  // namespace
}  // namespace hnv::gateway::test
