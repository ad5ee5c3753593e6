#include "eval/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace lra {
namespace {

constexpr char kFont[] =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "sans-serif";
constexpr char kAxisColor[] = "#444";
constexpr char kGridColor[] = "#e6e6e6";
constexpr char kTextColor[] = "#222";
constexpr char kMutedColor[] = "#666";

// Maps data values to pixels along one axis.
struct Scale {
  double lo = 0;
  double hi = 1;
  bool log = false;
  double from = 0;  // Pixel of `lo`.
  double to = 1;    // Pixel of `hi`.

  double Map(double value) const {
    double t = log ? (std::log10(value) - std::log10(lo)) /
                         (std::log10(hi) - std::log10(lo))
                   : (value - lo) / (hi - lo);
    return from + t * (to - from);
  }
  bool Contains(double value) const {
    return value >= lo * (1 - 1e-9) && value <= hi * (1 + 1e-9);
  }
};

std::string Px(double value) { return absl::StrFormat("%.1f", value); }

// Decimals that tell ticks `step` apart.
int DecimalsFor(double step) {
  if (!(step > 0)) return 0;
  return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
}

std::string CompactNumber(double value) {
  double magnitude = std::fabs(value);
  if (magnitude >= 1e6 && std::fmod(magnitude, 1e6) == 0) {
    return absl::StrFormat("%gM", value / 1e6);
  }
  if (magnitude >= 1e4 && std::fmod(magnitude, 1e3) == 0) {
    return absl::StrFormat("%gk", value / 1e3);
  }
  return absl::StrFormat("%.4g", value);
}

struct AxisLayout {
  Scale scale;
  std::vector<double> ticks;
  std::function<std::string(double)> label;
};

// Chooses the range and ticks of an axis for `values` (already positive for
// log axes). `pad` widens a linear range by that fraction on each side.
AxisLayout LayOutAxis(const PlotAxis& axis, std::vector<double> values,
                      double pad) {
  AxisLayout layout;
  layout.scale.log = axis.log;
  for (double v : axis.include) values.push_back(v);
  for (double v : axis.ticks) values.push_back(v);
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (double v : values) {
    if (!std::isfinite(v) || (axis.log && v <= 0)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!std::isfinite(lo)) {
    lo = axis.log ? 1 : 0;
    hi = axis.log ? 10 : 1;
  }
  if (axis.log) {
    if (hi / lo < 1.5) {
      lo /= 1.5;
      hi *= 1.5;
    }
    lo /= 1.18;
    hi *= 1.18;
    layout.ticks = axis.ticks.empty() ? LogTicks(lo, hi) : axis.ticks;
    layout.scale.lo = lo;
    layout.scale.hi = hi;
  } else {
    // Values that are never negative (accuracy, speed, steps) keep a range
    // that is never negative either.
    const bool non_negative = lo >= 0;
    if (hi - lo < 1e-12) {
      double half = lo != 0 ? std::fabs(lo) * 0.5 : 1.0;
      lo -= half;
      hi += half;
    }
    double span = hi - lo;
    lo -= pad * span;
    hi += pad * span;
    if (non_negative) lo = std::max(lo, 0.0);
    layout.ticks = axis.ticks.empty() ? LinearTicks(lo, hi, 5) : axis.ticks;
    if (axis.ticks.empty()) {
      lo = std::min(lo, layout.ticks.front());
      hi = std::max(hi, layout.ticks.back());
      if (non_negative) lo = std::max(lo, 0.0);
    }
    layout.scale.lo = lo;
    layout.scale.hi = hi;
  }
  std::vector<double> inside;
  for (double t : layout.ticks) {
    if (layout.scale.Contains(t)) inside.push_back(t);
  }
  layout.ticks = inside;
  if (axis.tick_label) {
    layout.label = axis.tick_label;
  } else if (!axis.log && layout.ticks.size() >= 2) {
    int decimals = DecimalsFor(layout.ticks[1] - layout.ticks[0]);
    layout.label = [decimals](double v) {
      return absl::StrFormat("%.*f", decimals, v);
    };
  } else {
    layout.label = CompactNumber;
  }
  return layout;
}

std::string MarkerSvg(Marker marker, double x, double y, double r,
                      const std::string& color, const std::string& extra) {
  switch (marker) {
    case Marker::kCircle:
      return absl::StrCat("<circle cx=\"", Px(x), "\" cy=\"", Px(y), "\" r=\"",
                          Px(r), "\" fill=\"", color,
                          "\" stroke=\"#fff\" "
                          "stroke-width=\"1\"",
                          extra, ">");
    case Marker::kSquare:
      return absl::StrCat("<rect x=\"", Px(x - r), "\" y=\"", Px(y - r),
                          "\" width=\"", Px(2 * r), "\" height=\"", Px(2 * r),
                          "\" fill=\"", color,
                          "\" stroke=\"#fff\" stroke-width=\"1\"", extra, ">");
    case Marker::kTriangle: {
      double h = 1.2 * r;
      return absl::StrCat("<polygon points=\"", Px(x), ",", Px(y - h), " ",
                          Px(x - h), ",", Px(y + 0.8 * h), " ", Px(x + h), ",",
                          Px(y + 0.8 * h), "\" fill=\"", color,
                          "\" stroke=\"#fff\" stroke-width=\"1\"", extra, ">");
    }
    case Marker::kDiamond: {
      double h = 1.3 * r;
      return absl::StrCat("<polygon points=\"", Px(x), ",", Px(y - h), " ",
                          Px(x + h), ",", Px(y), " ", Px(x), ",", Px(y + h),
                          " ", Px(x - h), ",", Px(y), "\" fill=\"", color,
                          "\" stroke=\"#fff\" stroke-width=\"1\"", extra, ">");
    }
  }
  return "";
}

std::string CloseTag(Marker marker) {
  switch (marker) {
    case Marker::kCircle:
      return "</circle>";
    case Marker::kSquare:
      return "</rect>";
    case Marker::kTriangle:
    case Marker::kDiamond:
      return "</polygon>";
  }
  return "";
}

std::string Text(double x, double y, const std::string& text,
                 const std::string& attributes) {
  return absl::StrCat("<text x=\"", Px(x), "\" y=\"", Px(y), "\" ", attributes,
                      ">", XmlEscape(text), "</text>");
}

std::string Truncate(const std::string& text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  return text.substr(0, max_chars - 1) + "…";
}

// An approximate text box, for keeping bubble labels apart.
struct Box {
  double x0, y0, x1, y1;
  bool Overlaps(const Box& other) const {
    return x0 < other.x1 && other.x0 < x1 && y0 < other.y1 && other.y0 < y1;
  }
};

}  // namespace

const std::vector<std::string>& PlotPalette() {
  static const auto* palette = new std::vector<std::string>{
      "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
      "#000000", "#882255", "#999933", "#332288", "#44AA99", "#AA4499"};
  return *palette;
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<double> LinearTicks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(hi > lo) || target < 1) return {lo};
  double raw = (hi - lo) / target;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  double first = std::floor(lo / step + 1e-9) * step;
  double last = std::ceil(hi / step - 1e-9) * step;
  for (double t = first; t <= last + step * 1e-6; t += step) {
    // Snap to the step grid so 0.30000000000000004 prints as 0.3.
    ticks.push_back(std::round(t / step) * step);
  }
  return ticks;
}

std::vector<double> LogTicks(double lo, double hi) {
  std::vector<double> ticks;
  if (!(lo > 0) || !(hi > lo)) return ticks;
  double decades = std::log10(hi / lo);
  std::vector<double> mantissas;
  if (decades > 4) {
    mantissas = {1};
  } else if (decades > 2) {
    mantissas = {1, 2, 5};
  } else if (decades > 0.8) {
    mantissas = {1, 2, 3, 5};
  } else {
    mantissas = {1, 1.5, 2, 3, 4, 5, 6, 8};
  }
  for (int e = static_cast<int>(std::floor(std::log10(lo))) - 1;
       e <= static_cast<int>(std::ceil(std::log10(hi))); ++e) {
    for (double m : mantissas) {
      double t = m * std::pow(10.0, e);
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push_back(t);
    }
  }
  return ticks;
}

std::string RenderSvgPlot(const PlotSpec& spec) {
  const int width = spec.width;
  const int height = spec.height;
  bool has_legend = false;
  for (const PlotSeries& series : spec.series) {
    if (!series.points.empty() && !spec.bubbles) has_legend = true;
  }
  const double left = 66;
  const double right = width - (has_legend ? 170 : spec.bubbles ? 130 : 24);
  const double top = spec.subtitle.empty() ? 40 : 58;
  const double bottom = height - 50;

  // Data ranges (points that a log axis cannot show are dropped).
  auto visible = [&spec](const PlotPoint& p) {
    return std::isfinite(p.x) && std::isfinite(p.y) &&
           (!spec.x.log || p.x > 0) && (!spec.y.log || p.y > 0);
  };
  std::vector<double> xs, ys;
  double max_size = 0;
  for (const PlotSeries& series : spec.series) {
    for (const PlotPoint& p : series.points) {
      if (!visible(p)) continue;
      xs.push_back(p.x);
      ys.push_back(p.y);
      max_size = std::max(max_size, p.size);
    }
  }
  // Bubbles need room around their centres; lines reach the x range's ends.
  AxisLayout x_axis = LayOutAxis(spec.x, xs, spec.bubbles ? 0.12 : 0.0);
  AxisLayout y_axis = LayOutAxis(spec.y, ys, spec.bubbles ? 0.12 : 0.04);
  x_axis.scale.from = left;
  x_axis.scale.to = right;
  y_axis.scale.from = bottom;
  y_axis.scale.to = top;
  const Scale& sx = x_axis.scale;
  const Scale& sy = y_axis.scale;

  std::string svg =
      absl::StrCat("<svg class=\"chart\" id=\"", XmlEscape(spec.id),
                   "\" data-chart=\"", XmlEscape(spec.id),
                   "\" xmlns=\"http://www.w3.org/2000/svg\" "
                   "viewBox=\"0 0 ",
                   width, " ", height, "\" width=\"", width, "\" height=\"",
                   height, "\" role=\"img\" aria-label=\"",
                   XmlEscape(spec.title), "\" font-family=\"", kFont, "\">\n");
  absl::StrAppend(&svg, "<title>", XmlEscape(spec.title), "</title>\n");
  absl::StrAppend(&svg, "<rect x=\"0\" y=\"0\" width=\"", width, "\" height=\"",
                  height, "\" fill=\"#fff\"/>\n");
  absl::StrAppend(&svg,
                  Text(left, 22, spec.title,
                       absl::StrCat("font-size=\"15\" font-weight=\"600\" "
                                    "fill=\"",
                                    kTextColor, "\"")),
                  "\n");
  if (!spec.subtitle.empty()) {
    absl::StrAppend(
        &svg,
        Text(left, 40, spec.subtitle,
             absl::StrCat("font-size=\"12\" fill=\"", kMutedColor, "\"")),
        "\n");
  }
  const std::string clip_id = absl::StrCat(spec.id, "-clip");
  absl::StrAppend(&svg, "<defs><clipPath id=\"", XmlEscape(clip_id),
                  "\"><rect x=\"", Px(left), "\" y=\"", Px(top), "\" width=\"",
                  Px(right - left), "\" height=\"", Px(bottom - top),
                  "\"/></clipPath></defs>\n");

  // Grid and ticks.
  absl::StrAppend(&svg, "<g class=\"grid\" stroke=\"", kGridColor,
                  "\" stroke-width=\"1\">");
  for (double t : x_axis.ticks) {
    double x = sx.Map(t);
    absl::StrAppend(&svg, "<line x1=\"", Px(x), "\" y1=\"", Px(top), "\" x2=\"",
                    Px(x), "\" y2=\"", Px(bottom), "\"/>");
  }
  for (double t : y_axis.ticks) {
    double y = sy.Map(t);
    absl::StrAppend(&svg, "<line x1=\"", Px(left), "\" y1=\"", Px(y),
                    "\" x2=\"", Px(right), "\" y2=\"", Px(y), "\"/>");
  }
  absl::StrAppend(&svg, "</g>\n");
  absl::StrAppend(&svg, "<g class=\"axes\" font-size=\"12\" fill=\"",
                  kTextColor, "\">");
  absl::StrAppend(&svg, "<line x1=\"", Px(left), "\" y1=\"", Px(bottom),
                  "\" x2=\"", Px(right), "\" y2=\"", Px(bottom), "\" stroke=\"",
                  kAxisColor, "\"/>");
  absl::StrAppend(&svg, "<line x1=\"", Px(left), "\" y1=\"", Px(top),
                  "\" x2=\"", Px(left), "\" y2=\"", Px(bottom), "\" stroke=\"",
                  kAxisColor, "\"/>");
  for (double t : x_axis.ticks) {
    double x = sx.Map(t);
    absl::StrAppend(
        &svg, "<line x1=\"", Px(x), "\" y1=\"", Px(bottom), "\" x2=\"", Px(x),
        "\" y2=\"", Px(bottom + 5), "\" stroke=\"", kAxisColor, "\"/>",
        Text(x, bottom + 18, x_axis.label(t), "text-anchor=\"middle\""));
  }
  for (double t : y_axis.ticks) {
    double y = sy.Map(t);
    absl::StrAppend(
        &svg, "<line x1=\"", Px(left - 5), "\" y1=\"", Px(y), "\" x2=\"",
        Px(left), "\" y2=\"", Px(y), "\" stroke=\"", kAxisColor, "\"/>",
        Text(left - 8, y + 4, y_axis.label(t), "text-anchor=\"end\""));
  }
  absl::StrAppend(&svg, Text((left + right) / 2, height - 12, spec.x.title,
                             "text-anchor=\"middle\" font-size=\"13\""));
  double y_mid = (top + bottom) / 2;
  absl::StrAppend(&svg,
                  Text(16, y_mid, spec.y.title,
                       absl::StrCat("text-anchor=\"middle\" font-size=\"13\" "
                                    "transform=\"rotate(-90 16 ",
                                    Px(y_mid), ")\"")),
                  "</g>\n");

  // Reference slopes, clipped to the plot area.
  if (!spec.slopes.empty()) {
    absl::StrAppend(&svg, "<g class=\"slopes\" clip-path=\"url(#",
                    XmlEscape(clip_id), ")\">");
    std::string labels;
    for (const ReferenceSlope& slope : spec.slopes) {
      std::vector<std::string> coords;
      double label_x = -1, label_y = -1;
      const int samples = 48;
      for (int i = 0; i <= samples; ++i) {
        double t = static_cast<double>(i) / samples;
        double x = sx.log ? sx.lo * std::pow(sx.hi / sx.lo, t)
                          : sx.lo + t * (sx.hi - sx.lo);
        double y = slope.y0 * std::pow(x / slope.x0, slope.exponent);
        if (!std::isfinite(y) || (sy.log && y <= 0)) continue;
        double py = sy.Map(y);
        coords.push_back(absl::StrCat(Px(sx.Map(x)), ",", Px(py)));
        if (py >= top && py <= bottom) {
          label_x = sx.Map(x);
          label_y = py;
        }
      }
      absl::StrAppend(&svg, "<polyline points=\"", absl::StrJoin(coords, " "),
                      "\" fill=\"none\" stroke=\"#888\" stroke-width=\"1.3\" "
                      "stroke-dasharray=\"6 4\"/>");
      if (label_x >= 0) {
        // Inside the plot area, left of where the line leaves it.
        labels += Text(std::min(label_x, right - 4) - 4,
                       std::max(label_y - 6, top + 12), slope.label,
                       absl::StrCat("text-anchor=\"end\" font-size=\"12\" "
                                    "font-style=\"italic\" fill=\"",
                                    kMutedColor, "\""));
      }
    }
    absl::StrAppend(&svg, "</g>\n<g class=\"slope-labels\">", labels, "</g>\n");
  }

  // Series.
  std::vector<Box> label_boxes;
  const double max_radius = 28;
  for (size_t s = 0; s < spec.series.size(); ++s) {
    const PlotSeries& series = spec.series[s];
    std::vector<PlotPoint> points;
    for (const PlotPoint& p : series.points) {
      if (visible(p)) points.push_back(p);
    }
    if (points.empty()) continue;
    absl::StrAppend(&svg, "<g class=\"series\" data-series=\"",
                    XmlEscape(series.name), "\">");
    if (series.line && points.size() > 1 && !spec.bubbles) {
      std::vector<PlotPoint> sorted = points;
      std::stable_sort(
          sorted.begin(), sorted.end(),
          [](const PlotPoint& a, const PlotPoint& b) { return a.x < b.x; });
      std::vector<std::string> coords;
      for (const PlotPoint& p : sorted) {
        coords.push_back(absl::StrCat(Px(sx.Map(p.x)), ",", Px(sy.Map(p.y))));
      }
      absl::StrAppend(&svg, "<polyline points=\"", absl::StrJoin(coords, " "),
                      "\" fill=\"none\" stroke=\"", series.color,
                      "\" stroke-width=\"2\" stroke-linejoin=\"round\"",
                      series.dash.empty() ? ""
                                          : absl::StrCat(" stroke-dasharray=\"",
                                                         series.dash, "\""),
                      "/>");
    }
    for (const PlotPoint& p : points) {
      double x = sx.Map(p.x);
      double y = sy.Map(p.y);
      std::string tooltip =
          p.tooltip.empty()
              ? absl::StrCat(series.name, ": ", CompactNumber(p.x), ", ",
                             CompactNumber(p.y))
              : p.tooltip;
      if (spec.bubbles) {
        double r =
            max_size > 0
                ? std::max(5.0, max_radius * std::sqrt(p.size / max_size))
                : 8;
        absl::StrAppend(&svg, "<circle data-point=\"1\" cx=\"", Px(x),
                        "\" cy=\"", Px(y), "\" r=\"", Px(r), "\" fill=\"",
                        series.color, "\" fill-opacity=\"0.45\" stroke=\"",
                        series.color, "\" stroke-width=\"1.5\"><title>",
                        XmlEscape(tooltip), "</title></circle>");
        // The label goes right of the bubble, else left, above or below,
        // whichever does not cover an earlier label.
        std::string label = Truncate(p.label, 28);
        double w = 7.0 * label.size();
        const Box candidates[] = {
            {x + r + 4, y - 9, x + r + 4 + w, y + 5},
            {x - r - 4 - w, y - 9, x - r - 4, y + 5},
            {x - w / 2, y - r - 18, x + w / 2, y - r - 4},
            {x - w / 2, y + r + 4, x + w / 2, y + r + 18}};
        Box chosen = candidates[0];
        for (const Box& box : candidates) {
          bool free = box.x0 >= 2 && box.x1 <= width - 2;
          for (const Box& used : label_boxes) {
            if (box.Overlaps(used)) free = false;
          }
          if (free) {
            chosen = box;
            break;
          }
        }
        label_boxes.push_back(chosen);
        absl::StrAppend(&svg, Text(chosen.x0, chosen.y1 - 3, label,
                                   absl::StrCat("font-size=\"12\" fill=\"",
                                                kTextColor, "\"")));
      } else {
        absl::StrAppend(&svg,
                        MarkerSvg(series.marker, x, y, 3.8, series.color,
                                  " data-point=\"1\""),
                        "<title>", XmlEscape(tooltip), "</title>",
                        CloseTag(series.marker));
      }
    }
    absl::StrAppend(&svg, "</g>\n");
  }

  // Legend (line charts) or size key (bubble charts).
  if (has_legend) {
    double lx = right + 18;
    double ly = top + 4;
    absl::StrAppend(&svg, "<g class=\"legend\" font-size=\"12\" fill=\"",
                    kTextColor, "\">");
    for (const PlotSeries& series : spec.series) {
      if (series.points.empty()) continue;
      absl::StrAppend(
          &svg, "<line x1=\"", Px(lx), "\" y1=\"", Px(ly), "\" x2=\"",
          Px(lx + 22), "\" y2=\"", Px(ly), "\" stroke=\"", series.color,
          "\" stroke-width=\"2\"",
          series.dash.empty()
              ? ""
              : absl::StrCat(" stroke-dasharray=\"", series.dash, "\""),
          "/>", MarkerSvg(series.marker, lx + 11, ly, 3.8, series.color, ""),
          CloseTag(series.marker),
          Text(lx + 30, ly + 4, Truncate(series.name, 20), ""));
      ly += 20;
    }
    absl::StrAppend(&svg, "</g>\n");
  } else if (spec.bubbles && max_size > 0) {
    double kx = right + 60;
    double ky = top + 10;
    absl::StrAppend(
        &svg, "<g class=\"size-key\" font-size=\"12\" fill=\"", kTextColor,
        "\">", Text(kx, ky, "bubble area:", "text-anchor=\"middle\""),
        Text(kx, ky + 15, spec.size_title, "text-anchor=\"middle\""));
    double cy = ky + 30;
    for (double fraction : {1.0, 0.25}) {
      double r = std::max(5.0, max_radius * std::sqrt(fraction));
      double value = fraction * max_size;
      absl::StrAppend(
          &svg, "<circle cx=\"", Px(kx), "\" cy=\"", Px(cy + r), "\" r=\"",
          Px(r), "\" fill=\"none\" stroke=\"#999\"/>",
          Text(kx, cy + 2 * r + 15,
               spec.size_label ? spec.size_label(value) : CompactNumber(value),
               "text-anchor=\"middle\""));
      cy += 2 * r + 24;
    }
    absl::StrAppend(&svg, "</g>\n");
  }
  absl::StrAppend(&svg, "</svg>\n");
  return svg;
}

}  // namespace lra
