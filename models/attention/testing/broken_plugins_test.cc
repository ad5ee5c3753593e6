// Shows that the conformance suite catches broken plugins: each plugin of
// BrokenPlugins() must fail the check that targets its bug, with a message
// that names it, while the faithful wrapper passes every check (so the
// failures come from the bugs, not from the wrapping).
#include "models/attention/testing/broken_plugins.h"

#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/attention/conformance/conformance.h"
#include "models/attention/example/window_attention.h"
#include "models/attention/full/full_attention.h"

namespace lra {
namespace {

using ::testing::HasSubstr;

class BrokenPluginsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(RegisterBrokenPlugins(registry_).ok()); }
  AttentionRegistry registry_;
};

TEST_F(BrokenPluginsTest, EachBugIsCaughtByItsCheck) {
  for (const BrokenPlugin& broken : BrokenPlugins()) {
    if (broken.breakage == Breakage::kNone) continue;
    const ConformanceCheck* check = FindConformanceCheck(broken.caught_by);
    ASSERT_NE(check, nullptr) << broken.caught_by;
    const absl::Status status =
        RunConformanceCheck(registry_, broken.plugin.name, *check);
    EXPECT_FALSE(status.ok())
        << broken.plugin.name << " passed " << broken.caught_by;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("attention '" + broken.plugin.name +
                          "' fails conformance check " + broken.caught_by));
    // The start of each report, so the test log shows what was caught.
    std::cout << std::string(status.message()).substr(0, 700) << "\n...\n";
  }
}

// "broken_none" and the faithful plugin of each contract-v2 input path
// (shared QK, layer input, length-dependent parameter).
TEST_F(BrokenPluginsTest, FaithfulWrapperPassesEveryCheck) {
  int faithful = 0;
  for (const BrokenPlugin& plugin : BrokenPlugins()) {
    if (plugin.breakage != Breakage::kNone) continue;
    ++faithful;
    for (const ConformanceCheck& check : ConformanceChecks()) {
      const absl::Status status =
          RunConformanceCheck(registry_, plugin.plugin.name, check);
      EXPECT_TRUE(status.ok()) << status.message();
    }
  }
  EXPECT_EQ(faithful, 4);
}

// The checks are specific: a plugin that reads padded keys has consistent
// gradients and is deterministic, so only the padding check flags it.
TEST_F(BrokenPluginsTest, ChecksAreSpecific) {
  for (const char* name : {"Gradients", "Determinism", "OutputShapes"}) {
    const absl::Status status = RunConformanceCheck(
        registry_, "broken_padding", *FindConformanceCheck(name));
    EXPECT_TRUE(status.ok()) << status.message();
  }
}

// Two failure messages in full, as a reader of a failing CI log sees them.
TEST_F(BrokenPluginsTest, MessagesNameCaseAndElement) {
  absl::Status status = RunConformanceCheck(registry_, "broken_backward",
                                            *FindConformanceCheck("Gradients"));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("broken_backward [default] N=37: gradients: "));
  EXPECT_THAT(std::string(status.message()), HasSubstr("d/dq[b="));
  status = RunConformanceCheck(registry_, "broken_causal",
                               *FindConformanceCheck("Causality"));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("changed when positions after 0 changed"));
}

// Exemptions are declared with a reason and only where the suite knows what to
// do instead; padding invariance is never exempted.
TEST(ConformanceTestCasesTest, ExemptionsAreChecked) {
  AttentionPlugin plugin = FullAttentionPlugin();
  plugin.capabilities.exemptions = {
      {"PaddingInvariance", AttentionExemption::Treatment::kSkip, "mixes"}};
  EXPECT_THAT(
      std::string(ConformanceTestCases(plugin).status().message()),
      HasSubstr("padding invariance, in particular, is never exempted"));
  plugin.capabilities.exemptions = {
      {"Gradients", AttentionExemption::Treatment::kFreezeStructure, ""}};
  EXPECT_THAT(std::string(ConformanceTestCases(plugin).status().message()),
              HasSubstr("gives no reason"));
  plugin.capabilities.exemptions = {
      {"Determinism", AttentionExemption::Treatment::kFreezeStructure, "x"}};
  EXPECT_FALSE(ConformanceTestCases(plugin).ok());
  plugin.capabilities.exemptions = {
      {"NoSuchCheck", AttentionExemption::Treatment::kSkip, "x"}};
  EXPECT_FALSE(ConformanceTestCases(plugin).ok());
  plugin.capabilities.exemptions = {{"DropoutApplied",
                                     AttentionExemption::Treatment::kSkip,
                                     "no attention matrix"}};
  EXPECT_TRUE(ConformanceTestCases(plugin).ok());
}

// A causal capability that the suite cannot exercise is itself an error.
TEST(ConformanceTestCasesTest, InconsistentCausalDeclarationsFail) {
  AttentionPlugin plugin = FullAttentionPlugin();
  plugin.capabilities.causal = true;
  absl::StatusOr<std::vector<AttentionTestCase>> cases =
      ConformanceTestCases(plugin);
  ASSERT_FALSE(cases.ok());
  EXPECT_THAT(std::string(cases.status().message()),
              HasSubstr("no flag param named 'causal'"));
  plugin.capabilities.causal = false;
  plugin.test_cases = {{"c", {}, /*causal=*/true}};
  EXPECT_FALSE(ConformanceTestCases(plugin).ok());
}

// A causal-capable plugin with a "causal" flag and no causal case gets one.
TEST(ConformanceTestCasesTest, CausalCaseIsDerivedFromTheFlag) {
  AttentionPlugin plugin = WindowAttentionPlugin();
  plugin.test_cases = {{"w2", {NumberParam("window", 2)}}};
  absl::StatusOr<std::vector<AttentionTestCase>> cases =
      ConformanceTestCases(plugin);
  ASSERT_TRUE(cases.ok()) << cases.status().message();
  ASSERT_EQ(cases->size(), 2);
  EXPECT_EQ((*cases)[1].label, "w2, causal");
  EXPECT_TRUE((*cases)[1].causal);
  ASSERT_EQ((*cases)[1].params.size(), 2);
  EXPECT_EQ((*cases)[1].params[1].name(), "causal");
  EXPECT_TRUE((*cases)[1].params[1].flag());
}

TEST(ConformanceTestCasesTest, LengthsRespectMinSeqLen) {
  AttentionTestCase test_case;
  EXPECT_EQ(ConformanceLengths(test_case), (std::vector<int>{1, 37, 130}));
  test_case.min_seq_len = 2;
  EXPECT_EQ(ConformanceLengths(test_case), (std::vector<int>{37, 130}));
  test_case.min_seq_len = 500;
  EXPECT_EQ(ConformanceLengths(test_case), (std::vector<int>{500}));
}

}  // namespace
}  // namespace lra
