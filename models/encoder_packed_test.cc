// The encoder on packed real rows (EncoderOptions.pack_real_rows) against the
// padded computation it replaces: logits, loss and every parameter's gradient
// agree within float rounding, for each attention variant whose kernels skip
// padding and a few others, with CLS and mean pooling, dropout, and the dual
// encoder; and packing is refused where a mixer or a sequence plugin needs
// the padded layout.
//
// Tolerance: the two paths run the same per-row arithmetic, except that
// oneDNN's matmuls see other row counts (packed rows in chunks of 64 * 2^k
// rows, see RowCount in linear.h), which may change the kernel's blocking
// and so the order of its sums: weight gradients, summed over rows, and the
// values that depend on them differ in the last bits. Plugins whose padding
// invariance is itself only up to rounding (linformer, performer) see zeros
// at padded positions instead of the padded rows' projections. Every value
// must agree within 2e-5 of its tensor's largest magnitude (plus 1e-7): a
// dropped or misplaced row, a wrong dropout mask or a gradient leaking from
// padding is off by far more.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "models/builtin.h"
#include "models/encoder.h"
#include "models/internal/encoder_testing.h"
#include "models/plugin_params.h"
#include "models/rng.h"

namespace lra {
namespace {

struct Variant {
  std::string label;
  std::string attention;
  std::vector<PluginParam> params;
  Pooling pooling = POOLING_CLS;
  float dropout = 0.0f;
  int segments = 1;
  // Positions on a grid of this many tokens per row (0: learned 1-D).
  PositionalEncoding grid_positional = POSITIONAL_UNSPECIFIED;
  int grid_width = 0;
  // ModelConfig.pixel_intensity (with the pixel vocabulary, 257).
  bool pixel_intensity = false;
};

ModelConfig ConfigFor(const Variant& v) {
  ModelConfig config;
  config.set_name(v.label);
  config.set_vocab_size(v.pixel_intensity ? 257 : 11);
  config.set_pixel_intensity(v.pixel_intensity);
  config.set_d_model(16);
  config.set_num_layers(2);
  config.set_num_heads(2);
  config.set_qkv_dim(16);
  config.set_mlp_dim(24);
  config.set_classifier_dim(10);
  config.set_num_classes(3);
  config.set_pooling(v.pooling);
  config.set_dropout(v.dropout);
  config.set_attention_dropout(v.dropout);
  config.set_num_segments(v.segments);
  if (v.grid_width > 0) {
    config.set_positional(v.grid_positional);
    config.set_grid_width(v.grid_width);
  }
  config.mutable_attention()->set_name(v.attention);
  for (const PluginParam& p : v.params) {
    *config.mutable_attention()->add_param() = p;
  }
  return config;
}

// Tokens [batch, seq_len] (each document padded on its own) with real
// lengths per document: the whole length, lengths not multiples of the
// 64-row tiles, and one of three tokens.
std::vector<int32_t> Tokens(int batch, int seq_len, int segments, int vocab) {
  const int doc = seq_len / segments;
  const int lengths[] = {doc, doc - 23, 3, doc - 1, 40, 7};
  std::vector<int32_t> tokens(static_cast<size_t>(batch) * seq_len, 0);
  int k = 0;
  for (int b = 0; b < batch; ++b) {
    for (int s = 0; s < segments; ++s, ++k) {
      const int real = std::min(doc, lengths[k % 6]);
      for (int t = 0; t < real; ++t) {
        tokens[static_cast<size_t>(b) * seq_len + s * doc + t] =
            1 + static_cast<int32_t>(RandomBits(77, k * doc + t) % (vocab - 1));
      }
    }
  }
  return tokens;
}

std::unique_ptr<Encoder> Make(const ModelConfig& config, int seq_len, int batch,
                              bool pack) {
  EncoderOptions options;
  options.seq_len = seq_len;
  options.max_batch = batch + 1;
  options.seed = 3;
  options.pack_real_rows = pack;
  absl::StatusOr<std::unique_ptr<Encoder>> made =
      Encoder::Create(config, options, BuiltinPlugins());
  EXPECT_TRUE(made.ok()) << made.status();
  if (!made.ok()) return nullptr;
  (*made)->InitParameters(5);
  return *std::move(made);
}

void ExpectClose(const std::string& what, const float* a, const float* b,
                 int64_t n) {
  double scale = 0.0;
  for (int64_t i = 0; i < n; ++i)
    scale = std::max(scale, std::fabs(double(b[i])));
  const double tol = 2e-5 * scale + 1e-7;
  int reported = 0;
  for (int64_t i = 0; i < n && reported < 3; ++i) {
    if (!(std::fabs(double(a[i]) - b[i]) <= tol)) {
      ADD_FAILURE() << what << "[" << i << "]: packed " << a[i] << ", padded "
                    << b[i] << " (tolerance " << tol << ")";
      ++reported;
    }
  }
}

class EncoderPackedTest : public ::testing::TestWithParam<Variant> {};

TEST_P(EncoderPackedTest, MatchesThePaddedComputation) {
  const Variant v = GetParam();
  const int batch = 3, seq_len = v.segments == 2 ? 140 : 70;
  const ModelConfig config = ConfigFor(v);
  std::unique_ptr<Encoder> packed = Make(config, seq_len, batch, true);
  std::unique_ptr<Encoder> padded = Make(config, seq_len, batch, false);
  ASSERT_NE(packed, nullptr);
  ASSERT_NE(padded, nullptr);
  ASSERT_TRUE(packed->packs_real_rows());
  ASSERT_FALSE(padded->packs_real_rows());
  const std::vector<int32_t> tokens =
      Tokens(batch, seq_len, v.segments, config.vocab_size());
  const std::vector<int32_t> labels = {0, 2, 1};
  for (bool training : {false, true}) {
    SCOPED_TRACE(training ? "training" : "evaluation");
    packed->ZeroGrad();
    padded->ZeroGrad();
    const float* lp = packed->Forward(tokens.data(), batch, training, 99);
    const float* ld = padded->Forward(tokens.data(), batch, training, 99);
    ExpectClose("logits", lp, ld, batch * config.num_classes());
    const float loss_p = packed->Loss(labels.data(), nullptr);
    const float loss_d = padded->Loss(labels.data(), nullptr);
    EXPECT_NEAR(loss_p, loss_d, 2e-5 * std::fabs(loss_d) + 1e-7);
    packed->Backward();
    padded->Backward();
    std::map<std::string, Tensor> gp =
        internal::ParameterSnapshot(*packed, true);
    std::map<std::string, Tensor> gd =
        internal::ParameterSnapshot(*padded, true);
    ASSERT_EQ(gp.size(), gd.size());
    double total = 0.0;
    for (auto& [name, grad] : gd) {
      ExpectClose(absl::StrCat("grad of ", name), gp.at(name).data(),
                  grad.data(), grad.size());
      for (int64_t i = 0; i < grad.size(); ++i) total += std::fabs(grad[i]);
    }
    EXPECT_GT(total, 0.0);  // gradients flow at all
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, EncoderPackedTest,
    ::testing::Values(
        Variant{"full_cls", "full", {}},
        Variant{"full_mean_dropout", "full", {}, POOLING_MEAN, 0.1f},
        Variant{"full_dual", "full", {}, POOLING_CLS, 0.1f, 2},
        Variant{"full_learned_2d",
                "full",
                {},
                POOLING_CLS,
                0.1f,
                1,
                POSITIONAL_LEARNED_2D,
                10},
        Variant{"full_dual_sinusoidal_2d",
                "full",
                {},
                POOLING_MEAN,
                0.0f,
                2,
                POSITIONAL_SINUSOIDAL_2D,
                7},
        Variant{"full_pixel_intensity_2d",
                "full",
                {},
                POOLING_MEAN,
                0.1f,
                1,
                POSITIONAL_LEARNED_2D,
                10,
                true},
        Variant{"local", "local", {NumberParam("block_size", 8)}},
        Variant{"bigbird",
                "bigbird",
                {NumberParam("block_size", 4)},
                POOLING_MEAN,
                0.1f},
        Variant{"longformer", "longformer", {NumberParam("window", 9)}},
        Variant{"sparse_transformer",
                "sparse_transformer",
                {NumberParam("block_size", 8), NumberParam("c", 2)}},
        Variant{"linformer", "linformer", {}, POOLING_MEAN},
        Variant{"reformer", "reformer", {}},
        Variant{"synthesizer", "synthesizer", {}, POOLING_MEAN, 0.1f}),
    [](const ::testing::TestParamInfo<Variant>& info) {
      return info.param.label;
    });

TEST(EncoderPackedGateTest, MixersAndSequencePluginsKeepThePaddedLayout) {
  // A state-space mixer reads every position in order: no packing.
  ModelConfig s4d = ConfigFor(Variant{"s4d", "", {}});
  s4d.clear_attention();
  s4d.mutable_mixer()->set_name("s4d");
  std::unique_ptr<Encoder> e = Make(s4d, 70, 2, true);
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->packs_real_rows());
  // A sequence plugin calls the blocks on layouts of its own.
  ModelConfig memory = ConfigFor(Variant{"memory", "full", {}, POOLING_MEAN});
  memory.mutable_sequence()->set_name("global_memory");
  *memory.mutable_sequence()->add_param() = NumberParam("memory_slots", 2);
  e = Make(memory, 70, 2, true);
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->packs_real_rows());
  // The attention mixer packs by default.
  e = Make(ConfigFor(Variant{"full", "full", {}}), 70, 2, true);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->packs_real_rows());
}

}  // namespace
}  // namespace lra
