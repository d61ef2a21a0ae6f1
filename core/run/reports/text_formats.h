#pragma once
// Escaping for the table formats the workbench exports (CSV per RFC 4180, Markdown, LaTeX), and
// the one reader of line-per-text input files. One place for them: the CLI's reports and the GUI's
// table exports both use these.
#include <string>
#include <vector>

namespace syn::run {

// Quoted (with doubled quotes) when the field holds a comma, quote or line break.
std::string csv_field(const std::string& text);
// Pipes and backslashes escaped, line breaks folded to spaces.
std::string markdown_cell(const std::string& text);
// LaTeX special characters escaped, line breaks folded to spaces.
std::string latex_escape(const std::string& text);

// The lines of a text file (a CR before each LF dropped); `skip_blank` leaves out lines of only
// spaces and tabs. A file that cannot be opened -> syn::Error naming it.
std::vector<std::string> read_text_lines(const std::string& path, bool skip_blank = false);

}  // namespace syn::run
