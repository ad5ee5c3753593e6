// Tests of the dual encoder (num_segments = 2, LRA's Retrieval model): config
// validation, parameter shapes, exact gradients, the head's features
// [u, v, u*v, u-v], and that each document is encoded exactly as a
// single-segment encoder with the same weights encodes it on its own.
// A separate target from encoder_test so both stay fast and run in parallel.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "models/encoder.h"
#include "models/internal/encoder_testing.h"
#include "models/rng.h"

namespace {

// Counts heap allocations of this test binary (all threads), so a test can
// show that the dual path allocates nothing beyond what oneDNN allocates in
// each execute.
std::atomic<int64_t> g_allocations{0};

}  // namespace

// Out of line: inlined, GCC would pair the malloc inside with a delete
// expression and warn (-Wmismatched-new-delete) about a correct pairing.
[[gnu::noinline]] void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace lra {
namespace {

using ::testing::HasSubstr;

constexpr int kDocLen = 6;
constexpr int kVocab = 7;  // internal::SmallModelConfig().vocab_size()

ModelConfig DualConfig() {
  ModelConfig config = internal::SmallModelConfig();
  config.set_name("dual");
  config.set_num_segments(2);
  return config;
}

// Document pairs [batch, 2, doc_len]: each document has its own real length
// (at least 1) followed by padding, so per-document masks are exercised.
std::vector<int32_t> PairTokens(int batch, int doc_len, uint64_t seed) {
  std::vector<int32_t> tokens(2 * batch * doc_len);
  for (int b = 0; b < batch; ++b) {
    for (int s = 0; s < 2; ++s) {
      const int real = doc_len - (b + 2 * s) % doc_len;
      for (int t = 0; t < doc_len; ++t) {
        const int64_t i = (2 * b + s) * doc_len + t;
        tokens[i] =
            t < real
                ? 1 + static_cast<int32_t>(RandomBits(seed, i) % (kVocab - 1))
                : 0;
      }
    }
  }
  return tokens;
}

// Swaps document 1 and document 2 of every example.
std::vector<int32_t> SwapDocuments(const std::vector<int32_t>& tokens,
                                   int doc_len) {
  std::vector<int32_t> swapped(tokens.size());
  const int batch = static_cast<int>(tokens.size()) / (2 * doc_len);
  for (int b = 0; b < batch; ++b) {
    for (int t = 0; t < doc_len; ++t) {
      swapped[(2 * b) * doc_len + t] = tokens[(2 * b + 1) * doc_len + t];
      swapped[(2 * b + 1) * doc_len + t] = tokens[(2 * b) * doc_len + t];
    }
  }
  return swapped;
}

std::string CreateError(const ModelConfig& config, int seq_len) {
  return internal::CreateError(config, seq_len, 2);
}

std::map<std::string, Tensor> Parameters(Encoder& encoder) {
  return internal::ParameterSnapshot(encoder);
}

// Copies every parameter of `from` except head.w1, whose shape differs
// between the single and the dual encoder.
void CopyEncoderWeights(Encoder& from, Encoder& to) {
  std::map<std::string, Tensor> params = Parameters(from);
  to.ForEachParameter([&](const std::string& name, Tensor& value, Tensor&) {
    if (name == "head.w1") return;
    const Tensor& source = params.at(name);
    ASSERT_EQ(value.shape(), source.shape()) << name;
    std::copy(source.data(), source.data() + source.size(), value.data());
  });
}

TEST(DualEncoderConfigTest, DefaultIsOneSegment) {
  ModelConfig config;
  config.set_d_model(16);
  ASSERT_TRUE(ResolveModelDefaults(&config).ok());
  EXPECT_EQ(config.num_segments(), 1);
  config.set_num_segments(2);
  ASSERT_TRUE(ResolveModelDefaults(&config).ok());
  EXPECT_EQ(config.num_segments(), 2);
}

TEST(DualEncoderConfigTest, ErrorsNameTheFieldValueAndRule) {
  EXPECT_EQ(CreateError(DualConfig(), 2 * kDocLen), "ok");
  ModelConfig c = DualConfig();
  c.set_num_segments(3);
  EXPECT_THAT(CreateError(c, 12),
              HasSubstr("model 'dual': num_segments = 3 is invalid; must be 1 "
                        "(one document per example) or 2"));
  c.set_num_segments(-1);
  EXPECT_THAT(CreateError(c, 12), HasSubstr("num_segments = -1 is invalid"));
  EXPECT_THAT(CreateError(DualConfig(), 13),
              HasSubstr("seq_len (task) = 13 is invalid; must be a multiple "
                        "of num_segments (2)"));
  // Learned positions cover one document (plus CLS), not the pair.
  c = DualConfig();
  c.set_max_len(kDocLen);
  EXPECT_THAT(CreateError(c, 2 * kDocLen),
              HasSubstr("max_len = 6 is invalid; must be 0 (use the task "
                        "length) or >= 7 (document length 6 = task seq_len "
                        "12 / num_segments 2 plus CLS)"));
  c.set_max_len(kDocLen + 1);
  EXPECT_EQ(CreateError(c, 2 * kDocLen), "ok");
}

TEST(DualEncoderTest, SameNamesAndOnlyHeadW1Widens) {
  auto dual = *internal::CreateEncoder(DualConfig(), 2 * kDocLen, 2);
  ModelConfig single_config = DualConfig();
  single_config.set_num_segments(1);
  auto single = *internal::CreateEncoder(single_config, kDocLen, 2);
  EXPECT_EQ(dual->num_segments(), 2);
  EXPECT_EQ(single->num_segments(), 1);
  EXPECT_EQ(dual->seq_len(), 2 * kDocLen);
  std::vector<std::string> dual_names, single_names;
  std::map<std::string, std::string> dual_shapes, single_shapes;
  dual->ForEachParameter([&](const std::string& name, Tensor& v, Tensor& g) {
    dual_names.push_back(name);
    dual_shapes[name] = v.ShapeString();
    EXPECT_EQ(v.shape(), g.shape()) << name;
  });
  single->ForEachParameter([&](const std::string& name, Tensor& v, Tensor&) {
    single_names.push_back(name);
    single_shapes[name] = v.ShapeString();
  });
  EXPECT_EQ(dual_names, single_names);
  for (const auto& [name, shape] : single_shapes) {
    if (name == "head.w1") continue;
    EXPECT_EQ(dual_shapes[name], shape) << name;
  }
  EXPECT_EQ(dual_shapes["embed.position"], "[7, 8]");  // doc_len + CLS
  EXPECT_EQ(single_shapes["head.w1"], "[8, 6]");
  EXPECT_EQ(dual_shapes["head.w1"], "[32, 6]");  // [4D, Hd]
  EXPECT_EQ(dual->NumParameters(), single->NumParameters() + 3 * 8 * 6);
}

TEST(DualEncoderTest, CheckInputsNamesTheDocument) {
  auto encoder = *internal::CreateEncoder(DualConfig(), 2 * kDocLen, 2);
  std::vector<int32_t> tokens = PairTokens(2, kDocLen, 1);
  ASSERT_TRUE(encoder->CheckInputs(tokens.data(), nullptr, 2).ok());
  tokens[2 * kDocLen + kDocLen + 1] = kVocab;  // example 1, document 2
  EXPECT_THAT(
      std::string(encoder->CheckInputs(tokens.data(), nullptr, 2).message()),
      HasSubstr("token 7 at example 1 position 7 (document 2 position 1) is "
                "outside the vocabulary [0, 7)"));
}

// Each document is encoded on its own: the dual encoder's pooled rows u and
// v equal a single-segment encoder's pooled vectors for the documents run as
// separate batches (first documents, then second documents), and the logits
// are the head applied to [u, v, u*v, u-v], recomputed here in double.
TEST(DualEncoderTest, EncodesEachDocumentAloneAndFeedsTheHeadUVProductDiff) {
  for (Pooling pooling : {POOLING_CLS, POOLING_MEAN}) {
    SCOPED_TRACE(Pooling_Name(pooling));
    ModelConfig config = DualConfig();
    config.set_pooling(pooling);
    const int batch = 3, d = 8, hidden = 6, classes = 3;
    auto dual = *internal::CreateEncoder(config, 2 * kDocLen, batch);
    dual->InitParameters(11);
    ModelConfig single_config = config;
    single_config.set_num_segments(1);
    auto single = *internal::CreateEncoder(single_config, kDocLen, batch);
    CopyEncoderWeights(*dual, *single);

    const std::vector<int32_t> tokens = PairTokens(batch, kDocLen, 4);
    const float* logits = dual->Forward(tokens.data(), batch, false, 0);
    const std::vector<float> got_logits(logits, logits + batch * classes);
    const std::vector<float> pooled(dual->pooled(),
                                    dual->pooled() + 2 * batch * d);
    for (int s = 0; s < 2; ++s) {
      std::vector<int32_t> docs(batch * kDocLen);
      for (int b = 0; b < batch; ++b) {
        for (int t = 0; t < kDocLen; ++t) {
          docs[b * kDocLen + t] = tokens[(2 * b + s) * kDocLen + t];
        }
      }
      single->Forward(docs.data(), batch, false, 0);
      for (int b = 0; b < batch; ++b) {
        for (int i = 0; i < d; ++i) {
          EXPECT_NEAR(pooled[(2 * b + s) * d + i], single->pooled()[b * d + i],
                      1e-5)
              << "example " << b << " document " << s + 1 << " dim " << i;
        }
      }
    }

    std::map<std::string, Tensor> p = Parameters(*dual);
    const Tensor &w1 = p.at("head.w1"), &b1 = p.at("head.b1"),
                 &w2 = p.at("head.w2"), &b2 = p.at("head.b2");
    for (int b = 0; b < batch; ++b) {
      const float* u = &pooled[2 * b * d];
      const float* v = u + d;
      std::vector<double> features;
      for (int i = 0; i < d; ++i) features.push_back(u[i]);
      for (int i = 0; i < d; ++i) features.push_back(v[i]);
      for (int i = 0; i < d; ++i) features.push_back(double(u[i]) * v[i]);
      for (int i = 0; i < d; ++i) features.push_back(double(u[i]) - v[i]);
      std::vector<double> h(hidden);
      for (int j = 0; j < hidden; ++j) {
        h[j] = b1[j];
        for (int k = 0; k < 4 * d; ++k)
          h[j] += features[k] * w1[k * hidden + j];
        h[j] = std::max(h[j], 0.0);
      }
      for (int c = 0; c < classes; ++c) {
        double want = b2[c];
        for (int j = 0; j < hidden; ++j) want += h[j] * w2[j * classes + c];
        EXPECT_NEAR(got_logits[b * classes + c], want, 1e-5)
            << "example " << b << " class " << c;
      }
    }
  }
}

// Swapping the documents swaps u and v. With a head whose u and v blocks of
// head.w1 are equal and whose u-v block is zero the logits cannot change
// (u*v is symmetric); the u-v block alone makes them differ.
TEST(DualEncoderTest, SwappingDocumentsActsOnlyThroughAsymmetricFeatures) {
  const int batch = 3, d = 8, hidden = 6, classes = 3;
  auto encoder = *internal::CreateEncoder(DualConfig(), 2 * kDocLen, batch);
  encoder->InitParameters(5);
  Tensor* w1 = nullptr;
  encoder->ForEachParameter([&](const std::string& name, Tensor& v, Tensor&) {
    if (name == "head.w1") w1 = &v;
  });
  ASSERT_NE(w1, nullptr);
  const Tensor original = *w1;  // [4D, Hd]: rows u | v | u*v | u-v
  const std::vector<int32_t> tokens = PairTokens(batch, kDocLen, 9);
  const std::vector<int32_t> swapped = SwapDocuments(tokens, kDocLen);
  auto logits_of = [&](const std::vector<int32_t>& t) {
    const float* l = encoder->Forward(t.data(), batch, false, 0);
    return std::vector<float>(l, l + batch * classes);
  };
  auto max_diff = [](const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      m = std::max(m, std::fabs(double(a[i]) - b[i]));
    }
    return m;
  };

  // The swap swaps the pooled rows exactly.
  encoder->Forward(tokens.data(), batch, false, 0);
  const std::vector<float> pooled(encoder->pooled(),
                                  encoder->pooled() + 2 * batch * d);
  encoder->Forward(swapped.data(), batch, false, 0);
  for (int b = 0; b < batch; ++b) {
    for (int i = 0; i < d; ++i) {
      EXPECT_EQ(encoder->pooled()[2 * b * d + i], pooled[(2 * b + 1) * d + i]);
      EXPECT_EQ(encoder->pooled()[(2 * b + 1) * d + i], pooled[2 * b * d + i]);
    }
  }

  // The initialised head is asymmetric.
  EXPECT_GT(max_diff(logits_of(tokens), logits_of(swapped)), 1e-3);

  // Symmetric head: v rows = u rows, u-v rows = 0.
  for (int k = 0; k < d; ++k) {
    for (int j = 0; j < hidden; ++j) {
      (*w1)[(d + k) * hidden + j] = (*w1)[k * hidden + j];
      (*w1)[(3 * d + k) * hidden + j] = 0.0f;
    }
  }
  const std::vector<float> symmetric = logits_of(tokens);
  EXPECT_LT(max_diff(symmetric, logits_of(swapped)), 1e-5);

  // Only the u-v rows back: u-v flips sign under the swap, so logits differ.
  for (int k = 0; k < d; ++k) {
    for (int j = 0; j < hidden; ++j) {
      (*w1)[(3 * d + k) * hidden + j] = original[(3 * d + k) * hidden + j];
    }
  }
  EXPECT_GT(max_diff(logits_of(tokens), logits_of(swapped)), 1e-3);
  // And the u*v rows do matter (they are not silently dropped).
  for (int j = 0; j < hidden; ++j) (*w1)[(2 * d) * hidden + j] += 1.0f;
  for (int k = 0; k < d; ++k) {
    for (int j = 0; j < hidden; ++j) (*w1)[(3 * d + k) * hidden + j] = 0.0f;
  }
  EXPECT_GT(max_diff(logits_of(tokens), symmetric), 1e-4);
}

// A training step of the dual encoder allocates exactly what the single
// encoder allocates on the same 2B sequences (only oneDNN's per-execute
// objects; the step itself allocates nothing), once both have built their
// primitives in a first step.
TEST(DualEncoderTest, StepAllocatesNoMoreThanTheSingleEncoder) {
  const int batch = 2;
  ModelConfig config = DualConfig();
  config.set_dropout(0.1f);
  auto dual = *internal::CreateEncoder(config, 2 * kDocLen, batch);
  config.set_num_segments(1);
  auto single = *internal::CreateEncoder(config, kDocLen, 2 * batch);
  dual->InitParameters(1);
  single->InitParameters(1);
  const std::vector<int32_t> tokens = PairTokens(batch, kDocLen, 2);
  const std::vector<int32_t> labels = {0, 1, 2, 0};
  auto step_allocations = [&](Encoder& encoder, int examples) {
    int64_t counts[2];
    for (int step = 0; step < 2; ++step) {
      const int64_t before = g_allocations.load();
      encoder.ZeroGrad();
      encoder.Forward(tokens.data(), examples, true, step);
      encoder.Loss(labels.data(), nullptr);
      encoder.Backward();
      counts[step] = g_allocations.load() - before;
    }
    return counts[1];
  };
  const int64_t single_count = step_allocations(*single, 2 * batch);
  const int64_t dual_count = step_allocations(*dual, batch);
  EXPECT_EQ(dual_count, single_count);
}

using DualGradCase = internal::GradientVariant;

class DualEncoderGradientTest : public ::testing::TestWithParam<DualGradCase> {
};

// Central differences on the dual encoder's loss, spot-checking entries of
// every parameter (head.w1's u, v, u*v and u-v blocks included: 12 entries
// spread evenly over its 32 rows).
TEST_P(DualEncoderGradientTest, AllParametersMatchCentralDifferences) {
  EXPECT_GT(
      internal::CheckVariantGradients(DualConfig(), GetParam(), 2 * kDocLen,
                                      PairTokens(3, kDocLen, 3)),
      20);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, DualEncoderGradientTest,
    ::testing::Values(DualGradCase{POOLING_CLS, POSITIONAL_LEARNED, 0.0f},
                      DualGradCase{POOLING_MEAN, POSITIONAL_SINUSOIDAL, 0.2f}));

}  // namespace
}  // namespace lra
