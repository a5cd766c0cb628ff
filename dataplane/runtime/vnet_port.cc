#include "dataplane/runtime/vnet_port.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dataplane/packet/parse.h"
#include "dataplane/pipeline/gso.h"
#include "dataplane/runtime/vnet_args.h"

namespace hnv {
namespace {

// The virtio-net header (virtio 1.x, section 5.1.6; little-endian, as the
// kernel's packet sockets use it on this architecture). Defined here:
// <linux/virtio_net.h> does not compile as C++ (a member named `class`).
struct VirtioNetHdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
static_assert(sizeof(VirtioNetHdr) == 10);
constexpr uint8_t kNeedsCsum = 1;
constexpr uint8_t kGsoNone = 0;
constexpr uint8_t kGsoTcpV4 = 1;
constexpr uint8_t kGsoUfo = 3;  // UFO: IP fragmentation, not supported
constexpr uint8_t kGsoTcpV6 = 4;
constexpr uint8_t kGsoUdpL4 = 5;
constexpr uint8_t kGsoEcn = 0x80;

// Where TPACKET_V2 wants a transmitted frame: after its header, less the
// address it would have on receive (packet(7), "tp_hdrlen").
constexpr uint32_t kTxDataOffset = TPACKET2_HDRLEN - sizeof(sockaddr_ll);

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

uint32_t Status(const uint8_t* frame) {
  return __atomic_load_n(&reinterpret_cast<const tpacket2_hdr*>(frame)->tp_status,
                         __ATOMIC_ACQUIRE);
}
void SetStatus(uint8_t* frame, uint32_t s) {
  __atomic_store_n(&reinterpret_cast<tpacket2_hdr*>(frame)->tp_status, s, __ATOMIC_RELEASE);
}

// The virtio-net header of a large segment leaving for the VM.
void LargeHeader(const rte_mbuf* m, VirtioNetHdr* h) {
  ParsedFrame pf;
  if (ParseFrame(rte_pktmbuf_mtod(m, const uint8_t*), m->pkt_len, &pf) != ParseError::kOk ||
      !pf.l4_present || (pf.l3 != L3Kind::kIpv4 && pf.l3 != L3Kind::kIpv6))
    return;  // an empty header: the kernel takes it as one frame
  const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
  if (pf.l4_proto == kIpProtoTcp) {
    const auto* tcp = pf.At<TcpHdr>(f, pf.l4_offset);
    h->gso_type = pf.l3 == L3Kind::kIpv4 ? kGsoTcpV4 : kGsoTcpV6;
    if (tcp->flags & 0x80) h->gso_type |= kGsoEcn;  // CWR
    h->hdr_len = static_cast<uint16_t>(pf.l4_offset + tcp->header_bytes());
    h->csum_offset = offsetof(TcpHdr, checksum);
  } else if (pf.l4_proto == kIpProtoUdp) {
    h->gso_type = kGsoUdpL4;
    h->hdr_len = static_cast<uint16_t>(pf.l4_offset + sizeof(UdpHdr));
    h->csum_offset = offsetof(UdpHdr, checksum);
  } else {
    return;
  }
  h->flags = kNeedsCsum;
  h->gso_size = m->tso_segsz;
  h->csum_start = pf.l4_offset;
}

}  // namespace

bool VnetPort::Names(const std::string& device) { return VnetArgs::Names(device); }

bool VnetPort::OpenRing(Ring* r, int ifindex, bool rx, uint32_t frames, std::string* error) {
  // Protocol 0 until the ring is set up: nothing is queued before bind.
  r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (r->fd < 0) {
    *error = Errno("socket(AF_PACKET)");
    return false;
  }
  int v = TPACKET_V2;
  const int one = 1;
  if (setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) != 0 ||
      setsockopt(r->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) != 0) {
    *error = Errno("PACKET_VERSION / PACKET_VNET_HDR");
    return false;
  }
  if (rx) {
    // The frames this port's transmit sockets send are outgoing here too.
    if (setsockopt(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) != 0) {
      *error = Errno("PACKET_IGNORE_OUTGOING");
      return false;
    }
  } else if (setsockopt(r->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) != 0 ||
             setsockopt(r->fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)) != 0) {
    *error = Errno("PACKET_QDISC_BYPASS / PACKET_LOSS");
    return false;
  }
  tpacket_req req{};
  req.tp_block_size = kFrameSize;
  req.tp_frame_size = kFrameSize;
  req.tp_block_nr = frames;
  req.tp_frame_nr = frames;
  if (setsockopt(r->fd, SOL_PACKET, rx ? PACKET_RX_RING : PACKET_TX_RING, &req, sizeof(req)) != 0) {
    *error = Errno(rx ? "PACKET_RX_RING" : "PACKET_TX_RING");
    return false;
  }
  r->frames = frames;
  r->bytes = size_t{frames} * kFrameSize;
  void* p = mmap(nullptr, r->bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, 0);
  if (p == MAP_FAILED) {
    *error = Errno("mmap of the packet ring");
    return false;
  }
  r->base = static_cast<uint8_t*>(p);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  sll.sll_protocol = rx ? htons(ETH_P_ALL) : 0;  // a transmit socket receives nothing
  if (bind(r->fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
    *error = Errno("bind");
    return false;
  }
  return true;
}

std::unique_ptr<VnetPort> VnetPort::Open(const std::string& device, uint16_t tx_queues,
                                         rte_mempool* pool, std::string* error) {
  std::unique_ptr<VnetPort> p(new VnetPort());
  VnetArgs args;
  if (!args.Parse(device, error)) return nullptr;
  p->iface_ = args.iface;
  p->gso_ = args.gso;
  const uint32_t rx_frames = args.rx_frames, tx_frames = args.tx_frames;
  const std::string where = "'" + device + "': ";
  const int ifindex = static_cast<int>(if_nametoindex(p->iface_.c_str()));
  if (ifindex == 0) {
    *error = where + Errno("interface " + p->iface_);
    return nullptr;
  }
  p->pool_ = pool;
  if (!OpenRing(&p->rx_, ifindex, true, rx_frames, error)) {
    *error = where + *error;
    return nullptr;
  }
  p->tx_.resize(tx_queues);
  for (Ring& r : p->tx_) {
    if (!OpenRing(&r, ifindex, false, tx_frames, error)) {
      *error = where + *error;
      return nullptr;
    }
  }
  return p;
}

VnetPort::~VnetPort() {
  auto close_ring = [](Ring& r) {
    if (r.base != nullptr) munmap(r.base, r.bytes);
    if (r.fd >= 0) close(r.fd);
  };
  close_ring(rx_);
  for (Ring& r : tx_) close_ring(r);
}

// Copies a received frame (the tag `tag`, when not null, goes back after the
// MAC addresses) into a chain of pool mbufs.
rte_mbuf* VnetPort::CopyIn(const uint8_t* data, uint32_t len, const uint8_t* tag) noexcept {
  rte_mbuf* head = rte_pktmbuf_alloc(pool_);
  if (head == nullptr) return nullptr;
  rte_mbuf* tail = head;
  auto put = [&](const uint8_t* src, uint32_t n) {
    while (n != 0) {
      if (rte_pktmbuf_tailroom(tail) == 0) {
        rte_mbuf* more = rte_pktmbuf_alloc(pool_);
        if (more == nullptr) return false;
        more->data_off = 0;  // only the first needs headroom (encapsulation)
        tail->next = more;
        tail = more;
        ++head->nb_segs;
      }
      const uint32_t k = std::min<uint32_t>(n, rte_pktmbuf_tailroom(tail));
      std::memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t*, tail->data_len), src, k);
      tail->data_len = static_cast<uint16_t>(tail->data_len + k);
      head->pkt_len += k;
      src += k;
      n -= k;
    }
    return true;
  };
  bool ok;
  if (tag != nullptr) {
    ok = put(data, 12) && put(tag, 4) && put(data + 12, len - 12);
  } else {
    ok = put(data, len);
  }
  if (!ok) {
    rte_pktmbuf_free(head);
    return nullptr;
  }
  return head;
}

uint16_t VnetPort::Receive(rte_mbuf** pkts, uint16_t n, uint32_t large_floor) noexcept {
  uint16_t got = 0;
  while (got < n) {
    uint8_t* fr = Frame(rx_, rx_.next);
    const uint32_t status = Status(fr);
    if ((status & TP_STATUS_USER) == 0) break;
    const auto* h = reinterpret_cast<const tpacket2_hdr*>(fr);
    const uint8_t* data = fr + h->tp_mac;
    const auto* vh = reinterpret_cast<const VirtioNetHdr*>(data - sizeof(VirtioNetHdr));
    rte_mbuf* m = nullptr;
    const uint8_t gso = vh->gso_type & static_cast<uint8_t>(~kGsoEcn);
    if (h->tp_snaplen != h->tp_len || h->tp_len < 14 || gso == kGsoUfo) {
      rx_errors_.fetch_add(1, std::memory_order_relaxed);
    } else {
      uint8_t tag[4];
      const bool tagged = (status & TP_STATUS_VLAN_VALID) != 0;
      if (tagged) {
        const uint16_t tpid = (status & TP_STATUS_VLAN_TPID_VALID) ? h->tp_vlan_tpid : ETH_P_8021Q;
        const uint16_t tpid_be = htons(tpid), tci_be = htons(h->tp_vlan_tci);
        std::memcpy(tag, &tpid_be, 2);
        std::memcpy(tag + 2, &tci_be, 2);
      }
      m = CopyIn(data, h->tp_snaplen, tagged ? tag : nullptr);
      if (m == nullptr) {
        rx_nombuf_.fetch_add(1, std::memory_order_relaxed);
      } else if (vh->flags & kNeedsCsum) {
        const uint32_t start = vh->csum_start + (tagged ? 4u : 0u);
        if (gso != kGsoNone && vh->gso_size != 0 && m->pkt_len >= large_floor) {
          m->ol_flags |= RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_NONE;
          m->tso_segsz = vh->gso_size;
        } else if (!CompleteChecksum(m, start, vh->csum_offset, gso == kGsoUdpL4 ||
                                                                    vh->csum_offset == 6)) {
          rx_errors_.fetch_add(1, std::memory_order_relaxed);
          rte_pktmbuf_free(m);
          m = nullptr;
        }
      } else if (gso != kGsoNone && vh->gso_size != 0 && m->pkt_len >= large_floor) {
        // A segment without a partial checksum: its pieces get full ones anyway.
        m->ol_flags |= RTE_MBUF_F_RX_LRO;
        m->tso_segsz = vh->gso_size;
      }
    }
    SetStatus(fr, TP_STATUS_KERNEL);
    rx_.next = rx_.next + 1 == rx_.frames ? 0 : rx_.next + 1;
    if (m != nullptr) pkts[got++] = m;
  }
  return got;
}

uint16_t VnetPort::Send(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept {
  Ring& r = tx_[queue];
  uint16_t sent = 0;
  while (sent < n) {
    uint8_t* fr = Frame(r, r.next);
    const uint32_t status = Status(fr);
    if (status != TP_STATUS_AVAILABLE) {
      if (status == TP_STATUS_WRONG_FORMAT) tx_errors_.fetch_add(1, std::memory_order_relaxed);
      break;  // the kernel still holds it (the VM has not taken the data yet)
    }
    rte_mbuf* m = pkts[sent];
    if (m->pkt_len > kFrameSize - kTxDataOffset - sizeof(VirtioNetHdr)) {
      // Never from the pipeline (its segments are 64 KB at most): taken
      // and counted as refused.
      tx_errors_.fetch_add(1, std::memory_order_relaxed);
      rte_pktmbuf_free(m);
      pkts[sent++] = nullptr;
      continue;
    }
    uint8_t* out = fr + kTxDataOffset;
    VirtioNetHdr vh{};
    if (IsLarge(m)) LargeHeader(m, &vh);
    std::memcpy(out, &vh, sizeof(vh));
    uint8_t* p = out + sizeof(vh);
    for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
      std::memcpy(p, rte_pktmbuf_mtod(s, const uint8_t*), s->data_len);
      p += s->data_len;
    }
    reinterpret_cast<tpacket2_hdr*>(fr)->tp_len = static_cast<uint32_t>(sizeof(vh) + m->pkt_len);
    SetStatus(fr, TP_STATUS_SEND_REQUEST);
    r.next = r.next + 1 == r.frames ? 0 : r.next + 1;
    ++sent;
  }
  if (sent != 0) {
    // Errors (ENOBUFS when the device is busy) leave frames queued for the
    // next kick; the kernel marks a frame it refuses WRONG_FORMAT.
    sendto(r.fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    rte_pktmbuf_free_bulk(pkts, sent);  // (skips the refused ones, now null)
  }
  return sent;
}

VnetPort::Stats VnetPort::ReadStats() {
  tpacket_stats st{};
  socklen_t len = sizeof(st);
  if (getsockopt(rx_.fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) rx_dropped_ += st.tp_drops;
  Stats s;
  s.rx_dropped = rx_dropped_;
  s.rx_nombuf = rx_nombuf_.load(std::memory_order_relaxed);
  s.rx_errors = rx_errors_.load(std::memory_order_relaxed);
  s.tx_errors = tx_errors_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace hnv
