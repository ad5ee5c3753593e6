// Pins the "reformer" plugin to an independent PyTorch implementation
// (tools/make_reformer_golden.py, float64, autograd): forward output and the
// gradients in q (both roles) and v, with the rotations loaded from the file
// so that the buckets are the same.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "models/attention/reformer/reformer_attention.h"
#include "models/attention/testing/golden_file.h"

namespace lra {
namespace {

// Lines "name v1 v2 ..."; '#' starts a comment line.
std::map<std::string, std::vector<double>> LoadGolden(const std::string& path) {
  std::map<std::string, std::vector<double>> tensors;
  std::ifstream in(GoldenDataPath(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string name;
    words >> name;
    double x;
    while (words >> x) tensors[name].push_back(x);
  }
  return tensors;
}

std::vector<float> Floats(const std::vector<double>& x) {
  return std::vector<float>(x.begin(), x.end());
}

TEST(ReformerGoldenTest, MatchesPyTorchForwardAndGradients) {
  for (const char* file : {"golden_padded_3hashes.txt", "golden_lra.txt"}) {
    const auto g =
        LoadGolden(absl::StrCat("models/attention/reformer/testdata/", file));
    ASSERT_EQ(g.count("shape"), 1u) << file << " missing or unreadable";
    const std::vector<double>& s = g.at("shape");
    const std::vector<double>& o = g.at("options");
    const int B = s[0], H = s[1], N = s[2], Dh = s[3];
    const int64_t size = int64_t(B) * H * N * Dh;
    const std::vector<float> q = Floats(g.at("q"));
    const std::vector<float> v = Floats(g.at("v"));
    const std::vector<float> dout = Floats(g.at("dout"));
    const std::vector<uint8_t> mask(g.at("mask").begin(), g.at("mask").end());
    ASSERT_EQ(q.size(), size);
    ASSERT_EQ(mask.size(), int64_t(B) * N);
    ReformerOptions options;
    options.chunk = o[0];
    options.n_hashes = o[1];
    options.buckets = o[2];
    AttentionShape shape;
    shape.max_batch = B;
    shape.num_heads = H;
    shape.seq_len = N;
    shape.head_dim = Dh;
    ReformerAttention attention(options, shape);
    attention.SetRotationsForTest(Floats(g.at("rotations")));
    ASSERT_EQ(attention.rotations(), Floats(g.at("rotations")));
    struct {
      std::vector<float> out, dq, dv;
    } r;
    r.out.assign(size, 0.0f);
    r.dq.assign(size, 0.0f);
    r.dv.assign(size, 0.0f);
    AttentionInputs in;
    in.q = in.k = q.data();
    in.v = v.data();
    in.key_mask = mask.data();
    in.batch = B;
    attention.Forward(in, r.out.data());
    attention.Backward(dout.data(), {r.dq.data(), nullptr, r.dv.data()});
    // Relative error with the denominator floored at 1e-2 (entries below
    // that are compared to 1e-6 absolute).
    for (auto [name, mine, theirs] :
         {std::tuple<const char*, const std::vector<float>*,
                     const std::vector<double>*>{"out", &r.out, &g.at("out")},
          {"dq", &r.dq, &g.at("dq")},
          {"dv", &r.dv, &g.at("dv")}}) {
      ASSERT_EQ(mine->size(), theirs->size()) << name;
      double worst = 0.0;
      for (size_t e = 0; e < mine->size(); ++e) {
        const double rel = std::fabs((*mine)[e] - (*theirs)[e]) /
                           std::max(std::fabs((*theirs)[e]), 1e-2);
        worst = std::max(worst, rel);
      }
      EXPECT_LT(worst, 1e-4) << file << " " << name;
      std::cout << file << " " << name << ": worst relative error " << worst
                << "\n";
    }
  }
}

}  // namespace
}  // namespace lra
