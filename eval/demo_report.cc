// Writes the demo results into DIR, renders DIR/report.html and
// DIR/report.md from them, and screenshots the HTML into DIR/report.png (and
// 1000-pixel slices of it, report-N.png), for looking at the report without
// training anything.
//
//   bazel run //eval:demo_report -- /tmp/demo [RESULTS_DIR]
//
// With RESULTS_DIR, that folder is reported instead of the demo results.

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "config/text_proto.h"
#include "eval/commands.h"
#include "eval/headless_chromium.h"
#include "eval/test_fixtures.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: demo_report OUT_DIR [RESULTS_DIR]\n";
    return 2;
  }
  const std::string out = lra::ResolvePath(lra::WorkspaceDir(), argv[1]);
  std::string results = argc > 2
                            ? lra::ResolvePath(lra::WorkspaceDir(), argv[2])
                            : out + "/results";
  absl::Status status = lra::MakeDirs(out);
  if (status.ok() && argc <= 2) status = lra::WriteDemoResults(results);
  for (const char* format : {"html", "md"}) {
    if (!status.ok()) break;
    lra::LeaderboardOptions options;
    options.results_dir = results;
    options.format = format;
    options.out = absl::StrCat(out, "/report.", format);
    status = lra::LeaderboardCommand(options);
  }
  if (status.ok()) {
    lra::BrowserOptions browser;
    browser.user_data_dir = out + "/chromium-profile";
    browser.slice_height = 1000;
    absl::StatusOr<lra::PageReport> page = lra::LoadPageInHeadlessChromium(
        out + "/report.html", "document.title", browser);
    if (!page.ok()) {
      status = page.status();
    } else {
      for (const std::string& error : page->errors) {
        std::cerr << "console error: " << error << "\n";
      }
      status = lra::WriteFileAtomic(out + "/report.png", page->screenshot_png);
      for (size_t i = 0; i < page->slice_pngs.size() && status.ok(); ++i) {
        status = lra::WriteFileAtomic(
            absl::StrCat(out, "/report-", i + 1, ".png"), page->slice_pngs[i]);
      }
      std::cerr << "demo_report: wrote " << out << "/report.png\n";
    }
  }
  if (!status.ok()) {
    std::cerr << "demo_report: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
