// libFuzzer target for the packet library: ParseFrame on arbitrary bytes and,
// when a frame parses, the builders that take a frame (echo reply in place,
// MSS clamping, ICMP "too big"). Besides ASan/UBSan findings it checks the
// properties the stages rely on and traps when one fails:
//   - a parsed frame's offsets and lengths lie inside the input;
//   - parsing is deterministic;
//   - an echo reply still parses the same way and keeps a valid IPv4 header
//     checksum and a valid ICMPv6 checksum;
//   - MSS clamping only touches the TCP header, keeps a valid TCP checksum
//     valid and never raises an MSS;
//   - an ICMP "too big" parses, fits the minimum MTU, and has valid checksums.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dataplane/packet/build.h"
#include "dataplane/packet/checksum.h"
#include "dataplane/packet/parse.h"

namespace hnv {
namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Sum over pseudo header and segment, stored checksum included: 0xffff when
// the stored checksum is right.
uint32_t L4Sum(const uint8_t* frame, const ParsedFrame& pf) {
  const uint32_t l4_len = pf.l3_offset + pf.l3_len - pf.l4_offset;
  uint32_t sum;
  if (pf.l3 == L3Kind::kIpv4) {
    const auto* ip = pf.At<Ipv4Hdr>(frame, pf.l3_offset);
    sum = ChecksumPartial(ip->src, 8, pf.l4_proto + l4_len);
  } else {
    const auto* ip = pf.At<Ipv6Hdr>(frame, pf.l3_offset);
    sum = ChecksumPartial(ip->src, 32, pf.l4_proto + l4_len);
  }
  return ChecksumPartial(frame + pf.l4_offset, l4_len, sum);
}

bool SameLayout(const ParsedFrame& a, const ParsedFrame& b) {
  return a.l3_offset == b.l3_offset && a.l4_offset == b.l4_offset && a.l3_len == b.l3_len &&
         a.ether_type == b.ether_type && a.vlan_id == b.vlan_id && a.has_vlan == b.has_vlan &&
         a.l3 == b.l3 && a.l4_proto == b.l4_proto && a.is_fragment == b.is_fragment &&
         a.is_first_fragment == b.is_first_fragment && a.l4_present == b.l4_present;
}

void CheckLayout(const ParsedFrame& pf, size_t size) {
  Check(pf.l3_offset <= size);
  if (pf.l3 == L3Kind::kArp || pf.l3 == L3Kind::kIpv4 || pf.l3 == L3Kind::kIpv6) {
    Check(pf.l3_offset + pf.l3_len <= size);
  }
  if (pf.l4_present) {
    Check(pf.l4_offset >= pf.l3_offset);
    Check(pf.l4_offset + 8u <= pf.l3_offset + pf.l3_len);
  }
}

void FuzzEchoReply(const uint8_t* data, size_t size, const ParsedFrame& pf) {
  std::vector<uint8_t> f(data, data + size);
  if (!EchoRequestToReplyInPlace(f.data(), pf)) {
    Check(std::memcmp(f.data(), data, size) == 0);
    return;
  }
  ParsedFrame after;
  Check(ParseFrame(f.data(), static_cast<uint32_t>(size), &after) == ParseError::kOk);
  Check(SameLayout(pf, after));
  if (pf.l3 == L3Kind::kIpv4) {
    Check(Ipv4HeaderChecksumOk(after.At<Ipv4Hdr>(f.data(), after.l3_offset)));
  } else {
    Check(L4Sum(f.data(), after) == 0xffff);
  }
}

void FuzzClampMss(const uint8_t* data, size_t size, const ParsedFrame& pf) {
  if (!pf.l4_present || pf.l4_proto != kIpProtoTcp) return;
  std::vector<uint8_t> f(data, data + size);
  const uint32_t tcp_len = pf.l3_offset + pf.l3_len - pf.l4_offset;
  // Take the limit from the input so that both sides of every comparison run.
  const uint16_t max_mss = static_cast<uint16_t>(data[size - 1] << 8 | data[size / 2]);
  const bool whole = !pf.is_fragment;
  const bool was_valid = whole && L4Sum(f.data(), pf) == 0xffff;
  const bool changed = ClampTcpMss(f.data() + pf.l4_offset, tcp_len, max_mss);
  const auto* tcp = pf.At<TcpHdr>(f.data(), pf.l4_offset);
  for (size_t i = 0; i < size; ++i) {
    const bool in_header = i >= pf.l4_offset && i < pf.l4_offset + tcp->header_bytes();
    if (!in_header) Check(f[i] == data[i]);
  }
  if (!changed) {
    Check(std::memcmp(f.data(), data, size) == 0);
    return;
  }
  Check((tcp->flags & kTcpSyn) != 0);
  if (was_valid) Check(L4Sum(f.data(), pf) == 0xffff);
  // Every well-formed MSS option now reads min(old, max_mss): lowered, never
  // raised. A separate walk over the original bytes finds them.
  const uint8_t* old_opts = data + pf.l4_offset;
  const uint8_t* new_opts = f.data() + pf.l4_offset;
  for (uint32_t i = sizeof(TcpHdr); i < tcp->header_bytes();) {
    if (old_opts[i] == kTcpOptEnd) break;
    if (old_opts[i] == kTcpOptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= tcp->header_bytes()) break;
    const uint32_t len = old_opts[i + 1];
    if (len < 2 || i + len > tcp->header_bytes()) break;
    if (old_opts[i] == kTcpOptMss && len == 4) {
      const uint16_t before = static_cast<uint16_t>(old_opts[i + 2] << 8 | old_opts[i + 3]);
      const uint16_t now = static_cast<uint16_t>(new_opts[i + 2] << 8 | new_opts[i + 3]);
      Check(now == (before > max_mss ? max_mss : before));
    }
    i += len;
  }
  ParsedFrame after;
  Check(ParseFrame(f.data(), static_cast<uint32_t>(size), &after) == ParseError::kOk);
  Check(SameLayout(pf, after));
}

void FuzzTooBig(const uint8_t* data, const ParsedFrame& pf) {
  if (pf.l3 != L3Kind::kIpv4 && pf.l3 != L3Kind::kIpv6) return;
  static uint8_t out[1600];
  const MacAddr src_mac{{0x60, 0, 0x60, 0, 0, 1}};
  const MacAddr dst_mac{{0x60, 0, 0x60, 0, 1, 1}};
  const IpAddr src_ip =
      pf.l3 == L3Kind::kIpv4 ? IpAddr::V4(0x0a000101) : IpAddr::V6Raw(data + pf.l3_offset + 24);
  const uint32_t n = BuildIcmpTooBig(out, sizeof(out), src_mac, dst_mac, src_ip,
                                     data + pf.l3_offset, pf.l3_len, 1400);
  Check(n != 0);
  Check(n <= 14u + (pf.l3 == L3Kind::kIpv4 ? 576u : 1280u));
  ParsedFrame r;
  Check(ParseFrame(out, n, &r) == ParseError::kOk);
  Check(r.l4_present && r.l3_offset + r.l3_len == n);
  if (r.l3 == L3Kind::kIpv4) {
    Check(Ipv4HeaderChecksumOk(r.At<Ipv4Hdr>(out, r.l3_offset)));
    Check(ChecksumPartial(out + r.l4_offset, r.l3_len - 20) == 0xffff);
  } else {
    Check(L4Sum(out, r) == 0xffff);
  }
  // Too small a buffer is refused, not overrun.
  Check(BuildIcmpTooBig(out, n - 1, src_mac, dst_mac, src_ip, data + pf.l3_offset, pf.l3_len,
                        1400) == 0);
}

}  // namespace
}  // namespace hnv

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hnv;
  if (size > 0xffff) return -1;  // not a frame; keep it out of the corpus
  ParsedFrame pf;
  const ParseError err = ParseFrame(data, static_cast<uint32_t>(size), &pf);
  Check(err < ParseError::kCount);
  Check(ParseErrorName(err)[0] != '\0');
  Check(err == ParseError::kOk || !pf.l4_present);
  if (err != ParseError::kOk) return 0;
  CheckLayout(pf, size);
  ParsedFrame again;
  Check(ParseFrame(data, static_cast<uint32_t>(size), &again) == ParseError::kOk);
  Check(SameLayout(pf, again));

  FuzzEchoReply(data, size, pf);
  FuzzClampMss(data, size, pf);
  FuzzTooBig(data, pf);
  return 0;
}
