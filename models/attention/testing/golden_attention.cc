#include "models/attention/testing/golden_attention.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "models/tensor.h"
#include "util/status_macros.h"

namespace lra {

absl::StatusOr<AttentionShape> GoldenAttentionShape(const GoldenFile& g) {
  AttentionShape shape;
  ASSIGN_OR_RETURN(const double batch, g.Scalar("batch"));
  ASSIGN_OR_RETURN(const double heads, g.Scalar("heads"));
  ASSIGN_OR_RETURN(const double seq_len, g.Scalar("seq_len"));
  ASSIGN_OR_RETURN(const double head_dim, g.Scalar("head_dim"));
  shape.max_batch = static_cast<int>(batch);
  shape.num_heads = static_cast<int>(heads);
  shape.seq_len = static_cast<int>(seq_len);
  shape.head_dim = static_cast<int>(head_dim);
  if (g.scalars.count("d_model") != 0) {
    shape.d_model = static_cast<int>(g.scalars.at("d_model"));
  }
  return shape;
}

int GoldenParameterCount(const GoldenFile& g) {
  int count = 0;
  for (const auto& [name, t] : g.tensors) count += name.rfind("param/", 0) == 0;
  return count;
}

absl::StatusOr<int> LoadGoldenParameters(const GoldenFile& g,
                                         Attention& attention) {
  int loaded = 0;
  absl::Status status;
  attention.ForEachParameter(
      [&](const std::string& name, Tensor& value, Tensor& grad) {
        if (!status.ok()) return;
        absl::StatusOr<const GoldenTensor*> t = g.Tensor("param/" + name);
        if (!t.ok()) {
          status = t.status();
          return;
        }
        if (int64_t((*t)->values.size()) != value.size()) {
          status = absl::InvalidArgumentError(absl::StrCat(
              g.path, ": param/", name, " holds ", (*t)->values.size(),
              " values, the plugin ", value.size()));
          return;
        }
        const std::vector<float> values = ToFloats(**t);
        std::copy(values.begin(), values.end(), value.data());
        grad.Zero();
        ++loaded;
      });
  RETURN_IF_ERROR(status);
  return loaded;
}

absl::StatusOr<std::string> CompareForwardBackwardWithGolden(
    const GoldenFile& g, const AttentionShape& shape, Attention& attention,
    double rtol) {
  ASSIGN_OR_RETURN(const GoldenTensor* q_file, g.Tensor("q"));
  ASSIGN_OR_RETURN(const GoldenTensor* k_file, g.Tensor("k"));
  ASSIGN_OR_RETURN(const GoldenTensor* v_file, g.Tensor("v"));
  ASSIGN_OR_RETURN(const GoldenTensor* dout_file, g.Tensor("dout"));
  ASSIGN_OR_RETURN(const GoldenTensor* mask_file, g.Tensor("mask"));
  const bool has_x = g.tensors.count("x") != 0;
  const std::vector<float> q = ToFloats(*q_file), k = ToFloats(*k_file),
                           v = ToFloats(*v_file), dout = ToFloats(*dout_file),
                           x = has_x ? ToFloats(g.tensors.at("x"))
                                     : std::vector<float>();
  std::vector<uint8_t> mask;
  for (double m : mask_file->values) mask.push_back(m != 0);
  if (int64_t(mask.size()) != int64_t(shape.max_batch) * shape.seq_len) {
    return absl::InvalidArgumentError(
        absl::StrCat(g.path, ": mask holds ", mask.size(), " values, not ",
                     shape.max_batch, " x ", shape.seq_len));
  }
  std::vector<float> out(q.size()), dq(q.size()), dk(q.size()), dv(q.size()),
      dx(x.size(), 0.0f);
  AttentionInputs in;
  in.q = q.data();
  in.k = k.data();
  in.v = v.data();
  if (has_x) in.x = x.data();
  in.key_mask = mask.data();
  in.batch = shape.max_batch;
  attention.Forward(in, out.data());
  attention.Backward(dout.data(), {dq.data(), dk.data(), dv.data(),
                                   has_x ? dx.data() : nullptr});

  // Each compared tensor: what the plugin computed and the file's name for it.
  std::string report;
  absl::Status status;
  const auto compare = [&](const std::string& label, const float* got,
                           const std::string& name) {
    absl::StatusOr<const GoldenTensor*> want = g.Tensor(name);
    if (!want.ok()) {
      if (status.ok()) status = want.status();
      return;
    }
    report += CompareWithGolden(label, got, **want, rtol);
  };
  compare("out", out.data(), "out");
  compare("dq", dq.data(), "grad/q");
  compare("dk", dk.data(), "grad/k");
  compare("dv", dv.data(), "grad/v");
  if (has_x) compare("dx", dx.data(), "grad/x");
  attention.ForEachParameter(
      [&](const std::string& name, Tensor&, Tensor& grad) {
        compare("grad of " + name, grad.data(), "grad/" + name);
      });
  RETURN_IF_ERROR(status);
  return report;
}

}  // namespace lra
