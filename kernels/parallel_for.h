// The one parallel loop of the kernels (see kernels/parallel.h for the determinism rule it
// serves). Internal: included by kernel .cpp files only, so OpenMP pragmas stay out of headers
// that the rest of the tree includes.
#pragma once

#include <cstdint>
#include <exception>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace v4sim::detail {

/// Calls body(i, scratch) for i in [0, n), pieces handed out one at a time to the threads; thread
/// t uses per_thread[t] (resized to the thread count first) for all its pieces, so large buffers
/// are allocated once per thread, not per piece, and outlive the call: the next call finds them
/// allocated. The body must write only to piece i's own outputs and must not rely on what a
/// Scratch held before (a Scratch may serve any piece next time). The first exception a body
/// throws is rethrown here after the loop (OpenMP would otherwise terminate).
template <class Scratch, class Body>
void parallel_pieces(std::int64_t n, std::vector<Scratch>& per_thread, Body&& body) {
  std::exception_ptr error;
#ifdef _OPENMP
  const int threads = omp_get_max_threads();
#else
  const int threads = 1;
#endif
  if (static_cast<int>(per_thread.size()) < threads)
    per_thread.resize(static_cast<std::size_t>(threads));
#ifdef _OPENMP
#pragma omp parallel if (n > 1)
#endif
  {
#ifdef _OPENMP
    Scratch& scratch = per_thread[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 1)
#else
    Scratch& scratch = per_thread[0];
#endif
    for (std::int64_t i = 0; i < n; ++i) {
      try {
        body(i, scratch);
      } catch (...) {
#ifdef _OPENMP
#pragma omp critical(v4sim_parallel_pieces_error)
#endif
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

/// parallel_pieces with scratch for this call only (default-constructed, one per thread).
template <class Scratch, class Body>
void parallel_pieces(std::int64_t n, Body&& body) {
  std::vector<Scratch> per_thread;
  parallel_pieces(n, per_thread, body);
}

}  // namespace v4sim::detail
