// MelodAI — licensed under the Apache License 2.0.
// Writes interaction sequences as the session TSV that GRU4Rec-style reference code reads, so
// another implementation can be trained and evaluated on exactly the split we use.
#pragma once

#include <string>

#include "core/status.h"
#include "data/catalog.h"
#include "data/interactions.h"

namespace melodai::data {

// Header "SessionId\tItemId\tTime", then one row per event in sequence order:
// SessionId = the sequence's index in `sequences`, ItemId = the item's URI,
// Time = the event's position in its sequence (0, 1, ...), so sorting by (SessionId, Time)
// restores the order. kInvalidArgument when a URI holds a tab or a line break (it could not be
// read back) or an item id is outside the catalogue.
core::Result<std::string> SessionTsv(const Catalog& catalog, const Interactions& sequences);

}  // namespace melodai::data
