#include "core/run/text_formats.h"

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

}  // namespace syn::run
