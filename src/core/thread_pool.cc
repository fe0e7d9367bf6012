// MelodAI — licensed under the Apache License 2.0.
// ThreadPool: a shared queue of chunk tasks and a countdown latch per ParallelFor call.
#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>

#include "core/check.h"

namespace melodai::core {

ThreadPool::ThreadPool(size_t thread_count) {
  if (thread_count == 0) thread_count = std::max(1u, std::thread::hardware_concurrency());
  thread_count_ = thread_count;
  // The caller's thread is worker 0; the pool starts the others.
  for (size_t i = 1; i < thread_count_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  has_work_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::WorkerLoop(size_t worker_index) {
  while (true) {
    std::function<void(size_t)> task;
    {
      std::unique_lock lock(mutex_);
      has_work_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop();
    }
    task(worker_index);
  }
}

void ThreadPool::ParallelFor(
    size_t count, size_t min_chunk,
    const std::function<void(size_t begin, size_t end, size_t worker)>& body) {
  if (count == 0) return;
  min_chunk = std::max<size_t>(min_chunk, 1);
  // Four chunks per thread balance uneven work without much queueing overhead.
  const size_t wanted_chunks = thread_count_ * 4;
  const size_t chunk = std::max(min_chunk, (count + wanted_chunks - 1) / wanted_chunks);
  const size_t chunk_count = (count + chunk - 1) / chunk;
  if (thread_count_ == 1 || chunk_count == 1) {
    body(0, count, 0);
    return;
  }

  std::atomic<size_t> next_chunk{0};
  std::mutex done_mutex;
  std::condition_variable done;
  size_t finished_runners = 0;
  std::exception_ptr first_error;
  const size_t runner_count = std::min(thread_count_, chunk_count);

  // Each runner pulls chunks until none are left; the caller is runner 0.
  auto run = [&](size_t worker) {
    while (true) {
      const size_t index = next_chunk.fetch_add(1);
      if (index >= chunk_count) break;
      const size_t begin = index * chunk;
      const size_t end = std::min(count, begin + chunk);
      try {
        body(begin, end, worker);
      } catch (...) {
        std::lock_guard lock(done_mutex);
        if (!first_error) first_error = std::current_exception();
      }
    }
    std::lock_guard lock(done_mutex);
    ++finished_runners;
    done.notify_all();
  };

  {
    std::lock_guard lock(mutex_);
    for (size_t i = 1; i < runner_count; ++i) tasks_.push(run);
  }
  has_work_.notify_all();
  run(0);
  std::unique_lock lock(done_mutex);
  done.wait(lock, [&] { return finished_runners == runner_count; });
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace melodai::core
