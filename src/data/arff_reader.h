// MelodAI — licensed under the Apache License 2.0.
// Reader for Mulan multi-label ARFF datasets (emotions, CAL500): songs become catalog items
// with dense audio features, and the label columns named by the Mulan XML become item tags.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/dataset.h"

namespace melodai::data {

// Reads `arff` (Weka ARFF: % comments, @relation, @attribute NAME TYPE with TYPE one of
// numeric/real/integer/string/date/{nominal,...}, then @data rows, dense comma-separated or
// sparse "{index value, ...}" with absent entries 0; keywords are case-insensitive and names
// may be quoted) together with the Mulan label descriptor `labels_xml` (<label name="...">
// elements, possibly nested). When `labels_xml` is empty, uses the .xml file beside `arff` with the
// same stem. Result, with source "arff" and description = the arff path; no sequences:
//   - catalog: one item per data row, uri "<relation>:<row index from 0>", name = the row's
//     value of the first string attribute if there is one (else "song <row index>"), artist "".
//   - features: every numeric attribute that is not a label, in declaration order, row-major
//     (Catalog::SetFeatures); a missing value "?" becomes NaN.
//   - item_tags: the labels (tag id = position in the XML) whose value is 1 for the song, in
//     label order. Label attributes must be numeric or nominal with values 0/1 ("?" = 0).
// Nominal and date attributes that are not labels are checked for shape and otherwise ignored.
// Returns kNotFound when a file is missing, kIoError when one cannot be read, kDataLoss naming
// "<file>:<line>" for malformed input (bad declaration, wrong value count, bad number, sparse
// index out of range, duplicate attribute), and kInvalidArgument when the XML names a label
// the ARFF lacks or names none. Thread-safe (touches no shared state).
core::Result<Dataset> ReadMulanArff(const std::filesystem::path& arff,
                                    const std::filesystem::path& labels_xml = {});

// Returns the label names of a Mulan XML label descriptor in document order (each <label>
// element's name attribute, XML entities decoded). `file_name` only labels error messages.
// kDataLoss naming "<file>:<line>" on a malformed <label> element; an empty list when none.
core::Result<std::vector<std::string>> ParseMulanLabels(std::string_view xml,
                                                        std::string_view file_name);

}  // namespace melodai::data
