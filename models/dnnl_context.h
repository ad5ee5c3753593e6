// The process-wide oneDNN CPU engine and stream shared by every primitive.
#ifndef LRA_MODELS_DNNL_CONTEXT_H_
#define LRA_MODELS_DNNL_CONTEXT_H_

#include "oneapi/dnnl/dnnl.hpp"

namespace lra {

// The engine is created on first use (thread-safe static initialisation) and
// shared; the stream is per calling thread. Both live until exit.
const dnnl::engine& DnnlEngine();
dnnl::stream& DnnlStream();

}  // namespace lra

#endif  // LRA_MODELS_DNNL_CONTEXT_H_
