#include "ui/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QInputDialog>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <cmath>
#include <optional>
#include <utility>

#include "core/io/model_store.h"
#include "core/io/torch/torch_runtime.h"
#include "core/run/jobs/sts_job.h"
#include "core/run/reports/sts_report.h"
#include "ui/about.h"
#include "ui/compute/compute_worker.h"
#include "ui/compute/jobs.h"
#include "ui/models/model_list_model.h"
#include "ui/models/pair_table_model.h"
#include "ui/models/table_export.h"
#include "ui/panels/glue_panel.h"
#include "ui/panels/face_generation_panel.h"
#include "ui/panels/jobs_panel.h"
#include "ui/panels/mapping_training_panel.h"
#include "ui/compute/model_downloads.h"
#include "ui/panels/model_picker.h"
#include "ui/panels/pair_explorer.h"
#include "ui/panels/plot_panels.h"
#include "ui/panels/prompt_panel.h"
#include "ui/plots/sts_figures.h"
#include "ui/theme.h"

namespace syn::ui {

namespace {
constexpr int kMaxRecent = 8;
const QString kQueuedInSts = "queued in the STS job";
const QString kEmbeddedInSts = "embedded; the STS statistics are running";
const QSize kDefaultWindowSize(1400, 900);
// Below these window sizes two docks share one place as tabs: split, each plot would get less
// than ~300 px of height, or the prompt and jobs docks less than ~420 px of width each.
constexpr int kSplitPlotsMinHeight = 880;
constexpr int kSplitBottomMinWidth = 1500;

// A status-bar label that gives up width first: it shows as much of its text as fits, with "…",
// instead of pushing the progress bar, Cancel and the device name past the window's edge.
class ElidingLabel : public QLabel {
public:
    ElidingLabel(const QString& text, Qt::TextElideMode mode, QWidget* parent) : QLabel(text, parent), mode_(mode) {}
    QSize minimumSizeHint() const override {
        return {fontMetrics().horizontalAdvance(QStringLiteral("MMMM…")), QLabel::minimumSizeHint().height()};
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter painter(this);
        const QRect r = contentsRect();
        painter.setPen(palette().color(foregroundRole()));
        painter.drawText(r, Qt::AlignVCenter | Qt::AlignLeft | Qt::TextSingleLine,
                         fontMetrics().elidedText(text(), mode_, r.width()));
    }

private:
    Qt::TextElideMode mode_;
};

QString shared_dir_from_env() {
    const QByteArray env = qgetenv("SYNESTHESIA_SHARED");
    return env.isEmpty() ? QString() : QString::fromLocal8Bit(env);
}

// Table 2 as an item model, so that it exports through the same CSV / Markdown / LaTeX writer.
std::unique_ptr<QStandardItemModel> table2_model(const syn::run::StsResult& result) {
    auto model = std::make_unique<QStandardItemModel>();
    model->setHorizontalHeaderLabels({"Encoder", "Pooling", "STS-L Spearman", "STS-L Pearson", "STS-V Spearman",
                                      "STS-V Pearson"});
    auto cell = [](const syn::eval::CorrelationEstimate& e) {
        if (!std::isfinite(e.point.value)) return QString("n/a");
        QString s = QString::number(100 * e.point.value, 'f', 1);
        if (std::isfinite(e.ci.lower) && std::isfinite(e.ci.upper))
            s += QString(" [%1, %2]").arg(100 * e.ci.lower, 0, 'f', 1).arg(100 * e.ci.upper, 0, 'f', 1);
        return s;
    };
    for (const auto& e : result.encoders) {
        model->appendRow({new QStandardItem(QString::fromStdString(e.label.empty() ? e.model : e.label)),
                          new QStandardItem(QString::fromStdString(e.pooling)), new QStandardItem(cell(e.all.sts_l_spearman)),
                          new QStandardItem(cell(e.all.sts_l_pearson)), new QStandardItem(cell(e.all.sts_v_spearman)),
                          new QStandardItem(cell(e.all.sts_v_pearson))});
    }
    return model;
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    init_resources();
    setWindowTitle("Synesthesia Workbench");
    setWindowIcon(QIcon(":/icons/app.svg"));
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks | QMainWindow::AllowNestedDocks);
    // The plot column takes the full height on the right: on a short screen height is what the
    // plots lack; the prompt and jobs docks sit under the table (and the models) instead.
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    normal_font_ = font();
    worker_ = new ComputeWorker(this);

    model_list_ = new ModelListModel(this);
    model_list_->populate();
    buildPanels();
    buildStatusBar();
    buildMenus();
    fitToScreen();
    arrangeDocks();
    QSettings settings;
    setDark(settings.value("view/dark", false).toBool());
    // The layout the window closed with, unless it was made for a larger screen than this one.
    layout_restored_ = restoreLayout(settings.value("window/geometry").toByteArray(),
                                     settings.value("window/state").toByteArray(),
                                     settings.value("window/screen").toSize());
    const QStringList missing_folders = picker_->restoreSavedFolders();
    showEmptyState();
    if (!missing_folders.isEmpty())
        showInfo("Model folders added earlier that are not model folders now (kept for later): " + missing_folders.join(", "));
}

MainWindow::~MainWindow() { worker_->cancelAll(); }

void MainWindow::showEvent(QShowEvent* event) {
    QMainWindow::showEvent(event);
    if (sized_on_first_show_) return;
    sized_on_first_show_ = true;
    // The dock sizes of the constructor were set before the window had its real size (a window
    // manager may still maximize it): set them again for the size it shows at.
    // A restored layout keeps the dock sizes it was saved with.
    if (layout_restored_) return;
    QTimer::singleShot(0, this, [this] {
        if (!presenting_) sizeDocks();
    });
}

QSize MainWindow::availableScreenSize() const {
    const QScreen* s = screen() ? screen() : QGuiApplication::primaryScreen();
    return s ? s->availableGeometry().size() : QSize();
}

bool MainWindow::savedLayoutFits(const QSize& saved_screen, const QSize& available) {
    if (!saved_screen.isValid() || !available.isValid()) return true;
    return saved_screen.width() <= available.width() && saved_screen.height() <= available.height();
}

bool MainWindow::restoreLayout(const QByteArray& geometry, const QByteArray& state, const QSize& saved_screen) {
    if (geometry.isEmpty() || state.isEmpty()) return false;
    const QSize available = availableScreenSize();
    // Made on a larger screen: its docks were sized for room this screen lacks (plots side by side
    // at full height, ...); the adaptive layout for this screen is the better start.
    if (!savedLayoutFits(saved_screen, available)) return false;
    if (restoreGeometry(geometry) && restoreState(state)) {
        if (isMaximized() || isFullScreen() || !available.isValid() ||
            (width() <= available.width() && height() <= available.height()))
            return true;
    }
    // Unreadable, or a window larger than the screen (a layout saved before the screen's size was
    // recorded): the adaptive default.
    fitToScreen();
    arrangeDocks();
    return false;
}

void MainWindow::fitToScreen() {
    const QScreen* s = screen() ? screen() : QGuiApplication::primaryScreen();
    const QRect avail = s ? s->availableGeometry() : QRect(QPoint(0, 0), kDefaultWindowSize);
    // Room for the default size and a window frame: use it. Else (a 1366x768 laptop, a 1280x720
    // projector) the whole available area, maximized, so that no edge of the window is off screen.
    if (avail.width() >= kDefaultWindowSize.width() + 40 && avail.height() >= kDefaultWindowSize.height() + 60) {
        resize(kDefaultWindowSize);
        return;
    }
    setGeometry(avail);
    setWindowState(windowState() | Qt::WindowMaximized);
}

QDockWidget* MainWindow::dock(const QString& name) const {
    auto it = docks_.find(name);
    return it == docks_.end() ? nullptr : it->second;
}

void MainWindow::arrangeDocks() {
    const QSize room = size();
    const bool tall = room.height() >= kSplitPlotsMinHeight;
    const bool wide = room.width() >= kSplitBottomMinWidth;
    // Every dock out and back in: undoes the tabs, splits and floating of an earlier arrangement.
    for (auto& [name, d] : docks_) {
        (void)name;
        d->setFloating(false);
        removeDockWidget(d);
    }
    addDockWidget(Qt::LeftDockWidgetArea, docks_["models"]);
    addDockWidget(Qt::RightDockWidgetArea, docks_["scatter"]);
    if (tall) splitDockWidget(docks_["scatter"], docks_["table2"], Qt::Vertical);
    else tabifyDockWidget(docks_["scatter"], docks_["table2"]);
    tabifyDockWidget(docks_["table2"], docks_["glue"]);  // Table 1 shares Table 2's place
    addDockWidget(Qt::BottomDockWidgetArea, docks_["prompt"]);
    if (wide) splitDockWidget(docks_["prompt"], docks_["jobs"], Qt::Horizontal);
    else tabifyDockWidget(docks_["prompt"], docks_["jobs"]);
    tabifyDockWidget(docks_["jobs"], docks_["mapping"]);  // mapping training shares the jobs' place
    for (auto& [name, d] : docks_) {
        (void)name;
        d->show();
    }
    docks_["jobs"]->raise();
    if (!wide) docks_["prompt"]->raise();
    docks_["table2"]->raise();
    if (!tall) docks_["scatter"]->raise();
    sizeDocks();
}

void MainWindow::sizeDocks() {
    const QSize room = size();
    resizeDocks({docks_["models"]}, {std::clamp(room.width() * 22 / 100, 240, 470)}, Qt::Horizontal);
    resizeDocks({docks_["scatter"]}, {std::clamp(room.width() * 37 / 100, 340, 680)}, Qt::Horizontal);
    resizeDocks({docks_["prompt"]}, {std::clamp(room.height() * 26 / 100, 170, 280)}, Qt::Vertical);
    if (!docks_["scatter"]->isFloating() && !tabifiedDockWidgets(docks_["scatter"]).contains(docks_["table2"]))
        resizeDocks({docks_["scatter"], docks_["table2"]}, {room.height() / 2, room.height() / 2}, Qt::Vertical);
    if (!tabifiedDockWidgets(docks_["prompt"]).contains(docks_["jobs"]))
        resizeDocks({docks_["prompt"], docks_["jobs"]}, {room.width() * 55 / 100, room.width() * 45 / 100},
                    Qt::Horizontal);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings settings;
    // The layout comes back at the next start, the whole session when the user accepts the offer.
    const ProjectState session = projectState();
    settings.setValue("window/state", session.window_state);
    settings.setValue("window/geometry", session.window_geometry);
    settings.setValue("window/screen", session.window_screen);
    settings.setValue("session/last", QJsonDocument(session.toJson()).toJson(QJsonDocument::Compact));
    worker_->cancelAll();
    event->accept();
}

// --- construction ------------------------------------------------------------------------------------

void MainWindow::buildPanels() {
    explorer_ = new PairExplorerPanel(this);
    empty_label_ = new QLabel(this);
    empty_label_->setObjectName("emptyState");
    empty_label_->setWordWrap(true);
    empty_label_->setAlignment(Qt::AlignCenter);
    empty_label_->setTextFormat(Qt::RichText);
    empty_label_->setOpenExternalLinks(false);
    empty_label_->setMargin(40);
    auto* empty_page = new QWidget(this);
    auto* empty_layout = new QVBoxLayout(empty_page);
    empty_layout->addStretch(1);
    empty_layout->addWidget(empty_label_);
    auto* open_button = new QPushButton(QIcon(":/icons/data.svg"), "Open data…", empty_page);
    open_button->setObjectName("openDataButton");
    open_button->setToolTip("Choose the CxC sts_test.csv and the COCO captions_karpathy_test.json (Ctrl+O)");
    open_button->setMinimumHeight(36);
    connect(open_button, &QPushButton::clicked, this, &MainWindow::openDataDialog);
    auto* row = new QHBoxLayout;
    row->addStretch(1);
    row->addWidget(open_button);
    row->addStretch(1);
    empty_layout->addLayout(row);
    empty_layout->addStretch(2);
    central_ = new QStackedWidget(this);
    central_->addWidget(empty_page);
    central_->addWidget(explorer_);
    // Like the docks' panels: the filter row's minimum width (larger in presentation mode) scrolls
    // rather than widening the window past a small screen.
    auto* central_scroll = new QScrollArea(this);
    central_scroll->setObjectName("centralScroll");
    central_scroll->setWidgetResizable(true);
    central_scroll->setFrameShape(QFrame::NoFrame);
    central_scroll->setWidget(central_);
    setCentralWidget(central_scroll);

    picker_ = new ModelPickerPanel(model_list_, this);
    scatter_ = new ScatterPanel(explorer_->model(), explorer_->proxy(), this);
    table2_ = new Table2Panel(this);
    prompt_ = new PromptPanel(this);
    jobs_ = new JobsPanel(worker_, this);
    glue_ = new GluePanel(this);
    prompt_->setComputeWorker(worker_);  // face generation (text-to-image probe)
    mapping_ = new MappingTrainingPanel(worker_, this);
    mapping_->setModelList(model_list_);  // folders added in the Models panel are encoders to train on
    // After the jobs panel: a finished download has its row in the panel marked before the picker refreshes.
    downloads_ = new ModelDownloads(worker_, model_list_, this);
    picker_->setDownloads(downloads_);

    // Placed by arrangeDocks() once the window has its size. Each panel sits in a scroll area: a
    // dock smaller than its panel scrolls, instead of the panel's minimum size pushing the window
    // past the screen (or the docks over each other).
    auto dock = [this](const QString& name, const QString& title, QWidget* w) {
        auto* d = new QDockWidget(title, this);
        d->setObjectName(name + "Dock");  // saveState/restoreState key
        auto* scroll = new QScrollArea(d);
        scroll->setObjectName(name + "Scroll");
        scroll->setWidgetResizable(true);
        scroll->setFrameShape(QFrame::NoFrame);
        scroll->setWidget(w);
        d->setWidget(scroll);
        docks_[name] = d;
    };
    dock("models", "Models", picker_);
    dock("scatter", "Scatter: score vs STS-L", scatter_);
    dock("table2", "Table 2: correlations with CIs", table2_);
    dock("glue", "Table 1 (GLUE)", glue_);
    dock("prompt", "Prompt: nearest captions", prompt_);
    dock("jobs", "Jobs", jobs_);
    dock("mapping", "Mapping training (text-to-image)", mapping_);

    // Linking: table selection -> scatter rings; scatter click -> table selection.
    connect(explorer_, &PairExplorerPanel::pairSelectionChanged, scatter_, &ScatterPanel::highlight);
    connect(explorer_, &PairExplorerPanel::filteredPairsChanged, scatter_, &ScatterPanel::rebuild);
    connect(scatter_, &ScatterPanel::pairClicked, this, [this](int pair, bool add) {
        std::vector<int> pairs = add ? explorer_->selectedPairs() : std::vector<int>{};
        pairs.push_back(pair);
        explorer_->selectPairs(pairs);
    });
    connect(picker_, &ModelPickerPanel::errorOccurred, this, &MainWindow::showError);
    connect(picker_, &ModelPickerPanel::message, this, &MainWindow::showInfo);
    connect(downloads_, &ModelDownloads::message, this, &MainWindow::showInfo);
    connect(downloads_, &ModelDownloads::errorOccurred, this, &MainWindow::showStatusError);
    connect(prompt_, &PromptPanel::searchRequested, this, [this](const QString& p, int k) { searchPrompt(p, k); });
}

void MainWindow::buildStatusBar() {
    // The stage and the device name shorten with "…" when the window is narrow; the progress bar,
    // the ETA and Cancel keep their size.
    const QString device = QString::fromStdString(describe_compute_device().summary());
    device_label_ = new ElidingLabel(device, Qt::ElideRight, this);
    device_label_->setObjectName("deviceLabel");
    device_label_->setToolTip(device + "\nThe device heavy work runs on (one compute thread owns it)");
    job_label_ = new ElidingLabel({}, Qt::ElideMiddle, this);
    job_label_->setObjectName("jobStage");
    job_label_->setContentsMargins(12, 0, 0, 0);  // apart from the status message on its left
    job_eta_ = new QLabel(this);
    job_eta_->setObjectName("jobEta");
    job_eta_->setVisible(false);
    job_progress_ = new QProgressBar(this);
    job_progress_->setObjectName("jobProgress");
    job_progress_->setMinimumWidth(90);
    job_progress_->setMaximumWidth(220);
    job_progress_->setRange(0, 1000);
    job_progress_->setVisible(false);
    job_cancel_ = new QPushButton(QIcon(":/icons/cancel.svg"), "Cancel", this);
    job_cancel_->setObjectName("jobCancel");
    job_cancel_->setToolTip("Cancel the running job (Ctrl+.)");
    job_cancel_->setVisible(false);
    connect(job_cancel_, &QPushButton::clicked, this, [this] {
        if (running_job_) worker_->cancel(running_job_);
    });
    statusBar()->addPermanentWidget(job_label_);
    statusBar()->addPermanentWidget(job_progress_);
    statusBar()->addPermanentWidget(job_eta_);
    statusBar()->addPermanentWidget(job_cancel_);
    statusBar()->addPermanentWidget(device_label_);
    statusBar()->showMessage("Ready");

    connect(worker_, &ComputeWorker::jobStarted, this, [this](int id, const QString& title) {
        running_job_ = id;
        job_label_->setText(title);
        job_label_->setToolTip(title);
        job_eta_->setText("ETA —");
        job_progress_->setRange(0, 0);
        for (QWidget* w : {static_cast<QWidget*>(job_progress_), static_cast<QWidget*>(job_eta_),
                           static_cast<QWidget*>(job_cancel_)})
            w->setVisible(true);
    });
    connect(worker_, &ComputeWorker::jobProgress, this,
            [this](int id, const QString& stage, qint64 done, qint64 total, double eta) {
                if (id != running_job_) return;
                job_label_->setText(stage);
                job_label_->setToolTip(stage);
                job_eta_->setText("ETA " + JobsPanel::formatEta(eta, done, total));
                if (total > 0) {
                    job_progress_->setRange(0, 1000);
                    job_progress_->setValue(static_cast<int>(1000.0 * double(done) / double(total)));
                } else {
                    job_progress_->setRange(0, 0);
                }
            });
    auto idle = [this](int id) {
        if (id != running_job_) return;
        running_job_ = 0;
        if (worker_->pendingJobs() <= 1) {  // the finishing job still counts until its slot returns
            job_label_->clear();
            job_progress_->setVisible(false);
            job_eta_->setVisible(false);
            job_cancel_->setVisible(false);
        }
    };
    connect(worker_, &ComputeWorker::jobFinished, this, [idle](int id) { idle(id); });
    connect(worker_, &ComputeWorker::jobFailed, this, [idle](int id, const QString&) { idle(id); });
    connect(worker_, &ComputeWorker::jobCancelled, this, [idle](int id) { idle(id); });
}

void MainWindow::buildMenus() {
    auto action = [this](QMenu* menu, const QString& text, const QKeySequence& key, const QString& tip,
                         std::function<void()> slot, const QString& icon = {}) {
        auto* a = menu->addAction(icon.isEmpty() ? QIcon() : QIcon(icon), text);
        if (!key.isEmpty()) a->setShortcut(key);
        a->setToolTip(tip);
        a->setStatusTip(tip);
        connect(a, &QAction::triggered, this, std::move(slot));
        return a;
    };
    QMenu* file = menuBar()->addMenu("&File");
    auto* open_data = action(file, "Open &data…", QKeySequence::Open, "Choose the CxC STS csv and the COCO captions json",
                             [this] { openDataDialog(); }, ":/icons/data.svg");
    file->addSeparator();
    action(file, "&Open project…", QKeySequence("Ctrl+Shift+O"), "Open a saved session (.synproj)", [this] {
        const QString path = QFileDialog::getOpenFileName(this, "Open project", {}, "Workbench projects (*.synproj)");
        if (!path.isEmpty()) openProject(path);
    });
    action(file, "&Save project", QKeySequence::Save, "Save the session: data, models, filters, layout", [this] {
        QString path = project_path_;
        if (path.isEmpty()) path = QFileDialog::getSaveFileName(this, "Save project", "session.synproj",
                                                                "Workbench projects (*.synproj)");
        if (!path.isEmpty()) saveProject(path);
    }, ":/icons/save.svg");
    action(file, "Save project &as…", QKeySequence("Ctrl+Shift+S"), "Save the session under a new name", [this] {
        const QString path = QFileDialog::getSaveFileName(this, "Save project as", "session.synproj",
                                                          "Workbench projects (*.synproj)");
        if (!path.isEmpty()) saveProject(path);
    });
    action(file, "Open &GLUE results…", {}, "A glue_manifest.json written by `synesthesia glue` (Table 1)", [this] {
        const QString path = QFileDialog::getOpenFileName(this, "Open GLUE results", {},
                                                          "GLUE manifest (glue_manifest.json *.json)");
        if (!path.isEmpty()) loadGlueResults(path);
    });
    recent_menu_ = file->addMenu("Recent projects");
    refreshRecentMenu();
    action(file, "Restore &last session", {}, "Data, models, filters, layout and results as the workbench last closed",
           [this] { restoreLastSession(); });
    file->addSeparator();
    QMenu* exports = file->addMenu(QIcon(":/icons/export.svg"), "&Export");
    action(exports, "Pairs table (CSV / Markdown / LaTeX)…", QKeySequence("Ctrl+E"),
           "The pair table as filtered and sorted on screen", [this] { exportTableDialog(false); });
    action(exports, "Table 2 (CSV / Markdown / LaTeX)…", {}, "Correlations with CIs of the last STS run",
           [this] { exportTableDialog(true); });
    action(exports, "Table 1 GLUE (CSV / Markdown / LaTeX)…", {}, "Table 1 as shown in its panel, ours and the paper's", [this] {
        const QString path = saveFileName("Export Table 1", "table1_glue.md", "CSV (*.csv);;Markdown (*.md);;LaTeX (*.tex)");
        if (!path.isEmpty()) exportGlueTable(path);
    });
    action(exports, "Scatter plot (PNG / SVG / PDF)…", QKeySequence("Ctrl+Shift+E"), "At a chosen size and DPI",
           [this] { exportPlotDialog(scatter_->plot(), "scatter"); });
    action(exports, "Table 2 plot (PNG / SVG / PDF)…", {}, "At a chosen size and DPI",
           [this] { exportPlotDialog(table2_->plot(), "table2"); });
    action(exports, "Figure 1: faces (PNG / SVG / PDF)…", {},
           "The prompt box's face rows: caption | CLIP-encoder face | BERT-encoder face, CLIP-S under each",
           [this] {
               docks_["prompt"]->show();
               prompt_->faceGeneration()->exportFigureDialog();
           });
    action(exports, "All STS outputs to a folder…", {}, "table.md, table.tex, results.json, pairs.csv and figures", [this] {
        if (!result_) return showError("No STS result yet: run STS first (F5).");
        const QString dir = QFileDialog::getExistingDirectory(this, "Write STS outputs into");
        if (dir.isEmpty()) return;
        try {
            const auto written = syn::run::write_sts_outputs(*result_, dir.toStdString(), write_sts_figures);
            showInfo(QString("Wrote %1 files into %2").arg(written.size()).arg(dir));
        } catch (const std::exception& e) {
            showError(QString::fromUtf8(e.what()));
        }
    });
    file->addSeparator();
    action(file, "&Quit", QKeySequence::Quit, "Quit the workbench", [this] { close(); });

    QMenu* models = menuBar()->addMenu("&Models");
    action(models, "Add model &folder…", QKeySequence("Ctrl+Shift+M"), "A Hugging Face model folder",
           [this] { picker_->chooseFolder(); }, ":/icons/folder.svg");
    action(models, "Add &hub id…", {}, "Uses the local Hugging Face cache", [this] {
        bool ok = false;
        const QString id = QInputDialog::getText(this, "Add hub id", "Hugging Face hub id:", QLineEdit::Normal, {}, &ok);
        if (ok && !id.trimmed().isEmpty()) picker_->addHubId(id.trimmed());
    });
    action(models, "&Download selected model", {}, "Fetch the selected model from the hub into the Hugging Face cache",
           [this] { picker_->downloadCurrent(); });
    action(models, "Download &study models…", {}, "Fetch the catalog's encoders from the hub into the Hugging Face cache",
           [this] { downloadStudyModelsDialog(); });
    action(models, "&Free model memory", {},
           "Unload the resident encoders, generator and CLIP towers (they load again when a job needs them)",
           [this] { freeModelMemory(); });
    action(models, "Where do models come from?", {}, "How to get real encoder weights", [this] {
        auto* box = new QMessageBox(QMessageBox::Information, "Getting models",
                                    QString("The lexical baselines (Jaccard, TF-IDF) need no weights and always work.<br><br>"
                                            "Neural encoders are read from Hugging Face model folders "
                                            "(config.json, *.safetensors or pytorch_model.bin, tokenizer files):"
                                            "<ul><li>models already in the Hugging Face cache (<tt>%1</tt>) are found "
                                            "automatically;</li><li>any other folder: Models ▸ Add model folder, or "
                                            "drop it on the Models panel;</li><li>a model marked \"needs download\": Download (or "
                                            "Models ▸ Download study models) fetches it from the hub (HF_ENDPOINT; "
                                            "HF_TOKEN for gated models) into that cache, resumable, shown in the Jobs "
                                            "panel — the same downloader as <tt>synesthesia fetch</tt>. Offline "
                                            "(HF_HUB_OFFLINE or no network) the message says which files to place "
                                            "where.</li></ul>")
                                        .arg(QString::fromStdString(syn::hf_hub_cache_dir()).toHtmlEscaped()),
                                    QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setModal(false);
        box->show();
    });

    QMenu* run = menuBar()->addMenu("&Run");
    auto* run_sts = action(run, "Run &STS on selected models", QKeySequence("F5"),
                           "Table 2: every selected encoder on the loaded pairs", [this] { runSts(); }, ":/icons/run.svg");
    action(run, "Order by &disagreement", QKeySequence("Ctrl+D"),
           "Pairs where the CLIP-style and BERT-style encoders disagree most first", [this] {
               if (!explorer_->orderByDisagreement())
                   showInfo("Disagreement needs an STS result with at least two encoders.");
           }, ":/icons/disagree.svg");
    action(run, "Find nearest captions", QKeySequence("Ctrl+Return"), "Run the prompt box's search",
           [this] { searchPrompt(prompt_->prompt(), prompt_->neighbours()); }, ":/icons/search.svg");
    run->addSeparator();
    action(run, "&Cancel all jobs", QKeySequence("Ctrl+."), "Stops the running job and drops queued ones",
           [this] { worker_->cancelAll(); }, ":/icons/cancel.svg");

    QMenu* view = menuBar()->addMenu("&View");
    for (const auto& [name, dock] : docks_) {
        (void)name;
        view->addAction(dock->toggleViewAction());
    }
    view->addSeparator();
    auto* group = new QActionGroup(this);
    light_action_ = view->addAction("&Light palette");
    dark_action_ = view->addAction("&Dark palette");
    for (QAction* a : {light_action_, dark_action_}) {
        a->setCheckable(true);
        group->addAction(a);
    }
    dark_action_->setShortcut(QKeySequence("Ctrl+Shift+D"));
    connect(light_action_, &QAction::triggered, this, [this] { setDark(false); });
    connect(dark_action_, &QAction::triggered, this, [this] { setDark(true); });
    view->addSeparator();
    action(view, "Focus caption search", QKeySequence::Find, "", [this] {
        if (auto* s = explorer_->findChild<QLineEdit*>("pairSearch")) s->setFocus();
    });
    action(view, "Focus prompt", QKeySequence("Ctrl+L"), "", [this] {
        if (auto* p = prompt_->findChild<QLineEdit*>("promptEdit")) p->setFocus();
    });
    view->addSeparator();
    action(view, "&Reset layout", {}, "Every panel back in its place, sized for the window", [this] { arrangeDocks(); });
    view->addSeparator();
    presentation_toggle_ = action(view, "&Presentation mode", QKeySequence(Qt::Key_F11),
                                  "Full screen, larger fonts and plot text, the pair table, plots and prompt box "
                                  "(F11 or Esc to leave)",
                                  [this] { setPresentationMode(!presenting_); }, ":/icons/present.svg");
    presentation_toggle_->setCheckable(true);
    action(view, "Presentation from &file…", QKeySequence("Ctrl+F11"),
           "Presentation mode stepping through prompts / pairs of a JSON list with Space or PageDown", [this] {
               const QString path = QFileDialog::getOpenFileName(this, "Presentation list", {}, "JSON (*.json)");
               if (path.isEmpty()) return;
               try {
                   startPresentation(load_presentation(path));
               } catch (const std::exception& e) {
                   showError(QString::fromUtf8(e.what()));
               }
           });
    action(view, "Present the selected pairs", QKeySequence("Shift+F11"), "Step through the selected pairs", [this] {
        std::vector<PresentationItem> items;
        for (int p : explorer_->selectedPairs()) items.push_back({PresentationItem::Kind::Pair, {}, p, {}});
        if (items.empty()) return showInfo("Select some pairs in the table first.");
        startPresentation(std::move(items));
    });
    // Stepping keys are active only while a scripted presentation runs (Space would otherwise
    // steal typing in the search boxes); Esc only in presentation mode.
    auto present_key = [this](const QList<QKeySequence>& keys, int delta) {
        auto* a = new QAction(this);
        a->setShortcuts(keys);
        a->setEnabled(false);
        connect(a, &QAction::triggered, this, [this, delta] {
            if (delta == 0) stopPresentation();
            else presentationStep(delta);
        });
        addAction(a);
        return a;
    };
    presentation_step_actions_ << present_key({QKeySequence(Qt::Key_Space), QKeySequence(Qt::Key_PageDown),
                                               QKeySequence(Qt::Key_Right)}, +1)
                               << present_key({QKeySequence(Qt::Key_PageUp), QKeySequence(Qt::Key_Backspace),
                                               QKeySequence(Qt::Key_Left)}, -1);
    presentation_escape_ = present_key({QKeySequence(Qt::Key_Escape)}, 0);

    QMenu* help = menuBar()->addMenu("&Help");
    action(help, "&About Synesthesia Workbench", {}, "Version, licence, the study it reproduces", [this] {
        QMessageBox::about(this, "About Synesthesia Workbench", aboutText(device_label_->text()));
    });
    action(help, "About &Qt", {}, "The Qt version this workbench runs on", [this] { QMessageBox::aboutQt(this); });

    auto* toolbar = addToolBar("Main");
    main_toolbar_ = toolbar;
    toolbar->setObjectName("mainToolbar");
    toolbar->addAction(open_data);
    toolbar->addAction(run_sts);
    for (QAction* a : run->actions())
        if (a->text().contains("disagreement") || a->text().contains("Cancel")) toolbar->addAction(a);
}

// --- messages ----------------------------------------------------------------------------------------

void MainWindow::showError(const QString& message) {
    last_error_ = message;
    statusBar()->showMessage("Error: " + message.section('\n', 0, 0), 15000);
    emit errorShown(message);
    if (!error_boxes_) return;
    // Non-modal: the application keeps working while the message is on screen.
    auto* box = new QMessageBox(QMessageBox::Warning, "Synesthesia Workbench", message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setModal(false);
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);
    box->show();
}

void MainWindow::showInfo(const QString& message) { statusBar()->showMessage(message, 10000); }

void MainWindow::showStatusError(const QString& message) {
    last_error_ = message;
    statusBar()->showMessage("Error: " + message.section('\n', 0, 0), 15000);
    emit errorShown(message);
}

void MainWindow::setErrorBoxesEnabled(bool enabled) {
    error_boxes_ = enabled;
    picker_->setDownloadOffersEnabled(enabled);
}

void MainWindow::downloadStudyModelsDialog() {
    const QStringList missing = downloads_->missingStudyModels();
    if (missing.isEmpty()) {
        showInfo("Every catalog model is already in the Hugging Face cache");
        return;
    }
    // Non-modal confirmation: the list and where the files go, then one job for all of them.
    auto* box = new QMessageBox(QMessageBox::Question, "Download study models",
                                QString("Download these %1 models from the hub into the Hugging Face cache (%2)?\n\n%3")
                                    .arg(missing.size())
                                    .arg(QString::fromStdString(syn::hf_hub_cache_dir()), missing.join("\n")),
                                QMessageBox::Yes | QMessageBox::No, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setModal(false);
    connect(box, &QMessageBox::buttonClicked, this, [this, box](QAbstractButton* button) {
        if (box->standardButton(button) == QMessageBox::Yes) downloads_->downloadStudyModels();
    });
    box->show();
}

void MainWindow::showEmptyState(const QString& extra) {
    const QString shared = shared_dir_from_env();
    QString looked = shared.isEmpty() ? QString("$SYNESTHESIA_SHARED is not set")
                                      : QString("looked in <tt>%1/data</tt>").arg(shared.toHtmlEscaped());
    empty_label_->setText(
        QString("<h2>Welcome to the Synesthesia Workbench</h2>"
                "<p>No caption data is loaded yet. The workbench compares text encoders on the "
                "<b>Crisscrossed Captions</b> STS pairs joined with <b>MS-COCO</b> captions:</p>"
                "<p><tt>sts_test.csv</tt> (CxC) and <tt>captions_karpathy_test.json</tt> (COCO Karpathy test)</p>"
                "<p>Choose them with <b>Open data…</b> (Ctrl+O); the workbench remembers them. (%1.)</p>"
                "<p><b>Models:</b> the lexical baselines (Jaccard, TF-IDF) need no weights and are ready now. "
                "Neural encoders come from Hugging Face model folders — found automatically in the Hugging Face "
                "cache (<tt>%2</tt>), downloaded into it with Download in the Models panel (or Models ▸ Download "
                "study models), or added with Models ▸ Add model folder (or by dropping a folder on the "
                "Models panel).</p>%3")
            .arg(looked, QString::fromStdString(syn::hf_hub_cache_dir()).toHtmlEscaped(),
                 extra.isEmpty() ? QString() : "<p style='color:#b07a10'>" + extra.toHtmlEscaped() + "</p>"));
    central_->setCurrentIndex(0);
}

// --- jobs --------------------------------------------------------------------------------------------

bool MainWindow::autoFindData() {
    QStringList candidates;
    const QString shared = shared_dir_from_env();
    if (!shared.isEmpty()) candidates << shared;
    QSettings settings;
    const QString last_csv = settings.value("data/cxc_csv").toString();
    const QString last_json = settings.value("data/captions_json").toString();
    for (const QString& root : candidates) {
        const QString csv = root + "/data/cxc/sts_test.csv", json = root + "/data/coco/captions_karpathy_test.json";
        if (QFileInfo::exists(csv) && QFileInfo::exists(json)) return loadData(csv, json, max_pairs_) != 0;
    }
    if (!last_csv.isEmpty() && QFileInfo::exists(last_csv) && QFileInfo::exists(last_json))
        return loadData(last_csv, last_json, max_pairs_) != 0;
    showEmptyState();
    return false;
}

int MainWindow::loadData(const QString& cxc_csv, const QString& captions_json, int max_pairs) {
    max_pairs_ = max_pairs;
    const std::string csv = cxc_csv.toStdString(), json = captions_json.toStdString();
    const std::size_t n = max_pairs > 0 ? static_cast<std::size_t>(max_pairs) : 0;
    statusBar()->showMessage("Loading " + QFileInfo(cxc_csv).fileName() + "…");
    auto job = worker_->submit(this, "Load " + QFileInfo(cxc_csv).fileName(),
                               [csv, json, n](const syn::run::ProgressSink& p, const syn::run::CancelToken* c) {
                                   return load_sts_data(csv, json, n, p, c);
                               });
    auto failed = [this](const QString& message, bool cancelled) {
        pending_rebuild_.clear();  // a project's results need its data
        if (!cancelled) showError("Could not load the data:\n" + message);
        if (!hasData()) showEmptyState(cancelled ? QString("Loading was cancelled.") : "Could not load: " + message);
        emit dataLoadFailed(message);
    };
    job.onFinished([this, cxc_csv, captions_json](std::shared_ptr<const syn::data::StsDataset> dataset) {
           cxc_csv_ = cxc_csv;
           captions_json_ = captions_json;
           QSettings settings;
           settings.setValue("data/cxc_csv", cxc_csv);
           settings.setValue("data/captions_json", captions_json);
           onDataLoaded(std::move(dataset));
       })
        .onFailed([failed](const QString& message) { failed(message, false); })
        .onCancelled([failed](bool) { failed("cancelled", true); });
    return job.id();
}

bool MainWindow::hasData() const { return dataset_ && !dataset_->pairs.empty(); }

void MainWindow::onDataLoaded(std::shared_ptr<const syn::data::StsDataset> dataset) {
    dataset_ = std::move(dataset);
    result_.reset();
    result_models_.clear();
    table2_->setResult(nullptr);
    explorer_->model()->setDataset(dataset_);
    central_->setCurrentIndex(1);
    QString msg = QString("Loaded %1 caption pairs from %2").arg(dataset_->pairs.size()).arg(QFileInfo(cxc_csv_).fileName());
    if (dataset_->dropped_unresolved || !dataset_->csv_warnings.empty())
        msg += QString(" (%1 rows dropped: caption id not found; %2 warnings)")
                   .arg(dataset_->dropped_unresolved).arg(dataset_->csv_warnings.size());
    showInfo(msg);
    if (presenting_ && !present_items_.empty()) showPresentationItem();  // the list came before the data
    if (!pending_rebuild_.empty()) rebuildResults(std::exchange(pending_rebuild_, {}));
    emit dataLoaded();
}

int MainWindow::runSts() {
    if (!hasData()) {
        showError("Load the CxC / COCO data first (File ▸ Open data…).");
        return 0;
    }
    std::vector<ProjectStsModel> models;
    QStringList skipped;
    for (int row : model_list_->checkedRows()) {
        const auto& e = model_list_->entry(row);
        if (e.status == ModelStatus::NeedsDownload) {
            skipped << e.label;
            continue;
        }
        models.push_back({e.job_model(), (e.is_lexical() || e.pooling == e.default_pooling) ? QString() : e.pooling,
                          e.is_lexical() ? QString("float32") : e.dtype, e.is_lexical() ? QString("auto") : e.device});
    }
    if (!skipped.isEmpty())
        showInfo("Skipped (not in the local cache; Download them in the Models panel or Models ▸ Download study "
                 "models): " + skipped.join(", "));
    if (models.empty()) {
        showError("No runnable encoder selected: tick a model in the Models panel (the lexical baselines always work).");
        return 0;
    }
    return submitSts(models, QString("STS: %1 encoders on %2 pairs").arg(models.size()).arg(dataset_->pairs.size()));
}

int MainWindow::rebuildResults(const std::vector<ProjectStsModel>& models) {
    if (models.empty()) return 0;
    if (!hasData()) {
        showError("Load the CxC / COCO data first (File ▸ Open data…): the results are rebuilt on it.");
        return 0;
    }
    showInfo("Rebuilding the results from the embedding cache…");
    return submitSts(models, QString("Results from the embedding cache: %1 encoders on %2 pairs")
                                 .arg(models.size()).arg(dataset_->pairs.size()));
}

int MainWindow::submitSts(const std::vector<ProjectStsModel>& models, const QString& title) {
    StsRunRequest request;
    request.session = &worker_->session();
    request.cxc_csv = cxc_csv_.toStdString();
    request.captions_json = captions_json_.toStdString();
    request.max_pairs = max_pairs_ > 0 ? static_cast<std::size_t>(max_pairs_) : 0;
    std::map<std::string, int> row_of;
    for (const auto& pm : models) {
        StsModelRequest m{pm.model.toStdString(), pm.pooling.toStdString(), pm.dtype.toStdString(),
                          pm.device.toStdString()};
        request.models.push_back(m);
        const int row = model_list_->findRow(pm.model);
        if (row < 0) continue;  // a rebuilt result's model no longer listed: run, but no row to follow
        row_of[m.model] = row;
        // "loading" only once the job reaches it (stsStageFollower), not while it waits its turn.
        if (!model_list_->entry(row).is_lexical()) model_list_->setStatus(row, ModelStatus::Available, kQueuedInSts);
    }
    auto restore = [this, row_of] {
        for (const auto& [model, row] : row_of) {
            (void)model;
            const auto& e = model_list_->entry(row);
            if (e.status == ModelStatus::Loading || e.reason == kQueuedInSts)
                model_list_->setStatus(row, ModelStatus::Available, "not run (job stopped)");
            else if (e.status == ModelStatus::Ready && e.reason == kEmbeddedInSts)
                model_list_->setStatus(row, ModelStatus::Ready, "embedded (in the cache); the job stopped before its statistics");
        }
    };
    auto job = worker_->submit(this, title, [request](const syn::run::ProgressSink& p, const syn::run::CancelToken* c) {
        return run_sts_models(request, p, c);
    });
    job.onProgress(stsStageFollower(row_of))
        .onFinished([this, row_of, models](std::shared_ptr<const StsRunOutcome> outcome) {
            QStringList failed;
            for (const auto& m : outcome->models) {
                auto it = row_of.find(m.model);
                if (it == row_of.end()) continue;
                if (m.ok) {
                    QString detail = "STS done";
                    for (const auto& e : outcome->result->encoders)
                        if (e.model == m.model)
                            detail = QString("STS done on %1 (%2, %3, %4 computed, %5 from cache, %6 s)")
                                         .arg(QString::fromStdString(e.device), QString::fromStdString(e.pooling),
                                              QString::fromStdString(e.dtype))
                                         .arg(e.computed).arg(e.from_cache).arg(e.seconds, 0, 'f', 1);
                    model_list_->setStatus(it->second, ModelStatus::Ready, detail);
                } else {
                    model_list_->setStatus(it->second, ModelStatus::Failed, QString::fromStdString(m.error));
                    failed << QString::fromStdString(m.model + ": " + m.error);
                }
            }
            showStsResult(outcome->result);
            result_models_ = models;
            if (!failed.isEmpty()) showError("Some encoders failed (the others are shown):\n" + failed.join("\n"));
            emit stsFinished(true);
        })
        .onFailed([this, restore, row_of](const QString& message) {
            restore();
            for (const auto& [model, row] : row_of) {
                (void)model;
                if (!model_list_->entry(row).is_lexical()) model_list_->setStatus(row, ModelStatus::Failed, message);
            }
            showError("STS failed:\n" + message);
            emit stsFinished(false);
        })
        .onCancelled([this, restore](bool) {
            restore();
            showInfo("STS cancelled.");
            emit stsFinished(false);
        });
    return job.id();
}

std::function<void(const syn::run::Progress&, double)> MainWindow::stsStageFollower(const std::map<std::string, int>& row_of) {
    // run_sts reports the model it is on as the subject of its loading / embedding / scoring stages,
    // "<model> (failed)" when one fails, and moves on to statistics once a model's scores are in. A
    // model is "loading" only while it is the one being loaded or embedded; after that it is marked
    // embedded, though the job (statistics, other models) goes on.
    using syn::run::Stage;
    auto active = std::make_shared<std::string>();
    return [this, row_of, active](const syn::run::Progress& p, double) {
        auto embedded = [&](const std::string& model) {
            const int row = row_of.at(model);
            if (model_list_->entry(row).status == ModelStatus::Loading)
                model_list_->setStatus(row, ModelStatus::Ready, kEmbeddedInSts);
        };
        for (const auto& [model, row] : row_of) {
            if (p.stage == Stage::scoring && p.subject == model + " (failed)") {
                model_list_->setStatus(row, ModelStatus::Failed, "failed: the reason follows when the job ends");
                if (*active == model) active->clear();
                return;
            }
            const bool loading = p.stage == Stage::loading_model;
            const bool working = loading || p.stage == Stage::tokenizing || p.stage == Stage::embedding ||
                                 p.stage == Stage::scoring;
            if (!working || p.subject != model) continue;
            if (!active->empty() && *active != model) embedded(*active);
            *active = model;
            if (model_list_->entry(row).is_lexical()) return;
            model_list_->setStatus(row, ModelStatus::Loading,
                                   loading ? QString("loading the weights")
                                           : p.stage == Stage::tokenizing
                                                 ? QString("tokenizing captions")
                                                 : QString("embedding captions: %1 / %2").arg(p.done).arg(p.total));
            return;
        }
        if (!active->empty() && p.stage == Stage::statistics) {
            embedded(*active);
            active->clear();
        }
    };
}

void MainWindow::showStsResult(std::shared_ptr<const syn::run::StsResult> result) {
    result_ = std::move(result);
    result_models_.clear();  // known only for results of the STS job (submitSts sets them after this)
    if (!result_) return;
    // From now on the pairs are the ones the scores belong to (prompt search, presentation).
    dataset_ = std::shared_ptr<const syn::data::StsDataset>(result_, &result_->dataset);
    explorer_->model()->setResult(result_);
    table2_->setResult(result_);
    central_->setCurrentIndex(1);
    if (!pending_scatter_encoder_.isEmpty()) scatter_->setCurrentEncoder(pending_scatter_encoder_);
    if (pending_sort_column_ >= 0 && pending_sort_column_ < explorer_->proxy()->columnCount())
        explorer_->view()->sortByColumn(pending_sort_column_, Qt::SortOrder(pending_sort_order_));
    pending_sort_column_ = -1;
    showInfo(QString("STS done: %1 encoders on %2 pairs").arg(result_->encoders.size()).arg(result_->dataset.pairs.size()));
}

int MainWindow::searchPrompt(const QString& prompt, int k) {
    if (prompt.trimmed().isEmpty()) return 0;
    if (!hasData()) {
        prompt_->showMessage("Load the caption data first (File ▸ Open data…): the search runs over its captions.");
        return 0;
    }
    std::vector<PromptModel> models;
    for (int row : model_list_->checkedRows()) {
        const auto& e = model_list_->entry(row);
        if (e.status == ModelStatus::NeedsDownload) continue;
        models.push_back({e.job_model().toStdString(), e.label.toStdString(),
                          (e.is_lexical() || e.pooling == e.default_pooling) ? "" : e.pooling.toStdString(),
                          e.is_lexical() ? "float32" : e.dtype.toStdString(), e.is_lexical() ? "auto" : e.device.toStdString()});
    }
    if (models.empty()) {
        prompt_->showMessage("Tick at least one runnable model in the Models panel.");
        return 0;
    }
    prompt_->setBusy(true);
    auto dataset = dataset_;
    const std::string text = prompt.trimmed().toStdString();
    const std::size_t n = static_cast<std::size_t>(std::max(1, k));
    // A newer search supersedes a queued or running one: only the latest prompt's answer matters.
    auto job = worker_->submit(
        this, "Nearest captions: " + prompt.left(40),
        [dataset, text, models, n, session = &worker_->session()](const syn::run::ProgressSink& p,
                                                                  const syn::run::CancelToken* c) {
            const auto unique = syn::data::unique_texts(*dataset);
            return nearest_captions(text, unique.texts, models, n, p, c, session);
        },
        SubmitOptions{"prompt search"});
    job.onFinished([this](std::shared_ptr<const PromptResult> r) {
           prompt_->showResult(*r);
           emit promptFinished(true);
       })
        .onFailed([this](const QString& message) {
            prompt_->setBusy(false);
            prompt_->showMessage("Search failed: " + message);
            showError(message);
            emit promptFinished(false);
        })
        .onCancelled([this](bool superseded) {
            if (!superseded) {  // a superseded search's successor owns the prompt box now
                prompt_->setBusy(false);
                prompt_->showMessage("Search cancelled.");
            }
            emit promptFinished(false);
        });
    return job.id();
}

int MainWindow::freeModelMemory() {
    // On the compute thread, after the jobs before it: nothing is unloaded under a running job (and
    // a job holding a model keeps it alive until it ends; the session only forgets it).
    auto job = worker_->submit(this, "Free model memory", [session = &worker_->session()](
                                                              const syn::run::ProgressSink&, const syn::run::CancelToken*) {
        const syn::run::SessionStats before = session->stats();
        session->clear();
        return before;
    });
    job.onFinished([this](std::shared_ptr<const syn::run::SessionStats> before) {
        showInfo(QString("Freed %1 MB: %2 resident models and caches unloaded (they load again when needed)")
                     .arg(double(before->resident_bytes) / (1024.0 * 1024.0), 0, 'f', 1)
                     .arg(before->entries));
        emit modelMemoryFreed();
    });
    return job.id();
}

bool MainWindow::selectModels(const QStringList& ids) {
    for (int row : model_list_->checkedRows()) model_list_->setChecked(row, false);
    bool ok = true;
    for (const QString& id : ids) {
        int row = model_list_->findRow(id);
        if (row < 0) {
            const QFileInfo info(id);
            if (info.exists()) {
                if (!picker_->addFolder(info.absoluteFilePath())) {
                    ok = false;
                    continue;
                }
                row = model_list_->findRow(QDir::cleanPath(info.absoluteFilePath()));
            } else {
                if (!picker_->addHubId(id)) ok = false;
                row = model_list_->findRow(id);
            }
        }
        if (row >= 0) model_list_->setChecked(row, true);
    }
    return ok;
}

// --- sessions ----------------------------------------------------------------------------------------

ProjectState MainWindow::projectState() const {
    ProjectState s;
    s.cxc_csv = cxc_csv_;
    s.captions_json = captions_json_;
    s.max_pairs = max_pairs_;
    for (const auto& e : model_list_->entries()) {
        // Catalog entries in their default state are rebuilt from the catalog; keep the rest.
        const bool default_state = (e.source == "catalog" || e.source == "built in" || e.source == "HF cache") &&
                                   e.pooling == e.default_pooling && e.dtype == (e.is_lexical() ? "—" : "auto") &&
                                   e.device == (e.is_lexical() ? "cpu" : "auto") && !e.checked;
        if (default_state) continue;
        s.models.push_back({e.source == "folder" ? e.folder : e.id, e.source, e.pooling, e.dtype, e.device, e.checked});
    }
    const auto f = explorer_->currentFilter();
    s.filter_text = f.text;
    s.filter_method = f.method;
    s.sts_l_min = f.sts_l_min;
    s.sts_l_max = f.sts_l_max;
    s.sts_v = f.sts_v;
    s.sort_column = explorer_->proxy()->sortColumn();
    s.sort_order = explorer_->proxy()->sortOrder();
    s.scatter_encoder = scatter_->currentEncoder();
    s.prompt = prompt_->prompt();
    s.dark = dark_;
    // In presentation mode, the layout it goes back to.
    s.window_state = presenting_ && !state_before_presenting_.isEmpty() ? state_before_presenting_ : saveState();
    s.window_geometry =
        presenting_ && !geometry_before_presenting_.isEmpty() ? geometry_before_presenting_ : saveGeometry();
    s.window_screen = availableScreenSize();
    s.sts_models = result_models_;
    return s;
}

void MainWindow::applyProject(const ProjectState& s) {
    setDark(s.dark);
    for (int row : model_list_->checkedRows()) model_list_->setChecked(row, false);
    for (const auto& m : s.models) {
        int row = model_list_->findRow(m.id);
        if (row < 0 && m.source == "folder") {
            QString error;
            const auto added = model_list_->addFolder(m.id, &error);
            if (!added) {
                showError("Project model folder: " + error);
                continue;
            }
            row = *added;
        } else if (row < 0) {
            row = model_list_->addHubId(m.id);
        }
        if (!model_list_->entry(row).is_lexical()) {
            if (!m.pooling.isEmpty()) model_list_->setPooling(row, m.pooling);
            if (!m.dtype.isEmpty()) model_list_->setDtype(row, m.dtype);
            if (!m.device.isEmpty()) model_list_->setDevice(row, m.device);
        }
        model_list_->setChecked(row, m.checked);
    }
    PairFilterProxy::Filter f;
    f.text = s.filter_text;
    f.method = s.filter_method;
    f.sts_l_min = s.sts_l_min;
    f.sts_l_max = s.sts_l_max;
    f.sts_v = s.sts_v;
    explorer_->setFilter(f);
    pending_sort_column_ = s.sort_column;
    pending_sort_order_ = s.sort_order;
    if (s.sort_column >= 0 && s.sort_column < explorer_->proxy()->columnCount())
        explorer_->view()->sortByColumn(s.sort_column, Qt::SortOrder(s.sort_order));
    pending_scatter_encoder_ = s.scatter_encoder;
    scatter_->setCurrentEncoder(s.scatter_encoder);
    prompt_->setPrompt(s.prompt);
    restoreLayout(s.window_geometry, s.window_state, s.window_screen);
    max_pairs_ = s.max_pairs;
    // The results come back from the embedding cache: the STS job again for the saved result's
    // encoders, on the project's data once it is loaded.
    pending_rebuild_.clear();
    if (!s.cxc_csv.isEmpty() && (s.cxc_csv != cxc_csv_ || s.captions_json != captions_json_ || !hasData())) {
        pending_rebuild_ = s.sts_models;
        loadData(s.cxc_csv, s.captions_json, s.max_pairs);
    } else if (!s.sts_models.empty()) {
        rebuildResults(s.sts_models);
    }
}

bool MainWindow::saveProject(const QString& path) {
    try {
        save_project(projectState(), path);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
    project_path_ = path;
    addRecentProject(path);
    setWindowTitle("Synesthesia Workbench — " + QFileInfo(path).fileName());
    showInfo("Saved project " + path);
    return true;
}

bool MainWindow::openProject(const QString& path) {
    ProjectState s;
    try {
        s = load_project(path);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
    applyProject(s);
    project_path_ = path;
    addRecentProject(path);
    setWindowTitle("Synesthesia Workbench — " + QFileInfo(path).fileName());
    showInfo("Opened project " + path);
    return true;
}

namespace {
std::optional<ProjectState> last_session() {
    const QByteArray json = QSettings().value("session/last").toByteArray();
    if (json.isEmpty()) return std::nullopt;
    const QJsonDocument doc = QJsonDocument::fromJson(json);
    if (!doc.isObject()) return std::nullopt;
    try {
        return ProjectState::fromJson(doc.object(), "the last session");
    } catch (const std::exception&) {
        return std::nullopt;  // written by a newer build, or damaged: nothing to offer
    }
}
}  // namespace

bool MainWindow::hasLastSession() const {
    const auto s = last_session();
    return s && !s->cxc_csv.isEmpty();
}

bool MainWindow::restoreLastSession() {
    const auto s = last_session();
    if (!s || s->cxc_csv.isEmpty()) {
        showInfo("No last session to restore.");
        return false;
    }
    applyProject(*s);
    showInfo("Restored the last session" + QString(s->sts_models.empty() ? "" : "; its results are rebuilt from the "
                                                                               "embedding cache"));
    return true;
}

void MainWindow::offerLastSession() {
    const auto s = last_session();
    if (!s || s->cxc_csv.isEmpty()) return;
    int ticked = 0;
    for (const auto& m : s->models) ticked += m.checked ? 1 : 0;
    QString text = QString("Restore the last session?\n\nData: %1\nModels ticked: %2")
                       .arg(QFileInfo(s->cxc_csv).fileName()).arg(ticked);
    if (!s->sts_models.empty())
        text += QString("\nResults of %1 encoders, rebuilt from the embedding cache").arg(s->sts_models.size());
    // Non-modal: the workbench is usable while the question is on screen.
    auto* box = new QMessageBox(QMessageBox::Question, "Last session", text, QMessageBox::Yes | QMessageBox::No, this);
    box->setObjectName("lastSessionOffer");
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setModal(false);
    connect(box, &QMessageBox::buttonClicked, this, [this, box](QAbstractButton* button) {
        if (box->standardButton(button) == QMessageBox::Yes) restoreLastSession();
    });
    box->show();
}

QStringList MainWindow::recentProjects() const { return QSettings().value("recentProjects").toStringList(); }

void MainWindow::addRecentProject(const QString& path) {
    QStringList list = recentProjects();
    const QString abs = QFileInfo(path).absoluteFilePath();
    list.removeAll(abs);
    list.prepend(abs);
    while (list.size() > kMaxRecent) list.removeLast();
    QSettings().setValue("recentProjects", list);
    refreshRecentMenu();
}

void MainWindow::refreshRecentMenu() {
    recent_menu_->clear();
    const QStringList list = recentProjects();
    if (list.isEmpty()) recent_menu_->addAction("(none)")->setEnabled(false);
    int i = 1;
    for (const QString& path : list) {
        QAction* a = recent_menu_->addAction(QString("&%1 %2").arg(i++).arg(QFileInfo(path).fileName()));
        a->setToolTip(path);
        a->setStatusTip(path);
        connect(a, &QAction::triggered, this, [this, path] { openProject(path); });
    }
}

// --- exports -----------------------------------------------------------------------------------------

bool MainWindow::exportPlot(QCustomPlot* plot, const QString& path, const PlotExportSize& size) {
    try {
        if (plot == scatter_->plot()) {
            // A figure of its own: the selection rings are for the screen, and the title says when
            // the table's filter shows a subset.
            QCustomPlot figure;
            figure.resize(plot->size());
            if (scatter_->buildExportFigure(&figure)) {
                figure.setObjectName(plot->objectName());
                export_plot(&figure, path, size);
                showInfo("Saved " + path);
                return true;
            }
        }
        export_plot(plot, path, size);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
    showInfo("Saved " + path);
    return true;
}

bool MainWindow::exportPairsTable(const QString& path) {
    try {
        write_table(*explorer_->proxy(), path);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
    showInfo(QString("Saved %1 pairs to %2").arg(explorer_->proxy()->rowCount()).arg(path));
    return true;
}

bool MainWindow::exportTable2(const QString& path) {
    if (!result_) {
        showError("No STS result yet: run STS first (F5).");
        return false;
    }
    try {
        write_table(*table2_model(*result_), path);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
    showInfo("Saved " + path);
    return true;
}

bool MainWindow::loadGlueResults(const QString& path) {
    try {
        glue_->loadManifest(path);
    } catch (const std::exception& e) {
        showStatusError(QString::fromUtf8(e.what()));
        return false;
    }
    docks_["glue"]->show();
    docks_["glue"]->raise();
    showInfo("Opened GLUE results " + path);
    return true;
}

bool MainWindow::exportGlueTable(const QString& path) {
    if (!glue_->hasResults()) {
        showStatusError("No GLUE results open: File ▸ Open GLUE results… (glue_manifest.json from `synesthesia glue`).");
        return false;
    }
    try {
        write_table(*glue_->model(), path);
    } catch (const std::exception& e) {
        showStatusError(QString::fromUtf8(e.what()));
        return false;
    }
    showInfo("Saved " + path);
    return true;
}

QString MainWindow::exportFilterFor(const QString& filters, const QString& file_name) {
    const QStringList list = filters.split(";;", Qt::SkipEmptyParts);
    const QString pattern = "*." + QFileInfo(file_name).suffix().toLower();
    for (const QString& filter : list) {
        const QString patterns = filter.section('(', -1).section(')', 0, 0);
        if (patterns.split(' ', Qt::SkipEmptyParts).contains(pattern, Qt::CaseInsensitive)) return filter;
    }
    return list.value(0);
}

QString MainWindow::saveFileName(const QString& title, const QString& proposed, const QString& filters) {
    // The filter shown matches the proposed name's format; a name typed without a suffix gets the
    // chosen filter's (the writers pick the format by suffix).
    QString selected = exportFilterFor(filters, proposed);
    QString path = QFileDialog::getSaveFileName(this, title, proposed, filters, &selected);
    if (!path.isEmpty() && QFileInfo(path).suffix().isEmpty()) {
        const QString pattern = selected.section('(', -1).section(')', 0, 0).section(' ', 0, 0);
        if (pattern.startsWith("*.")) path += pattern.mid(1);
    }
    return path;
}

void MainWindow::exportTableDialog(bool table2) {
    const QString path = saveFileName(table2 ? "Export Table 2" : "Export pairs", table2 ? "table2.md" : "pairs.csv",
                                      "CSV (*.csv);;Markdown (*.md);;LaTeX (*.tex)");
    if (path.isEmpty()) return;
    if (table2) exportTable2(path);
    else exportPairsTable(path);
}

void MainWindow::exportPlotDialog(QCustomPlot* plot, const QString& name) {
    const QString path =
        saveFileName("Export plot", name + ".png", "PNG image (*.png);;SVG vector (*.svg);;PDF document (*.pdf)");
    if (path.isEmpty()) return;
    QDialog dialog(this);
    dialog.setWindowTitle("Figure size");
    auto* w = new QSpinBox(&dialog);
    auto* h = new QSpinBox(&dialog);
    auto* dpi = new QSpinBox(&dialog);
    w->setRange(16, 20000);
    h->setRange(16, 20000);
    dpi->setRange(30, 2400);
    QSettings settings;
    w->setValue(settings.value("export/width", 1600).toInt());
    h->setValue(settings.value("export/height", 1000).toInt());
    dpi->setValue(settings.value("export/dpi", 150).toInt());
    w->setSuffix(" px");
    h->setSuffix(" px");
    auto* form = new QFormLayout(&dialog);
    form->addRow("Width", w);
    form->addRow("Height", h);
    form->addRow("DPI", dpi);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    form->addRow(buttons);
    if (dialog.exec() != QDialog::Accepted) return;
    settings.setValue("export/width", w->value());
    settings.setValue("export/height", h->value());
    settings.setValue("export/dpi", dpi->value());
    exportPlot(plot, path, {w->value(), h->value(), static_cast<double>(dpi->value())});
}

void MainWindow::openDataDialog() {
    QSettings settings;
    const QString csv = QFileDialog::getOpenFileName(this, "CxC STS pairs (e.g. sts_test.csv)",
                                                     settings.value("data/cxc_csv").toString(), "CSV (*.csv)");
    if (csv.isEmpty()) return;
    const QString json = QFileDialog::getOpenFileName(this, "COCO captions (e.g. captions_karpathy_test.json)",
                                                      settings.value("data/captions_json", QFileInfo(csv).path()).toString(),
                                                      "JSON (*.json)");
    if (json.isEmpty()) return;
    loadData(csv, json, max_pairs_);
}

// --- palette and presentation ------------------------------------------------------------------------

void MainWindow::setDark(bool dark) {
    dark_ = dark;
    apply_theme(dark);
    if (dark_action_) (dark ? dark_action_ : light_action_)->setChecked(true);
    QSettings().setValue("view/dark", dark);
    setPlotStyle();
}

void MainWindow::setPlotStyle() {
    PlotStyle style;
    style.dark = dark_;
    style.font_scale = presenting_ ? 1.5 : 1.0;
    scatter_->setStyle(style);
    table2_->setStyle(style);
}

void MainWindow::setPresentationMode(bool on) {
    if (on == presenting_) return;
    presenting_ = on;
    {
        const QSignalBlocker block(presentation_toggle_);
        presentation_toggle_->setChecked(on);
    }
    presentation_escape_->setEnabled(on);
    if (on) {
        state_before_presenting_ = saveState();
        geometry_before_presenting_ = saveGeometry();
        was_maximized_ = isMaximized();
        QFont big = normal_font_;
        big.setPointSizeF(std::max(14.0, normal_font_.pointSizeF() * 1.6));
        setFont(big);
        // The panels a talk needs: the pair table, the two plots as tabs of one tall column (large
        // labels need the room) and the prompt box under the table. Models, jobs, mapping training
        // and Table 1 step aside (View menu brings any of them back), and so does the tool bar.
        for (const char* name : {"models", "jobs", "mapping", "glue"}) docks_[name]->hide();
        for (const char* name : {"scatter", "table2", "prompt"}) {
            docks_[name]->setFloating(false);
            docks_[name]->show();
        }
        if (!tabifiedDockWidgets(docks_["scatter"]).contains(docks_["table2"]))
            tabifyDockWidget(docks_["scatter"], docks_["table2"]);
        docks_["scatter"]->raise();
        main_toolbar_->hide();
        explorer_->view()->setFocus();
        showFullScreen();
        const QRect area = screen() ? screen()->geometry() : geometry();
        resizeDocks({docks_["scatter"]}, {area.width() * 45 / 100}, Qt::Horizontal);
        resizeDocks({docks_["prompt"]}, {area.height() * 24 / 100}, Qt::Vertical);
    } else {
        present_items_.clear();
        present_index_ = -1;
        for (QAction* a : presentation_step_actions_) a->setEnabled(false);
        if (present_bar_) present_bar_->hide();
        setFont(normal_font_);
        if (!state_before_presenting_.isEmpty()) restoreState(state_before_presenting_);
        if (was_maximized_) {
            showMaximized();
        } else {
            showNormal();
            restoreGeometry(geometry_before_presenting_);
        }
    }
    setPlotStyle();
}

void MainWindow::startPresentation(std::vector<PresentationItem> items) {
    if (items.empty()) return;
    present_items_ = std::move(items);
    present_index_ = 0;
    setPresentationMode(true);
    const QFont big = font();
    // The banner sits in its own tool bar row (status bar messages would hide it).
    if (!present_banner_) {
        present_banner_ = new QLabel(this);
        present_banner_->setObjectName("presentationBanner");
        present_banner_->setWordWrap(true);
        present_banner_->setStyleSheet("QLabel { background: #2f6fb5; color: white; padding: 10px; }");
        present_banner_->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Maximum);
        present_bar_ = new QToolBar("Presentation", this);
        present_bar_->setObjectName("presentationBar");
        present_bar_->setMovable(false);
        present_bar_->addWidget(present_banner_);
        addToolBarBreak(Qt::TopToolBarArea);
        addToolBar(Qt::TopToolBarArea, present_bar_);
    }
    QFont bf = big;
    bf.setPointSizeF(big.pointSizeF() * 1.2);
    bf.setBold(true);
    present_banner_->setFont(bf);
    present_banner_->setMaximumHeight(QFontMetrics(bf).lineSpacing() * 2 + 24);  // two lines at most
    present_bar_->show();
    for (QAction* a : presentation_step_actions_) a->setEnabled(true);
    showPresentationItem();
}

void MainWindow::stopPresentation() { setPresentationMode(false); }

void MainWindow::presentationStep(int delta) {
    if (!presenting_ || present_items_.empty()) return;
    present_index_ = std::clamp(present_index_ + delta, 0, static_cast<int>(present_items_.size()) - 1);
    showPresentationItem();
}

void MainWindow::showPresentationItem() {
    if (present_index_ < 0 || present_index_ >= static_cast<int>(present_items_.size())) return;
    const auto& item = present_items_[static_cast<size_t>(present_index_)];
    QString text = QString("%1 / %2   ").arg(present_index_ + 1).arg(present_items_.size());
    if (item.kind == PresentationItem::Kind::Prompt) {
        text += "Prompt: “" + item.prompt + "”";
        prompt_->setPrompt(item.prompt);
        searchPrompt(item.prompt, prompt_->neighbours());
    } else {
        if (!hasData() || item.pair >= explorer_->model()->pairCount()) {
            text += QString("Pair %1 (not in the loaded data)").arg(item.pair + 1);
        } else {
            const auto& p = explorer_->model()->pair(item.pair);
            text += QString("Pair %1: “%2” ↔ “%3” (STS-L %4)").arg(item.pair + 1)
                        .arg(QString::fromStdString(p.text1), QString::fromStdString(p.text2)).arg(p.sts_l, 0, 'f', 2);
            explorer_->selectPairs({item.pair});
        }
    }
    if (!item.note.isEmpty()) text += "   — " + item.note;
    text += "   [Space / PageDown: next · PageUp: back · Esc: end]";
    if (present_banner_) present_banner_->setText(text);
}

// --- screenshots -------------------------------------------------------------------------------------

QStringList MainWindow::saveScreenshots(const QString& dir) {
    QStringList written;
    QDir().mkpath(dir);
    auto save = [&](QWidget* w, const QString& name) {
        const QString path = QDir(dir).filePath(name + ".png");
        if (w && w->grab().save(path)) written << path;
    };
    save(this, "main_window");
    // A panel in a tab behind another is neither laid out nor painted: bring each to the front for
    // its picture, then the ones that were in front back again. The panel itself, not its scroll
    // area, so that a panel larger than its dock is pictured whole.
    std::vector<QDockWidget*> in_front;
    for (const auto& [name, dock] : docks_)
        if (dock->isVisible() && !dock->visibleRegion().isEmpty()) in_front.push_back(dock);
    for (const auto& [name, dock] : docks_) {
        if (dock->isVisible()) {
            dock->raise();
            QCoreApplication::processEvents();
        }
        auto* scroll = qobject_cast<QScrollArea*>(dock->widget());
        save(scroll ? scroll->widget() : dock->widget(), "panel_" + name);
    }
    for (QDockWidget* dock : in_front) dock->raise();
    save(explorer_, "panel_pairs");
    return written;
}

}  // namespace syn::ui
