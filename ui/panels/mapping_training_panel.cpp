#include "ui/panels/mapping_training_panel.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMetaObject>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <cmath>

#include "core/run/catalog.h"
#include "ui/compute/compute_worker.h"
#include "ui/models/model_list_model.h"
#include "ui/plots/plot_builders.h"

namespace syn::ui {
namespace {

QWidget* with_browse(QWidget* parent, QWidget* field, std::function<void()> browse) {
    auto* row = new QWidget(parent);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(field, 1);
    auto* button = new QToolButton(row);
    button->setText("…");
    button->setToolTip("Choose a folder…");
    QObject::connect(button, &QToolButton::clicked, row, std::move(browse));
    layout->addWidget(button);
    return row;
}

QSpinBox* spin(QWidget* parent, const char* name, int low, int high, int value, const QString& tip,
               const QString& special = {}) {
    auto* s = new QSpinBox(parent);
    s->setObjectName(name);
    s->setRange(low, high);
    s->setValue(value);
    s->setToolTip(tip);
    if (!special.isEmpty()) s->setSpecialValueText(special);
    return s;
}

}  // namespace

OutputFolderDialog::OutputFolderDialog(QWidget* parent, const QString& caption, const QString& start)
    : QFileDialog(parent, caption) {
    setOption(QFileDialog::DontUseNativeDialog);
    setFileMode(QFileDialog::Directory);
    setOption(QFileDialog::ShowDirsOnly);
    const QFileInfo info(start);
    if (!start.isEmpty() && !info.exists()) {
        // A folder named before but not created yet: open its parent with the name filled in.
        setDirectory(info.absolutePath());
        selectFile(info.fileName());
    } else if (!start.isEmpty()) {
        setDirectory(start);
    }
}

QString OutputFolderDialog::folder() const { return selectedFiles().value(0); }

void OutputFolderDialog::accept() {
    const QString path = folder();
    if (!path.isEmpty() && !QFileInfo::exists(path)) {
        const auto answer = QMessageBox::question(
            this, windowTitle(), QString("The folder %1 does not exist yet. Create it?").arg(QDir::toNativeSeparators(path)),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes);
        if (answer != QMessageBox::Yes) return;  // the dialog stays open for another name
        if (!QDir().mkpath(path)) {
            QMessageBox::warning(this, windowTitle(), QString("Could not create %1.").arg(QDir::toNativeSeparators(path)));
            return;
        }
    }
    QFileDialog::accept();
}

MappingTrainingPanel::MappingTrainingPanel(ComputeWorker* worker, QWidget* parent) : QWidget(parent), worker_(worker) {
    setObjectName("mappingTraining");
    generator_ = new QLineEdit(this);
    generator_->setObjectName("mappingGenerator");
    generator_->setPlaceholderText("taming folder (celebahq_transformer)");
    generator_->setToolTip("The frozen face generator (VQGAN + GPT) the map learns to prompt");
    data_dir_ = new QLineEdit(this);
    data_dir_->setObjectName("mappingData");
    data_dir_->setPlaceholderText("Multi-Modal CelebA-HQ folder (images/, text/, train/)");
    data_dir_->setToolTip("Faces and their captions; the train split is used");
    encoder_ = new QComboBox(this);
    encoder_->setObjectName("mappingEncoder");
    encoder_->setEditable(true);
    encoder_->setInsertPolicy(QComboBox::NoInsert);
    encoder_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    encoder_->setMinimumContentsLength(14);
    encoder_->addItem(syn::run::kRandomEncoder);
    encoder_->setItemData(0, "The random baseline: N(0, 1) vectors instead of text embeddings", Qt::ToolTipRole);
    try {
        for (const auto& e : syn::run::load_catalog())
            if (e.pooling.count("t2i")) encoder_->addItem(QString::fromStdString(e.id));
    } catch (const std::exception&) {
        // The catalog is compiled in; a folder or hub id can still be typed.
    }
    fixed_encoder_items_ = encoder_->count();
    encoder_->setCurrentIndex(-1);
    encoder_->lineEdit()->setPlaceholderText("catalog id, model folder, or random");
    encoder_->setToolTip("Frozen text encoder: a catalog / hub id, a model folder, or \"random\" (the baseline)");
    out_dir_ = new QLineEdit(this);
    out_dir_->setObjectName("mappingOut");
    out_dir_->setPlaceholderText("output folder (mapping.safetensors; an existing run there is resumed)");
    out_dir_->setToolTip("Checkpoints after every epoch: the same folder resumes where a run stopped");
    epochs_ = spin(this, "mappingEpochs", 1, 1000, 4, "Epochs over the training faces (the study: 4)");
    max_steps_ = spin(this, "mappingMaxSteps", 0, 100000000, 0, "Stop after this many optimiser steps", "no limit");
    batch_ = spin(this, "mappingBatch", 1, 4096, 64, "Faces per optimiser step (the study: 64)");
    max_images_ = spin(this, "mappingMaxImages", 0, 100000000, 0, "Use only the first N training faces", "all");

    start_ = new QPushButton(QIcon(":/icons/run.svg"), "Train", this);
    start_->setObjectName("mappingStart");
    start_->setToolTip("Train (or resume) the map on the compute thread");
    cancel_ = new QPushButton(QIcon(":/icons/cancel.svg"), "Cancel", this);
    cancel_->setObjectName("mappingCancel");
    cancel_->setEnabled(false);
    cancel_->setToolTip("Stop; the last finished epoch stays checkpointed and a new Train resumes from it");
    progress_ = new QProgressBar(this);
    progress_->setMaximumHeight(14);
    progress_->setVisible(false);
    status_ = new QLabel(this);
    status_->setObjectName("mappingStatus");
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    log_ = new QPlainTextEdit(this);
    log_->setObjectName("mappingLog");
    log_->setReadOnly(true);
    log_->setMaximumBlockCount(500);
    log_->setMaximumHeight(70);
    log_->setPlaceholderText("The job's log");

    plot_ = new QCustomPlot(this);
    plot_->setObjectName("mappingLossPlot");
    plot_->setMinimumSize(240, 160);
    plot_->addGraph();
    plot_->graph(0)->setName("loss per step");
    plot_->graph(0)->setPen(QPen(QColor(0x2f, 0x6f, 0xb5), 1.5));
    plot_->xAxis->setLabel("optimiser step");
    plot_->yAxis->setLabel("cross-entropy over the codes");
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    apply_plot_style(plot_, {});

    auto* form = new QFormLayout;
    form->setContentsMargins(0, 0, 0, 0);
    form->setVerticalSpacing(3);
    form->addRow("Generator", with_browse(this, generator_, [this] {
                     const QString d = QFileDialog::getExistingDirectory(this, "Generator (taming) folder", generator_->text());
                     if (!d.isEmpty()) setGenerator(d);
                 }));
    form->addRow("Faces", with_browse(this, data_dir_, [this] {
                     const QString d = QFileDialog::getExistingDirectory(this, "Multi-Modal CelebA-HQ folder", data_dir_->text());
                     if (!d.isEmpty()) setDataDir(d);
                 }));
    form->addRow("Encoder", with_browse(this, encoder_, [this] {
                     const QString d = QFileDialog::getExistingDirectory(this, "Text encoder model folder");
                     if (!d.isEmpty()) setEncoder(d);
                 }));
    form->addRow("Output", with_browse(this, out_dir_, [this] { chooseOutDir(); }));
    auto* numbers = new QHBoxLayout;
    numbers->setSpacing(4);
    numbers->addWidget(new QLabel("epochs", this));
    numbers->addWidget(epochs_, 1);
    numbers->addWidget(new QLabel("max steps", this));
    numbers->addWidget(max_steps_, 1);
    form->addRow(numbers);
    auto* numbers2 = new QHBoxLayout;
    numbers2->setSpacing(4);
    numbers2->addWidget(new QLabel("batch", this));
    numbers2->addWidget(batch_, 1);
    numbers2->addWidget(new QLabel("faces", this));
    numbers2->addWidget(max_images_, 1);
    form->addRow(numbers2);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(start_);
    buttons->addWidget(cancel_);
    buttons->addStretch(1);
    form->addRow(buttons);

    auto* left = new QVBoxLayout;
    left->setContentsMargins(0, 0, 0, 0);
    left->addLayout(form);
    left->addWidget(progress_);
    left->addWidget(status_);
    left->addWidget(log_, 1);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(left, 2);
    layout->addWidget(plot_, 3);

    connect(start_, &QPushButton::clicked, this, [this] { start(); });
    connect(cancel_, &QPushButton::clicked, this, &MappingTrainingPanel::cancel);

    QSettings settings;
    generator_->setText(settings.value("mapping/generator").toString());
    data_dir_->setText(settings.value("mapping/data").toString());
    encoder_->setCurrentText(settings.value("mapping/encoder").toString());
    out_dir_->setText(settings.value("mapping/out").toString());
    epochs_->setValue(settings.value("mapping/epochs", 4).toInt());
    max_steps_->setValue(settings.value("mapping/max_steps", 0).toInt());
    batch_->setValue(settings.value("mapping/batch", 64).toInt());
    max_images_->setValue(settings.value("mapping/max_images", 0).toInt());
    showMessage("Train the text → prefix map of the face generator for one encoder. Each epoch is checkpointed in "
                "the output folder; the same folder resumes an interrupted run.");
}

MappingTrainingPanel::~MappingTrainingPanel() {
    if (job_) worker_->cancel(job_);
}

void MappingTrainingPanel::chooseOutDir() {
    OutputFolderDialog dialog(this, "Output folder (a new name is created; an existing run there is resumed)",
                              out_dir_->text().trimmed());
    if (dialog.exec() == QDialog::Accepted && !dialog.folder().isEmpty()) setOutDir(dialog.folder());
}

void MappingTrainingPanel::setModelList(ModelListModel* models) {
    if (models_) disconnect(models_, nullptr, this, nullptr);
    models_ = models;
    if (models_) {
        connect(models_, &QAbstractItemModel::rowsInserted, this, &MappingTrainingPanel::refreshEncoderChoices);
        connect(models_, &QAbstractItemModel::rowsRemoved, this, &MappingTrainingPanel::refreshEncoderChoices);
        connect(models_, &QAbstractItemModel::modelReset, this, &MappingTrainingPanel::refreshEncoderChoices);
    }
    refreshEncoderChoices();
}

void MappingTrainingPanel::refreshEncoderChoices() {
    const QString current = encoder_->currentText();
    while (encoder_->count() > fixed_encoder_items_) encoder_->removeItem(encoder_->count() - 1);
    if (models_) {
        for (const ModelEntry& e : models_->entries()) {
            if (e.source != "folder" || e.is_lexical() || e.folder.isEmpty()) continue;
            encoder_->addItem(e.folder);
            encoder_->setItemData(encoder_->count() - 1, QString("%1 (%2, added in the Models panel)").arg(e.label, e.family),
                                  Qt::ToolTipRole);
        }
    }
    encoder_->setEditText(current);
}

QStringList MappingTrainingPanel::encoderChoices() const {
    QStringList items;
    for (int i = 0; i < encoder_->count(); ++i) items << encoder_->itemText(i);
    return items;
}

void MappingTrainingPanel::setGenerator(const QString& folder) { generator_->setText(folder); }
void MappingTrainingPanel::setDataDir(const QString& folder) { data_dir_->setText(folder); }
void MappingTrainingPanel::setEncoder(const QString& encoder) { encoder_->setCurrentText(encoder); }
void MappingTrainingPanel::setOutDir(const QString& folder) { out_dir_->setText(folder); }
void MappingTrainingPanel::setEpochs(int epochs) { epochs_->setValue(epochs); }
void MappingTrainingPanel::setMaxSteps(int steps) { max_steps_->setValue(steps); }
void MappingTrainingPanel::setBatchSize(int batch) { batch_->setValue(batch); }
void MappingTrainingPanel::setMaxImages(int images) { max_images_->setValue(images); }

syn::run::TrainMappingJobOptions MappingTrainingPanel::options() const {
    syn::run::TrainMappingJobOptions o;
    o.generator = generator_->text().trimmed().toStdString();
    o.data_dir = data_dir_->text().trimmed().toStdString();
    o.encoder = encoder_->currentText().trimmed().toStdString();
    o.out_dir = out_dir_->text().trimmed().toStdString();
    o.train.epochs = epochs_->value();
    o.train.max_steps = max_steps_->value();
    o.train.batch_size = batch_->value();
    o.max_images = static_cast<std::size_t>(max_images_->value());
    return o;
}

QString MappingTrainingPanel::missingInputs() const {
    QStringList missing;
    auto folder = [&](const QLineEdit* edit, const QString& what) {
        const QString path = edit->text().trimmed();
        if (path.isEmpty()) missing << what;
        else if (!QFileInfo(path).isDir()) missing << QString("%1 that exists ('%2' is not a folder)").arg(what, path);
    };
    folder(generator_, "the generator folder (taming)");
    folder(data_dir_, "the faces folder (Multi-Modal CelebA-HQ)");
    if (encoder_->currentText().trimmed().isEmpty())
        missing << "a text encoder (a catalog id, a model folder, or \"random\" for the baseline)";
    if (out_dir_->text().trimmed().isEmpty()) missing << "an output folder";
    if (missing.isEmpty()) return {};
    return "To train a mapping, pick " + missing.join("; ") + ".";
}

int MappingTrainingPanel::start() {
    if (job_) {
        showMessage("A training run is already going on: wait for it or Cancel it.");
        return 0;
    }
    const QString missing = missingInputs();
    if (!missing.isEmpty()) {
        showMessage(missing, true);
        return 0;
    }
    saveSettings();
    syn::run::TrainMappingJobOptions o = options();
    // The job's log lines reach the panel through its event loop (the job runs on the worker thread).
    QPointer<MappingTrainingPanel> self(this);
    o.log = [self](const std::string& line) {
        const QString text = QString::fromStdString(line);
        if (self) QMetaObject::invokeMethod(self.data(), [self, text] { if (self) self->appendLog(text); }, Qt::QueuedConnection);
    };
    // Live loss curve: every optimiser step, queued to the GUI thread (the whole curve, resumed
    // steps included, is set again from the report when the run ends).
    o.on_step = [self](int64_t step, double loss) {
        if (self)
            QMetaObject::invokeMethod(self.data(), [self, step, loss] { if (self) self->appendLoss(step, loss); },
                                      Qt::QueuedConnection);
    };
    setLosses({});
    log_->clear();
    const QString title = "Train mapping: " + QString::fromStdString(o.encoder).section('/', -1, -1, QString::SectionSkipEmpty);
    auto job = worker_->submit(this, title, [o](const syn::run::ProgressSink& p, const syn::run::CancelToken* c) {
        return train_mapping(o, p, c);
    });
    job.onProgress([this](const syn::run::Progress& p, double) { showProgress(p); })
        .onFinished([this](std::shared_ptr<const MappingTrainingOutcome> outcome) {
            setBusy(false);
            showOutcome(std::move(outcome));
            emit trainingFinished(true);
        })
        .onFailed([this](const QString& message) {
            setBusy(false);
            showMessage("Training failed: " + message, true);
            emit trainingFinished(false);
        })
        .onCancelled([this](bool) {
            setBusy(false);
            const QString checkpoint = QDir(out_dir_->text().trimmed()).filePath("mapping.safetensors");
            showMessage(QFileInfo::exists(checkpoint)
                            ? "Training cancelled. The last finished epoch is in " + checkpoint + "; Train resumes from it."
                            : QString("Training cancelled before the first epoch finished (nothing to resume)."));
            emit trainingFinished(false);
        });
    job_ = job.id();
    setBusy(true);
    showMessage("Queued on the compute thread…");
    return job_;
}

void MappingTrainingPanel::showProgress(const syn::run::Progress& p) {
    using syn::run::Stage;
    if (p.total > 0) {
        progress_->setRange(0, 1000);
        progress_->setValue(static_cast<int>(1000.0 * double(p.done) / double(p.total)));
        progress_->setFormat(QString("%1 %2 / %3").arg(QString::fromStdString(p.text())).arg(p.done).arg(p.total));
    } else {
        progress_->setRange(0, 0);
    }
    switch (p.stage) {
        case Stage::training:
            showMessage(QString("Training: step %1%2").arg(p.done).arg(p.total > 0 ? QString(" / %1").arg(p.total) : QString()));
            // Keep the x axis ahead of the curve so the plot shows how far the run has to go.
            if (p.total > 0) plot_->xAxis->setRange(0, double(p.total));
            plot_->replot(QCustomPlot::rpQueuedReplot);
            break;
        case Stage::encoding_images: showMessage("Encoding faces to codes (cached for later runs)…"); break;
        case Stage::loading_model:
        case Stage::tokenizing:
        case Stage::embedding: showMessage("Embedding the captions (cached)…"); break;
        default: showMessage(QString::fromStdString(p.text())); break;
    }
}

void MappingTrainingPanel::cancel() {
    if (job_) {
        worker_->cancel(job_);  // its onCancelled follows through the event loop
        showMessage("Cancelling… (the running step finishes first; the last finished epoch is kept)");
    }
}

void MappingTrainingPanel::setBusy(bool busy) {
    if (!busy) job_ = 0;
    start_->setEnabled(!busy);
    cancel_->setEnabled(busy);
    progress_->setVisible(busy);
    progress_->setRange(0, 0);
}

void MappingTrainingPanel::showMessage(const QString& text, bool error) {
    status_->setText(text);
    status_->setStyleSheet(error ? "QLabel { color: #c83030; }" : QString());
}

QString MappingTrainingPanel::message() const { return status_->text(); }

void MappingTrainingPanel::appendLog(const QString& line) { log_->appendPlainText(line); }

void MappingTrainingPanel::appendLoss(int64_t step, double loss) {
    if (!std::isfinite(loss)) return;
    plot_->graph(0)->addData(double(step), loss);
    bool found = false;
    const QCPRange y = plot_->graph(0)->getValueRange(found);
    if (found) plot_->yAxis->setRange(std::max(0.0, y.lower - 0.05 * y.size()), y.upper + 0.05 * y.size() + 1e-9);
    if (plot_->xAxis->range().upper < double(step)) plot_->xAxis->setRange(0, double(step));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void MappingTrainingPanel::setLosses(const std::vector<double>& step_losses) {
    QVector<double> x, y;
    x.reserve(int(step_losses.size()));
    y.reserve(int(step_losses.size()));
    for (std::size_t i = 0; i < step_losses.size(); ++i) {
        if (!std::isfinite(step_losses[i])) continue;
        x << double(i + 1);  // step numbers count from 1, as the progress does
        y << step_losses[i];
    }
    plot_->graph(0)->setData(x, y, /*alreadySorted=*/true);
    if (!x.isEmpty()) {
        plot_->rescaleAxes();
        plot_->xAxis->setRange(0, x.back());
        const QCPRange r = plot_->yAxis->range();
        plot_->yAxis->setRange(std::max(0.0, r.lower - 0.05 * r.size()), r.upper + 0.05 * r.size() + 1e-9);
    }
    plot_->replot();
}

int MappingTrainingPanel::plottedSteps() const { return plot_->graph(0)->dataCount(); }

void MappingTrainingPanel::showOutcome(std::shared_ptr<const MappingTrainingOutcome> outcome) {
    outcome_ = std::move(outcome);
    if (!outcome_) return;
    const syn::run::TrainMappingJobResult& r = outcome_->result;
    setLosses(r.report.step_losses);
    QStringList parts;
    if (r.resumed) parts << QString("resumed from epoch %1").arg(outcome_->resumed_from_epoch);
    if (outcome_->replaced_epochs > 0)
        parts << QString("started afresh over a %1-epoch checkpoint trained with other settings (only an identical "
                         "run resumes)").arg(outcome_->replaced_epochs);
    parts << QString("%1 epoch%2, %3 steps").arg(r.report.epoch_losses.size())
                 .arg(r.report.epoch_losses.size() == 1 ? "" : "s").arg(r.report.steps);
    if (!r.report.epoch_losses.empty()) parts << QString("last epoch loss %1").arg(r.report.epoch_losses.back(), 0, 'f', 4);
    parts << QString("%1 faces, %2 captions").arg(r.images).arg(r.captions);
    if (r.skipped_images) parts << QString("%1 unreadable faces skipped").arg(r.skipped_images);
    parts << QString("%1 on %2 (%3), %4 s").arg(QString::fromStdString(r.encoder), QString::fromStdString(r.device),
                                                  QString::fromStdString(r.precision)).arg(r.seconds, 0, 'f', 1);
    showMessage(QString(r.finished ? "Done" : "Stopped early") + ": " + parts.join(" · ") + ". Checkpoint: " +
                QString::fromStdString(r.checkpoint));
    if (!r.checkpoint.empty()) emit checkpointWritten(QString::fromStdString(r.checkpoint));
}

void MappingTrainingPanel::saveSettings() const {
    QSettings settings;
    settings.setValue("mapping/generator", generator_->text().trimmed());
    settings.setValue("mapping/data", data_dir_->text().trimmed());
    settings.setValue("mapping/encoder", encoder_->currentText().trimmed());
    settings.setValue("mapping/out", out_dir_->text().trimmed());
    settings.setValue("mapping/epochs", epochs_->value());
    settings.setValue("mapping/max_steps", max_steps_->value());
    settings.setValue("mapping/batch", batch_->value());
    settings.setValue("mapping/max_images", max_images_->value());
}

}  // namespace syn::ui
