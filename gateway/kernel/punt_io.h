// PuntIo: the punt/inject thread between the workers' rings and the
// compartments' TAP devices (gateway/punt.h has the ring contract).
//
// Theory of operation: one thread, "hnv-punt", loops:
//   1. applies a pending AddTap/RemoveTap from the control thread;
//   2. to the kernel: dequeues up to 32 mbufs from `to_kernel` (mbuf->port =
//      TapId), writes each frame to that TAP's fd (writev over the segments)
//      and frees the mbuf;
//   3. from the kernel: epoll_wait on every TAP fd (and an eventfd for the
//      control thread); for each readable TAP reads up to 32 frames, each
//      into a fresh single-segment mbuf from `pool` (readv into the mbuf's
//      tailroom plus a scratch buffer, so a frame larger than the mbuf is seen
//      and dropped rather than truncated), sets mbuf->port = TapId and
//      enqueues the batch on `from_kernel`.
// Drops, each counted per TAP: write error (the TAP's queue full, link down)
// to the kernel; no mbuf, ring full, frame larger than an mbuf from it.
// Frames for a TapId with no TAP are freed and counted globally.
//
// Wake-up and its cost: the workers make no syscalls, so nothing can wake
// the thread when they enqueue on `to_kernel`; it polls the ring. While there
// is work (a frame either way in the last kSpinIdleRounds rounds) it calls
// epoll_wait with a zero timeout, i.e. spins; once idle it sleeps in
// epoll_wait for at most 1 ms. Latency of the punt path (worker to kernel):
// about 0 under load, at most ~1.1 ms (1 ms + timer slack) for the first
// frame after an idle period; the inject path (kernel to worker ring) is woken
// by epoll at once. Measured on the 2-vCPU test VM: an echo request
// enqueued while the thread was idle came back as a reply on from_kernel in
// 0.3-1.3 ms. Idle cost: ~1000 wake-ups/s, measured at about 2% of a core on
// that VM (timer wake-ups are dear under virtualisation; the unit test
// IdleThreadCostsLittleCpu bounds it at 10%); busy, one core at most. A
// lower idle cost would take a longer sleep after a longer idle period,
// i.e. a worse first-packet latency: the brief bounds the wait at 1 ms.
//
// Thread contract: Create, AddTap, RemoveTap, Start, Stop, Counters and the
// destructor from the control thread (they are serialised by a mutex, so
// another non-worker thread may call them too). AddTap/RemoveTap are
// synchronous: on return the punt thread uses (or no longer uses) the fd;
// the fd stays owned by the caller (Tap). Counters may be read at any time;
// each is a relaxed atomic written by the punt thread only.
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "gateway/punt.h"

namespace hnv::gateway {

inline constexpr uint32_t kMaxTaps = kMaxCompartments * kMaxInterfaces;

enum class PuntDrop : uint8_t {
  kWriteFailed,  // to the kernel: write() to the TAP failed (queue full, link down...)
  kNoMbuf,       // from the kernel: the pool was empty (the frame is read and lost)
  kRingFull,     // from the kernel: from_kernel was full
  kTooBig,       // from the kernel: the frame does not fit one mbuf of the pool
  kCount
};
const char* PuntDropName(PuntDrop d);

struct PuntTapCounters {
  uint64_t to_kernel_packets = 0;
  uint64_t to_kernel_bytes = 0;
  uint64_t from_kernel_packets = 0;  // enqueued on from_kernel
  uint64_t from_kernel_bytes = 0;
  uint64_t drops[static_cast<size_t>(PuntDrop::kCount)] = {};
  uint64_t drop(PuntDrop d) const { return drops[static_cast<size_t>(d)]; }
};

class PuntIo {
 public:
  static constexpr unsigned kBurst = 32;
  static constexpr unsigned kSpinIdleRounds = 256;
  static constexpr int kIdleWaitMs = 1;

  static std::unique_ptr<PuntIo> Create(rte_mempool* pool, PuntRings rings, std::string* error);
  ~PuntIo();  // Stop()s
  PuntIo(const PuntIo&) = delete;
  PuntIo& operator=(const PuntIo&) = delete;

  // False if `tap` is out of range or already has an fd, or epoll refuses it.
  // Counters of `tap` restart from zero.
  bool AddTap(TapId tap, int fd, std::string* error = nullptr);
  void RemoveTap(TapId tap);
  bool Start(std::string* error = nullptr);
  void Stop();
  bool running() const;

  PuntTapCounters Counters(TapId tap) const;
  uint64_t unknown_tap_drops() const { return unknown_tap_.load(std::memory_order_relaxed); }

 private:
  struct TapSlot;
  struct Command {
    enum Kind : uint8_t { kAdd, kRemove } kind = kAdd;
    TapId tap = 0;
    int fd = -1;
  };
  PuntIo(rte_mempool* pool, PuntRings rings);
  bool Apply(const Command& c, std::string* error);  // under mu_, thread not racing
  void Run();
  void DrainCommands();
  unsigned ToKernel();
  unsigned FromKernel(TapId tap);

  rte_mempool* pool_;
  PuntRings rings_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: control thread -> punt thread
  std::unique_ptr<TapSlot[]> taps_;
  // The punt thread's buffers (members, not thread_local: static TLS this
  // size is paid by every thread of the process, and a library's small
  // thread stacks, civetweb's for --metrics, could not be created).
  static constexpr size_t kFlatSize = RTE_MBUF_DEFAULT_BUF_SIZE * 32;
  static constexpr size_t kOverflowSize = 65536;
  std::unique_ptr<uint8_t[]> flat_ = std::make_unique<uint8_t[]>(kFlatSize);
  std::unique_ptr<uint8_t[]> overflow_ = std::make_unique<uint8_t[]>(kOverflowSize);
  std::atomic<uint64_t> unknown_tap_{0};

  std::mutex call_mu_;     // one control call at a time
  mutable std::mutex mu_;  // guards the fields below and the handshake
  std::condition_variable cv_;
  std::thread thread_;
  bool thread_running_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> pending_{false};
  Command cmd_;
  bool cmd_ok_ = false;
  std::string cmd_error_;
  uint64_t cmd_seq_ = 0;
  uint64_t done_seq_ = 0;
};

}  // namespace hnv::gateway
