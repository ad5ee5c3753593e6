#include "lra/dist/tree_reduce.h"

#include <cstring>

namespace lra {

TreeSum::TreeSum(int64_t count, int leaves) : count_(count), leaves_(leaves) {
  // The right subtree of a node at depth d is summed into partial_[d]; the
  // tree over `leaves` leaves is ceil(log2(leaves)) deep.
  int depth = 0;
  while ((1 << depth) < leaves) ++depth;
  partial_.assign(depth, std::vector<float>(count));
  // The last leaf is the right child at every split on its path.
  for (int lo = 0, hi = leaves; hi - lo > 1; lo += (hi - lo) / 2) {
    ++last_depth_;
  }
}

void TreeSum::Sum(LeafFn leaf, float* out, bool last_in_parts) {
  last_in_parts_ = last_in_parts;
  out_ = out;
  SumRange(leaf, 0, leaves_, 0, out, /*rightmost=*/true);
}

void TreeSum::SumRange(LeafFn leaf, int lo, int hi, int depth, float* out,
                       bool rightmost) {
  if (hi - lo == 1) {
    leaf(lo, out);
    return;
  }
  const int mid = lo + (hi - lo) / 2;
  SumRange(leaf, lo, mid, depth + 1, out, /*rightmost=*/false);
  float* right = partial_[depth].data();
  SumRange(leaf, mid, hi, depth + 1, right, rightmost);
  // On the last leaf's path FinishLastLeaf adds, range by range.
  if (rightmost && last_in_parts_) return;
  for (int64_t i = 0; i < count_; ++i) out[i] += right[i];
}

void TreeSum::FinishLastLeaf(int64_t lo, int64_t hi) {
  // The additions SumRange skipped, innermost first, as it would do them:
  // the node at depth d on the path adds partial_[d] (its right subtree)
  // into its own buffer, partial_[d - 1] or, at the root, out.
  for (int d = last_depth_ - 1; d >= 0; --d) {
    float* into = d == 0 ? out_ : partial_[d - 1].data();
    const float* right = partial_[d].data();
    for (int64_t i = lo; i < hi; ++i) into[i] += right[i];
  }
}

int FloorPowerOfTwo(int n) {
  int p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

template <typename T>
absl::Status TreeAllReduceSum(Transport& transport, T* data, int64_t count,
                              T* scratch) {
  const int size = transport.size();
  const int rank = transport.rank();
  if (size == 1) return absl::OkStatus();
  constexpr int64_t kElement = sizeof(T);
  const int pow2 = FloorPowerOfTwo(size);
  absl::Status status;

  // Ranks beyond the largest power of two hand their buffer to rank - pow2
  // and get the sum back at the end.
  if (rank >= pow2) {
    status =
        transport.SendRecv(rank - pow2, data, count * kElement, nullptr, 0);
    if (!status.ok()) return status;
    return transport.SendRecv(rank - pow2, nullptr, 0, data, count * kElement);
  }
  const bool has_extra = rank + pow2 < size;
  if (has_extra) {
    status =
        transport.SendRecv(rank + pow2, nullptr, 0, scratch, count * kElement);
    if (!status.ok()) return status;
    for (int64_t i = 0; i < count; ++i) data[i] += scratch[i];
  }

  // Reduce-scatter: at distance d the pair (rank, rank ^ d) splits the
  // segment both hold; the lower rank keeps the lower half and adds the
  // peer's copy of it, the upper rank the upper half. After the last step
  // each rank holds the complete sum of its 1 / pow2 of the buffer.
  struct Segment {
    int64_t lo, hi;
  };
  Segment levels[32];  // The segment before each split; pow2 <= 2^31.
  int level = 0;
  int64_t lo = 0, hi = count;
  for (int d = 1; d < pow2; d <<= 1, ++level) {
    const int peer = rank ^ d;
    const int64_t mid = lo + (hi - lo) / 2;
    const bool lower = (rank & d) == 0;
    const int64_t keep_lo = lower ? lo : mid, keep_hi = lower ? mid : hi;
    const int64_t send_lo = lower ? mid : lo, send_hi = lower ? hi : mid;
    status =
        transport.SendRecv(peer, data + send_lo, (send_hi - send_lo) * kElement,
                           scratch, (keep_hi - keep_lo) * kElement);
    if (!status.ok()) return status;
    for (int64_t i = keep_lo; i < keep_hi; ++i) data[i] += scratch[i - keep_lo];
    levels[level] = {lo, hi};
    lo = keep_lo;
    hi = keep_hi;
  }

  // Allgather: the same pairs in reverse order swap their finished halves.
  for (int d = pow2 / 2; d >= 1; d >>= 1) {
    --level;
    const int peer = rank ^ d;
    const Segment parent = levels[level];
    const int64_t mid = parent.lo + (parent.hi - parent.lo) / 2;
    const bool lower = (rank & d) == 0;
    const int64_t other_lo = lower ? mid : parent.lo;
    const int64_t other_hi = lower ? parent.hi : mid;
    status =
        transport.SendRecv(peer, data + lo, (hi - lo) * kElement,
                           data + other_lo, (other_hi - other_lo) * kElement);
    if (!status.ok()) return status;
    lo = parent.lo;
    hi = parent.hi;
  }

  if (has_extra) {
    status =
        transport.SendRecv(rank + pow2, data, count * kElement, nullptr, 0);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

template absl::Status TreeAllReduceSum<float>(Transport&, float*, int64_t,
                                              float*);
template absl::Status TreeAllReduceSum<double>(Transport&, double*, int64_t,
                                               double*);

absl::Status TreeSumCommunicator::AllReduceSum(float* data, int64_t count) {
  if (static_cast<int64_t>(float_scratch_.size()) < count) {
    float_scratch_.resize(count);
  }
  return TreeAllReduceSum<float>(*this, data, count, float_scratch_.data());
}

absl::Status TreeSumCommunicator::AllReduceSum(double* data, int64_t count) {
  if (static_cast<int64_t>(double_scratch_.size()) < count) {
    double_scratch_.resize(count);
  }
  return TreeAllReduceSum<double>(*this, data, count, double_scratch_.data());
}

}  // namespace lra
