// Dense layers on oneDNN matmul primitives: y = x W + b with row-major
// x [M, K], W [K, N] (PyTorch's weight transposed), b [N], y [M, N].
#ifndef LRA_MODELS_LINEAR_H_
#define LRA_MODELS_LINEAR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <tuple>

namespace lra {

// General C = op(A) op(B) (+ bias) (+ C) on plain row-major buffers, where
// op() optionally reads a matrix through transposed strides (no copy). Each
// distinct problem gets a oneDNN primitive and its memory objects built once
// and reused, so a repeated call does no heap allocation.
//
// Not thread-safe: one instance per call site (each Linear owns one).
class MatmulCache {
 public:
  MatmulCache();
  ~MatmulCache();
  MatmulCache(MatmulCache&&) noexcept;
  MatmulCache& operator=(MatmulCache&&) noexcept;

  // a: [M, K] (or [K, M] read transposed when transpose_a),
  // b: [K, N] (or [N, K] read transposed when transpose_b), c: [M, N].
  // bias: [N] or nullptr. accumulate adds into c instead of overwriting it.
  void Run(int64_t m, int64_t k, int64_t n, bool transpose_a, bool transpose_b,
           bool accumulate, const float* a, const float* b, const float* bias,
           float* c);

  // c[i] = op(a[i]) op(b[i]) (+ c[i]) for i < batch in one primitive, where
  // the batch's compact row-major matrices follow one another: a[i] as in
  // Run, [M, K] or [K, M], b[i] [K, N] or [N, K], c[i] [M, N]. The per-head
  // products of the mixers that work on every sequence and head at once.
  void RunBatched(int64_t batch, int64_t m, int64_t k, int64_t n,
                  bool transpose_a, bool transpose_b, bool accumulate,
                  const float* a, const float* b, float* c);

 private:
  struct Entry;
  // batch 0: a plain two-dimensional Run (with or without bias).
  using Key =
      std::tuple<int64_t, int64_t, int64_t, int64_t, bool, bool, bool, bool>;
  Entry& Find(int64_t batch, int64_t m, int64_t k, int64_t n, bool transpose_a,
              bool transpose_b, bool accumulate, bool has_bias);
  void Execute(Entry& e, const float* a, const float* b, const float* bias,
               float* c);
  std::map<Key, std::unique_ptr<Entry>> entries_;
};

// How the row count M of a Linear's calls behaves.
enum class RowCount {
  // The same few values every step (batch x sequence length): one matmul
  // with its own primitive per value.
  kFixed,
  // A different value nearly every step (packed real rows, see PackedRows in
  // layers.h): the rows run as chunks of 64 * 2^k rows (the binary digits of
  // M / 64, largest first) plus one chunk of the M % 64 rows left, so at most
  // about log2(M_max / 64) + 1 primitives per product are ever built
  // (instead of one per distinct M, each with its JIT and allocations) and a
  // call makes at most that many matmuls.
  kVarying,
};

// One dense layer's computations. The parameters live with the caller (the
// encoder exposes them by name); Linear only owns the cached primitives.
class Linear {
 public:
  Linear(int64_t in_features, int64_t out_features)
      : in_(in_features), out_(out_features) {}

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

  // y [M, N] = x [M, K] w [K, N] + b [N] (b may be nullptr).
  void Forward(const float* x, const float* w, const float* b, float* y,
               int64_t m, RowCount rows = RowCount::kFixed);
  // dx [M, K] = dy [M, N] w^T; adds into dx when accumulate, else overwrites.
  void BackwardInput(const float* dy, const float* w, float* dx, int64_t m,
                     bool accumulate, RowCount rows = RowCount::kFixed);
  // dw [K, N] += x^T dy; db [N] += column sums of dy (db may be nullptr).
  void BackwardParams(const float* x, const float* dy, float* dw, float* db,
                      int64_t m, RowCount rows = RowCount::kFixed);

 private:
  int64_t in_;
  int64_t out_;
  MatmulCache forward_;
  MatmulCache backward_input_;
  MatmulCache backward_weights_;
};

}  // namespace lra

#endif  // LRA_MODELS_LINEAR_H_
