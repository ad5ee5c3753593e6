// Loading a page in headless Chromium over the DevTools protocol (on a pipe,
// --remote-debugging-pipe, so no port and no websocket): every console
// error, uncaught exception and failed load is collected, a script is
// evaluated, and a full-page screenshot is taken. For tests of the HTML
// report.
#ifndef EVAL_HEADLESS_CHROMIUM_H_
#define EVAL_HEADLESS_CHROMIUM_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lra {

struct BrowserOptions {
  std::string chromium = "/usr/bin/chromium";
  // A fresh profile folder (Chromium as root also needs --no-sandbox).
  std::string user_data_dir;
  int width = 1280;  // Viewport width in CSS pixels.
  double timeout_seconds = 60;
  // When > 0, the page is also captured in slices of this height (for
  // looking at a long page at full resolution).
  int slice_height = 0;
};

struct PageReport {
  // console.error / console.assert calls, uncaught exceptions and browser
  // log entries of level "error" (e.g. a resource that failed to load).
  std::vector<std::string> errors;
  // The value of the evaluated expression (it must return a string).
  std::string evaluation;
  std::string screenshot_png;           // Full page, PNG bytes.
  std::vector<std::string> slice_pngs;  // Top to bottom, if asked for.
};

// Opens `html_path` (a local file), waits for its load event, evaluates
// `expression` and takes a screenshot of the whole page. Fails when
// Chromium is missing (naming the package to install), does not start, or
// does not answer within the timeout.
absl::StatusOr<PageReport> LoadPageInHeadlessChromium(
    const std::string& html_path, const std::string& expression,
    const BrowserOptions& options);

// `text` as a JSON string literal, quotes included.
std::string JsonQuote(const std::string& text);

}  // namespace lra

#endif  // EVAL_HEADLESS_CHROMIUM_H_
