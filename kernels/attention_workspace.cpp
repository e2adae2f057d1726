#include "kernels/attention_workspace.h"

#include "kernels/attention_buffers.h"

namespace v4sim {

AttentionWorkspace::AttentionWorkspace() : buffers_(std::make_unique<detail::AttentionBuffers>()) {}
AttentionWorkspace::~AttentionWorkspace() = default;
AttentionWorkspace::AttentionWorkspace(const AttentionWorkspace&) : AttentionWorkspace() {}
AttentionWorkspace& AttentionWorkspace::operator=(const AttentionWorkspace& other) {
  if (this != &other) buffers_ = std::make_unique<detail::AttentionBuffers>();
  return *this;
}

}  // namespace v4sim
