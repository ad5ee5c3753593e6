// Cheap classifiers for the stand-ins' leakage tests: if a linear probe on
// a bag of tokens, or a binned scalar such as the length, predicts the
// label well above chance, the task gives its label away without needing
// long-range structure. Test-only.
#ifndef LRA_DATASETS_COMMON_PROBE_H_
#define LRA_DATASETS_COMMON_PROBE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/types/span.h"
#include "datasets/dataset_base.h"

namespace lra {
namespace probe {

using Matrix = std::vector<std::vector<double>>;  // [examples][features]

// Held-out accuracy of a one-vs-rest ridge regression classifier (features
// standardised on the training set, ridge `ridge` times the number of
// training examples) fit on (train_x, train_y).
double LinearProbeAccuracy(const Matrix& train_x, absl::Span<const int> train_y,
                           const Matrix& test_x, absl::Span<const int> test_y,
                           int num_classes, double ridge = 1e-2);

// The feature row of example `index` of `split`, its label stored in *label.
using ExampleFeatures = std::function<std::vector<double>(
    Split split, int64_t index, int32_t* label)>;

// LinearProbeAccuracy fit on the features of train examples [0, n) and
// tested on those of test examples [0, n).
double SplitProbeAccuracy(int64_t n, int num_classes,
                          const ExampleFeatures& features);

// Held-out accuracy of predicting the most common training label of the
// value's bin, with `bins` equal-count bins of the training values.
double BinnedProbeAccuracy(absl::Span<const double> train_values,
                           absl::Span<const int> train_y,
                           absl::Span<const double> test_values,
                           absl::Span<const int> test_y, int num_classes,
                           int bins = 10);

// Frequencies of ids 1..vocab_size-1 among the non-padding tokens
// ([vocab_size - 1], summing to 1 unless all are padding).
std::vector<double> TokenHistogram(absl::Span<const int32_t> tokens,
                                   int vocab_size);

// Number of tokens up to the last non-padding one.
int64_t UnpaddedLength(absl::Span<const int32_t> tokens);

// What a stand-in's leak test collects, per example: a feature row for the
// linear probe (a byte histogram, say), a scalar for the binned probe (a
// length, say) and the label.
struct Leakage {
  Matrix features;
  std::vector<double> scalars;
  std::vector<int> labels;
};

// Held-out accuracies of the linear probe on the features and the binned
// probe on the scalars, both fit on `train` and tested on `test`.
struct LeakageAccuracy {
  double by_features = 0;
  double by_scalar = 0;
};
LeakageAccuracy LeakageProbes(const Leakage& train, const Leakage& test,
                              int num_classes);

// The tokens and labels of examples [0, count) of a dataset.
struct Examples {
  std::vector<std::vector<int32_t>> tokens;
  std::vector<int> labels;
};
Examples GetExamples(const Dataset& dataset, int64_t count);

}  // namespace probe
}  // namespace lra

#endif  // LRA_DATASETS_COMMON_PROBE_H_
