// Ranks as threads of one process, for tests of the collectives and of code
// that uses them: a ThreadGroup of P ranks with a mailbox per (sender,
// receiver) pair, and a Communicator per rank over it. Messages are buffered,
// so a send never waits for its receiver.
#ifndef LRA_DIST_THREAD_COMMUNICATOR_H_
#define LRA_DIST_THREAD_COMMUNICATOR_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lra/dist/communicator.h"
#include "lra/dist/tree_reduce.h"

namespace lra {

class ThreadGroup {
 public:
  explicit ThreadGroup(int size);

  int size() const { return size_; }
  void Send(int from, int to, const void* data, int64_t bytes);
  // Waits for the next message from `from` to `to`; it must be `bytes` long.
  absl::Status Recv(int from, int to, void* data, int64_t bytes);

  // Runs fn(rank) on `size` threads at once and waits for all of them.
  void Run(const std::function<void(int rank)>& fn);

 private:
  struct Mailbox {
    std::deque<std::string> messages;
  };
  int size_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Mailbox> boxes_;  // [from * size + to]
};

class ThreadCommunicator : public TreeSumCommunicator {
 public:
  ThreadCommunicator(ThreadGroup* group, int rank)
      : group_(group), rank_(rank) {}

  int rank() const override { return rank_; }
  int size() const override { return group_->size(); }
  absl::Status Broadcast(void* data, int64_t bytes, int root) override;
  absl::Status AllGather(uint64_t value,
                         std::vector<uint64_t>* values) override;
  absl::Status Barrier() override;
  bool CallableFromAnyThread() const override { return true; }

 private:
  absl::Status SendRecv(int peer, const void* send, int64_t send_bytes,
                        void* recv, int64_t recv_bytes) override;

  ThreadGroup* group_;
  int rank_;
};

}  // namespace lra

#endif  // LRA_DIST_THREAD_COMMUNICATOR_H_
