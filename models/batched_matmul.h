// Strided single-precision matrix products for attention plugins that work
// per (example, head): C (+)= A B with A and B read through arbitrary
// row/column strides (a transpose is just swapped strides, no copy) and C
// row-major. Register-tiled AVX-512 loops when the compiler targets it, plain
// loops otherwise. Nothing is allocated: a transposed B is packed into a
// fixed block on the stack.
//
// Matmul runs on the calling thread, so plugins call it inside their own
// `omp parallel for` over (example, head); the result of one product never
// depends on the thread count. BatchedMatmul spreads a batch of independent
// products over the OpenMP threads.
#ifndef LRA_MODELS_BATCHED_MATMUL_H_
#define LRA_MODELS_BATCHED_MATMUL_H_

#include <cstdint>

namespace lra {

// A read-only matrix view: element (i, j) is data[i * row_stride +
// j * col_stride].
struct StridedMatrix {
  const float* data = nullptr;
  int64_t row_stride = 0;
  int64_t col_stride = 1;
};

// Row-major [rows, cols] with `ld` floats between rows.
inline StridedMatrix RowMajor(const float* data, int64_t ld) {
  return {data, ld, 1};
}
// The transpose of a row-major matrix with `ld` floats between its rows:
// element (i, j) of the view is element (j, i) of the stored matrix.
inline StridedMatrix Transposed(const float* data, int64_t ld) {
  return {data, 1, ld};
}

// c [m, n] (rows ldc floats apart) = alpha a [m, k] b [k, n], or += when
// accumulate. k == 0 leaves c unchanged when accumulating and zeroes it
// otherwise.
void Matmul(int m, int n, int k, StridedMatrix a, StridedMatrix b, float* c,
            int64_t ldc, bool accumulate, float alpha = 1.0f);

// `batch` independent products: product t reads a.data + t * a_batch_stride
// and b.data + t * b_batch_stride (0 broadcasts one matrix to every product)
// and writes c + t * c_batch_stride. Parallel over the batch with OpenMP.
void BatchedMatmul(int batch, int m, int n, int k, StridedMatrix a,
                   int64_t a_batch_stride, StridedMatrix b,
                   int64_t b_batch_stride, float* c, int64_t ldc,
                   int64_t c_batch_stride, bool accumulate);

// Row helpers for the elementwise steps between products (softmax rows,
// feature maps), vectorised explicitly: GCC does not if-convert the
// branches of internal::FastExp, so a plain `omp simd` loop over it stays
// scalar. Same accuracy as FastExp (about 2 ulp); exp of -inf is 0.

// The largest of x [n] (-inf when n == 0).
float RowMax(const float* x, int64_t n);

// y [n] = exp(x - shift) * scale (y may be x, or nullptr for the sum only);
// returns the sum of the values.
float ExpShifted(const float* x, int64_t n, float shift, float scale, float* y);

}  // namespace lra

#endif  // LRA_MODELS_BATCHED_MATMUL_H_
