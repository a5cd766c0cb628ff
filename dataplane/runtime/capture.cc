#include "dataplane/runtime/capture.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <sys/time.h>

#include <cstring>

#include "dataplane/packet/headers.h"

namespace hnv {
namespace {

std::atomic<int> g_captures{0};

// Classic pcap (not pcapng): readable by tcpdump, tshark and scapy alike.
#pragma pack(push, 1)
struct PcapFileHeader {
  uint32_t magic = 0xa1b2c3d4;
  uint16_t major = 2;
  uint16_t minor = 4;
  int32_t zone = 0;
  uint32_t sigfigs = 0;
  uint32_t snaplen = 0;
  uint32_t linktype = 1;  // Ethernet
};
struct PcapRecordHeader {
  uint32_t sec;
  uint32_t usec;
  uint32_t caplen;
  uint32_t len;
};
#pragma pack(pop)

}  // namespace

// ---- CaptureBuffer ----

bool CaptureBuffer::Open(const std::string& pcap_path, uint32_t snaplen, std::string* error) {
  file_ = std::fopen(pcap_path.c_str(), "wb");
  if (file_ == nullptr) {
    *error = "cannot write " + pcap_path + ": " + std::strerror(errno);
    return false;
  }
  PcapFileHeader h;
  h.snaplen = snaplen;
  std::fwrite(&h, sizeof(h), 1, file_);
  const std::string name = "cap" + std::to_string(g_captures.fetch_add(1));
  pool_ = rte_pktmbuf_pool_create((name + "p").c_str(), 4095, 64, sizeof(uint64_t),
                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  ring_ = rte_ring_create((name + "r").c_str(), 4096, SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (pool_ == nullptr || ring_ == nullptr) {
    *error = std::string("capture buffers: ") + rte_strerror(rte_errno);
    Close();
    return false;
  }
  snaplen_ = snaplen;
  return true;
}

namespace {

// The frame's 802.1Q VLAN: its in-band tag, or the one a NIC stripped; 0 for none.
uint16_t VlanOf(const rte_mbuf* m) noexcept {
  if ((m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) != 0) return m->vlan_tci & 0x0fff;
  if (rte_pktmbuf_data_len(m) < sizeof(EthHdr) + sizeof(VlanTag)) return 0;
  const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
  if (d[12] != 0x81 || d[13] != 0x00) return 0;
  return static_cast<uint16_t>((d[14] << 8 | d[15]) & 0x0fff);
}

}  // namespace

void CaptureBuffer::Copy(rte_mbuf* const* pkts, uint16_t n, uint16_t vlan) noexcept {
  for (uint16_t i = 0; i < n; ++i) {
    if (vlan != 0 && VlanOf(pkts[i]) != vlan) continue;
    rte_mbuf* c = rte_pktmbuf_copy(pkts[i], pool_, 0, snaplen_);
    if (c == nullptr) {
      lost_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    *static_cast<uint64_t*>(rte_mbuf_to_priv(c)) = rte_get_tsc_cycles();  // when seen
    c->hash.usr = rte_pktmbuf_pkt_len(pkts[i]);  // the original length
    if (rte_ring_mp_enqueue(ring_, c) != 0) {
      rte_pktmbuf_free(c);
      lost_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

uint64_t CaptureBuffer::Drain() {
  if (ring_ == nullptr || file_ == nullptr) return 0;
  timeval now{};
  gettimeofday(&now, nullptr);
  const uint64_t tsc_now = rte_get_tsc_cycles();
  const uint64_t hz = rte_get_tsc_hz();
  void* objs[64];
  uint64_t total = 0;
  unsigned n;
  while ((n = rte_ring_sc_dequeue_burst(ring_, objs, 64, nullptr)) != 0) {
    for (unsigned i = 0; i < n; ++i) {
      auto* m = static_cast<rte_mbuf*>(objs[i]);
      // Wall-clock time of capture: now minus how long ago the TSC says it was.
      const uint64_t ago_us = (tsc_now - *static_cast<const uint64_t*>(rte_mbuf_to_priv(m))) * 1'000'000 / hz;
      int64_t us = static_cast<int64_t>(now.tv_sec) * 1'000'000 + now.tv_usec -
                   static_cast<int64_t>(ago_us);
      PcapRecordHeader r{static_cast<uint32_t>(us / 1'000'000), static_cast<uint32_t>(us % 1'000'000),
                         rte_pktmbuf_data_len(m), m->hash.usr};
      std::fwrite(&r, sizeof(r), 1, file_);
      std::fwrite(rte_pktmbuf_mtod(m, const void*), rte_pktmbuf_data_len(m), 1, file_);
      rte_pktmbuf_free(m);
    }
    total += n;
  }
  std::fflush(file_);
  written_ += total;
  return total;
}

void CaptureBuffer::Close() {
  if (ring_ != nullptr) {
    void* m;
    while (rte_ring_dequeue(ring_, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(ring_);
    ring_ = nullptr;
  }
  if (pool_ != nullptr) rte_mempool_free(pool_);
  pool_ = nullptr;
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
}

// ---- PortCapture ----

PortCapture::~PortCapture() { Stop(); }

bool PortCapture::Start(Dataplane& dp, uint16_t index, const std::string& pcap_path,
                        uint32_t snaplen, std::string* error, uint16_t vlan) {
  const uint16_t eth = dp.eth_port(index);
  if (const VnetPort* v = dp.vnet_port(index); v != nullptr) {
    // Its frames never pass an ethdev's callbacks.
    *error = "port " + std::to_string(index) +
             " is a VnetPort (hnv_vnet): capture on its interface instead (dumpcap -i " +
             v->iface() + ")";
    return false;
  }
  if (eth == kNoPort) {
    *error = "port " + std::to_string(index) + " is not attached";
    return false;
  }
  if (!buf_.Open(pcap_path, snaplen, error)) return false;
  dp_ = &dp;
  eth_ = eth;
  vlan_ = vlan;
  rx_cb_ = rte_eth_add_rx_callback(eth, 0, &PortCapture::OnRx, this);
  for (uint16_t q = 0; q < dp.worker_count(); ++q)
    tx_cbs_.push_back(rte_eth_add_tx_callback(eth, q, &PortCapture::OnTx, this));
  return true;
}

uint16_t PortCapture::OnRx(uint16_t, uint16_t, rte_mbuf** pkts, uint16_t n, uint16_t, void* self) {
  auto* c = static_cast<PortCapture*>(self);
  c->buf_.Copy(pkts, n, c->vlan_);
  return n;
}

uint16_t PortCapture::OnTx(uint16_t, uint16_t, rte_mbuf** pkts, uint16_t n, void* self) {
  auto* c = static_cast<PortCapture*>(self);
  c->buf_.Copy(pkts, n, c->vlan_);
  return n;
}

void PortCapture::Stop() {
  if (dp_ != nullptr) {
    if (rx_cb_ != nullptr) rte_eth_remove_rx_callback(eth_, 0, rx_cb_);
    for (size_t q = 0; q < tx_cbs_.size(); ++q)
      if (tx_cbs_[q] != nullptr) rte_eth_remove_tx_callback(eth_, static_cast<uint16_t>(q), tx_cbs_[q]);
    // No worker may still be inside a callback when its state goes away.
    dp_->SynchronizeWorkers();
    buf_.Drain();
    // DPDK leaves freeing the removed callback structures (rte_zmalloc'd) to
    // the caller.
    rte_free(const_cast<rte_eth_rxtx_callback*>(rx_cb_));
    for (const auto* cb : tx_cbs_) rte_free(const_cast<rte_eth_rxtx_callback*>(cb));
    rx_cb_ = nullptr;
    tx_cbs_.clear();
    dp_ = nullptr;
  }
  buf_.Close();
}

}  // namespace hnv
