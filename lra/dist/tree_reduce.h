// The fixed summation order that makes data-parallel training independent of
// the number of ranks:
//   - TreeSum adds leaves (a run's micro-batch gradients) in a balanced
//     pairwise tree: leaves [lo, hi) are the sum of [lo, mid) and [mid, hi)
//     with mid = lo + (hi - lo) / 2.
//   - TreeAllReduceSum adds the ranks' buffers over point-to-point messages
//     (recursive halving, then recursive doubling) so that, for a power-of-two
//     number of ranks, every element is summed in the balanced tree over
//     contiguous ranks: (r0 + r1) + (r2 + r3) ...
// With M leaves split into P contiguous blocks of M / P (P a power of two
// dividing M), each block is a subtree of TreeSum's tree, and the ranks'
// block sums combine in the tree's top levels: the P-rank result is the same
// bits as TreeSum of all M leaves on one rank (float addition is commutative,
// so a + b and b + a agree; only the grouping matters).
#ifndef LRA_DIST_TREE_REDUCE_H_
#define LRA_DIST_TREE_REDUCE_H_

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "lra/dist/communicator.h"

namespace lra {

// Sums `leaves` buffers of `count` floats in the balanced pairwise tree. The
// buffers for partial sums (one per tree level) are allocated once.
class TreeSum {
 public:
  // Computes leaf `leaf` (0-based) into `out` ([count], overwritten).
  using LeafFn = absl::FunctionRef<void(int leaf, float* out)>;

  TreeSum(int64_t count, int leaves);

  // out = the tree sum of leaves 0..leaves-1, each computed by `leaf` once,
  // in order 0, 1, 2, ...
  //
  // With `last_in_parts`, the sums that wait for the last leaf are left to
  // the caller: every element range [lo, hi) of the last leaf's buffer, once
  // written, is finished by FinishLastLeaf(lo, hi), which adds it up the
  // tree into out[lo, hi) in the same order Sum would, so out[lo, hi) is
  // then final while the rest of the last leaf is still being computed.
  // Every element is finished exactly once, during the last leaf's call or
  // after Sum returns.
  void Sum(LeafFn leaf, float* out, bool last_in_parts = false);
  void FinishLastLeaf(int64_t lo, int64_t hi);

  int64_t count() const { return count_; }
  int leaves() const { return leaves_; }

 private:
  void SumRange(LeafFn leaf, int lo, int hi, int depth, float* out,
                bool rightmost);

  int64_t count_;
  int leaves_;
  int last_depth_ = 0;                       // Splits above the last leaf.
  std::vector<std::vector<float>> partial_;  // [depth][count]
  bool last_in_parts_ = false;
  float* out_ = nullptr;  // Sum's `out`, for FinishLastLeaf.
};

// What TreeAllReduceSum needs from a message layer (MPI, or threads in
// tests).
class Transport {
 public:
  virtual ~Transport() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Sends `send_bytes` bytes to `peer` and receives `recv_bytes` bytes from
  // it, concurrently (two ranks exchanging with each other never block each
  // other). Either side may be 0 bytes.
  virtual absl::Status SendRecv(int peer, const void* send, int64_t send_bytes,
                                void* recv, int64_t recv_bytes) = 0;
};

// In-place sum over the ranks of `transport`; every rank ends with the same
// bits. `scratch` holds `count` elements. A power-of-two
// number of ranks P: reduce-scatter by recursive halving with the partner
// distance doubling (1, 2, 4, ...), so element sums follow the balanced tree
// over contiguous ranks, then allgather by recursive doubling. Each rank
// sends and receives 2 (P - 1) / P * count elements in 2 log2(P) messages,
// as a ring all-reduce does in 2 (P - 1) messages. Another P: the ranks
// beyond the largest power of two P' first add into rank r - P' and get the
// result back at the end (still the same bits on every rank, but a
// different tree from one rank's TreeSum).
template <typename T>
absl::Status TreeAllReduceSum(Transport& transport, T* data, int64_t count,
                              T* scratch);

extern template absl::Status TreeAllReduceSum<float>(Transport&, float*,
                                                     int64_t, float*);
extern template absl::Status TreeAllReduceSum<double>(Transport&, double*,
                                                      int64_t, double*);

// The largest power of two <= n (n >= 1).
int FloorPowerOfTwo(int n);

// A Communicator whose sums are TreeAllReduceSum over its own SendRecv, so
// that every message layer (MPI, threads) sums in the same order. The
// scratch of the sums grows to the largest buffer once.
class TreeSumCommunicator : public Communicator, protected Transport {
 public:
  int rank() const override = 0;
  int size() const override = 0;
  absl::Status AllReduceSum(float* data, int64_t count) final;
  absl::Status AllReduceSum(double* data, int64_t count) final;

 private:
  std::vector<float> float_scratch_;
  std::vector<double> double_scratch_;
};

}  // namespace lra

#endif  // LRA_DIST_TREE_REDUCE_H_
