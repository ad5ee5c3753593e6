#include "models/block.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/internal/grad_check.h"
#include "models/rng.h"

namespace lra {
namespace {

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
    fn("scale", scale_, d_scale_, Init::kByOwner);
    fn("mix", mix_, d_mix_, Init::kByOwner);
  }
  const char* name_prefix() const override { return "mean"; }

 private:
  MixerShape shape_;
  Tensor scale_, mix_, d_scale_, d_mix_;
  Tensor mean_;  // [B', D]
  const float* x_ = nullptr;
  MixerStep step_;
};

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
        shape, std::make_unique<MeanMixer>(mixer_shape), &scratch);
    int64_t index = 0;
    block->ForEachWeight([&](const std::string&, Tensor& value, Tensor&, Init) {
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
  f.block->ForEachWeight([&](const std::string& name, Tensor&, Tensor&, Init) {
    names.push_back(name);
  });
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
                             Init) { grads.emplace(name, grad); });
  int checked = 0;
  f.block->ForEachWeight(
      [&](const std::string& name, Tensor& value, Tensor&, Init) {
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
  Block second(f.shape, std::make_unique<MeanMixer>(mixer_shape), &f.scratch);
  EXPECT_EQ(f.scratch.TotalFloats(), one);
}

}  // namespace
}  // namespace lra
