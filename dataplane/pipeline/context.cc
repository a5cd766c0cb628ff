#include "dataplane/pipeline/context.h"

#include "dataplane/pipeline/port_acl.h"

namespace hnv {

rte_mempool* CreatePacketPool(const char* name, uint32_t mbufs, int socket) {
  const uint16_t priv = RTE_ALIGN(sizeof(PacketMeta), RTE_MBUF_PRIV_ALIGN);
  return rte_pktmbuf_pool_create(name, mbufs, 256, priv, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
}

void WorkerContext::FlushPort(uint16_t port) noexcept {
  auto& b = tx_buf[port];
  tx_dirty[port / 64] &= ~(uint64_t{1} << (port % 64));
  if (b.n == 0) return;
  if (const PortAclTable* acl = snap != nullptr ? snap->ports[port].acl : nullptr;
      acl != nullptr) [[unlikely]] {
    FilterDelivery(port, *acl);
    if (b.n == 0) return;
  }
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < b.n; ++i) bytes += rte_pktmbuf_pkt_len(b.pkts[i]);
  const uint16_t sent = tx->Send(port, b.pkts, b.n);
  for (uint16_t i = sent; i < b.n; ++i) {
    bytes -= rte_pktmbuf_pkt_len(b.pkts[i]);
    Discard(b.pkts[i], Drop::kTxFull);
  }
  counters->tx_packets[port] += sent;
  counters->tx_bytes[port] += bytes;
  b.n = 0;
}

void WorkerContext::FilterDelivery(uint16_t port, const PortAclTable& t) noexcept {
  auto& b = tx_buf[port];
  // Sessions live on the worker that receives the port (port % workers, as
  // Dataplane::AttachPort assigns them): hand the frames over to it.
  const uint32_t owner = port % workers;
  if (t.stateful && owner != worker_id && handoff != nullptr) {
    for (uint16_t i = 0; i < b.n; ++i) {
      Meta(b.pkts[i])->out_port = port;
      HandOff(owner, b.pkts[i]);
    }
    b.n = 0;
    return;
  }
  if (t.stateful && acl_sessions != nullptr) acl_sessions->Tick();
  // Parsed first, then checked together (their session lookups overlap).
  ParsedFrame pf[kBurstSize];
  AclFrame frames[kBurstSize];
  rte_mbuf* parsed[kBurstSize];
  uint16_t np = 0;
  for (uint16_t i = 0; i < b.n; ++i) {
    rte_mbuf* m = b.pkts[i];
    const uint32_t len = rte_pktmbuf_pkt_len(m);
    if (ParseFrame(Data(m), len, &pf[np]) != ParseError::kOk) {
      Discard(m, Drop::kMalformed);
      continue;
    }
    frames[np] = AclFrame{Data(m), &pf[np], len};
    parsed[np++] = m;
  }
  Drop why[kBurstSize];
  CheckPortAcls(*this, t, PortAclTable::kIn, port, frames, np, why);
  uint16_t k = 0;
  for (uint16_t i = 0; i < np; ++i) {
    if (why[i] == Drop::kCount) b.pkts[k++] = parsed[i];
    else Discard(parsed[i], why[i]);
  }
  b.n = k;
}

void WorkerContext::FlushHandoff(uint32_t w) noexcept {
  auto& b = handoff_buf[w];
  handoff_dirty &= ~(1u << w);
  if (b.n == 0) return;
  const unsigned sent = handoff == nullptr
                            ? 0
                            : rte_ring_mp_enqueue_burst(handoff[w], reinterpret_cast<void**>(b.pkts),
                                                        b.n, nullptr);
  counters->handoff_out += sent;
  for (unsigned i = sent; i < b.n; ++i) Discard(b.pkts[i], Drop::kHandoffFull);
  b.n = 0;
}

}  // namespace hnv
