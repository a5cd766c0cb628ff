#include "dataplane/packet/checksum.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "dataplane/packet/parse.h"
#include "tests/lib/packet_builder.h"

namespace hnv {
namespace {

using test::Ip;
using test::Mac;
using test::PacketBuilder;

// A deliberately naive reference: big-endian words, end-around carry after
// each addition, odd byte padded with zero on the right.
uint16_t NaiveSum(const std::vector<uint8_t>& d, uint32_t initial = 0) {
  uint32_t sum = initial;
  for (size_t i = 0; i < d.size(); i += 2) {
    const uint16_t w = static_cast<uint16_t>(d[i] << 8 | (i + 1 < d.size() ? d[i + 1] : 0));
    sum += w;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

TEST(ChecksumTest, Rfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(ChecksumPartial(data, sizeof(data)), 0xddf2u);
  EXPECT_EQ(ChecksumFinish(ChecksumPartial(data, sizeof(data))).ToHost(), 0x220d);
}

TEST(ChecksumTest, OddLengthsPadOnTheRight) {
  const uint8_t one[] = {0x01};
  EXPECT_EQ(ChecksumPartial(one, 1), 0x0100u);
  const uint8_t three[] = {0x00, 0x01, 0xf2};
  EXPECT_EQ(ChecksumPartial(three, 3), 0xf201u);
  EXPECT_EQ(ChecksumPartial(three, 0), 0u);
  EXPECT_EQ(ChecksumPartial(three, 0, 0x1234), 0x1234u);
}

TEST(ChecksumTest, InitialChainsAndFolds) {
  const uint8_t a[] = {0xff, 0xff, 0x00, 0x01};
  EXPECT_EQ(ChecksumPartial(a, 4), 0x0001u);  // ffff + 0001 = 1 0000 -> 0001
  EXPECT_EQ(ChecksumPartial(a, 2, 0x0001), 0x0001u);
  EXPECT_EQ(ChecksumPartial(a, 2, 0xfffff), 0x000fu);   // initial folds: f + ffff (= -0)
  EXPECT_EQ(ChecksumFinish(0x1ffff).ToHost(), 0xfffe);  // 1ffff folds to 0001
}

TEST(ChecksumTest, MatchesNaiveReferenceAtAnyAlignmentAndLength) {
  std::mt19937 rng(1);
  std::vector<uint8_t> buf(300);
  for (int iter = 0; iter < 3000; ++iter) {
    for (auto& b : buf) b = static_cast<uint8_t>(rng());
    if (iter % 7 == 0) std::fill(buf.begin(), buf.end(), 0xff);
    const size_t off = rng() % 8;
    const size_t len = rng() % 280;
    const std::vector<uint8_t> d(buf.begin() + off, buf.begin() + off + len);
    const uint32_t initial = iter % 3 == 0 ? rng() & 0xffff : 0;
    ASSERT_EQ(ChecksumPartial(buf.data() + off, len, initial), NaiveSum(d, initial))
        << "off " << off << " len " << len;
  }
}

TEST(ChecksumTest, ChainingEvenPieces) {
  std::mt19937 rng(2);
  std::vector<uint8_t> d(64);
  for (auto& b : d) b = static_cast<uint8_t>(rng());
  for (size_t split = 0; split <= d.size(); split += 2) {
    EXPECT_EQ(ChecksumPartial(d.data() + split, d.size() - split, ChecksumPartial(d.data(), split)),
              ChecksumPartial(d.data(), d.size()));
  }
}

// The IPv4 header from Wikipedia's "IPv4 header checksum" example.
TEST(ChecksumTest, RealIpv4Header) {
  const uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                           0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  Ipv4Hdr h;
  std::memcpy(&h, hdr, 20);
  EXPECT_EQ(Ipv4HeaderChecksum(&h).ToHost(), 0xb861);
  EXPECT_TRUE(Ipv4HeaderChecksumOk(&h));
  h.ttl = 0x3f;
  EXPECT_FALSE(Ipv4HeaderChecksumOk(&h));
  h.checksum = Be16::FromHost(0);  // the stored value does not matter
  h.ttl = 0x40;
  EXPECT_EQ(Ipv4HeaderChecksum(&h).ToHost(), 0xb861);
}

TEST(ChecksumTest, Ipv4HeaderWithOptions) {
  auto f = PacketBuilder()
               .Eth(Mac("600060000102"), Mac("600060000101"))
               .Ipv4(Ip("10.0.1.101"), Ip("10.0.1.102"))
               .Ipv4Options({0x94, 0x04, 0x00, 0x00})  // router alert
               .Udp(1, 2)
               .Build();
  auto* ip = reinterpret_cast<Ipv4Hdr*>(f.data() + 14);
  ASSERT_EQ(ip->ihl_bytes(), 24);
  EXPECT_TRUE(Ipv4HeaderChecksumOk(ip));
  f[14 + 21] ^= 0x01;  // an option byte is covered
  EXPECT_FALSE(Ipv4HeaderChecksumOk(ip));
}

// A UDP datagram whose one's-complement sum comes to 0xffff has a computed
// checksum of zero, which UDP must send as 0xffff (zero means "none").
TEST(ChecksumTest, UdpZeroBecomesAllOnes) {
  auto f = PacketBuilder()
               .Eth(Mac("600060000102"), Mac("600060000101"))
               .Ipv4(Ip("10.0.1.101"), Ip("10.0.1.102"))
               .Udp(1000, 2000)
               .Payload(std::vector<uint8_t>{0, 0})
               .Build();
  auto* ip = reinterpret_cast<Ipv4Hdr*>(f.data() + 14);
  uint8_t* udp = f.data() + 34;
  udp[6] = udp[7] = 0;
  // Choose the last payload word so that the checksum computes to zero.
  const uint16_t c = ~L4ChecksumV4(ip, kIpProtoUdp, udp, 10).ToHost();  // the sum
  const uint16_t w = static_cast<uint16_t>(0xffff - c);
  udp[8] = static_cast<uint8_t>(w >> 8);
  udp[9] = static_cast<uint8_t>(w);
  EXPECT_EQ(L4ChecksumV4(ip, kIpProtoUdp, udp, 10).ToHost(), 0xffff);
  EXPECT_EQ(ChecksumFinish(0xffff).ToHost(), 0x0000);  // what TCP would send
}

// UDP over IPv4 and IPv6 against the naive reference with the pseudo header
// spelled out byte by byte.
TEST(ChecksumTest, PseudoHeaders) {
  std::mt19937 rng(3);
  for (int iter = 0; iter < 200; ++iter) {
    std::vector<uint8_t> l4(8 + rng() % 100);
    for (auto& b : l4) b = static_cast<uint8_t>(rng());
    l4[6] = l4[7] = 0;
    const uint32_t len = static_cast<uint32_t>(l4.size());

    Ipv4Hdr ip4{};
    for (auto& b : ip4.src) b = static_cast<uint8_t>(rng());
    for (auto& b : ip4.dst) b = static_cast<uint8_t>(rng());
    std::vector<uint8_t> p4(ip4.src, ip4.src + 4);
    p4.insert(p4.end(), ip4.dst, ip4.dst + 4);
    p4.insert(p4.end(),
              {0, kIpProtoTcp, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)});
    p4.insert(p4.end(), l4.begin(), l4.end());
    EXPECT_EQ(L4ChecksumV4(&ip4, kIpProtoTcp, l4.data(), len).ToHost(),
              static_cast<uint16_t>(~NaiveSum(p4)));

    Ipv6Hdr ip6{};
    for (auto& b : ip6.src) b = static_cast<uint8_t>(rng());
    for (auto& b : ip6.dst) b = static_cast<uint8_t>(rng());
    std::vector<uint8_t> p6(ip6.src, ip6.src + 16);
    p6.insert(p6.end(), ip6.dst, ip6.dst + 16);
    p6.insert(p6.end(), {0, 0, static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len), 0, 0, 0,
                         kIpProtoIcmp6});
    p6.insert(p6.end(), l4.begin(), l4.end());
    EXPECT_EQ(L4ChecksumV6(&ip6, kIpProtoIcmp6, l4.data(), len).ToHost(),
              static_cast<uint16_t>(~NaiveSum(p6)));
  }
}

// The header check (inline for 20 bytes, the general sum with options)
// against the naive sum, on random headers of every IHL: right and wrong
// checksums, and the all-zero / all-ones words where 0x0000 and 0xffff meet.
TEST(ChecksumTest, HeaderCheckAgreesWithTheNaiveSum) {
  std::mt19937 rng(6);
  int valid = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    const size_t ihl = 4 * (5 + rng() % 11);
    std::vector<uint8_t> d(60);
    for (auto& b : d) b = iter % 7 == 0 ? 0xff : iter % 7 == 1 ? 0x00 : static_cast<uint8_t>(rng());
    d[0] = static_cast<uint8_t>(0x40 | ihl / 4);
    if (iter % 2 == 0) {  // a right checksum
      d[10] = d[11] = 0;
      const uint16_t c = static_cast<uint16_t>(~NaiveSum({d.begin(), d.begin() + ihl}));
      d[10] = static_cast<uint8_t>(c >> 8);
      d[11] = static_cast<uint8_t>(c);
    }
    const bool want = NaiveSum({d.begin(), d.begin() + ihl}) == 0xffff;
    valid += want;
    ASSERT_EQ(Ipv4HeaderChecksumOk(reinterpret_cast<const Ipv4Hdr*>(d.data())), want)
        << "iter " << iter << " ihl " << ihl;
  }
  EXPECT_GT(valid, 90000);
  std::vector<uint8_t> short_ihl(60, 0);
  short_ihl[0] = 0x44;  // IHL 4: never right
  EXPECT_FALSE(Ipv4HeaderChecksumOk(reinterpret_cast<const Ipv4Hdr*>(short_ihl.data())));
}

// RFC 1624 eqn. 3 against a full recomputation, on random data and words.
TEST(ChecksumTest, IncrementalUpdateEqualsRecompute) {
  std::mt19937 rng(4);
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> d(4 + 2 * (rng() % 40));
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    if (iter % 10 == 0) std::fill(d.begin(), d.end(), iter % 20 == 0 ? 0xff : 0x00);
    d[0] |= 1;  // never all zero: 0x0000 vs 0xffff is then unambiguous
    const Be16 before = ChecksumFinish(ChecksumPartial(d.data(), d.size()));
    const size_t w = 2 * (1 + rng() % (d.size() / 2 - 1));  // any word but the first
    const Be16 old_word = Be16::FromHost(static_cast<uint16_t>(d[w] << 8 | d[w + 1]));
    uint16_t nw = static_cast<uint16_t>(rng());
    if (iter % 5 == 0) nw = iter % 10 == 0 ? 0 : 0xffff;
    d[w] = static_cast<uint8_t>(nw >> 8);
    d[w + 1] = static_cast<uint8_t>(nw);
    const Be16 full = ChecksumFinish(ChecksumPartial(d.data(), d.size()));
    ASSERT_EQ(ChecksumUpdate16(before, old_word, Be16::FromHost(nw)).ToHost(), full.ToHost())
        << "iter " << iter;
  }
}

TEST(ChecksumTest, DecrementTtl) {
  std::mt19937 rng(5);
  for (int iter = 0; iter < 5000; ++iter) {
    Ipv4Hdr h{};
    auto* p = reinterpret_cast<uint8_t*>(&h);
    for (size_t i = 0; i < sizeof(h); ++i) p[i] = static_cast<uint8_t>(rng());
    h.version_ihl = 0x45;
    h.ttl = static_cast<uint8_t>(1 + rng() % 255);
    h.checksum = Ipv4HeaderChecksum(&h);
    const uint8_t ttl = h.ttl;
    Ipv4DecrementTtl(&h);
    ASSERT_EQ(h.ttl, ttl - 1);
    ASSERT_TRUE(Ipv4HeaderChecksumOk(&h)) << "iter " << iter;
    ASSERT_EQ(h.checksum, Ipv4HeaderChecksum(&h));
  }
  Ipv4Hdr zero{};
  zero.version_ihl = 0x45;
  zero.checksum = Ipv4HeaderChecksum(&zero);
  Ipv4DecrementTtl(&zero);
  EXPECT_EQ(zero.ttl, 0);  // never wraps to 255
  EXPECT_TRUE(Ipv4HeaderChecksumOk(&zero));
}

}  // namespace
}  // namespace hnv
