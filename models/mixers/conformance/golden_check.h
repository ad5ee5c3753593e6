// Compares a mixer with a golden file written by tools/make_ssm_golden.py
// (an independent PyTorch implementation in float64): forward output, dx and
// every parameter gradient, to 1e-4 relative.
#ifndef LRA_MODELS_MIXERS_CONFORMANCE_GOLDEN_CHECK_H_
#define LRA_MODELS_MIXERS_CONFORMANCE_GOLDEN_CHECK_H_

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/mixer.h"

namespace lra::conformance {

// name -> values, from "name count v1 v2 ..." lines ('#' lines skipped).
inline std::map<std::string, std::vector<double>> ReadGolden(
    const std::string& workspace_path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const std::string path =
      std::string(srcdir ? srcdir : ".") + "/lra_harness/" + workspace_path;
  std::map<std::string, std::vector<double>> golden;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string name;
    size_t count = 0;
    fields >> name >> count;
    std::vector<double>& values = golden[name];
    values.resize(count);
    for (double& v : values) fields >> v;
  }
  return golden;
}

// |got - want| <= 1e-4 * max(|want|, 1e-2 * max |want| of the tensor).
inline ::testing::AssertionResult Near(const std::string& what,
                                       const float* got,
                                       const std::vector<double>& want) {
  double scale = 0.0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (size_t i = 0; i < want.size(); ++i) {
    const double allowed =
        1e-4 * std::max(std::fabs(want[i]), 1e-2 * scale) + 1e-12;
    if (!(std::fabs(got[i] - want[i]) <= allowed)) {
      return ::testing::AssertionFailure()
             << what << "[" << i << "]: " << got[i] << " vs golden " << want[i];
    }
  }
  return ::testing::AssertionSuccess();
}

// Loads the golden parameters into `mixer` (built for the golden's shape),
// runs Forward and Backward with the golden dy, and compares.
inline void ExpectMatchesGolden(TokenMixer& mixer,
                                const std::string& workspace_path) {
  auto golden = ReadGolden(workspace_path);
  ASSERT_EQ(golden["shape"].size(), 3u) << "no golden at " << workspace_path;
  const int B = golden["shape"][0], L = golden["shape"][1],
            H = golden["shape"][2];
  std::vector<uint8_t> mask(golden["mask"].begin(), golden["mask"].end());
  std::vector<float> x(golden["x"].begin(), golden["x"].end());
  std::vector<float> dy(golden["dy"].begin(), golden["dy"].end());
  ASSERT_EQ(x.size(), static_cast<size_t>(B) * L * H);
  int params = 0;
  mixer.ForEachWeight([&](const std::string& name, Tensor& value, Tensor& grad,
                          const WeightSpec&) {
    const std::vector<double>& v = golden["param." + name];
    ASSERT_EQ(v.size(), static_cast<size_t>(value.size())) << name;
    for (int64_t i = 0; i < value.size(); ++i) {
      value[i] = static_cast<float>(v[i]);
      grad[i] = 0.0f;
    }
    ++params;
  });
  ASSERT_GT(params, 0);
  MixerStep step;
  step.seqs = B;
  step.key_mask = mask.data();
  std::vector<float> y(x.size()), dx(x.size());
  mixer.Forward(x.data(), step, y.data());
  mixer.Backward(dy.data(), dx.data());
  EXPECT_TRUE(Near("y", y.data(), golden["y"]));
  EXPECT_TRUE(Near("dx", dx.data(), golden["dx"]));
  mixer.ForEachWeight(
      [&](const std::string& name, Tensor&, Tensor& grad, const WeightSpec&) {
        EXPECT_TRUE(Near("grad." + name, grad.data(), golden["grad." + name]));
      });
}

}  // namespace lra::conformance

#endif  // LRA_MODELS_MIXERS_CONFORMANCE_GOLDEN_CHECK_H_
