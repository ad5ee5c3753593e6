#include "eval/html_report.h"

#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "eval/format.h"
#include "eval/lra_reference.h"
#include "eval/svg_plot.h"

namespace lra {
namespace {

constexpr char kStyle[] = R"css(
:root { --text: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --best: #e3eefa;
        --ref: #f6f6f3; --bad: #a33a00; }
* { box-sizing: border-box; }
body { margin: 0; background: #fafafa; color: var(--text);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto,
             "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px;
     border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
p.meta, p.caption, ul.notes { color: var(--muted); font-size: 13.5px; }
p.caption { max-width: 980px; }
nav a { margin-right: 14px; color: #0b57a4; text-decoration: none; }
code { font-size: 13px; background: #eef0f3; padding: 1px 4px;
       border-radius: 3px; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid var(--line);
              border-radius: 6px; }
table { border-collapse: collapse; font-size: 13.5px;
        font-variant-numeric: tabular-nums; width: 100%; }
th, td { padding: 6px 10px; border-bottom: 1px solid #eceef1;
         white-space: nowrap; }
th { background: #f1f3f6; text-align: right; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
td { text-align: right; }
thead tr.group th { text-align: center; border-bottom: 1px solid var(--line); }
td.best { font-weight: 700; background: var(--best); }
td.failed { color: var(--bad); white-space: normal; min-width: 12em;
            max-width: 18em; text-align: left; font-size: 12.5px; }
td.error { color: var(--bad); }
td.text { text-align: left; }
span.ratio { display: block; font-size: 11.5px; color: var(--muted); }
tr.paper span.ratio { color: #777; }
td.unfinished, td.missing { color: var(--muted); }
tr.paper td { background: var(--ref); font-style: italic; color: #444; }
.charts { display: grid; grid-template-columns: repeat(auto-fill,
          minmax(520px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line);
         border-radius: 6px; padding: 8px; }
figure svg { width: 100%; height: auto; display: block; }
figure.wide { max-width: 820px; }
figcaption { color: var(--muted); font-size: 13px; padding: 4px 8px 2px; }
.swatch { display: inline-block; width: 10px; height: 10px;
          border-radius: 50%; margin-right: 6px; vertical-align: baseline; }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
)css";

std::string Esc(const std::string& text) { return XmlEscape(text); }

std::string Td(const std::string& text, const std::string& cls = "",
               const std::string& title = "") {
  std::string out = "<td";
  if (!cls.empty()) absl::StrAppend(&out, " class=\"", cls, "\"");
  if (!title.empty()) absl::StrAppend(&out, " title=\"", Esc(title), "\"");
  absl::StrAppend(&out, ">", Esc(text), "</td>");
  return out;
}

// One colour and marker per attention variant, the same in every chart.
class Styles {
 public:
  explicit Styles(const Report& report) {
    for (const EfficiencyTable& table : report.efficiency) {
      for (const EfficiencyRow& row : table.rows) Add(row.variant);
    }
    for (const AccuracyRow& row : report.accuracy.rows) Add(row.attention);
  }
  void Apply(const std::string& variant, PlotSeries* series) const {
    auto it = index_.find(variant);
    int i = it == index_.end() ? 0 : it->second;
    const std::vector<std::string>& palette = PlotPalette();
    series->color = palette[i % palette.size()];
    series->marker = static_cast<Marker>(i % 4);
  }
  std::string Color(const std::string& variant) const {
    PlotSeries series;
    Apply(variant, &series);
    return series.color;
  }

 private:
  void Add(const std::string& variant) {
    if (index_.count(variant) == 0) {
      int next = static_cast<int>(index_.size());
      index_[variant] = next;
    }
  }
  std::map<std::string, int> index_;
};

std::string AccuracySection(const Report& report) {
  const AccuracyTable& table = report.accuracy;
  std::string html = "<section id=\"accuracy\"><h2>Accuracy</h2>\n";
  if (table.rows.empty()) {
    absl::StrAppend(&html, "<p class=\"caption\">No runs.</p></section>\n");
    return html;
  }
  const int n = static_cast<int>(table.columns.size());
  html += "<div class=\"table-wrap\"><table><thead><tr><th>Model</th>";
  for (const AccuracyColumn& column : table.columns) {
    std::string title = column.lra_index >= 0
                            ? absl::StrCat("task label '", column.label,
                                           "': LRA's configuration")
                            : column.not_comparable;
    absl::StrAppend(&html, "<th", title.empty() ? "" : " title=\"",
                    title.empty() ? "" : Esc(title), title.empty() ? "" : "\"",
                    ">", Esc(ColumnTitle(column)), "</th>");
  }
  html += "<th>Avg</th>";
  if (table.has_lra_average) html += "<th>LRA avg</th>";
  html += "</tr></thead>\n<tbody>\n";
  for (const TableSlot& slot : AccuracyDisplayOrder(table)) {
    if (slot.paper) {
      // The paper's row, right after the first of our rows of its variant.
      const ReferenceAccuracyRow& row = table.reference_rows[slot.index];
      absl::StrAppend(
          &html, "<tr class=\"paper\">",
          Td(absl::StrCat("LRA paper: ", row.name), "",
             "published in the LRA paper (Tay et al. 2020, Table 1): TPU v3, "
             "LRA's training scale; for orientation, not in our averages"));
      for (double value : row.cells) {
        absl::StrAppend(&html, Td(FormatPercent(value)));
      }
      absl::StrAppend(&html, Td(FormatPercent(row.average)));
      if (table.has_lra_average) {
        absl::StrAppend(&html, Td(FormatPercent(row.lra_average)));
      }
      html += "</tr>\n";
      continue;
    }
    const AccuracyRow& row = table.rows[slot.index];
    std::string name_title =
        absl::StrCat("attention: ", row.attention.empty() ? "?" : row.attention,
                     row.machine.empty() ? "" : "; machine: ", row.machine);
    absl::StrAppend(&html, "<tr>", Td(row.name, "", name_title));
    for (const AccuracyCell& cell : row.cells) {
      std::string cls = cell.best          ? "best"
                        : cell.empty()     ? "missing"
                        : cell.has_value() ? ""
                        : cell.failed > 0  ? "failed"
                                           : "unfinished";
      std::string title = absl::StrJoin(cell.run_ids, "\n");
      if (cell.failed > 0) absl::StrAppend(&title, "\nerror: ", cell.error);
      if (cell.empty()) title = "not run";
      absl::StrAppend(&html, Td(AccuracyCellText(cell), cls, title));
    }
    absl::StrAppend(
        &html,
        Td(AverageText(row, n), row.best_average ? "best" : "",
           absl::StrCat("over ", row.average_tasks, " of ", n, " tasks")));
    if (table.has_lra_average) {
      absl::StrAppend(
          &html,
          Td(std::isnan(row.lra_average) ? "—" : FormatPercent(row.lra_average),
             row.best_lra_average ? "best" : ""));
    }
    html += "</tr>\n";
  }
  html += "</tbody>\n";
  html += "</table></div>\n";
  absl::StrAppend(&html, "<p class=\"caption\">", Esc(kAccuracyCaption),
                  " Hover a cell for its runs.</p>\n");
  if (!table.reference_rows.empty()) {
    absl::StrAppend(&html, "<p class=\"caption\">",
                    Esc(kReferenceAccuracyCaption), "</p>\n");
  }
  std::vector<std::string> items;
  for (const std::string& note : table.notes) items.push_back(Esc(note));
  for (const AccuracyRow& row : table.rows) {
    for (size_t c = 0; c < row.cells.size(); ++c) {
      if (row.cells[c].failed == 0) continue;
      items.push_back(absl::StrCat("Failed: ", Esc(row.name), " on ",
                                   Esc(table.columns[c].label), ": ",
                                   Esc(ErrorTail(row.cells[c].error, 300))));
    }
  }
  if (!items.empty()) {
    absl::StrAppend(&html, "<ul class=\"notes\"><li>",
                    absl::StrJoin(items, "</li><li>"), "</li></ul>\n");
  }
  html += "</section>\n";
  return html;
}

// A figure with its ratio to the baseline on a second, smaller line.
std::string RatioTd(const std::string& value, double ratio,
                    const std::string& title) {
  std::string html = "<td";
  if (!title.empty()) absl::StrAppend(&html, " title=\"", Esc(title), "\"");
  absl::StrAppend(&html, ">", Esc(value));
  if (!std::isnan(ratio)) {
    absl::StrAppend(&html, "<span class=\"ratio\">",
                    absl::StrFormat("%.2f×", ratio), "</span>");
  }
  return html + "</td>";
}

// The baseline's own cells show no ratio (it would always be 1).
std::string EfficiencyCellHtml(const EfficiencyCell& cell, bool memory,
                               bool baseline) {
  if (!cell.measured) {
    if (cell.error.empty()) return Td("—", "missing", "not measured");
    return Td(cell.short_error, "error", cell.error);
  }
  double value = memory ? cell.memory_gb : cell.steps_per_second;
  double ratio = memory ? cell.relative_memory : cell.relative_speed;
  return RatioTd(FormatSignificant(value), baseline ? kNoValue : ratio,
                 absl::StrFormat("%.1f ms per step", cell.step_ms));
}

std::string EfficiencyTableHtml(const EfficiencyTable& table) {
  const size_t n = table.lengths.size();
  std::string html = absl::StrCat(
      "<div class=\"table-wrap\"><table><thead><tr class=\"group\"><th></th>"
      "<th colspan=\"",
      n, "\">Steps per second</th><th colspan=\"", n,
      "\">Peak memory (GiB)</th></tr><tr><th>Variant</th>");
  for (int pass = 0; pass < 2; ++pass) {
    for (int length : table.lengths) {
      absl::StrAppend(&html, "<th title=\"", length, " tokens\">",
                      FormatLength(length), "</th>");
    }
  }
  html += "</tr></thead>\n<tbody>\n";
  bool any = false;
  for (int length : table.lengths) {
    if (LraTable2Column(length) >= 0) any = true;
  }
  const LraEfficiencyRow& base = LraTable2()[0];
  for (const TableSlot& slot : EfficiencyDisplayOrder(table, any)) {
    if (slot.paper) {
      // The paper's row, right after the first of our rows of its variant.
      const LraEfficiencyRow& paper = LraTable2()[slot.index];
      absl::StrAppend(
          &html, "<tr class=\"paper\">",
          Td(absl::StrCat("LRA paper: ", paper.model), "",
             "published in the LRA paper (Table 2): Text task, batch 32, TPU "
             "v3; ratios to their Transformer"));
      for (int pass = 0; pass < 2; ++pass) {
        for (int length : table.lengths) {
          int c = LraTable2Column(length);
          if (c < 0) {
            html += Td("");
            continue;
          }
          double value =
              pass == 0 ? paper.steps_per_second[c] : paper.memory_gb[c];
          double reference =
              pass == 0 ? base.steps_per_second[c] : base.memory_gb[c];
          // As published: "8.1", "0.85".
          html += RatioTd(absl::StrFormat("%g", value),
                          &paper == &base ? kNoValue : value / reference, "");
        }
      }
      html += "</tr>\n";
      continue;
    }
    const EfficiencyRow& row = table.rows[slot.index];
    const bool baseline = table.has_baseline && &row == &table.rows[0];
    absl::StrAppend(&html, "<tr>", Td(row.label));
    for (const EfficiencyCell& cell : row.cells) {
      absl::StrAppend(&html, EfficiencyCellHtml(cell, false, baseline));
    }
    for (const EfficiencyCell& cell : row.cells) {
      absl::StrAppend(&html, EfficiencyCellHtml(cell, true, baseline));
    }
    html += "</tr>\n";
  }
  html += "</tbody>\n";
  html += "</table></div>\n";
  absl::StrAppend(&html, "<p class=\"caption\">", Esc(SweepCaption(table)),
                  " Hover a failed cell for its error.</p>\n");
  if (any) {
    absl::StrAppend(&html, "<p class=\"caption\">",
                    Esc(kReferenceEfficiencyCaption), "</p>\n");
  }
  return html;
}

std::string Figure(const std::string& svg, const std::string& caption,
                   const std::string& cls = "") {
  return absl::StrCat(
      cls.empty() ? "<figure>" : absl::StrCat("<figure class=\"", cls, "\">"),
      svg,
      caption.empty()
          ? ""
          : absl::StrCat("<figcaption>", Esc(caption), "</figcaption>"),
      "</figure>\n");
}

std::string BubbleSection(const Report& report, const Styles& styles) {
  std::string html;
  for (size_t i = 0; i < report.efficiency.size(); ++i) {
    const EfficiencyTable& eff = report.efficiency[i];
    BubbleChart chart = BuildBubbleChart(report.accuracy, eff);
    if (chart.bubbles.empty()) {
      absl::StrAppend(&html, "<p class=\"caption\">No bubble chart for <code>",
                      Esc(eff.path),
                      "</code>: no model of the accuracy table has both a "
                      "finished run and a measured attention variant there.",
                      chart.notes.empty() ? "" : " ",
                      Esc(absl::StrJoin(chart.notes, " ")), "</p>\n");
      continue;
    }
    PlotSpec spec;
    spec.id = absl::StrCat("bubble-", i);
    spec.title = "Speed, accuracy and memory";
    spec.subtitle = absl::StrCat(
        "training speed at ", FormatLength(chart.length), " tokens (",
        eff.machine.empty() ? "unknown machine" : eff.machine, ")");
    spec.x.title = chart.relative
                       ? absl::StrCat("steps/s relative to ", eff.baseline,
                                      " attention (higher = faster)")
                       : "steps/s";
    if (chart.relative) spec.x.include = {1.0};
    spec.x.tick_label = [relative = chart.relative](double v) {
      return relative ? absl::StrFormat("%g×", v) : absl::StrFormat("%g", v);
    };
    spec.y.title = "average test accuracy (%)";
    spec.bubbles = true;
    spec.size_title = "peak memory";
    spec.size_label = [](double gib) {
      return absl::StrCat(FormatSignificant(gib), " GiB");
    };
    spec.width = 760;
    spec.height = 440;
    for (const Bubble& bubble : chart.bubbles) {
      PlotSeries series;
      series.name = bubble.label;
      styles.Apply(bubble.variant, &series);
      series.line = false;
      PlotPoint point;
      point.x = bubble.speed;
      point.y = bubble.accuracy;
      point.size = bubble.memory_gb;
      point.label = bubble.label;
      point.tooltip = absl::StrFormat(
          "%s (%s): %s%s speed, %.2f%% accuracy, %s GiB", bubble.label,
          bubble.config, FormatSignificant(bubble.speed),
          chart.relative ? "×" : " steps/s", bubble.accuracy,
          FormatSignificant(bubble.memory_gb));
      series.points.push_back(point);
      spec.series.push_back(series);
    }
    std::string caption = absl::StrCat(
        "As LRA's Figure 3: one bubble per model; x is training speed at ",
        FormatLength(chart.length), ", y the mean test accuracy over ",
        chart.same_tasks ? absl::StrJoin(chart.tasks, ", ")
                         : "each model's own tasks (they differ)",
        ", bubble area the peak memory at that length. Speed and memory "
        "are the sweep's measurements of each model's own attention "
        "configuration (name and parameters); a model whose configuration "
        "the sweep did not measure is left out as not measured.");
    if (!chart.notes.empty()) {
      absl::StrAppend(&caption, " Left out: ", absl::StrJoin(chart.notes, " "));
    }
    html += Figure(RenderSvgPlot(spec), caption, "wide");
  }
  return html;
}

std::string CurvesSection(const Report& report, const Styles& styles) {
  const AccuracyTable& table = report.accuracy;
  std::string figures;
  for (size_t c = 0; c < table.columns.size(); ++c) {
    PlotSpec spec;
    spec.id = absl::StrCat("curve-", c);
    const AccuracyColumn& column = table.columns[c];
    spec.title =
        ColumnTitle(column) == column.label
            ? column.label
            : absl::StrCat(ColumnTitle(column), " (", column.label, ")");
    spec.subtitle = "validation accuracy during training";
    spec.x.title = "training step";
    spec.y.title = "validation accuracy (%)";
    std::map<std::string, int> seen;
    for (const AccuracyRow& row : table.rows) {
      const Curve& curve = row.curves[c];
      if (curve.empty()) continue;
      PlotSeries series;
      series.name = row.name;
      styles.Apply(row.attention, &series);
      // A second row with the same variant is drawn dashed.
      if (seen[row.attention]++ > 0) series.dash = "6 3";
      for (const auto& [step, accuracy] : curve) {
        PlotPoint point;
        point.x = step;
        point.y = accuracy;
        point.tooltip =
            absl::StrFormat("%s: step %d, %.2f%%", row.name, step, accuracy);
        series.points.push_back(point);
      }
      spec.series.push_back(series);
    }
    if (spec.series.empty()) continue;
    figures += Figure(RenderSvgPlot(spec), "");
  }
  if (figures.empty()) return "";
  return absl::StrCat(
      "<section id=\"curves\"><h2>Learning curves</h2>\n<p class=\"caption\">"
      "Validation accuracy at each evaluation, one line per model (the mean "
      "over seeds, at the steps every seed reached).</p>\n<div "
      "class=\"charts\">",
      figures, "</div></section>\n");
}

std::string ScalingCharts(const EfficiencyTable& eff, size_t index,
                          const Styles& styles) {
  std::string figures;
  for (int pass = 0; pass < 2; ++pass) {
    const bool memory = pass == 1;
    PlotSpec spec;
    spec.id = absl::StrCat(memory ? "memory-" : "time-", index);
    spec.title = memory ? "Peak memory vs sequence length"
                        : "Step time vs sequence length";
    spec.subtitle = absl::StrCat("batch ", eff.batch, ", ", eff.threads,
                                 " threads; log–log axes");
    spec.x.title = "sequence length (tokens)";
    spec.x.log = true;
    spec.x.ticks.assign(eff.lengths.begin(), eff.lengths.end());
    spec.x.tick_label = [](double v) {
      return FormatLength(static_cast<int>(std::lround(v)));
    };
    spec.y.title =
        memory ? "peak resident memory (GiB)" : "time per training step (ms)";
    spec.y.log = true;
    double anchor_x = 0, anchor_y = 0;
    for (const EfficiencyRow& row : eff.rows) {
      PlotSeries series;
      series.name = row.label;
      styles.Apply(row.variant, &series);
      for (size_t c = 0; c < row.cells.size(); ++c) {
        const EfficiencyCell& cell = row.cells[c];
        if (!cell.measured) continue;
        PlotPoint point;
        point.x = eff.lengths[c];
        point.y = memory ? cell.memory_gb : cell.step_ms;
        // Two calls: clang checks only constant format strings.
        point.tooltip =
            memory ? absl::StrFormat("%s at %s: %.3f GiB", row.label,
                                     FormatLength(eff.lengths[c]), point.y)
                   : absl::StrFormat("%s at %s: %.1f ms", row.label,
                                     FormatLength(eff.lengths[c]), point.y);
        if (anchor_x == 0) {
          anchor_x = point.x;
          anchor_y = point.y;
        }
        series.points.push_back(point);
      }
      spec.series.push_back(series);
    }
    if (anchor_x == 0) continue;
    // Both slopes pass through the baseline's first point (the first row).
    spec.slopes = {{"O(N)", anchor_x, anchor_y, 1.0},
                   {"O(N²)", anchor_x, anchor_y, 2.0}};
    figures += Figure(RenderSvgPlot(spec), "");
  }
  return figures;
}

std::string RunsSection(const Report& report) {
  std::string html =
      "<section id=\"runs\"><h2>Runs</h2>\n<div class=\"table-wrap\"><table>"
      "<thead><tr><th>Run</th><th style=\"text-align:left\">State</th><th>Test "
      "acc.</th><th>Best val "
      "(step)</th><th>Steps/s</th><th>Wall time</th><th>Parameters</th>"
      "<th>Threads</th><th style=\"text-align:left\">Host</th><th "
      "style=\"text-align:left\">Git</th></tr></thead>\n<tbody>\n";
  for (const RunRecord& run : report.runs) {
    const RunResult& r = run.result;
    const bool done = run.state == RunState::kDone;
    absl::StrAppend(&html, "<tr>", Td(run.Id(), "", run.dir));
    if (run.state == RunState::kFailed) {
      html += Td(absl::StrCat("failed: ", ErrorTail(run.error)), "failed",
                 run.error);
    } else if (run.state == RunState::kUnfinished) {
      html += Td(r.eval_size() > 0
                     ? absl::StrCat("unfinished (step ",
                                    r.eval(r.eval_size() - 1).step(), ")")
                     : "unfinished",
                 "unfinished text");
    } else {
      html += Td("done", "text");
    }
    html += Td(done ? FormatPercent(100.0 * r.test_accuracy()) : "");
    html +=
        Td(done ? absl::StrFormat("%.2f (%d)", 100.0 * r.best_val_accuracy(),
                                  r.best_step())
                : "");
    html += Td(done && r.steps_per_second() > 0
                   ? absl::StrFormat("%.2f", r.steps_per_second())
                   : "");
    html += Td(FormatWallTime(r.wall_seconds()));
    html += Td(r.num_parameters() > 0 ? absl::StrCat(r.num_parameters()) : "");
    html += Td(r.threads() > 0 ? absl::StrCat(r.threads()) : "");
    // The host name; the CPU and cores are in the tooltip.
    html +=
        Td(r.machine().substr(0, r.machine().find(" (")), "text", r.machine());
    html += Td(r.git_revision(), "text");
    html += "</tr>\n";
  }
  html += "</tbody></table></div></section>\n";
  return html;
}

}  // namespace

std::string RenderHtml(const Report& report) {
  Styles styles(report);
  std::set<std::string> suites, machines;
  for (const RunRecord& run : report.runs) {
    suites.insert(run.suite);
    if (!run.result.machine().empty()) machines.insert(run.result.machine());
  }
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>Leaderboard — ",
      Esc(report.results_dir), "</title>\n<style>", kStyle,
      "</style>\n</head>\n<body>\n<main>\n<header><h1>Leaderboard</h1>\n"
      "<p class=\"meta\">Results in <code>",
      Esc(report.results_dir), "</code>: ", report.runs.size(), " runs (",
      report.done, " done, ", report.failed, " failed, ", report.unfinished,
      " unfinished)",
      suites.empty()
          ? ""
          : absl::StrCat("; suites: ", Esc(absl::StrJoin(suites, ", "))),
      machines.empty()
          ? ""
          : absl::StrCat("; machines: ", Esc(absl::StrJoin(machines, "; "))),
      ".</p>\n<nav><a href=\"#accuracy\">Accuracy</a><a "
      "href=\"#efficiency\">Efficiency</a><a href=\"#tradeoff\">Speed–accuracy"
      "–memory</a><a href=\"#curves\">Learning curves</a><a "
      "href=\"#scaling\">Scaling</a><a href=\"#runs\">Runs</a></nav>\n"
      "</header>\n");
  html += AccuracySection(report);

  html += "<section id=\"efficiency\"><h2>Efficiency</h2>\n";
  if (report.efficiency.empty()) {
    absl::StrAppend(&html, "<p class=\"caption\">No efficiency sweep in <code>",
                    Esc(report.results_dir),
                    "/bench</code>; <code>lra bench --sweep --out=",
                    Esc(report.results_dir), "</code> makes one.</p>\n");
  }
  for (const EfficiencyTable& eff : report.efficiency) {
    if (report.efficiency.size() > 1) {
      absl::StrAppend(&html, "<h3><code>", Esc(eff.path), "</code></h3>\n");
    }
    html += EfficiencyTableHtml(eff);
  }
  html += "</section>\n";

  if (!report.efficiency.empty()) {
    absl::StrAppend(&html,
                    "<section id=\"tradeoff\"><h2>Speed, accuracy and "
                    "memory</h2>\n",
                    BubbleSection(report, styles), "</section>\n");
  }
  html += CurvesSection(report, styles);
  if (!report.efficiency.empty()) {
    html +=
        "<section id=\"scaling\"><h2>Scaling with sequence length</h2>\n"
        "<p class=\"caption\">Time per training step and peak memory per "
        "variant on log–log axes; the dashed lines are O(N) and O(N²) "
        "through the first point of the baseline, for reference. A variant "
        "that ran out of memory or time stops where it failed (see the "
        "table above).</p>\n";
    for (size_t i = 0; i < report.efficiency.size(); ++i) {
      absl::StrAppend(&html, "<div class=\"charts\">",
                      ScalingCharts(report.efficiency[i], i, styles),
                      "</div>\n");
    }
    html += "</section>\n";
  }
  if (!report.runs.empty()) html += RunsSection(report);
  html +=
      "<footer>Made by <code>lra leaderboard --format=html</code>. Accuracy "
      "is measured on each task's test split with the best-validation "
      "checkpoint. The LRA paper's figures come from TPU v3 runs at LRA's "
      "full scale and are never mixed into our averages.</footer>\n"
      "</main>\n</body>\n</html>\n";
  return html;
}

}  // namespace lra
