#include "models/attention/testing/qkv_testing.h"

#include <tuple>

#include "models/internal/grad_check.h"

namespace lra {

::testing::AssertionResult CheckQkvGradients(
    Attention& attention, int batch, const uint8_t* key_mask,
    std::vector<float>& q, std::vector<float>& k, std::vector<float>& v,
    const std::vector<float>& r, int max_entries) {
  const int64_t count = static_cast<int64_t>(q.size());
  std::vector<float> out(count);
  auto f = [&]() {
    attention.Forward({q.data(), k.data(), v.data(), key_mask, batch, false, 0},
                      out.data());
    double s = 0;
    for (int64_t i = 0; i < count; ++i) s += double(out[i]) * r[i];
    return s;
  };
  f();
  std::vector<float> dq(count), dk(count), dv(count);
  attention.Backward(r.data(), {dq.data(), dk.data(), dv.data()});
  internal::GradCheckOptions options;
  options.epsilon = 1e-2f;
  options.max_entries = max_entries;
  for (auto [name, x, dx] : {std::tuple{"q", &q, &dq}, std::tuple{"k", &k, &dk},
                             std::tuple{"v", &v, &dv}}) {
    ::testing::AssertionResult result =
        internal::CheckGradient(name, f, x->data(), count, dx->data(), options);
    if (!result) return result;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace lra
