#include "lra/dist/thread_communicator.h"

#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace lra {

ThreadGroup::ThreadGroup(int size)
    : size_(size), boxes_(static_cast<size_t>(size) * size) {}

void ThreadGroup::Send(int from, int to, const void* data, int64_t bytes) {
  std::string message(static_cast<const char*>(data), bytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    boxes_[from * size_ + to].messages.push_back(std::move(message));
  }
  arrived_.notify_all();
}

absl::Status ThreadGroup::Recv(int from, int to, void* data, int64_t bytes) {
  std::unique_lock<std::mutex> lock(mutex_);
  Mailbox& box = boxes_[from * size_ + to];
  arrived_.wait(lock, [&box] { return !box.messages.empty(); });
  std::string message = std::move(box.messages.front());
  box.messages.pop_front();
  if (static_cast<int64_t>(message.size()) != bytes) {
    return absl::InternalError(absl::StrCat("rank ", to, " expected ", bytes,
                                            " bytes from rank ", from, ", got ",
                                            message.size()));
  }
  if (bytes > 0) std::memcpy(data, message.data(), bytes);
  return absl::OkStatus();
}

void ThreadGroup::Run(const std::function<void(int rank)>& fn) {
  std::vector<std::thread> threads;
  for (int r = 0; r < size_; ++r) threads.emplace_back(fn, r);
  for (std::thread& thread : threads) thread.join();
}

absl::Status ThreadCommunicator::SendRecv(int peer, const void* send,
                                          int64_t send_bytes, void* recv,
                                          int64_t recv_bytes) {
  group_->Send(rank_, peer, send, send_bytes);
  return group_->Recv(peer, rank_, recv, recv_bytes);
}

absl::Status ThreadCommunicator::Broadcast(void* data, int64_t bytes,
                                           int root) {
  if (rank_ == root) {
    for (int r = 0; r < size(); ++r) {
      if (r != root) group_->Send(root, r, data, bytes);
    }
    return absl::OkStatus();
  }
  return group_->Recv(root, rank_, data, bytes);
}

absl::Status ThreadCommunicator::AllGather(uint64_t value,
                                           std::vector<uint64_t>* values) {
  values->assign(size(), 0);
  for (int r = 0; r < size(); ++r) {
    if (r != rank_) group_->Send(rank_, r, &value, sizeof(value));
  }
  (*values)[rank_] = value;
  for (int r = 0; r < size(); ++r) {
    if (r == rank_) continue;
    absl::Status status =
        group_->Recv(r, rank_, &(*values)[r], sizeof(uint64_t));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ThreadCommunicator::Barrier() {
  std::vector<uint64_t> unused;
  return AllGather(0, &unused);
}

}  // namespace lra
