#include "lra/dist/background_all_reduce.h"

#include <chrono>

namespace lra {

BackgroundAllReduce::BackgroundAllReduce(Communicator* comm)
    : comm_(comm), thread_([this] { Loop(); }) {}

BackgroundAllReduce::~BackgroundAllReduce() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
    quit_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void BackgroundAllReduce::Start(float* data, int64_t count) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back({data, count});
  }
  changed_.notify_all();
}

absl::Status BackgroundAllReduce::Wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
  absl::Status status = status_;
  status_ = absl::OkStatus();
  return status;
}

double BackgroundAllReduce::busy_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return busy_seconds_;
}

void BackgroundAllReduce::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return quit_ || !queue_.empty(); });
    if (queue_.empty()) return;  // quit_ and nothing left.
    const Job job = queue_.front();
    queue_.pop_front();
    ++running_;
    const bool failed = !status_.ok();
    lock.unlock();
    absl::Status status;
    double seconds = 0;
    if (!failed) {
      const auto start = std::chrono::steady_clock::now();
      status = comm_->AllReduceSum(job.data, job.count);
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              start)
                    .count();
    }
    lock.lock();
    busy_seconds_ += seconds;
    if (status_.ok() && !status.ok()) status_ = status;
    --running_;
    changed_.notify_all();
  }
}

}  // namespace lra
