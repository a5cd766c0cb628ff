// AllocCounter sees what this thread allocates while it is alive, and nothing
// else.
#include "tests/lib/alloc_counter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace hnv::test {
namespace {

// Keeps the compiler from eliding a new/delete pair ([expr.new] allows it).
template <typename T>
void Escape(T* p) {
  asm volatile("" : : "g"(p) : "memory");
}

TEST(AllocCounterTest, SeesNew) {
  AllocCounter c;
  int* p = new int(42);
  Escape(p);
  delete p;
  EXPECT_EQ(c.count(), 1u);
  EXPECT_EQ(c.frees(), 1u);
  EXPECT_GE(c.bytes(), sizeof(int));
}

TEST(AllocCounterTest, SeesNothingWhenNothingAllocates) {
  std::vector<int> v(64, 1);  // allocated before the counter
  AllocCounter c;
  int sum = 0;
  for (int x : v) sum += x;
  v[3] = sum;
  std::string small = "short";  // fits the small-string buffer
  Escape(&small);
  EXPECT_EQ(c.count(), 0u);
  EXPECT_EQ(c.frees(), 0u);
  EXPECT_EQ(c.bytes(), 0u);
}

TEST(AllocCounterTest, SeesEveryForm) {
  struct alignas(64) Line {
    char b[64];
  };
  AllocCounter c;
  int* a = new int[10];
  Escape(a);
  delete[] a;
  int* b = new (std::nothrow) int(1);
  Escape(b);
  delete b;
  Line* l = new Line;
  Escape(l);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(l) % 64, 0u);
  delete l;
  Line* ls = new Line[3];
  Escape(ls);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ls) % 64, 0u);
  delete[] ls;
  Line* ln = new (std::nothrow) Line;
  Escape(ln);
  delete ln;
  EXPECT_EQ(c.count(), 5u);
  EXPECT_EQ(c.frees(), 5u);
}

TEST(AllocCounterTest, SeesLibraryAllocations) {
  AllocCounter c;
  std::vector<int> v;
  v.reserve(100);
  auto s = std::make_shared<std::string>(100, 'x');
  Escape(&v);
  Escape(&s);
  EXPECT_GE(c.count(), 3u);  // vector buffer, shared_ptr block, string buffer
}

TEST(AllocCounterTest, NestedCountersBothCount) {
  AllocCounter outer;
  auto one = std::make_unique<int>(1);
  Escape(one.get());
  {
    AllocCounter inner;
    auto two = std::make_unique<int>(2);
    Escape(two.get());
    EXPECT_EQ(inner.count(), 1u);
  }
  EXPECT_EQ(outer.count(), 2u);
  auto three = std::make_unique<int>(3);  // the outer one still counts
  Escape(three.get());
  EXPECT_EQ(outer.count(), 3u);
}

TEST(AllocCounterTest, IgnoresOtherThreads) {
  std::atomic<int> stage{0};
  std::thread other([&] {
    while (stage.load() != 1) std::this_thread::yield();
    for (int i = 0; i < 100; ++i) {
      int* p = new int(i);
      Escape(p);
      delete p;
    }
    stage.store(2);
  });
  {
    AllocCounter c;
    stage.store(1);
    while (stage.load() != 2) std::this_thread::yield();
    EXPECT_EQ(c.count(), 0u);
  }
  other.join();
}

}  // namespace
}  // namespace hnv::test
