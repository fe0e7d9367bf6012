// MelodAI — licensed under the Apache License 2.0.
// `melodai tokenomics --years 10 --out DIR`: the token allocation and the yearly released
// (circulating) supply as CSV and hand-written SVG charts (the whitepaper's Figures 3 and 4),
// computed with the same schedule functions (app/tokenomics.h) that the state machine uses.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include "app/app_genesis.h"
#include "app/tokenomics.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/file_util.h"

namespace melodai::cli {
namespace {

constexpr std::array<const char*, app::kAllocationCount> kColors = {
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1"};
constexpr std::array<const char*, app::kAllocationCount> kLabels = {
    "Team", "VC", "Liquidity", "Airdrop", "Treasury", "Node rewards", "Training rewards"};

struct TokenomicsOptions {
  uint32_t years = 10;
  std::string out;
  uint32_t listing_day = 365;
  std::string genesis;
};

// Exact decimal MELAI from base units ("273972.602739726").
std::string Melai(uint64_t base_units) {
  return fmt::format("{}.{:09}", base_units / app::kUnit, base_units % app::kUnit);
}

core::Status WriteText(const std::filesystem::path& path, const std::string& text) {
  return core::WriteFileAtomic(path, text);
}

std::string AllocationCsv(const app::ScheduleParameters& schedule) {
  std::string csv = "category,percent,bps,amount_melai,amount_base_units\n";
  for (size_t i = 0; i < app::kAllocationCount; ++i) {
    const auto category = static_cast<app::Allocation>(i);
    const uint64_t amount = app::AllocationAmount(schedule, category);
    csv += fmt::format("{},{}.{:02},{},{},{}\n", app::AllocationName(category),
                       schedule.allocation_bps[i] / 100, schedule.allocation_bps[i] % 100,
                       schedule.allocation_bps[i], Melai(amount), amount);
  }
  return csv;
}

// A pie chart with a legend. Floating point only draws; the amounts come from integers.
std::string AllocationSvg(const app::ScheduleParameters& schedule) {
  const double cx = 200, cy = 220, r = 160;
  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"440\" "
      "font-family=\"sans-serif\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"360\" y=\"30\" text-anchor=\"middle\" font-size=\"18\">MELAI allocation "
      "(1,000,000,000 MELAI)</text>\n";
  double angle = -M_PI / 2;
  for (size_t i = 0; i < app::kAllocationCount; ++i) {
    const double share = schedule.allocation_bps[i] / 10000.0;
    const double next = angle + share * 2 * M_PI;
    const int large = share > 0.5 ? 1 : 0;
    svg += fmt::format(
        "<path d=\"M {:.2f} {:.2f} L {:.2f} {:.2f} A {:.2f} {:.2f} 0 {} 1 {:.2f} {:.2f} Z\" "
        "fill=\"{}\" "
        "stroke=\"white\" stroke-width=\"2\"/>\n",
        cx, cy, cx + r * std::cos(angle), cy + r * std::sin(angle), r, r, large,
        cx + r * std::cos(next), cy + r * std::sin(next), kColors[i]);
    angle = next;
    const double y = 110 + 34.0 * static_cast<double>(i);
    svg += fmt::format("<rect x=\"420\" y=\"{:.0f}\" width=\"18\" height=\"18\" fill=\"{}\"/>\n", y,
                       kColors[i]);
    svg += fmt::format("<text x=\"446\" y=\"{:.0f}\" font-size=\"14\">{} {}.{:02}% ({} M)</text>\n",
                       y + 14, kLabels[i], schedule.allocation_bps[i] / 100,
                       schedule.allocation_bps[i] % 100,
                       app::AllocationAmount(schedule, static_cast<app::Allocation>(i)) /
                           (1'000'000 * app::kUnit));
  }
  return svg + "</svg>\n";
}

std::string SupplyCsv(const app::ScheduleParameters& schedule, uint32_t years,
                      uint64_t listing_day) {
  std::string csv = "year,day";
  for (size_t i = 0; i < app::kAllocationCount; ++i) {
    csv += fmt::format(",{}", app::AllocationName(static_cast<app::Allocation>(i)));
  }
  csv += ",circulating,circulating_bps\n";
  for (uint32_t year = 0; year <= years; ++year) {
    const uint64_t day = 365ull * year;
    const auto released = app::ReleasedByCategory(schedule, day, listing_day);
    uint64_t total = 0;
    csv += fmt::format("{},{}", year, day);
    for (uint64_t amount : released) {
      csv += "," + Melai(amount);
      total += amount;
    }
    csv += fmt::format(",{},{}\n", Melai(total), app::MulDiv(total, 10000, schedule.total_supply));
  }
  return csv;
}

// Stacked bars, one per year, in millions of MELAI.
std::string SupplySvg(const app::ScheduleParameters& schedule, uint32_t years,
                      uint64_t listing_day) {
  const double left = 70, top = 50, width = 600, height = 320;
  const double bar = width / (years + 1);
  const double total_m = static_cast<double>(schedule.total_supply / (1'000'000 * app::kUnit));
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"430\" "
      "font-family=\"sans-serif\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{:.0f}\" y=\"28\" text-anchor=\"middle\" font-size=\"18\">Released MELAI supply "
      "by year "
      "(listing on day {})</text>\n",
      left + width / 2, listing_day);
  for (int tick = 0; tick <= 4; ++tick) {
    const double y = top + height - height * tick / 4.0;
    svg += fmt::format(
        "<line x1=\"{:.0f}\" y1=\"{:.1f}\" x2=\"{:.0f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n", left,
        y, left + width, y);
    svg += fmt::format(
        "<text x=\"{:.0f}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"12\">{:.0f}M</text>\n",
        left - 6, y + 4, total_m * tick / 4.0);
  }
  for (uint32_t year = 0; year <= years; ++year) {
    const auto released = app::ReleasedByCategory(schedule, 365ull * year, listing_day);
    double base = top + height;
    const double x = left + bar * year + bar * 0.15;
    for (size_t i = 0; i < app::kAllocationCount; ++i) {
      const double h =
          height * static_cast<double>(released[i]) / static_cast<double>(schedule.total_supply);
      base -= h;
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.2f}\" width=\"{:.1f}\" height=\"{:.2f}\" fill=\"{}\"/>\n", x,
          base, bar * 0.7, h, kColors[i]);
    }
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.0f}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n",
        x + bar * 0.35, top + height + 16, year);
  }
  svg += fmt::format(
      "<text x=\"{:.0f}\" y=\"{:.0f}\" text-anchor=\"middle\" font-size=\"13\">year</text>\n",
      left + width / 2, top + height + 36);
  for (size_t i = 0; i < app::kAllocationCount; ++i) {
    const double y = top + 24.0 * static_cast<double>(i);
    svg += fmt::format("<rect x=\"{:.0f}\" y=\"{:.0f}\" width=\"14\" height=\"14\" fill=\"{}\"/>\n",
                       left + width + 20, y, kColors[i]);
    svg += fmt::format("<text x=\"{:.0f}\" y=\"{:.0f}\" font-size=\"13\">{}</text>\n",
                       left + width + 40, y + 12, kLabels[i]);
  }
  return svg + "</svg>\n";
}

int RunTokenomics(const TokenomicsOptions& options) {
  if (options.years == 0 || options.years > 100) {
    return ReportError(core::InvalidArgumentError("--years must be in [1, 100]"));
  }
  app::ScheduleParameters schedule;
  if (!options.genesis.empty()) {
    auto genesis = app::ReadAppGenesisFile(options.genesis);
    if (!genesis.ok()) return ReportError(genesis.status());
    schedule = genesis->schedule;
  }
  const std::filesystem::path out(options.out);
  std::error_code error;
  std::filesystem::create_directories(out, error);
  if (error)
    return ReportError(
        core::IoError(fmt::format("creating {}: {}", out.string(), error.message())));
  const std::pair<const char*, std::string> files[] = {
      {"allocation.csv", AllocationCsv(schedule)},
      {"allocation.svg", AllocationSvg(schedule)},
      {"circulating_supply.csv", SupplyCsv(schedule, options.years, options.listing_day)},
      {"circulating_supply.svg", SupplySvg(schedule, options.years, options.listing_day)},
  };
  for (const auto& [name, text] : files) {
    core::Status written = WriteText(out / name, text);
    if (!written.ok()) return ReportError(written);
    std::printf("wrote %s\n", (out / name).string().c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterTokenomicsCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<TokenomicsOptions>();
  CLI::App* command = app.add_subcommand(
      "tokenomics", "Write the MELAI allocation and yearly released supply as CSV and SVG charts");
  command->add_option("--years", options->years, "years to chart")->capture_default_str();
  command->add_option("--out", options->out, "output directory")->required();
  command
      ->add_option("--listing-day", options->listing_day,
                   "day of the governance listing event (capped by the long stop)")
      ->capture_default_str();
  command->add_option("--genesis", options->genesis, "take the schedule from this genesis file");
  command->callback([options, &exit_code] { exit_code = RunTokenomics(*options); });
}

}  // namespace melodai::cli
