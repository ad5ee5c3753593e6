// Sums buffers over the ranks on a thread of its own, so that the caller
// can go on computing (the backward pass of earlier layers) while the
// gradients of later layers travel. Buffers are summed one after another in
// the order they are started, each by Communicator::AllReduceSum: the same
// fixed-order tree, so every element gets the same bits as in one
// all-reduce of the whole buffer. Every rank must start the same sequence
// of buffers (same counts, same order).
#ifndef LRA_DIST_BACKGROUND_ALL_REDUCE_H_
#define LRA_DIST_BACKGROUND_ALL_REDUCE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "lra/dist/communicator.h"

namespace lra {

class BackgroundAllReduce {
 public:
  // `comm` must be CallableFromAnyThread(); between Start and Wait the
  // caller makes no other call on it. Starts the thread.
  explicit BackgroundAllReduce(Communicator* comm);
  // Waits for the buffers started and ends the thread.
  ~BackgroundAllReduce();

  // Queues data[0, count) to be replaced by its sum over the ranks. The
  // caller leaves it alone until Wait returns.
  void Start(float* data, int64_t count);
  // Waits until every started buffer is summed; the first error, if any
  // (the buffers after a failed one are not summed).
  absl::Status Wait();

  // Seconds the thread spent in AllReduceSum so far.
  double busy_seconds() const;

 private:
  struct Job {
    float* data;
    int64_t count;
  };
  void Loop();

  Communicator* comm_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> queue_;
  int running_ = 0;  // Jobs taken from the queue and not yet done.
  bool quit_ = false;
  absl::Status status_;
  double busy_seconds_ = 0;
  std::thread thread_;
};

}  // namespace lra

#endif  // LRA_DIST_BACKGROUND_ALL_REDUCE_H_
