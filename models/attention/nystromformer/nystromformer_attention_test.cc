#include "models/attention/nystromformer/nystromformer_attention.h"

#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "config/plugin_param.h"
#include "gtest/gtest.h"
#include "models/attention/testing/dense_reference.h"
#include "models/attention/testing/golden_file.h"
#include "models/internal/grad_check.h"
#include "models/internal/random_values.h"
#include "models/rng.h"

namespace lra {
namespace {

// [B, H, N, Dh] values that vary smoothly along the sequence: a few low
// frequencies with random amplitudes and phases per (b, h, x).
std::vector<float> Smooth(int B, int H, int N, int Dh, uint64_t seed,
                          float scale) {
  std::vector<float> v(int64_t(B) * H * N * Dh);
  for (int64_t row = 0; row < int64_t(B) * H; ++row) {
    for (int x = 0; x < Dh; ++x) {
      for (int f = 1; f <= 2; ++f) {
        const uint64_t idx = (row * Dh + x) * 4 + f;
        const float amp = scale * (2.0f * UniformFloat(seed, 2 * idx) - 1.0f);
        const float phase = 6.2831853f * UniformFloat(seed, 2 * idx + 1);
        for (int i = 0; i < N; ++i) {
          v[(row * N + i) * Dh + x] +=
              amp * std::sin(6.2831853f * f * i / N + phase);
        }
      }
    }
  }
  return v;
}

std::unique_ptr<Attention> Make(int B, int H, int N, int Dh, int landmarks,
                                int iterations, int conv,
                                float dropout = 0.0f) {
  AttentionShape shape;
  shape.max_batch = B;
  shape.num_heads = H;
  shape.seq_len = N;
  shape.head_dim = Dh;
  shape.attention_dropout = dropout;
  AttentionRegistry registry;
  EXPECT_TRUE(registry.Register(NystromformerAttentionPlugin()).ok());
  PluginConfig config;
  config.set_name("nystromformer");
  *config.add_param() = NumberParam("num_landmarks", landmarks);
  *config.add_param() = NumberParam("pinv_iterations", iterations);
  *config.add_param() = NumberParam("conv_kernel", conv);
  absl::StatusOr<std::unique_ptr<Attention>> made =
      registry.Create(config, shape);
  EXPECT_TRUE(made.ok()) << made.status();
  (*made)->InitParameters(5);
  return std::move(*made);
}

// The plugin's one parameter, the convolution's weights: value and gradient
// (null when it has none).
std::pair<Tensor*, Tensor*> ConvParameter(Attention& attention) {
  std::pair<Tensor*, Tensor*> conv = {nullptr, nullptr};
  attention.ForEachParameter(
      [&](const std::string&, Tensor& value, Tensor& grad) {
        conv = {&value, &grad};
      });
  return conv;
}

TEST(NystromformerTest, SegmentsAreBalancedAndCoverEveryToken) {
  for (int n : {1, 7, 37, 64, 130}) {
    for (int m : {1, 3, 8, 64}) {
      const int mb = std::min(m, n);
      EXPECT_EQ(NystromformerAttention::SegmentStart(0, n, mb), 0);
      EXPECT_EQ(NystromformerAttention::SegmentStart(mb, n, mb), n);
      for (int l = 0; l < mb; ++l) {
        const int size = NystromformerAttention::SegmentStart(l + 1, n, mb) -
                         NystromformerAttention::SegmentStart(l, n, mb);
        EXPECT_GE(size, n / mb) << n << " " << m << " " << l;
        EXPECT_LE(size, (n + mb - 1) / mb) << n << " " << m << " " << l;
      }
    }
  }
}

// With no more real tokens than landmarks the output and gradients are those
// of exact softmax attention, also when padding makes N larger than m.
TEST(NystromformerTest, ExactWhenRealTokensFitInLandmarks) {
  const int B = 3, H = 2, N = 24, Dh = 8, m = 16;
  const int64_t total = int64_t(B) * H * N * Dh;
  const auto [q, k, v, dout] = RandomQkv(total, 1.5f);
  // Example 0 has N = 24 > m real tokens, so it is checked only for
  // finiteness; 1 and 2 have 16 and 5.
  std::vector<uint8_t> mask(B * N, 1);
  for (int j = 16; j < N; ++j) mask[1 * N + j] = 0;
  for (int j = 0; j < N; ++j) mask[2 * N + j] = (j % 5 == 1);
  std::unique_ptr<Attention> att = Make(B, H, N, Dh, m, 6, 0);
  std::vector<float> out(total), dq(total), dk(total), dv(total);
  att->Forward({q.data(), k.data(), v.data(), mask.data(), B, false, 0},
               out.data());
  att->Backward(dout.data(), {dq.data(), dk.data(), dv.data()});
  std::vector<float> ref(total), rdq(total), rdk(total), rdv(total);
  const DenseAllowedFn allowed =
      DenseAllowWithPadding(DenseAllowAll(), mask.data(), N);
  DenseMaskedAttention(q.data(), k.data(), v.data(), B, H, N, Dh, allowed,
                       ref.data());
  DenseMaskedAttentionBackward(q.data(), k.data(), v.data(), B, H, N, Dh,
                               allowed, dout.data(), rdq.data(), rdk.data(),
                               rdv.data());
  const int64_t per = int64_t(H) * N * Dh;
  for (int64_t e = per; e < total; ++e) {
    ASSERT_NEAR(out[e], ref[e], 1e-5) << e;
    ASSERT_NEAR(dq[e], rdq[e], 1e-5) << e;
    ASSERT_NEAR(dk[e], rdk[e], 1e-5) << e;
    ASSERT_NEAR(dv[e], rdv[e], 1e-5) << e;
  }
  // And for N <= m without padding.
  std::unique_ptr<Attention> small = Make(B, H, N, Dh, 32, 6, 0);
  small->Forward({q.data(), k.data(), v.data(), nullptr, B, false, 0},
                 out.data());
  DenseMaskedAttention(q.data(), k.data(), v.data(), B, H, N, Dh,
                       DenseAllowAll(), ref.data());
  for (int64_t e = 0; e < total; ++e) ASSERT_NEAR(out[e], ref[e], 1e-5) << e;
}

double RelativeError(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0.0, den = 0.0;
  for (size_t e = 0; e < a.size(); ++e) {
    num += (double(a[e]) - b[e]) * (double(a[e]) - b[e]);
    den += double(b[e]) * b[e];
  }
  return std::sqrt(num / den);
}

// Relative error against exact softmax attention at N = 64 on smooth random
// inputs, for 4, 8, 16, 32 and 64 landmarks.
std::vector<double> LandmarkErrors(float qk_scale, int iterations) {
  const int B = 2, H = 2, N = 64, Dh = 16;
  const int64_t total = int64_t(B) * H * N * Dh;
  const std::vector<float> q = Smooth(B, H, N, Dh, 11, qk_scale),
                           k = Smooth(B, H, N, Dh, 12, qk_scale),
                           v = Smooth(B, H, N, Dh, 13, 1.0f);
  std::vector<float> ref(total), out(total);
  DenseMaskedAttention(q.data(), k.data(), v.data(), B, H, N, Dh,
                       DenseAllowAll(), ref.data());
  std::vector<double> errors;
  for (int m : {4, 8, 16, 32, 64}) {
    std::unique_ptr<Attention> att = Make(B, H, N, Dh, m, iterations, 0);
    att->Forward({q.data(), k.data(), v.data(), nullptr, B, false, 0},
                 out.data());
    errors.push_back(RelativeError(out, ref));
    std::printf("q, k scale %.1f, %d iterations, %d landmarks: error %.3g\n",
                qk_scale, iterations, m, errors.back());
  }
  return errors;
}

// With a pseudo-inverse iterated close to convergence, each doubling of the
// landmarks at least halves the error, and 64 landmarks (= N) are exact.
TEST(NystromformerTest, ErrorFallsAsLandmarksGrow) {
  const std::vector<double> errors = LandmarkErrors(1.0f, 12);
  for (size_t i = 1; i + 1 < errors.size(); ++i) {
    EXPECT_LT(errors[i], 0.5 * errors[i - 1]) << "step " << i;
  }
  EXPECT_LT(errors.back(), 1e-5);
}

// With the default 6 iterations the error falls from 4 to 16 landmarks, then
// levels off where the unconverged pseudo-inverse dominates (the landmark
// kernel A grows ill-conditioned as landmarks come closer together).
TEST(NystromformerTest, ErrorFallsWithDefaultIterationsUntilThePinvLimits) {
  const std::vector<double> errors = LandmarkErrors(2.0f, 6);
  EXPECT_LT(errors[1], 0.5 * errors[0]);
  EXPECT_LT(errors[2], 0.5 * errors[1]);
  EXPECT_LE(errors[3], errors[2]);
  EXPECT_LT(errors[3], 0.02);
  EXPECT_LT(errors.back(), 1e-5);
}

// An example padded to a longer N gives the same outputs and gradients at
// its real positions as the example alone at its own length: landmarks,
// pseudo-inverse scaling and convolution see real tokens only.
TEST(NystromformerTest, PaddedExampleMatchesItsUnpaddedSelf) {
  const int H = 2, Dh = 8, n = 29, N = 45, m = 6;
  const int64_t total = int64_t(H) * N * Dh, small = int64_t(H) * n * Dh;
  auto [q, k, v, dout] = RandomQkv(total, 1.5f, 21);
  // Real tokens at the first n positions; the padded tail is garbage.
  std::vector<uint8_t> mask(N, 0);
  for (int j = 0; j < n; ++j) mask[j] = 1;
  for (int64_t row = 0; row < H; ++row) {
    for (int i = n; i < N; ++i) {
      for (int x = 0; x < Dh; ++x) dout[(row * N + i) * Dh + x] = 0.0f;
    }
  }
  auto head_rows = [&](const std::vector<float>& x) {
    std::vector<float> y(small);
    for (int h = 0; h < H; ++h) {
      std::copy_n(x.begin() + int64_t(h) * N * Dh, int64_t(n) * Dh,
                  y.begin() + int64_t(h) * n * Dh);
    }
    return y;
  };
  std::unique_ptr<Attention> padded = Make(1, H, N, Dh, m, 6, 5);
  std::unique_ptr<Attention> alone = Make(1, H, n, Dh, m, 6, 5);
  std::vector<float> out(total), dq(total), dk(total), dv(total);
  padded->Forward({q.data(), k.data(), v.data(), mask.data(), 1, false, 0},
                  out.data());
  padded->Backward(dout.data(), {dq.data(), dk.data(), dv.data()});
  const std::vector<float> qs = head_rows(q), ks = head_rows(k),
                           vs = head_rows(v), gs = head_rows(dout);
  std::vector<float> out2(small), dq2(small), dk2(small), dv2(small);
  alone->Forward({qs.data(), ks.data(), vs.data(), nullptr, 1, false, 0},
                 out2.data());
  alone->Backward(gs.data(), {dq2.data(), dk2.data(), dv2.data()});
  const std::vector<float> a = head_rows(out), da = head_rows(dq),
                           dka = head_rows(dk), dva = head_rows(dv);
  for (int64_t e = 0; e < small; ++e) {
    ASSERT_NEAR(a[e], out2[e], 1e-5) << e;
    ASSERT_NEAR(da[e], dq2[e], 1e-4) << e;
    ASSERT_NEAR(dka[e], dk2[e], 1e-4) << e;
    ASSERT_NEAR(dva[e], dv2[e], 1e-4) << e;
  }
}

// Central differences through landmarks, the pseudo-inverse iteration, the
// convolution and attention dropout, with padding and N not a multiple of m.
TEST(NystromformerTest, GradientsMatchCentralDifferences) {
  for (int iterations : {0, 2, 6}) {
    const int B = 2, H = 2, N = 23, Dh = 4, m = 5;
    const int64_t total = int64_t(B) * H * N * Dh;
    std::vector<float> q = RandomValues(total, 31, 1.0f),
                       k = RandomValues(total, 32, 1.0f),
                       v = RandomValues(total, 33), r = RandomValues(total, 34);
    std::vector<uint8_t> mask(B * N, 1);
    for (int j = 17; j < N; ++j) mask[N + j] = 0;
    std::unique_ptr<Attention> att = Make(B, H, N, Dh, m, iterations, 3, 0.2f);
    const auto [conv, conv_grad] = ConvParameter(*att);
    ASSERT_NE(conv, nullptr);
    std::vector<float> out(total), dq(total), dk(total), dv(total);
    auto objective = [&]() {
      att->Forward({q.data(), k.data(), v.data(), mask.data(), B, true, 9},
                   out.data());
      double sum = 0.0;
      for (int64_t e = 0; e < total; ++e) sum += double(out[e]) * r[e];
      return sum;
    };
    objective();
    conv_grad->Zero();
    att->Backward(r.data(), {dq.data(), dk.data(), dv.data()});
    const std::vector<float> gq = dq, gk = dk, gv = dv;
    const std::vector<float> gconv(conv_grad->data(),
                                   conv_grad->data() + conv_grad->size());
    internal::GradCheckOptions options;
    options.epsilon = 2e-3f;
    options.rel_tol = 2e-2f;
    options.abs_tol = 2e-3f;
    options.max_entries = 120;
    const std::string at =
        " with " + std::to_string(iterations) + " iterations";
    EXPECT_TRUE(internal::CheckGradient("q" + at, objective, q.data(), total,
                                        gq.data(), options));
    EXPECT_TRUE(internal::CheckGradient("k" + at, objective, k.data(), total,
                                        gk.data(), options));
    EXPECT_TRUE(internal::CheckGradient("v" + at, objective, v.data(), total,
                                        gv.data(), options));
    EXPECT_TRUE(internal::CheckGradient("conv" + at, objective, conv->data(),
                                        conv->size(), gconv.data(), options));
  }
}

// The golden file of tools/make_nystromformer_golden.py: scalars and tensors
// by name (independent PyTorch code in float64).
struct Golden {
  std::map<std::string, double> scalars;
  std::map<std::string, std::vector<double>> tensors;
};

Golden LoadGolden() {
  const std::string path =
      GoldenDataPath("models/attention/nystromformer/testdata/golden.txt");
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << "cannot read " << path;
  Golden golden;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string kind, name;
    fields >> kind >> name;
    if (kind == "scalar") {
      fields >> golden.scalars[name];
    } else if (kind == "tensor") {
      std::string values;
      std::getline(file, values);
      std::istringstream numbers(values);
      std::vector<double>& t = golden.tensors[name];
      for (double x; numbers >> x;) t.push_back(x);
    } else {
      ADD_FAILURE() << path << ": unexpected line " << line;
    }
  }
  return golden;
}

std::vector<float> AsFloat(const std::vector<double>& x) {
  return std::vector<float>(x.begin(), x.end());
}

// |got - want| <= 1e-4 (|want| + the tensor's largest |want|): 1e-4 relative
// to the tensor's scale, so entries near zero are judged by their neighbours.
void ExpectMatchesGolden(const std::string& name, const float* got,
                         const std::vector<double>& want) {
  double scale = 0.0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  ASSERT_GT(scale, 0.0) << name;
  double worst = 0.0;
  int failures = 0;
  for (size_t e = 0; e < want.size(); ++e) {
    const double error = std::fabs(got[e] - want[e]);
    worst = std::max(worst, error / scale);
    if (!(error <= 1e-4 * (std::fabs(want[e]) + scale)) && failures++ < 5) {
      ADD_FAILURE() << name << "[" << e << "]: " << got[e] << " vs PyTorch "
                    << want[e];
    }
  }
  std::printf("%s: worst error %.2g of the largest value\n", name.c_str(),
              worst);
}

TEST(NystromformerTest, MatchesPyTorchGolden) {
  Golden golden = LoadGolden();
  const int B = golden.scalars["batch"], H = golden.scalars["heads"],
            N = golden.scalars["seq_len"], Dh = golden.scalars["head_dim"];
  std::unique_ptr<Attention> att =
      Make(B, H, N, Dh, golden.scalars["num_landmarks"],
           golden.scalars["pinv_iterations"], golden.scalars["conv_kernel"]);
  const int64_t total = int64_t(B) * H * N * Dh;
  const std::vector<float> q = AsFloat(golden.tensors["q"]),
                           k = AsFloat(golden.tensors["k"]),
                           v = AsFloat(golden.tensors["v"]),
                           dout = AsFloat(golden.tensors["dout"]);
  ASSERT_EQ(q.size(), total);
  ASSERT_EQ(dout.size(), total);
  std::vector<uint8_t> mask;
  for (double x : golden.tensors["mask"]) mask.push_back(x != 0.0);
  ASSERT_EQ(mask.size(), size_t(B) * N);
  const auto [conv, conv_grad] = ConvParameter(*att);
  ASSERT_NE(conv, nullptr);
  const std::vector<double>& weights = golden.tensors["conv_weight"];
  ASSERT_EQ(weights.size(), conv->size());
  for (int64_t e = 0; e < conv->size(); ++e) (*conv)[e] = weights[e];
  conv_grad->Zero();
  std::vector<float> out(total), dq(total), dk(total), dv(total);
  att->Forward({q.data(), k.data(), v.data(), mask.data(), B, false, 0},
               out.data());
  att->Backward(dout.data(), {dq.data(), dk.data(), dv.data()});
  ExpectMatchesGolden("out", out.data(), golden.tensors["out"]);
  ExpectMatchesGolden("dq", dq.data(), golden.tensors["dq"]);
  ExpectMatchesGolden("dk", dk.data(), golden.tensors["dk"]);
  ExpectMatchesGolden("dv", dv.data(), golden.tensors["dv"]);
  ExpectMatchesGolden("dconv_weight", conv_grad->data(),
                      golden.tensors["dconv_weight"]);
}

TEST(NystromformerTest, RejectsBadParameters) {
  AttentionRegistry registry;
  ASSERT_TRUE(registry.Register(NystromformerAttentionPlugin()).ok());
  AttentionShape shape;
  shape.seq_len = 16;
  shape.head_dim = 4;
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, double>>{{"num_landmarks", 0},
                                                   {"num_landmarks", 2.5},
                                                   {"pinv_iterations", -1},
                                                   {"conv_kernel", 4}}) {
    PluginConfig config;
    config.set_name("nystromformer");
    *config.add_param() = NumberParam(name, value);
    absl::StatusOr<std::unique_ptr<Attention>> made =
        registry.Create(config, shape);
    ASSERT_FALSE(made.ok()) << name << " " << value;
    EXPECT_NE(std::string(made.status().message()).find(name),
              std::string::npos)
        << made.status();
  }
}

}  // namespace
}  // namespace lra
