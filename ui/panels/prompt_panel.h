#pragma once
// The prompt box: type a text, see per selected encoder its nearest captions in the loaded data.
// Beside it, face generation (the text-to-image probe): the same prompt through a CLIP-encoder and a
// BERT-encoder mapping into the face generator, with CLIP-S, and Figure 1 export.
#include <QWidget>

#include "ui/compute/jobs.h"

class QLineEdit;
class QSpinBox;
class QTreeWidget;
class QLabel;
class QPushButton;

namespace syn::ui {

class ComputeWorker;
class FaceGenerationPanel;

class PromptPanel : public QWidget {
    Q_OBJECT
public:
    explicit PromptPanel(QWidget* parent = nullptr);
    QString prompt() const;
    void setPrompt(const QString& text);
    int neighbours() const;
    void setBusy(bool busy);
    bool busy() const { return busy_; }
    void showResult(const PromptResult& result);
    void showMessage(const QString& text);
    QTreeWidget* results() const { return results_; }
    FaceGenerationPanel* faceGeneration() const { return faces_; }
    // Face generation runs its jobs on this worker.
    void setComputeWorker(ComputeWorker* worker);

signals:
    void searchRequested(const QString& prompt, int k);

private:
    QLineEdit* prompt_;
    QSpinBox* k_;
    QPushButton* search_;
    QTreeWidget* results_;
    QLabel* status_;
    FaceGenerationPanel* faces_;
    bool busy_ = false;
};

}  // namespace syn::ui
