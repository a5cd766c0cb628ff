#include "dataplane/packet/types.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace hnv {
namespace {

TEST(BigEndianTest, StoresNetworkOrder) {
  const Be16 a = Be16::FromHost(0x1234);
  const Be32 b = Be32::FromHost(0x0a000165);
  uint8_t bytes[6];
  std::memcpy(bytes, &a, 2);
  std::memcpy(bytes + 2, &b, 4);
  const uint8_t want[6] = {0x12, 0x34, 0x0a, 0x00, 0x01, 0x65};
  EXPECT_EQ(0, std::memcmp(bytes, want, 6));
  EXPECT_EQ(a.ToHost(), 0x1234);
  EXPECT_EQ(b.ToHost(), 0x0a000165u);
  EXPECT_EQ(Be16::FromRaw(a.raw()), a);
  static_assert(ByteSwap<uint16_t>(0x1234) == 0x3412);
  static_assert(ByteSwap<uint32_t>(0x11223344) == 0x44332211);
  static_assert(Be16::FromHost(0x0800).ToHost() == 0x0800);
}

struct MacCase {
  const char* text;
  bool ok;
};

class MacParseTest : public ::testing::TestWithParam<MacCase> {};

TEST_P(MacParseTest, Parses) {
  const MacCase& c = GetParam();
  const std::optional<MacAddr> m = MacAddr::Parse(c.text);
  ASSERT_EQ(m.has_value(), c.ok) << "\"" << c.text << "\"";
  if (c.ok) {
    EXPECT_EQ(m->ToCompactString(), "600060000101");
    EXPECT_EQ(m->ToString(), "60:00:60:00:01:01");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Spellings, MacParseTest,
    ::testing::Values(MacCase{"600060000101", true}, MacCase{"60-00-60-00-01-01", true},
                      MacCase{"60:00:60:00:01:01", true}, MacCase{"", false},
                      MacCase{"60006000010", false}, MacCase{"6000600001011", false},
                      MacCase{"60-00:60-00-01-01", false},  // mixed separators
                      MacCase{"60:00:60:00:01-01", false}, MacCase{"60.00.60.00.01.01", false},
                      MacCase{"6000.6000.0101", false}, MacCase{"6000-6000-0101", false},
                      MacCase{"60:00:60:00:01:0g", false}, MacCase{"6000600001 1", false},
                      MacCase{" 60:00:60:00:01:01", false}, MacCase{"60:00:60:00:01:01 ", false},
                      MacCase{"60::0:60:00:01:01", false}, MacCase{"6:00:60:00:01:010", false},
                      MacCase{"60:00:60:00:01:01:02", false}, MacCase{"0x6000600001", false}));

TEST(MacAddrTest, CaseInsensitiveAndPrinting) {
  for (const char* s : {"aabbccddeeff", "AABBCCDDEEFF", "aA-bB-cC-dD-eE-fF", "AA:bb:CC:dd:EE:ff"}) {
    const auto m = MacAddr::Parse(s);
    ASSERT_TRUE(m) << s;
    EXPECT_EQ(m->ToCompactString(), "AABBCCDDEEFF");
    EXPECT_EQ(m->ToString(), "aa:bb:cc:dd:ee:ff");
  }
}

TEST(MacAddrTest, Predicates) {
  EXPECT_TRUE(MacAddr::Broadcast().IsBroadcast());
  EXPECT_TRUE(MacAddr::Broadcast().IsMulticast());
  EXPECT_TRUE(MacAddr::Parse("333300000001")->IsMulticast());
  EXPECT_FALSE(MacAddr::Parse("600060000101")->IsMulticast());
  EXPECT_TRUE(MacAddr{}.IsZero());
  EXPECT_LT(*MacAddr::Parse("600060000101"), *MacAddr::Parse("600060000102"));
}

struct IpCase {
  const char* text;
  bool ok;
  Family family;
  const char* printed;  // canonical form
};

class IpParseTest : public ::testing::TestWithParam<IpCase> {};

TEST_P(IpParseTest, Parses) {
  const IpCase& c = GetParam();
  const auto a = IpAddr::Parse(c.text);
  ASSERT_EQ(a.has_value(), c.ok) << "\"" << c.text << "\"";
  if (!c.ok) return;
  EXPECT_EQ(a->family, c.family);
  EXPECT_EQ(a->ToString(), c.printed);
  EXPECT_EQ(IpAddr::Parse(a->ToString()), a);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, IpParseTest,
    ::testing::Values(IpCase{"10.0.1.101", true, Family::kV4, "10.0.1.101"},
                      IpCase{"0.0.0.0", true, Family::kV4, "0.0.0.0"},
                      IpCase{"255.255.255.255", true, Family::kV4, "255.255.255.255"},
                      IpCase{"fd00::1", true, Family::kV6, "fd00::1"},
                      IpCase{"FD00:0:0:0:0:0:0:1", true, Family::kV6, "fd00::1"},
                      IpCase{"::", true, Family::kV6, "::"},
                      IpCase{"::ffff:10.0.1.1", true, Family::kV6, "::ffff:10.0.1.1"},
                      IpCase{"", false}, IpCase{"10.0.1", false}, IpCase{"10.0.1.256", false},
                      IpCase{"10.0.1.1 ", false}, IpCase{" 10.0.1.1", false},
                      IpCase{"10.0.1.1/24", false}, IpCase{"::g", false},
                      IpCase{"fe80::1%eth0", false}, IpCase{"1:2:3:4:5:6:7:8:9", false},
                      IpCase{"0x0a.0.0.1", false}));

TEST(IpAddrTest, V4LayoutAndMasking) {
  const IpAddr a = *IpAddr::Parse("10.0.1.101");
  EXPECT_EQ(a.v4_host(), 0x0a000165u);
  EXPECT_EQ(IpAddr::V4(0x0a000165), a);
  for (int i = 4; i < 16; ++i) EXPECT_EQ(a.b[i], 0) << i;
  EXPECT_EQ(a.Masked(24).ToString(), "10.0.1.0");
  EXPECT_EQ(a.Masked(0).ToString(), "0.0.0.0");
  EXPECT_EQ(a.Masked(32), a);
  EXPECT_EQ(a.Masked(27).ToString(), "10.0.1.96");
  EXPECT_EQ(IpAddr::Parse("fd00:1:2:3:4:5:6:7")->Masked(64).ToString(), "fd00:1:2:3::");
  EXPECT_EQ(IpAddr::Parse("fd00:1:2:3:4:5:6:7")->Masked(17).ToString(), "fd00::");
  EXPECT_TRUE(IpAddr::Parse("::")->IsUnspecified());
  EXPECT_NE(*IpAddr::Parse("0.0.0.0"), *IpAddr::Parse("::"));  // family matters
}

struct PrefixCase {
  const char* text;
  bool allow_host_bits;
  const char* printed;  // nullptr: rejected
};

class PrefixParseTest : public ::testing::TestWithParam<PrefixCase> {};

TEST_P(PrefixParseTest, Parses) {
  const PrefixCase& c = GetParam();
  const auto p = IpPrefix::Parse(c.text, c.allow_host_bits);
  ASSERT_EQ(p.has_value(), c.printed != nullptr) << "\"" << c.text << "\"";
  if (p) {
    EXPECT_EQ(p->ToString(), c.printed);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Forms, PrefixParseTest,
    ::testing::Values(
        PrefixCase{"10.0.1.0/24", false, "10.0.1.0/24"},
        PrefixCase{"0.0.0.0/0", false, "0.0.0.0/0"},
        PrefixCase{"10.0.1.101/32", false, "10.0.1.101/32"},
        PrefixCase{"fd00::/64", false, "fd00::/64"}, PrefixCase{"::/0", false, "::/0"},
        PrefixCase{"fd00::1/128", false, "fd00::1/128"},
        PrefixCase{"10.0.1.1/24", false, nullptr},  // host bits
        PrefixCase{"10.0.1.1/24", true, "10.0.1.0/24"}, PrefixCase{"fd00::1/64", false, nullptr},
        PrefixCase{"fd00::1/64", true, "fd00::/64"}, PrefixCase{"10.0.1.0", false, nullptr},
        PrefixCase{"10.0.1.0/", false, nullptr}, PrefixCase{"10.0.1.0/33", false, nullptr},
        PrefixCase{"fd00::/129", false, nullptr}, PrefixCase{"10.0.1.0/2x", false, nullptr},
        PrefixCase{"10.0.1.0/-1", false, nullptr}, PrefixCase{"10.0.1.0/+24", false, nullptr},
        PrefixCase{"10.0.1.0/ 24", false, nullptr}, PrefixCase{"10.0.1.0/24 ", false, nullptr},
        PrefixCase{"10.0.1.0/1000", false, nullptr}, PrefixCase{"/24", false, nullptr},
        PrefixCase{"10.0.1.0/24/8", false, nullptr}, PrefixCase{"garbage/24", false, nullptr}));

TEST(IpPrefixTest, Contains) {
  const IpPrefix p = *IpPrefix::Parse("10.0.1.0/24");
  EXPECT_TRUE(p.Contains(*IpAddr::Parse("10.0.1.101")));
  EXPECT_FALSE(p.Contains(*IpAddr::Parse("10.0.2.1")));
  EXPECT_FALSE(p.Contains(*IpAddr::Parse("::a00:165")));
  EXPECT_TRUE(IpPrefix::Parse("0.0.0.0/0")->Contains(*IpAddr::Parse("1.2.3.4")));
  EXPECT_TRUE(IpPrefix::Parse("fd00::/64")->Contains(*IpAddr::Parse("fd00::1234")));
}

struct GuidCase {
  const char* text;
  const char* printed;  // nullptr: rejected
};

class GuidParseTest : public ::testing::TestWithParam<GuidCase> {};

TEST_P(GuidParseTest, Parses) {
  const GuidCase& c = GetParam();
  const auto g = Guid::Parse(c.text);
  ASSERT_EQ(g.has_value(), c.printed != nullptr) << "\"" << c.text << "\"";
  if (g) {
    EXPECT_EQ(g->ToString(), c.printed);
    EXPECT_EQ(Guid::Parse(g->ToString()), g);
  }
}

constexpr const char* kRdid = "{12345678-1000-2000-3000-123456780001}";

INSTANTIATE_TEST_SUITE_P(
    Forms, GuidParseTest,
    ::testing::Values(GuidCase{"{12345678-1000-2000-3000-123456780001}", kRdid},
                      GuidCase{"12345678-1000-2000-3000-123456780001", kRdid},
                      GuidCase{"{ABCDEF01-abcd-ABCD-0000-00000000FFFF}",
                               "{abcdef01-abcd-abcd-0000-00000000ffff}"},
                      GuidCase{"{12345678-1000-2000-3000-123456780001", nullptr},
                      GuidCase{"12345678-1000-2000-3000-123456780001}", nullptr},
                      GuidCase{"(12345678-1000-2000-3000-123456780001)", nullptr},
                      GuidCase{"1234567-81000-2000-3000-123456780001", nullptr},
                      GuidCase{"12345678-1000-2000-3000-12345678000", nullptr},
                      GuidCase{"12345678-1000-2000-3000-1234567800011", nullptr},
                      GuidCase{"12345678_1000_2000_3000_123456780001", nullptr},
                      GuidCase{"1234567g-1000-2000-3000-123456780001", nullptr},
                      GuidCase{"12345678100020003000123456780001", nullptr},
                      GuidCase{"", nullptr}));

TEST(VsidTest, Range) {
  EXPECT_FALSE(IsValidVsid(4095));
  EXPECT_TRUE(IsValidVsid(4096));
  EXPECT_TRUE(IsValidVsid(6000));
  EXPECT_TRUE(IsValidVsid(16777214));
  EXPECT_FALSE(IsValidVsid(16777215));
}

}  // namespace
}  // namespace hnv
