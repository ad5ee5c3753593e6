#include "models/linear.h"

#include <utility>

#include "models/dnnl_context.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace lra {

struct MatmulCache::Entry {
  dnnl::matmul primitive;
  dnnl::memory a, b, c, bias;
  // Arguments for the C execute call, built once: the C++ overload would
  // convert an unordered_map into a fresh vector on every call.
  dnnl_exec_arg_t args[4];
  int num_args = 0;
};

MatmulCache::MatmulCache() = default;
MatmulCache::~MatmulCache() = default;
MatmulCache::MatmulCache(MatmulCache&&) noexcept = default;
MatmulCache& MatmulCache::operator=(MatmulCache&&) noexcept = default;

MatmulCache::Entry& MatmulCache::Find(int64_t batch, int64_t m, int64_t k,
                                      int64_t n, bool transpose_a,
                                      bool transpose_b, bool accumulate,
                                      bool has_bias) {
  using dt = dnnl::memory::data_type;
  using dims = dnnl::memory::dims;
  const Key key{batch, m, k, n, transpose_a, transpose_b, accumulate, has_bias};
  auto it = entries_.find(key);
  if (it != entries_.end()) return *it->second;
  const dnnl::engine& engine = DnnlEngine();
  // Transposed operands are the same buffers described with swapped strides;
  // a batch adds a leading dimension of whole matrices.
  const bool batched = batch > 0;
  auto desc = [&](int64_t rows, int64_t cols, dims strides) {
    if (!batched) return dnnl::memory::desc({rows, cols}, dt::f32, strides);
    strides.insert(strides.begin(), rows * cols);
    return dnnl::memory::desc({batch, rows, cols}, dt::f32, strides);
  };
  dnnl::memory::desc a_md = desc(m, k, transpose_a ? dims{1, m} : dims{k, 1});
  dnnl::memory::desc b_md = desc(k, n, transpose_b ? dims{1, k} : dims{n, 1});
  dnnl::memory::desc c_md = desc(m, n, dims{n, 1});
  dnnl::memory::desc bias_md({1, n}, dt::f32, dims{n, 1});
  dnnl::primitive_attr attr;
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::desc matmul_desc =
      has_bias ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md)
               : dnnl::matmul::desc(a_md, b_md, c_md);
  dnnl::matmul::primitive_desc pd(matmul_desc, attr, engine);
  auto entry = std::make_unique<Entry>();
  entry->primitive = dnnl::matmul(pd);
  entry->a = dnnl::memory(a_md, engine, DNNL_MEMORY_NONE);
  entry->b = dnnl::memory(b_md, engine, DNNL_MEMORY_NONE);
  entry->c = dnnl::memory(c_md, engine, DNNL_MEMORY_NONE);
  entry->args[0] = {DNNL_ARG_SRC, entry->a.get()};
  entry->args[1] = {DNNL_ARG_WEIGHTS, entry->b.get()};
  entry->args[2] = {DNNL_ARG_DST, entry->c.get()};
  entry->num_args = 3;
  if (has_bias) {
    entry->bias = dnnl::memory(bias_md, engine, DNNL_MEMORY_NONE);
    entry->args[3] = {DNNL_ARG_BIAS, entry->bias.get()};
    entry->num_args = 4;
  }
  return *entries_.emplace(key, std::move(entry)).first->second;
}

void MatmulCache::Execute(Entry& e, const float* a, const float* b,
                          const float* bias, float* c) {
  // `args` holds these memory objects' handles, so setting the pointers here
  // updates the arguments without rebuilding anything.
  e.a.set_data_handle(const_cast<float*>(a));
  e.b.set_data_handle(const_cast<float*>(b));
  e.c.set_data_handle(c);
  if (bias != nullptr) e.bias.set_data_handle(const_cast<float*>(bias));
  dnnl::stream& stream = DnnlStream();
  dnnl::error::wrap_c_api(
      dnnl_primitive_execute(e.primitive.get(), stream.get(), e.num_args,
                             e.args),
      "matmul execute");
  stream.wait();
}

void MatmulCache::Run(int64_t m, int64_t k, int64_t n, bool transpose_a,
                      bool transpose_b, bool accumulate, const float* a,
                      const float* b, const float* bias, float* c) {
  Execute(Find(/*batch=*/0, m, k, n, transpose_a, transpose_b, accumulate,
               bias != nullptr),
          a, b, bias, c);
}

void MatmulCache::RunBatched(int64_t batch, int64_t m, int64_t k, int64_t n,
                             bool transpose_a, bool transpose_b,
                             bool accumulate, const float* a, const float* b,
                             float* c) {
  if (batch <= 0) return;  // No products (batch 0 is Run's key).
  Execute(Find(batch, m, k, n, transpose_a, transpose_b, accumulate,
               /*has_bias=*/false),
          a, b, nullptr, c);
}

namespace {

// Calls fn(begin, count) for the row chunks of `m` rows (see RowCount).
template <typename Fn>
void ForEachRowChunk(int64_t m, RowCount rows, Fn fn) {
  if (rows == RowCount::kFixed) {
    fn(0, m);
    return;
  }
  constexpr int64_t kUnit = 64;
  int64_t begin = 0;
  const int64_t units = m / kUnit;
  for (int bit = 62; bit >= 0; --bit) {
    if (((units >> bit) & 1) == 0) continue;
    const int64_t count = kUnit << bit;
    fn(begin, count);
    begin += count;
  }
  if (begin < m) fn(begin, m - begin);
}

}  // namespace

void Linear::Forward(const float* x, const float* w, const float* b, float* y,
                     int64_t m, RowCount rows) {
  ForEachRowChunk(m, rows, [&](int64_t begin, int64_t count) {
    forward_.Run(count, in_, out_, false, false, false, x + begin * in_, w, b,
                 y + begin * out_);
  });
}

void Linear::BackwardInput(const float* dy, const float* w, float* dx,
                           int64_t m, bool accumulate, RowCount rows) {
  // dx [M, K] = dy [M, N] * (w [K, N])^T.
  ForEachRowChunk(m, rows, [&](int64_t begin, int64_t count) {
    backward_input_.Run(count, out_, in_, false, true, accumulate,
                        dy + begin * out_, w, nullptr, dx + begin * in_);
  });
}

void Linear::BackwardParams(const float* x, const float* dy, float* dw,
                            float* db, int64_t m, RowCount rows) {
  // dw [K, N] += (x [M, K])^T * dy [M, N], chunk by chunk.
  ForEachRowChunk(m, rows, [&](int64_t begin, int64_t count) {
    backward_weights_.Run(in_, count, out_, true, false, true, x + begin * in_,
                          dy + begin * out_, nullptr, dw);
  });
  if (db == nullptr) return;
  // Row by row so that the loop over columns vectorises.
  for (int64_t i = 0; i < m; ++i) {
    const float* row = dy + i * out_;
#pragma omp simd
    for (int64_t j = 0; j < out_; ++j) db[j] += row[j];
  }
}

}  // namespace lra
