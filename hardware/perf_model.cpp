#include "hardware/perf_model.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "hardware/perf_internal.h"
#include "models/config/data_paths.h"
#include "models/config/input_error.h"

namespace v4sim {
namespace {

using perf_detail::evaluate_prepared;
using perf_detail::fixed_distance;
using perf_detail::nearest_group;
using perf_detail::prepare_table;
using perf_detail::Prepared;

bool table_fits(const PerfTable& t, const KernelCall& c, bool same_precision) {
  if (t.kernel != c.kernel) return false;
  if (c.kernel == KernelClass::grouped_gemm) {
    const std::string layout = t.word_or("layout", "");
    if (layout != "any" && layout != (c.masked ? "masked" : "contiguous")) return false;
    // A fused MoE table times one expert shape (hidden, inter): the call's gate/up GEMM is
    // n = 2 x inter, k = hidden, its down GEMM n = hidden, k = inter.
    if (t.word_or("ffn", "gemm") == "fused_moe") {
      const double hidden = c.ffn_down ? c.n : c.k, inter = c.ffn_down ? c.k : c.n / 2;
      if (hidden != t.fixed_or("hidden", 0) || inter != t.fixed_or("inter", 0)) return false;
    }
  }
  if ((c.kernel == KernelClass::dispatch || c.kernel == KernelClass::combine) &&
      t.word_or("mode", "") != (c.low_latency ? "low_latency" : "normal"))
    return false;
  if (!is_communication(c.kernel) && same_precision && t.precision != c.precision) return false;
  return true;
}

DeviceSpeeds speeds_of(const Accelerator& a) {
  return {a.peak_flops_per_s(ComputePath::bf16), a.hbm_bytes_per_s()};
}

/// Ranks siblings by how alike their peaks and bandwidths are.
double device_distance(const DeviceSpeeds& a, const DeviceSpeeds& b) {
  const auto ratio = [](double x, double y) {
    return x > 0 && y > 0 ? std::abs(std::log(x / y)) : 10.0;
  };
  return ratio(a.bf16_flops_per_s, b.bf16_flops_per_s) +
         ratio(a.hbm_bytes_per_s, b.hbm_bytes_per_s);
}

}  // namespace

std::string_view to_string(TimeSource s) {
  switch (s) {
    case TimeSource::measured:
      return "measured";
    case TimeSource::transferred:
      return "transferred";
    case TimeSource::roofline:
      return "roofline";
  }
  return "?";
}

double ideal_time_s(const Accelerator& device, const Cost& cost) {
  double compute = 0;
  for (Precision p : kAllPrecisions) {
    const double flops = static_cast<double>(cost.flops_at(p));
    if (flops <= 0) continue;
    const double peak = device.peak_flops_per_s(device.path_for[static_cast<int>(p)]);
    if (peak > 0) compute += flops / peak;
  }
  const double memory = static_cast<double>(cost.total_bytes()) / device.hbm_bytes_per_s();
  return std::max(compute, memory);
}

struct PerfModel::Impl {
  /// One measured device: its tables, loaded one kernel class at a time on first use.
  struct Source {
    Accelerator device;
    std::filesystem::path folder;    // <perf dir>/<device>: the first search folder that has it
    std::vector<std::string> stems;  // table files of the folder, listed once
    bool listed = false;
    bool device_loaded = false;  // siblings: the accelerator file is read when first needed
    std::string vendor;          // siblings: peek_vendor() before the file is read
    /// Siblings: what ranks them, peek_speeds() before the file is read (by_coverage), else the
    /// loaded device's.
    std::optional<DeviceSpeeds> speeds;
    std::array<bool, kNumKernelClasses> loaded{};
    std::vector<std::unique_ptr<PerfTable>> tables;
    std::vector<std::unique_ptr<Prepared>> prepared;  // parallel to tables, filled on first use
    /// Dispatch and combine tables of a loaded class not read yet: their shape from
    /// peek_table_shape(), loaded when a call's nearest shapes include theirs (load_nearest).
    std::vector<PerfTable> pending;
    /// The device's smallest measured GEMM time (else the table's own smallest): its launch and
    /// pipeline-fill floor, which no op goes below and which a transfer keeps.
    double floor_s = -1;
    /// Collective classes not loaded yet: the group sizes (ep or ranks) their CSVs hold, read
    /// without the YAML; empty when a file could not be read that way.
    std::array<std::optional<std::vector<double>>, kNumKernelClasses> group_sizes;
  };
  /// What a lookup found, before the call's own ideal time is applied (memoised by shape).
  struct Found {
    PerfEstimate estimate;  // time_s: collectives only
    double efficiency = 0;  // compute classes
    double floor_s = 0;
  };

  Accelerator target;
  SiblingSearch search = SiblingSearch::by_coverage;
  std::vector<std::filesystem::path> perf_dirs;  // search order
  std::filesystem::path accelerators_dir;        // empty: the search path
  Source own;
  bool siblings_listed = false;
  std::vector<std::unique_ptr<Source>> siblings;  // nearest first
  using MemoKey = LookupKey;                      // lookup_key(call): perf_model.h
  /// Memo<Key, Value>: values by key, made the first time a key is asked for. Open addressing
  /// with linear probing over a power-of-two array of (hash, entry index) slots, the entries in a
  /// deque so that references to them stay valid as it grows. A search asks it once per op and
  /// point, so a probe is an array read and one hash compare, where a node-based map divided by
  /// its bucket count and chased two pointers.
  template <typename Key, typename Value>
  class Memo {
   public:
    /// The entry of `key`, made by `make()` the first time it is asked for.
    template <typename Make>
    const Value& get(const Key& key, Make&& make) {
      if (2 * (entries_.size() + 1) > slots_.size()) grow();
      const std::uint64_t h = hash(key);
      for (std::size_t i = slot_of(h);; i = (i + 1) & (slots_.size() - 1)) {
        Slot& s = slots_[i];
        if (s.index == kEmpty) {
          entries_.push_back({key, make()});
          s = {h, static_cast<std::uint32_t>(entries_.size() - 1)};
          return entries_.back().value;
        }
        // Bitwise equality: a key is a copy of the call's fields, never NaN.
        if (s.hash == h && std::memcmp(entries_[s.index].key.data(), key.data(), sizeof(Key)) == 0)
          return entries_[s.index].value;
      }
    }

   private:
    static constexpr std::uint32_t kEmpty = ~std::uint32_t{0};
    struct Slot {
      std::uint64_t hash = 0;
      std::uint32_t index = kEmpty;
    };
    struct Entry {
      Key key;
      Value value;
    };
    // Independent multiplies that pipeline, one per field.
    static std::uint64_t hash(const Key& k) {
      std::uint64_t h = 0;
      for (std::size_t i = 0; i < k.size(); ++i) {
        std::uint64_t bits = 0;
        std::memcpy(&bits, &k[i], sizeof bits);
        h += (bits ^ (bits >> 31)) * (0x9E3779B97F4A7C15ull + 2 * i);
      }
      return h ^ (h >> 29);
    }
    // The top bits of a Fibonacci product: every bit of the hash moves the slot.
    std::size_t slot_of(std::uint64_t h) const {
      return static_cast<std::size_t>((h * 0x9E3779B97F4A7C15ull) >> shift_);
    }
    void grow() {
      const std::size_t size = slots_.empty() ? 256 : 2 * slots_.size();
      shift_ = 64 - std::countr_zero(size);
      std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(size));
      for (const Slot& s : old) {
        if (s.index == kEmpty) continue;
        std::size_t i = slot_of(s.hash);
        while (slots_[i].index != kEmpty) i = (i + 1) & (size - 1);
        slots_[i] = s;
      }
    }

    std::vector<Slot> slots_;
    std::deque<Entry> entries_;
    int shift_ = 64;
  };
  /// The memoised lookups by lookup_key().
  Memo<MemoKey, Found> memo;
  /// Shapes (lookup_key() with the fields a point sets zeroed) by id, and the memoised lookups
  /// by (shape, the fields a point sets): pointers into `memo`.
  Memo<MemoKey, std::uint32_t> shapes;
  std::uint32_t num_shapes = 0;
  using PointKey = std::array<double, 5>;
  Memo<PointKey, const Found*> by_shape;
  /// ideal_time_s()'s figures of the target: the peak each precision runs at, and HBM bandwidth.
  std::array<double, kNumPrecisions> ideal_peak_flops_per_s{};
  double ideal_hbm_bytes_per_s = 0;

  /// ideal_time_s(target, cost), on the figures above (the same operations on the same operands).
  double ideal_s(const Cost& cost) const {
    double compute = 0;
    for (int p = 0; p < kNumPrecisions; ++p) {
      const double flops = static_cast<double>(cost.flops[static_cast<std::size_t>(p)]);
      if (flops <= 0) continue;
      const double peak = ideal_peak_flops_per_s[static_cast<std::size_t>(p)];
      if (peak > 0) compute += flops / peak;
    }
    const double memory = static_cast<double>(cost.total_bytes()) / ideal_hbm_bytes_per_s;
    return std::max(compute, memory);
  }

  /// The call's time from its memoised lookup (estimate(call, time_s)).
  const PerfEstimate& time_of(const Found& f, const KernelCall& call, double& time_s) const {
    time_s = f.estimate.time_s;
    if (f.estimate.found && !is_communication(call.kernel)) {
      const double ideal = ideal_s(call.cost);
      time_s = f.efficiency > 0 ? std::max(ideal / f.efficiency, f.floor_s) : f.floor_s;
    }
    return f.estimate;
  }

  /// The device's folder (the first search folder that has one) and its table files.
  void list(Source& s) {
    if (s.listed) return;
    s.listed = true;
    std::error_code ec;
    for (const std::filesystem::path& dir : perf_dirs)
      if (std::filesystem::is_directory(dir / s.device.name, ec)) {
        s.folder = dir / s.device.name;
        s.stems = list_table_stems(s.folder);
        break;
      }
  }

  void load_class(Source& s, KernelClass k) {
    list(s);
    if (s.loaded[static_cast<int>(k)]) return;
    s.loaded[static_cast<int>(k)] = true;
    const bool peek = search == SiblingSearch::by_coverage &&
                      (k == KernelClass::dispatch || k == KernelClass::combine);
    for (const std::string& stem : s.stems) {
      if (!stem_names_class(stem, k)) continue;
      if (peek)
        if (std::optional<PerfTable> shape = peek_table_shape(s.folder, stem, k)) {
          s.pending.push_back(std::move(*shape));
          continue;
        }
      s.tables.push_back(std::make_unique<PerfTable>(load_perf_table(s.folder / (stem + ".yaml"))));
      s.prepared.emplace_back();
    }
  }

  /// Loads the pending tables find() could choose for `c`. find() keeps the first table at the
  /// smallest shape distance, and a later one only within 1e-9 of the distance kept so far, so
  /// its answer lies among the fitting tables whose distances chain up from the smallest in
  /// steps of at most 1e-9; a table beyond a larger gap is passed over wherever it stands in
  /// the scan (every table of the chain is nearer by more than 1e-9). Loading the chain (with a
  /// step of 1e-6 for margin), each table at its place in file order among its class, leaves
  /// find() the same choice as loading every table. A peeked shape is the loader's own
  /// (tests/hardware/perf_lookup_test.cpp).
  void load_nearest(Source& s, const KernelCall& c) {
    if (s.pending.empty()) return;
    std::vector<double> d;
    for (const auto& t : s.tables)
      if (table_fits(*t, c, true)) d.push_back(fixed_distance(*t, c));
    for (const PerfTable& t : s.pending)
      if (table_fits(t, c, true)) d.push_back(fixed_distance(t, c));
    if (d.empty()) return;
    std::sort(d.begin(), d.end());
    double reach = d.front();
    for (double x : d)
      if (x <= reach + 1e-6) reach = x;
    for (std::size_t i = 0; i < s.pending.size();) {
      const PerfTable& t = s.pending[i];
      if (!table_fits(t, c, true) || fixed_distance(t, c) > reach) {
        ++i;
        continue;
      }
      // Before the first loaded table of its class named after it, else after the class's last.
      std::size_t at = s.tables.size();
      for (std::size_t j = 0; j < s.tables.size(); ++j)
        if (s.tables[j]->kernel == t.kernel) {
          at = j + 1;
          if (s.tables[j]->name > t.name) {
            at = j;
            break;
          }
        }
      auto table = std::make_unique<PerfTable>(load_perf_table(s.folder / (t.name + ".yaml")));
      s.tables.insert(s.tables.begin() + static_cast<std::ptrdiff_t>(at), std::move(table));
      s.prepared.insert(s.prepared.begin() + static_cast<std::ptrdiff_t>(at), nullptr);
      s.pending.erase(s.pending.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  /// Every other measured accelerator's folder, listed (cheap); an accelerator file is read only
  /// when its folder holds a table of a class the target lacks.
  void list_siblings() {
    if (siblings_listed) return;
    siblings_listed = true;
    const auto accelerator_dirs = data::dirs_or(accelerators_dir, "hardware/accelerators");
    std::set<std::string> seen = {target.name};  // a name's first folder shadows later ones
    for (const std::filesystem::path& dir : perf_dirs)
      for (const std::string& name : list_measured_accelerators(dir)) {
        if (!seen.insert(name).second) continue;
        std::error_code ec;
        if (std::none_of(accelerator_dirs.begin(), accelerator_dirs.end(), [&](const auto& d) {
              return std::filesystem::exists(d / (name + ".yaml"), ec);
            }))
          continue;
        auto s = std::make_unique<Source>();
        s->device.name = name;
        s->folder = dir / name;
        s->stems = list_table_stems(s->folder);
        s->listed = true;
        siblings.push_back(std::move(s));
      }
  }

  /// Whether a table of `s` could serve collective call `c`: a collective table serves only
  /// within a factor of two of the call's group (evaluate_prepared), so a device none of whose
  /// tables of the class has such a group is passed over without loading them. Loaded classes
  /// and unreadable CSVs answer yes (the tables themselves decide, and the strict loader reports
  /// a defect).
  bool may_cover(Source& s, const KernelCall& c) {
    if (search == SiblingSearch::exhaustive || !is_communication(c.kernel)) return true;
    const auto k = static_cast<std::size_t>(c.kernel);
    if (s.loaded[k]) return true;
    list(s);
    auto& sizes = s.group_sizes[k];
    if (!sizes) {
      sizes.emplace();
      for (const std::string& stem : s.stems) {
        if (!stem_names_class(stem, c.kernel)) continue;
        const std::vector<double> values =
            read_first_column(s.folder, stem, columns_of(c.kernel).keys.front());
        if (values.empty()) {
          sizes->clear();
          break;
        }
        sizes->insert(sizes->end(), values.begin(), values.end());
      }
    }
    if (sizes->empty()) return true;
    const double want = c.kernel == KernelClass::all_reduce ? c.ranks : c.ep;
    if (!(want > 0)) return true;
    return std::any_of(sizes->begin(), sizes->end(), [&](double g) {
      return std::abs(std::log(want / g)) <= std::log(2.0) + 1e-9;  // as evaluate_prepared
    });
  }

  /// Siblings of the target's vendor with a table of class k that may serve `c`, nearest first
  /// (by BF16 peak and HBM bandwidth). An accelerator file is read only for a sibling that
  /// passes may_cover(): the order of the others among themselves is the same as in the list of
  /// all siblings (a stable sort of a subsequence).
  /// siblings_with(), listed once per class and (collectives) group size: every lookup the
  /// device's own tables miss asks. A list stays right when a class is loaded later: it leaves
  /// out only siblings none of whose tables can serve the group.
  std::map<std::pair<KernelClass, double>, std::vector<Source*>> siblings_by_class;
  const std::vector<Source*>& siblings_for(const KernelCall& c) {
    const double group = c.kernel == KernelClass::all_reduce ? c.ranks
                         : is_communication(c.kernel)        ? c.ep
                                                             : 0.0;
    const auto key = std::make_pair(c.kernel, group);
    auto it = siblings_by_class.find(key);
    if (it == siblings_by_class.end()) it = siblings_by_class.emplace(key, siblings_with(c)).first;
    return it->second;
  }

  std::vector<Source*> siblings_with(const KernelCall& c) {
    list_siblings();
    std::vector<Source*> out;
    for (auto& s : siblings) {
      if (std::none_of(s->stems.begin(), s->stems.end(),
                       [&](const std::string& stem) { return stem_names_class(stem, c.kernel); }))
        continue;
      // Another vendor's device is passed over on one line of its file before may_cover() reads
      // its tables' CSVs (an Ascend rack read every NVIDIA sibling's dispatch and combine CSVs):
      // the same siblings pass, as both checks must.
      const bool unloaded = !s->device_loaded && search == SiblingSearch::by_coverage;
      if (unloaded) {
        if (s->vendor.empty()) s->vendor = peek_vendor(s->device.name, accelerators_dir);
        if (!s->vendor.empty() && s->vendor != target.vendor) continue;
      }
      if (!may_cover(*s, c)) continue;
      if (unloaded) {
        // Ranked on its file's text: loaded only if a lookup reaches it (device()).
        if (!s->vendor.empty() && !s->speeds)
          s->speeds = peek_speeds(s->device.name, accelerators_dir);
        if (!s->vendor.empty() && s->speeds) {
          out.push_back(s.get());
          continue;
        }
      }
      if (device_of(*s).vendor == target.vendor) out.push_back(s.get());
    }
    const DeviceSpeeds own_speeds = speeds_of(target);
    std::stable_sort(out.begin(), out.end(), [&](const Source* a, const Source* b) {
      return device_distance(own_speeds, *a->speeds) < device_distance(own_speeds, *b->speeds);
    });
    return out;
  }

  /// The source's accelerator, a sibling's file read on first use (ranked before on its text).
  const Accelerator& device_of(Source& s) {
    if (!s.device_loaded) {
      s.device = load_accelerator(s.device.name, accelerators_dir);
      s.device_loaded = true;
      if (!s.speeds) s.speeds = speeds_of(s.device);
    }
    return s.device;
  }

  const Prepared& prepared(Source& s, std::size_t index) {
    auto& slot = s.prepared[index];
    if (!slot) slot = std::make_unique<Prepared>(prepare_table(*s.tables[index], device_of(s)));
    return *slot;
  }

  /// The fitting table of `s` measured nearest the call's fixed shape, or -1. Of collective tables
  /// of the same shape, the one whose nearest group (ep, ranks) is nearest the call's: a device
  /// may hold a single-node table (EP8) and a multi-node one (EP16-64) of one kernel.
  int find(Source& s, const KernelCall& c, bool same_precision) {
    load_class(s, c.kernel);
    load_nearest(s, c);
    int best = -1;
    double best_d = std::numeric_limits<double>::infinity();
    double best_group = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < s.tables.size(); ++i) {
      if (!table_fits(*s.tables[i], c, same_precision)) continue;
      const double d = fixed_distance(*s.tables[i], c);
      if (d > best_d + 1e-9) continue;
      double group = 0;
      if (is_communication(c.kernel)) nearest_group(prepared(s, i), c, &group);
      if (d < best_d - 1e-9 || group < best_group - 1e-9) {
        best_d = d;
        best_group = group;
        best = static_cast<int>(i);
      }
    }
    return best;
  }

  /// The smallest latency of the device's GEMM tables. Read from their CSVs while the class is
  /// not loaded: a sibling's GEMM tables are often wanted for this floor only (a rack's own
  /// tables serve its GEMMs while a sibling's serve its experts), and parsing their YAML and
  /// every row was a good part of a predict call's start-up. The same number as loading them
  /// (tests/hardware/perf_lookup_test.cpp: the exhaustive search loads them); a CSV the text
  /// read cannot take loads the class.
  double smallest_gemm_s(Source& s) {
    list(s);
    const auto gemm = KernelClass::gemm;
    double least = std::numeric_limits<double>::infinity();
    if (search == SiblingSearch::by_coverage && !s.loaded[static_cast<int>(gemm)]) {
      bool read = true;
      for (const std::string& stem : s.stems) {
        if (!stem_names_class(stem, gemm)) continue;
        const std::optional<double> smallest = peek_smallest_latency_s(s.folder, stem);
        if (!smallest) {
          read = false;
          break;
        }
        least = std::min(least, *smallest);
      }
      if (read) return least;
      least = std::numeric_limits<double>::infinity();
    }
    load_class(s, gemm);
    for (const auto& t : s.tables)
      if (t->kernel == gemm) least = std::min(least, smallest_latency_s(*t));
    return least;
  }

  double floor_of(Source& s, const PerfTable& fallback) {
    if (s.floor_s < 0) s.floor_s = smallest_gemm_s(s);
    return std::isfinite(s.floor_s) ? s.floor_s : smallest_latency_s(fallback);
  }

  std::optional<Found> evaluate(Source& s, int index, const KernelCall& c, bool own_device) {
    const PerfTable& table = *s.tables[static_cast<std::size_t>(index)];
    const double floor_s = floor_of(s, table);  // may load the GEMM tables: before taking a slot
    const Prepared& p = prepared(s, static_cast<std::size_t>(index));
    // Efficiency = ideal / time: evaluate with the target's ideal time and invert.
    PerfEstimate e = evaluate_prepared(p, device_of(s), target, c, own_device, floor_s);
    if (!e.found) return std::nullopt;
    Found f;
    f.estimate = e;
    f.floor_s = floor_s;
    f.efficiency = e.efficiency;
    return f;
  }

  /// Decode attention: the device's tables for either cache dtype, the most efficient at the
  /// call's shape. The dtype alone does not name the kernel: H100/H200's FP8-cache tables time
  /// SGLang's FA3 path, 4x slower than their BF16-cache FlashMLA-class kernel, while FlashMLA's
  /// own FP8 kernel (the format the models deploy) is not measured there; an engine runs the
  /// fastest kernel it has, so the best measured efficiency stands for it.
  /// Of the tables measured nearest the call's fixed shape (when it states one: the host's V3.2
  /// and V4 cores are different kernels), that is.
  std::optional<Found> best_attention(Source& s, const KernelCall& call, bool own_device) {
    load_class(s, call.kernel);
    double nearest = std::numeric_limits<double>::infinity();
    for (const auto& t : s.tables)
      if (table_fits(*t, call, true)) nearest = std::min(nearest, fixed_distance(*t, call));
    std::optional<Found> best;
    for (std::size_t i = 0; i < s.tables.size(); ++i) {
      if (!table_fits(*s.tables[i], call, true)) continue;
      if (fixed_distance(*s.tables[i], call) > nearest + 1e-9) continue;
      auto f = evaluate(s, static_cast<int>(i), call, own_device);
      if (f && (!best || f->efficiency > best->efficiency)) best = f;
    }
    return best;
  }

  /// The device's own tables first (at the call's precision, then any: a measurement on the
  /// hardware itself beats a transfer), then the siblings nearest first.
  Found lookup(const KernelCall& call) {
    if (call.kernel == KernelClass::mla_decode || call.kernel == KernelClass::dsa_decode)
      if (auto f = best_attention(own, call, true)) return *f;
    if (may_cover(own, call))
      for (bool same_precision : {true, false})
        if (const int i = find(own, call, same_precision); i >= 0)
          if (auto f = evaluate(own, i, call, true)) return *f;
    const std::vector<Source*>& candidates = siblings_for(call);
    for (bool same_precision : {true, false})
      for (Source* s : candidates)
        if (const int i = find(*s, call, same_precision); i >= 0)
          if (auto f = evaluate(*s, i, call, false)) return *f;
    return Found{};
  }
};

PerfModel::PerfModel(const Accelerator& target, std::filesystem::path perf_dir,
                     std::filesystem::path accelerators_dir, SiblingSearch search)
    : impl_(std::make_unique<Impl>()) {
  impl_->target = target;
  impl_->search = search;
  impl_->perf_dirs = data::dirs_or(perf_dir, "hardware/perf");
  impl_->accelerators_dir = std::move(accelerators_dir);
  impl_->own.device = target;
  impl_->own.device_loaded = true;
  for (Precision p : kAllPrecisions)
    impl_->ideal_peak_flops_per_s[static_cast<int>(p)] =
        target.peak_flops_per_s(target.path_for[static_cast<int>(p)]);
  impl_->ideal_hbm_bytes_per_s = target.hbm_bytes_per_s();
}

PerfModel::~PerfModel() = default;
PerfModel::PerfModel(PerfModel&&) noexcept = default;
PerfModel& PerfModel::operator=(PerfModel&&) noexcept = default;

const Accelerator& PerfModel::target() const {
  return impl_->target;
}

LookupKey lookup_key(const KernelCall& call) {
  return {static_cast<double>(call.kernel),
          static_cast<double>(call.precision),
          call.m,
          call.n,
          call.k,
          call.experts,
          call.tokens_per_expert,
          call.masked ? 1.0 : 0.0,
          call.ffn_down ? 1.0 : 0.0,
          call.batch,
          call.kv_len,
          call.seq_len,
          call.heads,
          call.ep,
          call.tokens_per_rank,
          call.payload_bytes_per_token,
          call.low_latency ? 1.0 : 0.0,
          call.ranks,
          call.message_bytes,
          call.custom_all_reduce ? 1.0 : 0.0,
          call.kv_fp8 ? 1.0 : 0.0,
          call.cuda_graph ? 1.0 : 0.0,
          call.spans_nodes ? 1.0 : 0.0,
          call.scale_up_ranks,
          call.link_latency_s,
          call.hidden,
          call.topk,
          call.compress_ratio,
          call.head_dim,
          call.weight_bytes};
}

const PerfEstimate& PerfModel::estimate(const KernelCall& call, double& time_s) const {
  Impl& m = *impl_;
  const Impl::MemoKey key = lookup_key(call);
  return m.time_of(m.memo.get(key, [&] { return m.lookup(call); }), call, time_s);
}

namespace {

/// A call with the fields a point sets (place_call) cleared: its shape.
KernelCall shape_of(KernelCall call) {
  call.cost = Cost{};
  call.precision = Precision::bf16;
  call.m = 0;
  call.batch = 0;
  call.tokens_per_expert = 0;
  return call;
}

}  // namespace

PerfModel::Shape PerfModel::shape(const KernelCall& call) const {
  Impl& m = *impl_;
  return Shape{m.shapes.get(lookup_key(shape_of(call)), [&] { return m.num_shapes++; })};
}

const PerfEstimate& PerfModel::estimate(Shape shape, const KernelCall& call, double& time_s) const {
  Impl& m = *impl_;
  const Impl::PointKey key = {static_cast<double>(shape.id), static_cast<double>(call.precision),
                              call.m, call.batch, call.tokens_per_expert};
  const Impl::Found* f = m.by_shape.get(
      key, [&] { return &m.memo.get(lookup_key(call), [&] { return m.lookup(call); }); });
  return m.time_of(*f, call, time_s);
}

PerfEstimate PerfModel::estimate(const KernelCall& call) const {
  double time_s = 0;
  PerfEstimate e = estimate(call, time_s);
  e.time_s = time_s;
  return e;
}

}  // namespace v4sim
