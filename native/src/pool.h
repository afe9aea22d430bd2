// Two-thread kernel pool inside the addon: the calling (JavaScript) thread and one worker pthread run the
// two halves of a kernel's range over the engine's heap. Hand-off is a sequence counter the worker spins
// on, then sleeps on (a futex) after ~100 us idle; the caller spins on a done counter the same way. A
// native hand-off costs well under a microsecond, against several for the WebAssembly pool's worker
// (src/engine/threads.ts), so much smaller calls are worth splitting.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "kernels.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace psrlm {

static inline void cpu_relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

// Sleeps while *a == old (Linux futex; elsewhere a short yield loop).
static inline void wait_on(std::atomic<uint32_t>* a, uint32_t old) {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(a), FUTEX_WAIT_PRIVATE, old, nullptr, nullptr, 0);
#else
  if (a->load() == old) std::this_thread::yield();
#endif
}

static inline void wake(std::atomic<uint32_t>* a) {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(a), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
#else
  (void)a;
#endif
}

// Waits until *a != old: spins for about `spin_us`, then sleeps. `sleeping` tells the other side to wake
// us; both sides use sequentially consistent operations so a wake-up cannot be lost.
static inline uint32_t await_change(std::atomic<uint32_t>& a, uint32_t old, std::atomic<uint32_t>& sleeping,
                                    int spin_us) {
  uint32_t v;
  auto t0 = std::chrono::steady_clock::now();
  for (uint32_t i = 1;; i++) {
    if ((v = a.load(std::memory_order_acquire)) != old) return v;
    cpu_relax();
    if ((i & 255) == 0 && std::chrono::steady_clock::now() - t0 > std::chrono::microseconds(spin_us)) break;
  }
  for (;;) {
    sleeping.store(1);
    if ((v = a.load()) != old) break;
    wait_on(&a, old);
  }
  sleeping.store(0);
  return v;
}

class Pool {
 public:
  Pool(const KernelTable* table, uint8_t* base, const double* args, int threads)
      : table_(table), base_(base), args_(args), threads_(threads < 2 ? 1 : 2) {
    if (threads_ > 1) worker_ = std::thread([this] { loop(); });
  }
  ~Pool() { close(); }

  // Stops the worker; later calls run on the calling thread alone.
  void close() {
    threads_ = 1;
    if (!worker_.joinable()) return;
    stop_.store(1);
    seq_.store(seq_.load() + 1);
    wake(&seq_);
    worker_.join();
  }

  const KernelTable* table() const { return table_; }
  uint8_t* base() const { return base_; }
  const double* args() const { return args_; }
  int threads() const { return threads_; }

  // Kernel `fn` over [0, total): split in two at a multiple of `align` when total >= minSplit.
  void run(KernelFn fn, int total, int align, int min_split) {
    if (threads_ < 2 || total < min_split || total < 2 * align) {
      fn(args_, base_, 0, total);
      return;
    }
    const int mid = (int)((total / 2.0 / align) + 0.5) * align;
    if (mid <= 0 || mid >= total) {
      fn(args_, base_, 0, total);
      return;
    }
    fn_ = fn;
    lo_ = mid;
    hi_ = total;
    const uint32_t s = seq_.load(std::memory_order_relaxed) + 1;
    seq_.store(s);
    if (worker_sleeping_.load()) wake(&seq_);
    fn(args_, base_, 0, mid);
    if (done_.load(std::memory_order_acquire) != s) await_change(done_, s - 1, main_sleeping_, 200);
  }

 private:
  void loop() {
    uint32_t last = 0;
    for (;;) {
      last = await_change(seq_, last, worker_sleeping_, 100);
      if (stop_.load()) return;
      fn_(args_, base_, lo_, hi_);
      done_.store(last);
      if (main_sleeping_.load()) wake(&done_);
    }
  }

  const KernelTable* table_;
  uint8_t* base_;
  const double* args_;
  int threads_;
  std::thread worker_;
  KernelFn fn_ = nullptr;
  int lo_ = 0, hi_ = 0;
  std::atomic<int> stop_{0};
  alignas(64) std::atomic<uint32_t> seq_{0};
  alignas(64) std::atomic<uint32_t> done_{0};
  alignas(64) std::atomic<uint32_t> worker_sleeping_{0};
  alignas(64) std::atomic<uint32_t> main_sleeping_{0};
};

}  // namespace psrlm
