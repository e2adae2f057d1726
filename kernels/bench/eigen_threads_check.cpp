// v4sim_eigen_threads_check: does Eigen's own OpenMP GEMM pay on this machine, and is it bitwise
// equal to one thread? A separate tool, built with OpenMP and linked with nothing else of v4sim:
// turning OpenMP on for Eigen changes its template code, which must not be mixed with the
// kernels' (single-threaded) instantiations in one binary.
//
// Finding it documents (see kernels/bench/host_ceilings.h): faster with two threads, but NOT
// bitwise equal once the depth exceeds ~320, because Eigen's parallel session recomputes the
// k-blocking for the thread count (GeneralBlockPanelKernel.h, evaluateProductBlockingSizesHeuristic
// with num_threads > 1 caps kc at 320), which changes the order of the additions.
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace {

using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Fastest of `reps` products c = a b^T on `threads` threads (wall clock).
double best_seconds(const RowMatrixXf& a, const RowMatrixXf& b, RowMatrixXf& c, int threads,
                    int reps) {
  Eigen::setNbThreads(threads);
  c.noalias() = a * b.transpose();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now();
    c.noalias() = a * b.transpose();
    best = std::min(best, now() - t0);
  }
  return best;
}

void check(long m, long n, long k) {
  const RowMatrixXf a = RowMatrixXf::Random(m, k), b = RowMatrixXf::Random(n, k);
  RowMatrixXf one(m, n), two(m, n);
  const double t1 = best_seconds(a, b, one, 1, 5);
  const double t2 = best_seconds(a, b, two, 2, 5);
  double max_diff = 0, max_abs = 0;
  long differ = 0;
  for (long i = 0; i < one.size(); ++i) {
    const float x = one.data()[i], y = two.data()[i];
    if (std::memcmp(&x, &y, sizeof x) != 0) ++differ;
    max_diff = std::max(max_diff, std::fabs(double(y) - double(x)));
    max_abs = std::max(max_abs, std::fabs(double(x)));
  }
  const double flops = 2.0 * double(m) * double(n) * double(k);
  std::printf(
      "m=%-5ld n=%-5ld k=%-5ld 1 thread %6.1f GFLOP/s  2 threads %6.1f GFLOP/s  (x%.2f)  "
      "elements differing %ld of %ld, max |diff| / max |c| %.2g\n",
      m, n, k, flops / t1 / 1e9, flops / t2 / 1e9, t1 / t2, differ, long(one.size()),
      max_abs > 0 ? max_diff / max_abs : 0.0);
}

}  // namespace

int main() {
  std::printf("Eigen %d.%d.%d, SIMD %s, OpenMP max threads %d\n", EIGEN_WORLD_VERSION,
              EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION, Eigen::SimdInstructionSetsInUse(),
              omp_get_max_threads());
  check(1024, 1024, 256);   // depth below the 2-thread kc cap
  check(1024, 1024, 1024);  // square
  check(384, 2048, 4096);   // an expert GEMM of a 512-token MoE batch
  return 0;
}
