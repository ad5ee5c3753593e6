// AdamW with decoupled weight decay, global-norm clipping, and LRA's learning
// rate schedules.
#ifndef LRA_OPTIMIZER_H_
#define LRA_OPTIMIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "models/encoder.h"
#include "models/tensor.h"
#include "proto/config.pb.h"

namespace lra {

// Learning rate at 1-based step `step`:
//   CONSTANT: lr * min(1, step / warmup)
//   RSQRT:    lr * min(1, step / warmup) / sqrt(max(step, warmup))
//             (LRA's "constant * linear_warmup * rsqrt_decay")
//   COSINE:   linear warmup, then lr * 0.5 * (1 + cos(pi * progress)) with
//             progress from 0 after warmup to 1 at the last step.
double LearningRate(const TrainConfig& train, int64_t step);

// AdamW over an Encoder's parameters. Its state (first and second moments)
// lives beside the parameters, in the same fixed visiting order, so that
// checkpoints can store it by name.
class AdamW {
 public:
  AdamW(const TrainConfig& train, Encoder* encoder);

  // Clips gradients to `grad_clip` global norm (if set), then updates every
  // parameter at 1-based `step` with learning rate `lr` times the
  // parameter's declared WeightSpec::lr_scale, with decoupled weight decay
  // only where its WeightSpec::weight_decay allows (parameter groups come
  // from what each layer or plugin declares, never from names). Returns the
  // gradient norm before clipping. No heap allocation.
  double Step(int64_t step, double lr);

  // Visits every moment tensor: "<param>.m" and "<param>.v".
  void ForEachState(
      const std::function<void(const std::string& name, Tensor& value)>& fn);

 private:
  struct Slot {
    std::string name;
    Tensor* value;
    Tensor* grad;
    Tensor m;
    Tensor v;
    float lr_scale = 1.0f;
    bool weight_decay = true;
  };
  TrainConfig train_;
  std::vector<Slot> slots_;
};

}  // namespace lra

#endif  // LRA_OPTIMIZER_H_
