// Test helpers for block-sparse patterns and the plugins built on them: a
// coverage check (every allowed pair exactly once) and a comparison of a
// plugin against the dense masked reference, forward and backward.
#ifndef LRA_MODELS_ATTENTION_BLOCK_SPARSE_PATTERN_TESTING_H_
#define LRA_MODELS_ATTENTION_BLOCK_SPARSE_PATTERN_TESTING_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "gtest/gtest.h"
#include "models/attention/attention.h"
#include "models/attention/block_sparse/pattern.h"

// Namespace lra (not lra::testing, which would hide gtest's ::testing).
namespace lra {

// Succeeds when every pair (i, j) with allowed(i, j) is covered by exactly one
// (query block, key block) combination of `pattern` and no other pair is.
::testing::AssertionResult PatternCoversExactly(
    const BlockSparsePattern& pattern,
    const std::function<bool(int i, int j)>& allowed);

struct DenseComparison {
  int batch = 2;
  int heads = 2;
  int seq_len = 37;
  int head_dim = 8;
  bool padding = true;  // example b keeps its first N - 7 b - 3 keys
  double out_tol = 2e-5;
  double grad_tol = 1e-4;

  // The attention shape of the comparison: max_batch = batch, num_heads =
  // heads, seq_len and head_dim (other fields default).
  AttentionShape Shape() const;
};

// Runs attention.Forward (eval) and Backward on random q, k, v, dout and
// compares with DenseMaskedAttention(Backward) under allowed(h, i, j) plus
// the key padding, relative to 1 + |reference|. A padded query position
// must output zero and pass no gradient (the reference allows it no key).
::testing::AssertionResult MatchesDenseReference(
    Attention& attention, const DenseComparison& c,
    const std::function<bool(int h, int i, int j)>& allowed);

// The key padding mask MatchesDenseReference uses: [B, N], 1 = real.
std::vector<uint8_t> SparseTestKeyMask(int batch, int seq_len);

// Uniform values in [-scale, scale), a pure function of seed.
std::vector<float> SparseTestValues(int64_t n, uint64_t seed,
                                    float scale = 1.0f);

// The inputs of one attention call of [B, H, N, Dh]: q and k in [-2, 2)
// from seeds first_seed and first_seed + 1, v and dout in [-1, 1) from the
// next two, and SparseTestKeyMask(B, N).
struct SparseTestInputs {
  int64_t count = 0;  // B * H * N * Dh
  std::vector<float> q, k, v, dout;
  std::vector<uint8_t> mask;
};
SparseTestInputs MakeSparseTestInputs(int B, int H, int N, int Dh,
                                      uint64_t first_seed);

}  // namespace lra

#endif  // LRA_MODELS_ATTENTION_BLOCK_SPARSE_PATTERN_TESTING_H_
