#include "ui/panels/model_picker.h"

#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSettings>
#include <QTableView>
#include <QVBoxLayout>

#include "core/io/model_store.h"
#include "ui/compute/model_downloads.h"
#include "ui/models/model_list_model.h"

namespace syn::ui {

QWidget* OptionsDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                                       const QModelIndex& index) const {
    const QStringList options = index.data(ModelListModel::OptionsRole).toStringList();
    if (options.isEmpty()) return QStyledItemDelegate::createEditor(parent, option, index);
    auto* combo = new QComboBox(parent);
    combo->addItems(options);
    combo->setEditable(index.column() == ModelListModel::kPooling);  // "cls+l2" and friends may be typed
    return combo;
}

void OptionsDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const {
    if (auto* combo = qobject_cast<QComboBox*>(editor)) combo->setCurrentText(index.data(Qt::EditRole).toString());
    else QStyledItemDelegate::setEditorData(editor, index);
}

void OptionsDelegate::setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const {
    if (auto* combo = qobject_cast<QComboBox*>(editor)) model->setData(index, combo->currentText(), Qt::EditRole);
    else QStyledItemDelegate::setModelData(editor, model, index);
}

ModelPickerPanel::ModelPickerPanel(ModelListModel* model, QWidget* parent) : QWidget(parent), model_(model) {
    setAcceptDrops(true);
    view_ = new QTableView(this);
    view_->setObjectName("modelTable");
    view_->setModel(model_);
    view_->setItemDelegate(new OptionsDelegate(view_));
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::SelectedClicked |
                           QAbstractItemView::EditKeyPressed);
    view_->verticalHeader()->hide();
    view_->horizontalHeader()->setStretchLastSection(true);
    view_->horizontalHeader()->setSectionResizeMode(ModelListModel::kName, QHeaderView::Interactive);
    view_->setWordWrap(false);
    view_->setTextElideMode(Qt::ElideMiddle);
    view_->verticalHeader()->setDefaultSectionSize(22);
    const int widths[] = {190, 105, 60, 60, 80, 75, 55};
    for (int c = 0; c < ModelListModel::kColumnCount; ++c) view_->setColumnWidth(c, widths[c]);
    view_->setAlternatingRowColors(true);
    view_->setToolTip("Tick the encoders to compare. Double-click pooling, dtype or device to change them.\n"
                      "Drop a model folder here to add it.");

    auto* add_folder = new QPushButton(QIcon(":/icons/folder.svg"), "Add folder…", this);
    add_folder->setToolTip("Add a Hugging Face model folder (config.json + weights + tokenizer); drag and drop works too");
    connect(add_folder, &QPushButton::clicked, this, &ModelPickerPanel::chooseFolder);
    hub_id_ = new QLineEdit(this);
    hub_id_->setPlaceholderText("hub id, e.g. openai/clip-vit-base-patch32");
    hub_id_->setToolTip("A Hugging Face hub id: used from the local cache when present, else offered for download");
    auto* add_hub = new QPushButton("Add id", this);
    add_hub->setToolTip("Add the hub id typed on the left");
    auto add_hub_id = [this] {
        if (!hub_id_->text().trimmed().isEmpty() && addHubId(hub_id_->text().trimmed())) hub_id_->clear();
    };
    connect(add_hub, &QPushButton::clicked, this, add_hub_id);
    connect(hub_id_, &QLineEdit::returnPressed, this, add_hub_id);

    summary_ = new QLabel(this);
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    connect(model_, &ModelListModel::checkedChanged, this, &ModelPickerPanel::updateSummary);
    connect(model_, &QAbstractItemModel::modelReset, this, &ModelPickerPanel::updateSummary);
    connect(model_, &QAbstractItemModel::dataChanged, this, &ModelPickerPanel::updateSummary);
    connect(model_, &QAbstractItemModel::rowsInserted, this, &ModelPickerPanel::updateSummary);
    connect(view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                if (!current.isValid()) return;
                const auto& e = model_->entry(current.row());
                summary_->setText(QString("<b>%1</b>: %2 — %3").arg(e.label.toHtmlEscaped(), to_string(e.status),
                                                                     e.reason.toHtmlEscaped()));
            });

    download_ = new QPushButton("Download", this);
    download_->setObjectName("downloadModelButton");
    download_->setToolTip("Download the selected model from the Hugging Face hub into the local cache "
                          "(progress, ETA and Cancel in the Jobs panel)");
    download_->setVisible(false);  // until a download manager is set
    connect(download_, &QPushButton::clicked, this, &ModelPickerPanel::downloadCurrent);
    connect(view_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &ModelPickerPanel::updateDownloadButton);
    connect(model_, &QAbstractItemModel::dataChanged, this, &ModelPickerPanel::updateDownloadButton);
    view_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(view_, &QTableView::customContextMenuRequested, this, &ModelPickerPanel::showContextMenu);
    // Name and status are not editable, so a double-click there is free for "download this".
    connect(view_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        if (index.column() == ModelListModel::kName || index.column() == ModelListModel::kStatus) {
            if (downloads_ && downloads_->canDownload(index.row())) downloadRow(index.row());
        }
    });

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(add_folder);
    buttons->addWidget(hub_id_, 1);
    buttons->addWidget(add_hub);
    buttons->addWidget(download_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(view_, 1);
    layout->addLayout(buttons);
    layout->addWidget(summary_);
    updateSummary();
}

void ModelPickerPanel::updateSummary() {
    const auto rows = model_->checkedRows();
    int needs_download = 0;
    for (const auto& e : model_->entries())
        if (e.status == ModelStatus::NeedsDownload) ++needs_download;
    QStringList names;
    for (int r : rows) names << model_->entry(r).label;
    QString text = QString("<b>%1 selected</b>: %2").arg(rows.size()).arg(names.join(", ").toHtmlEscaped());
    if (needs_download > 0)
        text += QString("<br><span style='color:#b07a10'>%1 catalog models are not in the local cache (%2). "
                        "Download (button, double-click or right-click on the row; Models ▸ Download study "
                        "models for all) fetches them from the hub into that cache, shared with Python; offline, "
                        "the message says which files to place where. The lexical baselines always work.</span>")
                    .arg(needs_download).arg(QString::fromStdString(syn::hf_hub_cache_dir()).toHtmlEscaped());
    summary_->setText(text);
}

void ModelPickerPanel::setDownloads(ModelDownloads* downloads) {
    downloads_ = downloads;
    download_->setVisible(downloads_ != nullptr);
    if (downloads_) {
        connect(downloads_, &ModelDownloads::downloadFinished, this, &ModelPickerPanel::updateDownloadButton);
    }
    updateDownloadButton();
}

int ModelPickerPanel::downloadRow(int row) {
    if (!downloads_ || !downloads_->canDownload(row)) return 0;
    const int job = downloads_->downloadRow(row);
    updateDownloadButton();
    return job;
}

void ModelPickerPanel::downloadCurrent() {
    const QModelIndex current = view_->currentIndex();
    if (current.isValid()) downloadRow(current.row());
}

void ModelPickerPanel::updateDownloadButton() {
    const QModelIndex current = view_->currentIndex();
    download_->setEnabled(downloads_ && current.isValid() && downloads_->canDownload(current.row()));
}

void ModelPickerPanel::showContextMenu(const QPoint& pos) {
    const QModelIndex index = view_->indexAt(pos);
    if (!index.isValid() || !downloads_) return;
    QMenu menu(this);
    QAction* download = menu.addAction("Download from the hub");
    download->setEnabled(downloads_->canDownload(index.row()));
    if (menu.exec(view_->viewport()->mapToGlobal(pos)) == download) downloadRow(index.row());
}

void ModelPickerPanel::offerDownload(int row) {
    if (!downloads_ || !offer_downloads_ || !downloads_->canDownload(row)) return;
    const QString id = model_->entry(row).id;
    // Non-modal: the application keeps working while the question is on screen.
    auto* box = new QMessageBox(QMessageBox::Question, "Download model",
                                QString("%1 is not in the local Hugging Face cache (%2).\n\nDownload it from the hub now?")
                                    .arg(id, QString::fromStdString(syn::hf_hub_cache_dir())),
                                QMessageBox::Yes | QMessageBox::No, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setModal(false);
    connect(box, &QMessageBox::buttonClicked, this, [this, box, id](QAbstractButton* button) {
        if (box->standardButton(button) != QMessageBox::Yes) return;
        const int r = model_->findRow(id);
        if (r >= 0) downloadRow(r);
    });
    box->show();
}

void ModelPickerPanel::chooseFolder() {
    const QString folder = QFileDialog::getExistingDirectory(this, "Add a model folder");
    if (!folder.isEmpty()) addFolder(folder);
}

bool ModelPickerPanel::addFolder(const QString& folder) {
    QString error;
    const auto row = model_->addFolder(folder, &error);
    if (!row) {
        emit errorOccurred(error);
        return false;
    }
    view_->selectRow(*row);
    view_->scrollTo(model_->index(*row, 0));
    QSettings settings;
    QStringList saved = settings.value("models/folders").toStringList();
    const QString added = model_->entry(*row).folder;
    if (!added.isEmpty() && !saved.contains(added)) {
        saved << added;
        settings.setValue("models/folders", saved);
    }
    emit message(QString("Added model folder %1").arg(folder));
    return true;
}

QStringList ModelPickerPanel::restoreSavedFolders() {
    QStringList not_found;
    for (const QString& folder : QSettings().value("models/folders").toStringList()) {
        QString error;
        if (!model_->addFolder(folder, &error)) not_found << folder;
    }
    return not_found;
}

bool ModelPickerPanel::addHubId(const QString& id) {
    const int row = model_->addHubId(id);
    const auto& e = model_->entry(row);
    view_->selectRow(row);
    if (e.status == ModelStatus::Failed) {
        emit errorOccurred(e.reason);
        return false;
    }
    emit message(QString("%1: %2 — %3").arg(id, to_string(e.status), e.reason));
    if (e.status == ModelStatus::NeedsDownload) offerDownload(row);
    return true;
}

void ModelPickerPanel::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) {
        for (const QUrl& url : event->mimeData()->urls())
            if (url.isLocalFile() && QFileInfo(url.toLocalFile()).isDir()) {
                event->acceptProposedAction();
                return;
            }
    }
    event->ignore();
}

void ModelPickerPanel::dropEvent(QDropEvent* event) {
    for (const QUrl& url : event->mimeData()->urls())
        if (url.isLocalFile()) addFolder(url.toLocalFile());
    event->acceptProposedAction();
}

}  // namespace syn::ui
