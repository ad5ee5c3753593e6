#include "datasets/common/probe.h"

#include <vector>

#include "datasets/common/random.h"
#include "gtest/gtest.h"

namespace lra {
namespace probe {
namespace {

// Examples with 20 noise features; when `planted` is true, feature 7 is
// shifted by the label, which a linear probe must find.
void MakeData(uint64_t seed, int n, bool planted, Matrix* x,
              std::vector<int>* y) {
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng.UniformInt(0, 2));
    std::vector<double> row(20);
    for (double& v : row) v = rng.UniformDouble();
    if (planted) row[7] += 0.8 * label;
    x->push_back(row);
    y->push_back(label);
  }
}

TEST(ProbeTest, LinearProbeFindsAPlantedFeatureAndNothingInNoise) {
  Matrix train_x, test_x;
  std::vector<int> train_y, test_y;
  MakeData(1, 1000, true, &train_x, &train_y);
  MakeData(2, 1000, true, &test_x, &test_y);
  EXPECT_GT(LinearProbeAccuracy(train_x, train_y, test_x, test_y, 3), 0.6);

  Matrix noise_train, noise_test;
  std::vector<int> noise_train_y, noise_test_y;
  MakeData(3, 1000, false, &noise_train, &noise_train_y);
  MakeData(4, 1000, false, &noise_test, &noise_test_y);
  const double chance = LinearProbeAccuracy(noise_train, noise_train_y,
                                            noise_test, noise_test_y, 3);
  EXPECT_GT(chance, 0.28);
  EXPECT_LT(chance, 0.39);
}

TEST(ProbeTest, BinnedProbeFindsANonlinearDependence) {
  // The label is 1 exactly when the value lies in the middle third, which
  // no threshold separates but bins do.
  std::vector<double> train_v, test_v;
  std::vector<int> train_y, test_y;
  Rng rng(5);
  for (int i = 0; i < 2000; ++i) {
    const double v = rng.UniformDouble();
    const int label = v > 1.0 / 3 && v < 2.0 / 3 ? 1 : 0;
    (i % 2 == 0 ? train_v : test_v).push_back(v);
    (i % 2 == 0 ? train_y : test_y).push_back(label);
  }
  EXPECT_GT(BinnedProbeAccuracy(train_v, train_y, test_v, test_y, 2), 0.9);
}

TEST(ProbeTest, HistogramAndLength) {
  const std::vector<int32_t> tokens = {1, 2, 2, 3, 0, 0};
  const std::vector<double> histogram = TokenHistogram(tokens, 4);
  ASSERT_EQ(histogram.size(), 3u);
  EXPECT_DOUBLE_EQ(histogram[0], 0.25);
  EXPECT_DOUBLE_EQ(histogram[1], 0.5);
  EXPECT_DOUBLE_EQ(histogram[2], 0.25);
  EXPECT_EQ(UnpaddedLength(tokens), 4);
}

TEST(ProbeTest, SplitProbeFitsOnTrainAndScoresOnTest) {
  // The label's one-hot row: the probe learns it on train and scores 1 on
  // test. A row that names the label only on train scores near chance.
  std::vector<Split> seen;
  auto one_hot = [&](Split split, int64_t index, int32_t* label) {
    if (index == 0) seen.push_back(split);
    *label = static_cast<int32_t>(index % 3);
    std::vector<double> row(3, 0.0);
    row[*label] = 1;
    return row;
  };
  EXPECT_DOUBLE_EQ(SplitProbeAccuracy(300, 3, one_hot), 1.0);
  EXPECT_EQ(seen, (std::vector<Split>{Split::kTrain, Split::kTest}));
  auto train_only = [](Split split, int64_t index, int32_t* label) {
    *label = static_cast<int32_t>(index % 2);
    return std::vector<double>{split == Split::kTrain ? 1.0 * *label : 0.0};
  };
  EXPECT_LT(SplitProbeAccuracy(300, 2, train_only), 0.6);
}

}  // namespace
}  // namespace probe
}  // namespace lra
