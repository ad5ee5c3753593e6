#include "models/parameters.h"

namespace lra {

void ForEachWeight(LayerNormWeights& values, LayerNormWeights& grads,
                   const std::string& prefix, const WeightVisitor& fn) {
  fn(prefix + "gamma", values.gamma, grads.gamma, {Init::kOne});
  fn(prefix + "beta", values.beta, grads.beta, {Init::kZero});
}

void ForEachWeight(MlpWeights& values, MlpWeights& grads,
                   const std::string& prefix, const WeightVisitor& fn) {
  fn(prefix + "w1", values.w1, grads.w1, {Init::kXavier});
  fn(prefix + "b1", values.b1, grads.b1, {Init::kZero});
  fn(prefix + "w2", values.w2, grads.w2, {Init::kXavier});
  fn(prefix + "b2", values.b2, grads.b2, {Init::kZero});
}

}  // namespace lra
