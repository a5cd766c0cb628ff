// Guest offloads in the pipeline (dataplane/pipeline/gso.h, gro.h): a large
// TCP segment a VM sent with TSO leaves as NVGRE frames of the underlay MTU
// with every header and checksum as a NIC's TSO would make them, and the
// frames the far host receives coalesce into one segment again; partial
// checksums are finished; what cannot be split or merged is left alone.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "dataplane/packet/checksum.h"
#include "dataplane/pipeline/gro.h"
#include "dataplane/pipeline/gso.h"
#include "tests/unit/pipeline/pipeline_test_util.h"

namespace hnv::test::pipe {
namespace {

constexpr uint8_t kAck = 0x10, kPsh = 0x08, kFin = 0x01, kCwr = 0x80;

uint32_t FoldSum(uint64_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint32_t>(s);
}

// The L4 checksum field of a parsed TCP/UDP frame.
size_t CsumAt(const ParsedFrame& pf) {
  return pf.l4_offset + (pf.l4_proto == kIpProtoTcp ? offsetof(TcpHdr, checksum)
                                                    : offsetof(UdpHdr, checksum));
}

// What a Linux VM leaves for its device: the L4 checksum field holds the
// pseudo-header sum over the whole length, not complemented.
void MakePartial(Frame& f) {
  const ParsedFrame pf = Parse(f);
  const uint32_t l4_len = pf.l3_offset + pf.l3_len - pf.l4_offset;
  uint32_t sum = pf.l3 == L3Kind::kIpv4
                     ? ChecksumPartial(f.data() + pf.l3_offset + offsetof(Ipv4Hdr, src), 8)
                     : ChecksumPartial(f.data() + pf.l3_offset + offsetof(Ipv6Hdr, src), 32);
  sum = FoldSum(uint64_t{sum} + pf.l4_proto + l4_len);
  f[CsumAt(pf)] = static_cast<uint8_t>(sum >> 8);
  f[CsumAt(pf) + 1] = static_cast<uint8_t>(sum);
}

// `f` in a chain of mbufs of `seg_bytes` each (the first holds kHeadBytes
// or more), marked as a large segment of `mss` the way VnetPort marks one.
rte_mbuf* LargeMbuf(PipelineHarness& h, const Frame& f, uint16_t mss, uint32_t seg_bytes = 2048) {
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  for (size_t off = 0; off < f.size(); off += seg_bytes) {
    rte_mbuf* m = rte_pktmbuf_alloc(h.pool());
    EXPECT_NE(m, nullptr);
    const size_t n = std::min<size_t>(seg_bytes, f.size() - off);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(n)), f.data() + off, n);
    if (head == nullptr) {
      head = tail = m;
    } else {
      tail->next = m;
      tail = m;
      ++head->nb_segs;
      head->pkt_len += m->data_len;
    }
  }
  head->ol_flags |= RTE_MBUF_F_RX_LRO | RTE_MBUF_F_RX_L4_CKSUM_NONE;
  head->tso_segsz = mss;
  return head;
}

// A TCP segment of `payload` bytes (a counting pattern from `first`) from
// Contoso1 to Contoso3, as a VM sends it.
Frame TcpSegment(size_t payload, uint32_t seq, uint8_t flags = kAck | kPsh, uint16_t id = 0x1000,
                 size_t first = 0) {
  std::vector<uint8_t> bytes(payload);
  for (size_t i = 0; i < payload; ++i) bytes[i] = static_cast<uint8_t>((first + i) * 7 + 3);
  Frame f = PacketBuilder()
                .Eth(kC3Mac, kC1Mac)
                .Ipv4(kC1, kC3)
                .DontFragment()
                .Ipv4Id(id)
                .TcpWithOptions(40000, 5201, flags, {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})
                .Payload(bytes)
                .Build();
  const ParsedFrame pf = Parse(f);
  const size_t seq_at = pf.l4_offset + offsetof(TcpHdr, seq);
  for (int i = 0; i < 4; ++i) f[seq_at + i] = static_cast<uint8_t>(seq >> (24 - 8 * i));
  // The builder computed the checksum before the sequence number changed.
  f[CsumAt(pf)] = f[CsumAt(pf) + 1] = 0;
  const Be16 c = L4ChecksumV4(reinterpret_cast<const Ipv4Hdr*>(f.data() + pf.l3_offset), kIpProtoTcp,
                              f.data() + pf.l4_offset, pf.l3_offset + pf.l3_len - pf.l4_offset);
  std::memcpy(&f[CsumAt(pf)], &c, 2);
  return f;
}

Frame PayloadOf(const Frame& f) {
  const ParsedFrame pf = Parse(f);
  const size_t hdr = pf.l4_offset + (f[pf.l4_offset + 12] >> 4) * 4;
  return Frame(f.begin() + static_cast<long>(hdr), f.begin() + pf.l3_offset + pf.l3_len);
}

Frame InnerOf(const Frame& outer) { return Frame(outer.begin() + 42, outer.end()); }

Frame Bytes(const rte_mbuf* m) {
  Frame f(rte_pktmbuf_pkt_len(m));
  const void* p = rte_pktmbuf_read(m, 0, f.size(), f.data());
  if (p != f.data()) std::memcpy(f.data(), p, f.size());
  return f;
}

class OffloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h1_ = std::make_unique<PipelineHarness>(ChapterHost1());
    h2_ = std::make_unique<PipelineHarness>(ChapterHost2());
    for (PipelineHarness* h : {h1_.get(), h2_.get()}) {
      h->tables().LearnNeighbor(kUplink, kPa1, kPa1Mac);
      h->tables().LearnNeighbor(kUplink, kPa2, kPa2Mac);
      h->tables().Synchronize();
    }
  }
  // Runs the large segment `f` (partial checksum) from Contoso1 on Host 1.
  std::vector<TxFrame> SendLarge(Frame f, uint16_t mss) {
    MakePartial(f);
    rte_mbuf* m = LargeMbuf(*h1_, f, mss);
    h1_->RunMbufs(kC1Port, &m, 1);
    std::vector<TxFrame> tx = h1_->sink().frames;
    h1_->sink().frames.clear();
    return tx;
  }
  std::unique_ptr<PipelineHarness> h1_, h2_;
};

TEST_F(OffloadTest, TsoSegmentLeavesAsNvgreFramesOfTheUnderlayMtu) {
  // 64,000 bytes at the MSS the daemon clamps SYNs to (1500 - 42 - 40).
  const Frame large = TcpSegment(64000, 1000000, kAck | kPsh, 0x1000);
  const auto tx = SendLarge(large, 1418 - 12);  // 1406 + 12 bytes of options = 1418
  const uint32_t want = (64000 + 1405) / 1406;
  ASSERT_EQ(tx.size(), want);
  Frame joined;
  for (size_t i = 0; i < tx.size(); ++i) {
    SCOPED_TRACE("piece " + std::to_string(i));
    const Frame& out = tx[i].bytes;
    EXPECT_EQ(tx[i].port, kUplink);
    EXPECT_LE(out.size(), 14u + 1500u);
    EXPECT_EQ(ChecksumErrors(out), "") << DescribeFrame(out);
    EXPECT_EQ(U16At(out, 14 + 2), out.size() - 14);  // outer total length
    EXPECT_EQ(U32At(out, 38) >> 8, 6000u);
    const Frame inner = InnerOf(out);
    const ParsedFrame pf = Parse(inner);
    EXPECT_EQ(U16At(inner, pf.l3_offset + 4), 0x1000 + i);  // inner IPv4 ID, +1 a piece
    EXPECT_EQ(U32At(inner, pf.l4_offset + 4), 1000000u + 1406u * i);
    const uint8_t flags = inner[pf.l4_offset + 13];
    EXPECT_EQ(flags, i + 1 == tx.size() ? (kAck | kPsh) : kAck);
    const Frame p = PayloadOf(inner);
    EXPECT_EQ(p.size(), i + 1 == tx.size() ? 64000 - 1406 * (want - 1) : 1406u);
    joined.insert(joined.end(), p.begin(), p.end());
  }
  EXPECT_TRUE(joined == PayloadOf(large));
  EXPECT_EQ(h1_->counters().segmented, 1u);
  EXPECT_EQ(h1_->counters().encapsulated, want);
  EXPECT_EQ(h1_->total_drops(), 0u);
}

TEST_F(OffloadTest, AnMssLargerThanTheUnderlayTakesIsLowered) {
  // A VM whose SYN was not clamped (1448 + 12 of options): pieces fit anyway.
  const Frame large = TcpSegment(20000, 7, kAck);
  const auto tx = SendLarge(large, 1448);
  ASSERT_EQ(tx.size(), (20000u + 1405) / 1406);
  for (const TxFrame& t : tx) {
    EXPECT_LE(t.bytes.size(), 14u + 1500u);
    EXPECT_EQ(ChecksumErrors(t.bytes), "");
  }
}

TEST_F(OffloadTest, CwrOnTheFirstPieceFinOnTheLast) {
  const auto tx = SendLarge(TcpSegment(5000, 1, kAck | kFin | kCwr | kPsh), 1000);
  ASSERT_EQ(tx.size(), 5u);
  for (size_t i = 0; i < tx.size(); ++i) {
    const Frame inner = InnerOf(tx[i].bytes);
    const uint8_t flags = inner[Parse(inner).l4_offset + 13];
    uint8_t want = kAck;
    if (i == 0) want |= kCwr;
    if (i == 4) want |= kFin | kPsh;
    EXPECT_EQ(flags, want) << "piece " << i;
  }
}

TEST_F(OffloadTest, Ipv6AndUdpSegmentsSplitToo) {
  // A TCP segment over IPv6 (a CA family of its own routing domain is not
  // needed: the splitter does not look at policy), split directly.
  std::vector<uint8_t> body(9000, 0x5a);
  Frame v6 = PacketBuilder()
                 .Eth(kC3Mac, kC1Mac)
                 .Ipv6(Ip("2001:db8::1"), Ip("2001:db8::2"))
                 .Tcp(1, 2, kAck)
                 .Payload(body)
                 .Build();
  Frame udp = PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3).Udp(5, 6).Payload(body).Build();
  for (Frame* f : {&v6, &udp}) {
    MakePartial(*f);
    rte_mbuf* m = LargeMbuf(*h1_, *f, 1200);
    const ParsedFrame pf = Parse(*f);
    Segmenter s;
    ASSERT_TRUE(s.Start(m, pf, 1200));
    size_t total = 0, pieces = 0;
    while (rte_mbuf* p = s.Next(h1_->pool())) {
      const Frame out = Bytes(p);
      rte_pktmbuf_free(p);
      EXPECT_EQ(ChecksumErrors(out), "") << DescribeFrame(out);
      const ParsedFrame opf = Parse(out);
      EXPECT_EQ(out.size(), opf.l3_offset + opf.l3_len);
      total += out.size() - (opf.l4_offset + (f == &udp ? 8 : 20));
      ++pieces;
    }
    EXPECT_FALSE(s.failed());
    EXPECT_EQ(pieces, 8u);  // 9000 / 1200
    EXPECT_EQ(total, 9000u);
    rte_pktmbuf_free(m);
  }
}

TEST_F(OffloadTest, AUdpTrainTooBigForTheUnderlayIsDropped) {
  Frame udp = PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3).DontFragment().Udp(5, 6)
                  .Payload(6000).Build();
  const auto tx = SendLarge(udp, 1472);  // datagrams of 1,472 do not fit after 42 bytes
  EXPECT_TRUE(OnPort(tx, kUplink).empty());
  EXPECT_EQ(h1_->drops(Drop::kTooBig), 1u);
  ASSERT_EQ(OnPort(tx, kC1Port).size(), 1u);  // ICMP fragmentation needed to the VM
}

TEST_F(OffloadTest, PiecesDecapsulatedAtTheFarHostCoalesceIntoTheSegment) {
  const Frame large = TcpSegment(30000, 5000, kAck | kPsh, 0x2000);
  const auto tx = SendLarge(large, 1406);
  ASSERT_EQ(tx.size(), 22u);
  std::vector<Frame> outer;
  for (const TxFrame& t : tx) outer.push_back(t.bytes);
  const auto delivered = h2_->RunBurst(kUplink, outer);
  ASSERT_EQ(delivered.size(), 22u);
  EXPECT_EQ(h2_->total_drops(), 0u);
  // What the transmit path of a VnetPort does with them.
  std::vector<rte_mbuf*> pkts;
  for (const TxFrame& t : delivered) {
    EXPECT_EQ(t.port, kC3Port);
    pkts.push_back(h2_->MakeMbuf(t.bytes));
  }
  uint64_t merged = 0;
  const uint16_t n = CoalesceTcp(pkts.data(), static_cast<uint16_t>(pkts.size()), &merged);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(merged, 21u);
  rte_mbuf* m = pkts[0];
  EXPECT_TRUE(IsLarge(m));
  EXPECT_EQ(m->tso_segsz, 1406u);
  Frame got = Bytes(m);
  rte_pktmbuf_free(m);
  // The segment as the VM sent it, with a partial checksum.
  Frame want = large;
  MakePartial(want);
  EXPECT_EQ(FrameDiff(want, got), "");
}

TEST_F(OffloadTest, CoalescingKeepsFlowsApartAndStopsWhereLinuxGroStops) {
  auto mb = [&](const Frame& f) { return h2_->MakeMbuf(f); };
  // Two flows interleaved: each merges on its own.
  auto other_flow = [](Frame f) {  // source port 40001, checksum fixed up
    const ParsedFrame pf = Parse(f);
    f[pf.l4_offset + 1] ^= 1;
    f[CsumAt(pf)] = f[CsumAt(pf) + 1] = 0;
    const Be16 c = L4ChecksumV4(reinterpret_cast<const Ipv4Hdr*>(f.data() + pf.l3_offset),
                                kIpProtoTcp, f.data() + pf.l4_offset,
                                pf.l3_offset + pf.l3_len - pf.l4_offset);
    std::memcpy(&f[CsumAt(pf)], &c, 2);
    return f;
  };
  {
    rte_mbuf* p[4] = {mb(TcpSegment(1000, 0, kAck, 1)), mb(other_flow(TcpSegment(1000, 0, kAck, 7))),
                      mb(TcpSegment(1000, 1000, kAck, 2)), mb(other_flow(TcpSegment(1000, 1000, kAck, 8)))};
    uint64_t merged = 0;
    ASSERT_EQ(CoalesceTcp(p, 4, &merged), 2u);
    EXPECT_EQ(rte_pktmbuf_pkt_len(p[0]), 14u + 20 + 32 + 2000);
    EXPECT_EQ(rte_pktmbuf_pkt_len(p[1]), 14u + 20 + 32 + 2000);
    EXPECT_NE(Bytes(p[0])[14 + 20 + 1], Bytes(p[1])[14 + 20 + 1]);
    rte_pktmbuf_free_bulk(p, 2);
  }
  // A damaged segment is not merged, nor anything of its flow after it.
  {
    Frame bad = TcpSegment(1000, 1000, kAck, 2);
    bad[bad.size() - 1] ^= 0xff;
    rte_mbuf* p[3] = {mb(TcpSegment(1000, 0, kAck, 1)), mb(bad), mb(TcpSegment(1000, 2000, kAck, 3))};
    uint64_t merged = 0;
    ASSERT_EQ(CoalesceTcp(p, 3, &merged), 3u);
    EXPECT_EQ(merged, 0u);
    EXPECT_TRUE(Bytes(p[1]) == bad);
    rte_pktmbuf_free_bulk(p, 3);
  }
  // PSH ends a merge; FIN never merges; a gap in the sequence does not; a
  // short segment ends it.
  struct Case {
    const char* name;
    std::vector<Frame> in;
    uint16_t want;
  };
  const std::vector<Case> cases = {
      {"psh", {TcpSegment(1000, 0, kAck | kPsh, 1), TcpSegment(1000, 1000, kAck, 2)}, 2},
      {"psh last", {TcpSegment(1000, 0, kAck, 1), TcpSegment(1000, 1000, kAck | kPsh, 2)}, 1},
      {"fin", {TcpSegment(1000, 0, kAck, 1), TcpSegment(1000, 1000, kAck | kFin, 2)}, 2},
      {"gap", {TcpSegment(1000, 0, kAck, 1), TcpSegment(1000, 1001, kAck, 2)}, 2},
      {"short", {TcpSegment(1000, 0, kAck, 1), TcpSegment(500, 1000, kAck, 2),
                 TcpSegment(1000, 1500, kAck, 3)}, 2},
      {"id gap without df is fine with df", {TcpSegment(1000, 0, kAck, 1), TcpSegment(1000, 1000, kAck, 9)}, 1},
  };
  for (const Case& c : cases) {
    std::vector<rte_mbuf*> p;
    for (const Frame& f : c.in) p.push_back(mb(f));
    uint64_t merged = 0;
    EXPECT_EQ(CoalesceTcp(p.data(), static_cast<uint16_t>(p.size()), &merged), c.want)
        << c.name << "\n" << DescribeFrame(c.in[0]) << DescribeFrame(c.in[1]);
    rte_pktmbuf_free_bulk(p.data(), c.want);
  }
}

TEST_F(OffloadTest, ALargeSegmentToALocalVmPassesWhole) {
  // Flow 1 (Contoso1 -> Contoso2, same host): the port decides (dataplane.h).
  Frame f = PacketBuilder().Eth(kC2Mac, kC1Mac).Ipv4(kC1, kC2).Tcp(1, 2, kAck).Payload(40000).Build();
  MakePartial(f);
  rte_mbuf* m = LargeMbuf(*h1_, f, 1448);
  h1_->RunMbufs(kC1Port, &m, 1);
  const auto& tx = h1_->sink().frames;
  ASSERT_EQ(tx.size(), 1u);
  EXPECT_EQ(tx[0].port, kC2Port);
  EXPECT_TRUE(tx[0].bytes == f);
  EXPECT_TRUE(tx[0].large);
  EXPECT_EQ(tx[0].mss, 1448u);
}

TEST_F(OffloadTest, PartialChecksumsAreFinished) {
  for (bool udp : {false, true}) {
    Frame want = udp ? PacketBuilder().Eth(kC3Mac, kC1Mac).Ipv4(kC1, kC3).Udp(5, 6).Payload(333).Build()
                     : TcpSegment(777, 42);
    Frame partial = want;
    MakePartial(partial);
    rte_mbuf* m = LargeMbuf(*h1_, partial, 1448, 256);  // small: below any floor
    FinishReceived(&m, 1, LargeSegmentFloor(1500));
    EXPECT_FALSE(IsLarge(m));
    EXPECT_EQ(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
    EXPECT_EQ(FrameDiff(want, Bytes(m)), "") << (udp ? "udp" : "tcp");
    rte_pktmbuf_free(m);
  }
}

TEST(ChainSumTest, AgreesWithAContiguousSumAtAnySplit) {
  std::mt19937 rng(7);
  rte_mempool* pool = CreatePacketPool("chainsum", 1023, SOCKET_ID_ANY);
  ASSERT_NE(pool, nullptr);
  for (int round = 0; round < 200; ++round) {
    Frame f(1 + rng() % 5000);
    for (auto& b : f) b = static_cast<uint8_t>(rng());
    rte_mbuf* head = nullptr;
    for (size_t off = 0; off < f.size();) {
      const size_t n = std::min<size_t>(1 + rng() % 700, f.size() - off);
      rte_mbuf* m = rte_pktmbuf_alloc(pool);
      ASSERT_NE(m, nullptr);
      std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(n)), f.data() + off, n);
      if (head == nullptr) head = m;
      else ASSERT_EQ(rte_pktmbuf_chain(head, m), 0);
      off += n;
    }
    const uint32_t from = static_cast<uint32_t>(rng() % f.size());
    const uint32_t len = static_cast<uint32_t>(f.size() - from);
    EXPECT_EQ(ChainSum(head, from, len), ChecksumPartial(f.data() + from, len)) << round;
    rte_pktmbuf_free(head);
  }
  rte_mempool_free(pool);
}

}  // namespace
}  // namespace hnv::test::pipe
