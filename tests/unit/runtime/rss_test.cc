// Receive queues per worker and the symmetric RSS key (dataplane/runtime/rss.h).
#include <gtest/gtest.h>
#include <rte_thash.h>

#include <random>

#include "dataplane/runtime/rss.h"

namespace hnv {
namespace {

// Toeplitz hash (as a NIC computes it) of an IPv4 4-tuple with `key`.
uint32_t Hash4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const uint8_t* key) {
  uint32_t tuple[3] = {src, dst, static_cast<uint32_t>(sport) << 16 | dport};
  return rte_softrss(tuple, 3, key);
}

// The same for IPv6 (addresses as four words each) and ports.
uint32_t Hash6(const uint32_t (&src)[4], const uint32_t (&dst)[4], uint16_t sport, uint16_t dport,
               const uint8_t* key) {
  uint32_t tuple[9];
  for (int i = 0; i < 4; ++i) {
    tuple[i] = src[i];
    tuple[4 + i] = dst[i];
  }
  tuple[8] = static_cast<uint32_t>(sport) << 16 | dport;
  return rte_softrss(tuple, 9, key);
}

TEST(SymmetricRss, BothDirectionsOfAFlowHashAlikeV4AndV6) {
  std::mt19937 gen(7);
  auto rng = [&gen] { return static_cast<uint32_t>(gen()); };
  for (int i = 0; i < 10000; ++i) {
    const uint32_t a = rng(), b = rng();
    const auto p = static_cast<uint16_t>(rng()), q = static_cast<uint16_t>(rng());
    ASSERT_EQ(Hash4(a, b, p, q, kSymmetricRssKey.data()), Hash4(b, a, q, p, kSymmetricRssKey.data()))
        << i;
    const uint32_t s[4] = {rng(), rng(), rng(), rng()}, d[4] = {rng(), rng(), rng(), rng()};
    ASSERT_EQ(Hash6(s, d, p, q, kSymmetricRssKey.data()), Hash6(d, s, q, p, kSymmetricRssKey.data()))
        << i;
  }
}

TEST(SymmetricRss, TheCheckTellsAnOrdinaryKeyApartAndTheKeyStillSpreads) {
  // The key NICs ship by default (Microsoft's RSS verification key) is not
  // symmetric: the check above would fail with it.
  static const uint8_t kDefault[40] = {
      0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
      0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
      0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
  std::mt19937 gen(11);
  auto rng = [&gen] { return static_cast<uint32_t>(gen()); };
  int asymmetric = 0;
  int on_queue[2] = {};
  for (int i = 0; i < 1000; ++i) {
    const uint32_t a = rng(), b = rng();
    const auto p = static_cast<uint16_t>(rng()), q = static_cast<uint16_t>(rng());
    if (Hash4(a, b, p, q, kDefault) != Hash4(b, a, q, p, kDefault)) ++asymmetric;
    ++on_queue[Hash4(a, b, p, q, kSymmetricRssKey.data()) & 1];  // a 2-queue redirection table
  }
  EXPECT_GT(asymmetric, 990);
  EXPECT_GT(on_queue[0], 400);
  EXPECT_GT(on_queue[1], 400);
}

TEST(RxQueues, OnePerWorkerOnlyWhenTheDeviceHasThem) {
  rte_eth_dev_info info{};
  info.max_rx_queues = 1;
  EXPECT_EQ(RxQueuesFor(info, 2), 1);
  info.max_rx_queues = 4;
  EXPECT_EQ(RxQueuesFor(info, 1), 1);
  EXPECT_EQ(RxQueuesFor(info, 2), 2);
  EXPECT_EQ(RxQueuesFor(info, 5), 1);
}

TEST(RxQueues, RssWithTheSymmetricKeyOnlyWhereTheDeviceHashes) {
  rte_eth_dev_info info{};
  rte_eth_conf conf{};
  ConfigureRss(info, 2, &conf);  // no RSS (net_af_packet, net_ring): the driver spreads
  EXPECT_EQ(conf.rxmode.mq_mode, RTE_ETH_MQ_RX_NONE);
  info.flow_type_rss_offloads = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_L2_PAYLOAD;
  ConfigureRss(info, 1, &conf);  // one queue: nothing to spread
  EXPECT_EQ(conf.rxmode.mq_mode, RTE_ETH_MQ_RX_NONE);
  ConfigureRss(info, 2, &conf);
  EXPECT_EQ(conf.rxmode.mq_mode, RTE_ETH_MQ_RX_RSS);
  EXPECT_EQ(conf.rx_adv_conf.rss_conf.rss_hf, RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP);
  EXPECT_EQ(conf.rx_adv_conf.rss_conf.rss_key, kSymmetricRssKey.data());
  EXPECT_EQ(conf.rx_adv_conf.rss_conf.rss_key_len, 40);
  info.hash_key_size = 52;
  ConfigureRss(info, 2, &conf);
  EXPECT_EQ(conf.rx_adv_conf.rss_conf.rss_key_len, 52);
}

}  // namespace
}  // namespace hnv
