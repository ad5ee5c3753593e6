// The sequence plugins through the whole encoder: registration and errors,
// central-difference gradients of every parameter and the embeddings
// (through memory across segments), exactly zero gradient beyond the BPTT
// window, padding invariance, determinism, batch independence, and a broken
// handler the gradient check catches.
#include <algorithm>
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
#include "models/rng.h"
#include "models/sequence/builtin.h"

namespace lra {
namespace {

using internal::CopyParameters;
using internal::Logits;
using internal::PaddedTokens;
using ::testing::HasSubstr;

ModelConfig SmallConfig(const std::string& sequence,
                        const std::vector<PluginParam>& params) {
  ModelConfig config = internal::SmallModelConfig();
  config.mutable_sequence()->set_name(sequence);
  for (const PluginParam& p : params)
    *config.mutable_sequence()->add_param() = p;
  return config;
}

ModelConfig Rmt(int segment_len, int bptt, const std::string& pool = "memory",
                bool carry_memory = true) {
  PluginParam carry;
  carry.set_name("carry_memory");
  carry.set_flag(carry_memory);
  return SmallConfig(
      "rmt",
      {NumberParam("memory_slots", 3), NumberParam("segment_len", segment_len),
       NumberParam("bptt_segments", bptt), TextParam("pool", pool), carry});
}

// `config` with 2-D positions on a grid of `width` tokens per row.
ModelConfig WithGrid(ModelConfig config, PositionalEncoding positional,
                     int width) {
  config.set_positional(positional);
  config.set_grid_width(width);
  return config;
}

TEST(SequenceRegistryTest, BuiltinsAreRegisteredAndErrorsListWhatExists) {
  const SequenceRegistry& registry = *BuiltinPlugins().sequence;
  EXPECT_THAT(registry.Names(),
              ::testing::ElementsAre("global_memory", "rmt", "transformer_xl"));
  EXPECT_THAT(internal::CreateError(SmallConfig("nope", {}), 12, 2),
              HasSubstr("unknown sequence 'nope'; registered: global_memory, "
                        "rmt"));
  EXPECT_THAT(internal::CreateError(
                  SmallConfig("rmt", {NumberParam("segmnt_len", 4)}), 12, 2),
              HasSubstr("segmnt_len"));
  EXPECT_THAT(internal::CreateError(
                  SmallConfig("rmt", {NumberParam("segment_len", 0)}), 12, 2),
              HasSubstr("segment_len = 0 is invalid"));
  EXPECT_THAT(
      internal::CreateError(
          SmallConfig("global_memory", {TextParam("pool", "cls")}), 12, 2),
      HasSubstr("must be \"memory\" or \"tokens\""));
  ModelConfig cls = SmallConfig("rmt", {});
  cls.set_pooling(POOLING_CLS);
  EXPECT_THAT(internal::CreateError(cls, 12, 2),
              HasSubstr("pooling = POOLING_CLS is invalid"));
}

TEST(SequenceTest, MemorySlotsAreParametersWithoutCls) {
  auto encoder = *internal::CreateEncoder(
      SmallConfig("global_memory", {NumberParam("memory_slots", 5)}), 12, 2);
  std::map<std::string, Tensor> p = internal::ParameterSnapshot(*encoder);
  ASSERT_EQ(p.count("embed.memory"), 1u);
  EXPECT_EQ(p.at("embed.memory").size(), 5 * 8);
  EXPECT_EQ(p.count("embed.cls"), 0u);
  EXPECT_EQ(encoder->config().pooling(), POOLING_MEAN);
}

struct GradCase {
  std::string label;
  ModelConfig config;
  int seq_len;
  float dropout;
};

class SequenceGradientTest : public ::testing::TestWithParam<GradCase> {};

// Central differences through the whole model: embeddings, memory slots,
// every block and the head; with rmt through memory across all segments.
TEST_P(SequenceGradientTest, AllParametersMatchCentralDifferences) {
  GradCase c = GetParam();
  c.config.set_dropout(c.dropout);
  c.config.set_attention_dropout(c.dropout);
  auto encoder = *internal::CreateEncoder(c.config, c.seq_len, 3);
  EXPECT_GT(internal::CheckPaddedBatchGradients(*encoder, c.seq_len), 20);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, SequenceGradientTest,
    ::testing::Values(
        GradCase{"global_memory_pool_memory",
                 SmallConfig("global_memory", {NumberParam("memory_slots", 3)}),
                 9, 0.0f},
        GradCase{"global_memory_pool_tokens",
                 SmallConfig("global_memory", {NumberParam("memory_slots", 2),
                                               TextParam("pool", "tokens")}),
                 9, 0.2f},
        GradCase{"rmt_three_segments", Rmt(4, 0), 12, 0.0f},
        GradCase{"rmt_padded_last_segment_dropout", Rmt(4, 0), 10, 0.2f},
        GradCase{"rmt_pool_tokens", Rmt(5, 0, "tokens"), 10, 0.0f},
        GradCase{"rmt_memory_cut", Rmt(4, 0, "memory", false), 10, 0.0f},
        // Positions on a grid are the encoder's, added before the plugin.
        GradCase{"rmt_learned_2d",
                 WithGrid(Rmt(4, 0), POSITIONAL_LEARNED_2D, 4), 12, 0.0f},
        GradCase{"global_memory_sinusoidal_2d",
                 WithGrid(SmallConfig("global_memory",
                                      {NumberParam("memory_slots", 3)}),
                          POSITIONAL_SINUSOIDAL_2D, 3),
                 9, 0.2f}),
    [](const auto& info) { return info.param.label; });

// Truncated BPTT: with K segments the positions of earlier segments (and the
// initial memory) get exactly zero gradient; inside the window they do not.
TEST(SequenceTest, GradientIsExactlyZeroBeyondTheBpttWindow) {
  for (int bptt : {1, 2, 3}) {
    auto encoder = *internal::CreateEncoder(Rmt(4, bptt), 12, 2);
    encoder->InitParameters(3);
    const std::vector<int32_t> tokens = PaddedTokens({12, 11}, 12, 9);
    const std::vector<int32_t> labels = {1, 2};
    encoder->ZeroGrad();
    encoder->Forward(tokens.data(), 2, true, 1);
    encoder->Loss(labels.data(), nullptr);
    encoder->Backward();
    std::map<std::string, Tensor> g =
        internal::ParameterSnapshot(*encoder, /*grads=*/true);
    const Tensor& pos = g.at("embed.position");  // [12, 8]
    for (int segment = 0; segment < 3; ++segment) {
      double norm = 0;
      for (int i = segment * 4 * 8; i < (segment + 1) * 4 * 8; ++i) {
        norm += std::fabs(pos[i]);
      }
      if (segment < 3 - bptt) {
        EXPECT_EQ(norm, 0.0) << "bptt " << bptt << " segment " << segment;
      } else {
        EXPECT_GT(norm, 0.0) << "bptt " << bptt << " segment " << segment;
      }
    }
    double memory = 0;
    const Tensor& m = g.at("embed.memory");
    for (int64_t i = 0; i < m.size(); ++i) memory += std::fabs(m[i]);
    if (bptt < 3) {
      EXPECT_EQ(memory, 0.0) << "bptt " << bptt;
    } else {
      EXPECT_GT(memory, 0.0);
    }
  }
}

// Information crosses segments: changing a token of the first segment
// changes the logits read from the last memory.
TEST(SequenceTest, FirstSegmentReachesTheFinalMemory) {
  auto encoder = *internal::CreateEncoder(Rmt(4, 0), 12, 1);
  encoder->InitParameters(3);
  std::vector<int32_t> tokens = PaddedTokens({12}, 12, 9);
  const std::vector<float> a = Logits(*encoder, tokens, 1);
  tokens[0] = tokens[0] % 6 + 1;
  const std::vector<float> b = Logits(*encoder, tokens, 1);
  EXPECT_NE(a, b);
}

// With the memory cut, nothing of an earlier segment reaches the final
// memory: only the last segment's tokens change the logits.
TEST(SequenceTest, CutMemoryKeepsEarlierSegmentsOut) {
  auto encoder = *internal::CreateEncoder(Rmt(4, 0, "memory", false), 12, 1);
  encoder->InitParameters(3);
  std::vector<int32_t> tokens = PaddedTokens({12}, 12, 9);
  const std::vector<float> a = Logits(*encoder, tokens, 1);
  tokens[0] = tokens[0] % 6 + 1;
  tokens[7] = tokens[7] % 6 + 1;
  EXPECT_EQ(a, Logits(*encoder, tokens, 1));
  tokens[11] = tokens[11] % 6 + 1;
  EXPECT_NE(a, Logits(*encoder, tokens, 1));
}

// Padding (inside the last segment and whole segments of it) changes
// nothing: the same example padded to 12 or to 20 gives the same logits.
TEST(SequenceTest, PaddingChangesNothing) {
  for (const ModelConfig& base :
       {Rmt(4, 0), Rmt(4, 0, "tokens"), Rmt(4, 2), Rmt(4, 0, "memory", false),
        SmallConfig("global_memory", {NumberParam("memory_slots", 3)})}) {
    ModelConfig config = base;
    config.set_max_len(20);
    internal::ExpectPaddingChangesNothing(config, config.sequence().name());
  }
}

TEST(SequenceTest, DeterministicAndBatchIndependent) {
  for (const ModelConfig& config :
       {Rmt(4, 0),
        SmallConfig("global_memory", {NumberParam("memory_slots", 3)})}) {
    internal::ExpectDeterministicAndBatchIndependent(config);
  }
}

// Each segment of the BPTT window keeps its activations in its own copy of
// the blocks; with recompute_segments one copy holds one segment and the
// others are recomputed during backward. Both compute the same function: the
// same logits and loss, and the same gradients up to the order in which the
// segments' shares are summed.
TEST(SequenceTest, StoredAndRecomputedSegmentsAgree) {
  PluginParam recompute;
  recompute.set_name("recompute_segments");
  recompute.set_flag(true);
  for (int bptt : {0, 2}) {
    ModelConfig stored = Rmt(4, bptt);
    stored.set_dropout(0.2f);
    stored.set_attention_dropout(0.2f);
    ModelConfig recomputed = stored;
    *recomputed.mutable_sequence()->add_param() = recompute;
    auto a = *internal::CreateEncoder(stored, 14, 2);
    auto b = *internal::CreateEncoder(recomputed, 14, 2);
    a->InitParameters(5);
    CopyParameters(*a, *b);
    const std::vector<int32_t> tokens = PaddedTokens({14, 9}, 14, 3);
    const std::vector<int32_t> labels = {2, 0};
    float loss[2];
    int i = 0;
    for (Encoder* e : {a.get(), b.get()}) {
      e->ZeroGrad();
      // Two steps: the second must not depend on what the first left behind.
      for (int step = 0; step < 2; ++step) {
        e->Forward(tokens.data(), 2, true, 17 + step);
        loss[i] = e->Loss(labels.data(), nullptr);
        e->Backward();
      }
      ++i;
    }
    EXPECT_EQ(loss[0], loss[1]) << "bptt " << bptt;
    const std::map<std::string, Tensor> ga =
        internal::ParameterSnapshot(*a, true);
    const std::map<std::string, Tensor> gb =
        internal::ParameterSnapshot(*b, true);
    double largest = 0.0;
    for (const auto& [name, grad] : ga) {
      const Tensor& other = gb.at(name);
      ASSERT_EQ(grad.size(), other.size()) << name;
      for (int64_t k = 0; k < grad.size(); ++k) {
        largest = std::max(largest, std::fabs(double{grad.data()[k]}));
        EXPECT_NEAR(grad.data()[k], other.data()[k],
                    1e-5 * (1.0 + std::fabs(grad.data()[k])))
            << "bptt " << bptt << " " << name << "[" << k << "]";
      }
    }
    EXPECT_GT(largest, 0.0);
  }
}

// A handler that drops the gradient carried through memory must fail the
// gradient check.
TEST(SequenceTest, BrokenHandlerFailsTheGradientCheck) {
  SequenceRegistry sequence;
  RegisterOrDie(sequence, {BrokenRmtPluginForTesting()});
  ModelPlugins plugins = BuiltinPlugins();
  plugins.sequence = &sequence;
  ModelConfig config = Rmt(4, 0);
  config.mutable_sequence()->set_name("broken_rmt");
  auto encoder = *Encoder::Create(config, {12, 3, 0}, plugins);
  EXPECT_GT(internal::InterceptedGradientCheckFailures(*encoder, 12), 0);
}

}  // namespace
}  // namespace lra
