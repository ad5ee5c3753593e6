#include "lra/optimizer.h"

#include <algorithm>
#include <cmath>

namespace lra {

double LearningRate(const TrainConfig& train, int64_t step) {
  const double base = train.learning_rate();
  const double warmup = train.warmup_steps();
  const double s = static_cast<double>(std::max<int64_t>(step, 1));
  const double ramp = warmup > 0 ? std::min(1.0, s / warmup) : 1.0;
  switch (train.schedule()) {
    case SCHEDULE_RSQRT:
      return base * ramp / std::sqrt(std::max(s, std::max(warmup, 1.0)));
    case SCHEDULE_COSINE: {
      if (s < warmup) return base * ramp;
      const double span = std::max(1.0, train.steps() - warmup);
      const double progress = std::min(1.0, (s - warmup) / span);
      return base * 0.5 * (1.0 + std::cos(M_PI * progress));
    }
    case SCHEDULE_CONSTANT:
    default:
      return base * ramp;
  }
}

AdamW::AdamW(const TrainConfig& train, Encoder* encoder) : train_(train) {
  encoder->ForEachTrainable([this](const std::string& name, Tensor& value,
                                   Tensor& grad, const WeightSpec& spec) {
    Slot slot;
    slot.lr_scale = spec.lr_scale;
    slot.weight_decay = spec.weight_decay;
    slot.name = name;
    slot.value = &value;
    slot.grad = &grad;
    slot.m = Tensor(value.shape());
    slot.v = Tensor(value.shape());
    slots_.push_back(std::move(slot));
  });
}

double AdamW::Step(int64_t step, double lr) {
  double norm_sq = 0;
  for (Slot& slot : slots_) {
    const float* g = slot.grad->data();
    const int64_t n = slot.grad->size();
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(g[i]) * g[i];
    norm_sq += sum;
  }
  const double norm = std::sqrt(norm_sq);
  float scale = 1.0f;
  if (train_.grad_clip() > 0 && norm > train_.grad_clip()) {
    scale = static_cast<float>(train_.grad_clip() / norm);
  }
  const float b1 = train_.beta1();
  const float b2 = train_.beta2();
  const float eps = train_.eps();
  const float correction1 = 1.0f - std::pow(b1, static_cast<double>(step));
  const float correction2 = 1.0f - std::pow(b2, static_cast<double>(step));
  const float inv_sqrt_c2 = 1.0f / std::sqrt(correction2);
  for (Slot& slot : slots_) {
    const double slot_lr = lr * slot.lr_scale;
    const float step_size = static_cast<float>(slot_lr) / correction1;
    const float decay =
        slot.weight_decay ? static_cast<float>(slot_lr) * train_.weight_decay()
                          : 0.0f;
    float* p = slot.value->data();
    const float* g = slot.grad->data();
    float* m = slot.m.data();
    float* v = slot.v.data();
    const int64_t n = slot.value->size();
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g[i] * scale;
      m[i] = b1 * m[i] + (1.0f - b1) * gi;
      v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
      // Decoupled decay (Loshchilov & Hutter), as Flax's Adam in LRA.
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_c2 + eps) +
              decay * p[i];
    }
  }
  return norm;
}

void AdamW::ForEachState(
    const std::function<void(const std::string& name, Tensor& value)>& fn) {
  for (Slot& slot : slots_) {
    fn(slot.name + ".m", slot.m);
    fn(slot.name + ".v", slot.v);
  }
}

}  // namespace lra
