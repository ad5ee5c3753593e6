// transformer_xl through the whole encoder and through its handler alone:
// registration and errors; central-difference gradients of every parameter
// and the embeddings over several segments (with the cache held constant,
// the function the stop-gradient backward differentiates); the stop-gradient
// itself (earlier segments reach later outputs, yet their analytic gradient
// through the cache is exactly zero, and the unfrozen model fails the
// central-difference check because of it); padding invariance; determinism;
// batch independence; a broken kernel the gradient check catches.
#include "models/sequence/transformer_xl/transformer_xl.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "models/builtin.h"
#include "models/encoder.h"
#include "models/internal/encoder_testing.h"
#include "models/rng.h"

namespace lra {
namespace {

using internal::Logits;
using internal::PaddedTokens;
using ::testing::HasSubstr;

ModelConfig Xl(int segment_len, int mem_len,
               const std::string& name = "transformer_xl") {
  ModelConfig config = internal::SmallModelConfig();
  config.mutable_sequence()->set_name(name);
  *config.mutable_sequence()->add_param() =
      NumberParam("segment_len", segment_len);
  *config.mutable_sequence()->add_param() = NumberParam("mem_len", mem_len);
  return config;
}

// The built-in plugins plus the test-only frozen and broken variants.
ModelPlugins TestPlugins(SequenceRegistry* registry) {
  RegisterOrDie(*registry, {TransformerXlPlugin(),
                            TransformerXlPluginForTesting(true, false),
                            TransformerXlPluginForTesting(true, true)});
  ModelPlugins plugins = BuiltinPlugins();
  plugins.sequence = registry;
  return plugins;
}

TEST(TransformerXlTest, RegisteredWithParametersAndErrors) {
  EXPECT_THAT(BuiltinPlugins().sequence->Names(),
              ::testing::Contains("transformer_xl"));
  EXPECT_EQ(internal::CreateError(Xl(4, 4), 12, 2), "ok");
  EXPECT_THAT(internal::CreateError(Xl(0, 4), 12, 2),
              HasSubstr("segment_len = 0 is invalid"));
  EXPECT_THAT(internal::CreateError(Xl(4, -1), 12, 2),
              HasSubstr("mem_len = -1 is invalid"));
  ModelConfig local = Xl(4, 4);
  local.mutable_attention()->set_name("local");
  EXPECT_THAT(internal::CreateError(local, 12, 2),
              HasSubstr("brings its own relative attention"));
  // Its own attention parameters replace the attention mixer's.
  auto encoder = *internal::CreateEncoder(Xl(4, 4), 12, 2);
  std::map<std::string, Tensor> p = internal::ParameterSnapshot(*encoder);
  for (const char* name : {"wq", "wk", "wv", "wr", "u", "v", "wo", "bo"}) {
    EXPECT_EQ(p.count(std::string("layer1.attn.") + name), 1u) << name;
  }
  EXPECT_EQ(p.at("layer0.attn.wr").size(), 8 * 8);
  EXPECT_EQ(p.at("layer0.attn.u").size(), 8);
  EXPECT_EQ(p.count("layer0.attn.bq"), 0u);
}

struct GradCase {
  std::string label;
  int segment_len, mem_len, seq_len;
  float dropout;
};

class TransformerXlGradientTest : public ::testing::TestWithParam<GradCase> {};

// Central differences through the whole model (embeddings, every block with
// its relative attention, head) with the cache held at the unperturbed
// forward's values ("transformer_xl_frozen"): what the stop-gradient
// backward differentiates. Positions in every segment get their gradient
// from their own outputs.
TEST_P(TransformerXlGradientTest, AllParametersMatchCentralDifferences) {
  const GradCase c = GetParam();
  SequenceRegistry registry;
  ModelPlugins plugins = TestPlugins(&registry);
  ModelConfig config = Xl(c.segment_len, c.mem_len, "transformer_xl_frozen");
  config.set_dropout(c.dropout);
  config.set_attention_dropout(c.dropout);
  auto encoder = *Encoder::Create(config, {c.seq_len, 3, 0}, plugins);
  EXPECT_GT(internal::CheckPaddedBatchGradients(*encoder, c.seq_len), 20);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, TransformerXlGradientTest,
    ::testing::Values(GradCase{"three_segments", 4, 4, 12, 0.0f},
                      // The memory spans two earlier segments; the last
                      // segment is padded.
                      GradCase{"long_memory_padded_last", 4, 6, 10, 0.0f},
                      GradCase{"short_memory_dropout", 4, 2, 11, 0.2f},
                      // N < segment_len: one segment, no memory.
                      GradCase{"one_segment_shorter_than_segment_len", 16, 8,
                               10, 0.0f},
                      // Four segments, memory reaching two segments back.
                      GradCase{"memory_longer_than_segment", 3, 5, 11, 0.0f}),
    [](const auto& info) { return info.param.label; });

// The same check on the real plugin must fail: central differences see the
// path through the cache that the stop-gradient backward leaves out.
TEST(TransformerXlTest, UnfrozenCacheFailsTheGradientCheck) {
  auto encoder = *internal::CreateEncoder(Xl(4, 4), 12, 3);
  EXPECT_GT(internal::InterceptedGradientCheckFailures(*encoder, 12), 0);
}

TEST(TransformerXlTest, BrokenKernelFailsTheGradientCheck) {
  SequenceRegistry registry;
  ModelPlugins plugins = TestPlugins(&registry);
  auto encoder =
      *Encoder::Create(Xl(4, 4, "broken_transformer_xl"), {12, 3, 0}, plugins);
  EXPECT_GT(internal::InterceptedGradientCheckFailures(*encoder, 12), 0);
}

// The handler with its own blocks, outside the encoder: outputs per
// position and the input gradient, for the stop-gradient test.
class Handler {
 public:
  Handler(int segment_len, int mem_len, int seq_len, int layers) : n_(seq_len) {
    ModelConfig config = Xl(segment_len, mem_len);
    config.set_num_layers(layers);
    EXPECT_TRUE(ResolveModelDefaults(&config).ok());
    SequenceShape shape;
    shape.max_seqs = 1;
    shape.seq_len = seq_len;
    shape.d_model = 8;
    shape.num_layers = layers;
    handler_ =
        *BuiltinPlugins().sequence->Create(config.sequence(), shape, config);
    for (int l = 0; l < layers; ++l) {
      MixerShape ms;
      ms.max_seqs = 1;
      ms.seq_len = handler_->block_seq_len();
      ms.d_model = 8;
      ms.layer_index = l;
      std::unique_ptr<TokenMixer> mixer = *handler_->MakeMixer(ms, &scratch_);
      BlockShape bs;
      bs.max_seqs = 1;
      bs.seq_len = handler_->block_seq_len();
      bs.d_model = 8;
      bs.mlp_dim = 12;
      bs.index = l;
      blocks_.push_back(
          std::make_unique<Block>(bs, std::move(mixer), &scratch_));
    }
    uint64_t index = 0;
    for (auto& block : blocks_) {
      block->ForEachWeight([&](const std::string&, Tensor& v, Tensor& g,
                               const WeightSpec& spec) {
        g.Zero();
        for (int64_t i = 0; i < v.size(); ++i) {
          v[i] = spec.init == Init::kOne
                     ? 1.0f
                     : static_cast<float>(0.3 * NormalDouble(index, i));
        }
        ++index;
      });
    }
    mask_.assign(n_, 1);
    out_.resize(n_ * 8);
    pool_.resize(n_);
  }

  const std::vector<float>& Forward(const std::vector<float>& x) {
    SequenceStep step;
    step.seqs = 1;
    step.key_mask = mask_.data();
    handler_->Forward(blocks_, x.data(), step, out_.data(), pool_.data());
    return out_;
  }
  std::vector<float> Backward(const std::vector<float>& dout) {
    std::vector<float> dx(n_ * 8, 1.0f);
    handler_->Backward(blocks_, dout.data(), dx.data());
    return dx;
  }

 private:
  int n_;
  ScratchBuffers scratch_;
  std::unique_ptr<SequenceHandler> handler_;
  BlockList blocks_;
  std::vector<uint8_t> mask_;
  std::vector<float> out_;
  std::vector<uint8_t> pool_;
};

std::vector<float> RandomVector(int n, uint64_t seed) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>(NormalDouble(seed, i));
  return v;
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b,
                  int begin, int end) {
  double worst = 0;
  for (int i = begin; i < end; ++i) {
    worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
  }
  return worst;
}

// Three segments of 4, two layers, memory of one segment: a token of segment
// 0 changes the outputs of segment 2 (through layer 0's cache into segment
// 1, then layer 1's cache into segment 2), yet with a gradient only on
// segment 2's outputs the gradient of segments 0 and 1's inputs is exactly
// zero and segment 2's is not. With mem_len = 0 segment 2 does not see
// segment 0 at all.
TEST(TransformerXlTest, CacheCarriesInformationButNoGradient) {
  const int N = 12, D = 8;
  for (int mem : {4, 0}) {
    Handler handler(4, mem, N, 2);
    std::vector<float> x = RandomVector(N * D, 3);
    const std::vector<float> a = handler.Forward(x);
    x[0] += 0.5f;
    x[3] -= 0.5f;
    const std::vector<float> b = handler.Forward(x);
    if (mem > 0) {
      EXPECT_GT(MaxAbsDiff(a, b, 8 * D, N * D), 1e-4) << "mem " << mem;
    } else {
      EXPECT_EQ(MaxAbsDiff(a, b, 4 * D, N * D), 0.0) << "mem " << mem;
    }
    std::vector<float> dout(N * D, 0.0f);
    const std::vector<float> r = RandomVector(4 * D, 4);
    for (int i = 0; i < 4 * D; ++i) dout[8 * D + i] = r[i];
    const std::vector<float> dx = handler.Backward(dout);
    for (int i = 0; i < 8 * D; ++i) {
      ASSERT_EQ(dx[i], 0.0f) << "mem " << mem << " position " << i / D;
    }
    double last = 0;
    for (int i = 8 * D; i < N * D; ++i) last += std::fabs(dx[i]);
    EXPECT_GT(last, 0.0);
  }
}

// Padding changes nothing: the same examples padded to 12 or to 20 give the
// same logits, whether the padding fills part of the last segment, whole
// segments or the memory, and when N < segment_len.
TEST(TransformerXlTest, PaddingChangesNothing) {
  for (const auto& [segment, mem] :
       std::vector<std::pair<int, int>>{{4, 4}, {4, 6}, {5, 3}, {16, 8}}) {
    ModelConfig config = Xl(segment, mem);
    config.set_max_len(20);
    internal::ExpectPaddingChangesNothing(config,
                                          absl::StrCat(segment, "/", mem));
  }
}

// pool "last_segment": with no memory, the first segments' tokens change
// nothing; pooling every token, or with a memory reaching them, they do.
TEST(TransformerXlTest, PoolLastSegmentReadsOnlyTheLastSegment) {
  struct Case {
    int mem;
    const char* pool;
    bool changes;
  };
  for (const Case& c : {Case{0, "last_segment", false}, Case{0, "tokens", true},
                        Case{8, "last_segment", true}}) {
    ModelConfig config = Xl(4, c.mem);
    PluginParam* pool = config.mutable_sequence()->add_param();
    pool->set_name("pool");
    pool->set_text(c.pool);
    auto encoder = *internal::CreateEncoder(config, 12, 1);
    encoder->InitParameters(3);
    std::vector<int32_t> tokens = PaddedTokens({12}, 12, 5);
    const std::vector<float> a = Logits(*encoder, tokens, 1);
    tokens[0] = tokens[0] % 6 + 1;
    tokens[5] = tokens[5] % 6 + 1;
    const std::vector<float> b = Logits(*encoder, tokens, 1);
    double diff = 0;
    for (int i = 0; i < 3; ++i)
      diff = std::max(diff, std::fabs(double(a[i] - b[i])));
    if (c.changes) {
      EXPECT_GT(diff, 1e-6) << c.mem << " " << c.pool;
    } else {
      EXPECT_EQ(diff, 0.0) << c.mem << " " << c.pool;
    }
  }
  ModelConfig bad = Xl(4, 4);
  PluginParam* pool = bad.mutable_sequence()->add_param();
  pool->set_name("pool");
  pool->set_text("mean");
  EXPECT_THAT(internal::CreateError(bad, 12, 2),
              HasSubstr("pool = \"mean\" is invalid"));
}

TEST(TransformerXlTest, DeterministicAndBatchIndependent) {
  for (const ModelConfig& config : {Xl(4, 4), Xl(5, 7)}) {
    internal::ExpectDeterministicAndBatchIndependent(config);
  }
}

}  // namespace
}  // namespace lra
