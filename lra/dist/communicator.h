// Communication between the processes (ranks) of one data-parallel run: the
// interface the trainer and the suite runner use, the one-rank
// implementation that every run without mpirun gets, and helpers built on
// the collectives (agreeing on an error, checking that every rank holds the
// same state).
#ifndef LRA_DIST_COMMUNICATOR_H_
#define LRA_DIST_COMMUNICATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace lra {

// Every call is collective: all ranks make the same calls in the same order
// with the same counts. Calls return OK or an error that ends the run.
class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Replaces data[0, count) on every rank with the elementwise sum over the
  // ranks, the same bits on every rank. When size() is a power of two the
  // sum of each element is taken in the balanced pairwise tree over
  // contiguous ranks ((r0 + r1) + (r2 + r3)) ..., see TreeAllReduceSum), so
  // rank sums of contiguous blocks of leaves add up exactly as TreeSum of
  // all leaves on one rank does.
  virtual absl::Status AllReduceSum(float* data, int64_t count) = 0;
  virtual absl::Status AllReduceSum(double* data, int64_t count) = 0;

  // Copies `bytes` bytes at `data` on rank `root` to `data` on every rank.
  virtual absl::Status Broadcast(void* data, int64_t bytes, int root) = 0;

  // (*values)[r] = `value` of rank r, on every rank.
  virtual absl::Status AllGather(uint64_t value,
                                 std::vector<uint64_t>* values) = 0;

  virtual absl::Status Barrier() = 0;

  // Whether the collectives may be called from a thread other than the one
  // that created the communicator, one thread at a time (for MPI: the
  // thread level MPI_Init_thread granted is at least MPI_THREAD_SERIALIZED).
  virtual bool CallableFromAnyThread() const { return false; }
};

// The world of a process started without mpirun: rank 0 of 1; collectives
// leave their data as it is.
class SingleProcessCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  absl::Status AllReduceSum(float*, int64_t) override {
    return absl::OkStatus();
  }
  absl::Status AllReduceSum(double*, int64_t) override {
    return absl::OkStatus();
  }
  absl::Status Broadcast(void*, int64_t, int root) override;
  absl::Status AllGather(uint64_t value,
                         std::vector<uint64_t>* values) override;
  absl::Status Barrier() override { return absl::OkStatus(); }
};

// A shared one-rank communicator (for callers given none).
Communicator& SingleProcess();

// Copies the string of rank `root` to every rank.
absl::Status BroadcastString(Communicator& comm, std::string* text, int root);

// Makes one status out of each rank's `local`: OK when every rank's is OK,
// else the error of the lowest failing rank (its code and message; a rank
// other than 0 is named in the message) on every rank. Ranks then take the
// same branch after an operation that may fail on some ranks only (reading a
// file, writing results on rank 0).
absl::Status AgreeOnStatus(Communicator& comm, const absl::Status& local);

// 64-bit hash of the bits of `count` floats (not cryptographic: it detects
// ranks whose state drifted apart). `seed` chains several buffers.
uint64_t HashFloats(const float* data, int64_t count, uint64_t seed);

// FailedPrecondition naming every rank's hash when `hash` is not the same on
// all ranks; `what` says what was hashed ("parameters at step 500").
absl::Status CheckSameOnAllRanks(Communicator& comm, uint64_t hash,
                                 absl::string_view what);

}  // namespace lra

#endif  // LRA_DIST_COMMUNICATOR_H_
