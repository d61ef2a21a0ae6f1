#pragma once
// The model picker: catalog, cache and user folders with checkboxes (several at once), editable
// pooling / dtype / device (combo boxes), status with reason; add by folder (dialog or drag and
// drop) or by hub id; models not in the cache are downloaded from the hub (ModelDownloads).
#include <QStyledItemDelegate>
#include <QWidget>

class QTableView;
class QLineEdit;
class QLabel;
class QPushButton;

namespace syn::ui {

class ModelListModel;
class ModelDownloads;

// A combo box editor offering the choices in ModelListModel::OptionsRole.
class OptionsDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    void setEditorData(QWidget* editor, const QModelIndex& index) const override;
    void setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const override;
};

class ModelPickerPanel : public QWidget {
    Q_OBJECT
public:
    explicit ModelPickerPanel(ModelListModel* model, QWidget* parent = nullptr);
    ModelListModel* model() const { return model_; }
    QTableView* view() const { return view_; }

    // Adds a folder; on failure emits errorOccurred with the reason and returns false. Added
    // folders are remembered (QSettings "models/folders") for the next start.
    bool addFolder(const QString& folder);
    // Adds the folders remembered from earlier sessions; returns those that are not model folders
    // (any more): left out of the list but still remembered (a drive may be unmounted).
    QStringList restoreSavedFolders();
    bool addHubId(const QString& id);

    // Enables the Download actions (button, context menu, double-click on a "needs download" row,
    // the offer after "Add id"). Without it the picker only uses what is in the cache.
    void setDownloads(ModelDownloads* downloads);
    ModelDownloads* downloads() const { return downloads_; }
    // What the Download actions call: starts the download of that row's model; returns the job id
    // (0 when the row cannot be downloaded or no download manager is set).
    int downloadRow(int row);
    // Whether "Add id" asks (non-modal) to download an id that is not in the cache; tests turn it off.
    void setDownloadOffersEnabled(bool enabled) { offer_downloads_ = enabled; }

public slots:
    void chooseFolder();
    void downloadCurrent();

signals:
    void errorOccurred(const QString& message);
    void message(const QString& text);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void updateSummary();
    void updateDownloadButton();
    void offerDownload(int row);
    void showContextMenu(const QPoint& pos);
    ModelListModel* model_;
    QTableView* view_;
    QLineEdit* hub_id_;
    QLabel* summary_;
    QPushButton* download_ = nullptr;
    ModelDownloads* downloads_ = nullptr;
    bool offer_downloads_ = true;
};

}  // namespace syn::ui
