#include "lra/dist/mpi_communicator.h"

#include <mpi.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace lra {
namespace {

// MPI counts are ints: larger messages go in pieces of this many bytes.
constexpr int64_t kMaxMessage = int64_t{1} << 30;

absl::Status MpiStatus(int code, const char* call) {
  if (code == MPI_SUCCESS) return absl::OkStatus();
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return absl::InternalError(
      absl::StrCat(call, " failed: ", std::string(text, length)));
}

}  // namespace

MpiCommunicator::MpiCommunicator() {
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  int level = MPI_THREAD_SINGLE;
  MPI_Query_thread(&level);
  serialized_ = level >= MPI_THREAD_SERIALIZED;
}

absl::Status MpiCommunicator::SendRecv(int peer, const void* send,
                                       int64_t send_bytes, void* recv,
                                       int64_t recv_bytes) {
  // Both sides of an exchange loop the same number of times: each sends
  // what the other receives.
  const char* out = static_cast<const char*>(send);
  char* in = static_cast<char*>(recv);
  int64_t sent = 0, received = 0;
  do {
    const int send_now =
        static_cast<int>(std::min(kMaxMessage, send_bytes - sent));
    const int recv_now =
        static_cast<int>(std::min(kMaxMessage, recv_bytes - received));
    absl::Status status = MpiStatus(
        MPI_Sendrecv(out + sent, send_now, MPI_BYTE, peer, /*sendtag=*/0,
                     in + received, recv_now, MPI_BYTE, peer, /*recvtag=*/0,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Sendrecv");
    if (!status.ok()) return status;
    sent += send_now;
    received += recv_now;
  } while (sent < send_bytes || received < recv_bytes);
  return absl::OkStatus();
}

absl::Status MpiCommunicator::Broadcast(void* data, int64_t bytes, int root) {
  char* bytes_at = static_cast<char*>(data);
  for (int64_t done = 0; done < bytes; done += kMaxMessage) {
    const int now = static_cast<int>(std::min(kMaxMessage, bytes - done));
    absl::Status status = MpiStatus(
        MPI_Bcast(bytes_at + done, now, MPI_BYTE, root, MPI_COMM_WORLD),
        "MPI_Bcast");
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status MpiCommunicator::AllGather(uint64_t value,
                                        std::vector<uint64_t>* values) {
  values->assign(size_, 0);
  return MpiStatus(MPI_Allgather(&value, 1, MPI_UINT64_T, values->data(), 1,
                                 MPI_UINT64_T, MPI_COMM_WORLD),
                   "MPI_Allgather");
}

absl::Status MpiCommunicator::Barrier() {
  return MpiStatus(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

}  // namespace lra
