// How the model's parameters are held and visited. Every weight struct is
// used twice, llm.c style: one instance for the values and one of the same
// shape for the gradients, walked together by one visitor in a fixed order.
// That order drives initialisation, checkpoints, zeroing and the optimizer.
#ifndef LRA_MODELS_PARAMETERS_H_
#define LRA_MODELS_PARAMETERS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "models/tensor.h"

namespace lra {

// How the encoder initialises a parameter (deterministic by seed and the
// parameter's index in visiting order).
enum class Init {
  kNormal,   // normal(0, 0.02): embeddings
  kXavier,   // xavier-uniform over a [in, out] weight
  kZero,     // biases, LayerNorm beta
  kOne,      // LayerNorm gamma
  kByOwner,  // a plugin initialises its own parameters
};

// How one parameter is initialised and trained. Plugins declare it with
// each parameter they visit; the optimizer reads it, so no core code knows a
// plugin's parameter names (a state-space layer trains its discretisation
// at a smaller rate and without weight decay, as its papers do).
struct WeightSpec {
  Init init = Init::kByOwner;
  // Multiplies the scheduled learning rate for this parameter.
  float lr_scale = 1.0f;
  // Whether AdamW's decoupled weight decay applies.
  bool weight_decay = true;
};

// Visits one parameter: its dotted name, its value and gradient (same
// shape), and how it is initialised and trained.
using WeightVisitor = std::function<void(const std::string& name, Tensor& value,
                                         Tensor& grad, const WeightSpec& spec)>;

// Visits one parameter by name, value and gradient: what checkpoints, the
// optimizer and the plugins' own parameter lists need.
using ParameterVisitor =
    std::function<void(const std::string& name, Tensor& value, Tensor& grad)>;

// LayerNorm's scale and shift, each [D].
struct LayerNormWeights {
  explicit LayerNormWeights(int64_t d) : gamma({d}), beta({d}) {}
  Tensor gamma;  // [D]
  Tensor beta;   // [D]
};
void ForEachWeight(LayerNormWeights& values, LayerNormWeights& grads,
                   const std::string& prefix, const WeightVisitor& fn);

// A two-layer perceptron y = act(x W1 + b1) W2 + b2.
struct MlpWeights {
  MlpWeights(int64_t in, int64_t hidden, int64_t out)
      : w1({in, hidden}), b1({hidden}), w2({hidden, out}), b2({out}) {}
  Tensor w1;  // [in, hidden]
  Tensor b1;  // [hidden]
  Tensor w2;  // [hidden, out]
  Tensor b2;  // [out]
};
void ForEachWeight(MlpWeights& values, MlpWeights& grads,
                   const std::string& prefix, const WeightVisitor& fn);

}  // namespace lra

#endif  // LRA_MODELS_PARAMETERS_H_
