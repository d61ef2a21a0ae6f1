#pragma once
// The study's Table 1 (GLUE) from a `synesthesia glue` manifest (glue_manifest.json): one row per
// model we ran ("… (ours)": mean over seeds of each seed's best epoch, "± sd" with several seeds)
// with the paper's numbers beside it ("… (paper)"). The paper's row comes from the manifest when it
// carries one (a model the study reported); otherwise the panel lists the paper's whole Table 1
// under ours for reference. Before any file is opened it says how to produce one.
#include <QString>
#include <QWidget>

#include <memory>

class QLabel;
class QStackedWidget;
class QStandardItemModel;
class QTableView;

namespace syn::ui {

// Table 1's columns: Model, Params, the eight tasks, Avg.
QStringList glue_table_headers();
// The table of a manifest. Each row's Qt::UserRole on column 0 is "ours" or "paper"; task cells carry
// the number (x100) in Qt::UserRole (invalid when the task was not run). `note` (optional) receives
// the sentence saying which numbers are ours and which the paper's. Throws syn::Error naming the file
// (and the key) when it cannot be read, is not JSON, or is not a GLUE manifest.
std::unique_ptr<QStandardItemModel> glue_table_from_manifest(const QString& path, QString* note = nullptr);

class GluePanel : public QWidget {
    Q_OBJECT
public:
    explicit GluePanel(QWidget* parent = nullptr);
    ~GluePanel() override;
    // Shows the manifest's table; on error throws syn::Error and keeps what was shown before.
    void loadManifest(const QString& path);
    void clear();
    bool hasResults() const { return !path_.isEmpty(); }
    QString manifestPath() const { return path_; }
    QStandardItemModel* model() const { return model_.get(); }
    QString note() const;
    QString emptyText() const;
    QTableView* view() const { return view_; }

private:
    std::unique_ptr<QStandardItemModel> model_;
    QStackedWidget* stack_;
    QLabel* empty_;
    QLabel* note_;
    QTableView* view_;
    QString path_;
};

}  // namespace syn::ui
