#include "models/mixers/isab/isab_mixer.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "models/layers.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {

// Xavier-uniform over a [in, out] weight, as the encoder does for its own.
void XavierUniform(uint64_t seed, Tensor& w) {
  const double bound =
      std::sqrt(6.0 / static_cast<double>(w.dim(0) + w.dim(1)));
  for (int64_t i = 0; i < w.size(); ++i) {
    w[i] = static_cast<float>((2.0 * UniformFloat(seed, i) - 1.0) * bound);
  }
}

}  // namespace

IsabMixer::IsabMixer(const MixerShape& shape, const IsabOptions& options,
                     IsabMixer* previous)
    : shape_(shape),
      options_(options),
      previous_(options.carry ? previous : nullptr),
      m_(options.memory_slots),
      heads_(options.heads),
      dh_(options.qkv_dim / options.heads),
      q_(options.qkv_dim),
      scale_(1.0f /
             std::sqrt(static_cast<float>(options.qkv_dim / options.heads))),
      threads_(std::max(1, omp_get_max_threads())),
      w_(options.memory_slots, shape.d_model, options.qkv_dim,
         previous_ == nullptr),
      g_(options.memory_slots, shape.d_model, options.qkv_dim,
         previous_ == nullptr),
      in_(shape.d_model, options.qkv_dim),
      out_(options.qkv_dim, shape.d_model) {
  const int64_t B = shape.max_seqs, N = shape.seq_len, D = shape.d_model,
                M = m_, H = heads_, Dh = dh_, Q = q_;
  mask_.resize(B * N);
  s_ = Tensor({B, M, D});
  q1_ = Tensor({B, H, M, Dh});
  k1_ = Tensor({B, H, N, Dh});
  v1_ = Tensor({B, H, N, Dh});
  p1_ = Tensor({B, H, M, N});
  merged1_ = Tensor({B, M, Q});
  r_ = Tensor({B, M, D});
  ln_mean_ = Tensor({B, M});
  ln_rstd_ = Tensor({B, M});
  h_ = Tensor({B, M, D});
  q2_ = Tensor({B, H, N, Dh});
  k2_ = Tensor({B, H, M, Dh});
  v2_ = Tensor({B, H, M, Dh});
  p2_ = Tensor({B, H, N, M});
  merged2_ = Tensor({B, N, Q});
  if (options.carry) d_carry_ = Tensor({B, M, D});
  if (previous != nullptr && previous->shape_.max_seqs == shape.max_seqs &&
      previous->shape_.seq_len == N && previous->shape_.d_model == D &&
      previous->m_ == M && previous->heads_ == H && previous->dh_ == Dh &&
      previous->q_ == Q) {
    ws_ = previous->ws_;
  } else {
    ws_ = std::make_shared<Workspace>(B, N, M, D, H, Dh, Q);
  }
}

IsabMixer::Workspace::Workspace(int64_t b, int64_t n, int64_t m, int64_t d,
                                int64_t h, int64_t dh, int64_t q)
    : proj({b, std::max(n, m), q}),
      dy({b, n, d}),
      heads({b, h, std::max(n, m), dh}),
      dp({b, h, n * m}),
      dq({b, h, std::max(n, m), dh}),
      dk({b, h, std::max(n, m), dh}),
      dv({b, h, std::max(n, m), dh}),
      d_packed({b, m, d}),
      dr({b, m, d}),
      ds({b, m, d}) {}

void IsabMixer::ForEachWeight(const WeightVisitor& fn) {
  // Slots are embeddings of the memory: no weight decay, as LayerNorm and
  // biases; the projections decay.
  const WeightSpec matrix{Init::kByOwner, 1.0f, true};
  const WeightSpec no_decay{Init::kByOwner, 1.0f, false};
  if (w_.slots.size() > 0) fn("slots", w_.slots, g_.slots, no_decay);
  auto attention = [&](const char* prefix, Attention& w, Attention& g) {
    const std::string p = prefix;
    fn(p + "wq", w.wq, g.wq, matrix);
    fn(p + "bq", w.bq, g.bq, no_decay);
    fn(p + "wk", w.wk, g.wk, matrix);
    fn(p + "bk", w.bk, g.bk, no_decay);
    fn(p + "wv", w.wv, g.wv, matrix);
    fn(p + "bv", w.bv, g.bv, no_decay);
    fn(p + "wo", w.wo, g.wo, matrix);
    fn(p + "bo", w.bo, g.bo, no_decay);
  };
  attention("pack.", w_.pack, g_.pack);
  fn("pack.ln.gamma", w_.ln_gamma, g_.ln_gamma, no_decay);
  fn("pack.ln.beta", w_.ln_beta, g_.ln_beta, no_decay);
  attention("unpack.", w_.unpack, g_.unpack);
}

void IsabMixer::InitParameters(uint64_t seed) {
  // Slots normal(0, 1): the scale of the LayerNorm-ed tokens they meet.
  const uint64_t s_slots = DeriveSeed(seed, 1);
  for (int64_t i = 0; i < w_.slots.size(); ++i) {
    w_.slots[i] = static_cast<float>(NormalDouble(s_slots, i));
  }
  uint64_t tag = 2;
  for (Attention* a : {&w_.pack, &w_.unpack}) {
    for (Tensor* w : {&a->wq, &a->wk, &a->wv, &a->wo}) {
      XavierUniform(DeriveSeed(seed, tag++), *w);
    }
    for (Tensor* b : {&a->bq, &a->bk, &a->bv, &a->bo}) b->Zero();
  }
  for (int64_t i = 0; i < w_.ln_gamma.size(); ++i) w_.ln_gamma[i] = 1.0f;
  w_.ln_beta.Zero();
}

void IsabMixer::Softmax(float* p, int64_t rows, int cols, int64_t rows_per_seq,
                        const uint8_t* key_mask) const {
  const float scale = scale_;
  const int threads = std::min(threads_, omp_get_max_threads());
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t r = 0; r < rows; ++r) {
    float* row = p + r * cols;
    const uint8_t* keep =
        key_mask == nullptr ? nullptr : key_mask + (r / rows_per_seq) * cols;
    float max = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < cols; ++j) {
      if (keep == nullptr || keep[j]) max = std::max(max, row[j] * scale);
    }
    if (max == -std::numeric_limits<float>::infinity()) {
      // No real key: the attention output is 0.
      std::memset(row, 0, sizeof(float) * cols);
      continue;
    }
    double sum = 0.0;
    for (int j = 0; j < cols; ++j) {
      const float e =
          keep == nullptr || keep[j] ? std::exp(row[j] * scale - max) : 0.0f;
      row[j] = e;
      sum += e;
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int j = 0; j < cols; ++j) row[j] *= inv;
  }
}

void IsabMixer::SoftmaxBackward(const float* p, int64_t rows, int cols,
                                float* ds) const {
  const float scale = scale_;
  const int threads = std::min(threads_, omp_get_max_threads());
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t r = 0; r < rows; ++r) {
    const float* pr = p + r * cols;
    float* dr = ds + r * cols;
    double dot = 0.0;
    for (int j = 0; j < cols; ++j) dot += static_cast<double>(pr[j]) * dr[j];
    const float d = static_cast<float>(dot);
    for (int j = 0; j < cols; ++j) dr[j] = scale * pr[j] * (dr[j] - d);
  }
}

void IsabMixer::Forward(const float* x, const MixerStep& step, float* y) {
  const int B = step.seqs, N = shape_.seq_len, D = shape_.d_model, M = m_,
            H = heads_, Dh = dh_;
  const int64_t rows_n = static_cast<int64_t>(B) * N;
  const int64_t rows_m = static_cast<int64_t>(B) * M;
  const int64_t bh = static_cast<int64_t>(B) * H;
  x_ = x;
  seqs_ = B;
  std::memcpy(mask_.data(), step.key_mask, static_cast<size_t>(rows_n));

  // The slots this layer reads: its own, or the previous layer's packed ones.
  float* s = s_.data();  // [B', M, D]
  const size_t slot_bytes = sizeof(float) * static_cast<size_t>(M) * D;
  if (previous_ != nullptr) {
    std::memcpy(s, previous_->h_.data(), slot_bytes * B);
  } else {
    for (int b = 0; b < B; ++b) {
      std::memcpy(s + static_cast<int64_t>(b) * M * D, w_.slots.data(),
                  slot_bytes);
    }
  }
  // The next layer adds d(H) here during its Backward, before this one's.
  if (options_.carry) std::memset(d_carry_.data(), 0, slot_bytes * B);

  // Pack: slots query the tokens; padded tokens are masked keys.
  const Attention& pk = w_.pack;
  float* proj = ws_->proj.data();
  in_.Forward(s, pk.wq.data(), pk.bq.data(), proj, rows_m);
  SplitHeads(proj, B, M, H, Dh, q1_.data());
  in_.Forward(x, pk.wk.data(), pk.bk.data(), proj, rows_n);
  SplitHeads(proj, B, N, H, Dh, k1_.data());
  in_.Forward(x, pk.wv.data(), pk.bv.data(), proj, rows_n);
  SplitHeads(proj, B, N, H, Dh, v1_.data());
  // Scores [B', H, M, N] = q1 k1^T, then probabilities in place.
  bmm_.RunBatched(bh, M, Dh, N, false, true, false, q1_.data(), k1_.data(),
                  p1_.data());
  Softmax(p1_.data(), bh * M, N, static_cast<int64_t>(H) * M, mask_.data());
  float* heads = ws_->heads.data();  // [B', H, M, Dh]
  bmm_.RunBatched(bh, M, N, Dh, false, false, false, p1_.data(), v1_.data(),
                  heads);
  MergeHeads(heads, B, M, H, Dh, merged1_.data());
  // H = LN(S + pack output).
  float* r = r_.data();
  out_.Forward(merged1_.data(), pk.wo.data(), pk.bo.data(), r, rows_m);
  AddInPlace(s, rows_m * D, r);
  LayerNormForward(r, w_.ln_gamma.data(), w_.ln_beta.data(), rows_m, D,
                   h_.data(), ln_mean_.data(), ln_rstd_.data());

  // Unpack: tokens query the packed slots (all real).
  const Attention& up = w_.unpack;
  in_.Forward(x, up.wq.data(), up.bq.data(), proj, rows_n);
  SplitHeads(proj, B, N, H, Dh, q2_.data());
  in_.Forward(h_.data(), up.wk.data(), up.bk.data(), proj, rows_m);
  SplitHeads(proj, B, M, H, Dh, k2_.data());
  in_.Forward(h_.data(), up.wv.data(), up.bv.data(), proj, rows_m);
  SplitHeads(proj, B, M, H, Dh, v2_.data());
  bmm_.RunBatched(bh, N, Dh, M, false, true, false, q2_.data(), k2_.data(),
                  p2_.data());
  Softmax(p2_.data(), bh * N, M, 1, nullptr);
  bmm_.RunBatched(bh, N, M, Dh, false, false, false, p2_.data(), v2_.data(),
                  heads);
  MergeHeads(heads, B, N, H, Dh, merged2_.data());
  out_.Forward(merged2_.data(), up.wo.data(), up.bo.data(), y, rows_n);
  // Padded positions output 0 (and so pass no gradient back).
  for (int64_t i = 0; i < rows_n; ++i) {
    if (!mask_[i]) std::memset(y + i * D, 0, sizeof(float) * D);
  }
}

void IsabMixer::Backward(const float* dy_in, float* dx) {
  const int B = seqs_, N = shape_.seq_len, D = shape_.d_model, M = m_,
            H = heads_, Dh = dh_;
  const int64_t rows_n = static_cast<int64_t>(B) * N;
  const int64_t rows_m = static_cast<int64_t>(B) * M;
  const int64_t bh = static_cast<int64_t>(B) * H;
  const Attention& pk = w_.pack;
  const Attention& up = w_.unpack;
  Attention& gpk = g_.pack;
  Attention& gup = g_.unpack;
  float* dmerged = ws_->proj.data();  // [B', max(N, M), Q]
  float* heads = ws_->heads.data();   // [B', H, max(N, M), Dh]
  float* dp = ws_->dp.data();

  // Padded outputs are constant 0: their dy does not count.
  float* dy = ws_->dy.data();
  for (int64_t i = 0; i < rows_n; ++i) {
    if (mask_[i]) {
      std::memcpy(dy + i * D, dy_in + i * D, sizeof(float) * D);
    } else {
      std::memset(dy + i * D, 0, sizeof(float) * D);
    }
  }

  // Unpack.
  out_.BackwardParams(merged2_.data(), dy, gup.wo.data(), gup.bo.data(),
                      rows_n);
  out_.BackwardInput(dy, up.wo.data(), dmerged, rows_n, false);
  SplitHeads(dmerged, B, N, H, Dh, heads);  // d(out2) [B', H, N, Dh]
  // dP2 [B', H, N, M] = dO2 v2^T; dv2 [B', H, M, Dh] = P2^T dO2.
  bmm_.RunBatched(bh, N, Dh, M, false, true, false, heads, v2_.data(), dp);
  bmm_.RunBatched(bh, M, N, Dh, true, false, false, p2_.data(), heads,
                  ws_->dv.data());
  SoftmaxBackward(p2_.data(), bh * N, M, dp);
  // dq2 [B', H, N, Dh] = dS2 k2; dk2 [B', H, M, Dh] = dS2^T q2.
  bmm_.RunBatched(bh, N, M, Dh, false, false, false, dp, k2_.data(),
                  ws_->dq.data());
  bmm_.RunBatched(bh, M, N, Dh, true, false, false, dp, q2_.data(),
                  ws_->dk.data());
  MergeHeads(ws_->dq.data(), B, N, H, Dh, dmerged);
  in_.BackwardParams(x_, dmerged, gup.wq.data(), gup.bq.data(), rows_n);
  in_.BackwardInput(dmerged, up.wq.data(), dx, rows_n, false);
  float* dh = ws_->d_packed.data();  // [B', M, D] d(H)
  MergeHeads(ws_->dk.data(), B, M, H, Dh, dmerged);
  in_.BackwardParams(h_.data(), dmerged, gup.wk.data(), gup.bk.data(), rows_m);
  in_.BackwardInput(dmerged, up.wk.data(), dh, rows_m, false);
  MergeHeads(ws_->dv.data(), B, M, H, Dh, dmerged);
  in_.BackwardParams(h_.data(), dmerged, gup.wv.data(), gup.bv.data(), rows_m);
  in_.BackwardInput(dmerged, up.wv.data(), dh, rows_m, true);
  // The next layer read H as its slots.
  if (options_.carry) AddInPlace(d_carry_.data(), rows_m * D, dh);

  // H = LN(R), R = S + pack output.
  float* dr = ws_->dr.data();
  std::memset(dr, 0, sizeof(float) * rows_m * D);
  LayerNormBackward(dh, r_.data(), ln_mean_.data(), ln_rstd_.data(),
                    w_.ln_gamma.data(), rows_m, D, dr, g_.ln_gamma.data(),
                    g_.ln_beta.data());

  // Pack.
  out_.BackwardParams(merged1_.data(), dr, gpk.wo.data(), gpk.bo.data(),
                      rows_m);
  out_.BackwardInput(dr, pk.wo.data(), dmerged, rows_m, false);
  SplitHeads(dmerged, B, M, H, Dh, heads);  // d(out1) [B', H, M, Dh]
  // dP1 [B', H, M, N] = dO1 v1^T; dv1 [B', H, N, Dh] = P1^T dO1.
  bmm_.RunBatched(bh, M, Dh, N, false, true, false, heads, v1_.data(), dp);
  bmm_.RunBatched(bh, N, M, Dh, true, false, false, p1_.data(), heads,
                  ws_->dv.data());
  SoftmaxBackward(p1_.data(), bh * M, N, dp);
  // dq1 [B', H, M, Dh] = dS1 k1; dk1 [B', H, N, Dh] = dS1^T q1.
  bmm_.RunBatched(bh, M, N, Dh, false, false, false, dp, k1_.data(),
                  ws_->dq.data());
  bmm_.RunBatched(bh, N, M, Dh, true, false, false, dp, q1_.data(),
                  ws_->dk.data());
  MergeHeads(ws_->dk.data(), B, N, H, Dh, dmerged);
  in_.BackwardParams(x_, dmerged, gpk.wk.data(), gpk.bk.data(), rows_n);
  in_.BackwardInput(dmerged, pk.wk.data(), dx, rows_n, true);
  MergeHeads(ws_->dv.data(), B, N, H, Dh, dmerged);
  in_.BackwardParams(x_, dmerged, gpk.wv.data(), gpk.bv.data(), rows_n);
  in_.BackwardInput(dmerged, pk.wv.data(), dx, rows_n, true);
  // dS = dR (residual) + dq1 Wq^T.
  float* ds = ws_->ds.data();
  std::memcpy(ds, dr, sizeof(float) * rows_m * D);
  MergeHeads(ws_->dq.data(), B, M, H, Dh, dmerged);
  in_.BackwardParams(s_.data(), dmerged, gpk.wq.data(), gpk.bq.data(), rows_m);
  in_.BackwardInput(dmerged, pk.wq.data(), ds, rows_m, true);

  if (previous_ != nullptr) {
    if (!options_.drop_carry_gradient) {
      AddInPlace(ds, rows_m * D, previous_->d_carry_.data());
    }
  } else {
    float* gs = g_.slots.data();
    for (int b = 0; b < B; ++b) {
      AddInPlace(ds + static_cast<int64_t>(b) * M * D,
                 static_cast<int64_t>(M) * D, gs);
    }
  }
}

MixerFactory IsabMixer::Factory(bool drop_carry_gradient) {
  return
      [drop_carry_gradient](const PluginParams& params, const MixerShape& shape,
                            const ModelConfig& model)
          -> absl::StatusOr<std::unique_ptr<TokenMixer>> {
        ASSIGN_OR_RETURN(double slots, params.Number("memory_slots"));
        ASSIGN_OR_RETURN(double heads, params.Number("num_heads"));
        IsabOptions o;
        o.drop_carry_gradient = drop_carry_gradient;
        ASSIGN_OR_RETURN(o.carry, params.Flag("carry"));
        if (slots < 1 || slots != std::floor(slots)) {
          return absl::InvalidArgumentError(
              absl::StrCat("mixer 'isab': memory_slots = ", slots,
                           " is invalid; must be a positive integer"));
        }
        if (heads < 0 || heads != std::floor(heads)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "mixer 'isab': num_heads = ", heads,
              " is invalid; must be 0 (the model's) or a positive integer"));
        }
        o.memory_slots = static_cast<int>(slots);
        // A model config seen alone (the mixer tests) may leave these unset.
        o.heads = heads > 0 ? static_cast<int>(heads)
                            : std::max(1, model.num_heads());
        o.qkv_dim = model.qkv_dim() > 0 ? model.qkv_dim() : shape.d_model;
        if (o.qkv_dim % o.heads != 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "mixer 'isab': qkv_dim ", o.qkv_dim,
              " must be a multiple of the number of heads (", o.heads, ")"));
        }
        IsabMixer* previous = dynamic_cast<IsabMixer*>(shape.previous_layer);
        if (o.carry && shape.previous_layer != nullptr &&
            (previous == nullptr || !previous->options_.carry ||
             previous->m_ != o.memory_slots ||
             previous->shape_.d_model != shape.d_model ||
             previous->shape_.max_seqs != shape.max_seqs)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "mixer 'isab' with carry: layer ", shape.layer_index,
              " needs layer ", shape.layer_index - 1,
              "'s mixer to be isab with carry and the same memory_slots"));
        }
        return std::unique_ptr<TokenMixer>(
            std::make_unique<IsabMixer>(shape, o, previous));
      };
}

ForwardFlops IsabMixer::Flops(const PluginParams& params,
                              const ModelConfig& model,
                              const std::vector<int>& positions) {
  // Per sequence of n real tokens, M slots, Q = qkv_dim (over all heads):
  //   pack:   slots' queries and outputs (M rows), the tokens' keys and
  //           values (n rows): 2 D Q (2 M + 2 n); scores M x n and P V:
  //           2 * 2 M n Q.
  //   unpack: the tokens' queries and outputs (n rows), the slots' keys and
  //           values (M rows): 2 D Q (2 n + 2 M); scores n x M and P V:
  //           2 * 2 n M Q.
  // The heads split Q, so their number does not change the count.
  ForwardFlops flops;
  const double d = model.d_model();
  const double q = model.qkv_dim() > 0 ? model.qkv_dim() : d;
  const double m = params.Number("memory_slots").value_or(32);
  for (int n : positions) {
    flops.projections += 2 * 2 * d * q * (2 * m + 2.0 * n);
    flops.core += 2 * 2 * 2 * m * n * q;
  }
  return flops;
}

MixerPlugin IsabMixer::Plugin() {
  MixerPlugin plugin;
  plugin.name = "isab";
  plugin.description =
      "inducing points (Set Transformer ISAB, Luna): M learned slots attend "
      "over the real tokens, the tokens attend over the slots; with carry, "
      "layer l's slots are layer l-1's packed slots (Luna)";
  plugin.params = {
      PluginParamSpec::Number("memory_slots", 32,
                              "slots (inducing points) M per block"),
      PluginParamSpec::Number(
          "num_heads", 0,
          "heads of both attentions (0 = the model's num_heads)"),
      PluginParamSpec::Flag("carry", false,
                            "Luna: layer l reads layer l-1's packed slots "
                            "(layer 0 its learned slots)"),
  };
  plugin.capabilities.key_padding_mask = true;
  plugin.capabilities.complexity = "O(N M) (M slots)";
  plugin.flops = Flops;
  plugin.factory = Factory(false);
  plugin.test_cases = {
      {"two_heads_five_slots",
       {NumberParam("num_heads", 2), NumberParam("memory_slots", 5)}},
      {"one_slot", {NumberParam("memory_slots", 1)}},
      {"carry", {NumberParam("memory_slots", 3), FlagParam("carry", true)}},
  };
  return plugin;
}

MixerPlugin IsabMixer::BrokenCarryPluginForTesting() {
  MixerPlugin plugin = Plugin();
  plugin.name = "isab_broken_carry";
  plugin.description = "isab without the gradient into carried slots (test)";
  plugin.factory = Factory(true);
  return plugin;
}

}  // namespace lra
