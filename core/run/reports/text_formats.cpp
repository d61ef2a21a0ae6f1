#include "core/run/reports/text_formats.h"

#include "core/data/text_lines.h"
#include "core/io/atomic_file.h"
#include "core/io/errors.h"

namespace syn::run {

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string markdown_cell(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '|': out += "\\|"; break;
            case '\n': case '\r': out += ' '; break;
            default: out += c;
        }
    }
    return out;
}

std::string latex_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': case '%': case '$': case '#': case '_': case '{': case '}': out += '\\'; out += c; break;
            case '~': out += "\\textasciitilde{}"; break;
            case '^': out += "\\textasciicircum{}"; break;
            case '\\': out += "\\textbackslash{}"; break;
            case '\n': case '\r': out += ' '; break;
            default: out += c;
        }
    }
    return out;
}

std::vector<std::string> read_text_lines(const std::string& path, bool skip_blank) {
    const std::string content = read_file(path);  // a directory is an error naming it
    std::vector<std::string> lines;
    data::LineReader reader(content);
    std::string_view line;
    while (reader.next(line)) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (skip_blank && line.find_first_not_of(" \t") == std::string_view::npos) continue;
        lines.emplace_back(line);
    }
    return lines;
}

}  // namespace syn::run
