#include "ui/models/model_list_model.h"

#include <QBrush>
#include <QColor>
#include <QDir>
#include <QFileInfo>

#include <exception>

#include "core/io/model_store.h"
#include "core/run/catalog.h"
#include "core/run/model_description.h"

namespace syn::ui {

QString to_string(ModelStatus status) {
    switch (status) {
    case ModelStatus::Available: return "available";
    case ModelStatus::NeedsDownload: return "needs download";
    case ModelStatus::Loading: return "loading";
    case ModelStatus::Ready: return "ready";
    case ModelStatus::Failed: return "failed";
    }
    return {};
}

QStringList pooling_options_for(const QString& family) {
    if (family == "lexical") return {"none"};
    if (family == "bert") return {"pooler", "mean", "cls", "mean+l2", "cls+l2"};
    if (family == "roberta") return {"cls", "mean", "pooler", "mean+l2", "random_pooler@0"};
    if (family == "clip") return {"projected", "pooler", "eos", "mean", "projected+l2"};
    if (family == "siglip") return {"projected", "pooler", "mean"};
    if (family == "t5") return {"mean", "mean+l2"};
    return {"mean", "cls", "pooler", "projected", "eos", "last_non_pad"};
}

namespace {

QString style_of_family(const QString& family) {
    return QString::fromStdString(syn::run::style_of_family(family.toStdString()));
}

QString human_params(qint64 n) {
    if (n <= 0) return QStringLiteral("—");
    if (n >= 1000000000) return QString::number(n / 1e9, 'f', 2) + " B";
    if (n >= 1000000) return QString::number(n / 1e6, 'f', n >= 100000000 ? 0 : 1) + " M";
    if (n >= 1000) return QString::number(n / 1e3, 'f', 1) + " k";
    return QString::number(n);
}

QColor status_colour(ModelStatus s) {
    switch (s) {
    case ModelStatus::Ready: return QColor(0x2e, 0x9d, 0x4f);
    case ModelStatus::Available: return QColor(0x2f, 0x6f, 0xb5);
    case ModelStatus::NeedsDownload: return QColor(0xb0, 0x7a, 0x10);
    case ModelStatus::Loading: return QColor(0x80, 0x60, 0xc0);
    case ModelStatus::Failed: return QColor(0xc8, 0x30, 0x30);
    }
    return {};
}

}  // namespace

FolderInspection inspect_model_folder(const QString& folder) {
    // The facts come from the engine's one description of a model folder (config.json through the
    // models' config readers, the checkpoint's header for the size); a corrupt checkpoint shows here
    // already, before any job runs.
    const syn::run::ModelDescription d = syn::run::describe_model(folder.toStdString());
    FolderInspection out;
    if (!d.ok()) {
        out.error = QString::fromStdString(d.error);
        return out;
    }
    if (d.weights_file.empty()) {
        out.error = folder + ": not a model folder: no weights (*.safetensors, pytorch_model.bin or *.ckpt)";
        return out;
    }
    out.model_type = QString::fromStdString(d.model_type);
    out.family = QString::fromStdString(d.family);
    out.style = QString::fromStdString(d.style);
    out.params = d.params;
    out.ok = true;
    return out;
}

ModelListModel::ModelListModel(QObject* parent) : QAbstractTableModel(parent) {}

QString ModelListModel::needsDownloadReason(const QString& cache_dir) {
    return QString("not in the local cache — Download fetches it from the hub into %1 (offline, the message "
                   "says which files to place where), or add the model folder")
        .arg(cache_dir);
}

void ModelListModel::populate(const QString& hf_cache_dir) {
    beginResetModel();
    entries_.clear();
    endResetModel();
    const std::string cache = hf_cache_dir.isEmpty() ? syn::hf_hub_cache_dir() : hf_cache_dir.toStdString();
    for (const auto& c : syn::run::load_catalog()) {
        ModelEntry e;
        e.id = QString::fromStdString(c.id);
        e.label = QString::fromStdString(c.paper_label.empty() ? c.id : c.paper_label);
        e.family = QString::fromStdString(c.family);
        e.style = QString::fromStdString(c.style);
        e.note = QString::fromStdString(c.note);
        e.params = c.params;
        auto sts = c.pooling.find("sts");
        e.default_pooling = sts != c.pooling.end() ? QString::fromStdString(sts->second) : QStringLiteral("mean");
        e.pooling = e.default_pooling;
        e.pooling_options = pooling_options_for(e.family);
        if (!e.pooling_options.contains(e.pooling)) e.pooling_options.prepend(e.pooling);
        if (c.is_lexical()) {
            e.source = "built in";
            e.status = ModelStatus::Ready;
            e.reason = "built-in baseline, no weights needed";
            e.checked = true;
            e.dtype = "—";
            e.device = "cpu";
        } else {
            e.source = "catalog";
            std::optional<syn::ResolvedModel> resolved;
            try {
                resolved = syn::resolve_model(c.id, "main", cache);
            } catch (const std::exception&) {
            }
            if (resolved) {
                e.folder = QString::fromStdString(resolved->folder);
                e.status = ModelStatus::Available;
                e.reason = "in the Hugging Face cache: " + e.folder;
            } else {
                e.status = ModelStatus::NeedsDownload;
                e.reason = needsDownloadReason(QString::fromStdString(cache));
            }
        }
        appendEntry(std::move(e));
    }
    // Other models in the cache (SimCSE variants, fine-tunes...): listed with what config.json says.
    std::vector<syn::ResolvedModel> cached;
    try {
        cached = syn::list_cached_models(cache);
    } catch (const std::exception&) {
    }
    for (const auto& m : cached) {
        const QString id = QString::fromStdString(m.id);
        if (findRow(id) >= 0) continue;
        const auto inspection = inspect_model_folder(QString::fromStdString(m.folder));
        ModelEntry e;
        e.id = id;
        e.label = id;
        e.source = "HF cache";
        e.folder = QString::fromStdString(m.folder);
        e.family = inspection.family.isEmpty() ? QStringLiteral("unknown") : inspection.family;
        e.style = style_of_family(e.family);
        e.params = inspection.params;
        e.default_pooling = e.pooling = "mean";
        e.pooling_options = pooling_options_for(e.family);
        e.status = inspection.ok ? ModelStatus::Available : ModelStatus::Failed;
        e.reason = inspection.ok ? "in the Hugging Face cache: " + e.folder : inspection.error;
        appendEntry(std::move(e));
    }
}

void ModelListModel::appendEntry(ModelEntry entry) {
    const int row = rowCount();
    beginInsertRows({}, row, row);
    entries_.push_back(std::move(entry));
    endInsertRows();
}

std::optional<int> ModelListModel::addFolder(const QString& folder_in, QString* error) {
    const QString folder = QDir::cleanPath(QFileInfo(folder_in).absoluteFilePath());
    const int existing = findRow(folder);
    if (existing >= 0) return existing;
    const auto inspection = inspect_model_folder(folder);
    if (!inspection.ok) {
        if (error) *error = inspection.error;
        return std::nullopt;
    }
    ModelEntry e;
    e.id = folder;
    e.label = QFileInfo(folder).fileName();
    e.source = "folder";
    e.folder = folder;
    e.family = inspection.family;
    e.style = inspection.style;
    e.params = inspection.params;
    e.default_pooling = e.pooling = "mean";
    e.pooling_options = pooling_options_for(e.family);
    e.status = ModelStatus::Available;
    e.reason = QString("local folder (%1)").arg(inspection.model_type);
    e.checked = true;
    appendEntry(std::move(e));
    emit checkedChanged();
    return rowCount() - 1;
}

int ModelListModel::addHubId(const QString& id, const QString& hf_cache_dir) {
    const int existing = findRow(id);
    if (existing >= 0) return existing;
    const std::string cache = hf_cache_dir.isEmpty() ? syn::hf_hub_cache_dir() : hf_cache_dir.toStdString();
    ModelEntry e;
    e.id = id;
    e.label = id;
    e.source = "hub id";
    e.family = "unknown";
    e.style = "other";
    e.default_pooling = e.pooling = "mean";
    e.pooling_options = pooling_options_for(e.family);
    std::optional<syn::ResolvedModel> resolved;
    try {
        resolved = syn::resolve_model(id.toStdString(), "main", cache);
    } catch (const std::exception& ex) {
        e.status = ModelStatus::Failed;
        e.reason = QString::fromUtf8(ex.what());
    }
    if (resolved) {
        const auto inspection = inspect_model_folder(QString::fromStdString(resolved->folder));
        e.folder = QString::fromStdString(resolved->folder);
        e.family = inspection.family;
        e.style = style_of_family(e.family);
        e.params = inspection.params;
        e.pooling_options = pooling_options_for(e.family);
        e.status = inspection.ok ? ModelStatus::Available : ModelStatus::Failed;
        e.reason = inspection.ok ? "in the Hugging Face cache: " + e.folder : inspection.error;
        e.checked = inspection.ok;
    } else if (e.status != ModelStatus::Failed) {
        e.status = ModelStatus::NeedsDownload;
        e.reason = needsDownloadReason(QString::fromStdString(cache));
    }
    appendEntry(std::move(e));
    return rowCount() - 1;
}

int ModelListModel::findRow(const QString& id_or_folder) const {
    for (size_t i = 0; i < entries_.size(); ++i)
        if (entries_[i].id == id_or_folder || (!entries_[i].folder.isEmpty() && entries_[i].folder == id_or_folder))
            return static_cast<int>(i);
    return -1;
}

std::vector<int> ModelListModel::checkedRows() const {
    std::vector<int> rows;
    for (size_t i = 0; i < entries_.size(); ++i)
        if (entries_[i].checked) rows.push_back(static_cast<int>(i));
    return rows;
}

void ModelListModel::setChecked(int row, bool checked) {
    setData(index(row, kName), checked ? Qt::Checked : Qt::Unchecked, Qt::CheckStateRole);
}
void ModelListModel::setPooling(int row, const QString& pooling) { setData(index(row, kPooling), pooling); }
void ModelListModel::setDtype(int row, const QString& dtype) { setData(index(row, kDtype), dtype); }
void ModelListModel::setDevice(int row, const QString& device) { setData(index(row, kDevice), device); }

bool ModelListModel::refreshFromCache(int row, const QString& hf_cache_dir) {
    auto& e = entries_[static_cast<size_t>(row)];
    const std::string cache = hf_cache_dir.isEmpty() ? syn::hf_hub_cache_dir() : hf_cache_dir.toStdString();
    std::optional<syn::ResolvedModel> resolved;
    try {
        resolved = syn::resolve_model(e.id.toStdString(), "main", cache);
    } catch (const std::exception&) {
    }
    if (!resolved) return false;
    e.folder = QString::fromStdString(resolved->folder);
    e.status = ModelStatus::Available;
    e.reason = "in the Hugging Face cache: " + e.folder;
    if (e.source != "catalog") {  // catalog rows know their family; hub ids learn it from config.json
        const auto inspection = inspect_model_folder(e.folder);
        e.family = inspection.family.isEmpty() ? QStringLiteral("unknown") : inspection.family;
        e.style = style_of_family(e.family);
        e.params = inspection.params;
        e.pooling_options = pooling_options_for(e.family);
        if (!inspection.ok) {
            e.status = ModelStatus::Failed;
            e.reason = inspection.error;
        }
    }
    emit dataChanged(index(row, 0), index(row, kColumnCount - 1));
    return true;
}

void ModelListModel::setStatus(int row, ModelStatus status, const QString& reason) {
    auto& e = entries_[static_cast<size_t>(row)];
    e.status = status;
    e.reason = reason;
    emit dataChanged(index(row, 0), index(row, kColumnCount - 1));
}

int ModelListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(entries_.size());
}
int ModelListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant ModelListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid()) return {};
    const auto& e = entry(index.row());
    const int col = index.column();
    if (role == Qt::CheckStateRole && col == kName) return e.checked ? Qt::Checked : Qt::Unchecked;
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        switch (col) {
        case kName: return e.label;
        case kFamily: return e.family;
        case kParams: return role == Qt::EditRole ? QVariant(e.params) : QVariant(human_params(e.params));
        case kPooling: return e.pooling;
        case kDtype: return e.dtype;
        case kDevice: return e.device;
        case kStatus: return to_string(e.status);
        default: return {};
        }
    }
    if (role == OptionsRole) {
        if (col == kPooling) return e.pooling_options;
        if (col == kDtype) return QStringList{"auto", "float32", "bfloat16", "float16"};
        if (col == kDevice) return QStringList{"auto", "cpu", "cuda"};
        return {};
    }
    if (role == Qt::ForegroundRole && col == kStatus) return QBrush(status_colour(e.status));
    if (role == Qt::ToolTipRole) {
        QString tip = QString("<b>%1</b><br>%2 · %3-style · source: %4").arg(e.id.toHtmlEscaped(), e.family, e.style,
                                                                              e.source);
        if (!e.folder.isEmpty()) tip += "<br>folder: " + e.folder.toHtmlEscaped();
        tip += QString("<br>status: %1 — %2").arg(to_string(e.status), e.reason.toHtmlEscaped());
        if (!e.note.isEmpty()) tip += "<br><i>" + e.note.toHtmlEscaped() + "</i>";
        if (col == kPooling) tip += "<br>Double-click to change the pooling (catalog default: " + e.default_pooling + ")";
        return tip;
    }
    return {};
}

QVariant ModelListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Model", "Status", "Family", "Params", "Pooling", "Dtype", "Device"};
    return section >= 0 && section < kColumnCount ? QString(names[section]) : QVariant();
}

bool ModelListModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid()) return false;
    auto& e = entries_[static_cast<size_t>(index.row())];
    if (role == Qt::CheckStateRole && index.column() == kName) {
        e.checked = value.toInt() == Qt::Checked;
        emit dataChanged(index, index, {Qt::CheckStateRole});
        emit checkedChanged();
        return true;
    }
    if (role != Qt::EditRole || e.is_lexical()) return false;
    const QString v = value.toString();
    if (index.column() == kPooling && !v.isEmpty()) e.pooling = v;
    else if (index.column() == kDtype && !v.isEmpty()) e.dtype = v;
    else if (index.column() == kDevice && !v.isEmpty()) e.device = v;
    else return false;
    emit dataChanged(index, index);
    return true;
}

Qt::ItemFlags ModelListModel::flags(const QModelIndex& index) const {
    if (!index.isValid()) return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (index.column() == kName) f |= Qt::ItemIsUserCheckable;
    const bool editable = index.column() == kPooling || index.column() == kDtype || index.column() == kDevice;
    if (editable && !entry(index.row()).is_lexical()) f |= Qt::ItemIsEditable;
    return f;
}

}  // namespace syn::ui
