// A token mixer with one deliberate defect per mode, to prove that each
// conformance check can fail. Its sound form is
//   y[b, t, d] = w[d] x[b, t, d] + v[d] sum over real u of x[b, u, d].
#ifndef LRA_MODELS_MIXERS_CONFORMANCE_BROKEN_MIXER_H_
#define LRA_MODELS_MIXERS_CONFORMANCE_BROKEN_MIXER_H_

#include <cstdint>
#include <vector>

#include "models/mixer.h"
#include "models/rng.h"
#include "models/tensor.h"

namespace lra::conformance {

enum class Defect {
  kNone,
  kWrongInputGradient,      // dx scaled by 1.2
  kWrongParameterGradient,  // dv scaled by 1.2
  kLeaksPadding,            // the sum runs over padded positions too
  kNondeterministic,        // output drifts with the number of calls
  kBatchCoupled,            // every sequence reads the first one's CLS
};

class BrokenMixer final : public TokenMixer {
 public:
  BrokenMixer(const MixerShape& shape, Defect defect)
      : shape_(shape),
        defect_(defect),
        w_({shape.d_model}),
        v_({shape.d_model}),
        dw_({shape.d_model}),
        dv_({shape.d_model}),
        sum_({shape.max_seqs, shape.d_model}) {}

  void Forward(const float* x, const MixerStep& step, float* y) override {
    const int N = shape_.seq_len, D = shape_.d_model;
    x_ = x;
    seqs_ = step.seqs;
    mask_.assign(step.key_mask, step.key_mask + step.seqs * N);
    ++calls_;
    for (int b = 0; b < seqs_; ++b) {
      for (int d = 0; d < D; ++d) {
        float s = 0.0f;
        for (int t = 0; t < N; ++t) {
          if (Counts(b, t)) s += x[(b * N + t) * D + d];
        }
        sum_[b * D + d] = s;
      }
      for (int t = 0; t < N; ++t) {
        for (int d = 0; d < D; ++d) {
          const int i = (b * N + t) * D + d;
          y[i] = w_[d] * x[i] + v_[d] * sum_[b * D + d];
          if (defect_ == Defect::kNondeterministic) y[i] += 1e-3f * calls_;
          if (defect_ == Defect::kBatchCoupled) y[i] += 0.5f * x[d];
        }
      }
    }
  }

  void Backward(const float* dy, float* dx) override {
    const int N = shape_.seq_len, D = shape_.d_model;
    for (int i = 0; i < seqs_ * N * D; ++i) dx[i] = 0.0f;
    for (int b = 0; b < seqs_; ++b) {
      for (int d = 0; d < D; ++d) {
        float dsum = 0.0f;
        for (int t = 0; t < N; ++t) {
          const int i = (b * N + t) * D + d;
          dw_[d] += dy[i] * x_[i];
          const float dv = dy[i] * sum_[b * D + d];
          dv_[d] += defect_ == Defect::kWrongParameterGradient ? 1.2f * dv : dv;
          dx[i] += dy[i] * w_[d];
          dsum += dy[i] * v_[d];
          if (defect_ == Defect::kBatchCoupled) dx[d] += 0.5f * dy[i];
        }
        for (int t = 0; t < N; ++t) {
          if (Counts(b, t)) dx[(b * N + t) * D + d] += dsum;
        }
      }
    }
    if (defect_ == Defect::kWrongInputGradient) {
      for (int i = 0; i < seqs_ * N * D; ++i) dx[i] *= 1.2f;
    }
  }

  void ForEachWeight(const WeightVisitor& fn) override {
    fn("w", w_, dw_, {Init::kByOwner});
    fn("v", v_, dv_, {Init::kByOwner});
  }
  void InitParameters(uint64_t seed) override {
    for (int d = 0; d < shape_.d_model; ++d) {
      w_[d] = 0.5f + UniformFloat(seed, d);
      v_[d] = UniformFloat(seed, shape_.d_model + d) - 0.5f;
    }
  }
  const char* name_prefix() const override { return "broken"; }

 private:
  bool Counts(int b, int t) const {
    return defect_ == Defect::kLeaksPadding || mask_[b * shape_.seq_len + t];
  }

  MixerShape shape_;
  Defect defect_;
  Tensor w_, v_, dw_, dv_;
  Tensor sum_;  // [B', D]
  const float* x_ = nullptr;
  int seqs_ = 0;
  int calls_ = 0;
  std::vector<uint8_t> mask_;
};

}  // namespace lra::conformance

#endif  // LRA_MODELS_MIXERS_CONFORMANCE_BROKEN_MIXER_H_
