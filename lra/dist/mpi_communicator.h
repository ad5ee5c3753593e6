// The Communicator of a process started by mpirun (OpenMPI): collectives
// over MPI_COMM_WORLD. Sums are TreeSumCommunicator's, over MPI_Sendrecv,
// rather than MPI_Allreduce, whose summation order MPI leaves open.
#ifndef LRA_DIST_MPI_COMMUNICATOR_H_
#define LRA_DIST_MPI_COMMUNICATOR_H_

#include <cstdint>
#include <vector>

#include "lra/dist/communicator.h"
#include "lra/dist/tree_reduce.h"

namespace lra {

class MpiCommunicator : public TreeSumCommunicator {
 public:
  // Needs MPI to be initialised (InitWorld does it).
  MpiCommunicator();

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  absl::Status Broadcast(void* data, int64_t bytes, int root) override;
  absl::Status AllGather(uint64_t value,
                         std::vector<uint64_t>* values) override;
  absl::Status Barrier() override;
  bool CallableFromAnyThread() const override { return serialized_; }

 private:
  absl::Status SendRecv(int peer, const void* send, int64_t send_bytes,
                        void* recv, int64_t recv_bytes) override;

  int rank_ = 0;
  int size_ = 1;
  bool serialized_ = false;  // MPI granted MPI_THREAD_SERIALIZED or more.
};

}  // namespace lra

#endif  // LRA_DIST_MPI_COMMUNICATOR_H_
