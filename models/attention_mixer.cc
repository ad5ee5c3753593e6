#include "models/attention_mixer.h"

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
  attention_shape.seed = DeriveSeed(0x5EED, shape.layer_index);
  attention_shape.cls_token = shape.cls_token;
  absl::StatusOr<std::unique_ptr<Attention>> attention =
      registry.Create(config.attention(), attention_shape);
  if (!attention.ok()) {
    return absl::Status(
        attention.status().code(),
        absl::StrCat("model '", config.name(), "' layer ", shape.layer_index,
                     ": ", attention.status().message()));
  }
  return std::unique_ptr<AttentionMixer>(
      new AttentionMixer(shape, config.num_heads(), config.qkv_dim(),
                         *std::move(attention), scratch));
}

AttentionMixer::AttentionMixer(const MixerShape& shape, int heads, int qkv,
                               std::unique_ptr<Attention> attention,
                               ScratchBuffers* scratch)
    : shape_(shape),
      heads_(heads),
      head_dim_(qkv / heads),
      qkv_dim_(qkv),
      w_(shape.d_model, qkv),
      g_(shape.d_model, qkv),
      q_(shape.d_model, qkv),
      k_(shape.d_model, qkv),
      v_(shape.d_model, qkv),
      o_(qkv, shape.d_model),
      attention_(std::move(attention)) {
  const int64_t B = shape.max_seqs, N = shape.seq_len, H = heads,
                Dh = head_dim_, Q = qkv;
  qh_ = Tensor({B, H, N, Dh});
  kh_ = Tensor({B, H, N, Dh});
  vh_ = Tensor({B, H, N, Dh});
  heads_out_ = Tensor({B, H, N, Dh});
  merged_ = Tensor({B, N, Q});
  qkv_ = scratch->Reserve("attention.qkv", B * N * Q);
  d_merged_ = scratch->Reserve("attention.d_merged", B * N * Q);
  d_heads_ = scratch->Reserve("attention.d_heads", B * H * N * Dh);
  dq_ = scratch->Reserve("attention.dq", B * H * N * Dh);
  dk_ = scratch->Reserve("attention.dk", B * H * N * Dh);
  dv_ = scratch->Reserve("attention.dv", B * H * N * Dh);
}

void AttentionMixer::ForEachWeight(const WeightVisitor& fn) {
  fn("wq", w_.wq, g_.wq, Init::kXavier);
  fn("bq", w_.bq, g_.bq, Init::kZero);
  fn("wk", w_.wk, g_.wk, Init::kXavier);
  fn("bk", w_.bk, g_.bk, Init::kZero);
  fn("wv", w_.wv, g_.wv, Init::kXavier);
  fn("bv", w_.bv, g_.bv, Init::kZero);
  fn("wo", w_.wo, g_.wo, Init::kXavier);
  fn("bo", w_.bo, g_.bo, Init::kZero);
  attention_->ForEachParameter(
      [&](const std::string& name, Tensor& value, Tensor& grad) {
        fn(name, value, grad, Init::kByOwner);
      });
}

void AttentionMixer::InitParameters(uint64_t seed) {
  attention_->InitParameters(seed);
}

void AttentionMixer::Forward(const float* x, const MixerStep& step, float* y) {
  const int seqs = step.seqs, N = shape_.seq_len, H = heads_, Dh = head_dim_;
  const int64_t rows = static_cast<int64_t>(seqs) * N;
  x_ = x;
  seqs_ = seqs;
  float* qkv = qkv_.data();
  q_.Forward(x, w_.wq.data(), w_.bq.data(), qkv, rows);
  SplitHeads(qkv, seqs, N, H, Dh, qh_.data());
  k_.Forward(x, w_.wk.data(), w_.bk.data(), qkv, rows);
  SplitHeads(qkv, seqs, N, H, Dh, kh_.data());
  v_.Forward(x, w_.wv.data(), w_.bv.data(), qkv, rows);
  SplitHeads(qkv, seqs, N, H, Dh, vh_.data());
  attention_->Forward(qh_.data(), kh_.data(), vh_.data(), step.key_mask, seqs,
                      step.training, step.seed, heads_out_.data());
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
  attention_->Backward(d_heads_.data(), dq_.data(), dk_.data(), dv_.data());
  // dx = dq Wq^T + dk Wk^T + dv Wv^T: the first overwrites, the others add.
  struct Branch {
    float* d_heads;
    Linear* linear;
    Tensor* w;
    Tensor* dw;
    Tensor* db;
  };
  const Branch branches[] = {{dq_.data(), &q_, &w_.wq, &g_.wq, &g_.bq},
                             {dk_.data(), &k_, &w_.wk, &g_.wk, &g_.bk},
                             {dv_.data(), &v_, &w_.wv, &g_.wv, &g_.bv}};
  bool accumulate = false;
  for (const Branch& b : branches) {
    MergeHeads(b.d_heads, seqs, N, H, Dh, d_merged);
    b.linear->BackwardParams(x_, d_merged, b.dw->data(), b.db->data(), rows);
    b.linear->BackwardInput(d_merged, b.w->data(), dx, rows, accumulate);
    accumulate = true;
  }
}

}  // namespace lra
