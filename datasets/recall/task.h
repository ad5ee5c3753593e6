// The associative recall task (beyond LRA; see generator.h) as the registry
// in //datasets:dataset sees it. Difficulty is set by length: by default
// the pairs fill task.seq_len.
//
// kTaskEntry.resolve_params fills zero fields of task.recall (key_length 2,
// num_values 10; num_pairs as many as fit in task.seq_len, e.g. 340 for
// 1024) and validates them; errors name the field as "task.recall.FIELD".
// kTaskEntry.make builds one split of a resolved config.
#ifndef LRA_DATASETS_RECALL_TASK_H_
#define LRA_DATASETS_RECALL_TASK_H_

#include "datasets/common/task_entry.h"

namespace lra {
namespace recall {

// The task's entry in the registry, defined in task.cc.
extern const TaskEntry kTaskEntry;

}  // namespace recall
}  // namespace lra

#endif  // LRA_DATASETS_RECALL_TASK_H_
