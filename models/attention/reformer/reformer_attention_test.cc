#include "models/attention/reformer/reformer_attention.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "models/attention/testing/dense_reference.h"
#include "models/internal/grad_check.h"
#include "models/rng.h"

namespace lra {
namespace {

constexpr float kNormEpsilon = 1e-12f;  // as in reformer_attention.cc

std::vector<float> Random(int64_t n, uint64_t seed, float scale) {
  std::vector<float> x(n);
  for (int64_t e = 0; e < n; ++e) {
    x[e] = scale * static_cast<float>(NormalDouble(seed, e));
  }
  return x;
}

struct Problem {
  int B = 2, H = 2, N = 29, Dh = 8;
  std::vector<float> q, v, dout;  // [B, H, N, Dh]
  std::vector<uint8_t> mask;      // [B, N]
  bool padded = true;

  const uint8_t* key_mask() const { return padded ? mask.data() : nullptr; }
  bool Real(int b, int j) const { return !padded || mask[b * N + j] != 0; }
  int64_t size() const { return int64_t(B) * H * N * Dh; }
};

// Example b > 0 has its last 3 b + 6 positions padded (at least one real).
Problem MakeProblem(int B, int H, int N, int Dh, bool padded, uint64_t seed) {
  Problem p;
  p.B = B, p.H = H, p.N = N, p.Dh = Dh, p.padded = padded;
  p.q = Random(p.size(), DeriveSeed(seed, 1), 1.5f);
  p.v = Random(p.size(), DeriveSeed(seed, 2), 1.0f);
  p.dout = Random(p.size(), DeriveSeed(seed, 3), 1.0f);
  p.mask.assign(int64_t(B) * N, 1);
  for (int b = 1; b < B; ++b) {
    const int real = std::max(1, N - (3 * b + 6));
    for (int j = real; j < N; ++j) p.mask[b * N + j] = 0;
  }
  return p;
}

AttentionShape ShapeOf(const Problem& p, uint64_t seed = 5) {
  AttentionShape shape;
  shape.max_batch = p.B;
  shape.num_heads = p.H;
  shape.seq_len = p.N;
  shape.head_dim = p.Dh;
  shape.layer_index = 2;
  shape.seed = seed;
  return shape;
}

// Keys k = q / sqrt(|q|^2 + eps) [B, H, N, Dh] and 1 / sqrt(|q|^2 + eps).
void NormalisedKeys(const Problem& p, std::vector<float>& keys,
                    std::vector<double>& inv_norm) {
  keys.resize(p.size());
  inv_norm.resize(p.size() / p.Dh);
  for (int64_t row = 0; row < p.size() / p.Dh; ++row) {
    double s = 0.0;
    for (int d = 0; d < p.Dh; ++d) {
      s += double(p.q[row * p.Dh + d]) * p.q[row * p.Dh + d];
    }
    inv_norm[row] = 1.0 / std::sqrt(s + kNormEpsilon);
    for (int d = 0; d < p.Dh; ++d) {
      keys[row * p.Dh + d] =
          static_cast<float>(p.q[row * p.Dh + d] * inv_norm[row]);
    }
  }
}

// The keys each query may see, written independently of the plugin from the
// definition: in every round, positions sorted stably by bucket (padded
// positions after all real ones), chunks of `chunk`; query i sees the real
// keys j != i of its chunk and the previous one in any round; a query with
// none sees itself. allowed: [B][H][N * N].
using AllowedSets = std::vector<std::vector<std::vector<uint8_t>>>;

AllowedSets UnionAllowed(const Problem& p, const ReformerOptions& options,
                         const std::vector<float>& rotations) {
  const int N = p.N, R = options.n_hashes, half = options.buckets / 2;
  AllowedSets allowed(p.B, std::vector<std::vector<uint8_t>>(p.H));
  for (int b = 0; b < p.B; ++b) {
    for (int h = 0; h < p.H; ++h) {
      std::vector<std::vector<int>> pos(R, std::vector<int>(N));
      for (int r = 0; r < R; ++r) {
        std::vector<int> bucket(N);
        for (int i = 0; i < N; ++i) {
          const float* x = p.q.data() + ((int64_t(b) * p.H + h) * N + i) * p.Dh;
          bucket[i] =
              !p.Real(b, i) ? options.buckets
              : options.buckets == 1
                  ? 0
                  : ReformerBucket(
                        x,
                        rotations.data() + (int64_t(h) * R + r) * p.Dh * half,
                        p.Dh, options.buckets);
        }
        std::vector<int> order(N);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](int x, int y) { return bucket[x] < bucket[y]; });
        for (int t = 0; t < N; ++t) pos[r][order[t]] = t;
      }
      std::vector<uint8_t>& a = allowed[b][h];
      a.assign(int64_t(N) * N, 0);
      for (int i = 0; i < N; ++i) {
        if (!p.Real(b, i)) continue;
        bool any = false;
        for (int j = 0; j < N; ++j) {
          if (j == i || !p.Real(b, j)) continue;
          for (int r = 0; r < R; ++r) {
            const int ci = pos[r][i] / options.chunk;
            const int cj = pos[r][j] / options.chunk;
            if (cj == ci || cj == ci - 1) a[i * N + j] = 1;
          }
          any = any || a[i * N + j];
        }
        if (!any) a[i * N + i] = 1;
      }
    }
  }
  return allowed;
}

DenseAllowedFn FromSets(const AllowedSets& sets, int N) {
  return [&sets, N](int b, int h, int i, int j) {
    return sets[b][h][int64_t(i) * N + j] != 0;
  };
}

// Exact shared-QK attention with the Reformer's self rule: every real key but
// the query itself (itself only when it is the only real position).
AllowedSets ExactAllowed(const Problem& p) {
  AllowedSets allowed(p.B, std::vector<std::vector<uint8_t>>(p.H));
  for (int b = 0; b < p.B; ++b) {
    int real = 0;
    for (int j = 0; j < p.N; ++j) real += p.Real(b, j);
    for (int h = 0; h < p.H; ++h) {
      std::vector<uint8_t>& a = allowed[b][h];
      a.assign(int64_t(p.N) * p.N, 0);
      for (int i = 0; i < p.N; ++i) {
        for (int j = 0; j < p.N; ++j) {
          if (!p.Real(b, i) || !p.Real(b, j)) continue;
          a[i * p.N + j] = (j != i) || real == 1;
        }
      }
    }
  }
  return allowed;
}

struct Reference {
  std::vector<double> out, dq, dv;
};

// Dense attention over `allowed` with keys the normalised queries; dq holds
// the query role and, through the normalisation, the key role.
Reference DenseReference(const Problem& p, const DenseAllowedFn& allowed) {
  std::vector<float> keys;
  std::vector<double> inv_norm;
  NormalisedKeys(p, keys, inv_norm);
  Reference ref;
  ref.out.resize(p.size());
  ref.dq.resize(p.size());
  ref.dv.resize(p.size());
  std::vector<double> dkeys(p.size());
  DenseMaskedAttention(p.q.data(), keys.data(), p.v.data(), p.B, p.H, p.N, p.Dh,
                       allowed, ref.out.data());
  DenseMaskedAttentionBackward(p.q.data(), keys.data(), p.v.data(), p.B, p.H,
                               p.N, p.Dh, allowed, p.dout.data(), ref.dq.data(),
                               dkeys.data(), ref.dv.data());
  for (int64_t row = 0; row < p.size() / p.Dh; ++row) {
    double kd = 0.0;
    for (int d = 0; d < p.Dh; ++d) {
      kd += keys[row * p.Dh + d] * dkeys[row * p.Dh + d];
    }
    for (int d = 0; d < p.Dh; ++d) {
      const int64_t e = row * p.Dh + d;
      ref.dq[e] += (dkeys[e] - keys[e] * kd) * inv_norm[row];
    }
  }
  return ref;
}

struct Result {
  std::vector<float> out, dq, dv;
};

// The plugin's inputs for p: the queries are also the keys (shared QK).
AttentionInputs Inputs(const Problem& p, bool training, uint64_t seed) {
  AttentionInputs in;
  in.q = in.k = p.q.data();
  in.v = p.v.data();
  in.key_mask = p.key_mask();
  in.batch = p.B;
  in.training = training;
  in.seed = seed;
  return in;
}

Result RunPlugin(ReformerAttention& attention, const Problem& p,
                 bool training = false, uint64_t seed = 0) {
  Result r;
  r.out.assign(p.size(), 0.0f);
  r.dq.assign(p.size(), 0.0f);
  r.dv.assign(p.size(), 0.0f);
  attention.Forward(Inputs(p, training, seed), r.out.data());
  attention.Backward(p.dout.data(), {r.dq.data(), nullptr, r.dv.data()});
  return r;
}

double MaxError(const std::vector<float>& a, const std::vector<double>& b) {
  double worst = 0.0;
  for (size_t e = 0; e < a.size(); ++e) {
    worst = std::max(worst, std::fabs(a[e] - b[e]));
  }
  return worst;
}

TEST(ReformerOptionsTest, DefaultsAreLrasAndOddBucketsAreRefused) {
  const AttentionPlugin plugin = ReformerAttentionPlugin();
  EXPECT_TRUE(plugin.capabilities.shared_qk);
  EXPECT_TRUE(plugin.capabilities.redraws_structure);
  EXPECT_TRUE(plugin.capabilities.key_padding_mask);
  ASSERT_EQ(plugin.capabilities.exemptions.size(), 2u);
  for (const AttentionExemption& e : plugin.capabilities.exemptions) {
    EXPECT_EQ(e.treatment, AttentionExemption::Treatment::kFreezeStructure);
    EXPECT_FALSE(e.reason.empty());
  }
  AttentionRegistry registry;
  ASSERT_TRUE(registry.Register(ReformerAttentionPlugin()).ok());
  PluginConfig config;
  config.set_name("reformer");
  AttentionShape shape;
  shape.num_heads = 2;
  shape.seq_len = 16;
  shape.head_dim = 4;
  EXPECT_TRUE(registry.Create(config, shape).ok());
  *config.add_param() = NumberParam("buckets", 5);
  absl::StatusOr<std::unique_ptr<Attention>> odd =
      registry.Create(config, shape);
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.status().message().find("buckets"), std::string::npos)
      << odd.status();
  ReformerOptions defaults;
  EXPECT_EQ(defaults.chunk, 10);
  EXPECT_EQ(defaults.n_hashes, 1);
  EXPECT_EQ(defaults.buckets, 10);
}

TEST(ReformerBucketTest, ArgmaxOverRotationAndItsNegation) {
  // r = [[1, 0], [0, 1]] (Dh 2, buckets 4): x r = x.
  const std::vector<float> r = {1, 0, 0, 1};
  const float a[2] = {2, 1}, b[2] = {0.5f, 3}, c[2] = {-2, 1}, d[2] = {1, -3};
  EXPECT_EQ(ReformerBucket(a, r.data(), 2, 4), 0);
  EXPECT_EQ(ReformerBucket(b, r.data(), 2, 4), 1);
  EXPECT_EQ(ReformerBucket(c, r.data(), 2, 4), 2);
  EXPECT_EQ(ReformerBucket(d, r.data(), 2, 4), 3);
  EXPECT_EQ(ReformerBucket(d, nullptr, 2, 1), 0);
}

// The brief's exactness check: with one bucket and a chunk covering all N,
// every real key other than the query is a candidate, so the output is exact
// softmax attention with keys = normalised queries, minus the diagonal (the
// self rule). Compared against the dense double reference with that mask,
// forward and both gradients, at every position (padded rows are zero in
// both).
TEST(ReformerAttentionTest, OneBucketAndOneChunkIsExactAttentionOffDiagonal) {
  for (int hashes : {1, 3}) {
    const Problem p = MakeProblem(3, 2, 29, 8, true, 11);
    ReformerOptions options;
    options.buckets = 1;
    options.chunk = 29;
    options.n_hashes = hashes;
    ReformerAttention attention(options, ShapeOf(p));
    const Result r = RunPlugin(attention, p);
    const AllowedSets exact = ExactAllowed(p);
    const Reference ref = DenseReference(p, FromSets(exact, p.N));
    EXPECT_LT(MaxError(r.out, ref.out), 2e-5) << "n_hashes " << hashes;
    EXPECT_LT(MaxError(r.dq, ref.dq), 5e-5) << "n_hashes " << hashes;
    EXPECT_LT(MaxError(r.dv, ref.dv), 2e-5) << "n_hashes " << hashes;
  }
}

// General buckets, chunks and rounds: the plugin's chunked, multi-round
// computation equals softmax attention over the union of each query's
// windows (what the paper's combination with duplicate counts computes),
// with the windows derived independently above.
TEST(ReformerAttentionTest, EqualsAttentionOverTheUnionOfWindows) {
  struct Case {
    int chunk, hashes, buckets, n;
    bool padded;
  };
  for (const Case& c : {Case{10, 1, 10, 37, true}, Case{4, 3, 4, 29, true},
                        Case{3, 2, 2, 17, false}, Case{5, 4, 8, 64, true},
                        Case{7, 2, 6, 1, false}, Case{4, 2, 4, 9, true}}) {
    const Problem p = MakeProblem(3, 2, c.n, 8, c.padded, 100 + c.n);
    ReformerOptions options;
    options.chunk = c.chunk;
    options.n_hashes = c.hashes;
    options.buckets = c.buckets;
    ReformerAttention attention(options, ShapeOf(p));
    const Result r = RunPlugin(attention, p);
    const AllowedSets sets = UnionAllowed(p, options, attention.rotations());
    const Reference ref = DenseReference(p, FromSets(sets, p.N));
    const std::string label =
        absl::StrCat("chunk ", c.chunk, " hashes ", c.hashes, " buckets ",
                     c.buckets, " N ", c.n);
    EXPECT_LT(MaxError(r.out, ref.out), 2e-5) << label;
    EXPECT_LT(MaxError(r.dq, ref.dq), 5e-5) << label;
    EXPECT_LT(MaxError(r.dv, ref.dv), 2e-5) << label;
  }
}

TEST(ReformerAttentionTest, LonePositionAttendsToItself) {
  Problem p = MakeProblem(2, 1, 6, 4, true, 3);
  // Example 1: only position 0 is real.
  for (int j = 1; j < p.N; ++j) p.mask[p.N + j] = 0;
  ReformerAttention attention({}, ShapeOf(p));
  const Result r = RunPlugin(attention, p);
  const int64_t base = int64_t(p.N) * p.Dh;  // example 1, position 0
  for (int d = 0; d < p.Dh; ++d) {
    EXPECT_FLOAT_EQ(r.out[base + d], p.v[base + d]);
    EXPECT_FLOAT_EQ(r.dv[base + d], p.dout[base + d]);
    EXPECT_NEAR(r.dq[base + d], 0.0f, 1e-6);
  }
}

// Mean absolute error against exact shared-QK attention (off the diagonal)
// falls as rounds are added: each round only adds windows, since round r's
// rotation does not depend on n_hashes.
TEST(ReformerAttentionTest, ErrorAgainstExactAttentionFallsWithMoreHashes) {
  const Problem p = MakeProblem(2, 4, 128, 16, true, 77);
  const Reference exact = DenseReference(p, FromSets(ExactAllowed(p), p.N));
  std::vector<double> errors;
  for (int hashes : {1, 2, 4, 8}) {
    ReformerOptions options;
    options.chunk = 8;
    options.buckets = 8;
    options.n_hashes = hashes;
    ReformerAttention attention(options, ShapeOf(p));
    const Result r = RunPlugin(attention, p);
    double sum = 0.0;
    for (size_t e = 0; e < r.out.size(); ++e) {
      sum += std::fabs(r.out[e] - exact.out[e]);
    }
    errors.push_back(sum / r.out.size());
  }
  for (size_t k = 1; k < errors.size(); ++k) {
    EXPECT_LT(errors[k], errors[k - 1]) << "n_hashes index " << k;
  }
  EXPECT_LT(errors.back(), 0.5 * errors.front());
  std::cout << "mean |out - exact| for n_hashes 1, 2, 4, 8: " << errors[0]
            << " " << errors[1] << " " << errors[2] << " " << errors[3] << "\n";
}

// Central differences of <out, dout> in q and v with the structure frozen at
// the analytic pass, with padding, several rounds and dropout.
TEST(ReformerAttentionTest, GradientsMatchCentralDifferencesWithFrozenBuckets) {
  for (float dropout : {0.0f, 0.2f}) {
    Problem p = MakeProblem(2, 2, 23, 8, true, 41);
    ReformerOptions options;
    options.chunk = 4;
    options.n_hashes = 2;
    options.buckets = 4;
    AttentionShape shape = ShapeOf(p);
    shape.attention_dropout = dropout;
    ReformerAttention attention(options, shape);
    const Result analytic = RunPlugin(attention, p, true, 9);
    attention.FreezeStructure(true);
    std::vector<float> out(p.size());
    auto objective = [&]() {
      attention.Forward(Inputs(p, true, 9), out.data());
      double s = 0.0;
      for (int64_t e = 0; e < p.size(); ++e) s += double(out[e]) * p.dout[e];
      return s;
    };
    for (auto [name, values, grad] :
         {std::tuple<const char*, std::vector<float>*,
                     const std::vector<float>*>{"q", &p.q, &analytic.dq},
          {"v", &p.v, &analytic.dv}}) {
      for (int t = 0; t < 60; ++t) {
        const int64_t e = RandomBits(t, 7) % p.size();
        const double numeric =
            internal::CentralDifference(objective, &(*values)[e], 1e-2f);
        const double a = (*grad)[e];
        EXPECT_NEAR(numeric, a, 2e-3 + 2e-2 * std::fabs(a))
            << "d/d" << name << "[" << e << "] dropout " << dropout;
      }
    }
    attention.FreezeStructure(false);
  }
}

// While frozen, Forward keeps the buckets of the last unfrozen Forward even
// when the queries change: the output is attention over the old windows
// with the new queries.
TEST(ReformerAttentionTest, FrozenForwardReusesTheLastBuckets) {
  const Problem p = MakeProblem(2, 2, 31, 8, true, 5);
  Problem moved = MakeProblem(2, 2, 31, 8, true, 6);  // other q, v, dout
  ReformerOptions options;
  options.chunk = 4;
  options.buckets = 6;
  options.n_hashes = 2;
  ReformerAttention attention(options, ShapeOf(p));
  RunPlugin(attention, p);
  attention.FreezeStructure(true);
  const Result frozen = RunPlugin(attention, moved);
  const AllowedSets old_sets = UnionAllowed(p, options, attention.rotations());
  const Reference ref = DenseReference(moved, FromSets(old_sets, p.N));
  EXPECT_LT(MaxError(frozen.out, ref.out), 2e-5);
  EXPECT_LT(MaxError(frozen.dq, ref.dq), 5e-5);
  attention.FreezeStructure(false);
  const Result thawed = RunPlugin(attention, moved);
  const Reference fresh = DenseReference(
      moved,
      FromSets(UnionAllowed(moved, options, attention.rotations()), p.N));
  EXPECT_LT(MaxError(thawed.out, fresh.out), 2e-5);
  EXPECT_GT(MaxError(thawed.out, ref.out), 1e-3) << "the buckets never moved";
}

TEST(ReformerAttentionTest, RotationsArePureInSeedLayerAndStepOverK) {
  AttentionShape shape;
  shape.num_heads = 2;
  shape.seq_len = 20;
  shape.head_dim = 4;
  shape.seed = 3;
  shape.layer_index = 1;
  ReformerOptions options;
  options.rehash_interval = 5;
  ReformerAttention attention(options, shape);
  const std::vector<float> initial = attention.rotations();
  EXPECT_EQ(initial, ReformerRotations(shape, options, 0));
  EXPECT_EQ(initial.size(), 2u * 1 * 4 * 5);
  attention.SetStep(4);
  EXPECT_EQ(attention.rotations(), initial);
  attention.SetStep(5);
  EXPECT_NE(attention.rotations(), initial);
  EXPECT_EQ(attention.rotations(), ReformerRotations(shape, options, 1));
  attention.SetStep(12);
  EXPECT_EQ(attention.rotations(), ReformerRotations(shape, options, 2));
  attention.SetStep(3);  // evaluating an early checkpoint
  EXPECT_EQ(attention.rotations(), initial);
  // Another layer or seed draws other rotations; more rounds keep the first.
  AttentionShape other = shape;
  other.layer_index = 2;
  EXPECT_NE(ReformerRotations(other, options, 0), initial);
  other = shape;
  other.seed = 4;
  EXPECT_NE(ReformerRotations(other, options, 0), initial);
  ReformerOptions more = options;
  more.n_hashes = 3;
  const std::vector<float> three = ReformerRotations(shape, more, 0);
  EXPECT_TRUE(std::equal(initial.begin(), initial.begin() + 20, three.begin()));
  // Without rehash_interval the rotations never change.
  ReformerAttention fixed(ReformerOptions{}, shape);
  fixed.SetStep(1000);
  EXPECT_EQ(fixed.rotations(), initial);
}

}  // namespace
}  // namespace lra
