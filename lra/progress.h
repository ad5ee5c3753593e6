// A live progress line for long runs: step/total, loss, accuracy, steps/s and
// ETA. On a terminal it redraws one line; elsewhere (logs, CI) it prints a
// line every few seconds.
#ifndef LRA_PROGRESS_H_
#define LRA_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace lra {

// "1h02m", "4m05s", "12s".
std::string FormatDuration(double seconds);

// Seconds on a monotonic clock; tests pass a fake one.
using ProgressClock = std::function<double()>;

// The steady clock, in seconds.
double SteadySeconds();

class Progress {
 public:
  // `log` may be null (silent). `every` > 0 prints every that many steps;
  // 0 prints about twice a second on a terminal, every 10 s otherwise.
  // Redraws one line when stderr is a terminal.
  Progress(std::ostream* log, std::string label, int64_t total_steps,
           int every);
  // The same with the clock and terminal given (for tests).
  Progress(std::ostream* log, std::string label, int64_t total_steps, int every,
           ProgressClock clock, bool terminal);

  void Start(int64_t step);
  void Step(int64_t step, double loss, double accuracy, double lr);
  void Eval(int64_t step, double val_loss, double val_accuracy,
            double best_accuracy, int64_t best_step);
  void Finish();

 private:
  void Print(int64_t step);

  std::ostream* log_;
  std::string label_;
  int64_t total_;
  int every_;
  bool terminal_;
  bool line_open_ = false;
  ProgressClock clock_;
  double start_ = 0, last_print_ = 0;  // clock_() seconds.
  int64_t start_step_ = 0;
  double loss_ = 0, accuracy_ = 0, lr_ = 0;
  // Smoothed over recent steps so the line does not jitter.
  double smooth_loss_ = -1, smooth_accuracy_ = -1;
};

}  // namespace lra

#endif  // LRA_PROGRESS_H_
