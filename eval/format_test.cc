#include "eval/format.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "eval/lra_reference.h"
#include "eval/results.h"
#include "eval/tables.h"
#include "eval/test_fixtures.h"
#include "gtest/gtest.h"
#include "util/testing/test_paths.h"

namespace lra {
namespace {

Report DemoReport() {
  const std::string dir = TestTmpPath("demo");
  EXPECT_TRUE(WriteDemoResults(dir).ok());
  absl::StatusOr<ResultSet> results = LoadResults(dir);
  EXPECT_TRUE(results.ok()) << results.status();
  return BuildReport("results", *results, {});
}

// The line of a Markdown table whose first cell is `name`, after the first
// occurrence of `after`.
std::string MarkdownRow(const std::string& md, const std::string& name,
                        const std::string& after = "") {
  size_t start = after.empty() ? 0 : md.find(after);
  if (start == std::string::npos) return "";
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(md).substr(start), '\n')) {
    if (absl::StartsWith(line, "| " + name + " |")) return std::string(line);
  }
  return "";
}

TEST(AccuracyCellTextTest, AllKindsOfCells) {
  AccuracyCell empty;
  EXPECT_EQ(AccuracyCellText(empty), "—");

  AccuracyCell seeds;
  seeds.values = {30, 34};
  seeds.mean = 32;
  seeds.std = 2.8284;
  seeds.run_ids = {"a", "b", "c"};
  seeds.failed = 1;
  seeds.error = "boom";
  EXPECT_EQ(AccuracyCellText(seeds), "32.00 ± 2.83 (n=2) +1 failed");

  AccuracyCell failed;
  failed.run_ids = {"a"};
  failed.failed = 1;
  failed.error = "TrainRun: " + std::string(80, '.') + " out of memory";
  std::string text = AccuracyCellText(failed);
  EXPECT_TRUE(absl::StartsWith(text, "failed: …")) << text;
  EXPECT_TRUE(absl::EndsWith(text, "out of memory")) << text;

  AccuracyCell unfinished;
  unfinished.run_ids = {"a"};
  unfinished.unfinished = 1;
  EXPECT_EQ(AccuracyCellText(unfinished), "unfinished");
}

TEST(MarkdownTest, AccuracyTableWithReferenceRows) {
  std::string md = RenderMarkdown(DemoReport());
  // Header: LRA's columns by their names, the short ListOps by its label.
  EXPECT_NE(md.find("| Model | ListOps | listops-short | Text | Retrieval | "
                    "Image | Pathfinder | Avg | LRA avg |"),
            std::string::npos)
      << md;
  // Three seeds: mean ± std, bold as the column's best.
  std::string transformer = MarkdownRow(md, "transformer");
  EXPECT_NE(transformer.find("**37.23 ± 1.01 (n=3)**"), std::string::npos)
      << transformer;
  // A failed run shows the tail of its error; a missing one a dash.
  std::string performer = MarkdownRow(md, "performer");
  EXPECT_NE(performer.find("failed: …"), std::string::npos) << performer;
  EXPECT_NE(performer.find("(out of memory)"), std::string::npos);
  EXPECT_NE(performer.find("| — |"), std::string::npos);
  EXPECT_NE(MarkdownRow(md, "linformer").find("unfinished"), std::string::npos);
  // The paper's rows are labelled and in italics, with their published
  // average; the caption says why they differ.
  std::string paper = MarkdownRow(md, "*LRA paper: Transformer*");
  EXPECT_NE(paper.find("*36.37*"), std::string::npos) << paper;
  EXPECT_NE(paper.find("*54.39*"), std::string::npos) << paper;
  EXPECT_NE(md.find("TPU v3"), std::string::npos);
  // The whole error is listed below the table.
  EXPECT_NE(md.find("- performer on retrieval: TrainRun: allocating"),
            std::string::npos);
}

TEST(MarkdownTest, EfficiencyTableInTable2Layout) {
  std::string md = RenderMarkdown(DemoReport());
  EXPECT_NE(md.find("| Variant | steps/s 1K | steps/s 2K | steps/s 3K | "
                    "steps/s 4K | steps/s 8K | steps/s 16K | GiB 1K |"),
            std::string::npos)
      << md;
  const std::string section = "## Efficiency";
  std::string full = MarkdownRow(md, "full", section);
  // The baseline carries no ratio; its skipped length shows as such.
  EXPECT_EQ(full.find("×"), std::string::npos) << full;
  EXPECT_NE(full.find("&gt; budget"), std::string::npos) << full;
  std::string local = MarkdownRow(md, "local", section);
  EXPECT_NE(local.find("10.9 (1.36×)"), std::string::npos) << local;
  EXPECT_NE(MarkdownRow(md, "performer", section).find("OOM"),
            std::string::npos);
  EXPECT_NE(
      MarkdownRow(md, "*LRA paper: Performer*", section).find("*9.5 (1.17×)*"),
      std::string::npos);
  EXPECT_NE(md.find("- performer at 16K: killed by signal 9"),
            std::string::npos);
}

// The Markdown line right after the line that starts with `prefix`, at or
// after `after`.
std::string LineAfter(const std::string& md, const std::string& prefix,
                      const std::string& after) {
  size_t start = md.find(after);
  if (start == std::string::npos) return "";
  std::vector<std::string> lines =
      absl::StrSplit(absl::string_view(md).substr(start), '\n');
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (absl::StartsWith(lines[i], prefix)) return lines[i + 1];
  }
  return "";
}

// Every variant the paper has a row for, trained on LRA's ListOps and swept
// at 1K-4K: in both tables its paper row ("LRA paper: Linformer") is the
// line right under its own row, not somewhere in a block of paper rows.
TEST(MarkdownTest, EachVariantSitsBesideItsPaperRow) {
  const std::string dir = TestTmpPath("beside");
  std::vector<FakeBenchPoint> points;
  double accuracy = 0.40;
  for (const auto& [variant, paper] : LraPaperVariants()) {
    FakeRunSpec spec;
    spec.model = variant;
    spec.attention = variant;
    spec.test_accuracy = accuracy;
    accuracy -= 0.01;  // rows in a known order, each variant its own
    ASSERT_TRUE(WriteFinishedRun(dir, spec).ok());
    for (int length : {1024, 2048, 3072, 4096}) {
      points.push_back({variant, length, 10.0 + length / 100.0, 500.0, ""});
    }
  }
  // A variant the paper did not run gets no paper row.
  FakeRunSpec nystrom;
  nystrom.model = "nystromformer";
  nystrom.attention = "nystromformer";
  nystrom.test_accuracy = 0.395;
  ASSERT_TRUE(WriteFinishedRun(dir, nystrom).ok());
  ASSERT_TRUE(WriteSweep(dir, FakeSweep(points)).ok());
  absl::StatusOr<ResultSet> results = LoadResults(dir);
  ASSERT_TRUE(results.ok()) << results.status();
  const std::string md = RenderMarkdown(BuildReport("results", *results, {}));
  for (const auto& [variant, paper] : LraPaperVariants()) {
    const std::string paper_cell = "| *LRA paper: " + paper + "* |";
    EXPECT_TRUE(absl::StartsWith(
        LineAfter(md, "| " + variant + " |", "## Accuracy"), paper_cell))
        << variant << " in the accuracy table:\n"
        << md;
    if (LraTable2Row(variant) >= 0) {
      EXPECT_TRUE(absl::StartsWith(
          LineAfter(md, "| " + variant + " |", "## Efficiency"), paper_cell))
          << variant << " in the efficiency table:\n"
          << md;
    }
  }
  EXPECT_FALSE(absl::StartsWith(
      LineAfter(md, "| nystromformer |", "## Accuracy"), "| *LRA paper"))
      << md;
}

TEST(CsvTest, OneTidyLinePerFigure) {
  std::string csv = RenderCsv(DemoReport());
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_GT(lines.size(), 10u);
  EXPECT_EQ(lines[0],
            "table,source,row,machine,column,seq_len,metric,value,std,n,failed,"
            "unfinished,best,note");
  // Prefixes of expected lines (the last digits of a std depend on float
  // rounding, so they are left out).
  const std::vector<std::string> expected = {
      "accuracy,ours,transformer,,listops,,test_accuracy,37.2333,1.006",
      "accuracy,ours,transformer,,lra_avg,,lra_average_accuracy,54.5267,,5,,,"
      "1,",
      "accuracy,lra_paper,Transformer,TPU v3,listops,,test_accuracy,36.37,,,,,"
      ",",
      // Fields with commas are quoted.
      "efficiency,ours,local,\"host-a (Test CPU, 2 cores)\",1K,1024,"
      "relative_speed,1.3587,,,,,,"};
  for (const std::string& prefix : expected) {
    bool found = false;
    for (const std::string& line : lines) {
      if (absl::StartsWith(line, prefix)) found = true;
    }
    EXPECT_TRUE(found) << prefix << "\n" << csv;
  }
  // A failed cell carries its error; no value.
  bool found_failed = false;
  for (const std::string& line : lines) {
    if (absl::StartsWith(line, "accuracy,ours,performer,,retrieval,")) {
      found_failed = true;
      EXPECT_NE(line.find(",0,1,0,0,"), std::string::npos) << line;
      EXPECT_NE(line.find("out of memory"), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(found_failed);
}

Report HostileReport() {
  const std::string dir = TestTmpPath("hostile");
  EXPECT_TRUE(WriteHostileNameResults(dir).ok());
  absl::StatusOr<ResultSet> results = LoadResults(dir);
  EXPECT_TRUE(results.ok()) << results.status();
  return BuildReport("results", *results, {});
}

// Markdown renderers pass raw HTML through: every name and error is shown
// with entities, and '|' cannot split a cell.
TEST(MarkdownTest, HostileNamesAreEscaped) {
  const std::string md = RenderMarkdown(HostileReport());
  EXPECT_EQ(md.find("<img"), std::string::npos) << md;
  EXPECT_EQ(md.find("<script"), std::string::npos) << md;
  EXPECT_EQ(md.find("</script"), std::string::npos) << md;
  EXPECT_EQ(md.find("<svg"), std::string::npos) << md;
  EXPECT_NE(MarkdownRow(md, "&lt;img src=x onerror=alert(1)&gt;"), "") << md;
  EXPECT_NE(MarkdownRow(md, "&lt;/script&gt;"), "") << md;
  EXPECT_NE(MarkdownRow(md, "\"quoted\""), "") << md;
  // The separator is escaped: the row still has the table's cell count.
  const std::string pipe = MarkdownRow(md, "a\\|b");
  ASSERT_NE(pipe, "") << md;
  const std::string header = MarkdownRow(md, "Model");
  auto cells = [](const std::string& line) {
    int count = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++count;
    }
    return count;
  };
  EXPECT_EQ(cells(pipe), cells(header)) << pipe << "\n" << header;
  // '&' first: an entity already in a name is shown as written.
  EXPECT_NE(MarkdownRow(md, "a,b &amp; c&amp;amp;"), "") << md;
  // The failed run's error, in its cell and in the list below the table.
  EXPECT_NE(md.find("&lt;script&gt;window.pwned=1&lt;/script&gt;"),
            std::string::npos)
      << md;
}

TEST(MarkdownTest, EscapesLineBreaksInNames) {
  Report report;
  AccuracyColumn column;
  column.label = "listops";
  report.accuracy.columns = {column};
  AccuracyRow row;
  row.name = "two\nlines\r\nthree";
  row.cells.resize(1);
  report.accuracy.rows = {row};
  const std::string md = RenderMarkdown(report);
  EXPECT_NE(MarkdownRow(md, "two lines three"), "") << md;
}

// RFC 4180: a field with a comma, a quote or a line break is quoted, quotes
// doubled; the others are written as they are.
TEST(CsvTest, HostileNamesAreQuoted) {
  const std::string csv = RenderCsv(HostileReport());
  EXPECT_NE(csv.find("\naccuracy,ours,\"\"\"quoted\"\"\",,listops,"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\naccuracy,ours,\"a,b & c&amp;\",,listops,"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\naccuracy,ours,a|b,,listops,"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\naccuracy,ours,<img src=x onerror=alert(1)>,,listops,"),
            std::string::npos)
      << csv;

  Report report;
  AccuracyColumn column;
  column.label = "listops";
  report.accuracy.columns = {column};
  AccuracyRow row;
  row.name = "two\nlines";
  row.machine = "say \"hi\"";
  AccuracyCell cell;
  cell.values = {50};
  cell.mean = 50;
  cell.run_ids = {"a"};
  row.cells = {cell};
  report.accuracy.rows = {row};
  const std::string text = RenderCsv(report);
  EXPECT_NE(
      text.find("\naccuracy,ours,\"two\nlines\",\"say \"\"hi\"\"\",listops,"),
      std::string::npos)
      << text;
}

}  // namespace
}  // namespace lra
