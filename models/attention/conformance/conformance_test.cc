// The conformance suite over every built-in plugin and the docs' example: one
// test per (plugin, check), generated from the registry at run time, so a
// plugin added to builtin.cc is covered without writing a test.
#include "models/attention/conformance/conformance.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "models/attention/builtin.h"
#include "models/attention/example/window_attention.h"

namespace lra {
namespace {

// The shipped plugins plus the worked example of docs/plugins.md, which is
// tested like them but not shipped.
const AttentionRegistry& Registry() {
  static const AttentionRegistry* registry = [] {
    auto* r = new AttentionRegistry();
    std::vector<AttentionPlugin> plugins = BuiltinAttentionPlugins();
    plugins.push_back(WindowAttentionPlugin());
    RegisterOrDie(*r, std::move(plugins));
    return r;
  }();
  return *registry;
}

struct PluginCheck {
  std::string plugin;
  std::string check;
};

std::vector<PluginCheck> AllPluginChecks() {
  std::vector<PluginCheck> all;
  for (const std::string& name : Registry().Names()) {
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
      RunConformanceCheck(Registry(), GetParam().plugin, *check);
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
  for (const std::string& name : Registry().Names()) {
    absl::StatusOr<const AttentionPlugin*> plugin = Registry().Find(name);
    ASSERT_TRUE(plugin.ok());
    absl::StatusOr<std::vector<AttentionTestCase>> cases =
        ConformanceTestCases(**plugin);
    ASSERT_TRUE(cases.ok()) << cases.status().message();
    EXPECT_FALSE(cases->empty()) << name;
  }
}

}  // namespace
}  // namespace lra
