// Central-difference gradient checks for the layer and plugin tests.
#ifndef LRA_MODELS_INTERNAL_GRAD_CHECK_H_
#define LRA_MODELS_INTERNAL_GRAD_CHECK_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lra::internal {

// The central difference of `f` in the float *value (perturbed by +-eps in
// place and restored): (f(x + eps) - f(x - eps)) / h, h the step actually
// taken, which float rounding may change.
inline double CentralDifference(const std::function<double()>& f, float* value,
                                float eps) {
  const float saved = *value;
  *value = saved + eps;
  const double plus = f();
  *value = saved - eps;
  const double minus = f();
  *value = saved;
  const double h =
      static_cast<double>(saved + eps) - static_cast<double>(saved - eps);
  return (plus - minus) / h;
}

struct GradCheckOptions {
  // Step for the central difference, in the parameter's units. Float32 math
  // needs a larger step than double (round-off in f is divided by 2 * eps).
  float epsilon = 1e-2f;
  // Accept |numeric - analytic| <= abs_tol + rel_tol * max(|numeric|,
  // |analytic|).
  float rel_tol = 2e-2f;
  float abs_tol = 1e-3f;
  // Check at most this many entries, evenly spread (0 = all).
  int max_entries = 0;
};

// Compares analytic[i] with (f(x + e_i eps) - f(x - e_i eps)) / (2 eps) for the
// entries of `values` (n floats, perturbed in place and restored). `f`
// recomputes the scalar objective from the current values.
inline ::testing::AssertionResult CheckGradient(
    const std::string& what, const std::function<double()>& f, float* values,
    int64_t n, const float* analytic, const GradCheckOptions& options = {}) {
  int64_t step = 1;
  if (options.max_entries > 0 && n > options.max_entries) {
    step = (n + options.max_entries - 1) / options.max_entries;
  }
  int failures = 0;
  std::string report;
  double worst = 0.0;
  for (int64_t i = 0; i < n; i += step) {
    const double numeric = CentralDifference(f, &values[i], options.epsilon);
    const double a = analytic[i];
    const double err = std::fabs(numeric - a);
    const double allowed =
        options.abs_tol +
        options.rel_tol * std::max(std::fabs(numeric), std::fabs(a));
    worst = std::max(worst, err / allowed);
    if (!(err <= allowed)) {
      if (++failures <= 5) {
        report += what + "[" + std::to_string(i) + "]: numeric " +
                  std::to_string(numeric) + " vs analytic " +
                  std::to_string(a) + "\n";
      }
    }
  }
  if (failures > 0) {
    return ::testing::AssertionFailure()
           << failures << " entries of " << what << " differ:\n"
           << report;
  }
  return ::testing::AssertionSuccess()
         << what << " worst error/allowed " << worst;
}

// An input of a double-precision reference objective and the float gradient
// that the code under test computed for it.
struct DoubleInput {
  const char* name;
  std::vector<double>* values;  // perturbed in place and restored
  const std::vector<float>* analytic;
};

// Compares each input's analytic[e] with (f(x + h e_e) - f(x - h e_e)) / (2 h)
// at every `stride`-th entry e, accepting |analytic - numeric| <= abs_tol +
// rel_tol * |numeric|. `f` recomputes the double objective from the values.
inline ::testing::AssertionResult CheckDoubleGradients(
    const std::function<double()>& f, std::initializer_list<DoubleInput> inputs,
    double h, int64_t stride, double abs_tol, double rel_tol) {
  for (const DoubleInput& input : inputs) {
    std::vector<double>& x = *input.values;
    for (size_t e = 0; e < x.size(); e += stride) {
      const double saved = x[e];
      x[e] = saved + h;
      const double plus = f();
      x[e] = saved - h;
      const double minus = f();
      x[e] = saved;
      const double numeric = (plus - minus) / (2 * h);
      const double analytic = (*input.analytic)[e];
      if (!(std::fabs(analytic - numeric) <=
            abs_tol + rel_tol * std::fabs(numeric))) {
        return ::testing::AssertionFailure()
               << input.name << "[" << e << "]: analytic " << analytic
               << " vs numeric " << numeric;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace lra::internal

#endif  // LRA_MODELS_INTERNAL_GRAD_CHECK_H_
