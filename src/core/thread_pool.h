// MelodAI — licensed under the Apache License 2.0.
// A fixed-size worker pool with ParallelFor. Work is split into contiguous chunks whose
// boundaries depend only on (range, chunk count), never on timing, so a caller that writes
// results by index gets the same output with any number of threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace melodai::core {

// Invariants: workers_.size() == thread_count(); tasks run exactly once.
// Thread-safe. The pool must outlive every task submitted to it.
class ThreadPool {
 public:
  // thread_count == 0 means "one per hardware thread". A pool of one thread runs
  // ParallelFor inline on the caller.
  explicit ThreadPool(size_t thread_count = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t thread_count() const { return thread_count_; }

  // Runs body(begin, end, worker_index) over [0, count) split into chunks of at least
  // `min_chunk` items, blocking until all are done. worker_index < thread_count() and is
  // unique among chunks running at the same time (use it to pick per-thread scratch space).
  // The first exception thrown by a body is rethrown here after all chunks finished.
  void ParallelFor(size_t count, size_t min_chunk,
                   const std::function<void(size_t begin, size_t end, size_t worker)>& body);

 private:
  void WorkerLoop(size_t worker_index);

  size_t thread_count_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable has_work_;
  std::queue<std::function<void(size_t)>> tasks_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                          // GUARDED_BY(mutex_)
};

}  // namespace melodai::core
