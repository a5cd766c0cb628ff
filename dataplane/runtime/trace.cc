#include "dataplane/runtime/trace.h"

#include <rte_ring.h>

#include <atomic>
#include <cstdio>

#include "dataplane/packet/parse.h"
#include "dataplane/pipeline/context.h"
#include "dataplane/pipeline/pipeline.h"

namespace hnv {
namespace {

class RecordingSink final : public TxSink {
 public:
  uint16_t Send(uint16_t port, rte_mbuf** pkts, uint16_t n) noexcept override {
    if (ext != nullptr && port < kMaxPorts && ext->is_virtual[port]) {
      ext->ext->DeliverVirtual(*ctx, port, pkts, n);
      return n;
    }
    for (uint16_t i = 0; i < n; ++i) {
      const uint8_t* d = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
      out.push_back({port, std::vector<uint8_t>(d, d + rte_pktmbuf_data_len(pkts[i])), {}});
      rte_pktmbuf_free(pkts[i]);
    }
    return n;
  }
  std::vector<TraceOutput> out;
  const TraceExtension* ext = nullptr;
  WorkerContext* ctx = nullptr;
};

std::string Summ(const uint8_t* f, uint32_t len, int depth) {
  ParsedFrame pf;
  const ParseError err = ParseFrame(f, len, &pf);
  const auto* eth = reinterpret_cast<const EthHdr*>(f);
  std::string s = len >= sizeof(EthHdr) ? eth->src.ToString() + " > " + eth->dst.ToString() : "";
  if (pf.has_vlan) s += " vlan " + std::to_string(pf.vlan_id);
  if (err != ParseError::kOk) return s + " (" + ParseErrorName(err) + ")";
  char buf[160];
  switch (pf.l3) {
    case L3Kind::kArp: {
      const auto* a = pf.At<ArpHdr>(f, pf.l3_offset);
      std::snprintf(buf, sizeof(buf), " ARP %s %s -> %s",
                    a->oper.ToHost() == kArpRequest ? "who-has" : "is-at",
                    IpAddr::V4Raw(a->spa).ToString().c_str(), IpAddr::V4Raw(a->tpa).ToString().c_str());
      return s + buf;
    }
    case L3Kind::kIpv4:
    case L3Kind::kIpv6: {
      const IpAddr src = pf.l3 == L3Kind::kIpv4 ? IpAddr::V4Raw(pf.At<Ipv4Hdr>(f, pf.l3_offset)->src)
                                                : IpAddr::V6Raw(pf.At<Ipv6Hdr>(f, pf.l3_offset)->src);
      const IpAddr dst = pf.l3 == L3Kind::kIpv4 ? IpAddr::V4Raw(pf.At<Ipv4Hdr>(f, pf.l3_offset)->dst)
                                                : IpAddr::V6Raw(pf.At<Ipv6Hdr>(f, pf.l3_offset)->dst);
      if (pf.l4_proto == kIpProtoGre && pf.l4_present && depth == 0) {
        const auto* g = pf.At<NvgreHdr>(f, pf.l4_offset);
        std::snprintf(buf, sizeof(buf), " NVGRE %s -> %s VSID %u FlowID 0x%02x | ",
                      src.ToString().c_str(), dst.ToString().c_str(), g->vsid(), g->flow_id());
        const uint32_t inner = pf.l4_offset + sizeof(NvgreHdr);
        return s + buf + (inner < len ? Summ(f + inner, len - inner, 1) : "");
      }
      std::snprintf(buf, sizeof(buf), " IP%s %s -> %s proto %u", pf.l3 == L3Kind::kIpv4 ? "v4" : "v6",
                    src.ToString().c_str(), dst.ToString().c_str(), pf.l4_proto);
      return s + buf;
    }
    default:
      std::snprintf(buf, sizeof(buf), " ethertype 0x%04x", pf.ether_type);
      return s + buf;
  }
}

}  // namespace

std::string SummarizeFrame(const uint8_t* frame, uint32_t len) { return Summ(frame, len, 0); }

TraceResult TraceFrame(const PolicyTables& tables, rte_mempool* pool, uint16_t port,
                       const std::vector<uint8_t>& frame, const TraceExtension* ext) {
  TraceResult r;
  const Snapshot* snap = tables.snapshot();
  const bool to_ext = ext != nullptr && port < kMaxPorts && snap->ports[port].kind == PortKind::kUnused;
  if (port >= kMaxPorts || (snap->ports[port].kind == PortKind::kUnused && !to_ext)) {
    r.steps.push_back({"rx", "port " + std::to_string(port) + " has no role in the policy"});
    return r;
  }
  const PortInfo& pi = snap->ports[port];
  r.steps.push_back({"rx", "port " + std::to_string(port) +
                               (to_ext                   ? std::string(" (the program's own port)")
                                : pi.kind == PortKind::kVm ? " (VM adapter, VSID " + std::to_string(pi.vsid) + ")"
                                                           : std::string(" (uplink)")) +
                               ": " + SummarizeFrame(frame.data(), static_cast<uint32_t>(frame.size()))});
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr || frame.size() > rte_pktmbuf_tailroom(m)) {
    if (m != nullptr) rte_pktmbuf_free(m);
    r.steps.push_back({"rx", "no mbuf for the frame"});
    return r;
  }
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(), frame.size());

  WorkerCounters c;
  RecordingSink sink;
  auto ctx = std::make_unique<WorkerContext>();
  ctx->tables = &tables;
  ctx->snap = snap;
  ctx->pool = pool;
  ctx->tx = &sink;
  ctx->counters = &c;
  sink.ext = ext;
  sink.ctx = ctx.get();
  // What the extension hands to "another worker": there is one, this one.
  rte_ring* handoff = nullptr;
  if (ext != nullptr) {
    static std::atomic<unsigned> serial{0};
    const std::string name = "trace_ho" + std::to_string(serial.fetch_add(1));
    handoff = rte_ring_create(name.c_str(), 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ctx->handoff = &handoff;
  }
  auto pipeline = std::make_unique<Pipeline>();
  if (to_ext) ext->ext->Receive(*ctx, *pipeline, port, &m, 1);
  else pipeline->ProcessRx(*ctx, port, &m, 1);
  ctx->FlushTx();
  for (int round = 0; handoff != nullptr && round < 8; ++round) {
    rte_mbuf* pkts[kBurstSize];
    const unsigned h = rte_ring_sc_dequeue_burst(handoff, reinterpret_cast<void**>(pkts), kBurstSize, nullptr);
    if (h == 0) break;
    ext->ext->ReceiveHandoff(*ctx, *pipeline, pkts, static_cast<uint16_t>(h));
    ctx->FlushTx();
  }
  if (handoff != nullptr) {
    void* left;
    while (rte_ring_dequeue(handoff, &left) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(left));
    rte_ring_free(handoff);
  }

  auto step = [&](uint64_t n, const char* stage, const std::string& what) {
    if (n != 0) r.steps.push_back({stage, what + (n > 1 ? " (x" + std::to_string(n) + ")" : "")});
  };
  step(c.arp_answered, "arp-nd", "answered from policy");
  step(c.echo_answered, "router", "echo request to a DFGW/PA answered");
  step(c.switched, "l2-switch", "delivered locally on the same VSID (no encapsulation)");
  step(c.flooded, "l2-switch", "flood copies to local ports of the VSID");
  step(c.l2only_arp, "arp-nd", "no record: ARP/NS sent unicast to L2Only PAs");
  step(c.routed, "router", "routed by the distributed router");
  step(c.mss_clamped, "nvgre-encap", "TCP MSS clamped");
  step(c.icmp_too_big, "nvgre-encap", "ICMP too big sent to the sender");
  step(c.icmp_time_exceeded, "router", "TTL / hop limit exceeded: ICMP time exceeded sent to the sender");
  step(c.icmp_rate_limited, "pipeline", "ICMP error not sent: over settings.icmp_errors_per_second / _burst");
  step(c.encapsulated, "nvgre-encap", "encapsulated in NVGRE");
  step(c.decapsulated, "nvgre-decap", "decapsulated (RFC 7637 and source checks passed)");
  step(c.absorbed, "pipeline", "consumed: answered by a local VM or nothing else to deliver to");
  step(c.events, "control", "event posted to the control thread (neighbour / learning)");
  for (uint16_t d = 0; d < kDropCount; ++d)
    step(c.drops[d], DropStage(static_cast<Drop>(d)),
         std::string("dropped: ") + DropName(static_cast<Drop>(d)) + " (" + DropText(static_cast<Drop>(d)) + ")");
  for (TraceOutput& o : sink.out) {
    o.summary = SummarizeFrame(o.frame.data(), static_cast<uint32_t>(o.frame.size()));
    r.steps.push_back({"tx", "port " + std::to_string(o.port) + ": " + o.summary});
  }
  r.outputs = std::move(sink.out);
  return r;
}

}  // namespace hnv
