// The machine's cores, for the `threads` settings where 0 means all of them.
#ifndef LRA_UTIL_CPU_H_
#define LRA_UTIL_CPU_H_

namespace lra {

// The cores online now (at least 1).
int OnlineCores();

// `threads` when > 0, else OnlineCores(): what "threads = 0: all cores"
// resolves to.
int ThreadsOrAllCores(int threads);

}  // namespace lra

#endif  // LRA_UTIL_CPU_H_
