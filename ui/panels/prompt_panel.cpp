#include "ui/panels/prompt_panel.h"

#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "ui/panels/face_generation_panel.h"

namespace syn::ui {

PromptPanel::PromptPanel(QWidget* parent) : QWidget(parent) {
    prompt_ = new QLineEdit(this);
    prompt_->setObjectName("promptEdit");
    prompt_->setPlaceholderText("Type a description, e.g. \"a man riding a wave on a surfboard\", and press Enter");
    prompt_->setToolTip("Each selected encoder embeds this text and lists its nearest captions by cosine");
    k_ = new QSpinBox(this);
    k_->setRange(1, 50);
    k_->setValue(5);
    k_->setPrefix("top ");
    k_->setToolTip("Captions listed per encoder");
    search_ = new QPushButton(QIcon(":/icons/search.svg"), "Find", this);
    search_->setToolTip("Find the nearest captions (Enter); a new search replaces one still running");
    auto request = [this] {
        if (!prompt_->text().trimmed().isEmpty()) emit searchRequested(prompt_->text().trimmed(), k_->value());
    };
    connect(search_, &QPushButton::clicked, this, request);
    connect(prompt_, &QLineEdit::returnPressed, this, request);

    results_ = new QTreeWidget(this);
    results_->setObjectName("promptResults");
    results_->setColumnCount(3);
    results_->setHeaderLabels({"Encoder / rank", "Score", "Caption"});
    results_->headerItem()->setToolTip(1, "Cosine of the embeddings (lexical encoders: Jaccard / TF-IDF cosine)");
    results_->header()->setStretchLastSection(true);
    results_->setColumnWidth(0, 170);
    results_->setColumnWidth(1, 70);
    results_->setRootIsDecorated(true);
    status_ = new QLabel("Nearest captions per selected encoder appear here.", this);
    status_->setWordWrap(true);

    // Face generation (the text-to-image probe) beside the nearest captions, with the same prompt.
    auto* faces = new QGroupBox("Face generation", this);
    faces->setObjectName("faceGenerationBox");
    faces_ = new FaceGenerationPanel(faces);
    auto* faces_layout = new QVBoxLayout(faces);
    faces_layout->setContentsMargins(4, 2, 4, 4);
    faces_layout->addWidget(faces_);
    connect(faces_, &FaceGenerationPanel::generateClicked, this, [this] {
        // Without a prompt the panel says so (with anything else missing); the cursor goes to the box.
        if (!faces_->generate(prompt_->text().trimmed()) && prompt_->text().trimmed().isEmpty()) prompt_->setFocus();
    });

    auto* top = new QHBoxLayout;
    top->addWidget(prompt_, 1);
    top->addWidget(k_);
    top->addWidget(search_);
    auto* left = new QVBoxLayout;
    left->addLayout(top);
    left->addWidget(results_, 1);
    left->addWidget(status_);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(left, 1);
    layout->addWidget(faces, 2);  // the faces need the width more than the caption list
}

void PromptPanel::setComputeWorker(ComputeWorker* worker) { faces_->setWorker(worker); }

QString PromptPanel::prompt() const { return prompt_->text(); }
void PromptPanel::setPrompt(const QString& text) { prompt_->setText(text); }
int PromptPanel::neighbours() const { return k_->value(); }

void PromptPanel::setBusy(bool busy) {
    // Find stays enabled: a new search supersedes the running one (only the latest prompt counts).
    busy_ = busy;
    if (busy) status_->setText("Searching on the compute thread…");
}

void PromptPanel::showMessage(const QString& text) { status_->setText(text); }

void PromptPanel::showResult(const PromptResult& result) {
    results_->clear();
    int failures = 0;
    for (const auto& e : result.encoders) {
        auto* top = new QTreeWidgetItem(results_, {QString::fromStdString(e.label)});
        QFont bold = top->font(0);
        bold.setBold(true);
        top->setFont(0, bold);
        if (!e.error.empty()) {
            ++failures;
            top->setText(2, "failed: " + QString::fromStdString(e.error));
            top->setForeground(2, QColor(0xc8, 0x30, 0x30));
            top->setToolTip(2, QString::fromStdString(e.error));
            continue;
        }
        int rank = 1;
        for (const auto& n : e.neighbours) {
            auto* item = new QTreeWidgetItem(top, {QString("#%1").arg(rank++), QString::number(n.score, 'f', 3),
                                                   QString::fromStdString(result.texts[n.text])});
            item->setToolTip(2, item->text(2));
        }
        top->setExpanded(true);
    }
    status_->setText(QString("\"%1\" — %2 encoders over %3 unique captions%4")
                         .arg(QString::fromStdString(result.prompt)).arg(result.encoders.size())
                         .arg(result.texts.size()).arg(failures ? QString(", %1 failed").arg(failures) : QString()));
    setBusy(false);
}

}  // namespace syn::ui
