// The HTML report in a real browser (Debian's headless Chromium): it loads
// without a console error, every chart has data points inside its drawing,
// and the report and a screenshot are kept in the test's outputs
// (bazel-testlogs/eval/report_browser_test/test.outputs/outputs.zip).
// Without Chromium the test fails and says how to install it.

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/text_proto.h"
#include "eval/commands.h"
#include "eval/headless_chromium.h"
#include "eval/test_fixtures.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// Where Bazel keeps files a test leaves behind.
std::string OutputsDir() {
  const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  return dir != nullptr ? dir : TestTmpPath("outputs");
}

// Runs in the page: for every chart, how many data points it has and how
// many of them are not drawn inside the chart's box (zero-sized, outside or
// not finite). Also whether "NaN" or "Infinity" was rendered anywhere.
constexpr char kCheckScript[] = R"js(
(() => {
  const charts = [...document.querySelectorAll('svg.chart')].map(svg => {
    const box = svg.getBoundingClientRect();
    const points = [...svg.querySelectorAll('[data-point]')];
    const outside = points.filter(p => {
      const r = p.getBoundingClientRect();
      return !(r.width > 0 && r.height > 0 && Number.isFinite(r.x) &&
               Number.isFinite(r.y) && r.left >= box.left - 1 &&
               r.right <= box.right + 1 && r.top >= box.top - 1 &&
               r.bottom <= box.bottom + 1);
    }).length;
    return {id: svg.id, points: points.length, outside: outside,
            width: box.width};
  });
  const text = document.body.innerText;
  return JSON.stringify({charts: charts,
                         tables: document.querySelectorAll('table').length,
                         badNumbers: /\bNaN\b|Infinity/.test(text) ||
                             /NaN|Infinity/.test(
                                 document.documentElement.outerHTML)});
})()
)js";

Struct ParseJson(const std::string& json) {
  Struct parsed;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok())
      << json;
  return parsed;
}

BrowserOptions Browser(const std::string& name) {
  BrowserOptions options;
  options.user_data_dir = TestTmpPath("profile-" + name);
  options.timeout_seconds = 60;
  return options;
}

TEST(ReportBrowserTest, DemoReportRendersWithoutErrorsAndWithData) {
  const std::string results = TestTmpPath("results");
  ASSERT_TRUE(WriteDemoResults(results).ok());
  LeaderboardOptions leaderboard;
  leaderboard.results_dir = results;
  leaderboard.format = "html";
  leaderboard.out = OutputsDir() + "/report.html";
  ASSERT_TRUE(MakeDirs(OutputsDir()).ok());
  ASSERT_TRUE(LeaderboardCommand(leaderboard).ok());

  absl::StatusOr<PageReport> page = LoadPageInHeadlessChromium(
      leaderboard.out, kCheckScript, Browser("demo"));
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_TRUE(
      WriteFileAtomic(OutputsDir() + "/report.png", page->screenshot_png).ok());
  std::cerr << "screenshot: " << OutputsDir() << "/report.png ("
            << page->screenshot_png.size() << " bytes)\n";

  EXPECT_TRUE(page->errors.empty()) << absl::StrJoin(page->errors, "\n");
  Struct check = ParseJson(page->evaluation);
  const Value& charts = check.fields().at("charts");
  ASSERT_TRUE(charts.has_list_value()) << page->evaluation;
  // Bubble chart, six learning-curve charts, time and memory vs length.
  EXPECT_EQ(charts.list_value().values_size(), 9) << page->evaluation;
  for (const Value& chart : charts.list_value().values()) {
    const auto& fields = chart.struct_value().fields();
    const std::string id = fields.at("id").string_value();
    EXPECT_GT(fields.at("points").number_value(), 0) << id;
    EXPECT_EQ(fields.at("outside").number_value(), 0) << id;
    EXPECT_GT(fields.at("width").number_value(), 200) << id;
  }
  EXPECT_EQ(check.fields().at("tables").number_value(), 3);
  EXPECT_FALSE(check.fields().at("badNumbers").bool_value());
  // A real PNG of a page taller than the viewport.
  ASSERT_GT(page->screenshot_png.size(), 24u);
  EXPECT_EQ(page->screenshot_png.substr(1, 3), "PNG");
}

// The checks can fail: a page with a script error, a console error, a
// missing image and a chart without points is caught on every count.
TEST(ReportBrowserTest, BrokenPageIsCaught) {
  const std::string path = TestTmpPath("broken.html");
  ASSERT_TRUE(
      WriteFileAtomic(path,
                      "<!DOCTYPE html><html><body>"
                      "<img src=\"missing.png\">"
                      "<svg class=\"chart\" id=\"empty\" width=\"300\" "
                      "height=\"100\"></svg>"
                      "<script>console.error('drawn wrong'); undefinedCall();"
                      "</script></body></html>")
          .ok());
  absl::StatusOr<PageReport> page =
      LoadPageInHeadlessChromium(path, kCheckScript, Browser("broken"));
  ASSERT_TRUE(page.ok()) << page.status();
  std::string errors = absl::StrJoin(page->errors, "\n");
  EXPECT_NE(errors.find("drawn wrong"), std::string::npos) << errors;
  EXPECT_NE(errors.find("undefinedCall"), std::string::npos) << errors;
  EXPECT_NE(errors.find("missing.png"), std::string::npos) << errors;
  Struct check = ParseJson(page->evaluation);
  const Value& chart = check.fields().at("charts").list_value().values(0);
  EXPECT_EQ(chart.struct_value().fields().at("points").number_value(), 0);
}

TEST(ReportBrowserTest, MissingChromiumFailsWithHowToInstall) {
  BrowserOptions options = Browser("none");
  options.chromium = "/nonexistent/chromium";
  absl::StatusOr<PageReport> page =
      LoadPageInHeadlessChromium(TestTmpPath("broken.html"), "1", options);
  ASSERT_FALSE(page.ok());
  EXPECT_NE(page.status().message().find("apt-get install -y chromium"),
            std::string::npos);
}

// Two configurations of sparse_transformer, only the default measured: in
// the rendered page the bubble chart has two bubbles (no borrowed figures for
// mode=strided), and the efficiency table shows the strided row as not
// measured.
TEST(ReportBrowserTest, UnmeasuredConfigurationIsNotDrawn) {
  const std::string results = TestTmpPath("two-configurations");
  ASSERT_TRUE(WriteTwoConfigurationResults(results, false).ok());
  LeaderboardOptions leaderboard;
  leaderboard.results_dir = results;
  leaderboard.format = "html";
  leaderboard.out = OutputsDir() + "/two-configurations.html";
  ASSERT_TRUE(MakeDirs(OutputsDir()).ok());
  ASSERT_TRUE(LeaderboardCommand(leaderboard).ok());
  constexpr char kScript[] = R"js(
(() => {
  const bubble = document.querySelector('svg#bubble-0');
  const labels = bubble ? [...bubble.querySelectorAll('[data-point]')]
      .map(p => (p.querySelector('title') || p).textContent) : [];
  const rows = [...document.querySelectorAll('tr')]
      .filter(r => r.innerText.startsWith('sparse_transformer (mode=strided)'))
      .map(r => r.innerText);
  return JSON.stringify({bubbles: labels.length,
                         strided: labels.filter(
                             l => l.includes('sparse-strided')).length,
                         rows: rows.join(' | ')});
})()
)js";
  absl::StatusOr<PageReport> page = LoadPageInHeadlessChromium(
      leaderboard.out, kScript, Browser("two-configurations"));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->errors.empty()) << absl::StrJoin(page->errors, "\n");
  Struct check = ParseJson(page->evaluation);
  EXPECT_EQ(check.fields().at("bubbles").number_value(), 2) << page->evaluation;
  EXPECT_EQ(check.fields().at("strided").number_value(), 0) << page->evaluation;
  const std::string rows = check.fields().at("rows").string_value();
  EXPECT_NE(rows.find("not measured"), std::string::npos) << page->evaluation;
}

// Names from a shared results folder reach the page as text, never as
// markup: a report of runs named with HTML, quotes, '|' and a closing script
// tag (and a failed run whose error is a script) loads without an error (an
// injected <img src=x> would fail to load, an alert would stall the page
// until the timeout), runs no injected script, has no injected element or
// event handler, and shows each name literally.
TEST(ReportBrowserTest, HostileNamesAreShownLiterallyAndRunNothing) {
  const std::string results = TestTmpPath("hostile");
  ASSERT_TRUE(WriteHostileNameResults(results).ok());
  LeaderboardOptions leaderboard;
  leaderboard.results_dir = results;
  leaderboard.format = "html";
  leaderboard.out = OutputsDir() + "/hostile.html";
  ASSERT_TRUE(MakeDirs(OutputsDir()).ok());
  ASSERT_TRUE(LeaderboardCommand(leaderboard).ok());
  std::vector<std::string> quoted;
  for (const std::string& name : HostileNames()) {
    quoted.push_back(JsonQuote(name));
  }
  const std::string script = absl::StrCat(R"js(
(() => {
  const names = [)js",
                                          absl::StrJoin(quoted, ", "), R"js(];
  const text = document.body.innerText;
  const handlers = [...document.querySelectorAll('*')].filter(
      e => [...e.attributes].some(a => /^on/i.test(a.name))).length;
  return JSON.stringify({
    missing: names.filter(n => !text.includes(n)),
    shown: names.filter(n => text.includes(n)).length,
    pwned: window.pwned === 1,
    injected: document.querySelectorAll('img[src="x"], svg[onload]').length,
    handlers: handlers,
    scripts: [...document.querySelectorAll('script')]
        .filter(s => s.textContent.includes('pwned')).length,
    error: text.includes('window.pwned=1</script>')});
})()
)js");
  absl::StatusOr<PageReport> page =
      LoadPageInHeadlessChromium(leaderboard.out, script, Browser("hostile"));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->errors.empty()) << absl::StrJoin(page->errors, "\n");
  Struct check = ParseJson(page->evaluation);
  EXPECT_EQ(check.fields().at("shown").number_value(), HostileNames().size())
      << page->evaluation;
  EXPECT_EQ(check.fields().at("missing").list_value().values_size(), 0)
      << page->evaluation;
  EXPECT_FALSE(check.fields().at("pwned").bool_value()) << page->evaluation;
  EXPECT_EQ(check.fields().at("injected").number_value(), 0);
  EXPECT_EQ(check.fields().at("handlers").number_value(), 0);
  EXPECT_EQ(check.fields().at("scripts").number_value(), 0);
  EXPECT_TRUE(check.fields().at("error").bool_value()) << page->evaluation;
}

// The check above can fail: the same names written into a page unescaped
// run the injected scripts and add the image, whose failed load is an error.
TEST(ReportBrowserTest, UnescapedNamesAreCaught) {
  const std::string path = TestTmpPath("unescaped.html");
  std::string html = "<!DOCTYPE html><html><body><table>";
  // Without the alert (it would hold the page until the timeout), and with
  // an <img src=x> that only fails to load.
  for (const std::string& name : HostileNames()) {
    if (name.find("alert") != std::string::npos) continue;
    absl::StrAppend(&html, "<tr><td>", name, "</td></tr>");
  }
  absl::StrAppend(&html, "<tr><td><img src=x></td></tr>");
  absl::StrAppend(&html, "</table></body></html>");
  ASSERT_TRUE(WriteFileAtomic(path, html).ok());
  absl::StatusOr<PageReport> page = LoadPageInHeadlessChromium(
      path,
      "JSON.stringify({pwned: window.pwned === 1, injected: "
      "document.querySelectorAll('img[src=\"x\"]').length})",
      Browser("unescaped"));
  ASSERT_TRUE(page.ok()) << page.status();
  Struct check = ParseJson(page->evaluation);
  EXPECT_TRUE(check.fields().at("pwned").bool_value()) << page->evaluation;
  EXPECT_EQ(check.fields().at("injected").number_value(), 1);
  EXPECT_FALSE(page->errors.empty());
}

}  // namespace
}  // namespace lra
