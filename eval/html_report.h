// The leaderboard as one self-contained HTML file: accuracy and efficiency
// tables (with the LRA paper's rows), a speed-accuracy-memory bubble chart,
// learning curves per task and time/memory against sequence length on
// log-log axes. Charts are inline SVG; there is no script and nothing is
// loaded from anywhere else.
#ifndef EVAL_HTML_REPORT_H_
#define EVAL_HTML_REPORT_H_

#include <string>

#include "eval/tables.h"

namespace lra {

std::string RenderHtml(const Report& report);

}  // namespace lra

#endif  // EVAL_HTML_REPORT_H_
