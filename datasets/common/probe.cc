#include "datasets/common/probe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lra {
namespace probe {
namespace {

// Solves a x = b in place for a symmetric positive definite `a`
// ([n][n], row-major) by Cholesky factorisation; b holds several
// right-hand sides ([n][k]).
void CholeskySolve(std::vector<double>& a, int n, std::vector<double>& b,
                   int k) {
  for (int j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int p = 0; p < j; ++p) d -= a[j * n + p] * a[j * n + p];
    d = std::sqrt(std::max(d, 1e-12));
    a[j * n + j] = d;
    for (int i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (int p = 0; p < j; ++p) s -= a[i * n + p] * a[j * n + p];
      a[i * n + j] = s / d;
    }
  }
  for (int c = 0; c < k; ++c) {
    for (int i = 0; i < n; ++i) {  // L y = b
      double s = b[i * k + c];
      for (int p = 0; p < i; ++p) s -= a[i * n + p] * b[p * k + c];
      b[i * k + c] = s / a[i * n + i];
    }
    for (int i = n - 1; i >= 0; --i) {  // L^T x = y
      double s = b[i * k + c];
      for (int p = i + 1; p < n; ++p) s -= a[p * n + i] * b[p * k + c];
      b[i * k + c] = s / a[i * n + i];
    }
  }
}

}  // namespace

double LinearProbeAccuracy(const Matrix& train_x, absl::Span<const int> train_y,
                           const Matrix& test_x, absl::Span<const int> test_y,
                           int num_classes, double ridge) {
  const int n = static_cast<int>(train_x.size());
  if (n == 0 || test_x.empty()) return 0;
  const int d = static_cast<int>(train_x[0].size());
  std::vector<double> mean(d, 0), scale(d, 0);
  for (const auto& row : train_x) {
    for (int f = 0; f < d; ++f) mean[f] += row[f] / n;
  }
  for (const auto& row : train_x) {
    for (int f = 0; f < d; ++f) {
      scale[f] += (row[f] - mean[f]) * (row[f] - mean[f]) / n;
    }
  }
  // Constant features get scale 0 and drop out.
  for (int f = 0; f < d; ++f) {
    scale[f] = scale[f] > 1e-18 ? 1 / std::sqrt(scale[f]) : 0;
  }
  std::vector<double> target_mean(num_classes, 0);
  for (int y : train_y) target_mean[y] += 1.0 / n;
  std::vector<double> gram(int64_t{d} * d, 0);           // [d, d]
  std::vector<double> rhs(int64_t{d} * num_classes, 0);  // [d, classes]
  std::vector<double> z(d);
  for (int i = 0; i < n; ++i) {
    for (int f = 0; f < d; ++f) z[f] = (train_x[i][f] - mean[f]) * scale[f];
    for (int f = 0; f < d; ++f) {
      if (z[f] == 0) continue;
      for (int g = 0; g <= f; ++g) gram[f * d + g] += z[f] * z[g];
      for (int c = 0; c < num_classes; ++c) {
        rhs[f * num_classes + c] +=
            z[f] * ((train_y[i] == c ? 1.0 : 0.0) - target_mean[c]);
      }
    }
  }
  for (int f = 0; f < d; ++f) {
    for (int g = 0; g < f; ++g) gram[g * d + f] = gram[f * d + g];
    gram[f * d + f] += ridge * n + 1e-9;
  }
  CholeskySolve(gram, d, rhs, num_classes);
  int correct = 0;
  for (size_t i = 0; i < test_x.size(); ++i) {
    int best = 0;
    double best_score = -1e300;
    for (int c = 0; c < num_classes; ++c) {
      double score = target_mean[c];
      for (int f = 0; f < d; ++f) {
        score += (test_x[i][f] - mean[f]) * scale[f] * rhs[f * num_classes + c];
      }
      if (score > best_score) {
        best_score = score;
        best = c;
      }
    }
    correct += best == test_y[i];
  }
  return static_cast<double>(correct) / test_x.size();
}

double SplitProbeAccuracy(int64_t n, int num_classes,
                          const ExampleFeatures& features) {
  Matrix x[2];
  std::vector<int> y[2];
  const Split splits[2] = {Split::kTrain, Split::kTest};
  for (int s = 0; s < 2; ++s) {
    for (int64_t i = 0; i < n; ++i) {
      int32_t label = -1;
      x[s].push_back(features(splits[s], i, &label));
      y[s].push_back(label);
    }
  }
  return LinearProbeAccuracy(x[0], y[0], x[1], y[1], num_classes);
}

double BinnedProbeAccuracy(absl::Span<const double> train_values,
                           absl::Span<const int> train_y,
                           absl::Span<const double> test_values,
                           absl::Span<const int> test_y, int num_classes,
                           int bins) {
  if (train_values.empty() || test_values.empty()) return 0;
  std::vector<double> sorted(train_values.begin(), train_values.end());
  std::sort(sorted.begin(), sorted.end());
  // Upper edges of the first bins - 1 bins.
  std::vector<double> edges;
  for (int b = 1; b < bins; ++b) {
    edges.push_back(sorted[sorted.size() * b / bins]);
  }
  auto bin_of = [&](double v) {
    return static_cast<int>(std::upper_bound(edges.begin(), edges.end(), v) -
                            edges.begin());
  };
  std::vector<std::vector<int>> counts(bins, std::vector<int>(num_classes, 0));
  std::vector<int> overall(num_classes, 0);
  for (size_t i = 0; i < train_values.size(); ++i) {
    ++counts[bin_of(train_values[i])][train_y[i]];
    ++overall[train_y[i]];
  }
  const int fallback = static_cast<int>(
      std::max_element(overall.begin(), overall.end()) - overall.begin());
  int correct = 0;
  for (size_t i = 0; i < test_values.size(); ++i) {
    const std::vector<int>& c = counts[bin_of(test_values[i])];
    int predicted =
        static_cast<int>(std::max_element(c.begin(), c.end()) - c.begin());
    if (c[predicted] == 0) predicted = fallback;
    correct += predicted == test_y[i];
  }
  return static_cast<double>(correct) / test_values.size();
}

std::vector<double> TokenHistogram(absl::Span<const int32_t> tokens,
                                   int vocab_size) {
  std::vector<double> histogram(vocab_size - 1, 0);
  int64_t count = 0;
  for (int32_t id : tokens) {
    if (id <= 0 || id >= vocab_size) continue;
    histogram[id - 1] += 1;
    ++count;
  }
  if (count > 0) {
    for (double& h : histogram) h /= count;
  }
  return histogram;
}

int64_t UnpaddedLength(absl::Span<const int32_t> tokens) {
  int64_t length = static_cast<int64_t>(tokens.size());
  while (length > 0 && tokens[length - 1] == 0) --length;
  return length;
}

LeakageAccuracy LeakageProbes(const Leakage& train, const Leakage& test,
                              int num_classes) {
  LeakageAccuracy accuracy;
  accuracy.by_features = LinearProbeAccuracy(
      train.features, train.labels, test.features, test.labels, num_classes);
  accuracy.by_scalar = BinnedProbeAccuracy(
      train.scalars, train.labels, test.scalars, test.labels, num_classes);
  return accuracy;
}

Examples GetExamples(const Dataset& dataset, int64_t count) {
  Examples examples;
  count = std::min(count, dataset.size());
  examples.tokens.resize(count);
  examples.labels.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    examples.tokens[i].resize(dataset.seq_len());
    examples.labels[i] = dataset.Get(i, examples.tokens[i].data());
  }
  return examples;
}

}  // namespace probe
}  // namespace lra
