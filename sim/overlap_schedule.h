// Two-microbatch overlap as a schedule: the time a layer takes when two microbatches a and b
// share one compute stream and one communication stream, each waiting for what it depends on.
//
// Per microbatch a layer is a chain: attention (and the router) -> dispatch -> routed experts ->
// combine -> the next layer's attention. The shared experts (or a dense FFN) need only the
// layer's input and must finish before the next layer. With two microbatches on one compute
// stream the only order that lets either's communication overlap the other's compute is
//   compute:  A_a  A_b  M_a  M_b     (A attention, M routed experts)
//   comm:     d_a  d_b  c_a  c_b     (d dispatch, c combine)
// (starting with M or alternating A_a M_b A_b M_a leaves a microbatch's combine with nothing to
// hide behind: A_a would wait for c_a, which waits for the M_a just before it). So while a
// attends, b's combine runs; b's attention hides a's dispatch; a's experts hide b's dispatch; b's
// experts hide a's combine: DeepSeek's prefill and decode overlap (profile-data README) and
// SGLang's two-batch overlap issue the kernels in this order. Each microbatch's shared experts go
// where they hide best: right after its attention (beside its own dispatch, as SGLang's decode
// does) or right after its routed experts (beside its own combine).
//
// Every item starts when its stream is free and what it waits for has ended (the GPU runs the
// kernels in issue order and a kernel that needs another's data waits on its event). A step runs
// its layers from an empty pipeline to the end of the last combine: the first layer's first
// attention hides nothing, and the last layer's last transfer may be exposed. Once the pipeline
// is full every layer advances by the same period.
//
// Bounds a layer's period always meets: at least the compute of both microbatches, at least both
// microbatches' communication, at least one microbatch's chain A + d + M + c; at most the two
// run one after the other.
#pragma once

#include <cstdint>
#include <span>

namespace v4sim {

/// One microbatch's work in a layer (or a step's sums of it).
struct MicrobatchWork {
  double attention_s = 0;  // compute before the dispatch: attention, norms, router
  double shared_s = 0;     // compute that needs only the layer input: shared experts, dense FFN
  double experts_s = 0;    // compute between dispatch and combine: the routed experts
  double dispatch_s = 0;   // communication from the attention to the experts
  double combine_s = 0;    // communication from the experts to the next layer
  double compute_s() const { return attention_s + shared_s + experts_s; }
  double communication_s() const { return dispatch_s + combine_s; }
};

/// The time of `layers` layers, each with microbatches `a` and `b` overlapped as above, from an
/// empty pipeline to the last event's end; each microbatch's shared experts are placed where
/// that time is shortest. 0 for no layers.
double two_microbatch_time_s(const MicrobatchWork& a, const MicrobatchWork& b, std::int64_t layers);

/// `layers` consecutive layers of one kind: the same work per microbatch in each.
struct LayerRun {
  MicrobatchWork a, b;
  std::int64_t layers = 0;
};

/// A step whose layers are not all alike, run by run in order through one pipeline: DeepSeek-V3's
/// three dense layers have nothing to send, so their compute hides none of the MoE layers'
/// exchanges, and the model-level ops (LM head) wait for the last combine. The pipeline carries
/// over from one run to the next; within a run each microbatch's shared experts keep one place,
/// chosen, over every run's choices together, for the shortest step. A single run is
/// two_microbatch_time_s(a, b, layers).
double two_microbatch_time_s(std::span<const LayerRun> runs);

}  // namespace v4sim
