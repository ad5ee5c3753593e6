// The lru mixer's vectorised scans against central differences of an
// independent double-precision forward pass, on shapes the conformance suite
// and the golden test do not reach: more modes than one 16-lane block (and a
// partial last block), sequences longer than the 32-position chunks in which
// float sums are moved to double, and padding.
#include "models/mixers/lru/lru_mixer.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/mixers/conformance/scan_testing.h"
#include "models/rng.h"

namespace lra {
namespace {

using Case = conformance::ScanCase;
using Complex = std::complex<double>;
using Values = std::vector<double>;

// sum(dy * y) of the mixer in double, straight from the definition.
double Objective(const Case& c, const std::map<std::string, Values>& p,
                 const Values& x, const Values& dy,
                 const std::vector<uint8_t>& mask) {
  const int L = c.len, H = c.width, N = c.state;
  double total = 0.0;
  for (int b = 0; b < c.seqs; ++b) {
    std::vector<double> u(static_cast<size_t>(L) * H);
    for (int t = 0; t < L; ++t) {
      for (int h = 0; h < H; ++h) {
        const size_t r = (static_cast<size_t>(b) * L + t) * H + h;
        u[t * H + h] = mask[b * L + t] ? x[r] : 0.0;
      }
    }
    // v_t = B u_t, then the states: x_t forwards, z_{t+1} backwards.
    std::vector<Complex> v(static_cast<size_t>(L) * N), xs(v.size()),
        zs(v.size());
    for (int t = 0; t < L; ++t) {
      for (int n = 0; n < N; ++n) {
        double re = 0.0, im = 0.0;
        for (int h = 0; h < H; ++h) {
          re += u[t * H + h] * p.at("b")[h * 2 * N + n];
          im += u[t * H + h] * p.at("b")[h * 2 * N + N + n];
        }
        v[t * N + n] = Complex(re, im);
      }
    }
    for (int n = 0; n < N; ++n) {
      const Complex lam = std::exp(Complex(-std::exp(p.at("nu_log")[n]),
                                           std::exp(p.at("theta_log")[n])));
      const double gam = std::exp(p.at("gamma_log")[n]);
      Complex s = 0.0;
      for (int t = 0; t < L; ++t) {
        s = lam * s + gam * v[t * N + n];
        xs[t * N + n] = s;
      }
      s = 0.0;
      for (int t = L - 1; t >= 0; --t) {
        zs[t * N + n] = s;
        s = lam * s + gam * v[t * N + n];
      }
    }
    const Values& cw = p.at("c");  // [dirs 2N, H]
    for (int t = 0; t < L; ++t) {
      for (int h = 0; h < H; ++h) {
        double y = p.at("d")[h] * u[t * H + h];
        for (int n = 0; n < N; ++n) {
          y += xs[t * N + n].real() * cw[n * H + h] +
               xs[t * N + n].imag() * cw[(N + n) * H + h];
          if (c.bidirectional) {
            y += zs[t * N + n].real() * cw[(2 * N + n) * H + h] +
                 zs[t * N + n].imag() * cw[(3 * N + n) * H + h];
          }
        }
        total += y * dy[(static_cast<size_t>(b) * L + t) * H + h];
      }
    }
  }
  return total;
}

void ExpectMatchesDifferences(const Case& c) {
  LruOptions options;
  options.state_size = c.state;
  options.bidirectional = c.bidirectional;
  options.r_min = 0.6f;
  options.r_max = 0.99f;
  LruMixer mixer(conformance::ShapeOf(c), options);
  mixer.InitParameters(5);
  std::map<std::string, Values> params;
  mixer.ForEachWeight([&](const std::string& name, Tensor& value, Tensor& grad,
                          const WeightSpec&) {
    for (int64_t i = 0; i < value.size(); ++i) grad[i] = 0.0f;
    params[name].assign(value.data(), value.data() + value.size());
  });
  const conformance::ScanRun run = conformance::RunForwardBackward(mixer, c);
  const std::vector<uint8_t>& mask = run.mask;

  Values xd(run.x.begin(), run.x.end()), dyd(run.dy.begin(), run.dy.end());
  // Central differences in double of sum(dy * y) at every `every`-th entry.
  auto check = [&](const std::string& what, Values* value,
                   const std::vector<float>& analytic, int every) {
    std::vector<float> got;
    std::vector<int64_t> index;
    Values want;
    for (size_t i = 0; i < value->size(); i += every) {
      const double keep = (*value)[i];
      const double eps = 1e-6 * std::max(1.0, std::fabs(keep));
      (*value)[i] = keep + eps;
      const double plus = Objective(c, params, xd, dyd, mask);
      (*value)[i] = keep - eps;
      const double minus = Objective(c, params, xd, dyd, mask);
      (*value)[i] = keep;
      want.push_back((plus - minus) / (2 * eps));
      got.push_back(analytic[i]);
      index.push_back(static_cast<int64_t>(i));
    }
    EXPECT_TRUE(conformance::NearScaled(what, got.data(), want, index));
  };
  check("dx", &xd, run.dx, 7);
  mixer.ForEachWeight([&](const std::string& name, Tensor&, Tensor& grad,
                          const WeightSpec&) {
    const std::vector<float> analytic(grad.data(), grad.data() + grad.size());
    const int every = name == "b" || name == "c" ? 5 : 1;
    check("grad." + name, &params[name], analytic, every);
  });
  // The forward output itself.
  const double want_y = Objective(c, params, xd, dyd, mask);
  double got_y = 0.0;
  for (size_t i = 0; i < run.y.size(); ++i) {
    got_y += static_cast<double>(run.y[i]) * run.dy[i];
  }
  EXPECT_NEAR(got_y, want_y, 1e-4 * (1.0 + std::fabs(want_y)));
}

TEST(LruMixerTest, BlocksChunksAndPaddingMatchDifferences) {
  // 21 modes: blocks of 16 and 5; 75 positions: chunks of 32 and a partial
  // one; padding at the end of the second sequence.
  ExpectMatchesDifferences({2, 75, 6, 21, true, {75, 40}});
}

TEST(LruMixerTest, CausalMatchesDifferences) {
  ExpectMatchesDifferences({2, 40, 5, 17, false, {33, 40}});
}

}  // namespace
}  // namespace lra
