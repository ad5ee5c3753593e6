// The conformance suite over every plugin in BuiltinAttentions(): one test per
// (plugin, check), generated from the registry at run time, so a plugin added
// to builtin.cc is covered without writing a test.
#include "models/attention/conformance/conformance.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "models/attention/builtin.h"

namespace lra {
namespace {

struct PluginCheck {
  std::string plugin;
  std::string check;
};

std::vector<PluginCheck> AllPluginChecks() {
  std::vector<PluginCheck> all;
  for (const std::string& name : BuiltinAttentions().Names()) {
    for (const ConformanceCheck& check : ConformanceChecks()) {
      all.push_back({name, check.name});
    }
  }
  return all;
}

class ConformanceTest : public ::testing::TestWithParam<PluginCheck> {};

TEST_P(ConformanceTest, Passes) {
  const ConformanceCheck* check = FindConformanceCheck(GetParam().check);
  ASSERT_NE(check, nullptr);
  const absl::Status status =
      RunConformanceCheck(BuiltinAttentions(), GetParam().plugin, *check);
  EXPECT_TRUE(status.ok()) << status.message();
}

std::string TestName(const ::testing::TestParamInfo<PluginCheck>& info) {
  std::string name = info.param.plugin + "_" + info.param.check;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Registry, ConformanceTest,
                         ::testing::ValuesIn(AllPluginChecks()), TestName);

// Every registered plugin declares test cases the suite can run.
TEST(ConformanceRegistryTest, EveryPluginHasRunnableTestCases) {
  for (const std::string& name : BuiltinAttentions().Names()) {
    absl::StatusOr<const AttentionPlugin*> plugin =
        BuiltinAttentions().Find(name);
    ASSERT_TRUE(plugin.ok());
    absl::StatusOr<std::vector<AttentionTestCase>> cases =
        ConformanceTestCases(**plugin);
    ASSERT_TRUE(cases.ok()) << cases.status().message();
    EXPECT_FALSE(cases->empty()) << name;
  }
}

}  // namespace
}  // namespace lra
