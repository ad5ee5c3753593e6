// The isab mixer through the whole encoder: what the single-mixer
// conformance suite cannot see, since carried slots flow from one block's
// mixer to the next. Central differences of every parameter (with and
// without carry, CLS and mean pooling, dropout, inside rmt's segments); a
// mixer that drops the gradient into carried slots fails that check;
// parameters per layer; padding to another length; determinism and batch
// independence; errors.
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "models/builtin.h"
#include "models/encoder.h"
#include "models/internal/encoder_testing.h"
#include "models/mixers/isab/isab_mixer.h"
#include "models/rng.h"

namespace lra {
namespace {

using internal::Logits;
using internal::PaddedTokens;
using ::testing::HasSubstr;

ModelConfig Isab(int slots, bool carry, int layers = 3) {
  ModelConfig config = internal::SmallModelConfig();
  config.set_num_layers(layers);
  PluginConfig* mixer = config.mutable_mixer();
  mixer->set_name("isab");
  *mixer->add_param() = NumberParam("memory_slots", slots);
  *mixer->add_param() = FlagParam("carry", carry);
  return config;
}

TEST(IsabTest, RegisteredWithItsParameters) {
  const MixerRegistry& registry = *BuiltinPlugins().mixers;
  auto plugin = registry.Find("isab");
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  EXPECT_TRUE((*plugin)->capabilities.key_padding_mask);
  EXPECT_EQ((*plugin)->capabilities.complexity, "O(N M) (M slots)");
  std::vector<std::string> names;
  for (const PluginParamSpec& p : (*plugin)->params) names.push_back(p.name);
  EXPECT_THAT(names,
              ::testing::ElementsAre("memory_slots", "num_heads", "carry"));
}

TEST(IsabTest, ErrorsNameTheProblem) {
  EXPECT_THAT(internal::CreateError(Isab(0, false), 12, 2),
              HasSubstr("memory_slots = 0 is invalid"));
  ModelConfig heads = Isab(4, false);
  *heads.mutable_mixer()->add_param() = NumberParam("num_heads", 3);
  EXPECT_THAT(internal::CreateError(heads, 12, 2),
              HasSubstr("qkv_dim 8 must be a multiple of the number of heads "
                        "(3)"));
  ModelConfig typo = Isab(4, false);
  *typo.mutable_mixer()->add_param() = NumberParam("memory_slot", 3);
  EXPECT_THAT(internal::CreateError(typo, 12, 2), HasSubstr("memory_slot"));
}

// Learned slots in every layer without carry; with carry only in layer 0
// (later layers read their predecessor's packed slots).
TEST(IsabTest, SlotsAreParametersOfTheLayersThatReadThem) {
  for (bool carry : {false, true}) {
    auto encoder = *internal::CreateEncoder(Isab(5, carry), 12, 2);
    std::map<std::string, Tensor> p = internal::ParameterSnapshot(*encoder);
    ASSERT_EQ(p.count("layer0.isab.slots"), 1u);
    EXPECT_EQ(p.at("layer0.isab.slots").size(), 5 * 8);
    EXPECT_EQ(p.count("layer1.isab.slots"), carry ? 0u : 1u);
    EXPECT_EQ(p.count("layer2.isab.slots"), carry ? 0u : 1u);
    EXPECT_EQ(p.count("layer2.isab.pack.ln.gamma"), 1u);
    EXPECT_EQ(p.count("layer2.isab.unpack.wo"), 1u);
  }
}

struct GradCase {
  std::string label;
  ModelConfig config;
  int seq_len;
  float dropout;
  // Seed 7 puts the head's ReLU unit 4 within the difference step of its
  // kink for two of the configurations (pre-activations 0.002 and 0.005 on
  // one example; only head.w1, head.b1 and a parameter feeding them failed),
  // so those use seed 5.
  uint64_t init_seed = 7;
};

class IsabGradientTest : public ::testing::TestWithParam<GradCase> {};

// Central differences of every parameter through the whole encoder: with
// carry, through the slots from layer to layer into layer 0's learned ones.
TEST_P(IsabGradientTest, AllParametersMatchCentralDifferences) {
  GradCase c = GetParam();
  c.config.set_dropout(c.dropout);
  auto encoder = *internal::CreateEncoder(c.config, c.seq_len, 3);
  EXPECT_GT(
      internal::CheckPaddedBatchGradients(*encoder, c.seq_len, c.init_seed),
      40);
}

ModelConfig MeanPooled(ModelConfig config) {
  config.set_pooling(POOLING_MEAN);
  return config;
}

ModelConfig InsideRmt(ModelConfig config) {
  config.mutable_sequence()->set_name("rmt");
  *config.mutable_sequence()->add_param() = NumberParam("memory_slots", 2);
  *config.mutable_sequence()->add_param() = NumberParam("segment_len", 4);
  return config;
}

INSTANTIATE_TEST_SUITE_P(
    Variants, IsabGradientTest,
    ::testing::Values(GradCase{"learned_slots", Isab(3, false), 9, 0.0f, 5},
                      GradCase{"carry", Isab(3, true), 9, 0.0f},
                      GradCase{"carry_mean_pool_dropout",
                               MeanPooled(Isab(4, true)), 10, 0.2f},
                      GradCase{"carry_one_slot", Isab(1, true, 2), 8, 0.0f, 5},
                      GradCase{"carry_inside_rmt", InsideRmt(Isab(2, true, 2)),
                               10, 0.0f}),
    [](const auto& info) { return info.param.label; });

// The carried path is real and checked: dropping its gradient (layer l's
// d(slots) never reaches layer l-1) fails the same check.
TEST(IsabTest, DroppingTheCarriedGradientFailsTheGradientCheck) {
  MixerRegistry mixers;
  RegisterOrDie(mixers, {IsabMixer::BrokenCarryPluginForTesting()});
  ModelPlugins plugins = BuiltinPlugins();
  plugins.mixers = &mixers;
  ModelConfig config = Isab(3, true);
  config.mutable_mixer()->set_name("isab_broken_carry");
  auto encoder = *Encoder::Create(config, {9, 3, 0}, plugins);
  EXPECT_GT(internal::InterceptedGradientCheckFailures(*encoder, 9), 0);
  // The same model without the defect passes (the fixture is not at fault).
  auto sound = *internal::CreateEncoder(Isab(3, true), 9, 3);
  EXPECT_GT(internal::CheckPaddedBatchGradients(*sound, 9), 40);
}

// With carry, layer 1 reads layer 0's packed slots instead of learned ones of
// its own: the parameters both models share give other logits.
TEST(IsabTest, CarriedAndLearnedSlotsAreDifferentModels) {
  auto learned = *internal::CreateEncoder(Isab(3, false, 2), 12, 1);
  auto carried = *internal::CreateEncoder(Isab(3, true, 2), 12, 1);
  learned->InitParameters(3);
  carried->InitParameters(3);
  // Same values for the parameters both have.
  std::map<std::string, Tensor> values = internal::ParameterSnapshot(*learned);
  carried->ForEachParameter([&](const std::string& name, Tensor& v, Tensor&) {
    const Tensor& src = values.at(name);
    for (int64_t i = 0; i < v.size(); ++i) v[i] = src[i];
  });
  const std::vector<int32_t> tokens = PaddedTokens({10}, 12, 2);
  EXPECT_NE(Logits(*learned, tokens, 1), Logits(*carried, tokens, 1));
}

// The same examples padded to 12 or to 20 tokens give the same logits.
TEST(IsabTest, PaddingChangesNothing) {
  for (ModelConfig config :
       {Isab(3, false), Isab(3, true), MeanPooled(Isab(2, true))}) {
    config.set_max_len(21);
    internal::ExpectPaddingChangesNothing(config, "isab");
  }
}

TEST(IsabTest, DeterministicAndBatchIndependent) {
  for (const ModelConfig& config : {Isab(3, false), Isab(3, true)}) {
    internal::ExpectDeterministicAndBatchIndependent(config);
  }
}

}  // namespace
}  // namespace lra
