#include "tests/bench/bench_traffic.h"

#include <cstdlib>
#include <cstring>
#include <random>

#include "dataplane/packet/checksum.h"
#include "tests/bench/bench_policy.h"
#include "tests/lib/packet_builder.h"

namespace hnv::bench {
namespace {

// Frame offsets (no VLAN anywhere).
constexpr uint32_t kEth = sizeof(EthHdr);
constexpr uint32_t kIpSrc = 12, kIpDst = 16, kIpCsum = 10;              // inside the IPv4 header
constexpr uint32_t kInner = kEth + sizeof(Ipv4Hdr) + sizeof(NvgreHdr);  // decap: inner frame
constexpr uint32_t kUdpCsum = 6;

constexpr uint32_t kHeaders = kEth + sizeof(Ipv4Hdr) + sizeof(UdpHdr);

IpAddr V4(uint32_t a) { return IpAddr::V4(a); }

void PutAddr(uint8_t* p, uint32_t host_order) {
  const uint32_t be = HostToNet(host_order);
  std::memcpy(p, &be, 4);
}

void PutMac(uint8_t* p, uint64_t mac) {
  const uint64_t be = ByteSwap(mac << 16);
  std::memcpy(p, &be, 6);
}

// Sums are of big-endian 16-bit words taken as numbers (ChecksumPartial's
// convention): an address adds its two halves.
uint32_t AddAddr(uint32_t sum, uint32_t host_order) {
  return sum + (host_order & 0xffff) + (host_order >> 16);
}

void PutChecksum(uint8_t* p, uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  const uint16_t c = HostToNet(static_cast<uint16_t>(~sum));
  std::memcpy(p, &c, 2);
}

// The partial sum of the IPv4 header at `ip` with its checksum and the
// address at `addr_off` zeroed.
uint32_t BaseSum(std::vector<uint8_t>* f, uint32_t ip, uint32_t addr_off) {
  std::memset(f->data() + ip + kIpCsum, 0, 2);
  std::memset(f->data() + ip + addr_off, 0, 4);
  return ChecksumPartial(f->data() + ip, sizeof(Ipv4Hdr));
}

void ZeroUdpChecksum(std::vector<uint8_t>* f, uint32_t udp) {
  std::memset(f->data() + udp + kUdpCsum, 0, 2);
}

}  // namespace

const char* FlowName(Flow f) {
  switch (f) {
    case Flow::kEncap:
      return "encap";
    case Flow::kDecap:
      return "decap";
    case Flow::kRouteLocal:
      return "route_local";
    case Flow::kRouteEncap:
      return "route_encap";
  }
  return "?";
}

Traffic::Traffic(Flow flow, uint32_t frame_len, uint32_t remote_records)
    : flow_(flow), frame_len_(frame_len), remote_(remote_records) {
  if (frame_len < 64 || remote_records == 0) std::abort();
  const uint32_t payload = frame_len - kHeaders;
  const MacAddr r0_mac = MacFromU64(RemoteMacU64(0));
  switch (flow) {
    case Flow::kEncap:
      tmpl_ = test::PacketBuilder()
                  .Eth(r0_mac, BenchAMac())
                  .Ipv4(V4(kBenchACa), V4(RemoteCa(0)))
                  .Udp(49152, 5001)
                  .Payload(payload)
                  .Build();
      ZeroUdpChecksum(&tmpl_, kEth + sizeof(Ipv4Hdr));
      sum_[0] = BaseSum(&tmpl_, kEth, kIpDst);
      break;
    case Flow::kRouteLocal:
    case Flow::kRouteEncap: {
      const bool local = flow == Flow::kRouteLocal;
      tmpl_ = test::PacketBuilder()
                  .Eth(local ? DfgwAMac() : DfgwBMac(), local ? BenchAMac() : BenchBMac(0))
                  .Ipv4(V4(local ? kBenchACa : kFirstBenchBCa), V4(0))
                  .Udp(49152, 5001)
                  .Payload(payload)
                  .Build();
      ZeroUdpChecksum(&tmpl_, kEth + sizeof(Ipv4Hdr));
      sum_[0] = BaseSum(&tmpl_, kEth, kIpDst);
      break;
    }
    case Flow::kDecap:
      tmpl_ = test::PacketBuilder()
                  .Eth(LocalPaMac(), ProviderGwMac())
                  .Ipv4(V4(RemotePa(0)), V4(kLocalPa))
                  .Nvgre(kVsidA, 0)
                  .Eth(BenchAMac(), r0_mac)
                  .Ipv4(V4(RemoteCa(0)), V4(kBenchACa))
                  .Udp(5001, 49152)
                  .Payload(payload)
                  .Build();
      ZeroUdpChecksum(&tmpl_, kInner + kEth + sizeof(Ipv4Hdr));
      sum_[0] = BaseSum(&tmpl_, kEth, kIpSrc);
      sum_[1] = BaseSum(&tmpl_, kInner + kEth, kIpSrc);
      break;
  }
  const uint32_t range = flow == Flow::kRouteLocal ? kBenchBCount : remote_records;
  std::mt19937_64 rng(0x4e56475245ull + static_cast<uint64_t>(flow) * 1000 + frame_len);
  std::uniform_int_distribution<uint32_t> pick(0, range - 1);
  seq_.resize(kSequenceLength);
  for (uint32_t& s : seq_) s = pick(rng);
}

uint16_t Traffic::rx_port() const {
  switch (flow_) {
    case Flow::kEncap:
    case Flow::kRouteLocal:
      return kBenchAPort;
    case Flow::kDecap:
      return kUplinkPort;
    case Flow::kRouteEncap:
      return kFirstBenchBPort;
  }
  return kUplinkPort;
}

bool Traffic::Refill(rte_mempool* pool, rte_mbuf** pkts, uint16_t n,
                     const std::atomic<uint64_t>* moves) noexcept {
  if (rte_pktmbuf_alloc_bulk(pool, pkts, n) != 0) return false;
  // Moves so far = passes * remote_ + next: record i has moved `passes`
  // times, or once more if i < next.
  uint64_t passes = 0;
  uint32_t next = 0;
  if (moves != nullptr && flow_ == Flow::kDecap) {
    const uint64_t done = moves->load(std::memory_order_acquire);
    passes = done / remote_;
    next = static_cast<uint32_t>(done % remote_);
  }
  const auto len = static_cast<uint16_t>(tmpl_.size());
  const uint8_t* t = tmpl_.data();
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    uint8_t* d = rte_pktmbuf_mtod(m, uint8_t*);
    std::memcpy(d, t, len);
    m->data_len = len;
    m->pkt_len = len;
    const uint32_t r = seq_[pos_++ & (kSequenceLength - 1)];
    switch (flow_) {
      case Flow::kEncap: {
        PutMac(d, RemoteMacU64(r));
        PutAddr(d + kEth + kIpDst, RemoteCa(r));
        PutChecksum(d + kEth + kIpCsum, AddAddr(sum_[0], RemoteCa(r)));
        break;
      }
      case Flow::kRouteLocal:
        PutAddr(d + kEth + kIpDst, kFirstBenchBCa + r);
        PutChecksum(d + kEth + kIpCsum, AddAddr(sum_[0], kFirstBenchBCa + r));
        break;
      case Flow::kRouteEncap:
        PutAddr(d + kEth + kIpDst, RemoteCa(r));
        PutChecksum(d + kEth + kIpCsum, AddAddr(sum_[0], RemoteCa(r)));
        break;
      case Flow::kDecap: {
        const uint32_t pa = RemotePa(MovedPaIndex(r, passes + (r < next ? 1 : 0)));
        PutAddr(d + kEth + kIpSrc, pa);
        PutChecksum(d + kEth + kIpCsum, AddAddr(sum_[0], pa));
        PutMac(d + kInner + 6, RemoteMacU64(r));
        PutAddr(d + kInner + kEth + kIpSrc, RemoteCa(r));
        PutChecksum(d + kInner + kEth + kIpCsum, AddAddr(sum_[1], RemoteCa(r)));
        break;
      }
    }
  }
  return true;
}

}  // namespace hnv::bench
