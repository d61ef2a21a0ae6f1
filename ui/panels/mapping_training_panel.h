#pragma once
// Training the text -> prefix map of the text-to-image probe (PAPER.md section 3) from the
// workbench: generator, Multi-Modal CelebA-HQ folder, text encoder (or the random baseline), output
// folder, epochs and a step limit; the job runs on the ComputeWorker and the loss curve is plotted
// (QCustomPlot). Every epoch is checkpointed in the output folder, so starting again with the same
// folder resumes, and the panel says from which epoch.
#include <QFileDialog>
#include <QWidget>

#include <memory>

#include "ui/compute/jobs.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace syn::ui {

class ComputeWorker;
class ModelListModel;

// A folder dialog for outputs: a folder that does not exist yet (a name typed in the dialog) is
// offered for creation instead of refused as "Directory not found". Qt's own dialog, since only
// it lets accept() ask first.
class OutputFolderDialog : public QFileDialog {
    Q_OBJECT
public:
    OutputFolderDialog(QWidget* parent, const QString& caption, const QString& start);
    QString folder() const;
    void accept() override;
};

class MappingTrainingPanel : public QWidget {
    Q_OBJECT
public:
    explicit MappingTrainingPanel(ComputeWorker* worker, QWidget* parent = nullptr);
    ~MappingTrainingPanel() override;

    void setGenerator(const QString& folder);
    void setDataDir(const QString& folder);
    void setEncoder(const QString& encoder);  // catalog / hub id, folder, or "random"
    void setOutDir(const QString& folder);
    void setEpochs(int epochs);
    void setMaxSteps(int steps);
    void setBatchSize(int batch);
    void setMaxImages(int images);
    // The encoder list offers the model folders added in the Models panel too (kept in step with it).
    void setModelList(ModelListModel* models);
    QStringList encoderChoices() const;
    syn::run::TrainMappingJobOptions options() const;
    // What is missing before a run can start ("" when nothing).
    QString missingInputs() const;

    // Returns the job id, or 0 when something is missing (the panel says what) or a run is going on.
    int start();
    void cancel();
    // The Output row's "…": an OutputFolderDialog, so a new run's folder can be named and created.
    void chooseOutDir();
    bool busy() const { return job_ != 0; }

    // The loss curve: one point per optimiser step.
    void appendLoss(int64_t step, double loss);
    void setLosses(const std::vector<double>& step_losses);
    int plottedSteps() const;
    QCustomPlot* plot() const { return plot_; }
    QString message() const;
    std::shared_ptr<const MappingTrainingOutcome> outcome() const { return outcome_; }

signals:
    void trainingFinished(bool ok);
    // The checkpoint a finished (or stopped) run left: <out>/mapping.safetensors.
    void checkpointWritten(const QString& path);

private:
    void showMessage(const QString& text, bool error = false);
    void setBusy(bool busy);
    void showOutcome(std::shared_ptr<const MappingTrainingOutcome> outcome);
    // The stage as a sentence, the bar, and the loss plot's x range while training.
    void showProgress(const syn::run::Progress& progress);
    void appendLog(const QString& line);
    void saveSettings() const;
    void refreshEncoderChoices();

    ComputeWorker* worker_;
    ModelListModel* models_ = nullptr;
    int fixed_encoder_items_ = 0;  // "random" and the catalog's; the Models panel's folders follow
    int job_ = 0;
    std::shared_ptr<const MappingTrainingOutcome> outcome_;
    QLineEdit* generator_;
    QLineEdit* data_dir_;
    QComboBox* encoder_;
    QLineEdit* out_dir_;
    QSpinBox* epochs_;
    QSpinBox* max_steps_;
    QSpinBox* batch_;
    QSpinBox* max_images_;
    QPushButton* start_;
    QPushButton* cancel_;
    QProgressBar* progress_;
    QLabel* status_;
    QPlainTextEdit* log_;
    QCustomPlot* plot_;
};

}  // namespace syn::ui
