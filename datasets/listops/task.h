// The ListOps task as the registry in //datasets:dataset sees it: LRA's
// defaults, config validation and the Dataset factory (generated splits, or
// LRA's TSV files when the config names them).
//
// kTaskEntry.resolve_params fills zero ("unset" in proto3) fields of
// task.listops with LRA's defaults (max_depth 10, min_args 2, max_args 10,
// operator_prob 0.25, min_length 500, max_length 2000), creating the message
// if needed, then validates it; errors name the field as
// "task.listops.FIELD". Task-wide fields (seq_len, sizes) are left to the
// registry. kTaskEntry.make builds one split of a resolved config: read from
// the split's TSV file when set (first `size` rows; relative paths are
// resolved against `workspace_dir`), otherwise generated.
#ifndef LRA_DATASETS_LISTOPS_TASK_H_
#define LRA_DATASETS_LISTOPS_TASK_H_

#include "datasets/common/task_entry.h"

namespace lra {
namespace listops {

// The task's entry in the registry, defined in task.cc.
extern const TaskEntry kTaskEntry;

}  // namespace listops
}  // namespace lra

#endif  // LRA_DATASETS_LISTOPS_TASK_H_
