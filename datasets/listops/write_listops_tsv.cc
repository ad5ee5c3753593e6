// Generates ListOps splits and writes them as LRA-format TSV files
// (<out_dir>/<prefix>_{train,val,test}.tsv), printing how long generation
// took, then checks each file with CheckListOpsTsv. The flag defaults are
// LRA's.
//
//   bazel run //datasets/listops:write_listops_tsv -- --out_dir=/tmp/lo
#include <cstdint>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "datasets/listops/check.h"
#include "datasets/listops/generator.h"
#include "datasets/listops/tsv.h"
#include "proto/config.pb.h"

ABSL_FLAG(std::string, out_dir, "",
          "Directory for the TSV files; empty "
          "generates and times only.");
ABSL_FLAG(std::string, prefix, "basic", "File name prefix.");
ABSL_FLAG(uint64_t, seed, 0, "Data seed.");
ABSL_FLAG(int64_t, train_size, 96000, "Training examples.");
ABSL_FLAG(int64_t, val_size, 2000, "Validation examples.");
ABSL_FLAG(int64_t, test_size, 2000, "Test examples.");
ABSL_FLAG(int32_t, max_depth, 10, "Maximum tree depth (root at 1).");
ABSL_FLAG(int32_t, min_args, 2, "Fewest arguments of an operator.");
ABSL_FLAG(int32_t, max_args, 10, "Most arguments of an operator.");
ABSL_FLAG(double, operator_prob, 0.25, "Probability of an operator node.");
ABSL_FLAG(int32_t, min_length, 500, "Trees need min_length < length.");
ABSL_FLAG(int32_t, max_length, 2000, "Trees need length < max_length.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  lra::ListOpsConfig config;
  config.set_max_depth(absl::GetFlag(FLAGS_max_depth));
  config.set_min_args(absl::GetFlag(FLAGS_min_args));
  config.set_max_args(absl::GetFlag(FLAGS_max_args));
  config.set_operator_prob(
      static_cast<float>(absl::GetFlag(FLAGS_operator_prob)));
  config.set_min_length(absl::GetFlag(FLAGS_min_length));
  config.set_max_length(absl::GetFlag(FLAGS_max_length));
  const int64_t sizes[] = {absl::GetFlag(FLAGS_train_size),
                           absl::GetFlag(FLAGS_val_size),
                           absl::GetFlag(FLAGS_test_size)};
  const std::string out_dir = absl::GetFlag(FLAGS_out_dir);
  for (int s = 0; s < lra::kNumSplits; ++s) {
    const lra::Split split = static_cast<lra::Split>(s);
    const absl::Time start = absl::Now();
    absl::StatusOr<lra::listops::ListOpsExamples> examples =
        lra::listops::GenerateExamples(config, absl::GetFlag(FLAGS_seed), split,
                                       sizes[s]);
    if (!examples.ok()) {
      std::cerr << "error: " << examples.status().message() << "\n";
      return 1;
    }
    int64_t tokens = 0;
    for (const auto& ids : examples->ids) tokens += ids.size();
    std::cout << lra::SplitName(split) << ": " << sizes[s] << " examples, "
              << tokens << " tokens, generated in "
              << absl::FormatDuration(absl::Now() - start) << "\n";
    if (out_dir.empty()) continue;
    const std::string path =
        absl::StrCat(out_dir, "/", absl::GetFlag(FLAGS_prefix), "_",
                     lra::SplitName(split), ".tsv");
    absl::Status written = lra::listops::WriteListOpsTsv(path, *examples);
    if (!written.ok()) {
      std::cerr << "error: " << written.message() << "\n";
      return 1;
    }
    std::cout << "wrote " << path << "\n";
    // Reads the file back through the loader and evaluator, so a written
    // file is known to load and to carry labels that agree.
    absl::StatusOr<lra::ListOpsCheckReport> report = lra::CheckListOpsTsv(path);
    if (!report.ok()) {
      std::cerr << "error: " << report.status().message() << "\n";
      return 1;
    }
    std::cout << lra::FormatCheckReport(*report);
  }
  return 0;
}
