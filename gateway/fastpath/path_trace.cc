#include "gateway/fastpath/path_trace.h"

#include <cstdio>

namespace hnv::gateway {

namespace {

std::string Ipv4Text(uint32_t host) {
  char b[16];
  std::snprintf(b, sizeof(b), "%u.%u.%u.%u", host >> 24, (host >> 16) & 255, (host >> 8) & 255,
                host & 255);
  return b;
}

// "TCP 10.1.3.100:40000 -> 10.1.3.2:8080", "ICMP 10.0.1.101 -> 203.0.113.80
// id 17", "proto 47 A -> B"; empty when not IPv4.
std::string Tuple(rte_mbuf* m) {
  const ParsedFrame& pf = Meta(m)->pf;
  if (pf.l3 != L3Kind::kIpv4) return "";
  const uint8_t* ip = rte_pktmbuf_mtod(m, const uint8_t*) + pf.l3_offset;
  const auto addr = [ip](int at) {
    return Ipv4Text(uint32_t{ip[at]} << 24 | uint32_t{ip[at + 1]} << 16 | uint32_t{ip[at + 2]} << 8 |
                    ip[at + 3]);
  };
  const uint8_t* l4 = pf.l4_offset != 0 && pf.is_first_fragment
                          ? rte_pktmbuf_mtod(m, const uint8_t*) + pf.l4_offset
                          : nullptr;
  const auto port = [l4](int at) { return std::to_string(uint32_t{l4[at]} << 8 | l4[at + 1]); };
  if (l4 != nullptr && (pf.l4_proto == kIpProtoTcp || pf.l4_proto == kIpProtoUdp))
    return std::string(pf.l4_proto == kIpProtoTcp ? "TCP " : "UDP ") + addr(12) + ":" + port(0) +
           " -> " + addr(16) + ":" + port(2);
  if (l4 != nullptr && pf.l4_proto == kIpProtoIcmp)
    return "ICMP " + addr(12) + " -> " + addr(16) + " type " + std::to_string(l4[0]) + " id " +
           port(4);
  return "proto " + std::to_string(pf.l4_proto) + " " + addr(12) + " -> " + addr(16);
}

}  // namespace

std::string RecordingTracer::Iface(uint32_t compartment, uint8_t iface) const {
  if (compartment < names_.size() && iface < names_[compartment].size() &&
      !names_[compartment][iface].empty())
    return names_[compartment][iface];
  return "interface " + std::to_string(iface);
}

void RecordingTracer::Remember(const GwContext& g) {
  punts_seen_ = g.batch.n_punt;
  seen_ = g.c;
}

void RecordingTracer::Enter(const GwContext& g, const Burst& in) {
  Remember(g);
  last_n_ = in.n;
  last_tuple_ = in.n != 0 ? Tuple(in.pkts[0]) : "";
  for (uint16_t i = 0; i < in.n; ++i) {
    const GwMeta* gm = Gw(in.pkts[i]);
    steps_.push_back({"gw-input", "in on " + Iface(g.cv.id, gm->in_iface) + " (compartment " +
                                      std::to_string(g.cv.id) + ")"});
  }
}

void RecordingTracer::After(std::string_view stage, const GwContext& g, const Burst& out) {
  const std::string s(stage);
  const bool features = s.ends_with(" features");
  const size_t steps_before = steps_.size();
  for (uint16_t i = punts_seen_; i < g.batch.n_punt; ++i) {
    const Punt why = g.batch.punt_why[i];
    steps_.push_back({s, std::string("punted to the kernel: ") + PuntName(why) + " (" +
                             PuntText(why) + "), through the TAP of " +
                             Iface(g.cv.id, Gw(g.batch.punt[i])->in_iface)});
  }
  for (size_t d = 0; d < kGwDropCount; ++d) {
    const uint64_t n = g.c.drop[d] - seen_.drop[d];
    if (n == 0) continue;
    const auto why = static_cast<GwDrop>(d);
    steps_.push_back({s, std::string("dropped: ") + GwDropName(why) + " (" + GwDropText(why) + ")" +
                             (n > 1 ? " (x" + std::to_string(n) + ")" : "")});
  }
  if (features && out.n < last_n_ && steps_.size() == steps_before)
    steps_.push_back({s, "taken by the features: dropped under their own reasons (hnvctl nat / "
                         "lb TENANT), answered (a TCP reset) or turned around (a hairpin)"});
  for (uint16_t i = 0; i < out.n; ++i) {
    const GwMeta* gm = Gw(out.pkts[i]);
    std::string d = "passed";
    if (features && i == 0) {
      const std::string now = Tuple(out.pkts[0]);
      if (now != last_tuple_) d = "translated: " + last_tuple_ + " => " + now;
    }
    if (stage == GwRoute::kName) {
      const IfaceView& o = g.cv.ifaces[gm->out_iface < kMaxInterfaces ? gm->out_iface : 0];
      d = "route: out " + Iface(g.cv.id, gm->out_iface) +
          (gm->out_iface == 0 ? " (into the VM network, port " : " (port ") +
          std::to_string(o.port) + (o.vlan != 0 ? ", VLAN " + std::to_string(o.vlan) : "") +
          "), next hop " + Ipv4Text(gm->next_hop);
    }
    steps_.push_back({s, d});
  }
  if (stage == GwRewrite::kName) {
    const uint64_t ext = g.c.fwd_external.packets - seen_.fwd_external.packets;
    const uint64_t vm = g.c.fwd_vm.packets - seen_.fwd_vm.packets;
    if (ext != 0) steps_.push_back({s, "neighbour found, MACs, VLAN and TTL rewritten: out of the external port"});
    if (vm != 0) steps_.push_back({s, "neighbour found, MACs and TTL rewritten: into the VM network (the HNV pipeline)"});
  }
  Remember(g);
  last_n_ = out.n;
  if (out.n != 0) last_tuple_ = Tuple(out.pkts[0]);
}

}  // namespace hnv::gateway
