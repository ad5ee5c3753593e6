#include "models/block.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/internal/grad_check.h"
#include "models/internal/mean_mixer.h"
#include "models/rng.h"

namespace lra {
namespace {

struct BlockFixture {
  explicit BlockFixture(float dropout) {
    shape.max_seqs = 3;
    shape.seq_len = 5;
    shape.d_model = 6;
    shape.mlp_dim = 10;
    shape.dropout = dropout;
    shape.index = 1;
    MixerShape mixer_shape;
    mixer_shape.max_seqs = shape.max_seqs;
    mixer_shape.seq_len = shape.seq_len;
    mixer_shape.d_model = shape.d_model;
    block = std::make_unique<Block>(
        shape, std::make_unique<internal::MeanMixer>(mixer_shape), &scratch);
    int64_t index = 0;
    block->ForEachWeight(
        [&](const std::string&, Tensor& value, Tensor&, const WeightSpec&) {
          for (int64_t i = 0; i < value.size(); ++i) {
            value[i] = 0.5f * UniformFloat(11, index++) - 0.25f;
          }
        });
  }
  BlockShape shape;
  ScratchBuffers scratch;
  std::unique_ptr<Block> block;
};

TEST(BlockTest, NamesFollowTheBlockLayout) {
  BlockFixture f(0.0f);
  std::vector<std::string> names;
  f.block->ForEachWeight([&](const std::string& name, Tensor&, Tensor&,
                             const WeightSpec&) { names.push_back(name); });
  EXPECT_EQ(names, (std::vector<std::string>{
                       "layer1.ln1.gamma", "layer1.ln1.beta",
                       "layer1.mean.scale", "layer1.mean.mix",
                       "layer1.ln2.gamma", "layer1.ln2.beta", "layer1.mlp.w1",
                       "layer1.mlp.b1", "layer1.mlp.w2", "layer1.mlp.b2"}));
}

class BlockGradientTest : public ::testing::TestWithParam<float> {};

// Central differences of <x_out, r> against Backward for the input and every
// parameter, with padding in the batch and (for dropout > 0) fixed masks.
TEST_P(BlockGradientTest, InputAndParametersMatchCentralDifferences) {
  BlockFixture f(GetParam());
  const int seqs = 2, N = f.shape.seq_len, D = f.shape.d_model;
  const int64_t n = static_cast<int64_t>(seqs) * N * D;
  std::vector<float> x(n), r(n), out(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = 2.0f * UniformFloat(5, i) - 1.0f;
    r[i] = 2.0f * UniformFloat(6, i) - 1.0f;
  }
  std::vector<uint8_t> mask(seqs * N, 1);
  mask[N + 3] = mask[N + 4] = 0;  // the second sequence ends in padding
  BlockStep step;
  step.seqs = seqs;
  step.key_mask = mask.data();
  step.training = true;
  step.dropout_seed = 42;
  auto objective = [&]() {
    f.block->Forward(x.data(), step, out.data());
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += double(out[i]) * r[i];
    return sum;
  };
  objective();
  std::vector<float> dx = r;
  f.block->Backward(dx.data());
  internal::GradCheckOptions options;
  options.epsilon = 1e-2f;
  options.rel_tol = 2e-2f;
  options.abs_tol = 2e-3f;
  EXPECT_TRUE(
      internal::CheckGradient("x", objective, x.data(), n, dx.data(), options));
  std::map<std::string, Tensor> grads;
  f.block->ForEachWeight([&](const std::string& name, Tensor&, Tensor& grad,
                             const WeightSpec&) { grads.emplace(name, grad); });
  int checked = 0;
  f.block->ForEachWeight(
      [&](const std::string& name, Tensor& value, Tensor&, const WeightSpec&) {
        EXPECT_TRUE(internal::CheckGradient(name, objective, value.data(),
                                            value.size(), grads.at(name).data(),
                                            options));
        ++checked;
      });
  EXPECT_EQ(checked, 10);
}

INSTANTIATE_TEST_SUITE_P(Dropout, BlockGradientTest,
                         ::testing::Values(0.0f, 0.3f));

// Blocks share their temporaries: a second block adds no scratch memory.
TEST(BlockTest, BlocksShareScratch) {
  BlockFixture f(0.0f);
  const int64_t one = f.scratch.TotalFloats();
  MixerShape mixer_shape;
  mixer_shape.max_seqs = f.shape.max_seqs;
  mixer_shape.seq_len = f.shape.seq_len;
  mixer_shape.d_model = f.shape.d_model;
  Block second(f.shape, std::make_unique<internal::MeanMixer>(mixer_shape),
               &f.scratch);
  EXPECT_EQ(f.scratch.TotalFloats(), one);
}

}  // namespace
}  // namespace lra
