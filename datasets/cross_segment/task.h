// The cross-segment carry task (beyond LRA; see generator.h) as the
// registry in //datasets:dataset sees it: the label is in the first
// key_length tokens, the rest of task.seq_len is filler.
//
// kTaskEntry.resolve_params fills zero fields of task.cross_segment
// (key_length 1, num_values 10) and validates them; errors name the field as
// "task.cross_segment.FIELD". kTaskEntry.make builds one split of a resolved
// config.
#ifndef LRA_DATASETS_CROSS_SEGMENT_TASK_H_
#define LRA_DATASETS_CROSS_SEGMENT_TASK_H_

#include "datasets/common/task_entry.h"

namespace lra {
namespace cross_segment {

// The task's entry in the registry, defined in task.cc.
extern const TaskEntry kTaskEntry;

}  // namespace cross_segment
}  // namespace lra

#endif  // LRA_DATASETS_CROSS_SEGMENT_TASK_H_
