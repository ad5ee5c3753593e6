#include "lra/peak_probe.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace lra {

double MeasureMatmulPeakGflops(int n, int repeats) {
  try {
    using dt = dnnl::memory::data_type;
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    const dnnl::memory::dims dims = {n, n};
    const dnnl::memory::desc md(dims, dt::f32, dnnl::memory::format_tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(md, md, md), engine);
    dnnl::matmul matmul(pd);
    std::vector<float> a(int64_t{n} * n), b(a.size()), c(a.size());  // [n, n]
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<float>(i % 7) * 0.125f;
      b[i] = static_cast<float>(i % 5) * 0.25f;
    }
    dnnl::memory a_mem(md, engine, a.data()), b_mem(md, engine, b.data()),
        c_mem(md, engine, c.data());
    double best = 0;
    for (int i = 0; i <= repeats; ++i) {
      const auto start = std::chrono::steady_clock::now();
      matmul.execute(stream, {{DNNL_ARG_SRC, a_mem},
                              {DNNL_ARG_WEIGHTS, b_mem},
                              {DNNL_ARG_DST, c_mem}});
      stream.wait();
      const double seconds = std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
      if (i == 0 || seconds <= 0) continue;  // The first run builds the JIT.
      best = std::max(best, 2.0 * n * n * n / seconds / 1e9);
    }
    return best;
  } catch (const dnnl::error&) {
    return 0;
  }
}

}  // namespace lra
