#include "lra/optimizer.h"

#include <cmath>
#include <map>

#include "gtest/gtest.h"
#include "models/builtin.h"
#include "models/internal/mean_mixer.h"

namespace lra {
namespace {

TrainConfig Train(Schedule schedule, float lr, int warmup, int steps) {
  TrainConfig train;
  train.set_schedule(schedule);
  train.set_learning_rate(lr);
  train.set_warmup_steps(warmup);
  train.set_steps(steps);
  train.set_beta1(0.9f);
  train.set_beta2(0.98f);
  train.set_eps(1e-9f);
  return train;
}

TEST(LearningRateTest, RsqrtMatchesLraFormula) {
  TrainConfig t = Train(SCHEDULE_RSQRT, 0.05f, 1000, 5000);
  // Warmup: linear ramp times 1/sqrt(warmup).
  EXPECT_NEAR(LearningRate(t, 500), 0.05 * 0.5 / std::sqrt(1000.0), 1e-9);
  EXPECT_NEAR(LearningRate(t, 1000), 0.05 / std::sqrt(1000.0), 1e-9);
  // Decay: 1/sqrt(step).
  EXPECT_NEAR(LearningRate(t, 4000), 0.05 / std::sqrt(4000.0), 1e-9);
}

TEST(LearningRateTest, CosineWarmsUpThenDecaysToZero) {
  TrainConfig t = Train(SCHEDULE_COSINE, 1e-3f, 100, 1100);
  EXPECT_NEAR(LearningRate(t, 50), 0.5e-3, 1e-9);
  EXPECT_NEAR(LearningRate(t, 100), 1e-3, 1e-9);
  EXPECT_NEAR(LearningRate(t, 600), 0.5e-3, 1e-9);
  EXPECT_NEAR(LearningRate(t, 1100), 0.0, 1e-9);
}

TEST(LearningRateTest, ConstantWithAndWithoutWarmup) {
  EXPECT_NEAR(LearningRate(Train(SCHEDULE_CONSTANT, 0.1f, 0, 10), 1), 0.1,
              1e-7);
  EXPECT_NEAR(LearningRate(Train(SCHEDULE_CONSTANT, 0.1f, 10, 100), 5), 0.05,
              1e-7);
  EXPECT_NEAR(LearningRate(Train(SCHEDULE_CONSTANT, 0.1f, 10, 100), 50), 0.1,
              1e-7);
}

ModelConfig TinyModel() {
  ModelConfig m;
  m.set_vocab_size(8);
  m.set_d_model(8);
  m.set_num_layers(1);
  m.set_num_heads(2);
  m.set_qkv_dim(8);
  m.set_mlp_dim(16);
  m.set_num_classes(3);
  m.set_positional(POSITIONAL_LEARNED);
  m.set_pooling(POOLING_MEAN);
  m.mutable_attention()->set_name("full");
  return m;
}

// Two AdamW steps on every parameter against the update written out by hand
// in double precision.
TEST(AdamWTest, MatchesReferenceUpdateWithDecayAndClipping) {
  auto encoder = Encoder::Create(TinyModel(), {4, 2, 0}, BuiltinPlugins());
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  (*encoder)->InitParameters(3);
  TrainConfig t = Train(SCHEDULE_CONSTANT, 0.01f, 0, 10);
  t.set_weight_decay(0.1f);
  t.set_grad_clip(0.5f);
  AdamW adam(t, encoder->get());
  struct Ref {
    std::vector<double> p, m, v;
  };
  std::map<std::string, Ref> ref;
  std::vector<std::pair<Tensor*, Tensor*>> params;
  (*encoder)->ForEachParameter(
      [&](const std::string& name, Tensor& value, Tensor& grad) {
        Ref r;
        for (int64_t i = 0; i < value.size(); ++i) r.p.push_back(value[i]);
        r.m.assign(value.size(), 0);
        r.v.assign(value.size(), 0);
        ref[name] = r;
        params.push_back({&value, &grad});
      });
  for (int step = 1; step <= 2; ++step) {
    // Synthetic gradients with a large norm so that clipping acts.
    double norm_sq = 0;
    int k = 0;
    (*encoder)->ForEachParameter(
        [&](const std::string&, Tensor&, Tensor& grad) {
          for (int64_t i = 0; i < grad.size(); ++i, ++k) {
            grad[i] = std::sin(0.37 * k + step);
            norm_sq += double{grad[i]} * grad[i];
          }
        });
    const double scale = std::min(1.0, 0.5 / std::sqrt(norm_sq));
    double norm = adam.Step(step, 0.01);
    EXPECT_NEAR(norm, std::sqrt(norm_sq), 1e-3 * std::sqrt(norm_sq));
    (*encoder)->ForEachParameter([&](const std::string& name, Tensor& value,
                                     Tensor& grad) {
      Ref& r = ref[name];
      for (int64_t i = 0; i < value.size(); ++i) {
        double g = grad[i] * scale;
        r.m[i] = 0.9 * r.m[i] + 0.1 * g;
        r.v[i] = 0.98 * r.v[i] + 0.02 * g * g;
        double mhat = r.m[i] / (1 - std::pow(0.9, step));
        double vhat = r.v[i] / (1 - std::pow(0.98, step));
        r.p[i] -= 0.01 * (mhat / (std::sqrt(vhat) + 1e-9) + 0.1 * r.p[i]);
        ASSERT_NEAR(value[i], r.p[i], 1e-5 * std::max(1.0, std::fabs(r.p[i])))
            << name << "[" << i << "] at step " << step;
      }
    });
  }
}

// A mixer that declares parameter groups the way a state-space layer does:
// "scale" at a tenth of the rate and without weight decay, "mix" as usual.
class GroupedMixer final : public TokenMixer {
 public:
  explicit GroupedMixer(const MixerShape& shape) : inner_(shape) {}
  void Forward(const float* x, const MixerStep& step, float* y) override {
    inner_.Forward(x, step, y);
  }
  void Backward(const float* dy, float* dx) override {
    inner_.Backward(dy, dx);
  }
  void ForEachWeight(const WeightVisitor& fn) override {
    inner_.ForEachWeight([&](const std::string& name, Tensor& value,
                             Tensor& grad, const WeightSpec& spec) {
      WeightSpec grouped = spec;
      if (name == "scale") {
        grouped.lr_scale = 0.1f;
        grouped.weight_decay = false;
      }
      fn(name, value, grad, grouped);
    });
  }
  void InitParameters(uint64_t seed) override { inner_.InitParameters(seed); }
  const char* name_prefix() const override { return "grouped"; }

 private:
  internal::MeanMixer inner_;
};

// The optimizer reads each parameter's WeightSpec: a declared lr_scale
// scales its step and weight_decay = false exempts it from decay, with no
// knowledge of the parameter's name.
TEST(AdamWTest, HonoursDeclaredLearningRateScaleAndWeightDecay) {
  MixerRegistry mixers;
  MixerPlugin plugin;
  plugin.name = "grouped";
  plugin.description = "test-only";
  plugin.capabilities.key_padding_mask = true;
  plugin.factory =
      [](const PluginParams&, const MixerShape& shape,
         const ModelConfig&) -> absl::StatusOr<std::unique_ptr<TokenMixer>> {
    return std::unique_ptr<TokenMixer>(std::make_unique<GroupedMixer>(shape));
  };
  RegisterOrDie(mixers, {plugin});
  ModelPlugins plugins = BuiltinPlugins();
  plugins.mixers = &mixers;
  ModelConfig model = TinyModel();
  model.clear_attention();
  model.mutable_mixer()->set_name("grouped");
  auto encoder = Encoder::Create(model, {4, 2, 0}, plugins);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  (*encoder)->InitParameters(3);
  TrainConfig t = Train(SCHEDULE_CONSTANT, 0.01f, 0, 10);
  t.set_weight_decay(0.5f);
  AdamW adam(t, encoder->get());
  std::map<std::string, std::vector<double>> before;
  int grouped = 0;
  (*encoder)->ForEachTrainable([&](const std::string& name, Tensor& value,
                                   Tensor& grad, const WeightSpec& spec) {
    before[name].assign(value.data(), value.data() + value.size());
    for (int64_t i = 0; i < grad.size(); ++i) grad[i] = 1.0f;
    if (spec.lr_scale != 1.0f) ++grouped;
  });
  ASSERT_EQ(grouped, 1);  // layer0.grouped.scale
  adam.Step(1, 0.01);
  // After one step with gradient 1, Adam's normalised update is 1, so
  // p' = p - lr * s * (1 + wd * p) with wd applied only where declared.
  int checked = 0;
  (*encoder)->ForEachTrainable(
      [&](const std::string& name, Tensor& value, Tensor&, const WeightSpec&) {
        const bool is_scale = name == "layer0.grouped.scale";
        const double lr = is_scale ? 0.001 : 0.01;
        const double wd = is_scale ? 0.0 : 0.5;
        for (int64_t i = 0; i < value.size(); ++i) {
          const double p = before[name][i];
          ASSERT_NEAR(value[i], p - lr * (1.0 + wd * p), 1e-6)
              << name << "[" << i << "]";
        }
        checked += is_scale;
      });
  EXPECT_EQ(checked, 1);
}

}  // namespace
}  // namespace lra
