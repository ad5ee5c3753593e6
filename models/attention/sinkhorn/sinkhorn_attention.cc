#include "models/attention/sinkhorn/sinkhorn_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "models/attention/factory_checks.h"
#include "models/batched_matmul.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {

// Blocks are at most this long, so per-query slot buffers live on the stack.
constexpr int kMaxBlock = 64;

float Dot(const float* a, const float* b, int n) {
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int x = 0; x < n; ++x) sum += a[x] * b[x];
  return sum;
}

// In place: m[u, w] -= logsumexp over w (rows) or over u (columns) of an
// [n, n] matrix. col: 3 n floats of scratch. Column steps sweep whole rows,
// so both directions vectorise.
void NormaliseLog(float* m, int n, bool rows, float* col) {
  if (rows) {
    for (int a = 0; a < n; ++a) {
      float* row = m + int64_t(a) * n;
      const float max_value = RowMax(row, n);
      const float lse =
          max_value + std::log(ExpShifted(row, n, max_value, 1.0f, nullptr));
#pragma omp simd
      for (int c = 0; c < n; ++c) row[c] -= lse;
    }
    return;
  }
  float *max_value = col, *sum = col + n, *tmp = col + 2 * n;
  std::fill(max_value, max_value + n, -std::numeric_limits<float>::infinity());
  std::fill(sum, sum + n, 0.0f);
  for (int a = 0; a < n; ++a) {
    const float* row = m + int64_t(a) * n;
#pragma omp simd
    for (int c = 0; c < n; ++c)
      max_value[c] = row[c] > max_value[c] ? row[c] : max_value[c];
  }
  for (int a = 0; a < n; ++a) {
    const float* row = m + int64_t(a) * n;
#pragma omp simd
    for (int c = 0; c < n; ++c) tmp[c] = row[c] - max_value[c];
    ExpShifted(tmp, n, 0.0f, 1.0f, tmp);
#pragma omp simd
    for (int c = 0; c < n; ++c) sum[c] += tmp[c];
  }
  for (int c = 0; c < n; ++c) max_value[c] += std::log(sum[c]);  // lse
  for (int a = 0; a < n; ++a) {
    float* row = m + int64_t(a) * n;
#pragma omp simd
    for (int c = 0; c < n; ++c) row[c] -= max_value[c];
  }
}

// Backward of NormaliseLog, given its output y: dx = dy - exp(y) * (sum of dy
// along the normalised axis). In place on d; col: 2 n floats of scratch.
void NormaliseLogBackward(const float* y, float* d, int n, bool rows,
                          float* col) {
  float *sum = col, *tmp = col + n;
  if (!rows) {
    std::fill(sum, sum + n, 0.0f);
    for (int a = 0; a < n; ++a) {
      const float* dr = d + int64_t(a) * n;
#pragma omp simd
      for (int c = 0; c < n; ++c) sum[c] += dr[c];
    }
  }
  for (int a = 0; a < n; ++a) {
    float* dr = d + int64_t(a) * n;
    ExpShifted(y + int64_t(a) * n, n, 0.0f, 1.0f, tmp);
    if (rows) {
      float row_sum = 0.0f;
#pragma omp simd reduction(+ : row_sum)
      for (int c = 0; c < n; ++c) row_sum += dr[c];
#pragma omp simd
      for (int c = 0; c < n; ++c) dr[c] -= tmp[c] * row_sum;
    } else {
#pragma omp simd
      for (int c = 0; c < n; ++c) dr[c] -= tmp[c] * sum[c];
    }
  }
}

}  // namespace

SinkhornAttention::SinkhornAttention(const AttentionShape& shape, int block,
                                     int iterations, float temperature)
    : shape_(shape),
      block_(block),
      blocks_((shape.seq_len + block - 1) / block),
      iterations_(iterations),
      temperature_(temperature),
      steps_(2 * iterations + 1) {
  const int64_t B = shape.max_batch, H = shape.num_heads, Dh = shape.head_dim,
                N = shape.seq_len, nb = blocks_, bs = block_;
  sortnet_ = Tensor({H, Dh, nb});
  sortnet_grad_ = Tensor({H, Dh, nb});
  real_count_ = Tensor({B, nb});
  summaries_ = Tensor({B, H, nb, Dh});
  log_sort_ = Tensor({B, H, steps_, nb, nb});
  sort_ = Tensor({B, H, nb, nb});
  sorted_k_ = Tensor({B, H, nb, bs, Dh});
  sorted_v_ = Tensor({B, H, nb, bs, Dh});
  slot_real_ = Tensor({B, bs});
  weights_ = Tensor({B, H, N, 2 * bs});
  d_sorted_k_ = Tensor({B, H, nb, bs, Dh});
  d_sorted_v_ = Tensor({B, H, nb, bs, Dh});
  d_log_ = Tensor({B, H, nb, nb});
  d_summaries_ = Tensor({B, H, nb, Dh});
  sortnet_partial_ = Tensor({B, H, Dh, nb});
  masked_k_ = Tensor({B, H, nb * bs, Dh});
  masked_v_ = Tensor({B, H, nb * bs, Dh});
  d_masked_ = Tensor({B, H, nb * bs, Dh});
  columns_ = Tensor({B, H, 3 * nb});
}

int SinkhornAttention::BlockEnd(int u) const {
  return std::min(shape_.seq_len, (u + 1) * block_);
}

float SinkhornAttention::DropoutFactor(int b, int h, int i, int slot) const {
  return HeadDropoutFactor(dropout_active_, in_.seed,
                           static_cast<uint64_t>(b) * shape_.num_heads + h,
                           static_cast<uint64_t>(i) * 2 * block_ + slot,
                           shape_.attention_dropout);
}

void SinkhornAttention::InitParameters(uint64_t seed) {
  // LeCun-style uniform: the summaries have Dh inputs.
  const float a = std::sqrt(3.0f / shape_.head_dim);
  for (int64_t e = 0; e < sortnet_.size(); ++e) {
    sortnet_[e] = a * (2.0f * UniformFloat(seed, e) - 1.0f);
  }
}

void SinkhornAttention::ForEachParameter(const ParameterVisitor& fn) {
  fn("sortnet", sortnet_, sortnet_grad_);
}

void SinkhornAttention::Forward(const AttentionInputs& in, float* out) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim,
            nb = blocks_, bs = block_;
  in_ = in;
  dropout_active_ = in.training && shape_.attention_dropout > 0.0f;
  auto real = [&](int b, int j) {
    return in_.key_mask == nullptr || in_.key_mask[int64_t(b) * N + j] != 0;
  };
  // Real keys per block, and the offsets t that hold a real key in some
  // block (a sorted slot with none stays masked).
  for (int b = 0; b < in_.batch; ++b) {
    for (int t = 0; t < bs; ++t) slot_real_[int64_t(b) * bs + t] = 0.0f;
    for (int u = 0; u < nb; ++u) {
      int count = 0;
      for (int j = u * bs; j < BlockEnd(u); ++j) {
        if (!real(b, j)) continue;
        ++count;
        slot_real_[int64_t(b) * bs + (j - u * bs)] = 1.0f;
      }
      real_count_[int64_t(b) * nb + u] = static_cast<float>(count);
    }
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(Dh));
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < in_.batch * H; ++bh) {
    const int b = bh / H, h = bh % H;
    const int64_t base = int64_t(bh) * N * Dh;
    const float* k = in_.k + base;  // [N, Dh]
    const float* v = in_.v + base;
    // Block summaries: the mean of the block's real keys (zero if none).
    float* summary = summaries_.data() + int64_t(bh) * nb * Dh;  // [nb, Dh]
    std::fill(summary, summary + int64_t(nb) * Dh, 0.0f);
    for (int u = 0; u < nb; ++u) {
      const float count = real_count_[int64_t(b) * nb + u];
      if (count == 0.0f) continue;
      for (int j = u * bs; j < BlockEnd(u); ++j) {
        if (!real(b, j)) continue;
        for (int x = 0; x < Dh; ++x) summary[u * Dh + x] += k[j * Dh + x];
      }
      for (int x = 0; x < Dh; ++x) summary[u * Dh + x] /= count;
    }
    // Sorting scores and Sinkhorn normalisation in log space.
    float* logs = log_sort_.data() + int64_t(bh) * steps_ * nb * nb;
    const float* net = sortnet_.data() + int64_t(h) * Dh * nb;  // [Dh, nb]
    float* col = columns_.data() + int64_t(bh) * 3 * nb;        // [3 nb]
    Matmul(nb, nb, Dh, RowMajor(summary, Dh), RowMajor(net, nb), logs, nb,
           false, 1.0f / temperature_);
    for (int step = 1; step < steps_; ++step) {
      float* m = logs + int64_t(step) * nb * nb;
      std::copy_n(m - nb * nb, nb * nb, m);
      NormaliseLog(m, nb, /*rows=*/step % 2 == 1, col);
    }
    float* sort = sort_.data() + int64_t(bh) * nb * nb;
    const float* last = logs + int64_t(steps_ - 1) * nb * nb;
    ExpShifted(last, int64_t(nb) * nb, 0.0f, 1.0f, sort);
    // Softly sorted partner blocks over real keys only: with K and V
    // copied with padded (and past-the-end) rows zeroed, viewed as
    // [nb, bs Dh], sorted = S K and S V.
    float* sk = sorted_k_.data() + int64_t(bh) * nb * bs * Dh;
    float* sv = sorted_v_.data() + int64_t(bh) * nb * bs * Dh;
    float* km = masked_k_.data() + int64_t(bh) * nb * bs * Dh;
    float* vm = masked_v_.data() + int64_t(bh) * nb * bs * Dh;
    for (int j = 0; j < nb * bs; ++j) {
      const bool keep = j < N && real(b, j);
      for (int x = 0; x < Dh; ++x) {
        km[int64_t(j) * Dh + x] = keep ? k[int64_t(j) * Dh + x] : 0.0f;
        vm[int64_t(j) * Dh + x] = keep ? v[int64_t(j) * Dh + x] : 0.0f;
      }
    }
    const int width = bs * Dh;
    Matmul(nb, width, nb, RowMajor(sort, nb), RowMajor(km, width), sk, width,
           false);
    Matmul(nb, width, nb, RowMajor(sort, nb), RowMajor(vm, width), sv, width,
           false);
    // Each query: its own block's keys (slots 0..bs-1) and the sorted
    // partner's (slots bs..2bs-1).
    for (int i = 0; i < N; ++i) {
      const int u = i / bs;
      const float* qi = in_.q + base + int64_t(i) * Dh;
      float* w = weights_.data() + (int64_t(bh) * N + i) * 2 * bs;
      float* o = out + base + int64_t(i) * Dh;
      std::fill(o, o + Dh, 0.0f);
      auto key_of = [&](int slot) -> const float* {
        if (slot < bs) {
          const int j = u * bs + slot;
          return j < N && real(b, j) ? k + int64_t(j) * Dh : nullptr;
        }
        const int t = slot - bs;
        return slot_real_[int64_t(b) * bs + t] != 0.0f
                   ? sk + (int64_t(u) * bs + t) * Dh
                   : nullptr;
      };
      float max_score = -std::numeric_limits<float>::infinity();
      for (int slot = 0; slot < 2 * bs; ++slot) {
        const float* key = key_of(slot);
        w[slot] = key != nullptr ? scale * Dot(qi, key, Dh) : 0.0f;
        if (key != nullptr) max_score = std::max(max_score, w[slot]);
      }
      if (max_score == -std::numeric_limits<float>::infinity()) {
        std::fill(w, w + 2 * bs, 0.0f);
        continue;
      }
      float sum = 0.0f;
      for (int slot = 0; slot < 2 * bs; ++slot) {
        if (key_of(slot) == nullptr) continue;
        w[slot] = std::exp(w[slot] - max_score);
        sum += w[slot];
      }
      for (int slot = 0; slot < 2 * bs; ++slot) {
        w[slot] /= sum;
        const float p = w[slot] * DropoutFactor(b, h, i, slot);
        if (p == 0.0f) continue;
        const float* value = slot < bs
                                 ? v + int64_t(u * bs + slot) * Dh
                                 : sv + (int64_t(u) * bs + slot - bs) * Dh;
        for (int x = 0; x < Dh; ++x) o[x] += p * value[x];
      }
    }
  }
}

void SinkhornAttention::Backward(const float* dout,
                                 const AttentionGradients& grads) {
  const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim,
            nb = blocks_, bs = block_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(Dh));
  auto real = [&](int b, int j) {
    return in_.key_mask == nullptr || in_.key_mask[int64_t(b) * N + j] != 0;
  };
#pragma omp parallel for schedule(static)
  for (int bh = 0; bh < in_.batch * H; ++bh) {
    const int b = bh / H, h = bh % H;
    const int64_t base = int64_t(bh) * N * Dh;
    const float* k = in_.k + base;
    const float* v = in_.v + base;
    float* dq = grads.dq + base;
    float* dk = grads.dk + base;
    float* dv = grads.dv + base;
    std::fill(dq, dq + int64_t(N) * Dh, 0.0f);
    std::fill(dk, dk + int64_t(N) * Dh, 0.0f);
    std::fill(dv, dv + int64_t(N) * Dh, 0.0f);
    const float* sk = sorted_k_.data() + int64_t(bh) * nb * bs * Dh;
    const float* sv = sorted_v_.data() + int64_t(bh) * nb * bs * Dh;
    float* dsk = d_sorted_k_.data() + int64_t(bh) * nb * bs * Dh;
    float* dsv = d_sorted_v_.data() + int64_t(bh) * nb * bs * Dh;
    std::fill(dsk, dsk + int64_t(nb) * bs * Dh, 0.0f);
    std::fill(dsv, dsv + int64_t(nb) * bs * Dh, 0.0f);
    // Softmax backward over the 2 bs slots of each query.
    for (int i = 0; i < N; ++i) {
      const int u = i / bs;
      const float* qi = in_.q + base + int64_t(i) * Dh;
      const float* g = dout + base + int64_t(i) * Dh;
      const float* w = weights_.data() + (int64_t(bh) * N + i) * 2 * bs;
      float dw[2 * kMaxBlock];  // d(loss)/d(weight) per slot
      float weighted = 0.0f;
      for (int slot = 0; slot < 2 * bs; ++slot) {
        if (w[slot] == 0.0f) continue;
        const float d = DropoutFactor(b, h, i, slot);
        const bool own = slot < bs;
        const int64_t at = own ? int64_t(u * bs + slot) * Dh
                               : (int64_t(u) * bs + slot - bs) * Dh;
        const float* value = own ? v + at : sv + at;
        float* dvalue = own ? dv + at : dsv + at;
        for (int x = 0; x < Dh; ++x) dvalue[x] += w[slot] * d * g[x];
        const float dws = d * Dot(g, value, Dh);
        dw[slot] = dws;
        weighted += w[slot] * dws;
      }
      for (int slot = 0; slot < 2 * bs; ++slot) {
        if (w[slot] == 0.0f) continue;
        const bool own = slot < bs;
        const int64_t at = own ? int64_t(u * bs + slot) * Dh
                               : (int64_t(u) * bs + slot - bs) * Dh;
        const float* key = own ? k + at : sk + at;
        float* dkey = own ? dk + at : dsk + at;
        const float dscore = w[slot] * (dw[slot] - weighted);
        for (int x = 0; x < Dh; ++x) {
          dq[int64_t(i) * Dh + x] += dscore * scale * key[x];
          dkey[x] += dscore * scale * qi[x];
        }
      }
    }
    // Through the soft sort: sorted[u, t] = sum_w S[u, w] k/v[w, t].
    // With the masked copies Km, Vm [nb, bs Dh]: dS = dSK Km^T + dSV Vm^T,
    // dKm = S^T dSK, dVm = S^T dSV (added at real keys only).
    const float* sort = sort_.data() + int64_t(bh) * nb * nb;
    float* d_log = d_log_.data() + int64_t(bh) * nb * nb;  // [nb, nb]
    const float* km = masked_k_.data() + int64_t(bh) * nb * bs * Dh;
    const float* vm = masked_v_.data() + int64_t(bh) * nb * bs * Dh;
    float* dm = d_masked_.data() + int64_t(bh) * nb * bs * Dh;
    const int width = bs * Dh;
    Matmul(nb, nb, width, RowMajor(dsk, width), Transposed(km, width), d_log,
           nb, false);
    Matmul(nb, nb, width, RowMajor(dsv, width), Transposed(vm, width), d_log,
           nb, true);
    // S = exp(L): dL = dS * S.
#pragma omp simd
    for (int e = 0; e < nb * nb; ++e) d_log[e] *= sort[e];
    for (int pass = 0; pass < 2; ++pass) {
      Matmul(nb, width, nb, Transposed(sort, nb),
             RowMajor(pass == 0 ? dsk : dsv, width), dm, width, false);
      float* target = pass == 0 ? dk : dv;
      for (int j = 0; j < N; ++j) {
        if (!real(b, j)) continue;
#pragma omp simd
        for (int x = 0; x < Dh; ++x) {
          target[int64_t(j) * Dh + x] += dm[int64_t(j) * Dh + x];
        }
      }
    }
    // Back through the Sinkhorn steps to the scaled scores.
    const float* logs = log_sort_.data() + int64_t(bh) * steps_ * nb * nb;
    float* col = columns_.data() + int64_t(bh) * 3 * nb;
    for (int step = steps_ - 1; step >= 1; --step) {
      NormaliseLogBackward(logs + int64_t(step) * nb * nb, d_log, nb,
                           /*rows=*/step % 2 == 1, col);
    }
    // scores = summaries . sortnet / temperature.
    const float* summary = summaries_.data() + int64_t(bh) * nb * Dh;
    const float* net = sortnet_.data() + int64_t(h) * Dh * nb;
    float* partial = sortnet_partial_.data() + int64_t(bh) * Dh * nb;
    float* dsum = d_summaries_.data() + int64_t(bh) * nb * Dh;
    Matmul(Dh, nb, nb, Transposed(summary, Dh), RowMajor(d_log, nb), partial,
           nb, false, 1.0f / temperature_);
    Matmul(nb, Dh, nb, RowMajor(d_log, nb), Transposed(net, nb), dsum, Dh,
           false, 1.0f / temperature_);
    // Summaries are means of the block's real keys.
    for (int u = 0; u < nb; ++u) {
      const float count = real_count_[int64_t(b) * nb + u];
      if (count == 0.0f) continue;
      for (int j = u * bs; j < BlockEnd(u); ++j) {
        if (!real(b, j)) continue;
        for (int x = 0; x < Dh; ++x) {
          dk[int64_t(j) * Dh + x] += dsum[u * Dh + x] / count;
        }
      }
    }
  }
  // Summed over the batch in a fixed order (thread-count independent).
  const int64_t per_head = int64_t(Dh) * nb;
  for (int h = 0; h < H; ++h) {
    for (int64_t e = 0; e < per_head; ++e) {
      float sum = 0.0f;
      for (int b = 0; b < in_.batch; ++b) {
        sum += sortnet_partial_[(int64_t(b) * H + h) * per_head + e];
      }
      sortnet_grad_[int64_t(h) * per_head + e] += sum;
    }
  }
}

AttentionPlugin SinkhornAttentionPlugin() {
  AttentionPlugin plugin;
  plugin.name = "sinkhorn";
  plugin.description =
      "Sparse Sinkhorn attention (Tay et al.): a learned sorting network and "
      "Sinkhorn normalisation softly permute key blocks; each query block "
      "attends to its own block and its sorted partner";
  plugin.params = {
      PluginParamSpec::Number("block", 50,
                              "positions per block (a whole number, 1..64)"),
      PluginParamSpec::Number(
          "iterations", 5,
          "Sinkhorn rounds, each a row and a column normalisation (0..100)"),
      PluginParamSpec::Number("temperature", 0.75,
                              "divides the sorting scores (> 0)"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.learnable = true;
  plugin.capabilities.length_dependent_parameters = true;
  plugin.capabilities.complexity = "O(N block + (N / block)^2)";
  plugin.factory = [](const PluginParams& params, const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    ASSIGN_OR_RETURN(const int block, WholeNumberParam(params, "sinkhorn",
                                                       "block", 1, kMaxBlock));
    ASSIGN_OR_RETURN(
        const int iterations,
        WholeNumberParam(params, "sinkhorn", "iterations", 0, 100));
    ASSIGN_OR_RETURN(const double temperature, params.Number("temperature"));
    if (!(temperature > 0 && std::isfinite(temperature))) {
      return ParamError("sinkhorn", "temperature", temperature,
                        "a finite number > 0");
    }
    RETURN_IF_ERROR(CheckPositiveShape("sinkhorn", shape));
    RETURN_IF_ERROR(CheckDropoutRate("sinkhorn", shape));
    return std::unique_ptr<Attention>(std::make_unique<SinkhornAttention>(
        shape, static_cast<int>(block), static_cast<int>(iterations),
        static_cast<float>(temperature)));
  };
  // Blocks much shorter than the test lengths, so that sorting has several
  // blocks to permute and padding starts inside blocks; iterations 0 (only
  // the sorting scores' exponent) and a sharper temperature.
  plugin.test_cases = {
      {"block 8", {NumberParam("block", 8)}},
      {"block 5, 0 iterations",
       {NumberParam("block", 5), NumberParam("iterations", 0)}},
      {"block 16, temperature 0.3",
       {NumberParam("block", 16), NumberParam("temperature", 0.3)}},
  };
  return plugin;
}

}  // namespace lra
