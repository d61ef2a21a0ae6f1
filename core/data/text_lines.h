#pragma once
// The one line splitter of the data readers is the engine's (core/io/line_reader.h): a text file's
// content, a UTF-8 BOM skipped, cut at LF (a CR before it stays in the line: callers trim), with
// 1-based line numbers for error messages.
#include "core/io/line_reader.h"

namespace syn::data {

using syn::LineReader;

}  // namespace syn::data
