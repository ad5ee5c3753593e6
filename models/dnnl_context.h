// The process-wide oneDNN CPU engine and stream shared by every primitive.
#ifndef LRA_MODELS_DNNL_CONTEXT_H_
#define LRA_MODELS_DNNL_CONTEXT_H_

#include "oneapi/dnnl/dnnl.hpp"

namespace lra {

// Both are created on first use (thread-safe static initialisation) and live
// until exit; oneDNN engines and in-order streams are cheap to share.
const dnnl::engine& DnnlEngine();
dnnl::stream& DnnlStream();

}  // namespace lra

#endif  // LRA_MODELS_DNNL_CONTEXT_H_
