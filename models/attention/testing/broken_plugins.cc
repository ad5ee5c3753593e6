#include "models/attention/testing/broken_plugins.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "models/attention/example/window_attention.h"
#include "models/attention/full/full_attention.h"
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
