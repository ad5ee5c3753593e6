#include "models/mixers/isab/batched_matmul.h"

#include <utility>

#include "models/dnnl_context.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace lra {

struct BatchedMatmul::Entry {
  dnnl::matmul primitive;
  dnnl::memory a, b, c;
  // Built once: the C++ execute overload would build a fresh vector per call.
  dnnl_exec_arg_t args[3];
};

BatchedMatmul::BatchedMatmul() = default;
BatchedMatmul::~BatchedMatmul() = default;
BatchedMatmul::BatchedMatmul(BatchedMatmul&&) noexcept = default;
BatchedMatmul& BatchedMatmul::operator=(BatchedMatmul&&) noexcept = default;

void BatchedMatmul::Run(int64_t batch, int64_t m, int64_t k, int64_t n,
                        bool transpose_a, bool transpose_b, bool accumulate,
                        const float* a, const float* b, float* c) {
  using dt = dnnl::memory::data_type;
  using dims = dnnl::memory::dims;
  const Key key{batch, m, k, n, transpose_a, transpose_b, accumulate};
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    const dnnl::engine& engine = DnnlEngine();
    // A transposed operand is the same buffer described with swapped strides.
    dnnl::memory::desc a_md(
        {batch, m, k}, dt::f32,
        transpose_a ? dims{m * k, 1, m} : dims{m * k, k, 1});
    dnnl::memory::desc b_md(
        {batch, k, n}, dt::f32,
        transpose_b ? dims{k * n, 1, k} : dims{k * n, n, 1});
    dnnl::memory::desc c_md({batch, m, n}, dt::f32, dims{m * n, n, 1});
    dnnl::primitive_attr attr;
    if (accumulate) {
      dnnl::post_ops ops;
      ops.append_sum(1.0f);
      attr.set_post_ops(ops);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr,
                                    engine);
    auto entry = std::make_unique<Entry>();
    entry->primitive = dnnl::matmul(pd);
    entry->a = dnnl::memory(a_md, engine, DNNL_MEMORY_NONE);
    entry->b = dnnl::memory(b_md, engine, DNNL_MEMORY_NONE);
    entry->c = dnnl::memory(c_md, engine, DNNL_MEMORY_NONE);
    entry->args[0] = {DNNL_ARG_SRC, entry->a.get()};
    entry->args[1] = {DNNL_ARG_WEIGHTS, entry->b.get()};
    entry->args[2] = {DNNL_ARG_DST, entry->c.get()};
    it = entries_.emplace(key, std::move(entry)).first;
  }
  Entry& e = *it->second;
  e.a.set_data_handle(const_cast<float*>(a));
  e.b.set_data_handle(const_cast<float*>(b));
  e.c.set_data_handle(c);
  dnnl::stream& stream = DnnlStream();
  dnnl::error::wrap_c_api(
      dnnl_primitive_execute(e.primitive.get(), stream.get(), 3, e.args),
      "batched matmul execute");
  stream.wait();
}

}  // namespace lra
