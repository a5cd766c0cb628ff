// libFuzzer target for the whole pipeline as Host 1 of the chapter runs it
// (ChapterHost1(): uplink port 0 with PA 192.168.0.22, Contoso1 on port 1,
// Contoso2 on port 2, both VSID 6000; Host 2's PA 192.168.0.33 and the
// gateway host's 192.168.0.11 resolved on the uplink).
//
// Input: one selector byte, then one Ethernet frame. The selector's low bit
// picks the receiving port: 0 the uplink (provider-ingress -> nvgre-decap ->
// deliver), 1 Contoso1's VM port (vm-ingress -> l2-switch -> arp-nd ->
// router -> nvgre-encap). Bits 1 and 2 repair the outer IP checksum and
// length first (RepairOuter). Frames larger than an mbuf's data room are
// refused.
// Each input runs as a one-frame burst; a sink checks every transmitted frame
// and frees it. It traps (abort, after printing why) when:
//   - a transmitted frame does not parse, is segmented, or leaves on a port
//     the policy does not have;
//   - a frame sent to a VM port carries an 802.1Q tag;
//   - a GRE frame sent on the uplink is not NVGRE (flags 0x2000, protocol
//     0x6558), has a bad outer IPv4 header checksum or length, or is not from
//     Host 1's PA and PA MAC to a peer's PA at its resolved MAC;
//   - received on the uplink: what reaches the VM ports differs from what an
//     independent reading of RFC 7637 and the chapter's policy expects
//     (UplinkOracle below): the exact inner frame, to exactly the ports of its
//     destination MAC, and only if the outer headers, GRE header, VSID and
//     source check all pass; anything sent back on the uplink is other than
//     an ARP reply or echo reply from the PA;
//   - received on the VM port: an uplink frame is not NVGRE from our PA to a
//     resolved peer on VSID 6000/6001, or carries an inner frame that is
//     tagged, multicast (floods and broadcast ARP stay on the host), or not
//     from Contoso1's or a DFGW's MAC;
//   - an event other than a provider-neighbour event from the uplink is posted;
//   - a frame disappears with no transmit and no drop counted;
//   - rte_mempool_avail_count() differs after the input (an mbuf leaked or
//     was freed twice).
//
// The seed corpus (tests/fuzz/corpus/decap/) is made by this program:
//   HNV_DECAP_WRITE_SEEDS=tests/fuzz/corpus/decap build-fuzz/tests/fuzz/decap_fuzz
// writes one file per seed and exits. At every start the seeds are run once
// and their expected output ports checked, so a harness that is wired wrong
// (tables, neighbours) fails at once instead of fuzzing only drops.
// HNV_DECAP_STATS=1 prints the pipeline's counters at exit (which drop
// reasons a corpus reaches: decap_fuzz -runs=0 <corpus dir>).
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/packet/checksum.h"
#include "dataplane/packet/parse.h"
#include "dataplane/pipeline/context.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/policy/tables.h"
#include "tests/lib/chapter_policy.h"
#include "tests/lib/packet_builder.h"

namespace hnv::fuzz {
namespace {

using test::Ip;
using test::Mac;
using test::PacketBuilder;

constexpr uint16_t kUplink = test::kChapterUplinkPort;  // 0
constexpr uint16_t kVm1 = 1;                            // Contoso1
constexpr uint16_t kVm2 = 2;                            // Contoso2
constexpr uint32_t kVsid = 6000;                        // of both VM ports
constexpr uint32_t kVsidGw = 6001;

struct Addrs {
  IpAddr pa1 = Ip("192.168.0.22"), pa2 = Ip("192.168.0.33"), pa_gw = Ip("192.168.0.11");
  MacAddr pa1_mac = Mac("324455667788");  // Host 1's PA MAC (chapter_policy.h)
  MacAddr pa2_mac = Mac("445566778899"), pa_gw_mac = Mac("223344556677");  // learned neighbours
  MacAddr c1 = Mac("600060000101"), c2 = Mac("600060000102"), c3 = Mac("600060000203");
  MacAddr mtgw = Mac("600160010301");
  MacAddr dfgw = Mac("600060000100"), dfgw_gw = Mac("600160010300");
  IpAddr ca1 = Ip("10.0.1.101"), ca2 = Ip("10.0.1.102"), ca3 = Ip("10.0.1.103");
  IpAddr dfgw_ip = Ip("10.0.1.1"), gw_ip = Ip("10.0.2.2");
  IpPrefix net_vm = test::Prefix("10.0.1.0/24"), net_gw = test::Prefix("10.0.2.0/24");
};
const Addrs& A() {
  static const Addrs a;
  return a;
}

// The VSID of a GRE header at `p`, read byte by byte: headers sit at 2-byte
// offsets in frames, and calling NvgreHdr::vsid() there is a misaligned
// member call (UBSan), which this harness must not add itself.
uint32_t VsidAt(const uint8_t* p) { return uint32_t{p[4]} << 16 | uint32_t{p[5]} << 8 | p[6]; }

[[noreturn]] void Fail(const char* fmt, ...) {
  std::va_list ap;
  va_start(ap, fmt);
  std::fputs("decap_fuzz: invariant failed: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  std::abort();
}

void Dump(const char* what, const uint8_t* p, uint32_t n) {
  std::fprintf(stderr, "%s (%u bytes):", what, n);
  for (uint32_t i = 0; i < n; ++i) std::fprintf(stderr, "%s%02x", i % 16 == 0 ? "\n  " : " ", p[i]);
  std::fputc('\n', stderr);
}

// ---------------------------------------------------------------------------
// What Host 1 must deliver to its VM ports for a frame received on the
// uplink, written from RFC 7637 and the policy rather than from the stages:
//  outer: parses; untagged or VID 0; to the PA's MAC (324455667788); IPv4
//    to 192.168.0.22 (Host 1 has no IPv6 PA) with a valid header checksum;
//    GRE; not a fragment;
//  GRE: flags/version exactly 0x2000, protocol 0x6558, VSID 6000 (VSID 6001
//    is known but has no VM port here);
//  inner: the bytes between the GRE header and the end of the outer IP
//    packet; at least an Ethernet header; parses; untagged;
//  source: Contoso3's CA 10.0.1.103 from 192.168.0.33, MT-GW's 10.0.2.2 from
//    192.168.0.11, Contoso3's MAC from 192.168.0.33 when the frame has no
//    routable IPv4 source (unspecified, IPv6, non-IP), or an IPv4 source the
//    default route sends to the gateway 10.0.2.2 (outside both subnets) from
//    192.168.0.11;
//  delivery: broadcast/multicast to ports 1 and 2; Contoso1's MAC to 1,
//    Contoso2's to 2; nothing else (the DFGW MAC has no port).
struct Expect {
  uint32_t vm_ports = 0;  // bit per port
  const uint8_t* inner = nullptr;
  uint32_t inner_len = 0;
};

Expect UplinkOracle(const uint8_t* d, uint32_t n) {
  const Addrs& a = A();
  Expect e;
  ParsedFrame o;
  if (ParseFrame(d, n, &o) != ParseError::kOk) return e;
  if (o.has_vlan && o.vlan_id != 0) return e;
  MacAddr outer_dst;
  std::memcpy(outer_dst.b.data(), d, 6);
  if (outer_dst != a.pa1_mac) return e;
  if (o.l3 != L3Kind::kIpv4) return e;
  const auto* ip = o.At<Ipv4Hdr>(d, o.l3_offset);
  if (IpAddr::V4Raw(ip->dst) != a.pa1 || !Ipv4HeaderChecksumOk(ip)) return e;
  if (o.l4_proto != kIpProtoGre || o.is_fragment || !o.l4_present) return e;
  const auto* gre = o.At<NvgreHdr>(d, o.l4_offset);
  if (gre->flags_version.ToHost() != 0x2000 || gre->protocol.ToHost() != 0x6558) return e;
  if (VsidAt(d + o.l4_offset) != kVsid) return e;
  const uint32_t inner_off = o.l4_offset + 8u;
  const uint32_t outer_end = o.l3_offset + o.l3_len;
  if (outer_end < inner_off + 14u) return e;
  const uint8_t* f = d + inner_off;
  const uint32_t len = outer_end - inner_off;
  ParsedFrame in;
  if (ParseFrame(f, len, &in) != ParseError::kOk || in.has_vlan) return e;

  // The claimed source.
  MacAddr src_mac;
  std::memcpy(src_mac.b.data(), f + 6, 6);
  IpAddr src_ip;  // 0.0.0.0 unless IP or ARP
  if (in.l3 == L3Kind::kArp) {
    const auto* arp = in.At<ArpHdr>(f, in.l3_offset);
    src_ip = IpAddr::V4Raw(arp->spa);
    src_mac = arp->sha;
  } else if (in.l3 == L3Kind::kIpv4) {
    src_ip = IpAddr::V4Raw(in.At<Ipv4Hdr>(f, in.l3_offset)->src);
  } else if (in.l3 == L3Kind::kIpv6) {
    src_ip = IpAddr::V6Raw(in.At<Ipv6Hdr>(f, in.l3_offset)->src);
    // A neighbour advertisement speaks for its target address.
    if (in.l4_present && in.l4_proto == kIpProtoIcmp6 && f[in.l4_offset] == kIcmp6NeighborAdvert &&
        in.l4_offset + sizeof(NdHdr) <= len)
      src_ip = IpAddr::V6Raw(in.At<NdHdr>(f, in.l4_offset)->target);
  }
  const IpAddr outer_src = IpAddr::V4Raw(ip->src);
  const bool routable_v4 = src_ip.is_v4() && !src_ip.IsUnspecified();
  bool ok = false;
  if (outer_src == a.pa2) {
    ok = src_ip == a.ca3 || (src_mac == a.c3 && !routable_v4);
  } else if (outer_src == a.pa_gw) {
    ok = src_ip == a.gw_ip ||
         (routable_v4 && !a.net_vm.Contains(src_ip) && !a.net_gw.Contains(src_ip));
  }
  if (!ok) return e;

  MacAddr dst;
  std::memcpy(dst.b.data(), f, 6);
  if (dst.IsMulticast())
    e.vm_ports = 1u << kVm1 | 1u << kVm2;
  else if (dst == a.c1)
    e.vm_ports = 1u << kVm1;
  else if (dst == a.c2)
    e.vm_ports = 1u << kVm2;
  e.inner = f;
  e.inner_len = len;
  return e;
}

// ---------------------------------------------------------------------------

class CheckingSink;

struct Fuzz {
  rte_rcu_qsbr* qsv = nullptr;
  rte_mempool* pool = nullptr;
  rte_ring* events = nullptr;
  std::unique_ptr<PolicyTables> tables;
  std::unique_ptr<CheckingSink> sink;
  WorkerCounters counters;
  WorkerContext ctx;
  Pipeline pipeline;
  uint32_t max_frame = 0;
};

// The input being run, for the sink.
struct Current {
  uint16_t port = 0;
  const uint8_t* frame = nullptr;
  uint32_t len = 0;
  Expect expect;
  uint32_t vm_seen = 0;  // ports that got the inner frame
  uint32_t uplink_out = 0;
  uint32_t ports_out = 0;  // bit per port, any frame
  uint32_t sent = 0;
};
Current g_cur;

void FailFrame(const char* why, uint16_t port, const uint8_t* f, uint32_t n) {
  Dump("input frame", g_cur.frame, g_cur.len);
  Dump("transmitted frame", f, n);
  Fail("%s (input on port %u, frame sent on port %u)", why, g_cur.port, port);
}

// An NVGRE frame Host 1 sends: checked for every GRE frame on the uplink.
void CheckNvgreOut(const uint8_t* f, uint32_t n, const ParsedFrame& pf) {
  const Addrs& a = A();
  if (!pf.l4_present || pf.is_fragment)
    FailFrame("GRE sent without a whole GRE header", kUplink, f, n);
  const auto* gre = pf.At<NvgreHdr>(f, pf.l4_offset);
  if (gre->flags_version.ToHost() != 0x2000) FailFrame("NVGRE flags are not 0x2000", kUplink, f, n);
  if (gre->protocol.ToHost() != 0x6558) FailFrame("NVGRE protocol is not 0x6558", kUplink, f, n);
  if (pf.l3 != L3Kind::kIpv4) FailFrame("NVGRE not over IPv4 (Host 1 has IPv4 PAs)", kUplink, f, n);
  const auto* ip = pf.At<Ipv4Hdr>(f, pf.l3_offset);
  if (!Ipv4HeaderChecksumOk(ip)) FailFrame("bad outer IPv4 header checksum", kUplink, f, n);
  if (pf.l3_offset + pf.l3_len != n) FailFrame("outer IP length is not the frame's", kUplink, f, n);
  if (IpAddr::V4Raw(ip->src) != a.pa1) FailFrame("outer source is not Host 1's PA", kUplink, f, n);
  const IpAddr dst = IpAddr::V4Raw(ip->dst);
  const auto* eth = reinterpret_cast<const EthHdr*>(f);
  if (eth->src != a.pa1_mac) FailFrame("outer source MAC is not the PA's", kUplink, f, n);
  if (!(dst == a.pa2 && eth->dst == a.pa2_mac) && !(dst == a.pa_gw && eth->dst == a.pa_gw_mac))
    FailFrame("outer destination is not a resolved peer", kUplink, f, n);
  const uint32_t vsid = VsidAt(f + pf.l4_offset);
  if (vsid != kVsid && vsid != kVsidGw) FailFrame("VSID not in the policy", kUplink, f, n);
  const uint32_t inner_off = pf.l4_offset + sizeof(NvgreHdr);
  ParsedFrame in;
  if (n < inner_off || ParseFrame(f + inner_off, n - inner_off, &in) != ParseError::kOk)
    FailFrame("inner frame does not parse", kUplink, f, n);
  if (in.has_vlan) FailFrame("inner frame is tagged", kUplink, f, n);
  const auto* ieth = reinterpret_cast<const EthHdr*>(f + inner_off);
  if (ieth->dst.IsMulticast()) FailFrame("multicast inner frame on the wire", kUplink, f, n);
  if (ieth->src != a.c1 && ieth->src != a.dfgw && ieth->src != a.dfgw_gw)
    FailFrame("inner source MAC is neither Contoso1's nor a DFGW's", kUplink, f, n);
}

// A frame sent back on the uplink for a frame received there: only the PA's
// ARP reply or echo reply.
void CheckProviderReply(const uint8_t* f, uint32_t n, const ParsedFrame& pf) {
  const Addrs& a = A();
  const auto* eth = reinterpret_cast<const EthHdr*>(f);
  if (eth->src != a.pa1_mac) FailFrame("uplink reply not from the PA's MAC", kUplink, f, n);
  if (pf.l3 == L3Kind::kArp) {
    const auto* arp = pf.At<ArpHdr>(f, pf.l3_offset);
    if (arp->oper.ToHost() != kArpReply || arp->sha != a.pa1_mac ||
        IpAddr::V4Raw(arp->spa) != a.pa1)
      FailFrame("uplink ARP that is not the PA's reply", kUplink, f, n);
    return;
  }
  if (pf.l3 == L3Kind::kIpv4 && pf.l4_present && pf.l4_proto == kIpProtoIcmp &&
      f[pf.l4_offset] == kIcmpEchoReply) {
    const auto* ip = pf.At<Ipv4Hdr>(f, pf.l3_offset);
    if (IpAddr::V4Raw(ip->src) != a.pa1) FailFrame("echo reply not from the PA", kUplink, f, n);
    if (!Ipv4HeaderChecksumOk(ip)) FailFrame("echo reply with a bad IPv4 checksum", kUplink, f, n);
    return;
  }
  FailFrame("uplink frame for an uplink input is neither ARP reply nor echo reply", kUplink, f, n);
}

void CheckOut(uint16_t port, rte_mbuf* m) {
  const Addrs& a = A();
  const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t n = rte_pktmbuf_data_len(m);
  if (m->nb_segs != 1 || rte_pktmbuf_pkt_len(m) != n) FailFrame("segmented frame sent", port, f, n);
  ParsedFrame pf;
  const ParseError err = ParseFrame(f, n, &pf);
  if (err != ParseError::kOk) FailFrame(ParseErrorName(err), port, f, n);
  g_cur.ports_out |= 1u << (port < 32 ? port : 31);
  ++g_cur.sent;
  if (port == kUplink) {
    ++g_cur.uplink_out;
    const bool gre =
        (pf.l3 == L3Kind::kIpv4 || pf.l3 == L3Kind::kIpv6) && pf.l4_proto == kIpProtoGre;
    if (gre) CheckNvgreOut(f, n, pf);
    if (g_cur.port == kUplink) {
      if (g_cur.uplink_out > 1) FailFrame("more than one reply on the uplink", port, f, n);
      CheckProviderReply(f, n, pf);
    } else if (!gre) {
      FailFrame("VM traffic left on the uplink without NVGRE", port, f, n);
    }
    return;
  }
  if (port != kVm1 && port != kVm2)
    FailFrame("frame sent on a port the policy does not have", port, f, n);
  if (pf.has_vlan) FailFrame("tagged frame sent to a VM", port, f, n);
  const auto* eth = reinterpret_cast<const EthHdr*>(f);
  if (g_cur.port == kUplink) {
    const Expect& e = g_cur.expect;
    if ((e.vm_ports & 1u << port) == 0) FailFrame("decap delivered what it must drop", port, f, n);
    if (n != e.inner_len || std::memcmp(f, e.inner, n) != 0)
      FailFrame("delivered frame is not the exact inner frame", port, f, n);
    if (g_cur.vm_seen & 1u << port)
      FailFrame("inner frame delivered twice to one port", port, f, n);
    g_cur.vm_seen |= 1u << port;
    return;
  }
  // From Contoso1: to Contoso2 only as Contoso1 or routed by a DFGW.
  if (port == kVm2 && eth->src != a.c1 && eth->src != a.dfgw && eth->src != a.dfgw_gw)
    FailFrame("frame to Contoso2 from a MAC that is neither Contoso1's nor a DFGW's", port, f, n);
}

class CheckingSink final : public TxSink {
 public:
  uint16_t Send(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override {
    for (uint16_t i = 0; i < n; ++i) {
      CheckOut(port, pkts[i]);
      rte_pktmbuf_free(pkts[i]);
    }
    return n;
  }
};

Fuzz* g_fuzz = nullptr;

bool StartEal() {
  const std::string prefix = "--file-prefix=fuzz" + std::to_string(getpid());
  std::vector<std::string> args = {"decap_fuzz",    "--no-huge", "-m", "512", "--no-pci",
                                   "--no-shconf",   prefix,      "-l", "0",   "--log-level=error",
                                   "--no-telemetry"};
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    std::fprintf(stderr, "decap_fuzz: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    return false;
  }
  // EAL leaves its (empty) runtime directory behind; one per run adds up.
  std::atexit([] { rmdir(rte_eal_get_runtime_dir()); });
  return true;
}

Fuzz* Setup() {
  if (!StartEal()) std::abort();
  auto* z = new Fuzz;
  TableLimits limits;
  limits.max_records = 1024;
  limits.max_routes = 256;
  limits.max_rds = 16;
  limits.max_peers = 64;
  limits.max_workers = 1;
  limits.name = "decapfuzz";
  const size_t sz = rte_rcu_qsbr_get_memsize(limits.max_workers);
  z->qsv = static_cast<rte_rcu_qsbr*>(rte_zmalloc("fuzz_qsv", sz, RTE_CACHE_LINE_SIZE));
  if (z->qsv == nullptr || rte_rcu_qsbr_init(z->qsv, limits.max_workers) != 0 ||
      rte_rcu_qsbr_thread_register(z->qsv, 0) != 0)
    Fail("RCU setup");
  // Few mbufs: enough for a burst and its flood copies; a leak shows at once.
  z->pool = CreatePacketPool("fuzz_pool", 1023, SOCKET_ID_ANY);
  z->events = rte_ring_create_elem("fuzz_events", sizeof(Event), 64, SOCKET_ID_ANY,
                                   RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (z->pool == nullptr || z->events == nullptr) Fail("pool/ring: %s", rte_strerror(rte_errno));
  std::string error;
  z->tables = PolicyTables::Create(limits, z->qsv, &error);
  if (z->tables == nullptr) Fail("PolicyTables::Create: %s", error.c_str());
  if (!z->tables->Apply(test::ChapterHost1(), &error)) Fail("Apply: %s", error.c_str());
  const Addrs& a = A();
  z->tables->LearnNeighbor(kUplink, a.pa2, a.pa2_mac);
  z->tables->LearnNeighbor(kUplink, a.pa_gw, a.pa_gw_mac);
  z->tables->Synchronize();
  if (!z->tables->Unresolved().empty()) Fail("provider next hops left unresolved");
  z->sink = std::make_unique<CheckingSink>();
  z->ctx.worker_id = 0;
  z->ctx.tables = z->tables.get();
  z->ctx.pool = z->pool;
  z->ctx.events = z->events;
  z->ctx.tx = z->sink.get();
  z->ctx.counters = &z->counters;
  z->max_frame = rte_pktmbuf_data_room_size(z->pool) - RTE_PKTMBUF_HEADROOM;
  return z;
}

uint64_t TotalDrops(const WorkerCounters& c) {
  uint64_t t = 0;
  for (uint64_t d : c.drops) t += d;
  return t;
}

// Runs one frame received on `port`; returns the ports that got frames.
uint32_t RunOne(Fuzz& z, uint16_t port, const uint8_t* frame, uint32_t len) {
  const unsigned avail = rte_mempool_avail_count(z.pool);
  const uint64_t drops = TotalDrops(z.counters);
  g_cur = Current{};
  g_cur.port = port;
  g_cur.frame = frame;
  g_cur.len = len;
  if (port == kUplink) g_cur.expect = UplinkOracle(frame, len);

  rte_mbuf* m = rte_pktmbuf_alloc(z.pool);
  if (m == nullptr) Fail("mbuf pool empty before the input (%u available)", avail);
  char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(len));
  if (d == nullptr) Fail("append %u bytes", len);
  if (len != 0) std::memcpy(d, frame, len);

  rte_rcu_qsbr_thread_online(z.qsv, 0);
  z.ctx.snap = z.tables->snapshot();
  z.pipeline.ProcessRx(z.ctx, port, &m, 1);
  z.ctx.FlushTx();
  rte_rcu_qsbr_quiescent(z.qsv, 0);
  rte_rcu_qsbr_thread_offline(z.qsv, 0);

  for (const auto& b : z.ctx.tx_buf)
    if (b.n != 0) Fail("transmit buffer not empty after FlushTx");
  const unsigned after = rte_mempool_avail_count(z.pool);
  if (after != avail) {
    Dump("input frame", frame, len);
    Fail("mbufs available %u before the input, %u after (input on port %u)", avail, after, port);
  }
  if (g_cur.sent == 0 && TotalDrops(z.counters) == drops) {
    Dump("input frame", frame, len);
    Fail("frame vanished: nothing sent, no drop counted (input on port %u)", port);
  }
  if (port == kUplink && g_cur.vm_seen != g_cur.expect.vm_ports) {
    Dump("input frame", frame, len);
    Fail("decap delivered to VM ports 0x%x, expected 0x%x", g_cur.vm_seen, g_cur.expect.vm_ports);
  }
  Event e;
  while (rte_ring_sc_dequeue_elem(z.events, &e, sizeof(Event)) == 0) {
    const bool neighbour_ok = e.kind == Event::kNeighbor && port == kUplink && e.port == kUplink &&
                              !e.ip.IsUnspecified() && !e.mac.IsMulticast() && !e.mac.IsZero();
    if (!neighbour_ok) {
      Dump("input frame", frame, len);
      Fail("unexpected event kind %u port %u (input on port %u)", e.kind, e.port, port);
    }
  }
  return g_cur.ports_out;
}

// ---------------------------------------------------------------------------
// Seeds: selector byte + frame, with the ports each must reach (bit per port).

struct Seed {
  const char* name;
  uint8_t selector;  // 0 uplink, 1 Contoso1's port
  std::vector<uint8_t> frame;
  uint32_t ports;
};

std::vector<Seed> MakeSeeds() {
  const Addrs& a = A();
  constexpr uint32_t P0 = 1u << kUplink, P1 = 1u << kVm1, P2 = 1u << kVm2;
  const MacAddr bcast = MacAddr::Broadcast();
  // From Host 2 / the gateway host to Host 1's PA.
  auto from_host2 = [&] { return PacketBuilder().Eth(a.pa1_mac, a.pa2_mac).Ipv4(a.pa2, a.pa1); };
  auto from_gw = [&] { return PacketBuilder().Eth(a.pa1_mac, a.pa_gw_mac).Ipv4(a.pa_gw, a.pa1); };
  std::vector<uint8_t> c3_to_c1 =
      from_host2().Nvgre(kVsid, 0x5a).Eth(a.c1, a.c3).Ipv4(a.ca3, a.ca1).Icmp().Payload(8).Build();
  std::vector<uint8_t> truncated(c3_to_c1.begin(), c3_to_c1.begin() + 48);

  std::vector<Seed> s = {
      {"nvgre_c3_to_c1_icmp", 0, c3_to_c1, P1},
      {"nvgre_c3_to_c2_tcp", 0,
       from_host2()
           .Nvgre(kVsid, 7)
           .Eth(a.c2, a.c3)
           .Ipv4(a.ca3, a.ca2)
           .Tcp(40000, 80, kTcpSyn, 1460)
           .Build(),
       P2},
      {"nvgre_c3_arp_broadcast", 0,
       from_host2().Nvgre(kVsid).Eth(bcast, a.c3).Arp(kArpRequest, a.c3, a.ca3, {}, a.ca1).Build(),
       P1 | P2},
      {"nvgre_c3_ipv6_link_local", 0,
       from_host2()
           .Nvgre(kVsid)
           .Eth(a.c1, a.c3)
           .Ipv6(Ip("fe80::6200:60ff:fe00:203"), Ip("fe80::6200:60ff:fe00:101"))
           .Icmp6(kIcmp6EchoRequest)
           .Build(),
       P1},
      {"nvgre_gateway_return", 0,
       from_gw()
           .Nvgre(kVsid, 1)
           .Eth(a.c1, a.dfgw)
           .Ipv4(Ip("8.8.8.8"), a.ca1)
           .Udp(53, 5000)
           .Payload(12)
           .Build(),
       P1},
      {"nvgre_outer_padding", 0,
       from_host2().Nvgre(kVsid).Eth(a.c1, a.c3).Ipv4(a.ca3, a.ca1).Udp(1, 2).Trailer(10).Build(),
       P1},
      {"nvgre_outer_priority_tag", 0,
       PacketBuilder()
           .Eth(a.pa1_mac, a.pa2_mac)
           .Vlan(0, 3)
           .Ipv4(a.pa2, a.pa1)
           .Nvgre(kVsid)
           .Eth(a.c1, a.c3)
           .Ipv4(a.ca3, a.ca1)
           .Icmp()
           .Build(),
       P1},
      {"nvgre_spoofed_source", 0,
       from_host2().Nvgre(kVsid).Eth(a.c1, a.c3).Ipv4(a.ca2, a.ca1).Icmp().Build(), 0},
      {"nvgre_vsid_6001", 0,
       from_gw().Nvgre(kVsidGw).Eth(a.dfgw_gw, a.mtgw).Ipv4(a.gw_ip, a.ca1).Icmp().Build(), 0},
      {"nvgre_bad_flags", 0,
       from_host2()
           .Gre(0x3000, kEtherTypeTeb, NvgreKey(kVsid, 0))
           .Eth(a.c1, a.c3)
           .Ipv4(a.ca3, a.ca1)
           .Icmp()
           .Build(),
       0},
      {"nvgre_bad_version", 0,
       from_host2()
           .Gre(0x2001, kEtherTypeTeb, NvgreKey(kVsid, 0))
           .Eth(a.c1, a.c3)
           .Ipv4(a.ca3, a.ca1)
           .Icmp()
           .Build(),
       0},
      {"gre_not_teb", 0,
       from_host2()
           .Gre(0x2000, kEtherTypeIpv4, NvgreKey(kVsid, 0))
           .Ipv4(a.ca3, a.ca1)
           .Icmp()
           .Build(),
       0},
      {"nvgre_inner_vlan", 0,
       from_host2().Nvgre(kVsid).Eth(a.c1, a.c3).Vlan(100).Ipv4(a.ca3, a.ca1).Icmp().Build(), 0},
      {"nvgre_inner_runt", 0, from_host2().Nvgre(kVsid).Payload(10).Build(), 0},
      {"nvgre_truncated", 0, truncated, 0},
      {"nvgre_ipv6_outer", 0,
       PacketBuilder()
           .Eth(a.pa1_mac, a.pa2_mac)
           .Ipv6(Ip("fd00:ffff::33"), Ip("fd00:ffff::22"))
           .Nvgre(kVsid)
           .Eth(a.c1, a.c3)
           .Ipv4(a.ca3, a.ca1)
           .Icmp()
           .Build(),
       0},
      {"arp_request_for_pa", 0,
       PacketBuilder().Eth(bcast, a.pa2_mac).Arp(kArpRequest, a.pa2_mac, a.pa2, {}, a.pa1).Build(),
       P0},
      {"echo_to_pa", 0, from_host2().Icmp().Payload(16).Build(), P0},
      {"vm_c1_to_c3_icmp", 1, PacketBuilder().Eth(a.c3, a.c1).Ipv4(a.ca1, a.ca3).Icmp().Build(),
       P0},
      {"vm_c1_to_c2_udp", 1,
       PacketBuilder().Eth(a.c2, a.c1).Ipv4(a.ca1, a.ca2).Udp(1000, 2000).Payload(8).Build(), P2},
      {"vm_c1_arp_dfgw", 1,
       PacketBuilder().Eth(bcast, a.c1).Arp(kArpRequest, a.c1, a.ca1, {}, a.dfgw_ip).Build(),
       P1 | P2},
      {"vm_c1_to_internet_syn", 1,
       PacketBuilder()
           .Eth(a.dfgw, a.c1)
           .Ipv4(a.ca1, Ip("8.8.8.8"))
           .DontFragment()
           .Tcp(40000, 443, kTcpSyn, 1460)
           .Build(),
       P0},
  };
  return s;
}

void WriteSeeds(const char* dir) {
  for (const Seed& s : MakeSeeds()) {
    const std::string path = std::string(dir) + "/" + s.name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fputc(s.selector, f) == EOF ||
        std::fwrite(s.frame.data(), 1, s.frame.size(), f) != s.frame.size() ||
        std::fclose(f) != 0) {
      std::perror(path.c_str());
      std::exit(1);
    }
  }
  std::fprintf(stderr, "decap_fuzz: seeds written to %s\n", dir);
  std::exit(0);
}

void SelfCheck(Fuzz& z) {
  for (const Seed& s : MakeSeeds()) {
    const uint16_t port = (s.selector & 1) ? kVm1 : kUplink;
    const uint32_t got = RunOne(z, port, s.frame.data(), static_cast<uint32_t>(s.frame.size()));
    if (got != s.ports)
      Fail("seed %s reached ports 0x%x, expected 0x%x: harness or pipeline changed", s.name, got,
           s.ports);
  }
}

// Selector bits 1 and 2: repair the outermost IP header after mutation, so
// that the fuzzer gets past provider-ingress's length and checksum checks
// into decap (and keeps exploring those checks with the bits clear).
//   bit 1: recompute the IPv4 header checksum;
//   bit 2: set IPv4 total length / IPv6 payload length to the frame's end.
void RepairOuter(uint8_t* f, uint32_t n, uint8_t selector) {
  if ((selector & 6) == 0 || n < sizeof(EthHdr)) return;
  uint32_t off = 12;
  uint16_t type = static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
  if (type == kEtherTypeVlan && n >= 18) {
    off = 16;
    type = static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
  }
  const uint32_t l3 = off + 2;
  if (type == kEtherTypeIpv4 && n >= l3 + sizeof(Ipv4Hdr)) {
    auto* ip = reinterpret_cast<Ipv4Hdr*>(f + l3);
    if ((selector & 4) && n - l3 <= 0xffff)
      ip->total_length = Be16::FromHost(static_cast<uint16_t>(n - l3));
    if ((selector & 2) && ip->ihl_bytes() >= sizeof(Ipv4Hdr) && l3 + ip->ihl_bytes() <= n)
      ip->checksum = Ipv4HeaderChecksum(ip);
  } else if (type == kEtherTypeIpv6 && n >= l3 + sizeof(Ipv6Hdr) && (selector & 4) &&
             n - l3 - sizeof(Ipv6Hdr) <= 0xffff) {
    auto* ip = reinterpret_cast<Ipv6Hdr*>(f + l3);
    ip->payload_length = Be16::FromHost(static_cast<uint16_t>(n - l3 - sizeof(Ipv6Hdr)));
  }
}

// HNV_DECAP_STATS=1: print the pipeline's counters at exit, to see which
// checks a corpus reaches (e.g. with -runs=0 over a corpus directory).
void PrintStats() {
  const WorkerCounters& c = g_fuzz->counters;
  std::fprintf(
      stderr, "decap_fuzz: decapsulated %llu encapsulated %llu switched %llu routed %llu\n",
      static_cast<unsigned long long>(c.decapsulated),
      static_cast<unsigned long long>(c.encapsulated), static_cast<unsigned long long>(c.switched),
      static_cast<unsigned long long>(c.routed));
  for (uint16_t d = 0; d < kDropCount; ++d)
    if (c.drops[d] != 0)
      std::fprintf(stderr, "  drop %-22s %llu\n", DropName(static_cast<Drop>(d)),
                   static_cast<unsigned long long>(c.drops[d]));
}

}  // namespace
}  // namespace hnv::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace hnv::fuzz;
  if (const char* dir = std::getenv("HNV_DECAP_WRITE_SEEDS")) WriteSeeds(dir);
  g_fuzz = Setup();
  SelfCheck(*g_fuzz);
  if (std::getenv("HNV_DECAP_STATS") != nullptr) std::atexit(PrintStats);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hnv::fuzz;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const uint16_t port = (selector & 1) ? kVm1 : kUplink;
  ++data;
  --size;
  if (size > g_fuzz->max_frame) return -1;  // not storable in one mbuf: keep it out of the corpus
  // The frame as a NIC leaves it in an mbuf: 8-byte aligned (an mbuf's data
  // starts at buf_addr + 128). The bytes after the selector are not, and the
  // oracle's own parse must not read headers at odd addresses.
  alignas(64) static uint8_t frame[1 << 16];
  std::memcpy(frame, data, size);
  RepairOuter(frame, static_cast<uint32_t>(size), selector);
  RunOne(*g_fuzz, port, frame, static_cast<uint32_t>(size));
  return 0;
}
