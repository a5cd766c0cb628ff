#include "gateway/kernel/punt_io.h"

#include <pthread.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hnv::gateway {
namespace {

constexpr uint32_t kWakeTag = UINT32_MAX;  // epoll data of the eventfd
constexpr size_t kMaxSegs = 16;            // writev iovecs; longer chains are linearised

void Bump(std::atomic<uint64_t>& c, uint64_t by = 1) {
  // Single writer (the punt thread): no read-modify-write needed.
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

}  // namespace

struct PuntIo::TapSlot {
  int fd = -1;  // punt thread's (or, while it is stopped, the control thread's)
  std::atomic<uint64_t> to_packets{0}, to_bytes{0}, from_packets{0}, from_bytes{0};
  std::atomic<uint64_t> drops[static_cast<size_t>(PuntDrop::kCount)] = {};
  void Reset() {
    for (auto* c : {&to_packets, &to_bytes, &from_packets, &from_bytes})
      c->store(0, std::memory_order_relaxed);
    for (auto& d : drops) d.store(0, std::memory_order_relaxed);
  }
};

const char* PuntDropName(PuntDrop d) {
  switch (d) {
    case PuntDrop::kWriteFailed:
      return "tap-write-failed";
    case PuntDrop::kNoMbuf:
      return "no-mbuf";
    case PuntDrop::kRingFull:
      return "from-kernel-ring-full";
    case PuntDrop::kTooBig:
      return "frame-too-big";
    case PuntDrop::kCount:
      break;
  }
  return "?";
}

PuntIo::PuntIo(rte_mempool* pool, PuntRings rings)
    : pool_(pool), rings_(rings), taps_(new TapSlot[kMaxTaps]) {}

std::unique_ptr<PuntIo> PuntIo::Create(rte_mempool* pool, PuntRings rings, std::string* error) {
  if (pool == nullptr || rings.to_kernel == nullptr || rings.from_kernel == nullptr) {
    *error = "punt io: a mempool and both rings are required";
    return nullptr;
  }
  std::unique_ptr<PuntIo> p(new PuntIo(pool, rings));
  p->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  p->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (p->epoll_fd_ < 0 || p->wake_fd_ < 0) {
    *error = std::string("punt io: epoll/eventfd: ") + std::strerror(errno);
    return nullptr;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = kWakeTag;
  if (epoll_ctl(p->epoll_fd_, EPOLL_CTL_ADD, p->wake_fd_, &ev) != 0) {
    *error = std::string("punt io: epoll_ctl: ") + std::strerror(errno);
    return nullptr;
  }
  return p;
}

PuntIo::~PuntIo() {
  Stop();
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

bool PuntIo::Apply(const Command& c, std::string* error) {
  if (c.tap >= kMaxTaps) {
    *error = "punt io: tap " + std::to_string(c.tap) + " out of range";
    return false;
  }
  TapSlot& s = taps_[c.tap];
  if (c.kind == Command::kAdd) {
    if (s.fd >= 0) {
      *error = "punt io: tap " + std::to_string(c.tap) + " already has an fd";
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = c.tap;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
      *error = "punt io: tap " + std::to_string(c.tap) + ": epoll_ctl: " + std::strerror(errno);
      return false;
    }
    s.Reset();
    s.fd = c.fd;
    return true;
  }
  if (s.fd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.fd, nullptr);
    s.fd = -1;
  }
  return true;
}

bool PuntIo::AddTap(TapId tap, int fd, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  std::lock_guard call(call_mu_);
  std::unique_lock lk(mu_);
  const Command c{Command::kAdd, tap, fd};
  if (!thread_running_) return Apply(c, error);
  cmd_ = c;
  const uint64_t seq = ++cmd_seq_;
  pending_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  cv_.wait(lk, [&] { return done_seq_ == seq; });
  if (!cmd_ok_) *error = cmd_error_;
  return cmd_ok_;
}

void PuntIo::RemoveTap(TapId tap) {
  std::lock_guard call(call_mu_);
  std::unique_lock lk(mu_);
  const Command c{Command::kRemove, tap, -1};
  std::string ignored;
  if (!thread_running_) {
    Apply(c, &ignored);
    return;
  }
  cmd_ = c;
  const uint64_t seq = ++cmd_seq_;
  pending_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  cv_.wait(lk, [&] { return done_seq_ == seq; });
}

void PuntIo::DrainCommands() {
  if (!pending_.load(std::memory_order_acquire)) return;
  std::lock_guard lk(mu_);
  if (done_seq_ != cmd_seq_) {
    cmd_error_.clear();
    cmd_ok_ = Apply(cmd_, &cmd_error_);
    done_seq_ = cmd_seq_;
  }
  pending_.store(false, std::memory_order_relaxed);
  cv_.notify_all();
}

bool PuntIo::Start(std::string* error) {
  std::lock_guard call(call_mu_);
  std::lock_guard lk(mu_);
  if (thread_running_) return true;
  stop_.store(false, std::memory_order_relaxed);
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    if (error != nullptr) *error = std::string("punt io: start thread: ") + e.what();
    return false;
  }
  thread_running_ = true;
  return true;
}

void PuntIo::Stop() {
  std::lock_guard call(call_mu_);
  {
    std::lock_guard lk(mu_);
    if (!thread_running_) return;
  }
  stop_.store(true, std::memory_order_relaxed);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  thread_.join();
  std::lock_guard lk(mu_);
  thread_running_ = false;
}

bool PuntIo::running() const {
  std::lock_guard lk(mu_);
  return thread_running_;
}

PuntTapCounters PuntIo::Counters(TapId tap) const {
  PuntTapCounters c;
  if (tap >= kMaxTaps) return c;
  const TapSlot& s = taps_[tap];
  c.to_kernel_packets = s.to_packets.load(std::memory_order_relaxed);
  c.to_kernel_bytes = s.to_bytes.load(std::memory_order_relaxed);
  c.from_kernel_packets = s.from_packets.load(std::memory_order_relaxed);
  c.from_kernel_bytes = s.from_bytes.load(std::memory_order_relaxed);
  for (size_t i = 0; i < static_cast<size_t>(PuntDrop::kCount); ++i)
    c.drops[i] = s.drops[i].load(std::memory_order_relaxed);
  return c;
}

unsigned PuntIo::ToKernel() {
  rte_mbuf* pkts[kBurst];
  const unsigned n =
      rte_ring_sc_dequeue_burst(rings_.to_kernel, reinterpret_cast<void**>(pkts), kBurst, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const TapId tap = m->port;
    if (tap >= kMaxTaps || taps_[tap].fd < 0) {
      Bump(unknown_tap_);
      rte_pktmbuf_free(m);
      continue;
    }
    TapSlot& s = taps_[tap];
    iovec iov[kMaxSegs];
    unsigned segs = 0;
    for (rte_mbuf* seg = m; seg != nullptr && segs < kMaxSegs; seg = seg->next, ++segs) {
      iov[segs].iov_base = rte_pktmbuf_mtod(seg, void*);
      iov[segs].iov_len = seg->data_len;
    }
    ssize_t w;
    if (m->nb_segs <= kMaxSegs) {
      w = writev(s.fd, iov, static_cast<int>(segs));
    } else {
      uint8_t* flat = flat_.get();
      const uint32_t len = m->pkt_len <= kFlatSize ? m->pkt_len : 0;
      const void* p = len != 0 ? rte_pktmbuf_read(m, 0, len, flat) : nullptr;
      w = p != nullptr ? write(s.fd, p, len) : -1;
    }
    if (w == static_cast<ssize_t>(m->pkt_len)) {
      Bump(s.to_packets);
      Bump(s.to_bytes, m->pkt_len);
    } else {
      Bump(s.drops[static_cast<size_t>(PuntDrop::kWriteFailed)]);
    }
    rte_pktmbuf_free(m);
  }
  return n;
}

unsigned PuntIo::FromKernel(TapId tap) {
  TapSlot& s = taps_[tap];
  if (s.fd < 0) return 0;
  rte_mbuf* pkts[kBurst];
  unsigned count = 0;
  uint8_t* overflow = overflow_.get();
  for (unsigned i = 0; i < kBurst; ++i) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
      // Read the frame anyway so the TAP does not stay readable forever.
      const ssize_t r = read(s.fd, overflow, kOverflowSize);
      if (r <= 0) break;
      Bump(s.drops[static_cast<size_t>(PuntDrop::kNoMbuf)]);
      continue;
    }
    const uint16_t room = rte_pktmbuf_tailroom(m);
    iovec iov[2] = {{rte_pktmbuf_mtod(m, void*), room}, {overflow, kOverflowSize}};
    const ssize_t r = readv(s.fd, iov, 2);
    if (r <= 0) {  // EAGAIN: nothing more (or an error: retried on the next round)
      rte_pktmbuf_free(m);
      break;
    }
    if (r > room) {
      Bump(s.drops[static_cast<size_t>(PuntDrop::kTooBig)]);
      rte_pktmbuf_free(m);
      continue;
    }
    m->data_len = static_cast<uint16_t>(r);
    m->pkt_len = static_cast<uint32_t>(r);
    m->port = tap;
    pkts[count++] = m;
  }
  if (count == 0) return 0;
  const unsigned sent =
      rte_ring_sp_enqueue_burst(rings_.from_kernel, reinterpret_cast<void**>(pkts), count, nullptr);
  uint64_t bytes = 0;
  for (unsigned i = 0; i < sent; ++i) bytes += pkts[i]->pkt_len;
  Bump(s.from_packets, sent);
  Bump(s.from_bytes, bytes);
  if (sent < count) {
    Bump(s.drops[static_cast<size_t>(PuntDrop::kRingFull)], count - sent);
    for (unsigned i = sent; i < count; ++i) rte_pktmbuf_free(pkts[i]);
  }
  return count;
}

void PuntIo::Run() {
  pthread_setname_np(pthread_self(), "hnv-punt");
  epoll_event events[64];
  unsigned idle_rounds = kSpinIdleRounds;  // start asleep
  while (!stop_.load(std::memory_order_relaxed)) {
    DrainCommands();
    unsigned work = ToKernel();
    const int timeout = (work != 0 || idle_rounds < kSpinIdleRounds) ? 0 : kIdleWaitMs;
    const int n = epoll_wait(epoll_fd_, events, 64, timeout);
    for (int i = 0; i < n; ++i) {
      const uint32_t tag = events[i].data.u32;
      if (tag == kWakeTag) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &v, sizeof(v));
        continue;
      }
      // A TAP removed earlier in this loop may still have a stale event.
      if (tag < kMaxTaps) work += FromKernel(static_cast<TapId>(tag));
    }
    idle_rounds = work != 0 ? 0 : (idle_rounds < kSpinIdleRounds ? idle_rounds + 1 : idle_rounds);
  }
  // Leave no control call waiting.
  DrainCommands();
}

}  // namespace hnv::gateway
