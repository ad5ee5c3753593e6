// Speed and memory belong to the attention configuration that was trained:
// two configurations of one variant each get their own figures, or "not
// measured", in every output (issue: a strided sparse_transformer borrowed
// the default pattern's figures).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "config/plugin_param.h"
#include "eval/format.h"
#include "eval/html_report.h"
#include "eval/results.h"
#include "eval/tables.h"
#include "eval/test_fixtures.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

Report MakeReport(const std::string& name, bool measure_strided) {
  const std::string dir = TestTmpPath(name);
  EXPECT_TRUE(WriteTwoConfigurationResults(dir, measure_strided).ok());
  absl::StatusOr<ResultSet> results = LoadResults(dir);
  EXPECT_TRUE(results.ok()) << results.status();
  return BuildReport("results", *results, {});
}

const EfficiencyRow* FindRow(const EfficiencyTable& table,
                             const std::string& label) {
  for (const EfficiencyRow& row : table.rows) {
    if (row.label == label) return &row;
  }
  return nullptr;
}

TEST(AttentionConfigLabelTest, NamesWhatDiffersSortedByName) {
  PluginConfig config;
  config.set_name("sparse_transformer");
  EXPECT_EQ(AttentionConfigLabel(config), "sparse_transformer");
  *config.add_param() = NumberParam("stride", 8);
  *config.add_param() = TextParam("mode", "strided");
  EXPECT_EQ(AttentionConfigLabel(config),
            "sparse_transformer (mode=strided, stride=8)");
  EXPECT_EQ(AttentionConfigLabel(PluginConfig()), "full");
}

TEST(ConfigMatchTest, UnmeasuredConfigurationBorrowsNothing) {
  Report report = MakeReport("unmeasured", false);
  ASSERT_EQ(report.efficiency.size(), 1u);
  const EfficiencyTable& eff = report.efficiency[0];
  const EfficiencyRow* fixed = FindRow(eff, "sparse_transformer");
  ASSERT_NE(fixed, nullptr);
  EXPECT_FALSE(fixed->not_measured);
  EXPECT_TRUE(fixed->cells[0].measured);
  const EfficiencyRow* strided =
      FindRow(eff, "sparse_transformer (mode=strided)");
  ASSERT_NE(strided, nullptr);
  EXPECT_TRUE(strided->not_measured);
  for (const EfficiencyCell& cell : strided->cells) {
    EXPECT_FALSE(cell.measured);
    EXPECT_EQ(cell.short_error, "not measured");
  }

  BubbleChart chart = BuildBubbleChart(report.accuracy, eff);
  std::vector<std::string> labels;
  for (const Bubble& bubble : chart.bubbles) labels.push_back(bubble.label);
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(labels, (std::vector<std::string>{"sparse-fixed", "transformer"}))
      << "sparse-strided must not borrow sparse_transformer's figures";
  bool noted = false;
  for (const std::string& note : chart.notes) {
    if (absl::StrContains(note, "sparse-strided: not measured") &&
        absl::StrContains(note, "sparse_transformer (mode=strided)")) {
      noted = true;
    }
  }
  EXPECT_TRUE(noted) << absl::StrJoin(chart.notes, "\n");

  const std::string md = RenderMarkdown(report);
  bool md_row = false;
  for (absl::string_view line : absl::StrSplit(md, '\n')) {
    if (absl::StartsWith(line, "| sparse_transformer (mode=strided) |")) {
      md_row = true;
      EXPECT_TRUE(absl::StrContains(line, "not measured")) << line;
      EXPECT_FALSE(absl::StrContains(line, "×")) << line;
    }
  }
  EXPECT_TRUE(md_row) << md;

  const std::string csv = RenderCsv(report);
  EXPECT_TRUE(absl::StrContains(
      csv, "efficiency,ours,sparse_transformer (mode=strided),"))
      << csv;
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    if (absl::StrContains(line, "(mode=strided)") &&
        absl::StartsWith(line, "efficiency")) {
      EXPECT_TRUE(absl::StrContains(line, "not measured")) << line;
    }
  }

  const std::string html = RenderHtml(report);
  EXPECT_TRUE(absl::StrContains(html, "sparse_transformer (mode=strided)"));
  // The bubble chart's tooltips name only measured configurations.
  EXPECT_TRUE(absl::StrContains(html, "sparse-fixed (sparse_transformer)"));
  EXPECT_FALSE(absl::StrContains(html, "sparse-strided (sparse_transformer"));
  EXPECT_TRUE(absl::StrContains(html, "sparse-strided: not measured"));
}

TEST(ConfigMatchTest, EachConfigurationGetsItsOwnFigures) {
  Report report = MakeReport("measured", true);
  const EfficiencyTable& eff = report.efficiency[0];
  const EfficiencyRow* fixed = FindRow(eff, "sparse_transformer");
  const EfficiencyRow* row = FindRow(eff, "sparse_transformer (mode=strided)");
  ASSERT_NE(fixed, nullptr);
  ASSERT_NE(row, nullptr);
  EXPECT_FALSE(row->not_measured);
  // At 4K: full 1600 ms, default sparse 640 ms, strided 80 ms.
  EXPECT_NEAR(fixed->cells[2].relative_speed, 2.5, 1e-9);
  EXPECT_NEAR(row->cells[2].relative_speed, 20.0, 1e-9);

  BubbleChart chart = BuildBubbleChart(report.accuracy, eff);
  ASSERT_EQ(chart.bubbles.size(), 3u);
  for (const Bubble& bubble : chart.bubbles) {
    if (bubble.label == "sparse-strided") {
      EXPECT_NEAR(bubble.speed, 20.0, 1e-9);
      EXPECT_EQ(bubble.config, "sparse_transformer (mode=strided)");
    }
    if (bubble.label == "sparse-fixed") {
      EXPECT_NEAR(bubble.speed, 2.5, 1e-9);
    }
  }
  const std::string md = RenderMarkdown(report);
  EXPECT_TRUE(absl::StrContains(md, "| sparse_transformer (mode=strided) | "));
}

// Handler and mixer rows of `lra bench --sweep` (issue 11): each is its own
// row of the efficiency table, named by the bench's label, so two handlers
// of one name with different mixers inside never share figures.
TEST(ConfigMatchTest, HandlerAndMixerRowsAreShownUnderTheBenchLabel) {
  const std::string dir = TestTmpPath("handlers");
  BenchSweep sweep = FakeSweep({
      {"full", 1024, 100, 200, ""},
      {"rmt", 1024, 40, 90, ""},
      {"rmt", 1024, 30, 80, ""},
      {"transformer_xl", 1024, 60, 120, ""},
      {"isab", 1024, 20, 70, ""},
      {"s4d", 1024, 25, 60, ""},
      {"lru", 1024, 22, 50, ""},
  });
  const std::vector<std::string> labels = {"full",
                                           "rmt (full)",
                                           "rmt (isab, memory_slots=4)",
                                           "transformer_xl",
                                           "isab",
                                           "s4d",
                                           "lru"};
  for (int i = 0; i < sweep.point_size(); ++i) {
    sweep.mutable_point(i)->set_label(labels[i]);
  }
  sweep.mutable_point(1)->mutable_sequence()->set_name("rmt");
  sweep.mutable_point(2)->mutable_sequence()->set_name("rmt");
  sweep.mutable_point(2)->mutable_mixer()->set_name("isab");
  ASSERT_TRUE(WriteSweep(dir, sweep).ok());
  ASSERT_TRUE(WriteFinishedRun(dir, Spec("listops", "transformer", 0.37)).ok());
  absl::StatusOr<ResultSet> results = LoadResults(dir);
  ASSERT_TRUE(results.ok()) << results.status();
  Report report = BuildReport("results", *results, {});
  ASSERT_EQ(report.efficiency.size(), 1u);
  const EfficiencyTable& eff = report.efficiency[0];
  for (const std::string& label : labels) {
    const EfficiencyRow* row = FindRow(eff, label);
    ASSERT_NE(row, nullptr) << label;
    EXPECT_TRUE(row->cells[0].measured) << label;
  }
  EXPECT_NEAR(FindRow(eff, "rmt (full)")->cells[0].step_ms, 40, 1e-9);
  EXPECT_NEAR(FindRow(eff, "rmt (isab, memory_slots=4)")->cells[0].step_ms, 30,
              1e-9);
  const std::string md = RenderMarkdown(report);
  for (const std::string& label : labels) {
    EXPECT_TRUE(absl::StrContains(md, "| " + label + " |")) << label << "\n"
                                                            << md;
  }
}

}  // namespace
}  // namespace lra
