// An independent check of the NAT's behaviour against RFC 4787 (UDP), RFC
// 5382 (TCP) and RFC 5508 (ICMP): table-driven scenarios that only send
// frames through NatWorker and look at verdicts and bytes (black box).
//
// A scenario is a list of steps. Endpoints are written "10.0.1.101:40000",
// or "@name" for an external endpoint an earlier outbound step saved (its
// translated source). ICMP steps use the port as the query identifier.
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "nat/steering.h"
#include "tests/unit/nat/nat_test_util.h"

namespace hnv::nat::test {
namespace {

using hnv::test::FrameDiff;

enum class Dir : uint8_t { kOut, kIn };
enum class What : uint8_t { kUdp, kTcp, kEcho, kEchoReply, kErrorAbout };

struct Step {
  Dir dir;
  What what;
  std::string src, dst;
  std::string want;      // "translated", "hairpin", "pass", or a drop name ("filtered")
  std::string save;      // outbound: remember the translated source
  std::string same_as;   // outbound: translated source equals this one
  std::string same_addr; // outbound: translated source address equals this one's
  std::string differs;   // outbound: translated source differs from this one
  std::string to;        // inbound, translated: the destination it must reach
  uint8_t flags = kTcpSyn;
  // kErrorAbout: the embedded packet (UDP) src -> dst; `src`/`dst` are the
  // error's own addresses (ports ignored).
  std::string inner_src, inner_dst;
  uint64_t at_ms = 1000;
};

struct Scenario {
  const char* name;
  const char* rfc;  // the requirement it checks
  Filtering filtering = Filtering::kAddressAndPortDependent;
  bool hairpinning = true;
  std::vector<Step> steps;
};

class Runner {
 public:
  explicit Runner(const Scenario& s) {
    NatSpec spec = SceneSpec(s.filtering);
    spec.hairpinning = s.hairpinning;
    rig_ = std::make_unique<NatRig>(spec, 0, 1, std::vector<IpAddr>{});
  }

  Endpoint Resolve(const std::string& text) {
    if (!text.empty() && text[0] == '@') {
      const auto it = saved_.find(text.substr(1));
      EXPECT_NE(it, saved_.end()) << text << " was not saved";
      return it == saved_.end() ? Endpoint{} : it->second;
    }
    const size_t colon = text.find(':');
    const IpAddr a = Ip(text.substr(0, colon));
    const uint16_t port =
        colon == std::string::npos ? 0 : static_cast<uint16_t>(std::stoi(text.substr(colon + 1)));
    return Ep(a, port);
  }

  Bytes Build(const Step& st) {
    const Endpoint s = Resolve(st.src), d = Resolve(st.dst);
    auto ip = [](Endpoint e) { return IpAddr::V4Raw(reinterpret_cast<const uint8_t*>(&e.addr)); };
    PacketBuilder b;
    b.Eth(kMacB, kMacA).Ipv4(ip(s), ip(d));
    switch (st.what) {
      case What::kUdp:
        return b.Udp(HostPort(s.port), HostPort(d.port)).Payload(16).Build();
      case What::kTcp:
        return b.Tcp(HostPort(s.port), HostPort(d.port), st.flags).Build();
      case What::kEcho:
      case What::kEchoReply: {  // the identifier: the port of whichever end has one
        const uint32_t id = HostPort(s.port != 0 ? s.port : d.port);
        const uint8_t type = st.what == What::kEcho ? kIcmpEchoRequest : kIcmpEchoReply;
        return b.Icmp(type, 0, id << 16 | 1).Payload(8).Build();
      }
      case What::kErrorAbout: {
        const Endpoint is = Resolve(st.inner_src), id = Resolve(st.inner_dst);
        const Bytes inner = PacketBuilder().Eth(kMacB, kMacA).Ipv4(ip(is), ip(id))
                                .Udp(HostPort(is.port), HostPort(id.port)).Payload(30).Build();
        return b.Icmp(kIcmpDestUnreachable, 3, 0).Payload(Embedded(inner, 28)).Build();
      }
    }
    return {};
  }

  void Run(const Scenario& sc) {
    for (size_t i = 0; i < sc.steps.size(); ++i) {
      const Step& st = sc.steps[i];
      SCOPED_TRACE(std::string(sc.name) + " (" + sc.rfc + "), step " + std::to_string(i));
      Bytes f = Build(st);
      const Bytes before = f;
      const Verdict v = st.dir == Dir::kOut ? rig_->Out(f, st.at_ms) : rig_->In(f, st.at_ms);
      const std::string got = v.edge == Edge::kDrop ? DropName(v.drop) : EdgeName(v.edge);
      ASSERT_EQ(got, st.want);
      if (v.edge == Edge::kPass || v.edge == Edge::kDrop) {
        EXPECT_EQ(f, before) << "a frame that is not translated is not touched";
        continue;
      }
      EXPECT_EQ(hnv::test::ChecksumErrors(f), "");
      PacketView pv;
      ViewPacket(f.data(), static_cast<uint32_t>(f.size()), &pv);
      if (st.dir == Dir::kOut) {
        const Endpoint ext = pv.kind == Kind::kIcmpError ? pv.inner_dst : pv.src;
        if (!st.save.empty()) saved_[st.save] = ext;
        if (!st.same_as.empty()) {
          EXPECT_EQ(ext, Resolve(st.same_as)) << "external endpoint";
        }
        if (!st.same_addr.empty()) {
          EXPECT_EQ(ext.addr, Resolve(st.same_addr).addr);
        }
        if (!st.differs.empty()) {
          EXPECT_NE(ext, Resolve(st.differs));
        }
        EXPECT_EQ(pv.dst.addr, Resolve(st.dst).addr) << "the destination is never rewritten";
      } else {
        const Endpoint to = pv.kind == Kind::kIcmpError ? pv.inner_src : pv.dst;
        if (!st.to.empty()) {
          EXPECT_EQ(to, Resolve(st.to)) << "inbound destination";
        }
        EXPECT_EQ(pv.src.addr, Resolve(st.src).addr) << "the source is never rewritten inbound";
        if (st.what == What::kUdp || st.what == What::kTcp) {
          EXPECT_EQ(pv.src.port, Resolve(st.src).port);
        }
      }
    }
  }

 private:
  std::unique_ptr<NatRig> rig_;
  std::map<std::string, Endpoint> saved_;
};

Step Out(What w, std::string src, std::string dst, std::string want, std::string save = "") {
  return Step{.dir = Dir::kOut, .what = w, .src = src, .dst = dst, .want = want, .save = save};
}
Step In(What w, std::string src, std::string dst, std::string want, std::string to = "") {
  return Step{.dir = Dir::kIn, .what = w, .src = src, .dst = dst, .want = want, .to = to};
}
Step Same(Step s, std::string as) {
  s.same_as = as;
  return s;
}
Step At(Step s, uint64_t ms) {
  s.at_ms = ms;
  return s;
}

constexpr auto kUdp = What::kUdp;
constexpr auto kTcp = What::kTcp;
constexpr auto kEif = Filtering::kEndpointIndependent;
constexpr auto kApdf = Filtering::kAddressAndPortDependent;

const std::vector<Scenario>& Scenarios() {
  static const std::vector<Scenario> all = {
      {"MappingReusedForEveryRemote", "RFC 4787 REQ-1 (endpoint-independent mapping)", kApdf, true,
       {Out(kUdp, "10.0.1.101:40000", "203.0.113.10:53", "translated", "a"),
        Same(Out(kUdp, "10.0.1.101:40000", "203.0.113.10:54", "translated"), "@a"),
        Same(Out(kUdp, "10.0.1.101:40000", "203.0.113.11:53", "translated"), "@a"),
        Step{.dir = Dir::kOut, .what = kUdp, .src = "10.0.1.101:40001", .dst = "203.0.113.10:53",
             .want = "translated", .differs = "@a"}}},
      {"PairedAddressPooling", "RFC 4787 REQ-2 (paired: one external address per host)", kApdf,
       true,
       {Out(kUdp, "10.0.1.101:1", "203.0.113.10:53", "translated", "a"),
        Step{.dir = Dir::kOut, .what = kUdp, .src = "10.0.1.101:2", .dst = "203.0.113.10:53",
             .want = "translated", .same_addr = "@a", .differs = "@a"},
        Step{.dir = Dir::kOut, .what = kTcp, .src = "10.0.1.101:3", .dst = "203.0.113.10:80",
             .want = "translated", .same_addr = "@a"}}},
      {"AddressAndPortDependentFiltering", "RFC 4787 REQ-8 / RFC 5382 REQ-3 (default)", kApdf, true,
       {Out(kUdp, "10.0.1.101:40000", "203.0.113.10:53", "translated", "a"),
        In(kUdp, "203.0.113.10:53", "@a", "translated", "10.0.1.101:40000"),
        In(kUdp, "203.0.113.10:54", "@a", "filtered"),
        In(kUdp, "203.0.113.11:53", "@a", "filtered"),
        In(kUdp, "203.0.113.11:53", "198.51.100.2:9999", "no-session")}},
      {"EndpointIndependentFiltering", "RFC 4787 REQ-8 (option)", kEif, true,
       {Out(kUdp, "10.0.1.101:40000", "203.0.113.10:53", "translated", "a"),
        In(kUdp, "203.0.113.11:7", "@a", "translated", "10.0.1.101:40000"),
        Same(Out(kUdp, "10.0.1.101:40000", "203.0.113.11:7", "translated"), "@a"),
        In(kTcp, "203.0.113.11:7", "198.51.100.2:1", "no-session")}},
      {"HairpinningUdp", "RFC 4787 REQ-9 (with the external source address and port)", kEif, true,
       {Out(kUdp, "10.0.1.101:40000", "203.0.113.10:53", "translated", "a"),
        Out(kUdp, "10.0.1.102:50000", "@a", "hairpin", "b"),
        In(kUdp, "@b", "@a", "translated", "10.0.1.101:40000"),
        Same(Out(kUdp, "10.0.1.101:40000", "@b", "hairpin"), "@a"),
        In(kUdp, "@a", "@b", "translated", "10.0.1.102:50000")}},
      {"HairpinningHonoursFiltering", "RFC 4787 REQ-9 with REQ-8", kApdf, true,
       {Out(kUdp, "10.0.1.101:40000", "203.0.113.10:53", "translated", "a"),
        Out(kUdp, "10.0.1.102:50000", "@a", "hairpin", "b"),
        In(kUdp, "@b", "@a", "filtered")}},
      {"HairpinningOff", "configuration: hairpinning false", kApdf, false,
       {Out(kUdp, "10.0.1.101:40000", "203.0.113.10:53", "translated", "a"),
        Out(kUdp, "10.0.1.102:50000", "@a", "hairpin-off")}},
      {"TcpHairpinning", "RFC 5382 REQ-8", kEif, true,
       {Out(kTcp, "10.0.1.101:40000", "203.0.113.10:80", "translated", "a"),
        Out(kTcp, "10.0.1.102:50000", "@a", "hairpin", "b"),
        In(kTcp, "@b", "@a", "translated", "10.0.1.101:40000")}},
      {"TcpEndpointIndependentMapping", "RFC 5382 REQ-1", kApdf, true,
       {Out(kTcp, "10.0.1.101:40000", "203.0.113.10:80", "translated", "a"),
        Same(Out(kTcp, "10.0.1.101:40000", "203.0.113.11:443", "translated"), "@a")}},
      {"TcpSimultaneousOpen", "RFC 5382 REQ-2", kApdf, true,
       {Out(kTcp, "10.0.1.101:40000", "203.0.113.10:80", "translated", "a"),
        In(kTcp, "203.0.113.10:80", "@a", "translated", "10.0.1.101:40000")}},
      {"TcpUnsolicitedSynDropped", "RFC 5382 REQ-4 (silently, no RST)", kApdf, true,
       {In(kTcp, "203.0.113.10:80", "198.51.100.2:1024", "no-session")}},
      {"TcpOnlySynOpens", "RFC 5382 section 5 (a session starts with a SYN)", kApdf, true,
       {Step{.dir = Dir::kOut, .what = kTcp, .src = "10.0.1.101:40000",
             .dst = "203.0.113.10:80", .want = "not-first", .flags = kTcpAck}}},
      {"IcmpQueryMapping", "RFC 5508 REQ-1 / REQ-2", kApdf, true,
       {Out(What::kEcho, "10.0.1.101:7", "203.0.113.10", "translated", "a"),
        In(What::kEchoReply, "203.0.113.10", "@a", "translated", "10.0.1.101:7"),
        In(What::kEchoReply, "203.0.113.11", "@a", "filtered"),
        Same(Out(What::kEchoReply, "10.0.1.101:7", "203.0.113.10", "translated"), "@a")}},
      {"IcmpErrorInbound", "RFC 5508 REQ-3 (embedded header translated)", kApdf, true,
       {Out(kUdp, "10.0.1.101:40000", "203.0.113.10:53", "translated", "a"),
        Step{.dir = Dir::kIn, .what = What::kErrorAbout, .src = "192.0.2.254",
             .dst = "198.51.100.1", .want = "translated", .to = "10.0.1.101:40000",
             .inner_src = "@a", .inner_dst = "203.0.113.10:53"}}},
      {"IcmpErrorInboundWithoutSession", "RFC 5508 REQ-4 (dropped silently)", kApdf, true,
       {Step{.dir = Dir::kIn, .what = What::kErrorAbout, .src = "192.0.2.254",
             .dst = "198.51.100.2", .want = "icmp-error-no-session",
             .inner_src = "198.51.100.2:1111", .inner_dst = "203.0.113.10:53"}}},
      {"IcmpErrorOutbound", "RFC 5508 REQ-3 (from the private realm)", kApdf, true,
       {Out(kUdp, "10.0.1.101:40000", "203.0.113.10:53", "translated", "a"),
        In(kUdp, "203.0.113.10:53", "@a", "translated"),
        Step{.dir = Dir::kOut, .what = What::kErrorAbout, .src = "10.0.1.101",
             .dst = "203.0.113.10", .want = "translated", .same_as = "@a",
             .inner_src = "203.0.113.10:53", .inner_dst = "10.0.1.101:40000"}}},
      {"MappingExpiresWithItsSessions", "RFC 4787 REQ-5 (idle timeout, 5 min)", kApdf, true,
       {Out(kUdp, "10.0.1.101:40000", "203.0.113.10:53", "translated", "a"),
        At(In(kUdp, "203.0.113.10:53", "@a", "translated"), 1000 + 299'999),
        At(In(kUdp, "203.0.113.10:53", "@a", "no-session"), 1000 + 299'999 + 300'000)}},
      {"OutboundRefreshes", "RFC 4787 REQ-6", kApdf, true,
       {Out(kUdp, "10.0.1.101:40000", "203.0.113.10:53", "translated", "a"),
        At(Same(Out(kUdp, "10.0.1.101:40000", "203.0.113.10:53", "translated"), "@a"), 200'000),
        At(In(kUdp, "203.0.113.10:53", "@a", "translated"), 450'000)}},
  };
  return all;
}

class NatRfcTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(NatRfcTest, Behaves) {
  Runner r(GetParam());
  r.Run(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Rfc, NatRfcTest, ::testing::ValuesIn(Scenarios()),
                         [](const ::testing::TestParamInfo<Scenario>& p) {
                           return std::string(p.param.name);
                         });

}  // namespace
}  // namespace hnv::nat::test
