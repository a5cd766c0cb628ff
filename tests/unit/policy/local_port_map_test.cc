// LocalPortMap: (VSID, MAC) -> port, the snapshot's copy of the local VM
// ports (deliver's lookup).
#include "dataplane/policy/local_port_map.h"

#include <gtest/gtest.h>

#include <vector>

namespace hnv {
namespace {

MacAddr MacOf(uint32_t i) {
  return MacAddr{{0x60, 0x00, 0x00, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                  static_cast<uint8_t>(i)}};
}

TEST(LocalPortMapTest, EmptyFindsNothing) {
  uint16_t port = 7;
  EXPECT_FALSE(LocalPortMap().Find(6000, MacOf(1), &port));
  EXPECT_FALSE(LocalPortMap(std::vector<LocalPortMap::Item>{}).Find(6000, MacOf(1), &port));
  EXPECT_EQ(port, 7);
}

TEST(LocalPortMapTest, FindsEveryKeyAndOnlyThose) {
  // The same MACs on two VSIDs, and MACs that differ in one byte only: the
  // key is the pair, all 6 bytes of the MAC.
  std::vector<LocalPortMap::Item> items;
  for (uint32_t i = 0; i < 300; ++i) {
    items.push_back({6000, MacOf(i), static_cast<uint16_t>(i)});
    items.push_back({6001, MacOf(i), static_cast<uint16_t>(1000 + i)});
  }
  const LocalPortMap m(items);
  EXPECT_EQ(m.size(), 600u);
  for (uint32_t i = 0; i < 300; ++i) {
    uint16_t port = 0;
    ASSERT_TRUE(m.Find(6000, MacOf(i), &port)) << i;
    EXPECT_EQ(port, i);
    ASSERT_TRUE(m.Find(6001, MacOf(i), &port)) << i;
    EXPECT_EQ(port, 1000 + i);
    EXPECT_FALSE(m.Find(6002, MacOf(i), &port)) << i;
    EXPECT_FALSE(m.Find(6000, MacOf(i + 0x010000), &port)) << i;  // byte 3 differs
    MacAddr first_byte = MacOf(i);
    first_byte.b[0] = 0x62;
    EXPECT_FALSE(m.Find(6000, first_byte, &port)) << i;
  }
  uint16_t port = 0;
  EXPECT_FALSE(m.Find(6000, MacOf(300), &port));
}

TEST(LocalPortMapTest, LastOfADuplicateKeyWins) {
  const LocalPortMap m({{6000, MacOf(1), 3}, {6000, MacOf(1), 4}, {6000, MacOf(2), 5}});
  uint16_t port = 0;
  ASSERT_TRUE(m.Find(6000, MacOf(1), &port));
  EXPECT_EQ(port, 4);
  ASSERT_TRUE(m.Find(6000, MacOf(2), &port));
  EXPECT_EQ(port, 5);
}

TEST(LocalPortMapTest, AnyPortNumberIsAValue) {
  // 0xffff (kNoPort) is a port like any other here: deliver decides what an
  // out-of-range port means.
  const LocalPortMap m({{6000, MacOf(1), 0xffff}, {6000, MacOf(2), 0}});
  uint16_t port = 1;
  ASSERT_TRUE(m.Find(6000, MacOf(1), &port));
  EXPECT_EQ(port, 0xffff);
  ASSERT_TRUE(m.Find(6000, MacOf(2), &port));
  EXPECT_EQ(port, 0);
}

}  // namespace
}  // namespace hnv
