#pragma once
// The model picker's table: the catalog's encoders, the models found in the Hugging Face cache and
// folders the user added, each with family, size, pooling / dtype / device (editable), a checkbox
// (several models are compared side by side) and a status with its reason.
#include <QAbstractTableModel>
#include <QStringList>

#include <optional>
#include <string>
#include <vector>

namespace syn::ui {

enum class ModelStatus { Available, NeedsDownload, Loading, Ready, Failed };
QString to_string(ModelStatus status);

struct ModelEntry {
    QString id;        // catalog / hub id, or the folder path for added folders
    QString label;     // paper label or id
    QString source;    // "catalog", "built in", "HF cache", "folder"
    QString folder;    // resolved folder ("" when none: lexical, or not downloaded)
    QString family, style, note;
    qint64 params = 0;
    QString default_pooling;  // the catalog's STS pooling (or "mean")
    QString pooling, dtype = "auto", device = "auto";
    QStringList pooling_options;
    ModelStatus status = ModelStatus::Available;
    QString reason;
    bool checked = false;
    bool is_lexical() const { return family == "lexical"; }
    // What the STS job is given: the folder for local folders, else the id.
    QString job_model() const { return source == "folder" ? folder : id; }
};

// What a folder holds, read cheaply on the GUI thread: syn::run::describe_model's facts (config.json
// and the checkpoint's header), plus "no weights" as an error (the GUI lists only loadable folders).
struct FolderInspection {
    bool ok = false;
    QString error;        // why it is not a model folder
    QString model_type;   // config.json model_type
    QString family, style;
    qint64 params = 0;    // text-tower parameters; 0 when unknown
};
FolderInspection inspect_model_folder(const QString& folder);

// Poolings offered per family (the engine refuses the rest with a reason).
QStringList pooling_options_for(const QString& family);

class ModelListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { kName = 0, kStatus, kFamily, kParams, kPooling, kDtype, kDevice, kColumnCount };
    enum Role { OptionsRole = Qt::UserRole + 1 };  // QStringList of choices for the editable columns

    explicit ModelListModel(QObject* parent = nullptr);

    // Catalog entries (their cache status looked up in `hf_cache_dir`, "" = the default cache) plus
    // every other model found in that cache. Lexical baselines start checked.
    void populate(const QString& hf_cache_dir = {});

    // Adds a model folder; returns the row, or nullopt with `error` set (not a folder, no config.json,
    // unreadable weights). Adding a folder twice returns the existing row.
    std::optional<int> addFolder(const QString& folder, QString* error);
    // Adds a hub id: resolved in the cache when present, else listed as "needs download".
    int addHubId(const QString& id, const QString& hf_cache_dir = {});

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

    const std::vector<ModelEntry>& entries() const { return entries_; }
    const ModelEntry& entry(int row) const { return entries_[static_cast<size_t>(row)]; }
    int findRow(const QString& id_or_folder) const;
    std::vector<int> checkedRows() const;
    void setChecked(int row, bool checked);
    void setPooling(int row, const QString& pooling);
    void setDtype(int row, const QString& dtype);
    void setDevice(int row, const QString& device);
    void setStatus(int row, ModelStatus status, const QString& reason = {});
    // Looks a catalog / hub-id row up in the cache again (after a download): when found, sets its
    // folder (and, for hub ids, family and size) and makes it available; returns whether found.
    bool refreshFromCache(int row, const QString& hf_cache_dir = {});
    // The message shown for a catalog model missing from the cache.
    static QString needsDownloadReason(const QString& cache_dir);

signals:
    void checkedChanged();

private:
    void appendEntry(ModelEntry entry);
    std::vector<ModelEntry> entries_;
};

}  // namespace syn::ui
