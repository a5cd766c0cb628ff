// Processes and their supervision with plain programs (sleep, sh, env):
// launching, identity across PID reuse, termination, the environment,
// command output and timeouts, and the restart policy of a daemon that
// dies (backoff 1 s, doubling, back to 1 s after a stable run), adoption of
// a daemon from its record. The real daemons are in tests/s2s/.
#include "s2s/process.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "s2s/daemon.h"
#include "s2s/files.h"

namespace hnv::s2s {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

LaunchSpec Spec(std::vector<std::string> argv) {
  LaunchSpec s;
  s.argv = std::move(argv);
  s.env = BaseEnvironment();
  return s;
}

TEST(Process, LaunchIdentifyTerminate) {
  std::string error;
  const std::optional<ProcessId> p = Launch(Spec({"/usr/bin/sleep", "30"}), &error);
  ASSERT_TRUE(p) << error;
  EXPECT_TRUE(IsRunning(*p));
  const std::optional<ProcessId> found = FindProcess(p->pid);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->start_time, p->start_time);
  // The same PID with another start time is another process.
  EXPECT_FALSE(IsRunning(ProcessId{p->pid, p->start_time + 1}));
  EXPECT_TRUE(Terminate(*p, milliseconds(2000)));
  EXPECT_FALSE(IsRunning(*p));
  EXPECT_FALSE(FindProcess(p->pid));
}

TEST(Process, TerminateKillsWhatIgnoresSigterm) {
  std::string error;
  const std::optional<ProcessId> p =
      Launch(Spec({"/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"}), &error);
  ASSERT_TRUE(p) << error;
  usleep(100000);  // the trap is set
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(Terminate(*p, milliseconds(300)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(300));
  EXPECT_FALSE(IsRunning(*p));
}

TEST(Process, FailuresSayWhichStep) {
  std::string error;
  EXPECT_FALSE(Launch(Spec({"/nonexistent/charon"}), &error));
  EXPECT_EQ(error, "/nonexistent/charon: exec: No such file or directory");
  LaunchSpec s = Spec({"/usr/bin/true"});
  s.netns = "s2s-no-such-namespace";
  EXPECT_FALSE(Launch(s, &error));
  EXPECT_EQ(error,
            "/usr/bin/true: open the namespace s2s-no-such-namespace: No such file or directory");
  EXPECT_FALSE(Launch(LaunchSpec{}, &error));
  EXPECT_EQ(error, "no program to run");
}

TEST(Process, RunCapturesOutputStatusAndTimesOut) {
  std::string out;
  EXPECT_EQ(s2s::Run(Spec({"/bin/sh", "-c", "echo hi; echo err >&2; exit 3"}), seconds(5), &out),
            3);
  EXPECT_EQ(out, "hi\nerr\n");
  // Exactly the environment given.
  EXPECT_EQ(s2s::Run(Spec({"/usr/bin/env"}), seconds(5), &out), 0);
  EXPECT_EQ(out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C\n");
  // A command that hangs is killed, with what it started.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(s2s::Run(Spec({"/bin/sh", "-c", "sleep 30 & sleep 30"}), milliseconds(300), &out), -1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(5));
  EXPECT_NE(out.find("killed after 300 ms"), std::string::npos) << out;
}

// What DPDK's EAL does to hnv-gateway's control thread (pins it to the main
// lcore's CPU) is not passed on to the daemons it launches.
TEST(Process, LaunchedProcessesGetTheCpusKeptAtStart) {
  cpu_set_t all;
  ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
  if (CPU_COUNT(&all) < 2) GTEST_SKIP() << "needs two CPUs";
  std::string out;
  const LaunchSpec grep = Spec({"/bin/grep", "Cpus_allowed_list", "/proc/self/status"});
  ASSERT_EQ(s2s::Run(grep, seconds(5), &out), 0) << out;
  const std::string before = out;
  KeepLaunchCpus();
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &all)) continue;
    CPU_SET(cpu, &one);
    break;
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const int rc = s2s::Run(grep, seconds(5), &out);
  sched_setaffinity(0, sizeof(all), &all);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, before);
}

TEST(Process, LogGetsStdoutAndStderr) {
  const std::string log =
      (std::filesystem::temp_directory_path() / ("s2s-log-" + std::to_string(getpid()))).string();
  LaunchSpec s = Spec({"/bin/sh", "-c", "echo out; echo err >&2"});
  s.log = log;
  std::string error;
  const std::optional<ProcessId> p = Launch(s, &error);
  ASSERT_TRUE(p) << error;
  while (IsRunning(*p)) usleep(10000);
  EXPECT_EQ(ReadFile(log), "out\nerr\n");
  std::filesystem::remove(log);
}

// Polls until the daemon's death is seen (reported at time `at`).
bool WaitForDeath(Daemon& d, Clock::time_point at) {
  for (int i = 0; i < 500; ++i) {
    if (d.CheckDied(at)) return true;
    usleep(10000);
  }
  return false;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("s2s-daemon-" + std::to_string(getpid())))
               .string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

// A daemon that dies at once is started again after 1 s, then 2 s, 4 s...
// (up to 30 s); after a run of 60 s or more the backoff is 1 s again.
TEST_F(DaemonTest, RestartBackoff) {
  Daemon d("crasher", "/usr/bin/false", dir_ + "/crasher.process");
  const LaunchSpec s = Spec({"/usr/bin/false"});
  Clock::time_point t{};  // a clock of our own: the policy, not the wall time
  std::string error;
  EXPECT_FALSE(d.Due(t));  // never started: not due
  ASSERT_TRUE(d.Launch(s, t, &error)) << error;
  const std::vector<int> expected_backoffs = {1, 2, 4, 8, 16, 30, 30};
  for (int backoff : expected_backoffs) {
    const auto died_at = t + milliseconds(100);
    ASSERT_TRUE(WaitForDeath(d, died_at));
    EXPECT_FALSE(d.running());
    EXPECT_FALSE(d.Due(died_at + seconds(backoff) - milliseconds(1))) << backoff;
    EXPECT_TRUE(d.Due(died_at + seconds(backoff))) << backoff;
    t = died_at + seconds(backoff);
    ASSERT_TRUE(d.Launch(s, t, &error)) << error;
  }
  EXPECT_EQ(d.restarts(), static_cast<int>(expected_backoffs.size()));
  // A long run, then a death: 1 s.
  const auto late = t + seconds(61);
  ASSERT_TRUE(WaitForDeath(d, late));
  EXPECT_TRUE(d.Due(late + seconds(1)));
  const Json st = d.Status(late);
  EXPECT_EQ(st["state"], "restarting");
  EXPECT_EQ(st["last_exit"], "exited with status 1");
  EXPECT_EQ(st["next_start_seconds"], 1);
  EXPECT_TRUE(d.Stop(milliseconds(100)));
  EXPECT_FALSE(d.Due(late + seconds(100)));  // stopped: never due
  EXPECT_EQ(d.Status(late)["state"], "stopped");
}

TEST_F(DaemonTest, KilledDaemonIsSeenAndAdoptionChecksTheRecord) {
  const std::string record = dir_ + "/sleeper.process";
  Daemon d("sleeper", "/usr/bin/sleep", record);
  std::string error;
  ASSERT_TRUE(d.Launch(Spec({"/usr/bin/sleep", "30"}), Clock::now(), &error)) << error;
  const ProcessId first = d.id();
  EXPECT_EQ(ReadProcessRecord(record), first);

  // A second supervisor (a restarted hnv-gateway) adopts it from the record.
  Daemon again("sleeper", "/usr/bin/sleep", record);
  EXPECT_TRUE(again.Adopt(Clock::now()));
  EXPECT_EQ(again.id(), first);
  // Not when the record names another program...
  Daemon other("sleeper", "/usr/lib/ipsec/charon", record);
  EXPECT_FALSE(other.Adopt(Clock::now()));
  // ...or a process that is gone.
  kill(first.pid, SIGKILL);
  EXPECT_TRUE(WaitForDeath(d, Clock::now()));  // our child: reaped, its status known
  EXPECT_NE(d.Status(Clock::now())["last_exit"].get<std::string>().find("signal 9"),
            std::string::npos);
  Daemon late("sleeper", "/usr/bin/sleep", record);
  EXPECT_FALSE(late.Adopt(Clock::now()));
  // An adopted daemon is not our child; its death is seen all the same.
  ASSERT_TRUE(d.Launch(Spec({"/usr/bin/sleep", "30"}), Clock::now(), &error)) << error;
  Daemon adopter("sleeper", "/usr/bin/sleep", record);
  ASSERT_TRUE(adopter.Adopt(Clock::now()));
  EXPECT_TRUE(adopter.Stop(milliseconds(2000)));  // stops it by PID
  EXPECT_TRUE(WaitForDeath(d, Clock::now()));
  EXPECT_FALSE(std::filesystem::exists(record));
}

}  // namespace
}  // namespace hnv::s2s
