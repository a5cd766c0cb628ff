#include "gateway/kernel/netns.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <thread>

#include "tests/unit/gateway_kernel/kernel_fixture.h"

namespace hnv::gateway::test {
namespace {

unsigned long ThreadNetnsInode() {
  struct stat st {};
  stat("/proc/thread-self/ns/net", &st);
  return st.st_ino;
}

// At the end of the binary: no namespace of ours is left (`ip netns list`).
class NoLeftoverNamespaces : public ::testing::Environment {
 public:
  void TearDown() override {
    const std::string listed = ShOut("ip netns list");
    EXPECT_EQ(listed.find(NsPrefix()), std::string::npos) << listed;
    EXPECT_TRUE(NetNamespace::List(NsPrefix()).empty());
  }
};
[[maybe_unused]] auto* const g_env = ::testing::AddGlobalTestEnvironment(new NoLeftoverNamespaces);

using NetnsTest = KernelTest;

TEST_F(NetnsTest, CreateReopenListDelete) {
  NetNamespace* ns = NewNs();
  ASSERT_NE(ns, nullptr);
  EXPECT_GE(ns->fd(), 0);
  EXPECT_NE(ns->inode(), ThreadNetnsInode()) << "a new namespace, not ours";
  // Seen by iproute2 as a named namespace.
  EXPECT_NE(ShOut("ip netns list").find(ns->name()), std::string::npos);
  // lo is up, forwarding on (IPv4 and IPv6).
  EXPECT_NE(ShOut("ip -n " + ns->name() + " link show lo").find(",UP"), std::string::npos);
  EXPECT_EQ(ShOut("ip netns exec " + ns->name() + " cat /proc/sys/net/ipv4/ip_forward"), "1\n");
  EXPECT_EQ(ShOut("ip netns exec " + ns->name() + " cat /proc/sys/net/ipv6/conf/all/forwarding"),
            "1\n");
  // The root namespace's settings are not what we changed (we wrote inside).
  // Reopen: the same namespace, not a second one.
  std::string error;
  bool created = true;
  auto again = NetNamespace::CreateOrOpen(ns->name(), &created, &error);
  ASSERT_TRUE(again) << error;
  EXPECT_FALSE(created);
  EXPECT_EQ(again->inode(), ns->inode());
  auto opened = NetNamespace::Open(ns->name(), &error);
  ASSERT_TRUE(opened) << error;
  EXPECT_EQ(opened->inode(), ns->inode());
  // List by prefix.
  const auto names = NetNamespace::List(NsPrefix());
  EXPECT_NE(std::find(names.begin(), names.end(), ns->name()), names.end());
  EXPECT_TRUE(NetNamespace::List("no-such-prefix-" + NsPrefix()).empty());
  // Delete.
  const std::string name = ns->name();
  ASSERT_TRUE(again->Delete(&error)) << error;
  EXPECT_EQ(again->fd(), -1);
  EXPECT_EQ(ShOut("ip netns list").find(name), std::string::npos);
  EXPECT_FALSE(NetNamespace::Open(name, &error));
  EXPECT_NE(error.find(name), std::string::npos) << error;
}

TEST_F(NetnsTest, CreatedByIproute2IsOpenedAndSetUp) {
  const std::string name = NsPrefix() + "by-ip";
  ASSERT_EQ(Sh("ip netns add " + name), 0);
  std::string error;
  bool created = true;
  auto ns = NetNamespace::CreateOrOpen(name, &created, &error);
  ASSERT_TRUE(ns) << error;
  EXPECT_FALSE(created);
  EXPECT_NE(ShOut("ip -n " + name + " link show lo").find(",UP"), std::string::npos);
  EXPECT_EQ(ShOut("ip netns exec " + name + " cat /proc/sys/net/ipv4/ip_forward"), "1\n");
}

TEST_F(NetnsTest, StaleFileIsReplaced) {
  // A crash between creating the file and the bind mount leaves a plain file.
  const std::string name = NsPrefix() + "stale";
  const std::string path = std::string(kNetnsRunDir) + "/" + name;
  mkdir(kNetnsRunDir, 0755);
  const int f = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL, 0);
  ASSERT_GE(f, 0);
  close(f);
  std::string error;
  EXPECT_FALSE(NetNamespace::Open(name, &error));
  EXPECT_NE(error.find("not a network namespace"), std::string::npos) << error;
  bool created = false;
  auto ns = NetNamespace::CreateOrOpen(name, &created, &error);
  ASSERT_TRUE(ns) << error;
  EXPECT_TRUE(created);
  EXPECT_EQ(Sh("ip -n " + name + " link show lo"), 0);
}

TEST_F(NetnsTest, InvalidNamesRejected) {
  std::string error;
  EXPECT_FALSE(NetNamespace::CreateOrOpen("a/b", nullptr, &error));
  EXPECT_NE(error.find("a/b"), std::string::npos);
  EXPECT_FALSE(NetNamespace::CreateOrOpen("", nullptr, &error));
  EXPECT_FALSE(NetNamespace::CreateOrOpen("..", nullptr, &error));
}

TEST_F(NetnsTest, EnterAffectsOnlyTheCallingThread) {
  NetNamespace* ns = NewNs();
  ASSERT_NE(ns, nullptr);
  const unsigned long root = ThreadNetnsInode();
  unsigned long inside_main = 0;
  unsigned long inside_other = 0;
  unsigned long other_after = 0;
  unsigned long main_seen_by_other = 0;
  std::string error;
  ASSERT_TRUE(ns->Enter(
      [&] {
        inside_main = ThreadNetnsInode();
        // A thread started from inside inherits the creator's namespace at
        // clone time (and keeps it): do not start threads inside Enter().
        std::thread t([&] { main_seen_by_other = ThreadNetnsInode(); });
        t.join();
      },
      &error))
      << error;
  EXPECT_EQ(inside_main, ns->inode());
  EXPECT_EQ(ThreadNetnsInode(), root) << "switched back";
  std::thread t([&] {
    std::string e;
    EXPECT_TRUE(ns->Enter([&] { inside_other = ThreadNetnsInode(); }, &e)) << e;
    other_after = ThreadNetnsInode();
  });
  // While the other thread is inside, this one is not.
  EXPECT_EQ(ThreadNetnsInode(), root);
  t.join();
  EXPECT_EQ(inside_other, ns->inode());
  EXPECT_EQ(other_after, root);
  EXPECT_EQ(main_seen_by_other, ns->inode());
}

}  // namespace
}  // namespace hnv::gateway::test
