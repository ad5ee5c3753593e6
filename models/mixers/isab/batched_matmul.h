// Batched matrix products on one oneDNN matmul primitive per problem: the
// per-head attention products of the isab mixer (every sequence and head in
// one call instead of one call per head).
#ifndef LRA_MODELS_MIXERS_ISAB_BATCHED_MATMUL_H_
#define LRA_MODELS_MIXERS_ISAB_BATCHED_MATMUL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <tuple>

namespace lra {

// c[i] = op(a[i]) op(b[i]) (+ c[i]) for i < batch, where every matrix is
// compact row-major and the batch's matrices follow one another: a[i] is
// [M, K] (or [K, M] read transposed when transpose_a), b[i] is [K, N] (or
// [N, K] when transpose_b), c[i] is [M, N]. As MatmulCache (models/linear.h)
// each distinct problem builds its primitive once, so a repeated call does
// no heap allocation. Not thread-safe: one instance per owner.
class BatchedMatmul {
 public:
  BatchedMatmul();
  ~BatchedMatmul();
  BatchedMatmul(BatchedMatmul&&) noexcept;
  BatchedMatmul& operator=(BatchedMatmul&&) noexcept;

  void Run(int64_t batch, int64_t m, int64_t k, int64_t n, bool transpose_a,
           bool transpose_b, bool accumulate, const float* a, const float* b,
           float* c);

 private:
  struct Entry;
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, bool, bool, bool>;
  std::map<Key, std::unique_ptr<Entry>> entries_;
};

}  // namespace lra

#endif  // LRA_MODELS_MIXERS_ISAB_BATCHED_MATMUL_H_
