// A short measurement of this machine's fp32 matmul peak through oneDNN, so
// that `lra bench` can say what fraction of it a training step reached: a
// figure that travels between machines, unlike a step time.
#ifndef LRA_PEAK_PROBE_H_
#define LRA_PEAK_PROBE_H_

namespace lra {

// GFLOP/s of the fastest of `repeats` square fp32 [n, n] x [n, n] oneDNN
// matmuls (2 n^3 FLOPs each) on the current OpenMP thread count, after one
// untimed run that builds the primitive. Returns 0 when oneDNN fails.
double MeasureMatmulPeakGflops(int n = 1024, int repeats = 5);

}  // namespace lra

#endif  // LRA_PEAK_PROBE_H_
