#include "eval/html_report.h"

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "eval/results.h"
#include "eval/tables.h"
#include "eval/test_fixtures.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

std::string DemoHtml() {
  const std::string dir = TestTmpPath("demo");
  EXPECT_TRUE(WriteDemoResults(dir).ok());
  absl::StatusOr<ResultSet> results = LoadResults(dir);
  EXPECT_TRUE(results.ok()) << results.status();
  return RenderHtml(BuildReport("results", *results, {}));
}

TEST(HtmlReportTest, SelfContained) {
  std::string html = DemoHtml();
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>"));
  EXPECT_TRUE(absl::EndsWith(html, "</html>\n"));
  // Nothing to fetch and nothing to run: no scripts, no external links,
  // images, fonts or style sheets. The SVG namespace is the one URL.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(CountOccurrences(html, "http"),
            CountOccurrences(html, "http://www.w3.org/2000/svg"));
  EXPECT_EQ(html.find("nan"), std::string::npos);
  EXPECT_EQ(CountOccurrences(html, "<svg"), CountOccurrences(html, "</svg>"));
  EXPECT_EQ(CountOccurrences(html, "<table"),
            CountOccurrences(html, "</table>"));
}

TEST(HtmlReportTest, HasEveryChartWithData) {
  std::string html = DemoHtml();
  // One bubble chart, one learning-curve chart per task (six), time and
  // memory against length.
  EXPECT_EQ(CountOccurrences(html, "<svg class=\"chart\""), 9);
  for (const char* id :
       {"bubble-0", "curve-0", "curve-5", "time-0", "memory-0"}) {
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos)
        << id;
  }
  // Bubbles: the four variants with a measured 4K point and accuracy.
  size_t bubble = html.find("id=\"bubble-0\"");
  std::string bubble_svg =
      html.substr(bubble, html.find("</svg>", bubble) - bubble);
  EXPECT_EQ(CountOccurrences(bubble_svg, "data-point"), 4);
  EXPECT_NE(html.find(">O(N²)<"), std::string::npos);
}

TEST(HtmlReportTest, TablesMarkBestFailedAndReferenceRows) {
  std::string html = DemoHtml();
  EXPECT_NE(html.find("<td class=\"best\""), std::string::npos);
  EXPECT_NE(html.find("class=\"failed\""), std::string::npos);
  // The paper's rows stand among ours, each under its variant's first row.
  EXPECT_NE(html.find("<tr class=\"paper\">"), std::string::npos);
  EXPECT_NE(html.find("LRA paper: Transformer"), std::string::npos);
  EXPECT_NE(html.find(">OOM</td>"), std::string::npos);
  EXPECT_NE(html.find(">&gt; budget</td>"), std::string::npos);
  // Full errors are in tooltips.
  EXPECT_NE(html.find("title=\"killed by signal 9 (out of memory?)\""),
            std::string::npos);
}

TEST(HtmlReportTest, NamesAreEscaped) {
  const std::string dir = TestTmpPath("escape");
  FakeRunSpec spec;
  spec.model = "<b>bold</b>";
  ASSERT_TRUE(WriteFakeRun(dir, "bold", FakeRunResult(spec)).ok());
  absl::StatusOr<ResultSet> results = LoadResults(dir);
  ASSERT_TRUE(results.ok());
  std::string html = RenderHtml(BuildReport("r", *results, {}));
  EXPECT_EQ(html.find("<b>bold</b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
}

TEST(HtmlReportTest, WithoutSweepSaysHowToMakeOne) {
  const std::string dir = TestTmpPath("nosweep");
  ASSERT_TRUE(WriteFinishedRun(dir, FakeRunSpec()).ok());
  absl::StatusOr<ResultSet> results = LoadResults(dir);
  ASSERT_TRUE(results.ok());
  std::string html = RenderHtml(BuildReport("r", *results, {}));
  EXPECT_NE(html.find("lra bench --sweep"), std::string::npos);
  EXPECT_EQ(html.find("id=\"bubble-0\""), std::string::npos);
  EXPECT_NE(html.find("id=\"curve-0\""), std::string::npos);
}

}  // namespace
}  // namespace lra
