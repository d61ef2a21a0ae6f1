#pragma once
// The model picker: catalog, cache and user folders with checkboxes (several at once), editable
// pooling / dtype / device (combo boxes), status with reason; add by folder (dialog or drag and
// drop) or by hub id.
#include <QStyledItemDelegate>
#include <QWidget>

class QTableView;
class QLineEdit;
class QLabel;

namespace syn::ui {

class ModelListModel;

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

    // Adds a folder; on failure emits errorOccurred with the reason and returns false.
    bool addFolder(const QString& folder);
    bool addHubId(const QString& id);

public slots:
    void chooseFolder();

signals:
    void errorOccurred(const QString& message);
    void message(const QString& text);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void updateSummary();
    ModelListModel* model_;
    QTableView* view_;
    QLineEdit* hub_id_;
    QLabel* summary_;
};

}  // namespace syn::ui
