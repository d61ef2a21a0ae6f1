#include "ui/presentation.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "core/io/errors.h"

namespace syn::ui {

std::vector<PresentationItem> parse_presentation(const QByteArray& json, const QString& source) {
    const std::string where = source.toStdString();
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        throw syn::file_error(where, QString("invalid JSON at byte %1: %2").arg(error.offset).arg(error.errorString()).toStdString());
    if (!doc.isObject() || !doc.object().value("items").isArray())
        throw syn::file_error(where, "expected {\"items\": [...]}");
    std::vector<PresentationItem> items;
    const QJsonArray array = doc.object().value("items").toArray();
    for (int i = 0; i < array.size(); ++i) {
        const std::string key = "items[" + std::to_string(i) + "]";
        if (!array[i].isObject()) throw syn::file_error(where, key + ": expected an object");
        const QJsonObject o = array[i].toObject();
        PresentationItem item;
        item.note = o.value("note").toString();
        if (o.value("prompt").isString() && !o.value("prompt").toString().trimmed().isEmpty()) {
            item.kind = PresentationItem::Kind::Prompt;
            item.prompt = o.value("prompt").toString().trimmed();
        } else if (o.value("pair").isDouble()) {
            const double n = o.value("pair").toDouble();
            if (n < 1 || n != static_cast<double>(static_cast<long long>(n)))
                throw syn::file_error(where, key + ".pair: expected a whole number >= 1 (the table's # column)");
            item.kind = PresentationItem::Kind::Pair;
            item.pair = static_cast<int>(n) - 1;
        } else {
            throw syn::file_error(where, key + ": needs \"prompt\" (text) or \"pair\" (number)");
        }
        items.push_back(item);
    }
    if (items.empty()) throw syn::file_error(where, "no items");
    return items;
}

std::vector<PresentationItem> load_presentation(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw syn::file_error(path.toStdString(), "cannot open: " + file.errorString().toStdString());
    return parse_presentation(file.readAll(), path);
}

}  // namespace syn::ui
