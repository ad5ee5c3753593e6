#include "models/block.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "models/layers.h"
#include "models/rng.h"

namespace lra {

uint64_t DropoutSiteSeed(uint64_t seed, int layer, DropoutSite site) {
  return DeriveSeed(seed, static_cast<uint64_t>(layer + 1) * 16 + site);
}

Block::Block(const BlockShape& shape, std::unique_ptr<TokenMixer> mixer,
             ScratchBuffers* scratch)
    : shape_(shape),
      w_(shape.d_model, shape.mlp_dim),
      g_(shape.d_model, shape.mlp_dim),
      mixer_(std::move(mixer)),
      packed_mixer_(dynamic_cast<PackedRowsMixer*>(mixer_.get())),
      fc1_(shape.d_model, shape.mlp_dim),
      fc2_(shape.mlp_dim, shape.d_model) {
  const int64_t D = shape.d_model, M = shape.mlp_dim;
  // B' N padded rows, or up to that many packed rows rounded up.
  const int64_t R =
      PackedCapacity(static_cast<int64_t>(shape.max_seqs) * shape.seq_len);
  ln1_ = Tensor({R, D});
  ln1_mean_ = Tensor({R});
  ln1_rstd_ = Tensor({R});
  x_mid_ = Tensor({R, D});
  ln2_ = Tensor({R, D});
  ln2_mean_ = Tensor({R});
  ln2_rstd_ = Tensor({R});
  mlp_pre_ = Tensor({R, M});
  mlp_act_ = Tensor({R, M});
  if (shape.dropout > 0.0f) {
    mixer_out_mask_.resize(R * D);
    mlp_act_mask_.resize(R * M);
    mlp_out_mask_.resize(R * D);
  }
  branch_ = scratch->Reserve("block.branch", R * D);
  d_normed_ = scratch->Reserve("block.d_normed", R * D);
  d_mlp_ = scratch->Reserve("block.d_mlp", R * M);
}

void Block::ForEachWeight(const WeightVisitor& fn) {
  const std::string p = absl::StrCat("layer", shape_.index, ".");
  ::lra::ForEachWeight(w_.ln1, g_.ln1, p + "ln1.", fn);
  const std::string mixer_prefix = absl::StrCat(p, mixer_->name_prefix(), ".");
  mixer_->ForEachWeight([&](const std::string& name, Tensor& value,
                            Tensor& grad, const WeightSpec& spec) {
    fn(mixer_prefix + name, value, grad, spec);
  });
  ::lra::ForEachWeight(w_.ln2, g_.ln2, p + "ln2.", fn);
  ::lra::ForEachWeight(w_.mlp, g_.mlp, p + "mlp.", fn);
}

void Block::Forward(const float* x_in, const BlockStep& step, float* x_out) {
  const int li = shape_.index, D = shape_.d_model, M = shape_.mlp_dim;
  const PackedRows* packed = step.packed;
  const int64_t rows = packed != nullptr
                           ? packed->rows
                           : static_cast<int64_t>(step.seqs) * shape_.seq_len;
  const RowCount row_count =
      packed != nullptr ? RowCount::kVarying : RowCount::kFixed;
  const float p = shape_.dropout;
  x_in_ = x_in;
  seqs_ = step.seqs;
  rows_ = rows;
  packed_ = packed != nullptr;
  dropout_active_ = step.training && p > 0.0f;
  float* branch = branch_.data();
  // Dropout masks: per element of the padded layout, whichever layout runs.
  auto dropout_mask = [&](DropoutSite site, int width, uint8_t* mask) {
    const uint64_t seed = DropoutSiteSeed(step.dropout_seed, li, site);
    if (packed != nullptr) {
      DropoutMaskPacked(seed, p, *packed, width, mask);
    } else {
      DropoutMask(seed, p, rows * width, mask);
    }
  };

  // Mixer branch: x_mid = x + dropout(mixer(LN1(x))).
  LayerNormForward(x_in, w_.ln1.gamma.data(), w_.ln1.beta.data(), rows, D,
                   ln1_.data(), ln1_mean_.data(), ln1_rstd_.data());
  MixerStep mixer_step;
  mixer_step.seqs = step.seqs;
  mixer_step.key_mask = step.key_mask;
  mixer_step.training = step.training;
  mixer_step.seed = DropoutSiteSeed(step.dropout_seed, li, kSiteMixer);
  if (packed != nullptr) {
    packed_mixer_->ForwardPacked(ln1_.data(), mixer_step, *packed, branch);
  } else {
    mixer_->Forward(ln1_.data(), mixer_step, branch);
  }
  if (dropout_active_) {
    dropout_mask(kSiteMixerOut, D, mixer_out_mask_.data());
    DropoutApply(branch, mixer_out_mask_.data(), p, rows * D, branch);
  }
  std::memcpy(x_mid_.data(), x_in, sizeof(float) * rows * D);
  AddInPlace(branch, rows * D, x_mid_.data());

  // MLP branch: x_out = x_mid + dropout(dropout(GELU(LN2(x_mid) W1 + b1)) W2
  // + b2).
  LayerNormForward(x_mid_.data(), w_.ln2.gamma.data(), w_.ln2.beta.data(), rows,
                   D, ln2_.data(), ln2_mean_.data(), ln2_rstd_.data());
  fc1_.Forward(ln2_.data(), w_.mlp.w1.data(), w_.mlp.b1.data(), mlp_pre_.data(),
               rows, row_count);
  GeluForward(mlp_pre_.data(), rows * M, mlp_act_.data());
  if (dropout_active_) {
    dropout_mask(kSiteMlpAct, M, mlp_act_mask_.data());
    DropoutApply(mlp_act_.data(), mlp_act_mask_.data(), p, rows * M,
                 mlp_act_.data());
  }
  fc2_.Forward(mlp_act_.data(), w_.mlp.w2.data(), w_.mlp.b2.data(), branch,
               rows, row_count);
  if (dropout_active_) {
    dropout_mask(kSiteMlpOut, D, mlp_out_mask_.data());
    DropoutApply(branch, mlp_out_mask_.data(), p, rows * D, branch);
  }
  std::memcpy(x_out, x_mid_.data(), sizeof(float) * rows * D);
  AddInPlace(branch, rows * D, x_out);
}

void Block::Backward(float* dx) {
  const int D = shape_.d_model, M = shape_.mlp_dim;
  const int64_t rows = rows_;
  const RowCount row_count = packed_ ? RowCount::kVarying : RowCount::kFixed;
  const float p = shape_.dropout;
  float* branch = branch_.data();
  float* d_normed = d_normed_.data();
  float* d_mlp = d_mlp_.data();

  // MLP branch. The residual passes dx through unchanged; the branch adds its
  // LN2 input gradient into dx.
  const float* d_branch = dx;
  if (dropout_active_) {
    DropoutApply(dx, mlp_out_mask_.data(), p, rows * D, branch);
    d_branch = branch;
  }
  fc2_.BackwardParams(mlp_act_.data(), d_branch, g_.mlp.w2.data(),
                      g_.mlp.b2.data(), rows, row_count);
  fc2_.BackwardInput(d_branch, w_.mlp.w2.data(), d_mlp, rows, false, row_count);
  if (dropout_active_) {
    DropoutApply(d_mlp, mlp_act_mask_.data(), p, rows * M, d_mlp);
  }
  GeluBackward(mlp_pre_.data(), d_mlp, rows * M, d_mlp);
  fc1_.BackwardParams(ln2_.data(), d_mlp, g_.mlp.w1.data(), g_.mlp.b1.data(),
                      rows, row_count);
  fc1_.BackwardInput(d_mlp, w_.mlp.w1.data(), d_normed, rows, false, row_count);
  LayerNormBackward(d_normed, x_mid_.data(), ln2_mean_.data(), ln2_rstd_.data(),
                    w_.ln2.gamma.data(), rows, D, dx, g_.ln2.gamma.data(),
                    g_.ln2.beta.data());

  // Mixer branch.
  d_branch = dx;
  if (dropout_active_) {
    DropoutApply(dx, mixer_out_mask_.data(), p, rows * D, branch);
    d_branch = branch;
  }
  if (packed_) {
    packed_mixer_->BackwardPacked(d_branch, d_normed);
  } else {
    mixer_->Backward(d_branch, d_normed);
  }
  LayerNormBackward(d_normed, x_in_, ln1_mean_.data(), ln1_rstd_.data(),
                    w_.ln1.gamma.data(), rows, D, dx, g_.ln1.gamma.data(),
                    g_.ln1.beta.data());
}

}  // namespace lra
