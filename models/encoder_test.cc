#include "models/encoder.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/builtin.h"
#include "models/internal/encoder_testing.h"
#include "models/internal/mean_mixer.h"
#include "models/plugin_params.h"
#include "models/rng.h"

namespace lra {
namespace {

using ::testing::HasSubstr;

ModelConfig SmallConfig() { return internal::SmallModelConfig(); }

// Tokens [batch, seq_len] with trailing padding that differs per example.
std::vector<int32_t> Tokens(int batch, int seq_len, int vocab, uint64_t seed) {
  std::vector<int32_t> tokens(batch * seq_len);
  for (int b = 0; b < batch; ++b) {
    const int real = seq_len - 2 * b;
    for (int t = 0; t < seq_len; ++t) {
      tokens[b * seq_len + t] =
          t < real ? 1 + static_cast<int32_t>(
                             RandomBits(seed, b * seq_len + t) % (vocab - 1))
                   : 0;
    }
  }
  return tokens;
}

std::string CreateError(const ModelConfig& config, int seq_len = 9) {
  return internal::CreateError(config, seq_len, 2);
}

TEST(EncoderConfigTest, DefaultsAreFilled) {
  ModelConfig config;
  config.set_d_model(16);
  ASSERT_TRUE(ResolveModelDefaults(&config).ok());
  EXPECT_EQ(config.positional(), POSITIONAL_LEARNED);
  EXPECT_EQ(config.pooling(), POOLING_CLS);
  EXPECT_EQ(config.attention().name(), "full");
  EXPECT_EQ(config.qkv_dim(), 16);
  EXPECT_EQ(config.mlp_dim(), 64);
  EXPECT_EQ(config.classifier_dim(), 64);
}

TEST(EncoderConfigTest, ErrorsNameTheFieldValueAndRule) {
  EXPECT_EQ(CreateError(SmallConfig()), "ok");
  ModelConfig c = SmallConfig();
  c.set_d_model(-1);
  EXPECT_THAT(CreateError(c),
              HasSubstr("d_model = -1 is invalid; must be > 0"));
  c = SmallConfig();
  c.set_num_heads(0);
  EXPECT_THAT(CreateError(c), HasSubstr("num_heads = 0"));
  c = SmallConfig();
  c.set_num_heads(3);
  EXPECT_THAT(CreateError(c),
              HasSubstr("qkv_dim = 8 is invalid; must be a multiple of "
                        "num_heads (3)"));
  c = SmallConfig();
  c.set_vocab_size(0);
  EXPECT_THAT(CreateError(c), HasSubstr("vocab_size = 0"));
  c = SmallConfig();
  c.set_num_classes(1);
  EXPECT_THAT(CreateError(c),
              HasSubstr("num_classes = 1 is invalid; must be >= 2"));
  c = SmallConfig();
  c.set_dropout(1.0f);
  EXPECT_THAT(CreateError(c),
              HasSubstr("dropout = 1 is invalid; must be in [0, 1)"));
  c = SmallConfig();
  c.set_attention_dropout(-0.5f);
  EXPECT_THAT(CreateError(c), HasSubstr("attention_dropout = -0.5"));
  c = SmallConfig();
  c.set_max_len(5);
  EXPECT_THAT(CreateError(c), HasSubstr("max_len = 5 is invalid; must be 0"));
  c = SmallConfig();
  c.mutable_attention()->set_name("nope");
  // The registered list grows with every plugin; "full" is always in it.
  EXPECT_THAT(CreateError(c),
              HasSubstr("unknown attention 'nope'; registered: "));
  EXPECT_THAT(CreateError(c), HasSubstr("full"));
  c = SmallConfig();
  c.mutable_attention()->set_name("full");
  PluginParam* p = c.mutable_attention()->add_param();
  p->set_name("window");
  p->set_number(2);
  EXPECT_THAT(CreateError(c), HasSubstr("has no parameter 'window'"));
  EXPECT_THAT(CreateError(SmallConfig(), 0), HasSubstr("seq_len (task) = 0"));
}

TEST(EncoderTest, ParameterNamesShapesAndCount) {
  ModelConfig config = SmallConfig();
  config.set_num_layers(1);
  auto encoder = internal::CreateEncoder(config, 9, 2);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  std::vector<std::string> names;
  std::map<std::string, std::string> shapes;
  int64_t total = 0;
  (*encoder)->ForEachParameter(
      [&](const std::string& name, Tensor& value, Tensor& grad) {
        names.push_back(name);
        shapes[name] = value.ShapeString();
        EXPECT_EQ(value.shape(), grad.shape()) << name;
        total += value.size();
      });
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "embed.token",      "embed.position",   "embed.cls",
                "layer0.ln1.gamma", "layer0.ln1.beta",  "layer0.attn.wq",
                "layer0.attn.bq",   "layer0.attn.wk",   "layer0.attn.bk",
                "layer0.attn.wv",   "layer0.attn.bv",   "layer0.attn.wo",
                "layer0.attn.bo",   "layer0.ln2.gamma", "layer0.ln2.beta",
                "layer0.mlp.w1",    "layer0.mlp.b1",    "layer0.mlp.w2",
                "layer0.mlp.b2",    "final_ln.gamma",   "final_ln.beta",
                "head.w1",          "head.b1",          "head.w2",
                "head.b2"}));
  EXPECT_EQ(shapes["embed.token"], "[7, 8]");
  EXPECT_EQ(shapes["embed.position"], "[10, 8]");  // seq_len + CLS
  EXPECT_EQ(shapes["embed.cls"], "[8]");
  EXPECT_EQ(shapes["layer0.attn.wq"], "[8, 8]");
  EXPECT_EQ(shapes["layer0.attn.wo"], "[8, 8]");
  EXPECT_EQ(shapes["layer0.mlp.w1"], "[8, 12]");
  EXPECT_EQ(shapes["layer0.mlp.w2"], "[12, 8]");
  EXPECT_EQ(shapes["head.w1"], "[8, 6]");
  EXPECT_EQ(shapes["head.w2"], "[6, 3]");
  const int64_t expected = 7 * 8 + 10 * 8 + 8 + 4 * 8 + 4 * (8 * 8 + 8) +
                           (8 * 12 + 12) + (12 * 8 + 8) + 2 * 8 + (8 * 6 + 6) +
                           (6 * 3 + 3);
  EXPECT_EQ(total, expected);
  EXPECT_EQ((*encoder)->NumParameters(), expected);

  // Mean pooling and sinusoidal positions: no CLS, no position table.
  config.set_pooling(POOLING_MEAN);
  config.set_positional(POSITIONAL_SINUSOIDAL);
  auto plain = internal::CreateEncoder(config, 9, 2);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->NumParameters(), expected - 10 * 8 - 8);
  config.set_positional(POSITIONAL_LEARNED);
  config.set_max_len(20);
  auto longer = internal::CreateEncoder(config, 9, 2);
  ASSERT_TRUE(longer.ok());
  (*longer)->ForEachParameter(
      [](const std::string& name, Tensor& value, Tensor&) {
        if (name == "embed.position") {
          EXPECT_EQ(value.ShapeString(), "[20, 8]");
        }
      });
}

// 2-D positions: learned ones are a row table and a column table; the
// sinusoidal ones have no parameters.
TEST(EncoderTest, GridPositionParameters) {
  ModelConfig config = SmallConfig();
  config.set_positional(POSITIONAL_LEARNED_2D);
  config.set_grid_width(4);
  auto encoder = internal::CreateEncoder(config, 12, 2);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  std::map<std::string, Tensor> p = internal::ParameterSnapshot(**encoder);
  EXPECT_EQ(p.count("embed.position"), 0u);
  ASSERT_EQ(p.count("embed.position_row"), 1u);
  EXPECT_EQ(p.at("embed.position_row").ShapeString(), "[3, 8]");
  EXPECT_EQ(p.at("embed.position_col").ShapeString(), "[4, 8]");
  config.set_positional(POSITIONAL_SINUSOIDAL_2D);
  auto fixed = internal::CreateEncoder(config, 12, 2);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ((*fixed)->NumParameters(), (*encoder)->NumParameters() - 7 * 8);
}

TEST(EncoderConfigTest, GridWidthErrorsNameTheRule) {
  ModelConfig c = SmallConfig();
  c.set_grid_width(3);
  EXPECT_THAT(CreateError(c),
              HasSubstr("grid_width = 3 is invalid; must be 0 with "
                        "positional = POSITIONAL_LEARNED"));
  c.set_positional(POSITIONAL_SINUSOIDAL_2D);
  EXPECT_EQ(CreateError(c), "ok");  // 3 x 3
  c.set_grid_width(0);
  EXPECT_THAT(CreateError(c),
              HasSubstr("grid_width = 0 is invalid; must be > 0 and divide "
                        "the document length 9 with positional = "
                        "POSITIONAL_SINUSOIDAL_2D"));
  c.set_positional(POSITIONAL_LEARNED_2D);
  c.set_grid_width(4);
  EXPECT_THAT(CreateError(c), HasSubstr("grid_width = 4 is invalid"));
  c.set_grid_width(3);
  c.set_max_len(20);
  EXPECT_THAT(CreateError(c),
              HasSubstr("max_len = 20 is invalid; must be 0 with positional = "
                        "POSITIONAL_LEARNED_2D"));
}

// Learned 2-D positions are learned 1-D positions whose table is row + column:
// an encoder with that table gives the same logits, and its table's gradient
// summed over each row and each column is the row and column gradients.
TEST(EncoderTest, LearnedGridPositionsAreARowPlusColumnTable) {
  for (Pooling pooling : {POOLING_CLS, POOLING_MEAN}) {
    SCOPED_TRACE(Pooling_Name(pooling));
    const int seq_len = 12, cols = 4, rows = 3, d = 8;
    const int offset = pooling == POOLING_CLS ? 1 : 0;
    ModelConfig config = SmallConfig();
    config.set_pooling(pooling);
    config.set_positional(POSITIONAL_LEARNED_2D);
    config.set_grid_width(cols);
    auto grid = *internal::CreateEncoder(config, seq_len, 3);
    config.set_positional(POSITIONAL_LEARNED);
    config.set_grid_width(0);
    auto flat = *internal::CreateEncoder(config, seq_len, 3);
    grid->InitParameters(5);
    std::map<std::string, Tensor> gp = internal::ParameterSnapshot(*grid);
    flat->ForEachParameter([&](const std::string& name, Tensor& v, Tensor&) {
      if (name == "embed.position") {
        GridPositionsForward(gp.at("embed.position_row").data(),
                             gp.at("embed.position_col").data(), rows, cols, d,
                             offset, v.data());
      } else {
        const Tensor& from = gp.at(name);
        std::copy(from.data(), from.data() + from.size(), v.data());
      }
    });
    const std::vector<int32_t> tokens =
        internal::PaddedTokens({12, 9, 5}, seq_len, 4);
    EXPECT_EQ(internal::Logits(*grid, tokens, 3),
              internal::Logits(*flat, tokens, 3));
    const std::vector<int32_t> labels = {2, 0, 1};
    for (Encoder* e : {grid.get(), flat.get()}) {
      e->ZeroGrad();
      e->Forward(tokens.data(), 3, true, 1);
      e->Loss(labels.data(), nullptr);
      e->Backward();
    }
    std::map<std::string, Tensor> gg = internal::ParameterSnapshot(*grid, true);
    std::map<std::string, Tensor> fg = internal::ParameterSnapshot(*flat, true);
    std::vector<float> drow(rows * d, 0.0f), dcol(cols * d, 0.0f);
    GridPositionsBackward(fg.at("embed.position").data(), rows, cols, d, offset,
                          drow.data(), dcol.data());
    const Tensor& grow = gg.at("embed.position_row");
    const Tensor& gcol = gg.at("embed.position_col");
    double total = 0.0;
    for (int i = 0; i < rows * d; ++i) {
      EXPECT_NEAR(grow[i], drow[i], 1e-6) << "row entry " << i;
      total += std::fabs(drow[i]);
    }
    for (int i = 0; i < cols * d; ++i) {
      EXPECT_NEAR(gcol[i], dcol[i], 1e-6) << "column entry " << i;
    }
    EXPECT_GT(total, 0.0);
    for (const auto& [name, g] : fg) {
      if (name == "embed.position") continue;
      for (int64_t i = 0; i < g.size(); ++i) {
        ASSERT_NEAR(gg.at(name)[i], g[i], 1e-6) << name << "[" << i << "]";
      }
    }
  }
}

TEST(EncoderTest, InitIsDeterministicAndFollowsTheScheme) {
  auto a = *internal::CreateEncoder(SmallConfig(), 9, 2);
  auto b = *internal::CreateEncoder(SmallConfig(), 9, 2);
  a->InitParameters(3);
  b->InitParameters(3);
  std::map<std::string, std::vector<float>> values;
  a->ForEachParameter([&](const std::string& name, Tensor& v, Tensor&) {
    values[name].assign(v.data(), v.data() + v.size());
  });
  b->ForEachParameter([&](const std::string& name, Tensor& v, Tensor&) {
    EXPECT_EQ(values[name], std::vector<float>(v.data(), v.data() + v.size()))
        << name;
  });
  EXPECT_EQ(values["layer1.ln2.gamma"], std::vector<float>(8, 1.0f));
  EXPECT_EQ(values["layer1.mlp.b1"], std::vector<float>(12, 0.0f));
  const float bound = std::sqrt(6.0f / (8 + 12));
  for (float w : values["layer0.mlp.w1"]) {
    EXPECT_LE(std::fabs(w), bound);
  }
  double sq = 0;
  for (float w : values["embed.token"]) sq += double(w) * w;
  EXPECT_NEAR(std::sqrt(sq / values["embed.token"].size()), 0.02, 0.008);
  b->InitParameters(4);
  bool differs = false;
  b->ForEachParameter([&](const std::string& name, Tensor& v, Tensor&) {
    if (name == "layer0.attn.wq") differs = v[0] != values[name][0];
  });
  EXPECT_TRUE(differs);
}

TEST(EncoderTest, LogitsDeterministicAndDropoutReproducible) {
  ModelConfig config = SmallConfig();
  config.set_dropout(0.2f);
  config.set_attention_dropout(0.1f);
  auto encoder = *internal::CreateEncoder(config, 9, 3);
  encoder->InitParameters(1);
  const std::vector<int32_t> tokens = Tokens(3, 9, 7, 5);
  auto run = [&](bool training, uint64_t seed) {
    const float* logits = encoder->Forward(tokens.data(), 3, training, seed);
    return std::vector<float>(logits, logits + 9);
  };
  EXPECT_EQ(run(true, 10), run(true, 10));
  EXPECT_NE(run(true, 10), run(true, 11));
  EXPECT_EQ(run(false, 10), run(false, 11));
  EXPECT_NE(run(false, 10), run(true, 10));
  // A second encoder with the same seed gives bit-identical logits.
  auto other = *internal::CreateEncoder(config, 9, 3);
  other->InitParameters(1);
  const float* logits = other->Forward(tokens.data(), 3, true, 10);
  EXPECT_EQ(std::vector<float>(logits, logits + 9), run(true, 10));
}

TEST(EncoderTest, CheckInputsRejectsBadTokensLabelsAndBatch) {
  auto encoder = *internal::CreateEncoder(SmallConfig(), 4, 2);
  const std::vector<int32_t> tokens = {1, 2, 3, 7, 0, 0, 0, 0};
  const std::vector<int32_t> labels = {0, 3};
  EXPECT_THAT(
      std::string(encoder->CheckInputs(tokens.data(), nullptr, 2).message()),
      HasSubstr("token 7 at example 0 position 3"));
  EXPECT_THAT(
      std::string(
          encoder->CheckInputs(tokens.data(), labels.data(), 1).message()),
      HasSubstr("token 7"));
  const std::vector<int32_t> good = {1, 2, 3, 6, 0, 0, 0, 0};
  EXPECT_THAT(
      std::string(
          encoder->CheckInputs(good.data(), labels.data(), 2).message()),
      HasSubstr("label 3 of example 1"));
  EXPECT_THAT(
      std::string(encoder->CheckInputs(good.data(), nullptr, 3).message()),
      HasSubstr("batch = 3"));
  const std::vector<int32_t> good_labels = {0, 2};
  EXPECT_TRUE(encoder->CheckInputs(good.data(), good_labels.data(), 2).ok());
}

using GradCase = internal::GradientVariant;

// The whole-model gradient check of `variant` on 3 sequences of 9 tokens
// below `vocab`: more than 20 entries are compared.
void ExpectGradientsMatch(const ModelConfig& config, const GradCase& variant,
                          int vocab) {
  const int seq_len = 9;
  EXPECT_GT(internal::CheckVariantGradients(config, variant, seq_len,
                                            Tokens(3, seq_len, vocab, 3)),
            20);
}

class EncoderGradientTest : public ::testing::TestWithParam<GradCase> {};

// Central differences on the whole encoder's loss, spot-checking entries of
// every parameter. Dropout masks are a function of the seed, so they stay
// fixed across the perturbed evaluations.
TEST_P(EncoderGradientTest, AllParametersMatchCentralDifferences) {
  ExpectGradientsMatch(SmallConfig(), GetParam(), 7);
}

// The same with the ordinal pixel input (ModelConfig.pixel_intensity).
TEST_P(EncoderGradientTest, AllParametersMatchWithPixelIntensity) {
  ModelConfig config = SmallConfig();
  config.set_vocab_size(257);
  config.set_pixel_intensity(true);
  ExpectGradientsMatch(config, GetParam(), 257);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, EncoderGradientTest,
    ::testing::Values(GradCase{POOLING_CLS, POSITIONAL_LEARNED, 0.0f},
                      GradCase{POOLING_MEAN, POSITIONAL_SINUSOIDAL, 0.0f},
                      GradCase{POOLING_CLS, POSITIONAL_LEARNED, 0.2f},
                      GradCase{POOLING_MEAN, POSITIONAL_NONE, 0.2f}));

class EncoderGridGradientTest : public ::testing::TestWithParam<GradCase> {};

// The same on a 3 x 3 grid with 2-D positions.
TEST_P(EncoderGridGradientTest, AllParametersMatchCentralDifferences) {
  ModelConfig config = SmallConfig();
  config.set_grid_width(3);
  ExpectGradientsMatch(config, GetParam(), 7);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, EncoderGridGradientTest,
    ::testing::Values(GradCase{POOLING_CLS, POSITIONAL_LEARNED_2D, 0.0f},
                      GradCase{POOLING_MEAN, POSITIONAL_LEARNED_2D, 0.2f},
                      GradCase{POOLING_CLS, POSITIONAL_SINUSOIDAL_2D, 0.2f}));

// pixel_intensity adds one [D] parameter, embed.intensity, and needs the
// pixel vocabulary.
TEST(EncoderTest, PixelIntensityParameterAndVocabulary) {
  ModelConfig config = SmallConfig();
  config.set_vocab_size(257);
  auto plain = internal::CreateEncoder(config, 9, 2);
  ASSERT_TRUE(plain.ok()) << plain.status();
  config.set_pixel_intensity(true);
  auto encoder = internal::CreateEncoder(config, 9, 2);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  std::map<std::string, Tensor> p = internal::ParameterSnapshot(**encoder);
  ASSERT_EQ(p.count("embed.intensity"), 1u);
  EXPECT_EQ(p.at("embed.intensity").ShapeString(), "[8]");
  EXPECT_EQ((*encoder)->NumParameters(), (*plain)->NumParameters() + 8);
  EXPECT_EQ(internal::ParameterSnapshot(**plain).count("embed.intensity"), 0u);
  config.set_vocab_size(7);
  EXPECT_THAT(CreateError(config),
              HasSubstr("pixel_intensity = true is invalid; needs "
                        "vocab_size 257"));
}

// With pixel_intensity a pixel token t enters as token[t] + intensity(t) * w,
// intensity(t) = 2 (t - 1) / 255 - 1: an encoder without the option whose
// token table holds those sums gives the same logits, and its table's
// gradient is the token gradient, and summed with intensity(t) weights the
// intensity gradient.
TEST(EncoderTest, PixelIntensityIsATokenTablePlusAScaledDirection) {
  ModelConfig config = SmallConfig();
  config.set_vocab_size(257);
  auto plain = internal::CreateEncoder(config, 9, 4);
  config.set_pixel_intensity(true);
  auto ordinal = internal::CreateEncoder(config, 9, 4);
  ASSERT_TRUE(plain.ok() && ordinal.ok());
  (*ordinal)->InitParameters(4);
  (*plain)->InitParameters(4);
  std::map<std::string, Tensor> p = internal::ParameterSnapshot(**ordinal);
  const Tensor& w = p.at("embed.intensity");
  auto intensity = [](int t) { return 2.0f * (t - 1) / 255.0f - 1.0f; };
  (*plain)->ForEachParameter(
      [&](const std::string& name, Tensor& value, Tensor&) {
        value = p.at(name);
        if (name != "embed.token") return;
        for (int t = 1; t < 257; ++t) {
          for (int d = 0; d < 8; ++d) value[t * 8 + d] += intensity(t) * w[d];
        }
      });
  // Tokens 1 and 256 (the extremes) and others in between.
  std::vector<int32_t> tokens = Tokens(3, 9, 257, 5);
  tokens[0] = 1;
  tokens[1] = 256;
  const std::vector<int32_t> labels = {0, 2, 1};
  const float* lo = (*ordinal)->Forward(tokens.data(), 3, false, 0);
  const float* lp = (*plain)->Forward(tokens.data(), 3, false, 0);
  for (int i = 0; i < 3 * 3; ++i) EXPECT_NEAR(lo[i], lp[i], 1e-5) << i;
  (*ordinal)->ZeroGrad();
  (*plain)->ZeroGrad();
  (*ordinal)->Loss(labels.data(), nullptr);
  (*plain)->Loss(labels.data(), nullptr);
  (*ordinal)->Backward();
  (*plain)->Backward();
  std::map<std::string, Tensor> go =
      internal::ParameterSnapshot(**ordinal, true);
  std::map<std::string, Tensor> gp = internal::ParameterSnapshot(**plain, true);
  const Tensor& dtable = gp.at("embed.token");
  for (int64_t i = 0; i < dtable.size(); ++i) {
    EXPECT_NEAR(go.at("embed.token")[i], dtable[i], 1e-6) << i;
  }
  double norm = 0.0;
  for (int d = 0; d < 8; ++d) {
    double expected = 0.0;
    for (int t = 1; t < 257; ++t) expected += intensity(t) * dtable[t * 8 + d];
    EXPECT_NEAR(go.at("embed.intensity")[d], expected, 1e-5) << d;
    norm += std::fabs(expected);
  }
  EXPECT_GT(norm, 1e-4);  // the check is not vacuous
}

// pixel_intensity_only: the pixel tokens' rows go, the padding row stays
// ([1, D]), and the option needs pixel_intensity.
TEST(EncoderTest, PixelIntensityOnlyDropsThePixelRows) {
  ModelConfig config = SmallConfig();
  config.set_vocab_size(257);
  config.set_pixel_intensity(true);
  auto rows = internal::CreateEncoder(config, 9, 2);
  config.set_pixel_intensity_only(true);
  auto only = internal::CreateEncoder(config, 9, 2);
  ASSERT_TRUE(rows.ok() && only.ok());
  std::map<std::string, Tensor> p = internal::ParameterSnapshot(**only);
  EXPECT_EQ(p.at("embed.token").ShapeString(), "[1, 8]");
  EXPECT_EQ(p.at("embed.intensity").ShapeString(), "[8]");
  EXPECT_EQ((*only)->NumParameters(), (*rows)->NumParameters() - 256 * 8);
  config.set_pixel_intensity(false);
  EXPECT_THAT(CreateError(config),
              HasSubstr("pixel_intensity_only = true is invalid; needs "
                        "pixel_intensity"));
}

// With pixel_intensity_only a pixel token t enters as intensity(t) * w
// alone: an encoder without the option whose token table holds those
// products (and the padding row) gives the same logits, and the intensity
// gradient is its table's gradient summed with intensity(t) weights.
TEST(EncoderTest, PixelIntensityOnlyIsTheScaledDirectionAlone) {
  ModelConfig config = SmallConfig();
  config.set_vocab_size(257);
  auto plain = internal::CreateEncoder(config, 9, 4);
  config.set_pixel_intensity(true);
  config.set_pixel_intensity_only(true);
  auto only = internal::CreateEncoder(config, 9, 4);
  ASSERT_TRUE(plain.ok() && only.ok());
  (*only)->InitParameters(4);
  (*plain)->InitParameters(4);
  std::map<std::string, Tensor> p = internal::ParameterSnapshot(**only);
  const Tensor& w = p.at("embed.intensity");
  auto intensity = [](int t) { return 2.0f * (t - 1) / 255.0f - 1.0f; };
  (*plain)->ForEachParameter(
      [&](const std::string& name, Tensor& value, Tensor&) {
        if (name != "embed.token") {
          value = p.at(name);
          return;
        }
        for (int d = 0; d < 8; ++d) value[d] = p.at(name)[d];
        for (int t = 1; t < 257; ++t) {
          for (int d = 0; d < 8; ++d) value[t * 8 + d] = intensity(t) * w[d];
        }
      });
  std::vector<int32_t> tokens = Tokens(3, 9, 257, 5);
  tokens[0] = 1;
  tokens[1] = 256;
  const std::vector<int32_t> labels = {0, 2, 1};
  const float* lo = (*only)->Forward(tokens.data(), 3, false, 0);
  const float* lp = (*plain)->Forward(tokens.data(), 3, false, 0);
  for (int i = 0; i < 3 * 3; ++i) EXPECT_NEAR(lo[i], lp[i], 1e-5) << i;
  (*only)->ZeroGrad();
  (*plain)->ZeroGrad();
  (*only)->Loss(labels.data(), nullptr);
  (*plain)->Loss(labels.data(), nullptr);
  (*only)->Backward();
  (*plain)->Backward();
  std::map<std::string, Tensor> go = internal::ParameterSnapshot(**only, true);
  std::map<std::string, Tensor> gp = internal::ParameterSnapshot(**plain, true);
  const Tensor& dtable = gp.at("embed.token");
  double norm = 0.0;
  for (int d = 0; d < 8; ++d) {
    EXPECT_NEAR(go.at("embed.token")[d], dtable[d], 1e-6) << d;
    double expected = 0.0;
    for (int t = 1; t < 257; ++t) expected += intensity(t) * dtable[t * 8 + d];
    EXPECT_NEAR(go.at("embed.intensity")[d], expected, 1e-5) << d;
    norm += std::fabs(expected);
  }
  EXPECT_GT(norm, 1e-4);  // the check is not vacuous
}

// Central differences through the intensity-only input.
TEST(EncoderTest, PixelIntensityOnlyGradientsMatchCentralDifferences) {
  const int seq_len = 9;
  ModelConfig config = SmallConfig();
  config.set_vocab_size(257);
  config.set_pixel_intensity(true);
  config.set_pixel_intensity_only(true);
  for (const GradCase& c : {GradCase{POOLING_CLS, POSITIONAL_LEARNED, 0.0f},
                            GradCase{POOLING_MEAN, POSITIONAL_NONE, 0.2f}}) {
    EXPECT_GT(internal::CheckVariantGradients(config, c, seq_len,
                                              Tokens(3, seq_len, 257, 3)),
              20);
  }
}

TEST(EncoderTest, GradientsAccumulateAcrossBackwardCalls) {
  auto encoder = *internal::CreateEncoder(SmallConfig(), 9, 3);
  encoder->InitParameters(2);
  const std::vector<int32_t> tokens = Tokens(3, 9, 7, 8);
  const std::vector<int32_t> labels = {1, 1, 0};
  encoder->ZeroGrad();
  encoder->Forward(tokens.data(), 3, false, 0);
  encoder->Loss(labels.data(), nullptr);
  encoder->Backward();
  std::map<std::string, Tensor> once;
  encoder->ForEachParameter([&](const std::string& name, Tensor&, Tensor& g) {
    once.emplace(name, g);
  });
  encoder->Backward();
  encoder->ForEachParameter([&](const std::string& name, Tensor&, Tensor& g) {
    for (int64_t i = 0; i < g.size(); ++i) {
      ASSERT_NEAR(g[i], 2 * once.at(name)[i], 1e-6 + 1e-5 * std::fabs(g[i]))
          << name;
    }
  });
}

// Random structure follows the run's seed: BigBird's random blocks differ
// between seeds (same parameters, different logits) and repeat for one seed.
TEST(EncoderTest, RandomStructureFollowsTheRunSeed) {
  ModelConfig config = SmallConfig();
  config.mutable_attention()->set_name("bigbird");
  *config.mutable_attention()->add_param() = NumberParam("block_size", 2);
  *config.mutable_attention()->add_param() = NumberParam("random_blocks", 1);
  const int seq_len = 31, batch = 2;
  auto logits = [&](uint64_t seed) {
    auto encoder =
        *Encoder::Create(config, {seq_len, batch, seed}, BuiltinPlugins());
    encoder->InitParameters(3);
    const std::vector<int32_t> tokens = Tokens(batch, seq_len, 7, 5);
    const float* out = encoder->Forward(tokens.data(), batch, false, 0);
    return std::vector<float>(out, out + batch * 3);
  };
  EXPECT_EQ(logits(1), logits(1));
  EXPECT_NE(logits(1), logits(2));
}

// A registered mixer other than attention replaces it in every block; the
// config names it with `mixer`, and `attention` must then be unset.
TEST(EncoderTest, MixerFromTheRegistryReplacesAttention) {
  MixerRegistry mixers;
  RegisterOrDie(mixers, {internal::MeanMixer::Plugin()});
  ModelPlugins plugins = BuiltinPlugins();
  plugins.mixers = &mixers;
  ModelConfig config = SmallConfig();
  config.mutable_mixer()->set_name("mean");
  auto encoder = Encoder::Create(config, {9, 2, 0}, plugins);
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  std::vector<std::string> names;
  (*encoder)->ForEachParameter([&](const std::string& name, Tensor&, Tensor&) {
    names.push_back(name);
  });
  EXPECT_NE(std::find(names.begin(), names.end(), "layer1.mean.mix"),
            names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "layer0.attn.wq"),
            names.end());
  const int checked = internal::CheckAllParameterGradients(
      **encoder, Tokens(2, 9, 7, 3), {0, 2}, 2, /*init_seed=*/4, /*seed=*/1);
  EXPECT_GT(checked, 10);

  config.mutable_attention()->set_name("full");
  EXPECT_THAT(
      std::string(
          Encoder::Create(config, {9, 2, 0}, plugins).status().message()),
      HasSubstr("attention.name = 'full' is invalid; must be unset "
                "with mixer 'mean'"));
  config.clear_attention();
  config.mutable_mixer()->set_name("s5");
  EXPECT_THAT(
      std::string(
          Encoder::Create(config, {9, 2, 0}, plugins).status().message()),
      HasSubstr("unknown mixer 's5'; registered: mean (or 'attention' "
                "for multi-head attention)"));
}

}  // namespace
}  // namespace lra
