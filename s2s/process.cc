// Launch, Run and the process identity checks (process.h).
#include "s2s/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace hnv::s2s {
namespace {

using Clock = std::chrono::steady_clock;

// After SIGKILL a process has nothing left to run but the kernel's side of
// its exit (closing its sockets and its TUN device); on a loaded machine
// that can take seconds.
constexpr auto kKillWait = std::chrono::seconds(5);

// glibc 2.36's <sys/pidfd.h> lacks extern "C": the system calls directly.
int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }
int PidfdSignal(int fd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0));
}

// The child's steps, for the error it reports through the pipe.
enum Step : int {
  kSetsid,
  kOpenNetns,
  kSetns,
  kUnshare,
  kMountSlave,
  kBindRun,
  kStdin,
  kStdout,
  kExec,
};
constexpr const char* kStepNames[] = {
    "setsid",         "open the namespace", "enter the namespace",
    "unshare mounts", "make / a slave",     "bind-mount the private /run",
    "open /dev/null", "open the log",       "exec",
};

struct ChildError {
  int step;
  int err;
};

// KeepLaunchCpus: written once before other threads exist, read after.
cpu_set_t g_launch_cpus;
bool g_have_launch_cpus = false;

// Everything the child needs, as C strings, built before the fork.
struct Prepared {
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string netns_path;
  const LaunchSpec* spec;
};

Prepared Prepare(const LaunchSpec& spec) {
  Prepared p;
  p.spec = &spec;
  for (const std::string& a : spec.argv) p.argv.push_back(const_cast<char*>(a.c_str()));
  p.argv.push_back(nullptr);
  for (const std::string& e : spec.env) p.envp.push_back(const_cast<char*>(e.c_str()));
  p.envp.push_back(nullptr);
  if (!spec.netns.empty()) p.netns_path = "/run/netns/" + spec.netns;
  return p;
}

[[noreturn]] void Fail(int pipe_fd, Step step) {
  const ChildError e{step, errno};
  (void)!write(pipe_fd, &e, sizeof(e));
  _exit(127);
}

// In the child, after fork: async-signal-safe calls only. `out_fd` >= 0
// replaces the log as stdout/stderr (Run's pipe).
[[noreturn]] void Child(const Prepared& p, int err_fd, int out_fd) {
  const LaunchSpec& s = *p.spec;
  if (setsid() < 0) Fail(err_fd, kSetsid);
  // Not essential (the CPUs may have gone offline since): a failure leaves
  // the inherited ones.
  if (g_have_launch_cpus) sched_setaffinity(0, sizeof(g_launch_cpus), &g_launch_cpus);
  if (!p.netns_path.empty()) {
    const int ns = open(p.netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) Fail(err_fd, kOpenNetns);
    if (setns(ns, CLONE_NEWNET) < 0) Fail(err_fd, kSetns);
    close(ns);
  }
  if (!p.netns_path.empty() || !s.private_run.empty()) {
    if (unshare(CLONE_NEWNS) < 0) Fail(err_fd, kUnshare);
    if (mount("none", "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) Fail(err_fd, kMountSlave);
  }
  if (!p.netns_path.empty()) {
    // As `ip netns exec`: /sys shows the new namespace's devices. Not
    // essential to the daemons, so a failure is not fatal.
    if (umount2("/sys", MNT_DETACH) == 0) mount("sysfs", "/sys", "sysfs", 0, nullptr);
  }
  if (!s.private_run.empty() && mount(s.private_run.c_str(), "/run", nullptr, MS_BIND, nullptr) < 0)
    Fail(err_fd, kBindRun);
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0 || dup2(null_fd, 0) < 0) Fail(err_fd, kStdin);
  int log_fd = out_fd;
  if (log_fd < 0)
    log_fd = s.log.empty() ? null_fd
                           : open(s.log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (log_fd < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) Fail(err_fd, kStdout);
  // Nothing of ours leaks into the daemon: every other descriptor closes on exec.
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  execve(p.argv[0], p.argv.data(), p.envp.data());
  Fail(err_fd, kExec);
}

// Forks the child; returns its PID, or -1 with *error. `out_fd`: see Child.
pid_t Start(const LaunchSpec& spec, int out_fd, std::string* error) {
  if (spec.argv.empty()) {
    *error = "no program to run";
    return -1;
  }
  const Prepared p = Prepare(spec);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) Child(p, fds[1], out_fd);
  close(fds[1]);
  ChildError e{};
  ssize_t n;
  do {
    n = read(fds[0], &e, sizeof(e));
  } while (n < 0 && errno == EINTR);
  close(fds[0]);
  if (n == static_cast<ssize_t>(sizeof(e))) {
    waitpid(pid, nullptr, 0);
    *error = spec.argv[0] + ": " + kStepNames[e.step] +
             (e.step == kOpenNetns || e.step == kSetns ? " " + spec.netns : "") + ": " +
             std::strerror(e.err);
    return -1;
  }
  return pid;
}

// /proc/<pid>/stat: state (field 3) and start time (field 22).
bool ReadStat(pid_t pid, char* state, unsigned long long* start_time) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  const size_t paren = line.rfind(')');  // the command name may hold spaces and ')'
  if (paren == std::string::npos) return false;
  std::istringstream rest(line.substr(paren + 1));
  std::string field;
  rest >> *state;
  for (int i = 4; i <= 21; ++i) rest >> field;
  rest >> *start_time;
  return static_cast<bool>(rest);
}

// Our children that Terminate killed but that had not ended by its return
// (kKillWait after the SIGKILL: a thread held in the kernel, e.g. while
// another namespace's teardown holds the RTNL lock). Reaped by later calls,
// so that none stays a zombie after its Daemon forgot it.
std::mutex g_killed_mu;
std::vector<pid_t> g_killed;

void ReapKilled() {
  std::lock_guard<std::mutex> lock(g_killed_mu);
  std::erase_if(g_killed, [](pid_t pid) { return waitpid(pid, nullptr, WNOHANG) != 0; });
}

}  // namespace

void KeepLaunchCpus() {
  CPU_ZERO(&g_launch_cpus);
  g_have_launch_cpus = sched_getaffinity(0, sizeof(g_launch_cpus), &g_launch_cpus) == 0;
}

void UseLaunchCpus() {
  if (g_have_launch_cpus) sched_setaffinity(0, sizeof(g_launch_cpus), &g_launch_cpus);
}

std::optional<ProcessId> Launch(const LaunchSpec& spec, std::string* error) {
  ReapKilled();
  const pid_t pid = Start(spec, -1, error);
  if (pid < 0) return std::nullopt;
  char state = 0;
  ProcessId id{pid, 0};
  if (!ReadStat(pid, &state, &id.start_time)) {
    // Exited already (and not reaped yet, or /proc is not mounted).
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      *error = spec.argv[0] + ": " + DescribeExit(status) + " at once";
      return std::nullopt;
    }
  }
  return id;
}

std::optional<ProcessId> FindProcess(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  char state = 0;
  ProcessId id{pid, 0};
  if (!ReadStat(pid, &state, &id.start_time) || state == 'Z' || state == 'X') return std::nullopt;
  return id;
}

bool IsRunning(const ProcessId& p, int* exit_status) {
  if (exit_status != nullptr) *exit_status = -1;
  if (!p.valid()) return false;
  // The same process only if it started when ours did: a PID is reused, and
  // waitpid on a PID that now names another of our children would take
  // that one's status.
  char state = 0;
  unsigned long long start_time = 0;
  if (!ReadStat(p.pid, &state, &start_time) || start_time != p.start_time) return false;
  int status = 0;
  const pid_t r = waitpid(p.pid, &status, WNOHANG);
  if (r == p.pid) {
    if (exit_status != nullptr) *exit_status = status;
    return false;
  }
  // Our child that waitpid cannot take yet is still there, even when
  // /proc shows it as a zombie: a killed multi-threaded daemon's main thread
  // ends first, while another thread is still closing its files in the
  // kernel (charon's ipsec0). Not our child (adopted): running unless a zombie.
  if (r == 0) return true;
  return state != 'Z' && state != 'X';
}

bool Terminate(const ProcessId& p, std::chrono::milliseconds grace) {
  ReapKilled();
  if (!IsRunning(p)) return true;
  // A pidfd pins the process: once opened and checked, the signal cannot
  // reach a process that reused the PID.
  const int fd = PidfdOpen(p.pid);
  if (fd < 0) return !IsRunning(p);
  if (!IsRunning(p)) {
    close(fd);
    return true;
  }
  auto wait_gone = [&](Clock::duration limit) {
    const auto end = Clock::now() + limit;
    while (IsRunning(p)) {
      if (Clock::now() > end) return false;
      pollfd pfd{fd, POLLIN, 0};
      poll(&pfd, 1, 20);
    }
    return true;
  };
  PidfdSignal(fd, SIGTERM);
  bool gone = wait_gone(grace);
  if (!gone) {
    PidfdSignal(fd, SIGKILL);
    gone = wait_gone(kKillWait);
  }
  close(fd);
  // Killed, so it ends; when it is our child, a later call reaps it.
  if (!gone && waitpid(p.pid, nullptr, WNOHANG) == 0) {
    std::lock_guard<std::mutex> lock(g_killed_mu);
    g_killed.push_back(p.pid);
  }
  return gone;
}

std::string DescribeExit(int s) {
  if (s < 0) return "exited (not our child: status unknown)";
  if (WIFEXITED(s)) return "exited with status " + std::to_string(WEXITSTATUS(s));
  if (WIFSIGNALED(s))
    return "killed by signal " + std::to_string(WTERMSIG(s)) + " (" + strsignal(WTERMSIG(s)) + ")";
  return "stopped (status " + std::to_string(s) + ")";
}

int Run(const LaunchSpec& spec, std::chrono::milliseconds timeout, std::string* output) {
  output->clear();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    *output = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  std::string error;
  const pid_t pid = Start(spec, fds[1], &error);
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    *output = error;
    return -1;
  }
  const auto end = Clock::now() + timeout;
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int r = poll(&pfd, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the command (and what it started) closed its output
    output->append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(-pid, SIGKILL);  // its session: what it started too
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    *output += "\n" + spec.argv[0] + ": killed after " + std::to_string(timeout.count()) + " ms";
    return -1;
  }
  if (!WIFEXITED(status)) {
    *output += "\n" + spec.argv[0] + ": " + DescribeExit(status);
    return -1;
  }
  return WEXITSTATUS(status);
}

std::vector<std::string> BaseEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace hnv::s2s
