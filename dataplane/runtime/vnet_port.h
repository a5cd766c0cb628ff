// VnetPort: a port on a Linux network interface through AF_PACKET sockets
// that carry the virtio-net header (PACKET_VNET_HDR), so the VM behind the
// interface keeps its offloads: it sends 64 KB TCP segments with partial
// checksums and takes them back the same way.
//
// Theory of operation. DPDK's net_af_packet reads a veth without the
// header: what the VM's kernel leaves to the device (the checksum of a
// segment, segmentation itself) arrives unfinished and the VM must turn its
// offloads off. Here the kernel tells us, per frame, what is left to do,
// exactly as it tells a virtio device (the header vhost-net and QEMU use):
//  - receive: one socket with a TPACKET_V2 ring of frames large enough for a
//    64 KB segment (rx_frames x 68 KiB, mapped once; the worker polls it, no
//    system call per frame or burst), bound to the interface, ignoring the
//    frames the port itself sends. Each frame is copied into an mbuf chain
//    of the dataplane's pool (a tag the kernel stripped into the metadata is
//    put back in the frame). A segment the kernel left to the device
//    (gso_type TCPV4/TCPV6/UDP_L4) becomes a large segment (gso.h:
//    RTE_MBUF_F_RX_LRO, tso_segsz, partial checksum) when it is at least
//    `large_floor` bytes; a partial checksum on anything else is finished
//    here (gso.h's CompleteChecksum), so the stages only ever see ordinary
//    frames and large segments. UFO (gso_type UDP) and a truncated frame are
//    dropped and counted.
//  - transmit: one socket per worker queue with a TPACKET_V2 TX ring of the
//    same frame size (tx_frames each), kicked once per burst (sendto,
//    MSG_DONTWAIT) and bypassing the qdisc. A large segment goes with its
//    header (gso_type from its IP family and protocol, gso_size tso_segsz,
//    NEEDS_CSUM at its L4 checksum): the VM's kernel takes it whole, as it
//    takes a segment from GRO. Everything else goes with an empty header.
// `gso=0` declares a VM that must not get large segments: it is then not a
// port that takes them (Dataplane segments them before, in software).
//
// Device string: "hnv_vnet<N>,iface=<name>[,rx_frames=512][,tx_frames=256][,gso=1]"
// (vnet_args.h).
// Memory: (rx_frames + workers x tx_frames) x 68 KiB of kernel ring pages.
//
// Thread contract: Open/Stats on the control thread; Receive on the one
// worker that receives the port; Send(queue) only on worker `queue`.
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hnv {

class VnetPort {
 public:
  // Whether a device string names a VnetPort.
  static bool Names(const std::string& device);
  // Opens the sockets and rings (the interface must exist and be up).
  static std::unique_ptr<VnetPort> Open(const std::string& device, uint16_t tx_queues,
                                        rte_mempool* pool, std::string* error);
  ~VnetPort();
  VnetPort(const VnetPort&) = delete;
  VnetPort& operator=(const VnetPort&) = delete;

  // Up to n frames from the receive ring; large segments of at least
  // `large_floor` bytes keep their mark (see above).
  uint16_t Receive(rte_mbuf** pkts, uint16_t n, uint32_t large_floor) noexcept;
  // Queues up to n frames on queue's ring and kicks it; returns how many were
  // taken (and freed); the rest stay the caller's.
  uint16_t Send(uint16_t queue, rte_mbuf** pkts, uint16_t n) noexcept;

  // Whether the VM takes large segments (gso=1).
  bool takes_large() const { return gso_; }
  const std::string& iface() const { return iface_; }

  struct Stats {
    uint64_t rx_dropped = 0;    // the kernel found the receive ring full (PACKET_STATISTICS)
    uint64_t rx_nombuf = 0;     // mbuf pool empty
    uint64_t rx_errors = 0;     // truncated, or a segment kind not supported (UFO)
    uint64_t tx_errors = 0;     // the kernel refused a frame (wrong format)
  };
  // Control thread.
  Stats ReadStats();

 private:
  struct Ring {
    int fd = -1;
    uint8_t* base = nullptr;
    size_t bytes = 0;
    uint32_t frames = 0;
    uint32_t next = 0;  // the next frame to read / fill
  };
  VnetPort() = default;
  static bool OpenRing(Ring* r, int ifindex, bool rx, uint32_t frames, std::string* error);
  uint8_t* Frame(const Ring& r, uint32_t i) const { return r.base + size_t{i} * kFrameSize; }
  rte_mbuf* CopyIn(const uint8_t* data, uint32_t len, const uint8_t* tag) noexcept;

  // A 64 KB segment with Ethernet, 802.1Q, the header and TPACKET_V2's own.
  static constexpr uint32_t kFrameSize = 69632;

  std::string iface_;
  bool gso_ = true;
  rte_mempool* pool_ = nullptr;
  Ring rx_;
  std::vector<Ring> tx_;
  std::atomic<uint64_t> rx_nombuf_{0};
  std::atomic<uint64_t> rx_errors_{0};
  std::atomic<uint64_t> tx_errors_{0};
  uint64_t rx_dropped_ = 0;  // control thread: PACKET_STATISTICS resets on read
};

}  // namespace hnv
