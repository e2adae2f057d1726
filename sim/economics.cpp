#include "sim/economics.h"

#include <array>
#include <limits>

#include "models/config/enum_names.h"
#include "models/config/input_error.h"

namespace v4sim {

namespace {
// One table for both directions; the assertion fails when an enumerator is added after `tco`
// without its name here.
constexpr std::array<std::string_view, 2> kBasisNames{"rental", "tco"};
static_assert(kBasisNames.size() == static_cast<std::size_t>(PriceBasis::tco) + 1);
}  // namespace

std::string_view to_string(PriceBasis b) {
  return config::enum_name(kBasisNames, b);
}

std::optional<PriceBasis> parse_price_basis(std::string_view text) {
  return config::parse_enum<PriceBasis>(kBasisNames, text);
}

DeviceHour device_hour(const SystemSpec& system, int nodes, const PriceAssumptions& a) {
  if (a.amortization_years <= 0 || a.usd_per_kwh < 0 || a.pue < 1 ||
      a.hosting_usd_per_kw_month < 0 || a.utilization <= 0 || a.utilization > 1)
    throw InputError(
        "price assumptions out of range: amortization_years > 0, usd_per_kwh >= 0, "
        "pue >= 1, hosting_usd_per_kw_month >= 0, utilization in (0, 1]");
  DeviceHour h;
  h.basis = a.basis;
  const SystemTotals t = system_totals(system, nodes);
  const double devices = static_cast<double>(t.devices);
  if (a.basis == PriceBasis::rental) {
    h.usd_per_hour = system.accelerator.rental_usd_per_hour.nominal;
    if (h.usd_per_hour <= 0)
      throw InputError("accelerator " + system.accelerator.name +
                       " has no rental price; use the tco basis");
    return h;
  }
  constexpr double kHoursPerYear = 8760.0;
  const double kw_per_device = t.power_w.nominal / devices / 1000.0;
  h.capex_usd_per_hour = t.price_usd.nominal / devices / (a.amortization_years * kHoursPerYear);
  h.power_usd_per_hour = kw_per_device * a.pue * a.usd_per_kwh;
  h.hosting_usd_per_hour = kw_per_device * a.hosting_usd_per_kw_month * 12.0 / kHoursPerYear;
  h.usd_per_hour = h.capex_usd_per_hour + h.power_usd_per_hour + h.hosting_usd_per_hour;
  return h;
}

double usd_per_million_tokens(double usd_per_hour, double tokens_per_s_per_device,
                              double utilization) {
  if (tokens_per_s_per_device <= 0) return std::numeric_limits<double>::infinity();
  return usd_per_hour / (tokens_per_s_per_device * utilization * 3600.0) * 1e6;
}

}  // namespace v4sim
