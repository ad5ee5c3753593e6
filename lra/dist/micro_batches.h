// The gradient of one global batch, computed as M micro-batches spread over
// the ranks of a Communicator, so that it does not depend on the number of
// ranks P:
//   - micro-batch m holds examples [m * b, (m + 1) * b) of the global batch
//     (b = batch / M), always at that shape (the encoder's max_batch is b),
//     with dropout masks drawn from (step seed, m);
//   - rank r computes micro-batches [r * M / P, (r + 1) * M / P) and sums
//     their gradients in TreeSum's order; the all-reduce then adds the ranks'
//     sums in the same tree (exact for P a power of two, see tree_reduce.h);
//   - the sum is scaled by 1 / M: the gradient of the mean loss over the
//     global batch.
// Loss and accuracy counts, a bad-input flag and a stop flag travel in the
// same buffer as the gradient, so one all-reduce per step carries them all.
//
// With several ranks and a bucket size, the buffer is summed in buckets
// overlapped with the backward pass of the rank's last micro-batch: the
// buckets are fixed at construction from the encoder's gradient-ready points
// (the head and final LayerNorm, each block, the embedding; consecutive ones
// merged until a bucket holds at least the bucket size), and each is handed
// to a BackgroundAllReduce as soon as the encoder reports its gradients
// final. Each element is still summed in the same tree, so the result is the
// same bits as one all-reduce after the backward pass.
#ifndef LRA_DIST_MICRO_BATCHES_H_
#define LRA_DIST_MICRO_BATCHES_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lra/dist/background_all_reduce.h"
#include "lra/dist/communicator.h"
#include "lra/dist/tree_reduce.h"
#include "models/encoder.h"

namespace lra {

// InvalidArgument naming TrainConfig.micro_batches unless it is >= 1, divides
// `batch_size` and is divisible by `ranks`.
absl::Status CheckMicroBatches(int batch_size, int micro_batches, int ranks);

// The dropout seed of micro-batch `micro` of a step whose seed is
// `step_seed`; micro-batch 0 keeps the step's seed.
uint64_t MicroBatchSeed(uint64_t step_seed, int micro);

class MicroBatchGradient {
 public:
  // Fills micro-batch `micro` (0 <= micro < M): tokens [b, seq_len] and
  // labels [b].
  using LoadFn =
      absl::FunctionRef<void(int micro, int32_t* tokens, int32_t* labels)>;

  struct Figures {
    float loss = 0;     // Mean cross-entropy over the global batch.
    int correct = 0;    // Argmax hits over the global batch.
    bool stop = false;  // Some rank asked to stop after this step.
  };

  // `encoder` was built with max_batch = micro_size; CheckMicroBatches
  // passed. The buffers (gradient, partial sums) are allocated here.
  // `bucket_mb` > 0 with several ranks (whose communicator is
  // CallableFromAnyThread) sums the gradient in buckets of at least that
  // many megabytes (1e6 bytes) during the backward pass, on a thread started
  // here; 0, or one rank, sums it as one buffer after the backward pass.
  MicroBatchGradient(Encoder* encoder, Communicator* comm, int micro_batches,
                     int micro_size, double bucket_mb = 0);
  ~MicroBatchGradient();

  // Leaves the global batch's gradient in the encoder's grads, the same bits
  // on every rank, and returns the figures. `stop` is this rank's wish to
  // stop after the step (a signal); the returned `stop` is every rank's.
  // Inputs the encoder rejects are InvalidArgument on every rank, naming the
  // micro-batch and example.
  absl::StatusOr<Figures> Compute(LoadFn load, uint64_t step_seed, bool stop);

  // Floats all-reduced per step (gradient and figures).
  int64_t reduced_floats() const { return total_; }
  // Buckets per step: 1 without overlap.
  int buckets() const {
    return overlap_ != nullptr ? static_cast<int>(buckets_.size()) : 1;
  }
  // Seconds spent summing over the ranks so far (on the background thread
  // when overlapping), and the part of it the caller waited for: all of it
  // without overlap; with overlap, the wait after the backward pass.
  double allreduce_seconds() const;
  double exposed_seconds() const { return exposed_seconds_; }

 private:
  // A contiguous range of the summed buffer, handed to the all-reduce when
  // the encoder reports parameter `ready` (and all after it) final.
  struct Bucket {
    int64_t lo, hi;
    int ready;
  };

  // Forward, loss and backward of micro-batch `micro` into out[0, total_).
  // With `last` (overlapping, the rank's last micro-batch) each range of
  // gradients the encoder reports final is added up the tree and its
  // buckets started during the backward pass.
  void ComputeLeaf(LoadFn load, uint64_t step_seed, int micro, float* out,
                   bool last, bool stop);
  // The gradients of parameters [first, finished_from_) of the last
  // micro-batch are final: copies them into its buffer (with `copy`),
  // finishes their tree sum and starts the buckets now complete.
  void FinishReady(int first, bool copy, bool stop);
  // The first rejected input of the global batch, checked on every rank.
  absl::Status FindBadInput(LoadFn load);

  Encoder* encoder_;
  Communicator* comm_;
  int micro_batches_, micro_size_;
  int first_micro_;              // This rank's first micro-batch.
  std::vector<Tensor*> grads_;   // The encoder's, in visiting order.
  std::vector<int64_t> offset_;  // [grads_ + 1]: where each starts in sum_.
  int64_t grad_floats_ = 0;
  int64_t total_ = 0;       // grad_floats_ + the figures.
  std::vector<float> sum_;  // [total_]
  std::unique_ptr<TreeSum> tree_;
  std::vector<int32_t> tokens_, labels_;  // [b, seq_len], [b]
  double allreduce_seconds_ = 0;          // Without overlap.
  double exposed_seconds_ = 0;
  // Overlap only: the buckets from the top of sum_ down, the thread summing
  // them, and during the last micro-batch its buffer, the first parameter
  // whose gradient is in it and the next bucket to start.
  std::vector<Bucket> buckets_;
  std::unique_ptr<BackgroundAllReduce> overlap_;
  float* last_out_ = nullptr;
  int finished_from_ = 0;
  size_t next_bucket_ = 0;
};

}  // namespace lra

#endif  // LRA_DIST_MICRO_BATCHES_H_
