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

// Where a face of `image_size` is drawn in `box`: as large as fits, aspect kept, centred. On screen
// a 32 x 32 face in a 90 px box fills it (x2.8) rather than stopping at a whole factor (x2, or x1 in
// a 63 px box); exports (Figure 1) keep whole factors (figure1_image_rect).
QRect face_display_rect(const QSize& image_size, const QRect& box);

// A face drawn as large as fits (face_display_rect): scaled up without smoothing (nearest
// neighbour, so small faces stay crisp pixels), scaled down smoothed. image() keeps the real pixels.
class FaceView : public QWidget {
    Q_OBJECT
public:
    explicit FaceView(QWidget* parent = nullptr);
    void setImage(const QImage& image);
    const QImage& image() const { return image_; }
    // The rectangle the face occupies now (empty before an image is set).
    QRect imageRect() const;
    QSize sizeHint() const override { return {160, 160}; }
    // Three times a tiny fixture's 32 px: a layout short of width no longer squeezes the face to
    // its native size.
    QSize minimumSizeHint() const override { return {96, 96}; }

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
    // Whether the message is shown as an error (red).
    bool messageIsError() const { return message_is_error_; }

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
    // While the panel lists what is missing, each change of an input checks again: the list
    // shrinks as fields are filled, and goes once nothing is missing.
    void refreshMissingInputs();
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
    QString last_prompt_;          // of the last Generate, for checking the inputs again
    bool missing_shown_ = false;   // the message is the list of missing inputs
    bool message_is_error_ = false;
};

}  // namespace syn::ui
