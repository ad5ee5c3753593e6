// Skipping padded queries changes nothing at real positions: for "full" and
// every block-sparse plugin (local, bigbird, longformer, sparse_transformer),
// in each of its conformance test cases, outputs and dq/dk/dv at real
// positions equal those of the computation that runs every query row (the
// path before skipping, kept behind set_skip_padded_queries(false)) bit for
// bit, when the upstream gradient at padded rows is zero as it is in the
// encoder. Skipping only removes exact zeros: the padded rows' contributions
// to dK and dV are P * 0 terms, and each real row's score, softmax and
// accumulation run over the same key tiles in the same order. At padded
// positions the skipping path outputs zero and gives zero gradients, and
// since its padded outputs are constant, the upstream gradient there is
// ignored.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "models/attention/attention.h"
#include "models/attention/block_sparse/block_sparse_attention.h"
#include "models/attention/builtin.h"
#include "models/attention/full/full_attention.h"
#include "models/internal/random_values.h"
#include "models/rng.h"

namespace lra {
namespace {

// Switches query skipping on the engines behind the plugins under test.
bool SetSkip(Attention& attention, bool skip) {
  if (auto* full = dynamic_cast<FullAttention*>(&attention)) {
    full->set_skip_padded_queries(skip);
    return true;
  }
  if (auto* sparse = dynamic_cast<BlockSparseAttention*>(&attention)) {
    sparse->set_skip_padded_queries(skip);
    return true;
  }
  return false;
}

struct Outputs {
  std::vector<float> out, dq, dk, dv;
};

Outputs RunOnce(Attention& attention, const std::vector<float>& q,
                const std::vector<float>& k, const std::vector<float>& v,
                const std::vector<uint8_t>& mask,
                const std::vector<float>& dout, int batch, bool training) {
  const int64_t n = q.size();
  // Poisoned, so that an unwritten element shows.
  Outputs o{std::vector<float>(n, 7.5f), std::vector<float>(n, 7.5f),
            std::vector<float>(n, 7.5f), std::vector<float>(n, 7.5f)};
  AttentionInputs in;
  in.q = q.data();
  in.k = k.data();
  in.v = v.data();
  in.key_mask = mask.data();
  in.batch = batch;
  in.training = training;
  in.seed = 91;
  attention.Forward(in, o.out.data());
  attention.Backward(dout.data(), {o.dq.data(), o.dk.data(), o.dv.data()});
  return o;
}

struct Variant {
  std::string plugin;
  bool cls_token;
  float attention_dropout;
};

class PaddedQueriesTest : public ::testing::TestWithParam<Variant> {};

TEST_P(PaddedQueriesTest, RealPositionsMatchTheUnskippedPathExactly) {
  const Variant variant = GetParam();
  AttentionRegistry registry;
  ASSERT_TRUE(RegisterBuiltinAttentions(registry).ok());
  const AttentionPlugin& plugin = **registry.Find(variant.plugin);
  std::vector<AttentionTestCase> cases = plugin.test_cases;
  if (cases.empty()) cases.push_back({"default", {}, false, 1});

  // Lengths: the whole sequence, two not multiples of the 64-row tiles, a
  // multiple of it, and an example with only a few real tokens.
  const int N = 203, H = 2, Dh = 16;
  const std::vector<int> lengths = {N, 131, 64, 150, 3};
  const int B = static_cast<int>(lengths.size());
  std::vector<uint8_t> mask(static_cast<size_t>(B) * N, 0);
  for (int b = 0; b < B; ++b) {
    for (int j = 0; j < lengths[b]; ++j) mask[b * N + j] = 1;
  }
  const int64_t count = int64_t{B} * H * N * Dh;
  auto real = [&](int64_t e) {
    const int64_t row = e / Dh;
    const int i = static_cast<int>(row % N);
    const int b = static_cast<int>(row / (int64_t{H} * N));
    return mask[b * N + i] != 0;
  };
  const std::vector<float> q = RandomValues(count, 1, 2.0f),
                           k = RandomValues(count, 2, 2.0f),
                           v = RandomValues(count, 3, 1.0f),
                           dout_all = RandomValues(count, 4, 1.0f);
  // The encoder's upstream gradient: zero at padded rows.
  std::vector<float> dout = dout_all;
  for (int64_t e = 0; e < count; ++e) {
    if (!real(e)) dout[e] = 0.0f;
  }

  for (const AttentionTestCase& test_case : cases) {
    SCOPED_TRACE(absl::StrCat(variant.plugin, " [", test_case.label,
                              "] cls=", variant.cls_token,
                              " dropout=", variant.attention_dropout));
    PluginConfig config;
    config.set_name(variant.plugin);
    for (const PluginParam& p : test_case.params) *config.add_param() = p;
    AttentionShape shape;
    shape.max_batch = B + 1;  // a batch smaller than the workspace
    shape.num_heads = H;
    shape.seq_len = N;
    shape.head_dim = Dh;
    shape.attention_dropout = variant.attention_dropout;
    shape.seed = 5;
    shape.cls_token = variant.cls_token;
    absl::StatusOr<std::unique_ptr<Attention>> made =
        registry.Create(config, shape);
    ASSERT_TRUE(made.ok()) << made.status();
    Attention& attention = **made;
    ASSERT_TRUE(SetSkip(attention, false)) << "not a tiled engine";
    const bool training = variant.attention_dropout > 0.0f;
    const Outputs reference =
        RunOnce(attention, q, k, v, mask, dout, B, training);
    ASSERT_TRUE(SetSkip(attention, true));
    const Outputs skipped =
        RunOnce(attention, q, k, v, mask, dout, B, training);
    // Padded outputs are constant zero, so their upstream gradient is moot.
    const Outputs skipped_all =
        RunOnce(attention, q, k, v, mask, dout_all, B, training);

    int64_t mismatches = 0, padded_nonzero_reference = 0;
    for (int64_t e = 0; e < count && mismatches < 5; ++e) {
      const struct {
        const char* name;
        float want, got, got_all;
      } checks[] = {
          {"out", reference.out[e], skipped.out[e], skipped_all.out[e]},
          {"dq", reference.dq[e], skipped.dq[e], skipped_all.dq[e]},
          {"dk", reference.dk[e], skipped.dk[e], skipped_all.dk[e]},
          {"dv", reference.dv[e], skipped.dv[e], skipped_all.dv[e]}};
      for (const auto& c : checks) {
        const bool ok = real(e) ? c.got == c.want && c.got_all == c.want
                                : c.got == 0.0f && c.got_all == 0.0f;
        if (!ok) {
          ++mismatches;
          ADD_FAILURE() << c.name << "[" << e << "] "
                        << (real(e) ? "real" : "padded") << ": unskipped "
                        << c.want << ", skipped " << c.got
                        << ", skipped with upstream gradient on padding "
                        << c.got_all;
        }
      }
      if (!real(e) && reference.out[e] != 0.0f) ++padded_nonzero_reference;
    }
    // The reference path really computes padded queries (so the two paths
    // differ, and the comparison above could fail).
    EXPECT_GT(padded_nonzero_reference, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Plugins, PaddedQueriesTest,
    ::testing::Values(
        Variant{"full", false, 0.0f}, Variant{"full", true, 0.2f},
        Variant{"local", false, 0.0f}, Variant{"local", true, 0.2f},
        Variant{"bigbird", false, 0.0f}, Variant{"bigbird", true, 0.2f},
        Variant{"longformer", false, 0.0f}, Variant{"longformer", true, 0.2f},
        Variant{"sparse_transformer", false, 0.0f},
        Variant{"sparse_transformer", true, 0.2f}),
    [](const ::testing::TestParamInfo<Variant>& info) {
      return absl::StrCat(info.param.plugin, info.param.cls_token ? "_cls" : "",
                          info.param.attention_dropout > 0 ? "_dropout" : "");
    });

}  // namespace
}  // namespace lra
