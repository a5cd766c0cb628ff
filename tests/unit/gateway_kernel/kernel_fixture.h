// Shared by the gateway/kernel unit tests: a fixture that creates uniquely
// named namespaces ("hnvut<pid>-<test>-<n>") and removes every namespace with
// the process's prefix in TearDown, also when the test failed; a shell helper
// for checking with the real tools (`ip -n ...`).
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/kernel/netns.h"
#include "tests/lib/shell.h"

namespace hnv::gateway::test {

inline std::string NsPrefix() { return "hnvut" + std::to_string(getpid()) + "-"; }

using hnv::test::Sh;
using hnv::test::ShOut;
using hnv::test::WaitFor;

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, TAPs)";
  }
  void TearDown() override {
    namespaces_.clear();  // closes our fds
    std::string error;
    for (const std::string& n : NetNamespace::List(NsPrefix()))
      EXPECT_TRUE(NetNamespace::DeleteByName(n, &error)) << error;
  }
  // A new namespace with a unique name; nullptr (and a test failure) if not.
  NetNamespace* NewNs() {
    const std::string name = NsPrefix() +
                             ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
                             std::to_string(namespaces_.size());
    std::string error;
    bool created = false;
    auto ns = NetNamespace::CreateOrOpen(name, &created, &error);
    EXPECT_TRUE(ns) << error;
    EXPECT_TRUE(created) << name << " existed already";
    if (!ns) return nullptr;
    namespaces_.push_back(std::move(ns));
    return namespaces_.back().get();
  }
  // A TAP name unique to the process, so the root-namespace check means something.
  static std::string TapName(int i) {
    return "hut" + std::to_string(getpid() % 100000) + "x" + std::to_string(i);
  }

  std::vector<std::unique_ptr<NetNamespace>> namespaces_;
};

}  // namespace hnv::gateway::test
