#include "kernels/parallel.h"

#include <algorithm>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace v4sim {

bool kernels_have_threads() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

int kernel_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

KernelThreads::KernelThreads(int n) : previous_(kernel_threads()) {
#ifdef _OPENMP
  omp_set_num_threads(std::max(n, 1));
#else
  (void)n;
#endif
}

KernelThreads::~KernelThreads() {
#ifdef _OPENMP
  omp_set_num_threads(previous_);
#endif
}

}  // namespace v4sim
