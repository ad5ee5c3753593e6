#include "eval/svg_plot.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "eval/test_fixtures.h"
#include "gtest/gtest.h"

namespace lra {
namespace {

// The values of every `name="..."` attribute in `svg`.
std::vector<double> AttributeValues(const std::string& svg,
                                    const std::string& name) {
  std::vector<double> values;
  const std::string key = " " + name + "=\"";
  for (size_t at = svg.find(key); at != std::string::npos;
       at = svg.find(key, at + 1)) {
    size_t start = at + key.size();
    double value;
    if (absl::SimpleAtod(svg.substr(start, svg.find('"', start) - start),
                         &value)) {
      values.push_back(value);
    }
  }
  return values;
}

TEST(TicksTest, LinearTicksAreRoundAndCoverTheRange) {
  std::vector<double> ticks = LinearTicks(0, 1, 5);
  ASSERT_EQ(ticks.size(), 6u);
  EXPECT_DOUBLE_EQ(ticks[3], 0.6);
  ticks = LinearTicks(13, 87, 5);
  EXPECT_LE(ticks.front(), 13);
  EXPECT_GE(ticks.back(), 87);
  EXPECT_DOUBLE_EQ(ticks[1] - ticks[0], 20);
}

TEST(TicksTest, LogTicksFollowOneTwoFive) {
  std::vector<double> ticks = LogTicks(90, 11000);
  EXPECT_EQ(ticks,
            (std::vector<double>{100, 200, 500, 1000, 2000, 5000, 10000}));
  // Many decades: powers of ten only.
  ticks = LogTicks(1, 1e6);
  EXPECT_EQ(ticks.size(), 7u);
}

PlotSpec LineSpec() {
  PlotSpec spec;
  spec.id = "test";
  spec.title = "A <title> & more";
  spec.x.title = "length";
  spec.y.title = "time";
  spec.x.log = true;
  spec.y.log = true;
  PlotSeries a;
  a.name = "full";
  a.points = {{1024, 10}, {2048, 40}, {4096, 160}};
  PlotSeries b;
  b.name = "local";
  b.marker = Marker::kSquare;
  // Zero cannot be drawn on a log axis: it is dropped, not drawn at -inf.
  b.points = {{1024, 5}, {2048, 10}, {4096, 0}};
  spec.series = {a, b};
  spec.slopes = {{"O(N)", 1024, 10, 1}, {"O(N²)", 1024, 10, 2}};
  return spec;
}

TEST(RenderSvgPlotTest, EveryVisiblePointIsMarkedAndInsideTheChart) {
  PlotSpec spec = LineSpec();
  std::string svg = RenderSvgPlot(spec);
  EXPECT_TRUE(absl::StartsWith(svg, "<svg class=\"chart\" id=\"test\""));
  EXPECT_EQ(CountOccurrences(svg, "data-point=\"1\""), 5);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_NE(svg.find("A &lt;title&gt; &amp; more"), std::string::npos);
  // Circles of the data (not the legend's markers) lie in the view box.
  for (double x : AttributeValues(svg, "cx")) {
    EXPECT_GE(x, 0);
    EXPECT_LE(x, spec.width);
  }
  for (double y : AttributeValues(svg, "cy")) {
    EXPECT_GE(y, 0);
    EXPECT_LE(y, spec.height);
  }
  EXPECT_NE(svg.find(">O(N)<"), std::string::npos);
  EXPECT_NE(svg.find(">O(N²)<"), std::string::npos);
  EXPECT_NE(svg.find("clip-path=\"url(#test-clip)\""), std::string::npos);
  // The legend names both series.
  EXPECT_NE(svg.find(">full</text>"), std::string::npos);
  EXPECT_NE(svg.find(">local</text>"), std::string::npos);
}

TEST(RenderSvgPlotTest, LargerValuesAreHigherOnTheChart) {
  PlotSpec spec;
  spec.id = "order";
  PlotSeries series;
  series.name = "s";
  series.points = {{0, 1}, {1, 3}};
  spec.series = {series};
  std::string svg = RenderSvgPlot(spec);
  size_t first = svg.find("data-point");
  size_t second = svg.find("data-point", first + 1);
  ASSERT_NE(second, std::string::npos);
  std::vector<double> cy = AttributeValues(svg.substr(first - 80), "cy");
  ASSERT_GE(cy.size(), 2u);
  // SVG's y grows downwards: the larger value has the smaller cy.
  EXPECT_GT(cy[0], cy[1]);
}

TEST(RenderSvgPlotTest, BubbleAreaIsProportionalToSize) {
  PlotSpec spec;
  spec.id = "bubbles";
  spec.bubbles = true;
  spec.size_title = "memory";
  PlotSeries big, small;
  big.name = "big";
  big.points = {{1, 50, 4.0, "big", ""}};
  small.name = "small";
  small.points = {{2, 40, 1.0, "small", ""}};
  spec.series = {big, small};
  std::string svg = RenderSvgPlot(spec);
  EXPECT_EQ(CountOccurrences(svg, "data-point=\"1\""), 2);
  // Radii of the two data bubbles: 4x the area is 2x the radius.
  std::vector<double> radii;
  for (size_t at = svg.find("<circle data-point"); at != std::string::npos;
       at = svg.find("<circle data-point", at + 1)) {
    std::string element = svg.substr(at, svg.find('>', at) - at);
    std::vector<double> r = AttributeValues(element, "r");
    ASSERT_EQ(r.size(), 1u);
    radii.push_back(r[0]);
  }
  ASSERT_EQ(radii.size(), 2u);
  EXPECT_NEAR(radii[0] / radii[1], 2.0, 0.02);
  EXPECT_NE(svg.find(">big</text>"), std::string::npos);
  EXPECT_NE(svg.find("bubble area:"), std::string::npos);
}

TEST(RenderSvgPlotTest, OneValueGetsAPositiveRangeAroundIt) {
  PlotSpec spec;
  spec.id = "single";
  spec.x.tick_label = [](double v) { return "x" + std::to_string(v); };
  PlotSeries series;
  series.name = "s";
  series.points = {{1.0, 50}};
  spec.series = {series};
  std::string svg = RenderSvgPlot(spec);
  // No negative tick on an axis of non-negative values.
  EXPECT_EQ(svg.find(">x-"), std::string::npos) << svg;
  EXPECT_NE(svg.find(">x1.000000<"), std::string::npos) << svg;
}

TEST(XmlEscapeTest, EscapesMarkup) {
  EXPECT_EQ(XmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
}

}  // namespace
}  // namespace lra
