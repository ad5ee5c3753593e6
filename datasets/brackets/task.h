// The long-distance bracket matching task (beyond LRA; see generator.h) as
// the registry in //datasets:dataset sees it. Difficulty is set by length:
// by default sequences fill seq_len / 2 to seq_len and the swapped pairs of
// negatives span at least a quarter of the shortest length.
//
// kTaskEntry.resolve_params fills zero fields of task.brackets (max_length =
// seq_len, min_length = max_length / 2, max_depth = max_length / 2, i.e. no
// limit, min_span = min_length / 4) and validates them; errors name the field
// as "task.brackets.FIELD". kTaskEntry.make builds one split of a resolved
// config.
#ifndef LRA_DATASETS_BRACKETS_TASK_H_
#define LRA_DATASETS_BRACKETS_TASK_H_

#include "datasets/common/task_entry.h"

namespace lra {
namespace brackets {

// The task's entry in the registry, defined in task.cc.
extern const TaskEntry kTaskEntry;

}  // namespace brackets
}  // namespace lra

#endif  // LRA_DATASETS_BRACKETS_TASK_H_
