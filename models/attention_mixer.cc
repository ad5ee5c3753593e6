#include "models/attention_mixer.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "models/layers.h"
#include "models/rng.h"

namespace lra {

absl::StatusOr<std::unique_ptr<AttentionMixer>> AttentionMixer::Create(
    const ModelConfig& config, const MixerShape& shape,
    const AttentionRegistry& registry, ScratchBuffers* scratch) {
  AttentionShape attention_shape;
  attention_shape.max_batch = shape.max_seqs;
  attention_shape.num_heads = config.num_heads();
  attention_shape.seq_len = shape.seq_len;
  attention_shape.head_dim = config.qkv_dim() / config.num_heads();
  attention_shape.attention_dropout = config.attention_dropout();
  attention_shape.layer_index = shape.layer_index;
  attention_shape.d_model = shape.d_model;
  attention_shape.seed = DeriveSeed(shape.structure_seed, shape.layer_index);
  attention_shape.cls_token = shape.cls_token;
  absl::StatusOr<std::unique_ptr<Attention>> attention =
      registry.Create(config.attention(), attention_shape);
  if (!attention.ok()) {
    return absl::Status(
        attention.status().code(),
        absl::StrCat("model '", config.name(), "' layer ", shape.layer_index,
                     ": ", attention.status().message()));
  }
  const AttentionPlugin& plugin = **registry.Find(config.attention().name());
  return std::unique_ptr<AttentionMixer>(
      new AttentionMixer(shape, config.num_heads(), config.qkv_dim(),
                         plugin.capabilities, *std::move(attention), scratch));
}

AttentionMixer::AttentionMixer(const MixerShape& shape, int heads, int qkv,
                               const AttentionCapabilities& capabilities,
                               std::unique_ptr<Attention> attention,
                               ScratchBuffers* scratch)
    : shape_(shape),
      heads_(heads),
      head_dim_(qkv / heads),
      qkv_dim_(qkv),
      shared_qk_(capabilities.shared_qk),
      needs_layer_input_(capabilities.needs_layer_input),
      key_padding_mask_(capabilities.key_padding_mask),
      w_(shape.d_model, qkv, capabilities.shared_qk),
      g_(shape.d_model, qkv, capabilities.shared_qk),
      q_(shape.d_model, qkv),
      k_(shape.d_model, qkv),
      v_(shape.d_model, qkv),
      o_(qkv, shape.d_model),
      attention_(std::move(attention)) {
  const int64_t B = shape.max_seqs, N = shape.seq_len, H = heads,
                Dh = head_dim_, Q = qkv, D = shape.d_model;
  // Row buffers hold B' N rows, or up to PackedCapacity(B' N) packed rows.
  const int64_t rows = PackedCapacity(B * N);
  qh_ = Tensor({B, H, N, Dh});
  if (!shared_qk_) kh_ = Tensor({B, H, N, Dh});
  vh_ = Tensor({B, H, N, Dh});
  heads_out_ = Tensor({B, H, N, Dh});
  merged_ = Tensor({rows, Q});
  qkv_ = scratch->Reserve("attention.qkv", rows * Q);
  d_merged_ = scratch->Reserve("attention.d_merged", rows * Q);
  if (needs_layer_input_ && key_padding_mask_) {
    x_padded_ = Tensor({B, N, D});
    dx_padded_ = scratch->Reserve("attention.dx_padded", B * N * D);
  }
  d_heads_ = scratch->Reserve("attention.d_heads", B * H * N * Dh);
  dq_ = scratch->Reserve("attention.dq", B * H * N * Dh);
  if (!shared_qk_) dk_ = scratch->Reserve("attention.dk", B * H * N * Dh);
  dv_ = scratch->Reserve("attention.dv", B * H * N * Dh);
}

void AttentionMixer::ForEachWeight(const WeightVisitor& fn) {
  fn("wq", w_.wq, g_.wq, {Init::kXavier});
  fn("bq", w_.bq, g_.bq, {Init::kZero});
  if (!shared_qk_) {
    fn("wk", w_.wk, g_.wk, {Init::kXavier});
    fn("bk", w_.bk, g_.bk, {Init::kZero});
  }
  fn("wv", w_.wv, g_.wv, {Init::kXavier});
  fn("bv", w_.bv, g_.bv, {Init::kZero});
  fn("wo", w_.wo, g_.wo, {Init::kXavier});
  fn("bo", w_.bo, g_.bo, {Init::kZero});
  attention_->ForEachParameter(
      [&](const std::string& name, Tensor& value, Tensor& grad) {
        fn(name, value, grad, {Init::kByOwner});
      });
}

void AttentionMixer::InitParameters(uint64_t seed) {
  attention_->InitParameters(seed);
}

void AttentionMixer::SetStep(int64_t step) { attention_->SetStep(step); }

void AttentionMixer::Forward(const float* x, const MixerStep& step, float* y) {
  const int seqs = step.seqs, N = shape_.seq_len, H = heads_, Dh = head_dim_;
  const int64_t rows = static_cast<int64_t>(seqs) * N;
  x_ = x;
  seqs_ = seqs;
  float* qkv = qkv_.data();
  q_.Forward(x, w_.wq.data(), w_.bq.data(), qkv, rows);
  SplitHeads(qkv, seqs, N, H, Dh, qh_.data());
  if (!shared_qk_) {
    k_.Forward(x, w_.wk.data(), w_.bk.data(), qkv, rows);
    SplitHeads(qkv, seqs, N, H, Dh, kh_.data());
  }
  v_.Forward(x, w_.wv.data(), w_.bv.data(), qkv, rows);
  SplitHeads(qkv, seqs, N, H, Dh, vh_.data());
  AttentionInputs in;
  in.q = qh_.data();
  in.k = shared_qk_ ? qh_.data() : kh_.data();
  in.v = vh_.data();
  in.key_mask = step.key_mask;
  in.batch = seqs;
  in.training = step.training;
  in.seed = step.seed;
  in.x = needs_layer_input_ ? x : nullptr;
  attention_->Forward(in, heads_out_.data());
  MergeHeads(heads_out_.data(), seqs, N, H, Dh, merged_.data());
  o_.Forward(merged_.data(), w_.wo.data(), w_.bo.data(), y, rows);
}

void AttentionMixer::Backward(const float* dy, float* dx) {
  const int seqs = seqs_, N = shape_.seq_len, H = heads_, Dh = head_dim_;
  const int64_t rows = static_cast<int64_t>(seqs) * N;
  float* d_merged = d_merged_.data();
  o_.BackwardParams(merged_.data(), dy, g_.wo.data(), g_.bo.data(), rows);
  o_.BackwardInput(dy, w_.wo.data(), d_merged, rows, false);
  SplitHeads(d_merged, seqs, N, H, Dh, d_heads_.data());
  AttentionGradients grads;
  grads.dq = dq_.data();
  grads.dk = shared_qk_ ? nullptr : dk_.data();
  grads.dv = dv_.data();
  if (needs_layer_input_) {
    // The plugin adds its own part of dx first; the projections then add.
    std::memset(dx, 0, sizeof(float) * rows * shape_.d_model);
    grads.dx = dx;
  }
  attention_->Backward(d_heads_.data(), grads);
  // The first projection overwrites dx unless the plugin wrote into it.
  BackwardProjections(nullptr, rows, needs_layer_input_, d_merged, dx);
}

void AttentionMixer::BackwardProjections(const PackedRows* packed, int64_t rows,
                                         bool accumulate, float* d_merged,
                                         float* dx) {
  const int H = heads_, Dh = head_dim_;
  const RowCount kind = packed ? RowCount::kVarying : RowCount::kFixed;
  struct Branch {
    float* d_heads;
    Linear* linear;
    Tensor* w;
    Tensor* dw;
    Tensor* db;
  };
  const Branch branches[] = {
      {dq_.data(), &q_, &w_.wq, &g_.wq, &g_.bq},
      {shared_qk_ ? nullptr : dk_.data(), &k_, &w_.wk, &g_.wk, &g_.bk},
      {dv_.data(), &v_, &w_.wv, &g_.wv, &g_.bv}};
  for (const Branch& b : branches) {
    if (b.d_heads == nullptr) continue;
    if (packed != nullptr) {
      MergeHeadsPacked(b.d_heads, *packed, H, Dh, d_merged);
    } else {
      MergeHeads(b.d_heads, seqs_, shape_.seq_len, H, Dh, d_merged);
    }
    b.linear->BackwardParams(x_, d_merged, b.dw->data(), b.db->data(), rows,
                             kind);
    b.linear->BackwardInput(d_merged, b.w->data(), dx, rows, accumulate, kind);
    accumulate = true;
  }
}

void AttentionMixer::ForwardPacked(const float* x, const MixerStep& step,
                                   const PackedRows& rows, float* y) {
  const int H = heads_, Dh = head_dim_;
  const int64_t R = rows.rows;
  constexpr RowCount kRows = RowCount::kVarying;
  x_ = x;
  seqs_ = step.seqs;
  packed_ = rows;
  float* qkv = qkv_.data();  // [R, Q]
  q_.Forward(x, w_.wq.data(), w_.bq.data(), qkv, R, kRows);
  SplitHeadsPacked(qkv, rows, H, Dh, qh_.data());
  if (!shared_qk_) {
    k_.Forward(x, w_.wk.data(), w_.bk.data(), qkv, R, kRows);
    SplitHeadsPacked(qkv, rows, H, Dh, kh_.data());
  }
  v_.Forward(x, w_.wv.data(), w_.bv.data(), qkv, R, kRows);
  SplitHeadsPacked(qkv, rows, H, Dh, vh_.data());
  AttentionInputs in;
  in.q = qh_.data();
  in.k = shared_qk_ ? qh_.data() : kh_.data();
  in.v = vh_.data();
  in.key_mask = step.key_mask;
  in.batch = step.seqs;
  in.training = step.training;
  in.seed = step.seed;
  if (needs_layer_input_) {
    ScatterRows(x, rows, shape_.d_model, x_padded_.data());
    in.x = x_padded_.data();
  }
  attention_->Forward(in, heads_out_.data());
  // Outputs at padded positions are dropped here.
  MergeHeadsPacked(heads_out_.data(), rows, H, Dh, merged_.data());
  o_.Forward(merged_.data(), w_.wo.data(), w_.bo.data(), y, R, kRows);
}

void AttentionMixer::BackwardPacked(const float* dy, float* dx) {
  const int H = heads_, Dh = head_dim_;
  const PackedRows& rows = packed_;
  const int64_t R = rows.rows;
  constexpr RowCount kRows = RowCount::kVarying;
  float* d_merged = d_merged_.data();  // [R, Q]
  o_.BackwardParams(merged_.data(), dy, g_.wo.data(), g_.bo.data(), R, kRows);
  o_.BackwardInput(dy, w_.wo.data(), d_merged, R, false, kRows);
  // Zero upstream gradient at padded positions.
  SplitHeadsPacked(d_merged, rows, H, Dh, d_heads_.data());
  AttentionGradients grads;
  grads.dq = dq_.data();
  grads.dk = shared_qk_ ? nullptr : dk_.data();
  grads.dv = dv_.data();
  float* dx_padded = needs_layer_input_ ? dx_padded_.data() : nullptr;
  if (needs_layer_input_) {
    std::memset(dx_padded, 0,
                sizeof(float) * static_cast<int64_t>(seqs_) * shape_.seq_len *
                    shape_.d_model);
    grads.dx = dx_padded;
  }
  attention_->Backward(d_heads_.data(), grads);
  bool accumulate = false;
  if (needs_layer_input_) {
    GatherRows(dx_padded, rows, shape_.d_model, dx);
    accumulate = true;
  }
  // dx += dq Wq^T + dk Wk^T + dv Wv^T on the real rows.
  BackwardProjections(&rows, R, accumulate, d_merged, dx);
}

}  // namespace lra
