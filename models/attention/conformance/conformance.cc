#include "models/attention/conformance/conformance.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "models/internal/grad_check.h"
#include "models/internal/random_values.h"
#include "models/rng.h"
#include "util/status_macros.h"

namespace lra {
namespace {

// The exemption `plugin` declares for the check called `check`, if any.
const AttentionExemption* FindExemption(const AttentionPlugin& plugin,
                                        const std::string& check) {
  for (const AttentionExemption& e : plugin.capabilities.exemptions) {
    if (e.check == check) return &e;
  }
  return nullptr;
}

// Violations reported verbatim per check; the rest are only counted.
constexpr int kMaxReported = 6;

// Collects the violations one check finds in one case.
class Violations {
 public:
  void Add(std::string what) {
    if (count_++ < kMaxReported) messages_.push_back(std::move(what));
  }
  int count() const { return count_; }

  absl::Status ToStatus(const ConformanceCase& c,
                        const std::string& check) const {
    if (count_ == 0) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        c.Label(), ": ", check, ": ", count_, " violation",
        count_ == 1 ? "" : "s", ":\n    ", absl::StrJoin(messages_, "\n    "),
        count_ > kMaxReported ? "\n    ..." : ""));
  }

 private:
  int count_ = 0;
  std::vector<std::string> messages_;
};

// How a buffer of one call is laid out: q, k, v and out are [B, H, N, Dh];
// the layer input x is [B, N, D], seen here as [B, 1, N, D].
struct Layout {
  int heads = 1;
  int seq_len = 1;
  int width = 1;
  bool per_head = true;  // names elements with h (q, k, v) or without (x)

  int64_t PerExample() const { return int64_t(heads) * seq_len * width; }
  int PositionOf(int64_t e) const { return (e / width) % seq_len; }
  int ExampleOf(int64_t e) const { return static_cast<int>(e / PerExample()); }
};

Layout HeadsLayout(const ConformanceSize& s) {
  return {s.num_heads, s.seq_len, s.head_dim, true};
}
Layout TokensLayout(const ConformanceSize& s) {
  return {1, s.seq_len, s.d_model, false};
}

int64_t PerExample(const ConformanceSize& s) {
  return HeadsLayout(s).PerExample();
}

// Element `e` as "name[b=1 h=0 i=5 x=2]" ([B, H, N, Dh]) or "name[b=1 i=5
// c=2]" ([B, N, D]).
std::string Where(const std::string& name, int64_t e, const Layout& l) {
  const int x = e % l.width;
  const int i = l.PositionOf(e);
  const int h = (e / (int64_t(l.width) * l.seq_len)) % l.heads;
  const int64_t b = l.ExampleOf(e);
  if (!l.per_head) return absl::StrFormat("%s[b=%d i=%d c=%d]", name, b, i, x);
  return absl::StrFormat("%s[b=%d h=%d i=%d x=%d]", name, b, h, i, x);
}
std::string Where(const std::string& name, int64_t e,
                  const ConformanceSize& s) {
  return Where(name, e, HeadsLayout(s));
}

// Sequence position of element `e` of a [B, H, N, Dh] tensor.
int PositionOf(int64_t e, const ConformanceSize& s) {
  return HeadsLayout(s).PositionOf(e);
}
int ExampleOf(int64_t e, const ConformanceSize& s) {
  return HeadsLayout(s).ExampleOf(e);
}

// Real (unpadded) keys of example b: the full length, about two thirds, and
// about a quarter, so that padding starts inside blocks of any usual size.
int RealLength(int b, int n) {
  switch (b % 3) {
    case 0:
      return n;
    case 1:
      return std::max(1, n - n / 3 - 1);
    default:
      return std::max(1, n / 4);
  }
}

// Inputs for one call, sized for the instance's max_batch so that a plugin
// that overruns the batch writes into owned memory (where CheckOutputShapes
// sees it) rather than past the end of a buffer.
struct Inputs {
  std::vector<float> q, k, v;     // [maxB, H, N, Dh]
  std::vector<float> x;           // [maxB, N, D]; empty unless layer_input
  std::vector<uint8_t> key_mask;  // [maxB, N], 1 = real key
  bool padded = false;
  // capabilities.shared_qk: the plugin gets k == q (k is not used).
  bool shared_qk = false;
  // capabilities.needs_layer_input: the plugin gets x.
  bool layer_input = false;

  const uint8_t* mask() const { return padded ? key_mask.data() : nullptr; }
  bool Real(int b, int j, int n) const {
    return !padded || key_mask[int64_t(b) * n + j] != 0;
  }
  AttentionInputs For(int batch, bool training, uint64_t seed) const {
    AttentionInputs in;
    in.q = q.data();
    in.k = shared_qk ? q.data() : k.data();
    in.v = v.data();
    in.key_mask = mask();
    in.batch = batch;
    in.training = training;
    in.seed = seed;
    in.x = layer_input ? x.data() : nullptr;
    return in;
  }
};

Inputs MakeInputs(const ConformanceCase& c, uint64_t seed, bool padded) {
  const ConformanceSize& s = c.size;
  const int64_t total = s.max_batch * PerExample(s);
  Inputs in;
  // Scores q.k / sqrt(Dh) of a few units: softmax weights are far from
  // uniform, yet no single key takes all the weight.
  in.q = RandomValues(total, DeriveSeed(seed, 1), 1.5f);
  in.k = RandomValues(total, DeriveSeed(seed, 2), 1.5f);
  in.v = RandomValues(total, DeriveSeed(seed, 3), 1.0f);
  in.shared_qk = c.plugin->capabilities.shared_qk;
  in.layer_input = c.plugin->capabilities.needs_layer_input;
  if (in.layer_input) {
    // Of the scale of a normalised layer input.
    in.x = RandomValues(s.max_batch * TokensLayout(s).PerExample(),
                        DeriveSeed(seed, 4), 1.5f);
  }
  in.padded = padded;
  in.key_mask.assign(int64_t(s.max_batch) * s.seq_len, 1);
  if (padded) {
    for (int b = 0; b < s.max_batch; ++b) {
      for (int j = RealLength(b, s.seq_len); j < s.seq_len; ++j) {
        in.key_mask[int64_t(b) * s.seq_len + j] = 0;
      }
    }
  }
  return in;
}

// Replaces q, k, v (and x) of example b at position i wherever
// `replace(b, i)` holds with fresh random values.
void Scramble(Inputs& in, const ConformanceSize& s, uint64_t seed, float scale,
              const std::function<bool(int b, int i)>& replace) {
  const std::vector<float> fresh =
      RandomValues(3 * int64_t(in.q.size()), seed, scale);
  const int64_t n = in.q.size();
  for (int64_t e = 0; e < n; ++e) {
    if (!replace(ExampleOf(e, s), PositionOf(e, s))) continue;
    in.q[e] = fresh[e];
    in.k[e] = fresh[n + e];
    in.v[e] = fresh[2 * n + e];
  }
  const Layout tokens = TokensLayout(s);
  const std::vector<float> fresh_x =
      RandomValues(in.x.size(), DeriveSeed(seed, 5), scale);
  for (int64_t e = 0; e < int64_t(in.x.size()); ++e) {
    if (replace(tokens.ExampleOf(e), tokens.PositionOf(e))) {
      in.x[e] = fresh_x[e];
    }
  }
}

struct Parameter {
  std::string name;
  Tensor* value;
  Tensor* grad;
};

std::vector<Parameter> ParametersOf(Attention& attention) {
  std::vector<Parameter> params;
  attention.ForEachParameter(
      [&](const std::string& name, Tensor& value, Tensor& grad) {
        params.push_back({name, &value, &grad});
      });
  return params;
}

// Outputs and gradients of one Forward/Backward.
struct Result {
  std::vector<float> out, dq, dk, dv;  // [maxB, H, N, Dh]; dk stays zero
                                       // for shared_qk plugins
  std::vector<float> dx;  // [maxB, N, D], needs_layer_input plugins only
  std::vector<std::vector<float>> param_grads;  // one per parameter
};

// The gradients to pass to Backward for `r`: dk is nullptr for shared_qk
// plugins, dx is given to needs_layer_input plugins only.
AttentionGradients GradientsFor(const Inputs& in, Result& r) {
  AttentionGradients grads;
  grads.dq = r.dq.data();
  grads.dk = in.shared_qk ? nullptr : r.dk.data();
  grads.dv = r.dv.data();
  grads.dx = in.layer_input ? r.dx.data() : nullptr;
  return grads;
}

// A random upstream gradient for out: [max_batch, H, N, Dh] values in
// [-1, 1).
std::vector<float> Upstream(const ConformanceSize& s, uint64_t seed) {
  return RandomValues(s.max_batch * PerExample(s), seed, 1.0f);
}

// Runs Forward and, when `dout` is given, Backward with the parameter
// gradients and dx zeroed first (Backward adds into both, as the attention
// mixer expects).
Result Run(Attention& attention, const ConformanceSize& s, const Inputs& in,
           const std::vector<float>* dout, bool training, uint64_t seed,
           int batch = -1) {
  if (batch < 0) batch = s.batch;
  const int64_t total = s.max_batch * PerExample(s);
  Result r;
  r.out.assign(total, 0.0f);
  attention.Forward(in.For(batch, training, seed), r.out.data());
  if (dout == nullptr) return r;
  r.dq.assign(total, 0.0f);
  r.dk.assign(total, 0.0f);
  r.dv.assign(total, 0.0f);
  if (in.layer_input) r.dx.assign(in.x.size(), 0.0f);
  std::vector<Parameter> params = ParametersOf(attention);
  for (Parameter& p : params) p.grad->Zero();
  attention.Backward(dout->data(), GradientsFor(in, r));
  for (Parameter& p : params) {
    r.param_grads.emplace_back(p.grad->data(), p.grad->data() + p.grad->size());
  }
  return r;
}

bool SameBits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

// An element predicate for layout `l` from a predicate on (example,
// position).
std::function<bool(int64_t)> AtPositions(const Layout& l,
                                         std::function<bool(int b, int i)> at) {
  return [l, at](int64_t e) { return at(l.ExampleOf(e), l.PositionOf(e)); };
}

// Compares two buffers of layout `l` over the first `batch` examples at the
// elements where `where(e)` holds: bit for bit when tol < 0, else within
// tol. Reports "<name>[...] <what>: a vs b". Buffers that are both empty (dx
// of a plugin without a layer input) agree.
void Compare(const std::string& name, const std::vector<float>& a,
             const std::vector<float>& b, const Layout& l, int batch,
             double tol, const std::function<bool(int64_t)>& where,
             const std::string& what, Violations& violations) {
  if (a.empty() && b.empty()) return;
  const int64_t count = batch * l.PerExample();
  for (int64_t e = 0; e < count; ++e) {
    if (where && !where(e)) continue;
    const bool differs = tol < 0 ? !SameBits(a[e], b[e])
                                 : !(std::fabs(double(a[e]) - b[e]) <= tol);
    if (differs) {
      violations.Add(absl::StrFormat("%s %s: %.9g vs %.9g", Where(name, e, l),
                                     what, a[e], b[e]));
    }
  }
}
void Compare(const std::string& name, const std::vector<float>& a,
             const std::vector<float>& b, const ConformanceSize& s, int batch,
             double tol, const std::function<bool(int64_t)>& where,
             const std::string& what, Violations& violations) {
  Compare(name, a, b, HeadsLayout(s), batch, tol, where, what, violations);
}

// Reports elements (where `where(e)` holds) whose magnitude exceeds tol.
void ExpectZero(const std::string& name, const std::vector<float>& a,
                const Layout& l, int batch, double tol,
                const std::function<bool(int64_t)>& where,
                const std::string& what, Violations& violations) {
  if (a.empty()) return;
  const int64_t count = batch * l.PerExample();
  for (int64_t e = 0; e < count; ++e) {
    if (where && !where(e)) continue;
    if (!(std::fabs(a[e]) <= tol)) {
      violations.Add(
          absl::StrFormat("%s = %.9g %s", Where(name, e, l), a[e], what));
    }
  }
}
void ExpectZero(const std::string& name, const std::vector<float>& a,
                const ConformanceSize& s, int batch, double tol,
                const std::function<bool(int64_t)>& where,
                const std::string& what, Violations& violations) {
  ExpectZero(name, a, HeadsLayout(s), batch, tol, where, what, violations);
}

// Compare on dq, dk and dv of two runs.
void CompareQkvGrads(const Result& a, const Result& b, const ConformanceSize& s,
                     int batch, double tol,
                     const std::function<bool(int64_t)>& where,
                     const std::string& what, Violations& violations) {
  Compare("dq", a.dq, b.dq, s, batch, tol, where, what, violations);
  Compare("dk", a.dk, b.dk, s, batch, tol, where, what, violations);
  Compare("dv", a.dv, b.dv, s, batch, tol, where, what, violations);
}

// ExpectZero on dq, dk and dv of a run, over its first s.batch examples.
void ExpectZeroQkvGrads(const Result& a, const ConformanceSize& s, double tol,
                        const std::function<bool(int64_t)>& where,
                        const std::string& what, Violations& violations) {
  ExpectZero("dq", a.dq, s, s.batch, tol, where, what, violations);
  ExpectZero("dk", a.dk, s, s.batch, tol, where, what, violations);
  ExpectZero("dv", a.dv, s, s.batch, tol, where, what, violations);
}

// Compare on every output and input gradient of two runs: out within
// out_tol, dq, dk, dv and dx within grad_tol (bit for bit when negative),
// at the elements where `where` (dx: `where_x`) holds.
void CompareResults(const Result& a, const Result& b, const ConformanceSize& s,
                    int batch, double out_tol, double grad_tol,
                    const std::function<bool(int64_t)>& where,
                    const std::function<bool(int64_t)>& where_x,
                    const std::string& what, Violations& violations) {
  Compare("out", a.out, b.out, s, batch, out_tol, where, what, violations);
  CompareQkvGrads(a, b, s, batch, grad_tol, where, what, violations);
  Compare("dx", a.dx, b.dx, TokensLayout(s), batch, grad_tol, where_x, what,
          violations);
}

void CompareParamGrads(const std::vector<Parameter>& params, const Result& a,
                       const Result& b, double tol, const std::string& what,
                       Violations& violations) {
  for (size_t p = 0; p < a.param_grads.size() && p < b.param_grads.size();
       ++p) {
    for (size_t e = 0; e < a.param_grads[p].size(); ++e) {
      const float x = a.param_grads[p][e], y = b.param_grads[p][e];
      const bool differs =
          tol < 0 ? !SameBits(x, y) : !(std::fabs(double(x) - y) <= tol);
      if (differs) {
        violations.Add(absl::StrFormat("grad of %s[%d] %s: %.9g vs %.9g",
                                       params[p].name, e, what, x, y));
      }
    }
  }
}

// Compare two runs bit for bit: every output, input gradient and parameter
// gradient.
void CompareBitForBit(const std::vector<Parameter>& params, const Result& a,
                      const Result& b, const ConformanceSize& s,
                      const std::string& what, Violations& violations) {
  CompareResults(a, b, s, s.batch, -1, -1, nullptr, nullptr, what, violations);
  CompareParamGrads(params, a, b, -1, what, violations);
}

absl::StatusOr<std::unique_ptr<Attention>> MakeInstance(
    const ConformanceCase& c, float dropout, uint64_t seed = 17) {
  PluginConfig config;
  config.set_name(c.plugin->name);
  for (const PluginParam& param : c.test_case.params) {
    *config.add_param() = param;
  }
  AttentionShape shape;
  shape.max_batch = c.size.max_batch;
  shape.num_heads = c.size.num_heads;
  shape.seq_len = c.size.seq_len;
  shape.head_dim = c.size.head_dim;
  shape.attention_dropout = dropout;
  shape.layer_index = 1;
  shape.seed = seed;
  shape.cls_token = c.size.cls_token;
  shape.d_model = c.size.d_model;
  absl::StatusOr<std::unique_ptr<Attention>> made =
      c.registry->Create(config, shape);
  if (!made.ok()) {
    return absl::Status(
        made.status().code(),
        absl::StrCat(c.Label(),
                     ": creating an instance with attention "
                     "dropout ",
                     dropout, " failed: ", made.status().message()));
  }
  (*made)->InitParameters(seed);
  return made;
}

// Deterministic sample of `count` distinct indices below n (all when n is
// small), spread over the whole tensor rather than strided, so that every
// head, position and column can be hit.
std::vector<int64_t> SampleIndices(int64_t n, int count, uint64_t seed) {
  std::vector<int64_t> indices;
  if (n <= count) {
    for (int64_t i = 0; i < n; ++i) indices.push_back(i);
    return indices;
  }
  std::set<int64_t> chosen;
  for (uint64_t t = 0; static_cast<int>(chosen.size()) < count; ++t) {
    chosen.insert(static_cast<int64_t>(RandomBits(seed, t) % n));
  }
  return {chosen.begin(), chosen.end()};
}

// Central differences of `objective` in the entries `indices` of `values`
// against `analytic`.
void GradientCheck(const std::string& name, const Layout* layout,
                   const std::function<double()>& objective, float* values,
                   const std::vector<int64_t>& indices, const float* analytic,
                   const AttentionTolerances& tol, Violations& violations) {
  for (int64_t e : indices) {
    const double numeric =
        internal::CentralDifference(objective, &values[e], tol.grad_epsilon);
    const double a = analytic[e];
    const double err = std::fabs(numeric - a);
    const double allowed =
        tol.grad_abs +
        tol.grad_rel * std::max(std::fabs(numeric), std::fabs(a));
    if (!(err <= allowed)) {
      violations.Add(absl::StrFormat(
          "d/d%s: numeric %.6g vs Backward %.6g (allowed error %.3g)",
          layout ? Where(name, e, *layout) : absl::StrCat(name, "[", e, "]"),
          numeric, a, allowed));
    }
  }
}

absl::Status GradientsImpl(const ConformanceCase& c, float dropout, int entries,
                           const std::string& check,
                           const std::string& check_name) {
  ASSIGN_OR_RETURN(const std::unique_ptr<Attention> made,
                   MakeInstance(c, dropout));
  Attention& attention = *made;
  const ConformanceSize& s = c.size;
  const AttentionTolerances& tol = c.plugin->tolerances;
  Inputs in = MakeInputs(c, 202, c.plugin->capabilities.key_padding_mask);
  const int64_t used = s.batch * PerExample(s);
  const std::vector<float> r = Upstream(s, 203);
  const uint64_t seed = 31;
  std::vector<float> out(s.max_batch * PerExample(s));
  auto objective = [&]() {
    attention.Forward(in.For(s.batch, /*training=*/true, seed), out.data());
    double sum = 0.0;
    for (int64_t e = 0; e < used; ++e) sum += double(out[e]) * r[e];
    return sum;
  };
  const Result analytic = Run(attention, s, in, &r, true, seed);
  // A declared kFreezeStructure exemption: the perturbed evaluations reuse
  // the discrete structure of the analytic pass.
  const AttentionExemption* exemption = FindExemption(*c.plugin, check_name);
  const bool freeze =
      exemption != nullptr &&
      exemption->treatment == AttentionExemption::Treatment::kFreezeStructure;
  if (freeze) attention.FreezeStructure(true);
  Violations violations;
  const Layout heads = HeadsLayout(s);
  // With shared QK, k is q: perturbing q moves both roles, so dq must hold
  // the gradient of both (and there is no dk).
  GradientCheck("q", &heads, objective, in.q.data(),
                SampleIndices(used, entries, 1), analytic.dq.data(), tol,
                violations);
  if (!in.shared_qk) {
    GradientCheck("k", &heads, objective, in.k.data(),
                  SampleIndices(used, entries, 2), analytic.dk.data(), tol,
                  violations);
  }
  GradientCheck("v", &heads, objective, in.v.data(),
                SampleIndices(used, entries, 3), analytic.dv.data(), tol,
                violations);
  if (in.layer_input) {
    const Layout tokens = TokensLayout(s);
    GradientCheck("x", &tokens, objective, in.x.data(),
                  SampleIndices(s.batch * tokens.PerExample(), entries, 99),
                  analytic.dx.data(), tol, violations);
  }
  std::vector<Parameter> params = ParametersOf(attention);
  for (size_t p = 0; p < params.size(); ++p) {
    GradientCheck(params[p].name, nullptr, objective, params[p].value->data(),
                  SampleIndices(params[p].value->size(), entries, 4 + p),
                  analytic.param_grads[p].data(), tol, violations);
  }
  if (freeze) attention.FreezeStructure(false);
  return violations.ToStatus(c, check);
}

}  // namespace

std::string ConformanceCase::Label() const {
  return absl::StrCat(plugin ? plugin->name : "?", " [",
                      test_case.label.empty() ? "default" : test_case.label,
                      "] N=", size.seq_len, size.cls_token ? " with CLS" : "");
}

absl::StatusOr<std::vector<AttentionTestCase>> ConformanceTestCases(
    const AttentionPlugin& plugin) {
  for (const AttentionExemption& e : plugin.capabilities.exemptions) {
    const std::string where = absl::StrCat("attention '", plugin.name,
                                           "': exemption from '", e.check, "'");
    if (FindConformanceCheck(e.check) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " names no conformance check"));
    }
    if (e.reason.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " gives no reason"));
    }
    const bool gradients =
        e.check == "Gradients" || e.check == "GradientsWithDropout";
    if (e.treatment == AttentionExemption::Treatment::kFreezeStructure &&
        !gradients) {
      return absl::InvalidArgumentError(
          absl::StrCat(where,
                       ": freezing structure applies only to Gradients and "
                       "GradientsWithDropout"));
    }
    if (e.treatment == AttentionExemption::Treatment::kSkip &&
        e.check != "DropoutApplied") {
      return absl::InvalidArgumentError(absl::StrCat(
          where,
          ": only DropoutApplied may be skipped (padding invariance, "
          "in particular, is never exempted)"));
    }
  }
  std::vector<AttentionTestCase> cases = plugin.test_cases;
  if (cases.empty()) {
    cases.emplace_back();
    cases.back().label = "default";
  }
  bool any_causal = false;
  std::set<std::string> labels;
  for (size_t i = 0; i < cases.size(); ++i) {
    if (cases[i].label.empty()) cases[i].label = absl::StrCat("case ", i);
    if (!labels.insert(cases[i].label).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("attention '", plugin.name, "': test case label '",
                       cases[i].label, "' is used twice"));
    }
    if (cases[i].causal && !plugin.capabilities.causal) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attention '", plugin.name, "': test case '", cases[i].label,
          "' is marked causal but capabilities.causal is false"));
    }
    any_causal = any_causal || cases[i].causal;
  }
  if (plugin.capabilities.causal && !any_causal) {
    bool has_flag = false;
    for (const PluginParamSpec& spec : plugin.params) {
      has_flag = has_flag || (spec.name == "causal" &&
                              spec.type == PluginParamSpec::Type::kFlag);
    }
    if (!has_flag) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attention '", plugin.name,
          "' declares capabilities.causal but has no test case with causal = "
          "true and no flag param named 'causal'; add an AttentionTestCase "
          "whose params make it causal"));
    }
    AttentionTestCase causal = cases.front();
    causal.label = absl::StrCat(causal.label, ", causal");
    causal.causal = true;
    causal.params.push_back(FlagParam("causal", true));
    cases.push_back(std::move(causal));
  }
  return cases;
}

std::vector<int> ConformanceLengths(const AttentionTestCase& test_case) {
  std::vector<int> lengths;
  for (int n : {1, 37, 130}) {
    if (n >= test_case.min_seq_len) lengths.push_back(n);
  }
  if (lengths.empty()) lengths.push_back(test_case.min_seq_len);
  return lengths;
}

std::vector<ConformanceSize> ConformanceSizes(
    const AttentionTestCase& test_case) {
  std::vector<ConformanceSize> sizes;
  for (int n : ConformanceLengths(test_case)) {
    for (bool cls : {false, true}) {
      if (cls && n == 1) continue;
      ConformanceSize size;
      size.seq_len = n;
      size.cls_token = cls;
      sizes.push_back(size);
    }
  }
  return sizes;
}

absl::Status CheckOutputShapes(const ConformanceCase& c) {
  ASSIGN_OR_RETURN(const std::unique_ptr<Attention> made,
                   MakeInstance(c, 0.0f));
  Attention& attention = *made;
  const ConformanceSize& s = c.size;
  const int64_t total = s.max_batch * PerExample(s);
  // Unwritten elements stay NaN; elements past the batch must keep the canary.
  const float kCanary = -12345.5f;
  Violations violations;
  for (int batch : {s.batch, 1}) {
    const int64_t used = batch * PerExample(s);
    const Inputs in =
        MakeInputs(c, 101 + batch, c.plugin->capabilities.key_padding_mask);
    const std::vector<float> dout = Upstream(s, 102);
    auto fresh = [&]() {
      std::vector<float> buffer(total, kCanary);
      std::fill(buffer.begin(), buffer.begin() + used, std::nanf(""));
      return buffer;
    };
    std::vector<float> out = fresh(), dq = fresh(), dk = fresh(), dv = fresh();
    // dx is added into: it starts at kBase within the batch.
    const Layout tokens = TokensLayout(s);
    const int64_t used_x = batch * tokens.PerExample();
    const float kBase = 0.5f;
    auto fresh_x = [&](float base) {
      std::vector<float> buffer(in.x.size(), kCanary);
      if (in.layer_input) {
        std::fill(buffer.begin(), buffer.begin() + used_x, base);
      }
      return buffer;
    };
    std::vector<float> dx = fresh_x(kBase);
    attention.Forward(in.For(batch, false, 7), out.data());
    attention.Backward(
        dout.data(), {dq.data(), in.shared_qk ? nullptr : dk.data(), dv.data(),
                      in.layer_input ? dx.data() : nullptr});
    const std::string at = absl::StrCat(" (batch ", batch, ")");
    std::vector<std::pair<const char*, const std::vector<float>*>> written = {
        {"out", &out}, {"dq", &dq}, {"dv", &dv}};
    if (!in.shared_qk) written.push_back({"dk", &dk});
    for (const auto& [name, buffer] : written) {
      for (int64_t e = 0; e < total; ++e) {
        const float x = (*buffer)[e];
        if (e < used && !std::isfinite(x)) {
          violations.Add(absl::StrCat(Where(name, e, s),
                                      " not written or not finite", at));
        } else if (e >= used && !SameBits(x, kCanary)) {
          violations.Add(
              absl::StrCat(Where(name, e, s), " written past the batch", at));
        }
      }
    }
    if (!in.layer_input) continue;
    // The same Backward again into a dx that starts at zero: Backward must
    // add its part (dx from kBase = kBase + dx from zero), since the attention
    // mixer adds the projections' part of dx to it.
    std::vector<float> dx_from_zero = fresh_x(0.0f);
    std::vector<float> scratch(total);
    attention.Backward(dout.data(),
                       {scratch.data(), in.shared_qk ? nullptr : dk.data(),
                        dv.data(), dx_from_zero.data()});
    for (int64_t e = 0; e < int64_t(dx.size()); ++e) {
      const float x = dx[e];
      if (e >= used_x) {
        if (!SameBits(x, kCanary) || !SameBits(dx_from_zero[e], kCanary)) {
          violations.Add(absl::StrCat(Where("dx", e, tokens),
                                      " written past the batch", at));
        }
        continue;
      }
      const double expected = double(dx_from_zero[e]) + kBase;
      if (!std::isfinite(x) || !(std::fabs(double(x) - expected) <=
                                 1e-5 * std::max(1.0, std::fabs(double(x))))) {
        violations.Add(absl::StrFormat(
            "%s is %.9g from %g and %.9g from 0 (Backward must add into dx, "
            "finite)%s",
            Where("dx", e, tokens), x, kBase, dx_from_zero[e], at));
      }
    }
  }
  return violations.ToStatus(c, "output shapes");
}

absl::Status CheckGradients(const ConformanceCase& c) {
  return GradientsImpl(c, 0.0f, 32, "gradients", "Gradients");
}

absl::Status CheckGradientsWithDropout(const ConformanceCase& c) {
  return GradientsImpl(c, 0.2f, 12, "gradients with attention dropout 0.2",
                       "GradientsWithDropout");
}

absl::Status CheckPaddingInvariance(const ConformanceCase& c) {
  if (!c.plugin->capabilities.key_padding_mask) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::unique_ptr<Attention> made,
                   MakeInstance(c, 0.0f));
  Attention& attention = *made;
  const ConformanceSize& s = c.size;
  const AttentionTolerances& tol = c.plugin->tolerances;
  const int N = s.seq_len;
  const Inputs in = MakeInputs(c, 303, true);
  auto real_position = [&](int64_t e) {
    return in.Real(ExampleOf(e, s), PositionOf(e, s), N);
  };
  auto padded_position = [&](int64_t e) { return !real_position(e); };
  Inputs scrambled = in;
  Scramble(scrambled, s, 304, 4.0f,
           [&](int b, int i) { return !in.Real(b, i, N); });
  const std::vector<float> r = Upstream(s, 305);
  // The same upstream gradient with the padded rows zeroed: then gradients at
  // real positions must not depend on padded values either.
  std::vector<float> r_real = r;
  for (int64_t e = 0; e < int64_t(r.size()); ++e) {
    if (padded_position(e)) r_real[e] = 0.0f;
  }
  Violations violations;
  const Result a = Run(attention, s, in, &r, false, 0);
  ExpectZero("dk", a.dk, s, s.batch, tol.forward_abs, padded_position,
             "at a padded key (padded keys must get no gradient)", violations);
  ExpectZero("dv", a.dv, s, s.batch, tol.forward_abs, padded_position,
             "at a padded key (padded keys must get no gradient)", violations);
  const Result b = Run(attention, s, scrambled, &r, false, 0);
  Compare("out", a.out, b.out, s, s.batch, tol.forward_abs, real_position,
          "changed when q, k, v at padded positions changed", violations);
  const Result a_real = Run(attention, s, in, &r_real, false, 0);
  const Result b_real = Run(attention, s, scrambled, &r_real, false, 0);
  CompareQkvGrads(a_real, b_real, s, s.batch, tol.grad_abs, real_position,
                  "changed when q, k, v at padded positions changed",
                  violations);
  // The layer input x: its real positions' gradient does not depend on its
  // padded positions, and since real outputs do not depend on padded
  // inputs, padded positions get no gradient from real outputs.
  const Layout tokens = TokensLayout(s);
  auto real_token =
      AtPositions(tokens, [&](int b, int i) { return in.Real(b, i, N); });
  auto padded_token =
      AtPositions(tokens, [&](int b, int i) { return !in.Real(b, i, N); });
  Compare("dx", a_real.dx, b_real.dx, tokens, s.batch, tol.grad_abs, real_token,
          "changed when q, k, v, x at padded positions changed", violations);
  ExpectZero("dx", a_real.dx, tokens, s.batch, tol.forward_abs, padded_token,
             "at a padded position with upstream gradient on real positions "
             "only (real outputs must not depend on padded x)",
             violations);

  // An example whose keys are all padding must not produce NaN or inf (its
  // outputs are otherwise unspecified), nor disturb the other examples.
  Inputs empty = in;
  const int last = s.batch - 1;
  for (int j = 0; j < N; ++j) empty.key_mask[int64_t(last) * N + j] = 0;
  const Result e = Run(attention, s, empty, &r, false, 0);
  for (const auto& [name, x] :
       {std::pair<const char*, const std::vector<float>*>{"out", &e.out},
        {"dq", &e.dq},
        {"dk", &e.dk},
        {"dv", &e.dv}}) {
    for (int64_t i = 0; i < s.batch * PerExample(s); ++i) {
      if (!std::isfinite((*x)[i])) {
        violations.Add(absl::StrCat(Where(name, i, s),
                                    " is not finite when example ", last,
                                    " is entirely padding"));
      }
    }
  }
  for (int64_t i = 0; i < s.batch * tokens.PerExample() && !e.dx.empty(); ++i) {
    if (!std::isfinite(e.dx[i])) {
      violations.Add(absl::StrCat(Where("dx", i, tokens),
                                  " is not finite when example ", last,
                                  " is entirely padding"));
    }
  }
  if (last > 0) {
    Compare(
        "out", a.out, e.out, s, last, tol.forward_abs, nullptr,
        absl::StrCat("changed when example ", last, " became entirely padding"),
        violations);
  }
  return violations.ToStatus(c, "padding invariance");
}

absl::Status CheckCausality(const ConformanceCase& c) {
  if (!c.test_case.causal) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::unique_ptr<Attention> made,
                   MakeInstance(c, 0.0f));
  Attention& attention = *made;
  const ConformanceSize& s = c.size;
  const AttentionTolerances& tol = c.plugin->tolerances;
  const int N = s.seq_len;
  const Inputs in = MakeInputs(c, 404, false);
  const std::vector<float> r = Upstream(s, 405);
  Violations violations;
  std::set<int> cuts;
  for (int t : {0, N / 2, N - 2}) {
    if (t >= 0 && t < N - 1) cuts.insert(t);
  }
  for (int t : cuts) {
    auto later = [&](int64_t e) { return PositionOf(e, s) > t; };
    auto up_to = [&](int64_t e) { return PositionOf(e, s) <= t; };
    Inputs changed = in;
    Scramble(changed, s, 406 + t, 2.0f, [&](int, int i) { return i > t; });
    // Upstream gradient only on positions <= t.
    std::vector<float> r_early = r;
    for (int64_t e = 0; e < int64_t(r.size()); ++e) {
      if (later(e)) r_early[e] = 0.0f;
    }
    const Result a = Run(attention, s, in, &r_early, false, 0);
    const Result b = Run(attention, s, changed, &r_early, false, 0);
    const std::string what =
        absl::StrCat("changed when positions after ", t, " changed");
    Compare("out", a.out, b.out, s, s.batch, tol.forward_abs, up_to, what,
            violations);
    const std::string flows =
        absl::StrCat("(outputs at positions <= ", t, " must not depend on it)");
    ExpectZeroQkvGrads(a, s, tol.forward_abs, later, flows, violations);
    CompareQkvGrads(a, b, s, s.batch, tol.grad_abs, up_to, what, violations);
    const Layout tokens = TokensLayout(s);
    ExpectZero("dx", a.dx, tokens, s.batch, tol.forward_abs,
               AtPositions(tokens, [&](int, int i) { return i > t; }), flows,
               violations);
    Compare("dx", a.dx, b.dx, tokens, s.batch, tol.grad_abs,
            AtPositions(tokens, [&](int, int i) { return i <= t; }), what,
            violations);
  }
  return violations.ToStatus(c, "causality");
}

absl::Status CheckDeterminism(const ConformanceCase& c) {
  ASSIGN_OR_RETURN(const std::unique_ptr<Attention> first,
                   MakeInstance(c, 0.1f));
  ASSIGN_OR_RETURN(const std::unique_ptr<Attention> second,
                   MakeInstance(c, 0.1f));
  const ConformanceSize& s = c.size;
  const bool padded = c.plugin->capabilities.key_padding_mask;
  const Inputs in = MakeInputs(c, 505, padded);
  const Inputs other = MakeInputs(c, 506, padded);
  const std::vector<float> r = Upstream(s, 507);
  const uint64_t seed = 55;
  Violations violations;
  const Result a = Run(*first, s, in, &r, true, seed);
  const Result b = Run(*second, s, in, &r, true, seed);
  const std::vector<Parameter> params = ParametersOf(*first);
  const std::string twins = "differs between two instances built alike";
  CompareBitForBit(params, a, b, s, twins, violations);
  Run(*first, s, other, &r, true, seed + 1);
  const Result again = Run(*first, s, in, &r, true, seed);
  const std::string rerun = "differs when the same call is repeated";
  CompareBitForBit(params, a, again, s, rerun, violations);
  return violations.ToStatus(c, "determinism");
}

absl::Status CheckBatchIndependence(const ConformanceCase& c) {
  ASSIGN_OR_RETURN(const std::unique_ptr<Attention> made,
                   MakeInstance(c, 0.0f));
  Attention& attention = *made;
  const ConformanceSize& s = c.size;
  if (s.batch < 2) return absl::OkStatus();
  const AttentionTolerances& tol = c.plugin->tolerances;
  const int N = s.seq_len;
  const int64_t per = PerExample(s);
  const bool padded = c.plugin->capabilities.key_padding_mask;
  // Example 1 is watched; the others change around it.
  const int watched = 1;
  const Inputs in = MakeInputs(c, 606, padded);
  auto is_watched = [&](int64_t e) { return ExampleOf(e, s) == watched; };
  auto is_other = [&](int64_t e) { return ExampleOf(e, s) != watched; };
  Inputs changed = in;
  Scramble(changed, s, 607, 2.0f, [&](int b, int) { return b != watched; });
  for (int b = 0; b < s.max_batch; ++b) {
    if (b == watched) continue;
    for (int j = 0; j < N; ++j) {
      changed.key_mask[int64_t(b) * N + j] = padded ? (j % 2) : 1;
    }
  }
  // Upstream gradient on the watched example only.
  std::vector<float> r = Upstream(s, 608);
  for (int64_t e = 0; e < int64_t(r.size()); ++e) {
    if (!is_watched(e)) r[e] = 0.0f;
  }
  Violations violations;
  const Result a = Run(attention, s, in, &r, false, 0);
  const Result b = Run(attention, s, changed, &r, false, 0);
  const std::string what = "changed when the other examples changed";
  const Layout tokens = TokensLayout(s);
  const int64_t per_x = tokens.PerExample();
  CompareResults(a, b, s, s.batch, tol.forward_abs, tol.grad_abs, is_watched,
                 AtPositions(tokens, [&](int b, int) { return b == watched; }),
                 what, violations);
  const std::string leak = absl::StrCat(
      "(another example's inputs got gradient from example ", watched, ")");
  ExpectZeroQkvGrads(a, s, tol.forward_abs, is_other, leak, violations);
  ExpectZero("dx", a.dx, tokens, s.batch, tol.forward_abs,
             AtPositions(tokens, [&](int b, int) { return b != watched; }),
             leak, violations);

  // The watched example alone, as example 0 of a batch of one.
  Inputs alone = in;
  std::copy_n(in.q.begin() + watched * per, per, alone.q.begin());
  std::copy_n(in.k.begin() + watched * per, per, alone.k.begin());
  std::copy_n(in.v.begin() + watched * per, per, alone.v.begin());
  if (in.layer_input) {
    std::copy_n(in.x.begin() + watched * per_x, per_x, alone.x.begin());
  }
  std::copy_n(in.key_mask.begin() + int64_t(watched) * N, N,
              alone.key_mask.begin());
  std::vector<float> r_alone(r.size(), 0.0f);
  std::copy_n(r.begin() + watched * per, per, r_alone.begin());
  const Result single = Run(attention, s, alone, &r_alone, false, 0, 1);
  // Shift the batched results so that the watched example is example 0.
  auto shifted = [&](const std::vector<float>& x) {
    std::vector<float> y(x.size(), 0.0f);
    std::copy_n(x.begin() + watched * per, per, y.begin());
    return y;
  };
  auto shifted_x = [&](const std::vector<float>& x) {
    std::vector<float> y(x.size(), 0.0f);
    if (!x.empty()) std::copy_n(x.begin() + watched * per_x, per_x, y.begin());
    return y;
  };
  const std::string solo = absl::StrCat("differs between example ", watched,
                                        " in a batch and alone");
  Result batched;
  batched.out = shifted(a.out);
  batched.dq = shifted(a.dq);
  batched.dk = shifted(a.dk);
  batched.dv = shifted(a.dv);
  batched.dx = shifted_x(a.dx);
  CompareResults(batched, single, s, 1, tol.forward_abs, tol.grad_abs, nullptr,
                 nullptr, solo, violations);
  return violations.ToStatus(c, "batch independence");
}

absl::Status CheckTrainingMatchesEval(const ConformanceCase& c) {
  ASSIGN_OR_RETURN(const std::unique_ptr<Attention> made,
                   MakeInstance(c, 0.0f));
  Attention& attention = *made;
  const ConformanceSize& s = c.size;
  const Inputs in = MakeInputs(c, 707, c.plugin->capabilities.key_padding_mask);
  const std::vector<float> r = Upstream(s, 708);
  const std::vector<Parameter> params = ParametersOf(attention);
  Violations violations;
  const Result eval = Run(attention, s, in, &r, false, 5);
  for (uint64_t seed : {5, 6}) {
    const Result train = Run(attention, s, in, &r, true, seed);
    const std::string what =
        absl::StrCat("differs between training (seed ", seed,
                     ") and evaluation with attention dropout 0");
    CompareBitForBit(params, train, eval, s, what, violations);
  }
  return violations.ToStatus(c, "training matches evaluation");
}

absl::Status CheckDropoutApplied(const ConformanceCase& c) {
  ASSIGN_OR_RETURN(const std::unique_ptr<Attention> made,
                   MakeInstance(c, 0.5f));
  Attention& attention = *made;
  const ConformanceSize& s = c.size;
  const double tol = c.plugin->tolerances.forward_abs;
  const Inputs in = MakeInputs(c, 808, c.plugin->capabilities.key_padding_mask);
  const Result eval = Run(attention, s, in, nullptr, false, 1);
  const Result one = Run(attention, s, in, nullptr, true, 1);
  const Result two = Run(attention, s, in, nullptr, true, 2);
  auto differing = [&](const Result& x, const Result& y) {
    int count = 0;
    for (int64_t e = 0; e < s.batch * PerExample(s); ++e) {
      count += std::fabs(double(x.out[e]) - y.out[e]) > tol;
    }
    return count;
  };
  Violations violations;
  if (differing(one, eval) == 0) {
    violations.Add(
        "attention dropout 0.5 in training left every output as in "
        "evaluation");
  }
  if (differing(one, two) == 0) {
    violations.Add(
        "attention dropout 0.5 gave the same outputs for seeds 1 and 2 (the "
        "mask must come from the seed passed to Forward)");
  }
  return violations.ToStatus(c, "attention dropout applied");
}

absl::Status CheckParameters(const ConformanceCase& c) {
  ASSIGN_OR_RETURN(const std::unique_ptr<Attention> first,
                   MakeInstance(c, 0.0f));
  ASSIGN_OR_RETURN(const std::unique_ptr<Attention> second,
                   MakeInstance(c, 0.0f));
  const std::vector<Parameter> params = ParametersOf(*first);
  const std::vector<Parameter> twins = ParametersOf(*second);
  Violations violations;
  if (c.plugin->capabilities.learnable != !params.empty()) {
    violations.Add(absl::StrCat(
        "capabilities.learnable is ", c.plugin->capabilities.learnable, " but ",
        params.size(), " parameters are visited by ForEachParameter"));
  }
  if (twins.size() != params.size()) {
    violations.Add("two instances built alike visit different parameters");
    return violations.ToStatus(c, "parameters");
  }
  // Parameter shapes that change with shape.seq_len (a checkpoint is then
  // tied to its length) need capabilities.length_dependent_parameters.
  {
    ConformanceCase longer = c;
    longer.size.seq_len = 4 * c.size.seq_len + 64;
    absl::StatusOr<std::unique_ptr<Attention>> other =
        MakeInstance(longer, 0.0f);
    if (!other.ok()) return other.status();
    const std::vector<Parameter> others = ParametersOf(**other);
    std::string changed;
    for (size_t p = 0; p < std::max(params.size(), others.size()); ++p) {
      if (p >= params.size() || p >= others.size() ||
          params[p].value->shape() != others[p].value->shape()) {
        changed = p < params.size() && p < others.size()
                      ? absl::StrCat(params[p].name, " ",
                                     params[p].value->ShapeString(), " vs ",
                                     others[p].value->ShapeString())
                      : "the number of parameters";
        break;
      }
    }
    // The flag says a checkpoint may be tied to its length; some
    // configurations of such a plugin (e.g. a fixed random Synthesizer with a
    // learned mix) have no length-sized parameter, which is fine.
    if (!c.plugin->capabilities.length_dependent_parameters &&
        !changed.empty()) {
      violations.Add(absl::StrCat(
          "parameter shapes depend on the sequence length (", changed,
          " at N=", c.size.seq_len, " and N=", longer.size.seq_len,
          ") but capabilities.length_dependent_parameters is not set"));
    }
  }
  std::set<std::string> names;
  for (size_t p = 0; p < params.size(); ++p) {
    const Parameter& param = params[p];
    if (param.name.empty() || !names.insert(param.name).second) {
      violations.Add(absl::StrCat("parameter name '", param.name,
                                  "' is empty or visited twice"));
    }
    if (param.value->size() == 0 ||
        param.value->shape() != param.grad->shape()) {
      violations.Add(absl::StrCat("parameter ", param.name, ": value ",
                                  param.value->ShapeString(), " and grad ",
                                  param.grad->ShapeString(),
                                  " must have one non-empty shape"));
      continue;
    }
    for (int64_t e = 0; e < param.value->size(); ++e) {
      const float x = (*param.value)[e], y = (*twins[p].value)[e];
      if (!std::isfinite(x) || !SameBits(x, y)) {
        violations.Add(absl::StrFormat(
            "%s[%d] after InitParameters(17): %.9g in one instance, %.9g in "
            "another (must be finite and equal)",
            param.name, e, x, y));
      }
    }
  }
  if (params.empty() || violations.count() > 0) {
    return violations.ToStatus(c, "parameters");
  }
  // Backward adds into parameter gradients: a second Backward after the same
  // Forward doubles them.
  Attention& attention = *first;
  const ConformanceSize& s = c.size;
  const Inputs in = MakeInputs(c, 909, c.plugin->capabilities.key_padding_mask);
  const std::vector<float> r = Upstream(s, 910);
  const Result once = Run(attention, s, in, &r, true, 3);
  std::vector<float> dq(r.size()), dk(r.size()), dv(r.size()), dx(in.x.size());
  attention.Backward(r.data(),
                     {dq.data(), in.shared_qk ? nullptr : dk.data(), dv.data(),
                      in.layer_input ? dx.data() : nullptr});
  for (size_t p = 0; p < params.size(); ++p) {
    for (int64_t e = 0; e < params[p].grad->size(); ++e) {
      const double g1 = once.param_grads[p][e], g2 = (*params[p].grad)[e];
      if (!(std::fabs(g2 - 2 * g1) <= 1e-5 * std::fabs(g1) + 1e-7)) {
        violations.Add(absl::StrFormat(
            "grad of %s[%d] is %.9g after one Backward and %.9g after two "
            "(Backward must add into parameter gradients)",
            params[p].name, e, g1, g2));
      }
    }
  }
  return violations.ToStatus(c, "parameters");
}

const std::vector<ConformanceCheck>& ConformanceChecks() {
  static const auto* checks = new std::vector<ConformanceCheck>{
      {"OutputShapes", CheckOutputShapes},
      {"Gradients", CheckGradients},
      {"GradientsWithDropout", CheckGradientsWithDropout},
      {"PaddingInvariance", CheckPaddingInvariance},
      {"Causality", CheckCausality},
      {"Determinism", CheckDeterminism},
      {"BatchIndependence", CheckBatchIndependence},
      {"TrainingMatchesEval", CheckTrainingMatchesEval},
      {"DropoutApplied", CheckDropoutApplied},
      {"Parameters", CheckParameters},
  };
  return *checks;
}

const ConformanceCheck* FindConformanceCheck(const std::string& name) {
  for (const ConformanceCheck& check : ConformanceChecks()) {
    if (check.name == name) return &check;
  }
  return nullptr;
}

absl::Status RunConformanceCheck(const AttentionRegistry& registry,
                                 const std::string& name,
                                 const ConformanceCheck& check) {
  absl::StatusOr<const AttentionPlugin*> plugin = registry.Find(name);
  if (!plugin.ok()) return plugin.status();
  absl::StatusOr<std::vector<AttentionTestCase>> cases =
      ConformanceTestCases(**plugin);
  if (!cases.ok()) return cases.status();
  const AttentionExemption* exemption = FindExemption(**plugin, check.name);
  if (exemption != nullptr &&
      exemption->treatment == AttentionExemption::Treatment::kSkip) {
    return absl::OkStatus();  // declared, with its reason, in `lra list`
  }
  std::vector<std::string> failures;
  for (const AttentionTestCase& test_case : *cases) {
    for (const ConformanceSize& size : ConformanceSizes(test_case)) {
      ConformanceCase c;
      c.registry = &registry;
      c.plugin = *plugin;
      c.test_case = test_case;
      c.size = size;
      absl::Status status = check.run(c);
      if (!status.ok()) failures.push_back(std::string(status.message()));
    }
  }
  if (failures.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("attention '", name, "' fails conformance check ",
                   check.name, ":\n  ", absl::StrJoin(failures, "\n  ")));
}

}  // namespace lra
