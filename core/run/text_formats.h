#pragma once
// Escaping for the table formats the workbench exports (CSV per RFC 4180, Markdown, LaTeX). One
// place for it: the CLI's reports and the GUI's table exports both use these.
#include <string>

namespace syn::run {

// Quoted (with doubled quotes) when the field holds a comma, quote or line break.
std::string csv_field(const std::string& text);
// Pipes and backslashes escaped, line breaks folded to spaces.
std::string markdown_cell(const std::string& text);
// LaTeX special characters escaped, line breaks folded to spaces.
std::string latex_escape(const std::string& text);

}  // namespace syn::run
