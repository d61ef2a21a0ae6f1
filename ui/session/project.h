#pragma once
// The workbench session as a project file (.synproj, JSON): data files, models with their pooling,
// dtype, device and checkbox, the pair filter and sort, the plotted encoder, the palette, the
// window layout (QMainWindow::saveState / saveGeometry, base64, with the size of the screen it was
// made on) and the encoders the shown STS result came from (rebuilt from the embedding cache when
// the project is opened).
#include <QByteArray>
#include <QJsonObject>
#include <QSize>
#include <QString>
#include <QStringList>

#include <vector>

namespace syn::ui {

struct ProjectModel {
    QString id;      // catalog / hub id, or folder path
    QString source;  // "catalog", "built in", "HF cache", "folder", "hub id"
    QString pooling, dtype, device;
    bool checked = false;
    bool operator==(const ProjectModel& o) const {
        return id == o.id && source == o.source && pooling == o.pooling && dtype == o.dtype && device == o.device &&
               checked == o.checked;
    }
};

// One encoder of the STS run whose result the session showed, as the job was given it.
struct ProjectStsModel {
    QString model;    // catalog / hub id, folder, or lexical/...
    QString pooling;  // "" = the catalog's default
    QString dtype, device;
    bool operator==(const ProjectStsModel& o) const {
        return model == o.model && pooling == o.pooling && dtype == o.dtype && device == o.device;
    }
};

struct ProjectState {
    QString cxc_csv, captions_json;
    int max_pairs = 0;
    std::vector<ProjectModel> models;
    // Pair filter.
    QString filter_text, filter_method;
    double sts_l_min = 0.0, sts_l_max = 5.0;
    int sts_v = -1;
    int sort_column = -1;
    int sort_order = 0;  // Qt::SortOrder
    QString scatter_encoder;
    QString prompt;
    bool dark = false;
    QByteArray window_state, window_geometry;
    QSize window_screen;  // available screen size the layout was made on (invalid: unknown)
    std::vector<ProjectStsModel> sts_models;  // empty: no STS result to rebuild

    QJsonObject toJson() const;
    // Throws syn::Error naming `source` and the key on a malformed file.
    static ProjectState fromJson(const QJsonObject& json, const QString& source);
    bool operator==(const ProjectState& o) const;
};

// Atomic write / read of a .synproj file; errors name the file.
void save_project(const ProjectState& state, const QString& path);
ProjectState load_project(const QString& path);

}  // namespace syn::ui
