#include "ui/session/project.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

#include "core/io/errors.h"

namespace syn::ui {

namespace {
constexpr int kProjectVersion = 1;
}

QJsonObject ProjectState::toJson() const {
    QJsonObject data{{"cxc_csv", cxc_csv}, {"captions_json", captions_json}, {"max_pairs", max_pairs}};
    QJsonArray model_array;
    for (const auto& m : models)
        model_array.append(QJsonObject{{"id", m.id}, {"source", m.source}, {"pooling", m.pooling},
                                       {"dtype", m.dtype}, {"device", m.device}, {"checked", m.checked}});
    QJsonObject filter{{"text", filter_text}, {"method", filter_method}, {"sts_l_min", sts_l_min},
                       {"sts_l_max", sts_l_max}, {"sts_v", sts_v}, {"sort_column", sort_column},
                       {"sort_order", sort_order}};
    QJsonObject view{{"scatter_encoder", scatter_encoder}, {"prompt", prompt}, {"dark", dark},
                     {"window_state", QString::fromLatin1(window_state.toBase64())},
                     {"window_geometry", QString::fromLatin1(window_geometry.toBase64())}};
    if (window_screen.isValid()) view["window_screen"] = QJsonArray{window_screen.width(), window_screen.height()};
    QJsonObject json{{"format", "synesthesia-workbench-project"}, {"version", kProjectVersion}, {"data", data},
                     {"models", model_array}, {"filter", filter}, {"view", view}};
    if (!sts_models.empty()) {
        QJsonArray runs;
        for (const auto& m : sts_models)
            runs.append(QJsonObject{{"model", m.model}, {"pooling", m.pooling}, {"dtype", m.dtype}, {"device", m.device}});
        json["results"] = QJsonObject{{"sts_models", runs}};
    }
    return json;
}

namespace {
struct Reader {
    const QString& source;
    [[noreturn]] void fail(const QString& key, const QString& problem) const {
        throw syn::file_error(source.toStdString(), ("key '" + key + "': " + problem).toStdString());
    }
    QJsonObject object(const QJsonObject& o, const QString& key) const {
        if (!o.contains(key)) return {};
        if (!o.value(key).isObject()) fail(key, "expected an object");
        return o.value(key).toObject();
    }
    QString string(const QJsonObject& o, const QString& key, const QString& fallback = {}) const {
        if (!o.contains(key)) return fallback;
        if (!o.value(key).isString()) fail(key, "expected a string");
        return o.value(key).toString();
    }
    double number(const QJsonObject& o, const QString& key, double fallback) const {
        if (!o.contains(key)) return fallback;
        if (!o.value(key).isDouble()) fail(key, "expected a number");
        return o.value(key).toDouble();
    }
    bool boolean(const QJsonObject& o, const QString& key, bool fallback) const {
        if (!o.contains(key)) return fallback;
        if (!o.value(key).isBool()) fail(key, "expected true or false");
        return o.value(key).toBool();
    }
};
}  // namespace

ProjectState ProjectState::fromJson(const QJsonObject& json, const QString& source) {
    Reader r{source};
    if (r.string(json, "format") != "synesthesia-workbench-project")
        r.fail("format", "not a Synesthesia Workbench project (expected \"synesthesia-workbench-project\")");
    const int version = static_cast<int>(r.number(json, "version", 0));
    if (version < 1 || version > kProjectVersion)
        r.fail("version", QString("unsupported project version %1 (this build reads 1..%2)").arg(version).arg(kProjectVersion));
    ProjectState s;
    const QJsonObject data = r.object(json, "data");
    s.cxc_csv = r.string(data, "cxc_csv");
    s.captions_json = r.string(data, "captions_json");
    s.max_pairs = static_cast<int>(r.number(data, "max_pairs", 0));
    if (json.contains("models") && !json.value("models").isArray()) r.fail("models", "expected an array");
    const QJsonArray models = json.value("models").toArray();
    for (int i = 0; i < models.size(); ++i) {
        if (!models[i].isObject()) r.fail(QString("models[%1]").arg(i), "expected an object");
        const QJsonObject m = models[i].toObject();
        ProjectModel pm{r.string(m, "id"), r.string(m, "source"), r.string(m, "pooling"), r.string(m, "dtype"),
                        r.string(m, "device"), r.boolean(m, "checked", false)};
        if (pm.id.isEmpty()) r.fail(QString("models[%1].id").arg(i), "missing or empty");
        s.models.push_back(pm);
    }
    const QJsonObject filter = r.object(json, "filter");
    s.filter_text = r.string(filter, "text");
    s.filter_method = r.string(filter, "method");
    s.sts_l_min = r.number(filter, "sts_l_min", 0.0);
    s.sts_l_max = r.number(filter, "sts_l_max", 5.0);
    s.sts_v = static_cast<int>(r.number(filter, "sts_v", -1));
    s.sort_column = static_cast<int>(r.number(filter, "sort_column", -1));
    s.sort_order = static_cast<int>(r.number(filter, "sort_order", 0));
    const QJsonObject view = r.object(json, "view");
    s.scatter_encoder = r.string(view, "scatter_encoder");
    s.prompt = r.string(view, "prompt");
    s.dark = r.boolean(view, "dark", false);
    s.window_state = QByteArray::fromBase64(r.string(view, "window_state").toLatin1());
    s.window_geometry = QByteArray::fromBase64(r.string(view, "window_geometry").toLatin1());
    if (view.contains("window_screen")) {
        const QJsonArray size = view.value("window_screen").toArray();
        if (!view.value("window_screen").isArray() || size.size() != 2 || !size[0].isDouble() || !size[1].isDouble())
            r.fail("view.window_screen", "expected [width, height]");
        s.window_screen = QSize(size[0].toInt(), size[1].toInt());
    }
    const QJsonObject results = r.object(json, "results");
    if (results.contains("sts_models") && !results.value("sts_models").isArray())
        r.fail("results.sts_models", "expected an array");
    const QJsonArray runs = results.value("sts_models").toArray();
    for (int i = 0; i < runs.size(); ++i) {
        const QString key = QString("results.sts_models[%1]").arg(i);
        if (!runs[i].isObject()) r.fail(key, "expected an object");
        const QJsonObject m = runs[i].toObject();
        ProjectStsModel run{r.string(m, "model"), r.string(m, "pooling"), r.string(m, "dtype"), r.string(m, "device")};
        if (run.model.isEmpty()) r.fail(key + ".model", "missing or empty");
        s.sts_models.push_back(run);
    }
    return s;
}

bool ProjectState::operator==(const ProjectState& o) const {
    return cxc_csv == o.cxc_csv && captions_json == o.captions_json && max_pairs == o.max_pairs &&
           models == o.models && filter_text == o.filter_text && filter_method == o.filter_method &&
           sts_l_min == o.sts_l_min && sts_l_max == o.sts_l_max && sts_v == o.sts_v && sort_column == o.sort_column &&
           sort_order == o.sort_order && scatter_encoder == o.scatter_encoder && prompt == o.prompt &&
           dark == o.dark && window_state == o.window_state && window_geometry == o.window_geometry &&
           window_screen == o.window_screen && sts_models == o.sts_models;
}

void save_project(const ProjectState& state, const QString& path) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        throw syn::file_error(path.toStdString(), "cannot open for writing: " + file.errorString().toStdString());
    file.write(QJsonDocument(state.toJson()).toJson(QJsonDocument::Indented));
    if (!file.commit())
        throw syn::file_error(path.toStdString(), "cannot write: " + file.errorString().toStdString());
}

ProjectState load_project(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw syn::file_error(path.toStdString(), "cannot open: " + file.errorString().toStdString());
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError)
        throw syn::file_error(path.toStdString(), QString("invalid JSON at byte %1: %2")
                                                      .arg(error.offset).arg(error.errorString()).toStdString());
    if (!doc.isObject()) throw syn::file_error(path.toStdString(), "expected a JSON object");
    return ProjectState::fromJson(doc.object(), path);
}

}  // namespace syn::ui
