#include "models/attention/reformer/reformer_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "models/attention/block_sparse/plugin_support.h"
#include "models/rng.h"

namespace lra {
namespace {

constexpr char kName[] = "reformer";
constexpr int kMaxSize = 1 << 20;
// Added to |q|^2 before the square root, so a zero query has a finite key.
constexpr float kNormEpsilon = 1e-12f;

// The structure of one (example, head) and the candidate keys it gives each
// query: in round r, the query at sorted position p (chunk a = p / chunk)
// sees the keys at sorted positions [(a - 1) chunk, (a + 1) chunk) that are
// real and are not the query itself, unless no round offers any such key,
// in which case the query sees only itself.
struct HeadView {
  const int32_t* sorted;    // [R, N] original index at sorted position
  const int32_t* position;  // [R, N] sorted position of original index
  const uint8_t* mask;      // [N], 1 = real; nullptr = no padding
  int n;
  int rounds;
  int chunk;

  bool Real(int j) const { return mask == nullptr || mask[j] != 0; }

  // Number of rounds in which key j lies in query i's window: the paper's
  // N_{i,j}, subtracted as log N_{i,j} from the score so that a key found
  // in several rounds is counted once.
  int DuplicateCount(int i, int j) const {
    int count = 0;
    for (int r = 0; r < rounds; ++r) {
      const int ci = position[r * n + i] / chunk;
      const int cj = position[r * n + j] / chunk;
      count += (cj == ci || cj == ci - 1) ? 1 : 0;
    }
    return count;
  }

  // Whether query i has no real key other than itself in any round.
  bool Alone(int i) const {
    for (int r = 0; r < rounds; ++r) {
      const int a = position[r * n + i] / chunk;
      const int lo = std::max(0, (a - 1) * chunk);
      const int hi = std::min(n, (a + 1) * chunk);
      for (int t = lo; t < hi; ++t) {
        const int j = sorted[r * n + t];
        if (j != i && Real(j)) return false;
      }
    }
    return true;
  }

  // Calls fn(r, slot, j) for every candidate key j of query i in round r, in
  // a fixed order; slot in [0, 2 chunk) numbers the place in the window.
  template <typename Fn>
  void ForEachKey(int i, bool alone, Fn&& fn) const {
    for (int r = 0; r < rounds; ++r) {
      const int a = position[r * n + i] / chunk;
      const int first = (a - 1) * chunk;
      const int lo = std::max(0, first);
      const int hi = std::min(n, (a + 1) * chunk);
      for (int t = lo; t < hi; ++t) {
        const int j = sorted[r * n + t];
        if (alone ? j != i : (j == i || !Real(j))) continue;
        fn(r, t - first, j);
      }
    }
  }
};

float Dot(const float* a, const float* b, int n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int d = 0; d < n; ++d) s += a[d] * b[d];
  return s;
}

// log N_ij; 0 without a libm call for the usual single round.
float LogCount(int count) {
  return count == 1 ? 0.0f : std::log(static_cast<float>(count));
}

}  // namespace

absl::StatusOr<ReformerOptions> ReformerOptionsFromParams(
    const PluginParams& params) {
  ReformerOptions options;
  absl::StatusOr<int> chunk = IntegerParam(params, kName, "chunk", 1, kMaxSize);
  if (!chunk.ok()) return chunk.status();
  options.chunk = *chunk;
  absl::StatusOr<int> hashes = IntegerParam(params, kName, "n_hashes", 1, 64);
  if (!hashes.ok()) return hashes.status();
  options.n_hashes = *hashes;
  absl::StatusOr<int> buckets =
      IntegerParam(params, kName, "buckets", 1, 1 << 16);
  if (!buckets.ok()) return buckets.status();
  if (*buckets != 1 && *buckets % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model.attention.param 'buckets' of attention '", kName,
        "' must be 1 or even (a bucket is the argmax over [xR, -xR]), got ",
        *buckets));
  }
  options.buckets = *buckets;
  absl::StatusOr<int> interval =
      IntegerParam(params, kName, "rehash_interval", 0, 1 << 30);
  if (!interval.ok()) return interval.status();
  options.rehash_interval = *interval;
  return options;
}

std::vector<float> ReformerRotations(const AttentionShape& shape,
                                     const ReformerOptions& options,
                                     int64_t epoch) {
  const int half = options.buckets / 2;
  const int R = options.n_hashes, Dh = shape.head_dim;
  std::vector<float> rotations(int64_t(shape.num_heads) * R * Dh * half);
  const uint64_t epoch_seed = DeriveSeed(
      DeriveSeed(shape.seed, static_cast<uint64_t>(shape.layer_index)),
      static_cast<uint64_t>(epoch));
  for (int h = 0; h < shape.num_heads; ++h) {
    for (int r = 0; r < R; ++r) {
      // Round r of head h is the same whatever n_hashes is, so more rounds
      // only add rotations.
      const uint64_t seed =
          DeriveSeed(epoch_seed, static_cast<uint64_t>(h) * 4096 + r);
      float* dst = rotations.data() + (int64_t(h) * R + r) * Dh * half;
      for (int e = 0; e < Dh * half; ++e) {
        dst[e] = static_cast<float>(NormalDouble(seed, e));
      }
    }
  }
  return rotations;
}

int ReformerBucket(const float* x, const float* rotation, int head_dim,
                   int buckets) {
  if (buckets == 1) return 0;
  const int half = buckets / 2;
  int best = 0;
  double best_value = -std::numeric_limits<double>::infinity();
  for (int k = 0; k < half; ++k) {
    double y = 0.0;
    for (int d = 0; d < head_dim; ++d) {
      y += double(x[d]) * double(rotation[d * half + k]);
    }
    if (y > best_value) best_value = y, best = k;
  }
  for (int k = 0; k < half; ++k) {
    double y = 0.0;
    for (int d = 0; d < head_dim; ++d) {
      y += double(x[d]) * double(rotation[d * half + k]);
    }
    if (-y > best_value) best_value = -y, best = half + k;
  }
  return best;
}

ReformerAttention::ReformerAttention(const ReformerOptions& options,
                                     const AttentionShape& shape)
    : options_(options), shape_(shape) {
  const int64_t BH = int64_t(shape.max_batch) * shape.num_heads;
  const int64_t N = shape.seq_len, Dh = shape.head_dim;
  const int R = options.n_hashes;
  rotations_ = ReformerRotations(shape, options, 0);
  sorted_.assign(BH * R * N, 0);
  position_.assign(BH * R * N, 0);
  // Until the first Forward hashes, every position sits at its own place.
  for (int64_t row = 0; row < BH * R; ++row) {
    for (int64_t i = 0; i < N; ++i) {
      sorted_[row * N + i] = position_[row * N + i] = static_cast<int32_t>(i);
    }
  }
  counts_.assign(BH * (options.buckets + 2), 0);
  bucket_.assign(BH * N, 0);
  keys_.assign(BH * N * Dh, 0.0f);
  inv_norm_.assign(BH * N, 0.0f);
  lse_.assign(BH * N, 0.0f);
  out_.assign(BH * N * Dh, 0.0f);
  dkeys_.assign(BH * N * Dh, 0.0f);
  scores_.assign(BH * R * 2 * options.chunk, 0.0f);
}

void ReformerAttention::SetStep(int64_t step) {
  if (options_.rehash_interval <= 0) return;
  const int64_t epoch = step / options_.rehash_interval;
  if (epoch == epoch_) return;
  epoch_ = epoch;
  rotations_ = ReformerRotations(shape_, options_, epoch);
}

void ReformerAttention::SetRotationsForTest(
    const std::vector<float>& rotations) {
  if (rotations.size() == rotations_.size()) rotations_ = rotations;
}

void ReformerAttention::HashAndSort(int b, int h, const float* q,
                                    const uint8_t* key_mask) {
  const int N = shape_.seq_len, Dh = shape_.head_dim, H = shape_.num_heads;
  const int R = options_.n_hashes, nb = options_.buckets, half = nb / 2;
  const int64_t bh = int64_t(b) * H + h;
  const float* qh = q + bh * N * Dh;  // [N, Dh]
  int32_t* bucket = bucket_.data() + bh * N;
  int32_t* counts = counts_.data() + bh * (nb + 2);
  for (int r = 0; r < R; ++r) {
    const float* rotation =
        nb > 1 ? rotations_.data() + (int64_t(h) * R + r) * Dh * half : nullptr;
    for (int i = 0; i < N; ++i) {
      const bool real = key_mask == nullptr || key_mask[int64_t(b) * N + i];
      // Padded positions get bucket nb of their own, sorted after every
      // real bucket, so real positions keep their sorted places whatever
      // the padded values are.
      bucket[i] =
          real ? ReformerBucket(qh + int64_t(i) * Dh, rotation, Dh, nb) : nb;
    }
    // Counting sort by bucket: stable, so ties keep position order.
    std::fill(counts, counts + nb + 2, 0);
    for (int i = 0; i < N; ++i) ++counts[bucket[i] + 1];
    for (int k = 1; k < nb + 2; ++k) counts[k] += counts[k - 1];
    int32_t* sorted = sorted_.data() + (bh * R + r) * N;
    int32_t* position = position_.data() + (bh * R + r) * N;
    for (int i = 0; i < N; ++i) {
      const int p = counts[bucket[i]]++;
      sorted[p] = i;
      position[i] = p;
    }
  }
}

void ReformerAttention::Forward(const AttentionInputs& in, float* out) {
  const int B = in.batch, H = shape_.num_heads, N = shape_.seq_len;
  const int Dh = shape_.head_dim, R = options_.n_hashes, c = options_.chunk;
  in_ = in;
  dropout_active_ = in.training && shape_.attention_dropout > 0.0f;
  const uint32_t threshold = DropThreshold(shape_.attention_dropout);
  const float keep_scale = 1.0f / (1.0f - shape_.attention_dropout);
  const float scale = 1.0f / std::sqrt(static_cast<float>(Dh));
  const bool hash = !frozen_;
#pragma omp parallel for collapse(2) schedule(dynamic)
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < H; ++h) {
      const int64_t bh = int64_t(b) * H + h;
      const float* q = in.q + bh * N * Dh;              // [N, Dh]
      const float* v = in.v + bh * N * Dh;              // [N, Dh]
      float* keys = keys_.data() + bh * N * Dh;         // [N, Dh]
      float* inv_norm = inv_norm_.data() + bh * N;      // [N]
      float* lse = lse_.data() + bh * N;                // [N]
      float* saved = out_.data() + bh * N * Dh;         // [N, Dh]
      float* o = out + bh * N * Dh;                     // [N, Dh]
      float* scores = scores_.data() + bh * R * 2 * c;  // [R * 2c]
      for (int i = 0; i < N; ++i) {
        const float* qi = q + int64_t(i) * Dh;
        const float inv = 1.0f / std::sqrt(Dot(qi, qi, Dh) + kNormEpsilon);
        inv_norm[i] = inv;
        for (int d = 0; d < Dh; ++d) keys[int64_t(i) * Dh + d] = qi[d] * inv;
      }
      if (hash) HashAndSort(b, h, in.q, in.key_mask);
      const HeadView view{sorted_.data() + bh * R * N,
                          position_.data() + bh * R * N,
                          in.key_mask ? in.key_mask + int64_t(b) * N : nullptr,
                          N,
                          R,
                          c};
      const uint64_t head_seed = DeriveSeed(in.seed, bh);
      for (int i = 0; i < N; ++i) {
        float* oi = o + int64_t(i) * Dh;
        std::fill(oi, oi + Dh, 0.0f);
        lse[i] = 0.0f;
        if (!view.Real(i)) {
          // Padded queries output zero, so nothing flows back from them.
          std::fill(saved + int64_t(i) * Dh, saved + int64_t(i + 1) * Dh, 0.0f);
          continue;
        }
        const float* qi = q + int64_t(i) * Dh;
        const bool alone = view.Alone(i);
        // One softmax over the entries of every round, each score lowered by
        // log N_ij: the same as the paper's per-round outputs weighted by
        // exp(lse_r - lse), with duplicates counted once.
        int count = 0;
        float max_score = -std::numeric_limits<float>::infinity();
        view.ForEachKey(i, alone, [&](int, int, int j) {
          const float s = Dot(qi, keys + int64_t(j) * Dh, Dh) * scale -
                          LogCount(view.DuplicateCount(i, j));
          scores[count++] = s;
          max_score = std::max(max_score, s);
        });
        double sum = 0.0;
        for (int e = 0; e < count; ++e) {
          scores[e] = std::exp(scores[e] - max_score);
          sum += scores[e];
        }
        const float inv_sum = static_cast<float>(1.0 / sum);
        lse[i] = max_score + static_cast<float>(std::log(sum));
        int e = 0;
        view.ForEachKey(i, alone, [&](int r, int slot, int j) {
          float p = scores[e++] * inv_sum;
          if (dropout_active_) {
            const uint64_t index = (int64_t(r) * N + i) * 2 * c + slot;
            p = KeepElement(head_seed, index, threshold) ? p * keep_scale
                                                         : 0.0f;
          }
          const float* vj = v + int64_t(j) * Dh;
#pragma omp simd
          for (int d = 0; d < Dh; ++d) oi[d] += p * vj[d];
        });
        std::copy(oi, oi + Dh, saved + int64_t(i) * Dh);
      }
    }
  }
}

void ReformerAttention::Backward(const float* dout,
                                 const AttentionGradients& grads) {
  const int B = in_.batch, H = shape_.num_heads, N = shape_.seq_len;
  const int Dh = shape_.head_dim, R = options_.n_hashes, c = options_.chunk;
  const uint32_t threshold = DropThreshold(shape_.attention_dropout);
  const float keep_scale = 1.0f / (1.0f - shape_.attention_dropout);
  const float scale = 1.0f / std::sqrt(static_cast<float>(Dh));
#pragma omp parallel for collapse(2) schedule(dynamic)
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < H; ++h) {
      const int64_t bh = int64_t(b) * H + h;
      const float* q = in_.q + bh * N * Dh;               // [N, Dh]
      const float* v = in_.v + bh * N * Dh;               // [N, Dh]
      const float* go = dout + bh * N * Dh;               // [N, Dh]
      const float* keys = keys_.data() + bh * N * Dh;     // [N, Dh]
      const float* inv_norm = inv_norm_.data() + bh * N;  // [N]
      const float* lse = lse_.data() + bh * N;            // [N]
      const float* saved = out_.data() + bh * N * Dh;     // [N, Dh]
      float* dkeys = dkeys_.data() + bh * N * Dh;         // [N, Dh]
      float* dq = grads.dq + bh * N * Dh;                 // [N, Dh]
      float* dv = grads.dv + bh * N * Dh;                 // [N, Dh]
      std::fill(dq, dq + int64_t(N) * Dh, 0.0f);
      std::fill(dv, dv + int64_t(N) * Dh, 0.0f);
      std::fill(dkeys, dkeys + int64_t(N) * Dh, 0.0f);
      const HeadView view{
          sorted_.data() + bh * R * N,
          position_.data() + bh * R * N,
          in_.key_mask ? in_.key_mask + int64_t(b) * N : nullptr,
          N,
          R,
          c};
      const uint64_t head_seed = DeriveSeed(in_.seed, bh);
      for (int i = 0; i < N; ++i) {
        if (!view.Real(i)) continue;
        const float* qi = q + int64_t(i) * Dh;
        const float* gi = go + int64_t(i) * Dh;
        float* dqi = dq + int64_t(i) * Dh;
        // D_i = dout_i . out_i = sum over entries of P dP.
        const float d_i = Dot(gi, saved + int64_t(i) * Dh, Dh);
        view.ForEachKey(i, view.Alone(i), [&](int r, int slot, int j) {
          const float* kj = keys + int64_t(j) * Dh;
          const float s =
              Dot(qi, kj, Dh) * scale - LogCount(view.DuplicateCount(i, j));
          const float p = std::exp(s - lse[i]);
          float factor = 1.0f;
          if (dropout_active_) {
            const uint64_t index = (int64_t(r) * N + i) * 2 * c + slot;
            factor =
                KeepElement(head_seed, index, threshold) ? keep_scale : 0.0f;
          }
          const float* vj = v + int64_t(j) * Dh;
          float* dvj = dv + int64_t(j) * Dh;
          const float pf = p * factor;
#pragma omp simd
          for (int d = 0; d < Dh; ++d) dvj[d] += pf * gi[d];
          const float dp = factor * Dot(gi, vj, Dh);
          const float ds = p * (dp - d_i) * scale;
          float* dkj = dkeys + int64_t(j) * Dh;
#pragma omp simd
          for (int d = 0; d < Dh; ++d) {
            dqi[d] += ds * kj[d];
            dkj[d] += ds * qi[d];
          }
        });
      }
      // The key role: k = q / sqrt(|q|^2 + eps), so
      // dq += (dk - k (k . dk)) / sqrt(|q|^2 + eps).
      for (int j = 0; j < N; ++j) {
        const float* kj = keys + int64_t(j) * Dh;
        const float* dkj = dkeys + int64_t(j) * Dh;
        const float kd = Dot(kj, dkj, Dh);
        float* dqj = dq + int64_t(j) * Dh;
        for (int d = 0; d < Dh; ++d) {
          dqj[d] += (dkj[d] - kj[d] * kd) * inv_norm[j];
        }
      }
    }
  }
}

AttentionPlugin ReformerAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = kName;
  plugin.description =
      "Reformer (LRA): LSH attention with shared QK (keys are the normalised "
      "queries); random-rotation hashing into buckets, stable sort, chunks "
      "attend to themselves and the previous chunk; n_hashes rounds combined "
      "with duplicates counted once; O(N c n_hashes).";
  plugin.params = {
      PluginParamSpec::Number("chunk", 10,
                              "positions per chunk of the sorted sequence "
                              "(LRA: 10)"),
      PluginParamSpec::Number("n_hashes", 1, "hash rounds (LRA: 1)"),
      PluginParamSpec::Number("buckets", 10,
                              "hash buckets, 1 or even (LRA: 10)"),
      PluginParamSpec::Number("rehash_interval", 0,
                              "new random rotations every K steps (0: fixed "
                              "per run and layer)"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.causal = false;
  plugin.capabilities.learnable = false;
  plugin.capabilities.complexity = "O(N c n_hashes)";
  plugin.capabilities.shared_qk = true;
  plugin.capabilities.redraws_structure = true;
  const std::string reason =
      "hash buckets are argmaxes of the queries and flip under a "
      "central-difference step; with the buckets of the analytic pass held "
      "fixed the output is smooth in q and v";
  plugin.capabilities.exemptions = {
      {"Gradients", AttentionExemption::Treatment::kFreezeStructure, reason},
      {"GradientsWithDropout", AttentionExemption::Treatment::kFreezeStructure,
       reason},
  };
  plugin.test_cases = {
      {"lra", {}, false, 1},
      {"chunk-4-hashes-3-buckets-4",
       {NumberParam("chunk", 4), NumberParam("n_hashes", 3),
        NumberParam("buckets", 4)},
       false,
       1},
      {"chunk-3-hashes-2-buckets-2-rehash",
       {NumberParam("chunk", 3), NumberParam("n_hashes", 2),
        NumberParam("buckets", 2), NumberParam("rehash_interval", 1)},
       false,
       1},
  };
  plugin.factory = [](const PluginParams& params, const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    absl::Status status = CheckShape(kName, shape);
    if (!status.ok()) return status;
    absl::StatusOr<ReformerOptions> options = ReformerOptionsFromParams(params);
    if (!options.ok()) return options.status();
    return std::unique_ptr<Attention>(
        std::make_unique<ReformerAttention>(*options, shape));
  };
  return plugin;
}

}  // namespace lra
