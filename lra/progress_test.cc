#include "lra/progress.h"

#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace lra {
namespace {

TEST(FormatDurationTest, HoursMinutesSeconds) {
  EXPECT_EQ(FormatDuration(12.4), "12s");
  EXPECT_EQ(FormatDuration(245), "4m05s");
  EXPECT_EQ(FormatDuration(3720), "1h02m");
  EXPECT_EQ(FormatDuration(-1), "?");
}

// A clock the test moves by hand.
struct FakeClock {
  double seconds = 100;
  ProgressClock Get() {
    return [this] { return seconds; };
  }
};

TEST(ProgressTest, RateAndEtaCountStepsSinceStart) {
  FakeClock clock;
  std::ostringstream log;
  Progress progress(&log, "t/m", /*total_steps=*/1000, /*every=*/100,
                    clock.Get(), /*terminal=*/false);
  // Resumed at step 200: the rate counts only this session's steps.
  progress.Start(200);
  clock.seconds += 40;  // 100 steps in 40 s: 2.5 steps/s.
  progress.Step(300, 1.25, 0.5, 1e-3);
  const std::string line = log.str();
  EXPECT_NE(line.find("[t/m] step 300/1000"), std::string::npos) << line;
  EXPECT_NE(line.find("2.50 steps/s"), std::string::npos) << line;
  // 700 steps left at 2.5 steps/s: 280 s.
  EXPECT_NE(line.find("ETA 4m40s"), std::string::npos) << line;
  EXPECT_NE(line.find("loss 1.2500  acc 0.500  lr 1.00e-03"), std::string::npos)
      << line;
}

TEST(ProgressTest, PrintsOnScheduleOnly) {
  FakeClock clock;
  std::ostringstream log;
  Progress progress(&log, "x", 10, /*every=*/0, clock.Get(), false);
  progress.Start(0);
  clock.seconds += 1;
  progress.Step(1, 1, 0, 0);  // The first step always prints.
  clock.seconds += 1;
  progress.Step(2, 1, 0, 0);  // 1 s after the last line: not due (10 s).
  clock.seconds += 10;
  progress.Step(3, 1, 0, 0);  // Due.
  const std::string text = log.str();
  EXPECT_NE(text.find("step 1/10"), std::string::npos) << text;
  EXPECT_EQ(text.find("step 2/10"), std::string::npos) << text;
  EXPECT_NE(text.find("step 3/10"), std::string::npos) << text;
  // 3 steps in 12 s; 7 left: 28 s.
  EXPECT_NE(text.find("0.25 steps/s  ETA 28s"), std::string::npos) << text;
}

TEST(ProgressTest, NoRateYetMeansUnknownEta) {
  FakeClock clock;
  std::ostringstream log;
  Progress progress(&log, "x", 10, 1, clock.Get(), false);
  progress.Start(0);
  progress.Step(1, 1, 0, 0);  // No time has passed.
  EXPECT_NE(log.str().find("0.00 steps/s  ETA ?"), std::string::npos)
      << log.str();
}

}  // namespace
}  // namespace lra
