// Buffers the attention cores (kernels/sparse_attention_forward.h, kernels/mla_attention_forward.h)
// reuse from call to call: each thread's scratch and a decode query's per-piece softmax states.
// Without one, every decode step allocated and zeroed them afresh - a 1M-context HCA decode makes
// 17 pieces of 128 to 256 KiB - and glibc handed those blocks back to the kernel on free, so every
// step page-faulted them in again (4-5 % of the V4-Flash HCA core's profile). A workspace carries
// no state between calls that reaches a result: any call may use any workspace, one call at a time.
#pragma once

#include <memory>

namespace v4sim {

namespace detail {
struct AttentionBuffers;  // kernels/attention_buffers.h, internal to the kernels
}

class AttentionWorkspace {
 public:
  AttentionWorkspace();
  ~AttentionWorkspace();
  /// A copy (and a move: no moved-from state to guard) starts empty: buffers are never shared,
  /// so an object and its copy may run at once.
  AttentionWorkspace(const AttentionWorkspace&);
  AttentionWorkspace& operator=(const AttentionWorkspace&);

  /// For the kernels.
  detail::AttentionBuffers& buffers() { return *buffers_; }

 private:
  std::unique_ptr<detail::AttentionBuffers> buffers_;
};

}  // namespace v4sim
