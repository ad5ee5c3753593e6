// Charts as inline SVG: line, scatter and bubble plots with linear or log
// axes, ticks, grid, legend and reference slopes. No JavaScript, no fonts or
// files from outside: the SVG text is complete in itself.
//
// Every plotted datum is an element with a `data-point` attribute (and a
// <title> tooltip), so a test can count what a chart shows.
#ifndef EVAL_SVG_PLOT_H_
#define EVAL_SVG_PLOT_H_

#include <functional>
#include <string>
#include <vector>

namespace lra {

// Colour-blind-safe colours: Okabe & Ito's palette (without its yellow,
// too faint on white), then Paul Tol's muted colours. Markers and dashes
// tell series apart beyond the palette's length.
const std::vector<std::string>& PlotPalette();

enum class Marker { kCircle, kSquare, kTriangle, kDiamond };

struct PlotPoint {
  double x = 0;
  double y = 0;
  double size = 0;      // Bubble charts: the value the area shows.
  std::string label;    // Bubble charts: drawn next to the bubble.
  std::string tooltip;  // Shown on hover (SVG <title>).
};

struct PlotSeries {
  std::string name;
  std::string color = "#0072B2";
  Marker marker = Marker::kCircle;
  bool line = true;  // Join the points (in order of x).
  std::string dash;  // SVG stroke-dasharray, "" for solid.
  std::vector<PlotPoint> points;
};

struct PlotAxis {
  std::string title;
  bool log = false;
  // Explicit tick positions; empty = chosen automatically.
  std::vector<double> ticks;
  // Tick text; empty = a compact number.
  std::function<std::string(double)> tick_label;
  // Keep this value inside the range (e.g. 1.0 for "relative to full").
  std::vector<double> include;
};

// A dashed line y = y0 * (x / x0)^exponent, for O(N) and O(N^2) on log-log
// axes.
struct ReferenceSlope {
  std::string label;
  double x0 = 1;
  double y0 = 1;
  double exponent = 1;
};

struct PlotSpec {
  std::string id;  // Unique in the page; used for the clip path.
  std::string title;
  std::string subtitle;
  PlotAxis x;
  PlotAxis y;
  std::vector<PlotSeries> series;
  std::vector<ReferenceSlope> slopes;
  // Draw points as bubbles whose area is proportional to PlotPoint::size,
  // with labels, a size key and no legend.
  bool bubbles = false;
  std::string size_title;  // E.g. "peak memory (GiB)".
  std::function<std::string(double)> size_label;
  int width = 600;
  int height = 380;
};

// The chart as an <svg> element. Series without points are left out of the
// legend.
std::string RenderSvgPlot(const PlotSpec& spec);

// "nice" tick positions covering [lo, hi] (about `target` of them), e.g.
// 0, 0.2, ..., 1.0. Exposed for tests.
std::vector<double> LinearTicks(double lo, double hi, int target);
// 1-2-5 ticks per decade covering [lo, hi] (only powers of ten when the
// range spans many decades).
std::vector<double> LogTicks(double lo, double hi);

// Escapes &, <, >, " and ' for XML text and attributes.
std::string XmlEscape(const std::string& text);

}  // namespace lra

#endif  // EVAL_SVG_PLOT_H_
