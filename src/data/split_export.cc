// MelodAI — licensed under the Apache License 2.0.
#include "data/split_export.h"

#include <fmt/format.h>

namespace melodai::data {

core::Result<std::string> SessionTsv(const Catalog& catalog, const Interactions& sequences) {
  std::string out = "SessionId\tItemId\tTime\n";
  out.reserve(out.size() + sequences.event_count() * 48);
  for (size_t s = 0; s < sequences.size(); ++s) {
    const auto items = sequences.items(s);
    for (size_t position = 0; position < items.size(); ++position) {
      const ItemId item = items[position];
      if (item >= catalog.size()) {
        return core::InvalidArgumentError(fmt::format("sequence {} position {}: item id {} is outside the catalogue "
                                                      "of {} items", s, position, item, catalog.size()));
      }
      const std::string_view uri = catalog.uri(item);
      if (uri.find_first_of("\t\r\n") != std::string_view::npos) {
        return core::InvalidArgumentError(fmt::format("item {} has a URI with a tab or line break; it cannot be "
                                                      "written as TSV", item));
      }
      fmt::format_to(std::back_inserter(out), "{}\t{}\t{}\n", s, uri, position);
    }
  }
  return out;
}

}  // namespace melodai::data
