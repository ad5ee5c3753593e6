#include "models/attention/testing/broken_plugins.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "models/attention/example/window_attention.h"
#include "models/attention/full/full_attention.h"
#include "models/rng.h"
#include "models/tensor.h"
#include "util/status_macros.h"

namespace lra {
namespace {

// Wraps a good instance and misbehaves as `breakage` says.
class BrokenAttention : public Attention {
 public:
  BrokenAttention(std::unique_ptr<Attention> inner, const AttentionShape& shape,
                  Breakage breakage)
      : inner_(std::move(inner)),
        shape_(shape),
        breakage_(breakage),
        scaled_dout_(MakeBuffer(PerExample() * shape.max_batch)) {}

  void Forward(const AttentionInputs& given, float* out) override {
    AttentionInputs in = given;
    if (breakage_ == Breakage::kReadsPaddedKeys) in.key_mask = nullptr;
    if (breakage_ == Breakage::kNondeterministic) {
      // Like seeding from the clock: each call gets a different mask.
      static std::atomic<uint64_t> calls{0};
      in.seed += 1 + calls.fetch_add(1);
    }
    inner_->Forward(in, out);
    const int batch = in.batch;
    const bool training = in.training;
    const float* v = in.v;
    batch_ = batch;
    training_ = training;
    const int64_t per = PerExample();
    switch (breakage_) {
      case Breakage::kLeaksAcrossBatch:
        // out[b] += 0.05 v[b + 1]: a stride bug that reads the next example.
        for (int b = 0; b + 1 < batch; ++b) {
          for (int64_t e = 0; e < per; ++e) {
            out[b * per + e] += 0.05f * v[(b + 1) * per + e];
          }
        }
        break;
      case Breakage::kWritesPastBatch:
        std::fill(out + batch * per, out + shape_.max_batch * per, 0.0f);
        break;
      case Breakage::kTrainingDiffers:
        if (training) {
          for (int64_t e = 0; e < batch * per; ++e) out[e] *= 1.01f;
        }
        break;
      default:
        break;
    }
  }

  void Backward(const float* dout, const AttentionGradients& grads) override {
    float* dq = grads.dq;
    const int64_t per = PerExample();
    const int64_t used = batch_ * per;
    if (breakage_ == Breakage::kTrainingDiffers && training_) {
      // Consistent with the forward, so only the training/eval check fails.
      for (int64_t e = 0; e < used; ++e) scaled_dout_[e] = 1.01f * dout[e];
      dout = scaled_dout_.data();
    }
    std::vector<std::vector<float>> before;
    if (breakage_ == Breakage::kParameterGradientOff) {
      inner_->ForEachParameter([&](const std::string&, Tensor&, Tensor& grad) {
        before.emplace_back(grad.data(), grad.data() + grad.size());
      });
    }
    inner_->Backward(dout, grads);
    switch (breakage_) {
      case Breakage::kBackwardOffByFactor:
        for (int64_t e = 0; e < used; ++e) dq[e] *= 1.25f;
        break;
      case Breakage::kParameterGradientOff: {
        // Adds twice what the inner Backward added.
        size_t p = 0;
        inner_->ForEachParameter(
            [&](const std::string&, Tensor&, Tensor& grad) {
              for (int64_t e = 0; e < grad.size(); ++e) {
                grad[e] += grad[e] - before[p][e];
              }
              ++p;
            });
        break;
      }
      case Breakage::kLeaksAcrossBatch:
        // The true gradient of the leak, so the gradient check passes.
        for (int b = 0; b + 1 < batch_; ++b) {
          for (int64_t e = 0; e < per; ++e) {
            grads.dv[(b + 1) * per + e] += 0.05f * dout[b * per + e];
          }
        }
        break;
      default:
        break;
    }
  }

  void ForEachParameter(const ParameterVisitor& fn) override {
    inner_->ForEachParameter(fn);
  }
  void InitParameters(uint64_t seed) override { inner_->InitParameters(seed); }
  void SetStep(int64_t step) override { inner_->SetStep(step); }
  void FreezeStructure(bool frozen) override {
    inner_->FreezeStructure(frozen);
  }

 private:
  int64_t PerExample() const {
    return int64_t(shape_.num_heads) * shape_.seq_len * shape_.head_dim;
  }

  std::unique_ptr<Attention> inner_;
  AttentionShape shape_;
  Breakage breakage_;
  int batch_ = 0;
  bool training_ = false;
  Tensor scaled_dout_;  // [maxB, H, N, Dh]
};

// A plugin that declares what `inner_name` declares (params, capabilities,
// tolerances, test cases) and wraps its instances.
AttentionPlugin Wrap(const std::string& name, const AttentionPlugin& inner,
                     Breakage breakage) {
  const std::string& inner_name = inner.name;
  AttentionPlugin plugin = inner;
  plugin.name = name;
  plugin.description =
      absl::StrCat("test-only: '", inner_name, "' broken on purpose");
  AttentionFactory inner_factory = inner.factory;
  plugin.factory = [inner_factory, breakage](const PluginParams& params,
                                             const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    AttentionShape inner_shape = shape;
    if (breakage == Breakage::kIgnoresDropout) {
      inner_shape.attention_dropout = 0.0f;
    }
    absl::StatusOr<std::unique_ptr<Attention>> made =
        inner_factory(params, inner_shape);
    if (!made.ok()) return made.status();
    return std::unique_ptr<Attention>(
        std::make_unique<BrokenAttention>(*std::move(made), shape, breakage));
  };
  return plugin;
}

// The contract-v2 inputs, each on "full" plus the smallest extra path that
// uses it, so that the suite's handling of them can be shown to pass and to
// fail.
enum class InputPath {
  // shared_qk: full attention with k == q; Backward folds dk into dq.
  kSharedQk,
  // needs_layer_input: out[b, h, i, c] += tanh(x[b, i, (h Dh + c) mod D]).
  kLayerInput,
  // length_dependent_parameters: out[b, h, i, :] *= 1 + gain[i], gain [N].
  kPositionGain,
};

class InputPathAttention : public Attention {
 public:
  InputPathAttention(std::unique_ptr<Attention> inner,
                     const AttentionShape& shape, InputPath path,
                     Breakage breakage)
      : inner_(std::move(inner)),
        shape_(shape),
        path_(path),
        breakage_(breakage),
        dk_(path == InputPath::kSharedQk ? MakeBuffer(Total()) : Tensor()),
        inner_out_(path == InputPath::kSharedQk ? Tensor()
                                                : MakeBuffer(Total())),
        scaled_dout_(path == InputPath::kPositionGain ? MakeBuffer(Total())
                                                      : Tensor()),
        gain_(path == InputPath::kPositionGain ? Tensor({shape.seq_len})
                                               : Tensor()),
        gain_grad_(path == InputPath::kPositionGain ? Tensor({shape.seq_len})
                                                    : Tensor()) {}

  void Forward(const AttentionInputs& in, float* out) override {
    AttentionInputs inner_in = in;
    inner_in.x = nullptr;
    if (path_ == InputPath::kSharedQk) inner_in.k = in.q;
    // The inner plugin may keep its output for Backward: it writes into a
    // buffer of ours, which the extra path then reads.
    float* inner_out = path_ == InputPath::kSharedQk ? out : inner_out_.data();
    inner_->Forward(inner_in, inner_out);
    if (inner_out != out) {
      std::copy_n(inner_out, in.batch * PerExample(), out);
    }
    batch_ = in.batch;
    x_ = in.x;
    const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
    if (path_ == InputPath::kLayerInput) {
      for (int b = 0; b < batch_; ++b) {
        for (int h = 0; h < H; ++h) {
          for (int i = 0; i < N; ++i) {
            for (int c = 0; c < Dh; ++c) {
              out[((int64_t(b) * H + h) * N + i) * Dh + c] +=
                  std::tanh(x_[XIndex(b, h, i, c)]);
            }
          }
        }
      }
    }
    if (path_ == InputPath::kPositionGain) {
      for (int64_t e = 0; e < batch_ * PerExample(); ++e) {
        out[e] *= 1.0f + gain_[(e / Dh) % N];
      }
    }
  }

  void Backward(const float* dout, const AttentionGradients& grads) override {
    const int H = shape_.num_heads, N = shape_.seq_len, Dh = shape_.head_dim;
    const int64_t used = batch_ * PerExample();
    switch (path_) {
      case InputPath::kSharedQk:
        inner_->Backward(dout, {grads.dq, dk_.data(), grads.dv, nullptr});
        if (breakage_ != Breakage::kSharedQkDropsKeyGradient) {
          for (int64_t e = 0; e < used; ++e) grads.dq[e] += dk_[e];
        }
        break;
      case InputPath::kLayerInput: {
        inner_->Backward(dout, {grads.dq, grads.dk, grads.dv, nullptr});
        if (breakage_ == Breakage::kLayerInputOverwritesGradient) {
          std::fill(grads.dx, grads.dx + int64_t(batch_) * N * shape_.d_model,
                    0.0f);
        }
        const float factor =
            breakage_ == Breakage::kLayerInputGradientOff ? 1.25f : 1.0f;
        for (int b = 0; b < batch_; ++b) {
          for (int h = 0; h < H; ++h) {
            for (int i = 0; i < N; ++i) {
              for (int c = 0; c < Dh; ++c) {
                const int64_t x = XIndex(b, h, i, c);
                const float t = std::tanh(x_[x]);
                grads.dx[x] += factor * (1.0f - t * t) *
                               dout[((int64_t(b) * H + h) * N + i) * Dh + c];
              }
            }
          }
        }
        break;
      }
      case InputPath::kPositionGain:
        for (int64_t e = 0; e < used; ++e) {
          const int i = (e / Dh) % N;
          scaled_dout_[e] = dout[e] * (1.0f + gain_[i]);
          gain_grad_[i] += dout[e] * inner_out_[e];
        }
        inner_->Backward(scaled_dout_.data(), grads);
        break;
    }
  }

  void ForEachParameter(const ParameterVisitor& fn) override {
    if (path_ == InputPath::kPositionGain) fn("gain", gain_, gain_grad_);
  }
  void InitParameters(uint64_t seed) override {
    for (int64_t i = 0; i < gain_.size(); ++i) {
      gain_[i] = 0.5f * (2.0f * UniformFloat(seed, i) - 1.0f);
    }
  }

 private:
  int64_t PerExample() const {
    return int64_t(shape_.num_heads) * shape_.seq_len * shape_.head_dim;
  }
  int64_t Total() const { return PerExample() * shape_.max_batch; }
  // The element of x [B, N, D] that output (b, h, i, c) reads: its own
  // position, or (the bug) the last one, which is padding in most examples.
  int64_t XIndex(int b, int h, int i, int c) const {
    const int source =
        breakage_ == Breakage::kLayerInputReadsPadding ? shape_.seq_len - 1 : i;
    const int column = (h * shape_.head_dim + c) % shape_.d_model;
    return (int64_t(b) * shape_.seq_len + source) * shape_.d_model + column;
  }

  std::unique_ptr<Attention> inner_;
  AttentionShape shape_;
  InputPath path_;
  Breakage breakage_;
  int batch_ = 0;
  const float* x_ = nullptr;  // [B, N, D], kept from Forward
  Tensor dk_;                 // [maxB, H, N, Dh] (kSharedQk)
  Tensor inner_out_;          // [maxB, H, N, Dh] (not kSharedQk)
  Tensor scaled_dout_;        // [maxB, H, N, Dh] (kPositionGain)
  Tensor gain_, gain_grad_;   // [N] (kPositionGain)
};

// "full" plus `path`, declaring the capability the path needs (unless the
// bug is not declaring it).
AttentionPlugin WithInputPath(const std::string& name, InputPath path,
                              Breakage breakage) {
  const AttentionPlugin full = FullAttentionPlugin();
  AttentionPlugin plugin = full;
  plugin.name = name;
  plugin.description =
      absl::StrCat("test-only: 'full' plus an input path of contract v2",
                   breakage == Breakage::kNone ? "" : ", broken on purpose");
  switch (path) {
    case InputPath::kSharedQk:
      plugin.capabilities.shared_qk = true;
      break;
    case InputPath::kLayerInput:
      plugin.capabilities.needs_layer_input = true;
      break;
    case InputPath::kPositionGain:
      plugin.capabilities.learnable = true;
      plugin.capabilities.length_dependent_parameters =
          breakage != Breakage::kUndeclaredLengthDependence;
      break;
  }
  AttentionFactory inner_factory = full.factory;
  plugin.factory = [inner_factory, path, breakage](const PluginParams& params,
                                                   const AttentionShape& shape)
      -> absl::StatusOr<std::unique_ptr<Attention>> {
    absl::StatusOr<std::unique_ptr<Attention>> made =
        inner_factory(params, shape);
    if (!made.ok()) return made.status();
    return std::unique_ptr<Attention>(std::make_unique<InputPathAttention>(
        *std::move(made), shape, path, breakage));
  };
  return plugin;
}

}  // namespace

std::vector<BrokenPlugin> BrokenPlugins() {
  std::vector<BrokenPlugin> all = {
      {Breakage::kNone, "",
       Wrap("broken_none", FullAttentionPlugin(), Breakage::kNone)},
      {Breakage::kBackwardOffByFactor, "Gradients",
       Wrap("broken_backward", FullAttentionPlugin(),
            Breakage::kBackwardOffByFactor)},
      {Breakage::kParameterGradientOff, "Gradients",
       Wrap("broken_parameter_gradient", WindowAttentionPlugin(),
            Breakage::kParameterGradientOff)},
      {Breakage::kReadsPaddedKeys, "PaddingInvariance",
       Wrap("broken_padding", FullAttentionPlugin(),
            Breakage::kReadsPaddedKeys)},
      {Breakage::kNondeterministic, "Determinism",
       Wrap("broken_determinism", FullAttentionPlugin(),
            Breakage::kNondeterministic)},
      {Breakage::kLeaksAcrossBatch, "BatchIndependence",
       Wrap("broken_batch", FullAttentionPlugin(),
            Breakage::kLeaksAcrossBatch)},
      {Breakage::kFalselyCausal, "Causality",
       Wrap("broken_causal", FullAttentionPlugin(), Breakage::kFalselyCausal)},
      {Breakage::kWritesPastBatch, "OutputShapes",
       Wrap("broken_shapes", FullAttentionPlugin(),
            Breakage::kWritesPastBatch)},
      {Breakage::kTrainingDiffers, "TrainingMatchesEval",
       Wrap("broken_training", FullAttentionPlugin(),
            Breakage::kTrainingDiffers)},
      {Breakage::kIgnoresDropout, "DropoutApplied",
       Wrap("broken_dropout", FullAttentionPlugin(),
            Breakage::kIgnoresDropout)},
      {Breakage::kLearnableWithoutParameters, "Parameters",
       Wrap("broken_learnable", FullAttentionPlugin(),
            Breakage::kLearnableWithoutParameters)},
      {Breakage::kFrozenButWrong, "Gradients",
       Wrap("broken_frozen_backward", FullAttentionPlugin(),
            Breakage::kBackwardOffByFactor)},
      {Breakage::kNone, "",
       WithInputPath("broken_none_shared_qk", InputPath::kSharedQk,
                     Breakage::kNone)},
      {Breakage::kNone, "",
       WithInputPath("broken_none_layer_input", InputPath::kLayerInput,
                     Breakage::kNone)},
      {Breakage::kNone, "",
       WithInputPath("broken_none_length", InputPath::kPositionGain,
                     Breakage::kNone)},
      {Breakage::kSharedQkDropsKeyGradient, "Gradients",
       WithInputPath("broken_shared_qk", InputPath::kSharedQk,
                     Breakage::kSharedQkDropsKeyGradient)},
      {Breakage::kLayerInputGradientOff, "Gradients",
       WithInputPath("broken_layer_input_gradient", InputPath::kLayerInput,
                     Breakage::kLayerInputGradientOff)},
      {Breakage::kLayerInputOverwritesGradient, "OutputShapes",
       WithInputPath("broken_layer_input_overwrites", InputPath::kLayerInput,
                     Breakage::kLayerInputOverwritesGradient)},
      {Breakage::kLayerInputReadsPadding, "PaddingInvariance",
       WithInputPath("broken_layer_input_padding", InputPath::kLayerInput,
                     Breakage::kLayerInputReadsPadding)},
      {Breakage::kUndeclaredLengthDependence, "Parameters",
       WithInputPath("broken_length", InputPath::kPositionGain,
                     Breakage::kUndeclaredLengthDependence)},
  };
  for (BrokenPlugin& broken : all) {
    if (broken.breakage == Breakage::kFalselyCausal) {
      // "full" looks at every key, yet this one claims a causal mode.
      broken.plugin.capabilities.causal = true;
      AttentionTestCase causal;
      causal.label = "claims causal";
      causal.causal = true;
      broken.plugin.test_cases = {causal};
    }
    if (broken.breakage == Breakage::kLearnableWithoutParameters) {
      broken.plugin.capabilities.learnable = true;
    }
    if (broken.breakage == Breakage::kFrozenButWrong) {
      // An exemption changes how a check runs, never whether a wrong
      // gradient is caught.
      broken.plugin.capabilities.exemptions.push_back(
          {"Gradients", AttentionExemption::Treatment::kFreezeStructure,
           "test-only: claims discrete structure"});
    }
  }
  return all;
}

absl::Status RegisterBrokenPlugins(AttentionRegistry& registry) {
  for (BrokenPlugin& broken : BrokenPlugins()) {
    RETURN_IF_ERROR(registry.Register(std::move(broken.plugin)));
  }
  return absl::OkStatus();
}

}  // namespace lra
