// main() for every unit-test binary: EAL once, then all tests.
#include <gtest/gtest.h>

#include "tests/lib/eal_env.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new hnv::test::EalEnvironment);
  return RUN_ALL_TESTS();
}
