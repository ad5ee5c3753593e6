// The s4d mixer's vectorised scans against an independent double-precision
// reference in the convolution form (kernel K[l] = 2 Re(C bb a^l), applied
// directly in O(L^2)), on shapes the conformance suite and the golden test
// do not reach: several 16-channel blocks with a partial last block, a state
// size that is not a multiple of the scan's group, sequences longer than the
// backward pass's checkpoint chunk and not a multiple of it, and padding.
// The reference's parameter gradients come from central differences of the
// kernel in double, so no adjoint formula is shared with the mixer.
#include "models/mixers/s4d/s4d_mixer.h"

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

struct Reference {
  Values y, dx;
  std::map<std::string, Values> grads;
};

class S4dReference {
 public:
  S4dReference(const Case& c, std::map<std::string, Values> p)
      : c_(c), p_(std::move(p)) {}

  // The kernels of channel h: k0[l] = 2 Re(sum_n C0 bb a^l) (l >= 0) and
  // k1[l] = 2 Re(sum_n C1 bb a^(l-1)) (l >= 1, strictly later positions).
  // With `only` >= 0, the contribution of that mode alone.
  void Kernels(int h, int only, Values* k0, Values* k1) const {
    const int L = c_.len, N = c_.state, H = c_.width;
    k0->assign(L, 0.0);
    k1->assign(L, 0.0);
    const double dt = std::exp(p_.at("log_dt")[h]);
    for (int n = 0; n < N; ++n) {
      if (only >= 0 && n != only) continue;
      const int i = h * N + n;
      const Complex A(-std::exp(p_.at("log_a_real")[i]), p_.at("a_imag")[i]);
      const Complex a = std::exp(dt * A);
      const Complex bb =
          (a - 1.0) / A * Complex(p_.at("b")[2 * i], p_.at("b")[2 * i + 1]);
      const Complex c0(p_.at("c")[2 * i], p_.at("c")[2 * i + 1]);
      Complex power = bb;  // bb a^l
      for (int l = 0; l < L; ++l) {
        (*k0)[l] += 2.0 * (c0 * power).real();
        if (c_.bidirectional && l + 1 < L) {
          const int j = H * N + i;
          const Complex c1(p_.at("c")[2 * j], p_.at("c")[2 * j + 1]);
          (*k1)[l + 1] += 2.0 * (c1 * power).real();
        }
        power *= a;
      }
    }
  }

  Reference Run(const Values& x, const Values& dy,
                const std::vector<uint8_t>& mask) {
    const int B = c_.seqs, L = c_.len, H = c_.width;
    Values u(x.size());
    for (size_t r = 0; r < u.size(); ++r) u[r] = mask[r / H] ? x[r] : 0.0;
    Values pre(u.size(), 0.0);
    std::vector<Values> k0(H), k1(H);
    for (int h = 0; h < H; ++h) Kernels(h, -1, &k0[h], &k1[h]);
    auto at = [&](int b, int t, int h) {
      return (static_cast<size_t>(b) * L + t) * H + h;
    };
    const Values& d = p_.at("d");
    for (int b = 0; b < B; ++b) {
      for (int t = 0; t < L; ++t) {
        for (int h = 0; h < H; ++h) {
          double s = d[h] * u[at(b, t, h)];
          for (int j = 0; j < L; ++j) {
            if (j <= t) s += k0[h][t - j] * u[at(b, j, h)];
            if (j > t) s += k1[h][j - t] * u[at(b, j, h)];
          }
          pre[at(b, t, h)] = s;
        }
      }
    }
    const Values& w = p_.at("w_out");  // [H in, H out]
    const Values& bias = p_.at("b_out");
    Reference ref;
    ref.y.assign(u.size(), 0.0);
    Values act(u.size()), dpre(u.size(), 0.0);
    for (size_t r = 0; r < u.size(); ++r) {
      act[r] = 0.5 * pre[r] * (1.0 + std::erf(pre[r] / std::sqrt(2.0)));
    }
    Values g_w(static_cast<size_t>(H) * H, 0.0), g_bias(H, 0.0);
    for (int64_t row = 0; row < static_cast<int64_t>(B) * L; ++row) {
      for (int o = 0; o < H; ++o) {
        double s = bias[o];
        for (int i = 0; i < H; ++i) s += act[row * H + i] * w[i * H + o];
        ref.y[row * H + o] = s;
        g_bias[o] += dy[row * H + o];
        for (int i = 0; i < H; ++i) {
          g_w[i * H + o] += act[row * H + i] * dy[row * H + o];
          dpre[row * H + i] += dy[row * H + o] * w[i * H + o];
        }
      }
    }
    for (size_t r = 0; r < u.size(); ++r) {
      const double z = pre[r];
      const double gelu_prime =
          0.5 * (1.0 + std::erf(z / std::sqrt(2.0))) +
          z * std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
      dpre[r] *= gelu_prime;
    }
    // dL/dK and dL/du of the convolution.
    std::vector<Values> g_k0(H, Values(L, 0.0)), g_k1(H, Values(L, 0.0));
    Values g_d(H, 0.0);
    ref.dx.assign(u.size(), 0.0);
    for (int b = 0; b < B; ++b) {
      for (int t = 0; t < L; ++t) {
        for (int h = 0; h < H; ++h) {
          const double g = dpre[at(b, t, h)];
          g_d[h] += g * u[at(b, t, h)];
          ref.dx[at(b, t, h)] += d[h] * g;
          for (int j = 0; j < L; ++j) {
            if (j <= t) {
              g_k0[h][t - j] += g * u[at(b, j, h)];
              ref.dx[at(b, j, h)] += g * k0[h][t - j];
            } else {
              g_k1[h][j - t] += g * u[at(b, j, h)];
              ref.dx[at(b, j, h)] += g * k1[h][j - t];
            }
          }
        }
      }
    }
    for (size_t r = 0; r < u.size(); ++r) {
      if (!mask[r / H]) ref.dx[r] = 0.0;
    }
    // The SSM parameters through the kernels, by central differences in
    // double of sum_l dL/dK[l] K[l] (one mode at a time).
    auto mode_loss = [&](int h, int n) {
      Values m0, m1;
      Kernels(h, n, &m0, &m1);
      double s = 0.0;
      for (int l = 0; l < L; ++l) s += g_k0[h][l] * m0[l] + g_k1[h][l] * m1[l];
      return s;
    };
    auto diff = [&](double* value, int h, int n) {
      const double keep = *value, eps = 1e-6 * std::max(1.0, std::fabs(keep));
      *value = keep + eps;
      const double plus = mode_loss(h, n);
      *value = keep - eps;
      const double minus = mode_loss(h, n);
      *value = keep;
      return (plus - minus) / (2 * eps);
    };
    const int N = c_.state;
    for (const char* name : {"log_dt", "log_a_real", "a_imag", "b", "c"}) {
      ref.grads[name].assign(p_.at(name).size(), 0.0);
    }
    for (int h = 0; h < H; ++h) {
      for (int n = 0; n < N; ++n) {
        const int i = h * N + n;
        ref.grads["log_dt"][h] += diff(&p_["log_dt"][h], h, n);
        ref.grads["log_a_real"][i] = diff(&p_["log_a_real"][i], h, n);
        ref.grads["a_imag"][i] = diff(&p_["a_imag"][i], h, n);
        for (int part = 0; part < 2; ++part) {
          ref.grads["b"][2 * i + part] = diff(&p_["b"][2 * i + part], h, n);
          for (int dir = 0; dir < (c_.bidirectional ? 2 : 1); ++dir) {
            const int j = 2 * (dir * H * N + i) + part;
            ref.grads["c"][j] = diff(&p_["c"][j], h, n);
          }
        }
      }
    }
    ref.grads["d"] = g_d;
    ref.grads["w_out"] = g_w;
    ref.grads["b_out"] = g_bias;
    return ref;
  }

 private:
  Case c_;
  std::map<std::string, Values> p_;
};

void ExpectMatchesReference(const Case& c) {
  S4dOptions options;
  options.state_size = c.state;
  options.bidirectional = c.bidirectional;
  S4dMixer mixer(conformance::ShapeOf(c), options);
  mixer.InitParameters(7);
  // Move every parameter off its initial pattern (B = 1, A_n = -1/2 + i pi n)
  // so that no term vanishes by symmetry.
  std::map<std::string, Values> params;
  int salt = 0;
  mixer.ForEachWeight([&](const std::string& name, Tensor& value, Tensor& grad,
                          const WeightSpec&) {
    ++salt;
    for (int64_t i = 0; i < value.size(); ++i) {
      const double noise = NormalDouble(DeriveSeed(99, salt), i);
      if (name == "log_dt") {
        value[i] =
            static_cast<float>(std::log(0.003 + 0.02 * std::fabs(noise)));
      } else if (name != "w_out" && name != "c") {
        value[i] += static_cast<float>(0.2 * noise);
      }
      grad[i] = 0.0f;
    }
    params[name].assign(value.data(), value.data() + value.size());
  });
  const conformance::ScanRun run = conformance::RunForwardBackward(mixer, c);

  S4dReference reference(c, params);
  const Reference want =
      reference.Run(Values(run.x.begin(), run.x.end()),
                    Values(run.dy.begin(), run.dy.end()), run.mask);
  EXPECT_TRUE(conformance::NearScaled("y", run.y.data(), want.y));
  EXPECT_TRUE(conformance::NearScaled("dx", run.dx.data(), want.dx));
  mixer.ForEachWeight(
      [&](const std::string& name, Tensor&, Tensor& grad, const WeightSpec&) {
        ASSERT_EQ(want.grads.count(name), 1u) << name;
        EXPECT_TRUE(conformance::NearScaled("grad." + name, grad.data(),
                                            want.grads.at(name)));
      });
}

TEST(S4dMixerTest, BlocksChunksAndPaddingMatchConvolution) {
  // 37 channels: blocks of 16, 16 and 5; 150 positions: chunks of 32 and a
  // partial one; 5 modes: a group of 4 and a padded one.
  ExpectMatchesReference({3, 150, 37, 5, true, {150, 97, 1}});
}

TEST(S4dMixerTest, CausalMatchesConvolution) {
  ExpectMatchesReference({2, 70, 16, 3, false, {64, 70}});
}

TEST(S4dMixerTest, LongSequenceMatchesConvolution) {
  // Sums over a thousand positions in float must stay within 1e-4.
  ExpectMatchesReference({1, 1100, 18, 8, true, {1090}});
}

}  // namespace
}  // namespace lra
