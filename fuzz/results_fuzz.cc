// Fuzz target: a results folder as the leaderboard reads it (eval/results.h)
// and renders it (tables, Markdown, CSV, HTML). The bytes are split at lines
// "=====" into the files of one run folder and a bench sweep, in this order:
// result.pbtxt, failed.pbtxt, metrics.csv, bench/sweep.pbtxt; a missing or
// empty part leaves its file out.
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "eval/format.h"
#include "eval/html_report.h"
#include "eval/results.h"
#include "eval/tables.h"
#include "fuzz/fuzz_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string root = lra::fuzz::ScratchDir() + "/results";
  lra::fuzz::RemoveTree(root);
  const std::string run = root + "/suite/task/model";
  lra::fuzz::MakeDir(run);
  lra::fuzz::MakeDir(root + "/bench");
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> parts =
      absl::StrSplit(text, absl::MaxSplits("\n=====\n", 3));
  const char* files[] = {"/suite/task/model/result.pbtxt",
                         "/suite/task/model/failed.pbtxt",
                         "/suite/task/model/metrics.csv", "/bench/sweep.pbtxt"};
  for (size_t i = 0; i < parts.size() && i < 4; ++i) {
    if (!parts[i].empty()) lra::fuzz::WriteBytes(root + files[i], parts[i]);
  }
  // metrics.csv alone is parsed too, as `lra status` does.
  if (parts.size() > 2) (void)lra::ParseMetricsCsv(parts[2]);
  auto results = lra::LoadResults(root);
  // One unreadable file never hides the folder: listing cannot fail here.
  if (!results.ok()) std::abort();
  // A folder with none of the files (an empty input) is not a run.
  if (results->runs.size() > 1) std::abort();
  const lra::Report report =
      lra::BuildReport(root, *results, lra::AccuracyOptions{});
  (void)lra::RenderMarkdown(report);
  (void)lra::RenderCsv(report);
  (void)lra::RenderHtml(report);
  return 0;
}
