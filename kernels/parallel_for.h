// The one parallel loop of the kernels (see kernels/parallel.h for the determinism rule it
// serves). Internal: included by kernel .cpp files only, so OpenMP pragmas stay out of headers
// that the rest of the tree includes.
#pragma once

#include <cstdint>
#include <exception>

namespace v4sim::detail {

/// Calls body(i, scratch) for i in [0, n), pieces handed out one at a time to the threads; each
/// thread owns one default-constructed Scratch for all its pieces (so large buffers are allocated
/// once per thread, not per piece). The body must write only to piece i's own outputs. The first
/// exception a body throws is rethrown here after the loop (OpenMP would otherwise terminate).
template <class Scratch, class Body>
void parallel_pieces(std::int64_t n, Body&& body) {
  std::exception_ptr error;
#ifdef _OPENMP
#pragma omp parallel if (n > 1)
#endif
  {
    Scratch scratch;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
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

}  // namespace v4sim::detail
