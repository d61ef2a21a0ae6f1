#pragma once
// The workbench's main window: the caption-pair explorer in the centre (or, before data is loaded,
// a page that says what to open and how to get models), dockable panels around it (models, scatter,
// Table 2, prompt box, jobs), menus with shortcuts, a status bar naming the compute device with the
// running job's progress, sessions as project files, exports and presentation mode.
// Every heavy action is a job on the one ComputeWorker; results come back through typed job handles.
#include <QMainWindow>
#include <QStringList>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/run/progress.h"
#include "ui/plots/plot_export.h"
#include "ui/presentation.h"
#include "ui/session/project.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QDockWidget;
class QMenu;
class QAction;
class QCustomPlot;
class QToolBar;

namespace syn::data {
struct StsDataset;
}
namespace syn::run {
struct StsResult;
}

namespace syn::ui {

class ComputeWorker;
class ModelListModel;
class ModelPickerPanel;
class PairExplorerPanel;
class ScatterPanel;
class Table2Panel;
class PromptPanel;
class JobsPanel;
class GluePanel;
class MappingTrainingPanel;
class ModelDownloads;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Panels and models (tests, the screenshot mode).
    ComputeWorker* worker() const { return worker_; }
    ModelListModel* modelList() const { return model_list_; }
    ModelPickerPanel* modelPicker() const { return picker_; }
    PairExplorerPanel* explorer() const { return explorer_; }
    ScatterPanel* scatter() const { return scatter_; }
    Table2Panel* table2() const { return table2_; }
    PromptPanel* promptPanel() const { return prompt_; }
    JobsPanel* jobsPanel() const { return jobs_; }
    GluePanel* gluePanel() const { return glue_; }
    MappingTrainingPanel* mappingTrainingPanel() const { return mapping_; }
    ModelDownloads* downloads() const { return downloads_; }
    bool hasData() const;
    std::shared_ptr<const syn::run::StsResult> stsResult() const { return result_; }
    QString lastError() const { return last_error_; }
    // Error boxes are non-modal; tests and the screenshot mode turn them off (the status bar and
    // lastError() still carry the message).
    // The same switch turns off the picker's non-modal "download it?" offer.
    void setErrorBoxesEnabled(bool enabled);

    // Looks for the CxC / COCO files ($SYNESTHESIA_SHARED/data, then the last used paths) and loads
    // them; returns false (and shows the empty-state page) when none are found.
    bool autoFindData();
    // Jobs: return the job id (0 when nothing was submitted; the reason is in the status bar).
    int loadData(const QString& cxc_csv, const QString& captions_json, int max_pairs = 0);
    int runSts();
    int searchPrompt(const QString& prompt, int k);
    // Models ▸ Free model memory: empties the compute worker's resident model session (a job, so it
    // runs after the queued ones).
    int freeModelMemory();
    // Shows a result as if an STS job had produced it (tests, merged runs).
    void showStsResult(std::shared_ptr<const syn::run::StsResult> result);
    // Selects the models named (catalog ids, hub ids or folders) and unticks the others; returns
    // false when one could not be added (the message names it).
    bool selectModels(const QStringList& ids);
    void setMaxPairs(int max_pairs) { max_pairs_ = max_pairs; }

    // Sessions.
    ProjectState projectState() const;
    void applyProject(const ProjectState& state);
    bool saveProject(const QString& path);
    bool openProject(const QString& path);
    QStringList recentProjects() const;
    // The session as the window last closed (QSettings "session/last", written on every close):
    // whether there is one with data to restore, restoring it (data, models, filters, layout, and
    // the results rebuilt from the embedding cache), and the non-modal offer made at start.
    bool hasLastSession() const;
    bool restoreLastSession();
    void offerLastSession();
    // Runs the STS job again for the encoders of a saved result on the loaded data (a normal
    // background job with progress): their embeddings come from the cache, none is recomputed
    // when all are there. Opening a project with results does this by itself.
    int rebuildResults(const std::vector<ProjectStsModel>& models);
    // Whether a layout made on a screen with `saved_screen` available may be restored on one with
    // `available`: not when it was larger (its docks and window would not fit); yes when unknown.
    static bool savedLayoutFits(const QSize& saved_screen, const QSize& available);

    // Exports (errors shown, false returned).
    bool exportPlot(QCustomPlot* plot, const QString& path, const PlotExportSize& size);
    bool exportPairsTable(const QString& path);
    bool exportTable2(const QString& path);
    // Table 1 (GLUE): opens a `synesthesia glue` manifest into its panel. A missing or bad file: the
    // message in the status bar (no dialog), false, and the panel keeps what it showed.
    bool loadGlueResults(const QString& path);
    bool exportGlueTable(const QString& path);

    // Palette and presentation mode.
    void setDark(bool dark);
    bool isDark() const { return dark_; }
    // Presentation mode (View ▸ Presentation mode, F11): full screen, larger fonts and plot text,
    // only the panels a talk needs (pair table, the two plots as tabs, prompt box); Esc or F11
    // again restores the layout, fonts and window as they were.
    void setPresentationMode(bool on);
    // A scripted presentation: presentation mode plus a banner stepping through prompts / pairs
    // with Space / PageDown / PageUp (View ▸ Presentation from file…, Ctrl+F11).
    void startPresentation(std::vector<PresentationItem> items);
    void stopPresentation();
    bool presenting() const { return presenting_; }
    int presentationIndex() const { return present_index_; }
    void presentationStep(int delta);

    // One PNG per panel plus the whole window into `dir`; returns the paths written.
    QStringList saveScreenshots(const QString& dir);

    // Puts every dock back where it belongs for the window's current size (View ▸ Reset layout):
    // on a short screen (under 880 px) the two plots share one full-height column as tabs, on a
    // narrow one (under 1500 px) the prompt and jobs docks share the bottom as tabs; the plot column
    // takes a fixed share of the width, so extra width no longer all goes to the table.
    void arrangeDocks();
    QDockWidget* dock(const QString& name) const;
    // `filters` ("A (*.a);;B (*.b)") entry matching `file_name`'s suffix (the first when none does).
    static QString exportFilterFor(const QString& filters, const QString& file_name);

signals:
    void dataLoaded();
    void dataLoadFailed(const QString& message);
    void stsFinished(bool ok);
    void modelMemoryFreed();
    void promptFinished(bool ok);
    void errorShown(const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    void fitToScreen();
    void sizeDocks();
    QSize availableScreenSize() const;
    // Restores a saved geometry and dock state when they fit this screen; else leaves the layout
    // as it is (at start: the adaptive default). Returns whether it restored.
    bool restoreLayout(const QByteArray& geometry, const QByteArray& state, const QSize& saved_screen);
    int submitSts(const std::vector<ProjectStsModel>& models, const QString& title);
    QString saveFileName(const QString& title, const QString& proposed, const QString& filters);
    void buildPanels();
    void buildMenus();
    void buildStatusBar();
    void showEmptyState(const QString& extra = {});
    void showError(const QString& message);
    void showInfo(const QString& message);
    // An error in the status bar (and lastError / errorShown) without a message box: downloads.
    void showStatusError(const QString& message);
    void downloadStudyModelsDialog();
    void onDataLoaded(std::shared_ptr<const syn::data::StsDataset> dataset);
    // A progress callback keeping each model's status in the list in step with an STS job (rows by
    // job model).
    std::function<void(const syn::run::Progress&, double)> stsStageFollower(const std::map<std::string, int>& row_of);
    void setPlotStyle();
    void addRecentProject(const QString& path);
    void refreshRecentMenu();
    void showPresentationItem();
    void openDataDialog();
    void exportPlotDialog(QCustomPlot* plot, const QString& name);
    void exportTableDialog(bool table2);

    ComputeWorker* worker_ = nullptr;
    ModelListModel* model_list_ = nullptr;
    ModelPickerPanel* picker_ = nullptr;
    PairExplorerPanel* explorer_ = nullptr;
    ScatterPanel* scatter_ = nullptr;
    Table2Panel* table2_ = nullptr;
    PromptPanel* prompt_ = nullptr;
    JobsPanel* jobs_ = nullptr;
    GluePanel* glue_ = nullptr;
    MappingTrainingPanel* mapping_ = nullptr;
    ModelDownloads* downloads_ = nullptr;
    QStackedWidget* central_ = nullptr;
    QLabel* empty_label_ = nullptr;
    std::map<QString, QDockWidget*> docks_;

    QLabel* device_label_ = nullptr;
    QLabel* job_label_ = nullptr;
    QLabel* job_eta_ = nullptr;
    QProgressBar* job_progress_ = nullptr;
    QPushButton* job_cancel_ = nullptr;
    QMenu* recent_menu_ = nullptr;
    QAction* dark_action_ = nullptr;
    QAction* light_action_ = nullptr;
    QList<QAction*> presentation_step_actions_;  // Space, PageDown, ...: only while a script runs
    QAction* presentation_escape_ = nullptr;
    QAction* presentation_toggle_ = nullptr;
    QToolBar* main_toolbar_ = nullptr;
    QLabel* present_banner_ = nullptr;
    QToolBar* present_bar_ = nullptr;
    QByteArray state_before_presenting_;
    QByteArray geometry_before_presenting_;
    bool sized_on_first_show_ = false;
    bool layout_restored_ = false;  // the last session's layout: its dock sizes are kept at first show

    int running_job_ = 0;

    QString cxc_csv_, captions_json_;
    int max_pairs_ = 0;
    std::shared_ptr<const syn::data::StsDataset> dataset_;
    std::shared_ptr<const syn::run::StsResult> result_;
    std::vector<ProjectStsModel> result_models_;    // the STS job that made result_ (saved in projects)
    std::vector<ProjectStsModel> pending_rebuild_;  // results to rebuild once the project's data is loaded
    QString project_path_;
    QString last_error_;
    bool error_boxes_ = true;
    bool dark_ = false;
    int pending_sort_column_ = -1;
    int pending_sort_order_ = 0;
    QString pending_scatter_encoder_;

    bool presenting_ = false;
    std::vector<PresentationItem> present_items_;
    int present_index_ = -1;
    QFont normal_font_;
    bool was_maximized_ = false;
};

}  // namespace syn::ui
