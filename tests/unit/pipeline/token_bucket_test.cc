// TokenBucket (the workers' ICMP error limit) on a made-up clock: 1,000
// cycles a second, so a token at 10 a second costs 100 cycles.
#include "dataplane/pipeline/token_bucket.h"

#include <gtest/gtest.h>

namespace hnv {
namespace {

constexpr uint64_t kHz = 1000;

int TakeAll(TokenBucket& b, uint64_t now, uint32_t rate, uint32_t burst) {
  int n = 0;
  while (n < 1000 && b.Take(now, kHz, rate, burst)) ++n;
  return n;
}

TEST(TokenBucketTest, StartsFullThenRefillsAtTheRate) {
  TokenBucket b;
  EXPECT_EQ(TakeAll(b, 5000, 10, 4), 4);
  EXPECT_FALSE(b.Take(5099, kHz, 10, 4));  // 99 cycles: not yet a token
  EXPECT_TRUE(b.Take(5100, kHz, 10, 4));
  EXPECT_FALSE(b.Take(5100, kHz, 10, 4));
  EXPECT_EQ(TakeAll(b, 5350, 10, 4), 2);  // 250 cycles since the last token: 2, half kept
  EXPECT_EQ(TakeAll(b, 5400, 10, 4), 1);  // the kept half and 50 more
}

TEST(TokenBucketTest, AnIdleBucketHoldsNoMoreThanItsBurst) {
  TokenBucket b;
  EXPECT_EQ(TakeAll(b, 0, 10, 3), 3);
  EXPECT_EQ(TakeAll(b, 1'000'000'000, 10, 3), 3);
  EXPECT_EQ(TakeAll(b, ~uint64_t{0}, 10, 3), 3);  // the end of time: still 3
}

TEST(TokenBucketTest, ALowerBurstTrimsTheCredit) {
  TokenBucket b;
  EXPECT_TRUE(b.Take(0, kHz, 10, 50));  // 49 left
  EXPECT_EQ(TakeAll(b, 0, 10, 2), 2);
}

TEST(TokenBucketTest, ZeroRateOrBurstNeverGivesNoClockAlwaysGives) {
  TokenBucket b;
  EXPECT_FALSE(b.Take(0, kHz, 0, 50));
  EXPECT_FALSE(b.Take(0, kHz, 10, 0));
  EXPECT_TRUE(b.Take(0, 0, 10, 1));
  EXPECT_TRUE(b.Take(0, 0, 10, 1));
}

TEST(TokenBucketTest, ARateAboveTheClockCostsOneCycleATakeAndTimeGoingBackGivesNothing) {
  TokenBucket b;
  EXPECT_EQ(TakeAll(b, 100, 1'000'000, 5), 5);  // hz / rate = 0: a token costs 1 cycle
  EXPECT_EQ(TakeAll(b, 103, 1'000'000, 5), 3);
  EXPECT_EQ(TakeAll(b, 50, 1'000'000, 5), 0);  // an older timestamp (another core's TSC)
  EXPECT_EQ(TakeAll(b, 104, 1'000'000, 5), 1);
}

}  // namespace
}  // namespace hnv
