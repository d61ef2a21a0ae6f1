#pragma once
// The study's Figure 1 (PAPER.md section 3): a grid of generated faces, one row per caption, with
// columns  caption | face from the CLIP-encoder mapping | face from the BERT-encoder mapping  and the
// CLIP-S of each face under it. A pure function of the rows: the same painter code draws the PNG
// (QImage), the SVG (QSvgGenerator) and the PDF (QPdfWriter), and the layout is exposed so tests can
// find a face's pixels without the compute thread.
#include <QImage>
#include <QRect>
#include <QString>
#include <QVector>

class QPainter;

namespace syn::ui {

struct Figure1Face {
    QImage image;           // any size; drawn scaled up without smoothing (pixels stay pixels)
    QString encoder;        // the mapping's text encoder, e.g. "openai/clip-vit-large-patch14 · projected"
    double clip_score = 0;  // CLIP-S = 100 x cosine, shown as "CLIP-S 23.4"
};

struct Figure1Row {
    QString caption;
    Figure1Face clip;  // the mapping trained on a CLIP-style encoder
    Figure1Face bert;  // the mapping trained on a BERT-style encoder
};

struct Figure1Style {
    int face_px = 192;        // side of each face's box
    int caption_width = 300;  // width of the caption column
    int margin = 16;
    int gap = 12;             // between columns and between rows
    int font_px = 14;         // captions, scores; headers are bold. Pixel sizes: identical in PNG / SVG / PDF
    QString title;            // optional line above the headers
};

// Where everything goes, in figure pixels (the PNG's pixels at scale 1; SVG user units; PDF at 96 dpi).
struct Figure1Layout {
    QSize size;
    QRect title;                      // empty when the style has no title
    QRect header_caption, header_clip, header_bert;
    QString header_clip_text, header_bert_text;
    QVector<QRect> caption;           // per row
    QVector<QRect> clip_face, bert_face;  // the face boxes (face_px square)
    QVector<QRect> clip_image, bert_image;  // where each image is drawn inside its box
    QVector<QRect> clip_score, bert_score;  // the "CLIP-S …" lines
};

// The column header of a side: "CLIP-style encoder" plus the encoder when every row has the same one.
QString figure1_header(const QVector<Figure1Row>& rows, bool clip_side);
// "CLIP-S 23.4"
QString figure1_score_text(double clip_score);
// The rectangle an image of `image_size` takes inside `box`: the largest integer multiple of its size
// that fits (scaled down, keeping its aspect, when it is larger than the box), centred.
QRect figure1_image_rect(const QSize& image_size, const QRect& box);

Figure1Layout figure1_layout(const QVector<Figure1Row>& rows, const Figure1Style& style = {});
// Draws the figure at (0, 0) in figure pixels; the caller sets up any scaling.
void paint_figure1(QPainter& painter, const QVector<Figure1Row>& rows, const Figure1Style& style = {});

// The figure as an image, `scale` device pixels per figure pixel (2 for a sharper PNG).
QImage render_figure1(const QVector<Figure1Row>& rows, const Figure1Style& style = {}, double scale = 1.0);
// Writes PNG, SVG or PDF by the file's suffix. Throws syn::Error naming the file when there are no
// rows, the suffix is unknown, or the file cannot be written.
void export_figure1(const QVector<Figure1Row>& rows, const QString& path, const Figure1Style& style = {},
                    double png_scale = 2.0);

}  // namespace syn::ui
