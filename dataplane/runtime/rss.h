// Receive-side scaling for ports with one receive queue per worker.
//
// A port whose device offers at least as many receive queues as there are
// workers is received by every worker, each on its own queue (Dataplane::
// AttachEthPort). A device with RSS is given a symmetric Toeplitz key: the
// key repeats with a period of 16 bits, so swapping source and destination
// (addresses, ports) gives the same hash and both directions of a
// connection land on the same queue index. Devices without RSS spread by
// their own rule (net_af_packet: the kernel's fanout by flow hash, which is
// symmetric; net_tap: the tun queue chosen by that hash).
//
// The queue a frame arrives on only spreads the load: flow affinity is
// decided by the workers (the symmetric flow hash of flow_hash.h, or a
// feature's rule), which hand a frame to its flow's owner when it arrived
// elsewhere. A NIC hashes what it sees, which for NVGRE is the outer header.
#pragma once

#include <rte_ethdev.h>

#include <array>
#include <cstdint>

namespace hnv {

// Long enough for every device DPDK 22.11 knows (40 bytes for most, 52 for
// some); `0x6d5a` repeated.
inline constexpr std::array<uint8_t, 52> kSymmetricRssKey = [] {
  std::array<uint8_t, 52> k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = i % 2 == 0 ? 0x6d : 0x5a;
  return k;
}();

// What RSS hashes on: IPv4/IPv6 addresses and TCP/UDP ports.
inline constexpr uint64_t kRssTypes = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;

// Receive queues for a port of `info` with `workers` workers: one per worker
// when the device has that many, else one (received by a single worker).
inline uint16_t RxQueuesFor(const rte_eth_dev_info& info, uint16_t workers) noexcept {
  return workers > 1 && info.max_rx_queues >= workers ? workers : 1;
}

// Fills `conf`'s receive mode for `rx_queues` queues: RSS with the symmetric
// key over the hash types the device offers; nothing for one queue or a
// device without RSS.
inline void ConfigureRss(const rte_eth_dev_info& info, uint16_t rx_queues, rte_eth_conf* conf) noexcept {
  const uint64_t types = info.flow_type_rss_offloads & kRssTypes;
  if (rx_queues < 2 || types == 0) return;
  conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
  conf->rx_adv_conf.rss_conf.rss_key = const_cast<uint8_t*>(kSymmetricRssKey.data());
  conf->rx_adv_conf.rss_conf.rss_key_len =
      info.hash_key_size != 0 && info.hash_key_size <= kSymmetricRssKey.size()
          ? info.hash_key_size
          : 40;
  conf->rx_adv_conf.rss_conf.rss_hf = types;
}

}  // namespace hnv
