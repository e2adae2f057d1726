// Threads of the reference kernels.
//
// A parallel kernel splits its work into pieces fixed by the shape (key blocks, queries, experts,
// head groups), never by the thread count, and combines the pieces' results in a fixed order;
// threads only decide who computes which piece. Any thread count therefore gives the same bits as
// one thread (tests/kernels/threads_test.cpp checks every parallel kernel). Eigen's own threading
// stays off (EIGEN_DONT_PARALLELIZE, set with the kernels' OpenMP flags): its parallel GEMM
// re-derives the k-blocking for the thread count and so changes the summation order
// (kernels/bench/host_ceilings.h).
//
// Built without OpenMP, every loop runs on the calling thread and kernel_threads() is 1.
#pragma once

namespace v4sim {

/// True when the kernels were built with OpenMP.
bool kernels_have_threads();

/// Threads a parallel kernel started from the calling thread will use (OpenMP's nthreads
/// setting: OMP_NUM_THREADS, else the hardware threads; always 1 without OpenMP).
int kernel_threads();

/// Sets kernel_threads() for kernels started from the calling thread while it lives, then
/// restores the previous value. n < 1 is taken as 1.
class KernelThreads {
 public:
  explicit KernelThreads(int n);
  ~KernelThreads();
  KernelThreads(const KernelThreads&) = delete;
  KernelThreads& operator=(const KernelThreads&) = delete;

 private:
  int previous_;
};

}  // namespace v4sim
