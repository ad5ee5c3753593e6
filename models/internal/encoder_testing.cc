#include "models/internal/encoder_testing.h"

#include "gtest/gtest.h"
#include "models/builtin.h"
#include "models/internal/grad_check.h"

namespace lra::internal {

absl::StatusOr<std::unique_ptr<Encoder>> CreateEncoder(
    const ModelConfig& config, int seq_len, int max_batch) {
  return Encoder::Create(config, {seq_len, max_batch, 0}, BuiltinPlugins());
}

std::string CreateError(const ModelConfig& config, int seq_len, int max_batch) {
  absl::StatusOr<std::unique_ptr<Encoder>> encoder =
      CreateEncoder(config, seq_len, max_batch);
  return encoder.ok() ? "ok" : std::string(encoder.status().message());
}

std::map<std::string, Tensor> ParameterSnapshot(Encoder& encoder, bool grads) {
  std::map<std::string, Tensor> snapshot;
  encoder.ForEachParameter(
      [&](const std::string& name, Tensor& value, Tensor& grad) {
        snapshot.emplace(name, grads ? grad : value);
      });
  return snapshot;
}

int CheckAllParameterGradients(Encoder& encoder,
                               const std::vector<int32_t>& tokens,
                               const std::vector<int32_t>& labels, int batch,
                               uint64_t init_seed, uint64_t seed) {
  encoder.InitParameters(init_seed);
  encoder.ForEachParameter([](const std::string& name, Tensor& v, Tensor&) {
    if (name.rfind("embed.", 0) == 0) {
      for (int64_t i = 0; i < v.size(); ++i) v[i] *= 25.0f;
    }
  });
  auto loss = [&]() {
    encoder.Forward(tokens.data(), batch, true, seed);
    return double(encoder.Loss(labels.data(), nullptr));
  };
  encoder.ZeroGrad();
  loss();
  encoder.Backward();
  const std::map<std::string, Tensor> grads = ParameterSnapshot(encoder, true);
  GradCheckOptions options;
  options.epsilon = 3e-3f;
  options.rel_tol = 5e-2f;
  options.abs_tol = 3e-4f;
  options.max_entries = 12;
  int checked = 0;
  encoder.ForEachParameter([&](const std::string& name, Tensor& v, Tensor&) {
    EXPECT_TRUE(CheckGradient(name, loss, v.data(), v.size(),
                              grads.at(name).data(), options));
    ++checked;
  });
  return checked;
}

}  // namespace lra::internal
