#pragma once
// Presentation mode's script: a list of prompts and caption pairs stepped through with one key.
// File format (JSON):
//   {"items": [{"prompt": "a man riding a wave"}, {"pair": 12, "note": "same image, low score"}]}
// "pair" is the 1-based number shown in the table's # column.
#include <QString>

#include <vector>

namespace syn::ui {

struct PresentationItem {
    enum class Kind { Prompt, Pair };
    Kind kind = Kind::Prompt;
    QString prompt;  // Kind::Prompt
    int pair = -1;   // Kind::Pair: 0-based pair index
    QString note;
};

// Throws syn::Error naming the file and the item on a malformed file.
std::vector<PresentationItem> load_presentation(const QString& path);
std::vector<PresentationItem> parse_presentation(const QByteArray& json, const QString& source);

}  // namespace syn::ui
