// ThreadPool: a fixed set of workers running tasks that may submit more tasks.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace clearbox {

class ThreadPool {
 public:
  // Starts `threads` workers (at least one).
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues a task; tasks must not throw (exceptions are caught and dropped at the worker).
  void Submit(std::function<void()> task);
  // Blocks until the queue is empty and no task is running, including tasks added meanwhile.
  void WaitIdle();

 private:
  void WorkerLoop();

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> queue_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// The number of workers to use by default: the machine's cores, at least 1.
std::size_t DefaultThreadCount();

}  // namespace clearbox
