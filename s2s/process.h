// Processes in a compartment's network namespace: the daemons the services
// supervise (charon, zebra, bgpd) and the short commands that drive them
// (swanctl, vtysh, frr-reload.py, ip).
//
// Theory of operation: Launch forks; the child (which runs only
// async-signal-safe system calls: everything it needs is prepared before the
// fork) starts a new session, enters the network namespace (setns on
// /run/netns/<name>), makes a private mount namespace whose mounts do not
// propagate back, remounts /sys for the new network namespace, optionally
// bind-mounts a private directory over /run (charon writes its pid file to
// the hard-coded /var/run/charon.pid: RECIPES.md §1), points stdin to
// /dev/null and stdout/stderr to a log file, unblocks every signal, resets
// every disposition and execs with exactly the given environment. A failing
// step is reported back through a close-on-exec pipe ("enter namespace x:
// No such file or directory"); an exec that succeeds closes it. The PID
// Launch returns is the daemon's own (no shell, no double fork), so it is
// our child: its death is seen by waitpid.
//
// A process is named by its PID and its start time (/proc/<pid>/stat field
// 22), so that a PID reused by another process is never mistaken for ours,
// also after our own restart (the services keep both in their state
// directory and adopt a daemon that survived a crash of hnv-gateway).
//
// Thread: any; the functions block at most for their timeouts. fork() from a
// multithreaded program copies only the calling thread; the child touches no
// lock or allocator.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace hnv::s2s {

struct ProcessId {
  pid_t pid = 0;
  unsigned long long start_time = 0;  // clock ticks after boot
  bool valid() const { return pid > 0; }
  friend bool operator==(const ProcessId&, const ProcessId&) = default;
};

struct LaunchSpec {
  std::vector<std::string> argv;  // argv[0]: absolute path of the program
  std::vector<std::string> env;   // "KEY=VALUE": the whole environment
  std::string netns;              // /run/netns/<netns>; "" = stay in ours
  std::string private_run;        // bind-mounted over /run; "" = none
  std::string log;                // stdout and stderr appended; "" = /dev/null
};

std::optional<ProcessId> Launch(const LaunchSpec& spec, std::string* error);

// Launch and Run give their processes the CPUs this program was started
// with, kept by this call. hnv-gateway's main calls it before DPDK's EAL pins
// the main thread (the control thread, which launches the daemons) to the
// main lcore's one CPU: without it charon, zebra and bgpd inherited that
// pinning, sharing one CPU with the control thread (and, on the 2-vCPU test
// machine, a busy-polling worker of another daemon), which stalled the
// tunnels for seconds under load. Without the call they inherit the
// launching thread's CPUs.
void KeepLaunchCpus();
// Gives the calling thread those CPUs (the status refresher's workers,
// started from the pinned control thread). Does nothing without the call above.
void UseLaunchCpus();

// The running process `pid` (its start time), or nullopt when there is none
// or it is a zombie.
std::optional<ProcessId> FindProcess(pid_t pid);

// Whether `p` still exists (same PID and start time): our child until
// waitpid takes it (a killed child is there until its last thread has
// ended), another process until it is a zombie. Reaps our child that has
// ended; *exit_status (optional) then gets its waitpid status (-1 when it was
// not our child). Never waits.
bool IsRunning(const ProcessId& p, int* exit_status = nullptr);

// SIGTERM, then SIGKILL after `grace`; waits until it is gone (reaping our
// child). Returns false if it is still there 5 s after the SIGKILL (its exit
// held in the kernel): our child is then reaped by a later Launch or
// Terminate, never left a zombie.
bool Terminate(const ProcessId& p, std::chrono::milliseconds grace);

// "exited with status 1", "killed by signal 9 (Killed)".
std::string DescribeExit(int wait_status);

// Runs a command to completion and captures its stdout and stderr (merged),
// killing it after `timeout`. Returns its exit status (0..255), or -1 when
// it could not run or timed out (*output then says why).
int Run(const LaunchSpec& spec, std::chrono::milliseconds timeout, std::string* output);

// The environment for the daemons and commands: PATH and nothing else, plus
// `extra`.
std::vector<std::string> BaseEnvironment(const std::vector<std::string>& extra = {});

}  // namespace hnv::s2s
