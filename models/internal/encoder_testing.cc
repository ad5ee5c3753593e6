#include "models/internal/encoder_testing.h"

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "models/builtin.h"
#include "models/internal/grad_check.h"
#include "models/rng.h"

namespace lra::internal {

ModelConfig SmallModelConfig() {
  ModelConfig config;
  config.set_name("small");
  config.set_vocab_size(7);
  config.set_d_model(8);
  config.set_num_layers(2);
  config.set_num_heads(2);
  config.set_qkv_dim(8);
  config.set_mlp_dim(12);
  config.set_classifier_dim(6);
  config.set_num_classes(3);
  return config;
}

std::vector<int32_t> PaddedTokens(const std::vector<int>& real, int seq_len,
                                  uint64_t seed) {
  std::vector<int32_t> tokens(real.size() * seq_len, 0);
  for (size_t b = 0; b < real.size(); ++b) {
    for (int t = 0; t < real[b]; ++t) {
      tokens[b * seq_len + t] =
          1 + static_cast<int32_t>(RandomBits(seed, b * seq_len + t) % 6);
    }
  }
  return tokens;
}

std::vector<float> Logits(Encoder& encoder, const std::vector<int32_t>& tokens,
                          int batch) {
  const float* logits = encoder.Forward(tokens.data(), batch, false, 0);
  return std::vector<float>(
      logits, logits + int64_t(batch) * encoder.config().num_classes());
}

void CopyParameters(Encoder& from, Encoder& to) {
  std::map<std::string, Tensor> values = ParameterSnapshot(from);
  to.ForEachParameter([&](const std::string& name, Tensor& v, Tensor&) {
    const Tensor& src = values.at(name);
    ASSERT_EQ(src.size(), v.size()) << name;
    for (int64_t i = 0; i < v.size(); ++i) v[i] = src[i];
  });
}

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

int CheckPaddedBatchGradients(Encoder& encoder, int seq_len,
                              uint64_t init_seed) {
  const std::vector<int32_t> tokens =
      PaddedTokens({seq_len, seq_len - 3, seq_len - 6}, seq_len, 5);
  return CheckAllParameterGradients(encoder, tokens, {0, 2, 1}, 3, init_seed,
                                    /*seed=*/99);
}

int CheckVariantGradients(ModelConfig config, const GradientVariant& variant,
                          int seq_len, const std::vector<int32_t>& tokens) {
  config.set_pooling(variant.pooling);
  config.set_positional(variant.positional);
  config.set_dropout(variant.dropout);
  config.set_attention_dropout(variant.dropout);
  const int batch = 3;
  absl::StatusOr<std::unique_ptr<Encoder>> encoder =
      CreateEncoder(config, seq_len, 4);
  EXPECT_TRUE(encoder.ok()) << encoder.status();
  if (!encoder.ok()) return 0;
  const std::vector<int32_t> labels = {0, 2, 1};
  return CheckAllParameterGradients(**encoder, tokens, labels, batch,
                                    /*init_seed=*/7, /*seed=*/99);
}

int InterceptedGradientCheckFailures(Encoder& encoder, int seq_len) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::
            INTERCEPT_ONLY_CURRENT_THREAD,
        &failures);
    CheckPaddedBatchGradients(encoder, seq_len);
  }
  return failures.size();
}

void ExpectPaddingChangesNothing(const ModelConfig& config,
                                 const std::string& label) {
  auto short_encoder = *CreateEncoder(config, 12, 2);
  auto long_encoder = *CreateEncoder(config, 20, 2);
  short_encoder->InitParameters(4);
  CopyParameters(*short_encoder, *long_encoder);
  const std::vector<int32_t> short_tokens = PaddedTokens({10, 5}, 12, 6);
  std::vector<int32_t> long_tokens(2 * 20, 0);
  for (int b = 0; b < 2; ++b) {
    for (int t = 0; t < 12; ++t) {
      long_tokens[b * 20 + t] = short_tokens[b * 12 + t];
    }
  }
  const std::vector<float> a = Logits(*short_encoder, short_tokens, 2);
  const std::vector<float> b = Logits(*long_encoder, long_tokens, 2);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i], b[i], 1e-5) << label << " " << i;
  }
}

void ExpectDeterministicAndBatchIndependent(const ModelConfig& config) {
  auto a = *CreateEncoder(config, 12, 3);
  auto b = *CreateEncoder(config, 12, 3);
  a->InitParameters(11);
  b->InitParameters(11);
  const std::vector<int32_t> tokens = PaddedTokens({12, 7, 2}, 12, 8);
  const std::vector<float> la = Logits(*a, tokens, 3);
  EXPECT_EQ(la, Logits(*b, tokens, 3));
  EXPECT_EQ(la, Logits(*a, tokens, 3));
  // Example 1 alone gives its row of the batch.
  const std::vector<int32_t> one(tokens.begin() + 12, tokens.begin() + 24);
  const std::vector<float> alone = Logits(*a, one, 1);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(alone[c], la[3 + c], 1e-5);
}

}  // namespace lra::internal
