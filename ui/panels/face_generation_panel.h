#pragma once
// The prompt box's face generation (PAPER.md section 3, Figure 1): the prompt goes through two
// trained text -> prefix maps, one trained on a CLIP-style encoder and one on a BERT-style encoder,
// into the same frozen face generator with the same seed; each face is scored with CLIP-S against
// the prompt. The two faces are shown side by side (pixels scaled up without smoothing), with their
// encoders and scores; "Add to figure" keeps the pair as a row of Figure 1, which exports as PNG /
// SVG / PDF. Generation runs on the ComputeWorker; missing inputs are said in the panel.
#include <QImage>
#include <QVector>
#include <QWidget>

#include <memory>

#include "ui/compute/jobs.h"
#include "ui/plots/figure1_grid.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace syn::ui {

class ComputeWorker;

// A face drawn as large as fits, by an integer factor, without smoothing.
class FaceView : public QWidget {
    Q_OBJECT
public:
    explicit FaceView(QWidget* parent = nullptr);
    void setImage(const QImage& image);
    const QImage& image() const { return image_; }
    QSize sizeHint() const override { return {128, 128}; }
    QSize minimumSizeHint() const override { return {64, 64}; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QImage image_;
};

// 8-bit RGB from the compute thread -> QImage (a deep copy).
QImage face_to_qimage(const RgbFace& face);
// "encoder · pooling" of a mapping checkpoint, the encoder shortened to its folder name when it is a
// path. Throws syn::Error when the file is not a mapping checkpoint.
QString mapping_label(const QString& checkpoint);

class FaceGenerationPanel : public QWidget {
    Q_OBJECT
public:
    explicit FaceGenerationPanel(QWidget* parent = nullptr);
    ~FaceGenerationPanel() override;
    void setWorker(ComputeWorker* worker);

    // Inputs (the pickers' contents).
    void setGenerator(const QString& folder);
    void setClipMapping(const QString& checkpoint);
    void setBertMapping(const QString& checkpoint);
    void setClipScorer(const QString& model);
    void setSeed(int seed);
    void setTopK(int top_k);
    void setTemperature(double temperature);
    FacePairRequest request(const QString& prompt) const;

    // Submits the generation for `prompt`; returns the job id, or 0 when something is missing (the
    // panel says what to pick) or no compute thread is set.
    int generate(const QString& prompt);
    void cancel();
    bool busy() const { return job_ != 0; }

    // The last result (null before the first successful generation).
    std::shared_ptr<const FacePairResult> result() const { return result_; }
    QImage clipImage() const;
    QImage bertImage() const;
    QString clipScoreText() const;
    QString bertScoreText() const;
    QString message() const;

    // Figure 1.
    bool addToFigure();  // false (and a message) when there is nothing generated yet
    const QVector<Figure1Row>& figureRows() const { return rows_; }
    void clearFigure();
    bool exportFigure(const QString& path);  // errors: the message in the panel, false
    void exportFigureDialog();

signals:
    // The Generate button: the prompt box answers with generate(its prompt).
    void generateClicked();
    void generationFinished(bool ok);
    void figureChanged(int rows);

private:
    void showMessage(const QString& text, bool error = false);
    void setBusy(bool busy);
    void showResult(std::shared_ptr<const FacePairResult> result);
    void refreshMappingLabel(bool clip_side);
    void refreshFigureButtons();
    void saveSettings() const;

    ComputeWorker* worker_ = nullptr;
    int job_ = 0;
    std::shared_ptr<const FacePairResult> result_;
    QVector<Figure1Row> rows_;

    QLineEdit* generator_;
    QLineEdit* clip_mapping_;
    QLineEdit* bert_mapping_;
    QComboBox* clip_scorer_;
    QSpinBox* seed_;
    QSpinBox* top_k_;
    QDoubleSpinBox* temperature_;
    QPushButton* generate_;
    QPushButton* cancel_;
    QPushButton* add_;
    QPushButton* export_;
    QProgressBar* progress_;
    QLabel* status_;
    FaceView* clip_view_;
    FaceView* bert_view_;
    QLabel* clip_label_;
    QLabel* bert_label_;
    QLabel* clip_score_;
    QLabel* bert_score_;
    QString clip_mapping_label_, bert_mapping_label_;
};

}  // namespace syn::ui
