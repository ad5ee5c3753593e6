// Every built-in token mixer, in its default setting and in each of its
// declared test cases, through every conformance check.
#include <cctype>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/mixers/builtin.h"
#include "models/mixers/conformance/mixer_checks.h"

namespace lra::conformance {
namespace {

struct Case {
  MixerPlugin plugin;
  std::string label;
  std::vector<PluginParam> params;
};

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const MixerPlugin& plugin : BuiltinMixerPlugins()) {
    cases.push_back({plugin, "default", {}});
    for (const MixerTestCase& test_case : plugin.test_cases) {
      cases.push_back({plugin, test_case.label, test_case.params});
    }
  }
  return cases;
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.plugin.name << "/" << c.label;
}

class MixerConformanceTest : public ::testing::TestWithParam<Case> {
 protected:
  MixerMaker Maker() const {
    const Case c = GetParam();
    return [c](const MixerShape& shape)
               -> absl::StatusOr<std::unique_ptr<TokenMixer>> {
      MixerRegistry registry;
      RegisterOrDie(registry, {c.plugin});
      PluginConfig config;
      config.set_name(c.plugin.name);
      for (const PluginParam& p : c.params) *config.add_param() = p;
      ModelConfig model;
      model.set_d_model(shape.d_model);
      return registry.Create(config, shape, model);
    };
  }
};

TEST_P(MixerConformanceTest, InputGradient) {
  EXPECT_TRUE(CheckInputGradient(Maker()));
}
TEST_P(MixerConformanceTest, ParameterGradients) {
  EXPECT_TRUE(CheckParameterGradients(Maker()));
}
TEST_P(MixerConformanceTest, PaddingInvariance) {
  EXPECT_TRUE(CheckPaddingInvariance(Maker()));
}
TEST_P(MixerConformanceTest, Determinism) {
  EXPECT_TRUE(CheckDeterminism(Maker()));
}
TEST_P(MixerConformanceTest, BatchIndependence) {
  EXPECT_TRUE(CheckBatchIndependence(Maker()));
}

TEST(MixerConformanceCoverageTest, EveryBuiltinMixerHasCases) {
  EXPECT_GE(BuiltinMixerPlugins().size(), 2u);  // s4d, lru
}

INSTANTIATE_TEST_SUITE_P(BuiltinMixers, MixerConformanceTest,
                         ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name =
                               info.param.plugin.name + "_" + info.param.label;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace lra::conformance
