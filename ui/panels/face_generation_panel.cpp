#include "ui/panels/face_generation_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>

#include "core/io/errors.h"
#include "core/run/catalog.h"
#include "ui/compute/compute_worker.h"

namespace syn::ui {
namespace {

QString shown_model(const std::string& id) {
    const QString q = QString::fromStdString(id);
    // A folder given by path is named by its last component (a full path does not fit under a face).
    if (q.contains('/') && (q.startsWith('/') || q.startsWith('.') || QFileInfo(q).isDir()))
        return q.section('/', -1, -1, QString::SectionSkipEmpty);
    return q;
}

QString encoder_label(const GeneratedSide& side) {
    QString label = shown_model(side.encoder);
    if (!side.pooling.empty()) label += " · " + QString::fromStdString(side.pooling);
    return label;
}

// A line edit with a "…" button that opens a file or folder dialog.
QWidget* picker_row(QWidget* parent, QLineEdit* edit, const QString& tip, std::function<void()> browse) {
    auto* row = new QWidget(parent);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    edit->setToolTip(tip);
    layout->addWidget(edit, 1);
    auto* button = new QToolButton(row);
    button->setText("…");
    button->setToolTip("Choose…");
    QObject::connect(button, &QToolButton::clicked, row, std::move(browse));
    layout->addWidget(button);
    return row;
}

}  // namespace

// --- FaceView ------------------------------------------------------------------------------------

FaceView::FaceView(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void FaceView::setImage(const QImage& image) {
    image_ = image;
    update();
}

QRect face_display_rect(const QSize& image_size, const QRect& box) {
    if (image_size.isEmpty() || box.isEmpty()) return {};
    const QSize size = image_size.scaled(box.size(), Qt::KeepAspectRatio);
    return QRect(QPoint(box.left() + (box.width() - size.width()) / 2, box.top() + (box.height() - size.height()) / 2),
                 size);
}

QRect FaceView::imageRect() const {
    if (image_.isNull()) return {};
    // Square box: the faces are square, and both views keep the same size side by side.
    const QRect box = rect();
    const int side = std::min(box.width(), box.height());
    QRect square(0, 0, side, side);
    square.moveCenter(box.center());
    return face_display_rect(image_.size(), square);
}

void FaceView::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    if (image_.isNull()) {
        const QRect box = rect().adjusted(1, 1, -1, -1);
        painter.setPen(QPen(palette().color(QPalette::Mid), 1, Qt::DashLine));
        painter.drawRect(box);
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(box, Qt::AlignCenter | Qt::TextWordWrap, "no face yet");
        return;
    }
    const QRect target = imageRect();
    // Scaled up: nearest neighbour, pixels stay pixels. Scaled down (a 256 px face in a small
    // dock): smoothed, not aliased.
    painter.setRenderHint(QPainter::SmoothPixmapTransform, target.width() < image_.width());
    painter.drawImage(target, image_);
}

QImage face_to_qimage(const RgbFace& face) {
    if (face.width <= 0 || face.height <= 0 ||
        face.rgb.size() != static_cast<std::size_t>(face.width) * static_cast<std::size_t>(face.height) * 3)
        return {};
    return QImage(face.rgb.data(), face.width, face.height, face.width * 3, QImage::Format_RGB888).copy();
}

QString mapping_label(const QString& checkpoint) {
    const syn::run::MappingInfo info = syn::run::read_mapping_info(checkpoint.toStdString());
    QString label = info.encoder.empty() ? QString("unknown encoder") : shown_model(info.encoder);
    if (!info.pooling.empty()) label += " · " + QString::fromStdString(info.pooling);
    return label;
}

// --- FaceGenerationPanel --------------------------------------------------------------------------

FaceGenerationPanel::FaceGenerationPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("faceGeneration");
    generator_ = new QLineEdit(this);
    generator_->setObjectName("faceGenerator");
    generator_->setPlaceholderText("taming folder (celebahq_transformer)");
    clip_mapping_ = new QLineEdit(this);
    clip_mapping_->setObjectName("faceClipMapping");
    clip_mapping_->setPlaceholderText("mapping.safetensors (CLIP-style encoder)");
    bert_mapping_ = new QLineEdit(this);
    bert_mapping_->setObjectName("faceBertMapping");
    bert_mapping_->setPlaceholderText("mapping.safetensors (BERT-style encoder)");
    clip_scorer_ = new QComboBox(this);
    clip_scorer_->setObjectName("faceClipScorer");
    clip_scorer_->setEditable(true);
    clip_scorer_->setInsertPolicy(QComboBox::NoInsert);
    clip_scorer_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    clip_scorer_->setMinimumContentsLength(8);
    try {
        for (const auto& e : syn::run::load_catalog())
            if (e.family == "clip") clip_scorer_->addItem(QString::fromStdString(e.id));
    } catch (const std::exception&) {
        // The catalog is compiled in; should it fail, the default id below is still offered.
    }
    if (clip_scorer_->findText(kDefaultClipScorer) < 0) clip_scorer_->addItem(kDefaultClipScorer);
    clip_scorer_->setCurrentText(kDefaultClipScorer);
    clip_scorer_->setToolTip("CLIP model that scores each face against the prompt (CLIP-S = 100 x cosine): a catalog / "
                             "hub id in the Hugging Face cache, or a CLIP model folder");

    seed_ = new QSpinBox(this);
    seed_->setObjectName("faceSeed");
    seed_->setRange(0, 999999);  // a short range keeps the spin box narrow
    seed_->setToolTip("Both faces are sampled with this seed");
    top_k_ = new QSpinBox(this);
    top_k_->setObjectName("faceTopK");
    top_k_->setRange(0, 99999);
    top_k_->setValue(250);
    top_k_->setToolTip("Sample among the k most likely codes (the study: 250; 0 = off)");
    temperature_ = new QDoubleSpinBox(this);
    temperature_->setObjectName("faceTemperature");
    temperature_->setRange(0.0, 10.0);
    temperature_->setDecimals(2);
    temperature_->setSingleStep(0.1);
    temperature_->setValue(1.0);
    temperature_->setToolTip("Sampling temperature (the study: 1; 0 = greedy)");

    generate_ = new QPushButton(QIcon(":/icons/run.svg"), "Generate", this);
    generate_->setObjectName("faceGenerate");
    generate_->setToolTip("Generate a face from the prompt with each mapping (same seed), then CLIP-S; pressed again while "
                          "one runs, the new request replaces it");
    cancel_ = new QPushButton(QIcon(":/icons/cancel.svg"), "Cancel", this);
    cancel_->setObjectName("faceCancel");
    cancel_->setEnabled(false);
    add_ = new QPushButton("Add to figure", this);
    add_->setObjectName("faceAddToFigure");
    add_->setToolTip("Keep this prompt and its two faces as a row of Figure 1");
    export_ = new QPushButton("Export Figure 1…", this);
    export_->setObjectName("faceExportFigure");
    export_->setToolTip("Caption | CLIP-encoder face | BERT-encoder face, CLIP-S under each (PNG, SVG or PDF)");
    progress_ = new QProgressBar(this);
    progress_->setObjectName("faceProgress");
    progress_->setMaximumHeight(14);
    progress_->setTextVisible(false);
    progress_->setVisible(false);
    status_ = new QLabel(this);
    status_->setObjectName("faceStatus");
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    clip_view_ = new FaceView(this);
    clip_view_->setObjectName("faceClipView");
    bert_view_ = new FaceView(this);
    bert_view_->setObjectName("faceBertView");
    auto make_label = [this](const char* name, bool bold) {
        auto* l = new QLabel(this);
        l->setObjectName(name);
        l->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
        l->setWordWrap(true);
        if (bold) {
            QFont f = l->font();
            f.setBold(true);
            l->setFont(f);
        }
        return l;
    };
    clip_label_ = make_label("faceClipLabel", false);
    bert_label_ = make_label("faceBertLabel", false);
    clip_score_ = make_label("faceClipScore", true);
    bert_score_ = make_label("faceBertScore", true);

    auto* form = new QGridLayout;
    form->setContentsMargins(0, 0, 0, 0);
    form->setVerticalSpacing(3);
    int r = 0;
    auto add_row = [&](const QString& label, QWidget* w) {
        form->addWidget(new QLabel(label, this), r, 0);
        form->addWidget(w, r++, 1);
    };
    add_row("Generator", picker_row(this, generator_, "The taming folder the mappings were trained against", [this] {
                const QString d = QFileDialog::getExistingDirectory(this, "Generator (taming) folder", generator_->text());
                if (!d.isEmpty()) setGenerator(d);
            }));
    auto pick_mapping = [this](QLineEdit* edit, bool clip_side) {
        const QString f = QFileDialog::getOpenFileName(this, clip_side ? "Mapping (CLIP-style encoder)"
                                                                        : "Mapping (BERT-style encoder)",
                                                       edit->text(), "Mapping checkpoint (*.safetensors)");
        if (f.isEmpty()) return;
        if (clip_side) setClipMapping(f);
        else setBertMapping(f);
    };
    add_row("CLIP map", picker_row(this, clip_mapping_, "A train-mapping checkpoint whose encoder is CLIP-style",
                                   [this, pick_mapping] { pick_mapping(clip_mapping_, true); }));
    add_row("BERT map", picker_row(this, bert_mapping_, "A train-mapping checkpoint whose encoder is BERT-style",
                                   [this, pick_mapping] { pick_mapping(bert_mapping_, false); }));
    auto* scorer_row = new QWidget(this);
    auto* scorer_layout = new QHBoxLayout(scorer_row);
    scorer_layout->setContentsMargins(0, 0, 0, 0);
    scorer_layout->setSpacing(2);
    scorer_layout->addWidget(clip_scorer_, 1);
    auto* scorer_browse = new QToolButton(scorer_row);
    scorer_browse->setText("…");
    scorer_browse->setToolTip("Choose a CLIP model folder");
    connect(scorer_browse, &QToolButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, "CLIP model folder for CLIP-S");
        if (!d.isEmpty()) setClipScorer(d);
    });
    scorer_layout->addWidget(scorer_browse);
    add_row("CLIP-S by", scorer_row);
    auto* sampling = new QHBoxLayout;
    sampling->setSpacing(4);
    sampling->addWidget(new QLabel("seed", this));
    sampling->addWidget(seed_, 1);
    sampling->addWidget(new QLabel("top-k", this));
    sampling->addWidget(top_k_, 1);
    sampling->addWidget(new QLabel("T", this));
    sampling->addWidget(temperature_, 1);
    form->addLayout(sampling, r++, 0, 1, 2);
    auto* buttons = new QHBoxLayout;
    buttons->setSpacing(4);
    buttons->addWidget(generate_);
    buttons->addWidget(cancel_);
    buttons->addStretch(1);
    form->addLayout(buttons, r++, 0, 1, 2);
    auto* figure_buttons = new QHBoxLayout;
    figure_buttons->setSpacing(4);
    figure_buttons->addWidget(add_);
    figure_buttons->addWidget(export_);
    figure_buttons->addStretch(1);
    form->addLayout(figure_buttons, r++, 0, 1, 2);
    form->setColumnStretch(1, 1);

    auto* faces = new QGridLayout;
    faces->setContentsMargins(0, 0, 0, 0);
    faces->setVerticalSpacing(1);
    faces->addWidget(clip_view_, 0, 0);
    faces->addWidget(bert_view_, 0, 1);
    faces->addWidget(clip_label_, 1, 0);
    faces->addWidget(bert_label_, 1, 1);
    faces->addWidget(clip_score_, 2, 0);
    faces->addWidget(bert_score_, 2, 1);
    faces->setRowStretch(0, 1);

    auto* left = new QVBoxLayout;
    left->setContentsMargins(0, 0, 0, 0);
    left->addLayout(form);
    left->addStretch(1);
    auto* top = new QHBoxLayout;
    top->setContentsMargins(0, 0, 0, 0);
    top->addLayout(left, 1);
    top->addLayout(faces, 2);  // extra width goes to the faces first
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(3);
    layout->addLayout(top, 1);
    layout->addWidget(progress_);
    layout->addWidget(status_);

    connect(generate_, &QPushButton::clicked, this, &FaceGenerationPanel::generateClicked);
    connect(cancel_, &QPushButton::clicked, this, &FaceGenerationPanel::cancel);
    connect(add_, &QPushButton::clicked, this, [this] { addToFigure(); });
    connect(export_, &QPushButton::clicked, this, &FaceGenerationPanel::exportFigureDialog);
    connect(clip_mapping_, &QLineEdit::editingFinished, this, [this] { refreshMappingLabel(true); });
    connect(bert_mapping_, &QLineEdit::editingFinished, this, [this] { refreshMappingLabel(false); });
    for (QLineEdit* edit : {generator_, clip_mapping_, bert_mapping_})
        connect(edit, &QLineEdit::textChanged, this, &FaceGenerationPanel::refreshMissingInputs);
    connect(clip_scorer_, &QComboBox::currentTextChanged, this, &FaceGenerationPanel::refreshMissingInputs);
    connect(top_k_, &QSpinBox::valueChanged, this, &FaceGenerationPanel::refreshMissingInputs);
    connect(temperature_, &QDoubleSpinBox::valueChanged, this, &FaceGenerationPanel::refreshMissingInputs);

    // The last inputs used (paths to large files nobody wants to pick again).
    QSettings settings;
    generator_->setText(settings.value("faces/generator").toString());
    clip_mapping_->setText(settings.value("faces/clip_mapping").toString());
    bert_mapping_->setText(settings.value("faces/bert_mapping").toString());
    const QString scorer = settings.value("faces/clip_scorer").toString();
    if (!scorer.isEmpty()) clip_scorer_->setCurrentText(scorer);
    seed_->setValue(settings.value("faces/seed", 0).toInt());
    top_k_->setValue(settings.value("faces/top_k", 250).toInt());
    temperature_->setValue(settings.value("faces/temperature", 1.0).toDouble());
    refreshMappingLabel(true);
    refreshMappingLabel(false);
    refreshFigureButtons();
    showMessage("Pick the generator, a mapping trained on a CLIP-style encoder and one trained on a BERT-style "
                "encoder, type a prompt and press Generate.");
}

FaceGenerationPanel::~FaceGenerationPanel() {
    if (worker_ && job_) worker_->cancel(job_);
}

void FaceGenerationPanel::setWorker(ComputeWorker* worker) {
    if (worker_ && job_) worker_->cancel(job_);
    worker_ = worker;
}

void FaceGenerationPanel::setGenerator(const QString& folder) { generator_->setText(folder); }
void FaceGenerationPanel::setClipMapping(const QString& checkpoint) {
    clip_mapping_->setText(checkpoint);
    refreshMappingLabel(true);
}
void FaceGenerationPanel::setBertMapping(const QString& checkpoint) {
    bert_mapping_->setText(checkpoint);
    refreshMappingLabel(false);
}
void FaceGenerationPanel::setClipScorer(const QString& model) { clip_scorer_->setCurrentText(model); }
void FaceGenerationPanel::setSeed(int seed) { seed_->setValue(seed); }
void FaceGenerationPanel::setTopK(int top_k) { top_k_->setValue(top_k); }
void FaceGenerationPanel::setTemperature(double temperature) { temperature_->setValue(temperature); }

FacePairRequest FaceGenerationPanel::request(const QString& prompt) const {
    FacePairRequest r;
    r.generator = generator_->text().trimmed().toStdString();
    r.clip_mapping = clip_mapping_->text().trimmed().toStdString();
    r.bert_mapping = bert_mapping_->text().trimmed().toStdString();
    r.clip_scorer = clip_scorer_->currentText().trimmed().toStdString();
    r.prompt = prompt.trimmed().toStdString();
    r.seed = static_cast<uint64_t>(seed_->value());
    r.top_k = top_k_->value();
    r.temperature = temperature_->value();
    return r;
}

int FaceGenerationPanel::generate(const QString& prompt) {
    last_prompt_ = prompt;
    const FacePairRequest r = request(prompt);
    const std::string missing = face_pair_missing_inputs(r);
    if (!missing.empty()) {
        showMessage(QString::fromStdString(missing), true);
        missing_shown_ = true;
        return 0;
    }
    if (!worker_) {
        showMessage("No compute thread to run the generation on.", true);
        return 0;
    }
    saveSettings();
    const bool superseding = job_ != 0;
    // Mandelbrot-style: a new Generate (another prompt, seed or mapping) supersedes the queued or
    // running one, whose faces nobody is waiting for any more.
    auto job = worker_->submit(
        this, "Faces: " + prompt.trimmed().left(40),
        [r, session = &worker_->session()](const syn::run::ProgressSink& p, const syn::run::CancelToken* c) {
            return generate_face_pair(r, p, c, session);
        },
        SubmitOptions{"generate faces"});
    job.onProgress([this](const syn::run::Progress& p, double) {
           if (p.total > 0) {
               progress_->setRange(0, 1000);
               progress_->setValue(static_cast<int>(1000.0 * double(p.done) / double(p.total)));
           } else {
               progress_->setRange(0, 0);
           }
           const QString stage = QString::fromStdString(p.text());
           showMessage(p.total > 0 ? QString("%1 (%2 / %3)").arg(stage).arg(p.done).arg(p.total) : stage);
       })
        .onFinished([this](std::shared_ptr<const FacePairResult> result) {
            setBusy(false);
            showResult(std::move(result));
            emit generationFinished(true);
        })
        .onFailed([this](const QString& message) {
            setBusy(false);
            showMessage("Generation failed: " + message, true);
            emit generationFinished(false);
        })
        .onCancelled([this](bool superseded) {
            if (!superseded) {  // else the newer job owns the busy state and the message
                setBusy(false);
                showMessage("Generation cancelled.");
            }
            emit generationFinished(false);
        });
    job_ = job.id();
    setBusy(true);
    showMessage(superseding ? "Generating for the new request (the previous one is dropped)…"
                            : "Generating on the compute thread…");
    return job_;
}

void FaceGenerationPanel::cancel() {
    if (worker_ && job_) {
        worker_->cancel(job_);  // its onCancelled follows through the event loop
        showMessage("Cancelling… (the running step finishes first)");
    }
}

void FaceGenerationPanel::setBusy(bool busy) {
    if (!busy) job_ = 0;
    // Generate stays enabled: a new click supersedes the running generation.
    cancel_->setEnabled(busy);
    progress_->setVisible(busy);
    progress_->setRange(0, 0);
    refreshFigureButtons();
}

void FaceGenerationPanel::showMessage(const QString& text, bool error) {
    missing_shown_ = false;
    message_is_error_ = error;
    status_->setText(text);
    status_->setStyleSheet(error ? "QLabel { color: #c83030; }" : QString());
}

void FaceGenerationPanel::refreshMissingInputs() {
    if (!missing_shown_ || job_) return;
    const std::string missing = face_pair_missing_inputs(request(last_prompt_));
    if (missing.empty()) {
        showMessage("All inputs are set: press Generate.");
        return;
    }
    showMessage(QString::fromStdString(missing), true);
    missing_shown_ = true;
}

QString FaceGenerationPanel::message() const { return status_->text(); }

void FaceGenerationPanel::showResult(std::shared_ptr<const FacePairResult> result) {
    result_ = std::move(result);
    if (!result_) return;
    clip_view_->setImage(face_to_qimage(result_->clip.face));
    bert_view_->setImage(face_to_qimage(result_->bert.face));
    clip_label_->setText(encoder_label(result_->clip));
    clip_label_->setToolTip(QString::fromStdString(result_->clip.mapping));
    bert_label_->setText(encoder_label(result_->bert));
    bert_label_->setToolTip(QString::fromStdString(result_->bert.mapping));
    clip_score_->setText(figure1_score_text(result_->clip.clip_score));
    bert_score_->setText(figure1_score_text(result_->bert.clip_score));
    const QString tip = QString("CLIP-S = 100 x cosine of %1's image and text embeddings")
                            .arg(QString::fromStdString(result_->clip_scorer));
    clip_score_->setToolTip(tip);
    bert_score_->setToolTip(tip);
    showMessage(QString("“%1”, seed %2 — %3 x %4 faces in %5 s on %6. Add to figure keeps them.")
                    .arg(QString::fromStdString(result_->prompt))
                    .arg(result_->seed)
                    .arg(result_->clip.face.width)
                    .arg(result_->clip.face.height)
                    .arg(result_->seconds, 0, 'f', 1)
                    .arg(QString::fromStdString(result_->device)));
    refreshFigureButtons();
}

QImage FaceGenerationPanel::clipImage() const { return clip_view_->image(); }
QImage FaceGenerationPanel::bertImage() const { return bert_view_->image(); }
QString FaceGenerationPanel::clipScoreText() const { return clip_score_->text(); }
QString FaceGenerationPanel::bertScoreText() const { return bert_score_->text(); }

void FaceGenerationPanel::refreshMappingLabel(bool clip_side) {
    QLineEdit* edit = clip_side ? clip_mapping_ : bert_mapping_;
    QLabel* label = clip_side ? clip_label_ : bert_label_;
    QString& text = clip_side ? clip_mapping_label_ : bert_mapping_label_;
    const QString path = edit->text().trimmed();
    const QString side = clip_side ? "CLIP map" : "BERT map";
    edit->setStyleSheet({});
    if (path.isEmpty()) {
        text = side + ": none";
    } else if (!QFileInfo::exists(path)) {
        text = side + ": file not found";
        edit->setStyleSheet("QLineEdit { color: #c83030; }");
    } else {
        try {
            text = mapping_label(path);  // reads only the checkpoint's metadata
        } catch (const std::exception& e) {
            text = side + ": not a mapping";
            edit->setStyleSheet("QLineEdit { color: #c83030; }");
            edit->setToolTip(QString::fromUtf8(e.what()));
        }
    }
    // Until a generation shows the encoder it actually used, the label names the picked mapping's.
    if (!result_) label->setText(text);
}

void FaceGenerationPanel::refreshFigureButtons() {
    add_->setEnabled(result_ != nullptr && !job_);
    export_->setEnabled(!rows_.isEmpty());
    export_->setText(rows_.isEmpty() ? QString("Export Figure 1…") : QString("Export Figure 1 (%1)…").arg(rows_.size()));
}

bool FaceGenerationPanel::addToFigure() {
    if (!result_) {
        showMessage("Generate a pair of faces first; Add to figure keeps it as a row of Figure 1.", true);
        return false;
    }
    Figure1Row row;
    row.caption = QString::fromStdString(result_->prompt);
    row.clip = {face_to_qimage(result_->clip.face), encoder_label(result_->clip), result_->clip.clip_score};
    row.bert = {face_to_qimage(result_->bert.face), encoder_label(result_->bert), result_->bert.clip_score};
    rows_.push_back(row);
    refreshFigureButtons();
    showMessage(QString("Figure 1 has %1 row%2. Export Figure 1… writes PNG, SVG or PDF.")
                    .arg(rows_.size()).arg(rows_.size() == 1 ? "" : "s"));
    emit figureChanged(rows_.size());
    return true;
}

void FaceGenerationPanel::clearFigure() {
    rows_.clear();
    refreshFigureButtons();
    emit figureChanged(0);
}

bool FaceGenerationPanel::exportFigure(const QString& path) {
    try {
        export_figure1(rows_, path);
    } catch (const std::exception& e) {
        showMessage("Figure 1 not exported: " + QString::fromUtf8(e.what()), true);
        return false;
    }
    showMessage("Figure 1 (" + QString::number(rows_.size()) + " rows) written to " + path);
    return true;
}

void FaceGenerationPanel::exportFigureDialog() {
    if (rows_.isEmpty()) {
        showMessage("Figure 1 has no rows yet: generate faces, then Add to figure.", true);
        return;
    }
    QString path = QFileDialog::getSaveFileName(this, "Export Figure 1", "figure1.png",
                                                "PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)");
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += ".png";
    exportFigure(path);
}

void FaceGenerationPanel::saveSettings() const {
    QSettings settings;
    settings.setValue("faces/generator", generator_->text().trimmed());
    settings.setValue("faces/clip_mapping", clip_mapping_->text().trimmed());
    settings.setValue("faces/bert_mapping", bert_mapping_->text().trimmed());
    settings.setValue("faces/clip_scorer", clip_scorer_->currentText().trimmed());
    settings.setValue("faces/seed", seed_->value());
    settings.setValue("faces/top_k", top_k_->value());
    settings.setValue("faces/temperature", temperature_->value());
}

}  // namespace syn::ui
