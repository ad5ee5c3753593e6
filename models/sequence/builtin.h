// The sequence plugins shipped with the harness, listed in builtin.cc.
#ifndef LRA_MODELS_SEQUENCE_BUILTIN_H_
#define LRA_MODELS_SEQUENCE_BUILTIN_H_

#include <ostream>
#include <vector>

#include "models/sequence/sequence.h"

namespace lra {

// Every built-in sequence plugin, in a fixed order.
std::vector<SequencePlugin> BuiltinSequencePlugins();

// What `lra list` prints for the sequence plugins of `registry`.
void PrintSequencePlugins(const SequenceRegistry& registry, std::ostream& out);

// `rmt`'s plugin with the memory gradient between segments dropped: a wrong
// handler the tests must catch (tests only).
SequencePlugin BrokenRmtPluginForTesting();

}  // namespace lra

#endif  // LRA_MODELS_SEQUENCE_BUILTIN_H_
