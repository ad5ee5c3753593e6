// The mixers that have a golden file of tools/make_ssm_golden.py (an
// independent PyTorch implementation in float64) against it: forward output,
// dx and every parameter gradient to 1e-4 relative. Each mixer is built
// through the registry, as a model builds it, for the golden's shape.
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/mixers/builtin.h"
#include "models/mixers/conformance/golden_check.h"
#include "models/plugin_params.h"

namespace lra::conformance {
namespace {

struct GoldenCase {
  std::string mixer;
  std::vector<PluginParam> params;  // the golden's settings
  std::string path;                 // workspace-relative
};

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.mixer; }

class MixerGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(MixerGoldenTest, MatchesPyTorch) {
  const GoldenCase& c = GetParam();
  std::vector<double> size = ReadGolden(c.path)["shape"];
  ASSERT_EQ(size.size(), 3u) << "no golden at " << c.path;
  MixerShape shape;
  shape.max_seqs = static_cast<int>(size[0]);
  shape.seq_len = static_cast<int>(size[1]);
  shape.d_model = static_cast<int>(size[2]);
  MixerRegistry registry;
  RegisterOrDie(registry, BuiltinMixerPlugins());
  PluginConfig config;
  config.set_name(c.mixer);
  for (const PluginParam& p : c.params) *config.add_param() = p;
  ModelConfig model;
  model.set_d_model(shape.d_model);
  absl::StatusOr<std::unique_ptr<TokenMixer>> mixer =
      registry.Create(config, shape, model);
  ASSERT_TRUE(mixer.ok()) << mixer.status();
  ExpectMatchesGolden(**mixer, c.path);
}

INSTANTIATE_TEST_SUITE_P(
    Goldens, MixerGoldenTest,
    ::testing::Values(GoldenCase{"lru",
                                 {NumberParam("state_size", 3),
                                  FlagParam("bidirectional", true)},
                                 "models/mixers/lru/testdata/golden.txt"},
                      GoldenCase{"s4d",
                                 {NumberParam("state_size", 4),
                                  FlagParam("bidirectional", true)},
                                 "models/mixers/s4d/testdata/golden.txt"}),
    [](const ::testing::TestParamInfo<GoldenCase>& info) {
      return info.param.mixer;
    });

}  // namespace
}  // namespace lra::conformance
