#include "models/attention/block_sparse/pattern_testing.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "models/attention/testing/dense_reference.h"
#include "models/rng.h"

namespace lra {

::testing::AssertionResult PatternCoversExactly(
    const BlockSparsePattern& pattern,
    const std::function<bool(int i, int j)>& allowed) {
  const int N = pattern.seq_len;
  std::vector<int> count(static_cast<size_t>(N) * N, 0);
  for (const SparseQueryBlock& qb : pattern.query_blocks) {
    for (int k = 0; k < qb.num_keys; ++k) {
      const SparseKeyBlock& kb = pattern.key_blocks[qb.first_key + k];
      for (int r = 0; r < qb.rows.count; ++r) {
        for (int c = 0; c < kSparseTile; ++c) {
          if (!pattern.Allows(kb, r, c)) continue;
          const int i = pattern.Position(qb.rows, r);
          const int j = pattern.Position(kb.keys, c);
          ++count[static_cast<size_t>(i) * N + j];
        }
      }
    }
  }
  int failures = 0;
  std::string report;
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < N; ++j) {
      const int want = allowed(i, j) ? 1 : 0;
      const int got = count[static_cast<size_t>(i) * N + j];
      if (got != want && ++failures <= 8) {
        report += "(" + std::to_string(i) + ", " + std::to_string(j) +
                  ") covered " + std::to_string(got) + " times, want " +
                  std::to_string(want) + "\n";
      }
    }
  }
  if (failures > 0) {
    return ::testing::AssertionFailure()
           << failures << " pairs wrong for " << pattern.Summary() << ":\n"
           << report;
  }
  return ::testing::AssertionSuccess() << pattern.Summary();
}

std::vector<uint8_t> SparseTestKeyMask(int batch, int seq_len) {
  std::vector<uint8_t> mask(static_cast<size_t>(batch) * seq_len, 1);
  for (int b = 0; b < batch; ++b) {
    const int real = std::max(0, seq_len - 7 * b - 3);
    for (int j = real; j < seq_len; ++j) mask[b * seq_len + j] = 0;
  }
  return mask;
}

AttentionShape DenseComparison::Shape() const {
  return AttentionShape{batch, heads, seq_len, head_dim};
}

std::vector<float> SparseTestValues(int64_t n, uint64_t seed, float scale) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) {
    v[i] = scale * (2.0f * UniformFloat(seed, i) - 1.0f);
  }
  return v;
}

SparseTestInputs MakeSparseTestInputs(int B, int H, int N, int Dh,
                                      uint64_t first_seed) {
  SparseTestInputs in;
  in.count = int64_t{B} * H * N * Dh;
  in.q = SparseTestValues(in.count, first_seed, 2.0f);
  in.k = SparseTestValues(in.count, first_seed + 1, 2.0f);
  in.v = SparseTestValues(in.count, first_seed + 2);
  in.dout = SparseTestValues(in.count, first_seed + 3);
  in.mask = SparseTestKeyMask(B, N);
  return in;
}

::testing::AssertionResult MatchesDenseReference(
    Attention& attention, const DenseComparison& c,
    const std::function<bool(int h, int i, int j)>& allowed) {
  const int B = c.batch, H = c.heads, N = c.seq_len, Dh = c.head_dim;
  const SparseTestInputs in = MakeSparseTestInputs(B, H, N, Dh, 1);
  const int64_t count = in.count;
  const std::vector<float>&q = in.q, &k = in.k, &v = in.v, &dout = in.dout;
  const std::vector<uint8_t>& mask = in.mask;
  const uint8_t* key_mask = c.padding ? mask.data() : nullptr;
  // Poison the outputs: the plugin must overwrite every entry.
  std::vector<float> out(count, 9.0f), dq(count, 9.0f), dk(count, 9.0f),
      dv(count, 9.0f);
  attention.Forward(
      {q.data(), k.data(), v.data(), key_mask, B, /*training=*/false, 1},
      out.data());
  attention.Backward(dout.data(), {dq.data(), dk.data(), dv.data()});

  // A padded query outputs zero and passes no gradient: the reference
  // allows it no key.
  const DenseAllowedFn dense = DenseAllowWithPadding(
      [&allowed, key_mask, N](int b, int h, int i, int j) {
        return (key_mask == nullptr || key_mask[b * N + i] != 0) &&
               allowed(h, i, j);
      },
      key_mask, N);
  std::vector<double> rout(count), rdq(count), rdk(count), rdv(count);
  DenseMaskedAttention(q.data(), k.data(), v.data(), B, H, N, Dh, dense,
                       rout.data());
  DenseMaskedAttentionBackward(q.data(), k.data(), v.data(), B, H, N, Dh, dense,
                               dout.data(), rdq.data(), rdk.data(), rdv.data());
  struct Check {
    const char* name;
    const std::vector<float>& got;
    const std::vector<double>& want;
    double tol;
  };
  for (const Check& check :
       {Check{"out", out, rout, c.out_tol}, Check{"dq", dq, rdq, c.grad_tol},
        Check{"dk", dk, rdk, c.grad_tol}, Check{"dv", dv, rdv, c.grad_tol}}) {
    for (int64_t e = 0; e < count; ++e) {
      const double err = std::fabs(check.got[e] - check.want[e]);
      if (!(err <= check.tol * (1.0 + std::fabs(check.want[e])))) {
        const int64_t row = e / Dh;
        return ::testing::AssertionFailure()
               << check.name << "[b=" << row / (int64_t{H} * N)
               << ", h=" << (row / N) % H << ", i=" << row % N
               << ", x=" << e % Dh << "] = " << check.got[e] << ", reference "
               << check.want[e];
      }
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace lra
