// The port ACLs' compiled lookups (policy/port_acl.h) against their
// definition, on random rules and addresses: AclPrefixIndex (the longest
// matching prefix, Deny over Allow at equal length, ANY in both families)
// gives what a scan of the ordered rules gives (IpVerdictByScanForTest),
// and each protocol class's list of extended rules (by_class) leaves out
// only rules that cannot match a frame of that class.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "dataplane/policy/port_acl.h"

namespace hnv {
namespace {

// Addresses near a few bases, so that rules overlap and frames hit them.
IpAddr RandomAddr(std::mt19937_64& rng, bool v6) {
  static const uint8_t kBases[3][16] = {
      {10, 0, 1, 0}, {10, 0, 2, 128}, {172, 16, 0, 0}};
  uint8_t b[16];
  std::memcpy(b, kBases[rng() % 3], 16);
  if (v6) {
    b[0] = 0xfd;
    b[15] = static_cast<uint8_t>(rng() % 4);
  }
  const int bits = v6 ? 128 : 32;
  // Flip a few random low bits (and sometimes any bit).
  for (int k = static_cast<int>(rng() % 4); k > 0; --k) {
    const int bit = rng() % 5 == 0 ? static_cast<int>(rng() % bits)
                                   : bits - 1 - static_cast<int>(rng() % 10);
    b[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
  }
  return v6 ? IpAddr::V6Raw(b) : IpAddr::V4Raw(b);
}

IpPrefix PrefixOf(const IpAddr& a, uint8_t len) {
  IpPrefix p{a, len};
  for (int i = len; i < a.bits(); ++i) p.addr.b[i / 8] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
  return p;
}

// The words a frame's address is loaded as (pipeline/stage_util.h IpWords).
void Words(const IpAddr& a, uint64_t* lo, uint64_t* hi) {
  *lo = *hi = 0;
  if (a.is_v4()) {
    uint32_t x;
    std::memcpy(&x, a.b.data(), 4);
    *lo = x;
  } else {
    std::memcpy(lo, a.b.data(), 8);
    std::memcpy(hi, a.b.data() + 8, 8);
  }
}

TEST(PortAclIndex, LongestPrefixEqualsTheOrderedScan) {
  uint64_t checked = 0, denied = 0, allowed = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<PortAcl> acls;
    const int n = 1 + static_cast<int>(rng() % (seed % 10 == 0 ? 300 : 40));
    for (int i = 0; i < n; ++i) {
      PortAcl a;
      a.vm_name = "vm";
      a.direction = static_cast<AclDirection>(1 + rng() % 3);
      a.action = rng() % 2 ? AclAction::kAllow : AclAction::kDeny;
      const unsigned kind = rng() % 20;
      if (kind == 0) {
        a.remote_ip.any = true;
      } else {
        const bool v6 = kind % 3 == 0;
        const int bits = v6 ? 128 : 32;
        const IpAddr base = RandomAddr(rng, v6);
        const uint8_t len = static_cast<uint8_t>(
            rng() % 3 == 0 ? rng() % (bits + 1) : bits - rng() % 9);
        a.remote_ip.any = false;
        a.remote_ip.prefix = PrefixOf(base, len);
      }
      acls.push_back(a);
    }
    const auto t = CompilePortAcls("vm", acls, {}, [](const PortAcl&, PortAclTable::Dir) {
      return kNoMeter;
    });
    ASSERT_TRUE(t);
    for (int k = 0; k < 500; ++k) {
      const bool v6 = rng() % 3 == 0;
      const IpAddr a = RandomAddr(rng, v6);
      uint64_t lo, hi;
      Words(a, &lo, &hi);
      const uint8_t fam = static_cast<uint8_t>(a.family);
      for (const PortAclTable::Rules& r : t->dir) {
        const AclVerdict want = IpVerdictByScanForTest(r, lo, hi, fam);
        ASSERT_EQ(r.IpVerdict(lo, hi, fam), want)
            << "seed " << seed << " address " << a.ToString();
        ++checked;
        denied += want == AclVerdict::kDeny;
        allowed += want == AclVerdict::kAllow;
      }
    }
  }
  // The addresses hit rules both ways, not only misses.
  EXPECT_GT(denied, checked / 10);
  EXPECT_GT(allowed, checked / 10);
}

TEST(PortAclIndex, ProtocolClassesLeaveOutOnlyRulesThatCannotMatch) {
  std::mt19937_64 rng(3);
  std::vector<PortExtendedAcl> ext;
  const uint16_t protos[] = {kAnyProtocol, 6, 17, 1, 58, 47};
  for (uint32_t i = 0; i < 200; ++i) {
    PortExtendedAcl x;
    x.vm_name = "vm";
    x.direction = rng() % 2 ? AclDirection::kInbound : AclDirection::kOutbound;
    x.weight = i + 1;
    x.protocol = protos[rng() % 6];
    if ((x.protocol == 6 || x.protocol == 17 || x.protocol == kAnyProtocol) && rng() % 2)
      x.remote_port = {80, 80};
    ext.push_back(x);
  }
  const auto t = CompilePortAcls("vm", {}, ext, [](const PortAcl&, PortAclTable::Dir) {
    return kNoMeter;
  });
  ASSERT_TRUE(t);
  for (const PortAclTable::Rules& r : t->dir) {
    for (uint8_t proto : {uint8_t{6}, uint8_t{17}, uint8_t{1}, uint8_t{58}, uint8_t{47}}) {
      const auto& list = r.by_class[PortAclTable::ClassOf(proto)];
      // Every rule that can match a frame of `proto` is listed, in weight order.
      std::vector<uint16_t> want;
      for (size_t i = 0; i < r.ext.size(); ++i) {
        const AclExtRule& x = r.ext[i];
        const bool proto_ok = x.protocol == kAnyProtocol || x.protocol == proto;
        const bool ports_ok = !x.ports || proto == 6 || proto == 17;
        if (proto_ok && ports_ok) want.push_back(static_cast<uint16_t>(i));
      }
      std::vector<uint16_t> have;
      for (uint16_t i : list) {
        const AclExtRule& x = r.ext[i];
        if ((x.protocol == kAnyProtocol || x.protocol == proto) &&
            (!x.ports || proto == 6 || proto == 17))
          have.push_back(i);
      }
      EXPECT_EQ(have, want) << "protocol " << int{proto};
    }
  }
}

}  // namespace
}  // namespace hnv
