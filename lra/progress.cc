#include "lra/progress.h"

#include <unistd.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_format.h"

namespace lra {

std::string FormatDuration(double seconds) {
  if (seconds < 0 || seconds != seconds) return "?";
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s / 60) % 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

double SteadySeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Progress::Progress(std::ostream* log, std::string label, int64_t total_steps,
                   int every)
    : Progress(log, std::move(label), total_steps, every, SteadySeconds,
               isatty(STDERR_FILENO)) {}

Progress::Progress(std::ostream* log, std::string label, int64_t total_steps,
                   int every, ProgressClock clock, bool terminal)
    : log_(log),
      label_(std::move(label)),
      total_(total_steps),
      every_(every),
      terminal_(terminal),
      clock_(std::move(clock)) {}

void Progress::Start(int64_t step) {
  start_ = last_print_ = clock_();
  start_step_ = step;
}

void Progress::Step(int64_t step, double loss, double accuracy, double lr) {
  constexpr double kSmoothing = 0.9;
  smooth_loss_ = smooth_loss_ < 0
                     ? loss
                     : kSmoothing * smooth_loss_ + (1 - kSmoothing) * loss;
  smooth_accuracy_ = smooth_accuracy_ < 0 ? accuracy
                                          : kSmoothing * smooth_accuracy_ +
                                                (1 - kSmoothing) * accuracy;
  loss_ = loss;
  accuracy_ = accuracy;
  lr_ = lr;
  if (log_ == nullptr) return;
  const double now = clock_();
  const double since = now - last_print_;
  bool due =
      every_ > 0 ? step % every_ == 0 : since >= (terminal_ ? 0.5 : 10.0);
  if (due || step == total_ || step == start_step_ + 1) {
    last_print_ = now;
    Print(step);
  }
}

void Progress::Print(int64_t step) {
  const double elapsed = clock_() - start_;
  double rate = elapsed > 0 ? (step - start_step_) / elapsed : 0;
  double eta = rate > 0 ? (total_ - step) / rate : -1;
  std::string line = absl::StrFormat(
      "[%s] step %d/%d  loss %.4f  acc %.3f  lr %.2e  %.2f steps/s  ETA %s",
      label_, step, total_, smooth_loss_, smooth_accuracy_, lr_, rate,
      FormatDuration(eta));
  if (terminal_) {
    *log_ << "\r\033[K" << line << std::flush;
    line_open_ = true;
  } else {
    *log_ << line << "\n" << std::flush;
  }
}

void Progress::Eval(int64_t step, double val_loss, double val_accuracy,
                    double best_accuracy, int64_t best_step) {
  if (log_ == nullptr) return;
  if (line_open_) {
    *log_ << "\n";
    line_open_ = false;
  }
  *log_ << absl::StrFormat(
               "[%s] eval @ %d: val loss %.4f  val acc %.4f  (best %.4f @ %d)",
               label_, step, val_loss, val_accuracy, best_accuracy, best_step)
        << "\n"
        << std::flush;
}

void Progress::Finish() {
  if (log_ != nullptr && line_open_) {
    *log_ << "\n" << std::flush;
    line_open_ = false;
  }
}

}  // namespace lra
