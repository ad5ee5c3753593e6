// A small token mixer for tests of the block and the encoder: it has
// parameters and lets positions interact without an attention plugin.
#ifndef LRA_MODELS_INTERNAL_MEAN_MIXER_H_
#define LRA_MODELS_INTERNAL_MEAN_MIXER_H_

#include <memory>
#include <vector>

#include "models/mixer.h"
#include "models/rng.h"
#include "models/tensor.h"

namespace lra::internal {

// A small mixer with parameters that lets positions interact, so the block's
// wiring can be checked without an attention plugin:
//   y[b, t] = x[b, t] * scale + (mean of x[b, u] over real u) * mix.
class MeanMixer final : public TokenMixer {
 public:
  explicit MeanMixer(const MixerShape& shape)
      : shape_(shape),
        scale_({shape.d_model}),
        mix_({shape.d_model}),
        d_scale_({shape.d_model}),
        d_mix_({shape.d_model}),
        mean_({static_cast<int64_t>(shape.max_seqs), shape.d_model}) {}

  void Forward(const float* x, const MixerStep& step, float* y) override {
    x_ = x;
    step_ = step;
    const int N = shape_.seq_len, D = shape_.d_model;
    for (int b = 0; b < step.seqs; ++b) {
      float* mean = mean_.data() + b * D;
      int count = 0;
      for (int d = 0; d < D; ++d) mean[d] = 0.0f;
      for (int t = 0; t < N; ++t) {
        if (!step.key_mask[b * N + t]) continue;
        ++count;
        for (int d = 0; d < D; ++d) mean[d] += x[(b * N + t) * D + d];
      }
      for (int d = 0; d < D; ++d) mean[d] /= count > 0 ? count : 1;
      for (int t = 0; t < N; ++t) {
        for (int d = 0; d < D; ++d) {
          y[(b * N + t) * D + d] =
              x[(b * N + t) * D + d] * scale_[d] + mean[d] * mix_[d];
        }
      }
    }
  }

  void Backward(const float* dy, float* dx) override {
    const int N = shape_.seq_len, D = shape_.d_model;
    for (int b = 0; b < step_.seqs; ++b) {
      int count = 0;
      for (int t = 0; t < N; ++t) count += step_.key_mask[b * N + t];
      std::vector<float> dmean(D, 0.0f);
      for (int t = 0; t < N; ++t) {
        for (int d = 0; d < D; ++d) {
          const int64_t i = (b * N + t) * D + d;
          d_scale_[d] += dy[i] * x_[i];
          d_mix_[d] += dy[i] * mean_[b * D + d];
          dmean[d] += dy[i] * mix_[d];
          dx[i] = dy[i] * scale_[d];
        }
      }
      for (int t = 0; t < N; ++t) {
        if (!step_.key_mask[b * N + t]) continue;
        for (int d = 0; d < D; ++d) {
          dx[(b * N + t) * D + d] += dmean[d] / (count > 0 ? count : 1);
        }
      }
    }
  }

  void ForEachWeight(const WeightVisitor& fn) override {
    fn("scale", scale_, d_scale_, {Init::kByOwner});
    fn("mix", mix_, d_mix_, {Init::kByOwner});
  }
  const char* name_prefix() const override { return "mean"; }
  void InitParameters(uint64_t seed) override {
    for (int d = 0; d < shape_.d_model; ++d) {
      scale_[d] = 0.5f + UniformFloat(seed, d);
      mix_[d] = UniformFloat(seed, shape_.d_model + d) - 0.5f;
    }
  }

  // A registry entry for it, named "mean", for encoder tests.
  static MixerPlugin Plugin() {
    MixerPlugin plugin;
    plugin.name = "mean";
    plugin.description = "test-only: x * scale + mean(x) * mix";
    plugin.capabilities.key_padding_mask = true;
    plugin.capabilities.complexity = "O(N)";
    plugin.factory =
        [](const PluginParams&, const MixerShape& shape,
           const ModelConfig&) -> absl::StatusOr<std::unique_ptr<TokenMixer>> {
      auto mixer = std::make_unique<MeanMixer>(shape);
      return std::unique_ptr<TokenMixer>(std::move(mixer));
    };
    return plugin;
  }

 private:
  MixerShape shape_;
  Tensor scale_, mix_, d_scale_, d_mix_;
  Tensor mean_;  // [B', D]
  const float* x_ = nullptr;
  MixerStep step_;
};

}  // namespace lra::internal

#endif  // LRA_MODELS_INTERNAL_MEAN_MIXER_H_
