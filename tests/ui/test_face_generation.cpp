// Qt Test (offscreen): the text-to-image probe in the workbench.
//  - Figure 1's renderer, a pure function of its rows: PNG decoded back (size, each face's pixels
//    where the layout puts them, scaled up without smoothing), SVG parsed as XML (captions, escaped
//    markup, scores), PDF (%PDF header, non-trivial size), and its errors.
//  - The face generation and mapping training panels without inputs: a clear message, no job, no
//    crash; the prompt box and the new dock in the main window's screenshots.
//  - With ../shared's tiny fixtures: the mapping training panel trains a map on synthetic 32 x 32
//    faces written here (tiny-clip as the CLIP-style encoder, tiny-bert as the BERT-style one),
//    resumes a second run ("resumed from epoch 1"), then the face panel generates with tiny-taming
//    and scores with tiny-clip; the two CLIP-S shown must equal clip_score_pairs computed here a
//    second time from the same images (tokenizer + text tower + vision tower, outside the job).
//    Cancelling a queued generation is reported as cancelled.
//  - Issue 20 item 7: a 32 x 32 face in the window's prompt dock is drawn at least 3x, filling its
//    box, without smoothing (the view keeps the real pixels; the panel with faces is saved as
//    face_panel_window.png); the red list of missing inputs follows the fields as they are filled and
//    goes once nothing is missing (and after a successful generation); the mapping training's
//    encoder list offers the folders added in the Models panel; its output-folder dialog offers to
//    create a folder that does not exist yet.
// Torch headers first: Qt's `slots` macro would break ATen's ivalue_inl.h.
#include <ATen/ATen.h>

#include "core/run/jobs/clip_score.h"
#include "models/clip_image.h"
#include "models/registry.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPainter>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QXmlStreamReader>
#include <QtTest/QtTest>

#include <atomic>
#include <cmath>
#include <thread>

#include "core/io/errors.h"
#include "core/text/tokenizer.h"
#include "tests/support/shared_paths.h"
#include "ui/compute/compute_worker.h"
#include "ui/main_window.h"
#include "ui/models/model_list_model.h"
#include "ui/panels/model_picker.h"
#include "ui/panels/face_generation_panel.h"
#include "ui/panels/mapping_training_panel.h"
#include "ui/panels/prompt_panel.h"
#include "ui/plots/figure1_grid.h"

using namespace syn::ui;

namespace {

QImage solid(int w, int h, QColor c) {
    QImage image(w, h, QImage::Format_RGB888);
    image.fill(c);
    return image;
}

// 2 x 2 pixels of four colours: scaled up without smoothing, each quadrant keeps its colour exactly.
QImage checker() {
    QImage image(2, 2, QImage::Format_RGB888);
    image.setPixelColor(0, 0, QColor(255, 0, 0));
    image.setPixelColor(1, 0, QColor(0, 255, 0));
    image.setPixelColor(0, 1, QColor(0, 0, 255));
    image.setPixelColor(1, 1, QColor(255, 255, 0));
    return image;
}

QVector<Figure1Row> sample_rows() {
    Figure1Row a;
    a.caption = "She has blond hair";
    a.clip = {solid(32, 32, QColor(200, 30, 40)), "clip-vit-large-patch14 · projected", 23.44};
    a.bert = {solid(32, 32, QColor(20, 60, 210)), "roberta-large · mean", 22.06};
    Figure1Row b;
    b.caption = "The man wears <glasses> & smiles";
    b.clip = {checker(), "clip-vit-large-patch14 · projected", 24.96};
    b.bert = {solid(16, 16, QColor(30, 160, 60)), "roberta-large · mean", 21.5};
    return {a, b};
}

bool near(QColor a, QColor b, int tolerance = 0) {
    return std::abs(a.red() - b.red()) <= tolerance && std::abs(a.green() - b.green()) <= tolerance &&
           std::abs(a.blue() - b.blue()) <= tolerance;
}

QPoint scaled_point(QPoint p, double s) { return QPoint(int(std::floor(p.x() * s)), int(std::floor(p.y() * s))); }

// Every character of the SVG's text content, after a full parse (any XML error fails the test).
QString svg_text(const QString& path, QString* error) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = "cannot open " + path;
        return {};
    }
    QXmlStreamReader xml(&file);
    QString text;
    bool root_svg = false;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement() && !root_svg) root_svg = xml.name() == QLatin1String("svg");
        if (xml.isCharacters()) text += xml.text().toString() + " ";
    }
    if (xml.hasError()) *error = xml.errorString();
    else if (!root_svg) *error = "root element is not <svg>";
    return text.simplified();
}

// A few synthetic 32 x 32 "faces" in the Multi-Modal CelebA-HQ layout: images/<n>.png,
// text/<n>.txt (captions), train.txt (the split). Colours and shapes differ per face.
void write_faces(const QString& root, int count) {
    QDir().mkpath(root + "/images");
    QDir().mkpath(root + "/text");
    QFile split(root + "/train.txt");
    QVERIFY(split.open(QIODevice::WriteOnly));
    const char* hair[] = {"blond", "black", "brown", "grey"};
    for (int i = 0; i < count; ++i) {
        QImage face(32, 32, QImage::Format_RGB888);
        face.fill(QColor(40 + 50 * (i % 4), 90 + 30 * (i % 3), 160 - 20 * (i % 5)));
        QPainter p(&face);
        p.setBrush(QColor(230, 190, 160));
        p.setPen(Qt::NoPen);
        p.drawEllipse(QPoint(16, 17), 9 + i % 3, 11);
        p.setBrush(QColor(30 * (i % 4), 20, 10));
        p.drawRect(6, 2, 20, 5 + i % 4);
        p.end();
        QVERIFY(face.save(QString("%1/images/%2.png").arg(root).arg(i)));
        QFile text(QString("%1/text/%2.txt").arg(root).arg(i));
        QVERIFY(text.open(QIODevice::WriteOnly));
        text.write(QString("This person has %1 hair.\nThe person is smiling.\n").arg(hair[i % 4]).toUtf8());
        split.write(QString("%1\n").arg(i).toUtf8());
    }
}

QString fixture(const char* name) {
    return QString::fromStdString(syn::test::fixtures_dir()) + "/models/" + name;
}

// CLIP-S of each face against `prompt`, computed outside the job: tokenizer + CLIP text tower
// (text_embeds) and CLIP preprocessing + vision tower (image_embeds), then clip_score_pairs.
std::vector<double> reference_clip_scores(const QString& clip_folder, const std::string& prompt,
                                          const std::vector<const RgbFace*>& faces) {
    const std::string folder = clip_folder.toStdString();
    auto tokenizer = syn::text::load_tokenizer(folder);
    syn::text::EncodeOptions eo;
    eo.max_length = tokenizer->model_max_length();
    const syn::text::Encoding enc = tokenizer->encode(prompt, eo);
    const auto n = static_cast<int64_t>(enc.ids.size());
    at::Tensor ids = at::empty({1, n}, at::kLong), mask = at::ones({1, n}, at::kLong);
    for (int64_t i = 0; i < n; ++i) ids[0][i] = static_cast<int64_t>(enc.ids[i]);
    auto text = syn::models::load_text_encoder(folder);
    at::Tensor text_embeds = text->forward(ids, mask).projected;

    std::vector<syn::models::RgbImage> images;
    for (const RgbFace* f : faces) images.push_back({f->width, f->height, f->rgb});
    auto pixels = syn::run::clip_pixel_values(images, syn::models::ClipImageConfig::load(folder));
    auto vision = syn::models::load_clip_vision(folder);
    at::Tensor image_embeds = vision->forward(pixels).image_embeds;
    at::Tensor scores = syn::run::clip_score_pairs(image_embeds, text_embeds.expand({image_embeds.size(0), -1}),
                                                   syn::run::ClipScoreKind::cos100);
    std::vector<double> out;
    for (int64_t i = 0; i < scores.size(0); ++i) out.push_back(scores[i].item<double>());
    return out;
}

}  // namespace

class TestFaceGeneration : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

private slots:
    void initTestCase() {
        QCoreApplication::setOrganizationName("SynesthesiaTest");  // keep the user's settings out
        QCoreApplication::setApplicationName("test_ui_face_generation");
        QSettings().clear();
        QVERIFY(tmp_.isValid());
        // SYN_KEEP_TEST_FILES=1 keeps the figures and panel shots written here, to look at them.
        if (qEnvironmentVariableIsSet("SYN_KEEP_TEST_FILES")) {
            tmp_.setAutoRemove(false);
            qInfo("test files kept in %s", qPrintable(tmp_.path()));
        }
        // The code and embedding caches of the jobs go to the temporary folder, not the user's.
        qputenv("SYN_CACHE_DIR", QDir(tmp_.path()).filePath("cache").toUtf8());
    }

    void imageRectScalesByWholeFactors() {
        const QRect box(10, 20, 192, 192);
        QCOMPARE(figure1_image_rect(QSize(32, 32), box), QRect(10, 20, 192, 192));  // x6
        QCOMPARE(figure1_image_rect(QSize(50, 50), box).size(), QSize(150, 150));   // x3, centred
        QCOMPARE(figure1_image_rect(QSize(50, 50), box).topLeft(), QPoint(10 + 21, 20 + 21));
        QCOMPARE(figure1_image_rect(QSize(256, 256), box).size(), QSize(192, 192));  // larger: fitted
        QCOMPARE(figure1_image_rect(QSize(64, 32), box).size(), QSize(192, 96));
        QCOMPARE(figure1_score_text(23.44), QString("CLIP-S 23.4"));
        QCOMPARE(figure1_score_text(NAN), QString("CLIP-S –"));
    }

    void headersNameTheEncoderOnlyWhenTheColumnAgrees() {
        QVector<Figure1Row> rows = sample_rows();
        QVERIFY(figure1_header(rows, true).contains("clip-vit-large-patch14"));
        QVERIFY(figure1_header(rows, false).contains("roberta-large"));
        rows[1].bert.encoder = "bert-large-cased · mean";
        QCOMPARE(figure1_header(rows, false), QString("BERT-style encoder"));
    }

    void pngHasTheFacesWhereTheLayoutSays() {
        const QVector<Figure1Row> rows = sample_rows();
        const QString path = QDir(tmp_.path()).filePath("figure1.png");
        export_figure1(rows, path, {}, 2.0);
        QImage png;
        QVERIFY(png.load(path, "PNG"));
        const Figure1Layout l = figure1_layout(rows);
        QCOMPARE(png.size(), l.size * 2);
        QVERIFY(l.size.width() > 0 && l.size.height() > 0);
        QCOMPARE(l.clip_face.size(), 2);
        // Row 0: solid faces, at their boxes' centres.
        QVERIFY(near(png.pixelColor(scaled_point(l.clip_image[0].center(), 2)), QColor(200, 30, 40)));
        QVERIFY(near(png.pixelColor(scaled_point(l.bert_image[0].center(), 2)), QColor(20, 60, 210)));
        QVERIFY(near(png.pixelColor(scaled_point(l.bert_image[1].center(), 2)), QColor(30, 160, 60)));
        // Row 1, CLIP side: the 2 x 2 checker, each quadrant exactly its colour (no smoothing), right up
        // to the inner edges.
        const QRect c = l.clip_image[1];
        QCOMPARE(c.size(), QSize(192, 192));
        const int q = c.width() / 2;
        const QColor expected[2][2] = {{QColor(255, 0, 0), QColor(0, 255, 0)}, {QColor(0, 0, 255), QColor(255, 255, 0)}};
        for (int y = 0; y < 2; ++y)
            for (int x = 0; x < 2; ++x)
                for (QPoint offset : {QPoint(q / 2, q / 2), QPoint(1, 1), QPoint(q - 2, q - 2)}) {
                    const QPoint p = c.topLeft() + QPoint(x * q, y * q) + offset;
                    QVERIFY2(near(png.pixelColor(scaled_point(p, 2)), expected[y][x]),
                             qPrintable(QString("quadrant %1,%2 at %3,%4").arg(x).arg(y).arg(p.x()).arg(p.y())));
                }
        // The caption column is white paper with dark text somewhere in it.
        const QRect cap = l.caption[0];
        int dark = 0;
        for (int y = cap.top(); y <= cap.bottom(); ++y)
            for (int x = cap.left(); x <= cap.right(); ++x)
                if (png.pixelColor(scaled_point(QPoint(x, y), 2)).lightness() < 100) ++dark;
        QVERIFY2(dark > 20, "no caption text drawn");
        QVERIFY(near(png.pixelColor(1, 1), Qt::white));
    }

    void svgIsXmlWithCaptionsAndScores() {
        const QVector<Figure1Row> rows = sample_rows();
        const QString path = QDir(tmp_.path()).filePath("figure1.svg");
        export_figure1(rows, path);
        QString error;
        const QString text = svg_text(path, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        for (const QString& word : {QString("She has blond hair"), QString("<glasses>"), QString("&"),
                                    QString("CLIP-S 23.4"), QString("CLIP-S 22.1"), QString("CLIP-S 25.0"),
                                    QString("Caption"), QString("CLIP-style encoder"), QString("BERT-style encoder")})
            QVERIFY2(text.contains(word), qPrintable("SVG text lacks '" + word + "': " + text.left(400)));
        // The faces are embedded as images.
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(file.readAll().count("<image") >= 4);
    }

    void pdfIsWritten() {
        const QString path = QDir(tmp_.path()).filePath("figure1.pdf");
        export_figure1(sample_rows(), path);
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        QVERIFY(bytes.startsWith("%PDF"));
        QVERIFY2(bytes.size() > 2000, qPrintable(QString::number(bytes.size())));
        QVERIFY(bytes.contains("%%EOF"));
    }

    void exportErrorsNameTheFile() {
        const QString dir = tmp_.path();
        QVERIFY_THROWS_EXCEPTION(syn::Error, export_figure1({}, dir + "/empty.png"));
        try {
            export_figure1(sample_rows(), dir + "/figure1.bmp");
            QFAIL("an unknown suffix must throw");
        } catch (const syn::Error& e) {
            QVERIFY(QString(e.what()).contains("figure1.bmp"));
            QVERIFY(QString(e.what()).contains(".svg"));
        }
        QVERIFY_THROWS_EXCEPTION(syn::Error, export_figure1(sample_rows(), dir + "/no/such/folder/f.png"));
    }

    void facePanelSaysWhatIsMissing() {
        ComputeWorker worker;
        QSignalSpy queued(&worker, &ComputeWorker::jobQueued);
        FaceGenerationPanel panel;
        panel.setWorker(&worker);
        QCOMPARE(panel.generate(""), 0);
        const QString m = panel.message();
        for (const char* word : {"prompt", "generator", "CLIP-style", "BERT-style"})
            QVERIFY2(m.contains(word), qPrintable(m));
        QCOMPARE(queued.count(), 0);
        QVERIFY(!panel.busy());
        // Paths that do not exist are named.
        panel.setGenerator(tmp_.path() + "/no-generator");
        panel.setClipMapping(tmp_.path() + "/no-clip.safetensors");
        QCOMPARE(panel.generate("a smiling woman"), 0);
        QVERIFY2(panel.message().contains("no-generator") && panel.message().contains("does not"),
                 qPrintable(panel.message()));
        QVERIFY(panel.message().contains("no-clip.safetensors"));
        QVERIFY(!panel.message().contains("a prompt"));
        QCOMPARE(queued.count(), 0);
        // Nothing generated: no figure row, and exporting says why.
        QVERIFY(!panel.addToFigure());
        QVERIFY(panel.message().contains("Generate"));
        QVERIFY(!panel.exportFigure(tmp_.path() + "/nothing.png"));
        QVERIFY(panel.message().contains("no rows"));
        QVERIFY(!QFile::exists(tmp_.path() + "/nothing.png"));
    }

    void trainingPanelSaysWhatIsMissing() {
        ComputeWorker worker;
        MappingTrainingPanel panel(&worker);
        QCOMPARE(panel.start(), 0);
        for (const char* word : {"generator", "faces folder", "encoder", "output folder"})
            QVERIFY2(panel.message().contains(word), qPrintable(panel.message()));
        QVERIFY(!panel.busy());
        panel.appendLoss(1, 4.0);
        panel.appendLoss(2, 3.5);
        QCOMPARE(panel.plottedSteps(), 2);
        panel.setLosses({4.0, 3.0, NAN, 2.0});
        QCOMPARE(panel.plottedSteps(), 3);  // NaN steps are not drawn
    }

    void mainWindowHostsThePanelsAndScreenshotsThem() {
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        window.show();
        QVERIFY(window.promptPanel()->faceGeneration() != nullptr);
        QVERIFY(window.mappingTrainingPanel() != nullptr);
        QVERIFY(!window.promptPanel()->findChild<QLabel*>("faceGenerationPlaceholder"));
        // The prompt box's Generate without inputs: a message in the panel, no job.
        window.promptPanel()->faceGeneration()->findChild<QPushButton*>("faceGenerate")->click();
        QVERIFY(window.promptPanel()->faceGeneration()->message().contains("generator"));
        QCOMPARE(window.worker()->pendingJobs(), 0);
        const QString dir = QDir(tmp_.path()).filePath("shots");
        const QStringList written = window.saveScreenshots(dir);
        QVERIFY(written.contains(QDir(dir).filePath("panel_prompt.png")));
        QVERIFY(written.contains(QDir(dir).filePath("panel_mapping.png")));
        QImage prompt_shot(QDir(dir).filePath("panel_prompt.png"));
        QVERIFY(!prompt_shot.isNull() && prompt_shot.width() > 100 && prompt_shot.height() > 50);
    }

    // Issue 20 item 7: faces scaled for display, nearest neighbour; the pixels themselves unchanged.
    void facesAreScaledUpInTheWindow() {
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        // The smallest screen the workbench is made for (a 1280 x 720 projector), laid out for it.
        window.setWindowState(Qt::WindowNoState);
        window.resize(1280, 720);
        window.arrangeDocks();
        QCoreApplication::processEvents();
        window.dock("prompt")->raise();
        QCoreApplication::processEvents();
        auto* panel = window.promptPanel()->faceGeneration();
        auto* view = panel->findChild<FaceView*>("faceClipView");
        auto* other = panel->findChild<FaceView*>("faceBertView");
        QVERIFY(view && other);
        // Four quadrants of 16 x 16 pixels and one odd pixel: every colour must come out unblended.
        QImage face(32, 32, QImage::Format_RGB888);
        const QColor quadrant[2][2] = {{QColor(220, 40, 40), QColor(40, 180, 60)}, {QColor(40, 60, 220), QColor(230, 210, 30)}};
        for (int y = 0; y < 32; ++y)
            for (int x = 0; x < 32; ++x) face.setPixelColor(x, y, quadrant[y / 16][x / 16]);
        face.setPixelColor(5, 5, Qt::black);
        view->setImage(face);
        other->setImage(solid(32, 32, QColor(90, 90, 90)));
        QCoreApplication::processEvents();
        QVERIFY(window.promptPanel()->grab().save(QDir(tmp_.path()).filePath("face_panel_window.png")));
        QVERIFY(window.grab().save(QDir(tmp_.path()).filePath("face_window.png")));
        const QRect drawn = view->imageRect();
        qInfo("window %dx%d, face view %dx%d, face drawn %dx%d", window.width(), window.height(), view->width(),
              view->height(), drawn.width(), drawn.height());
        QVERIFY2(drawn.width() >= 3 * 32 && drawn.height() >= 3 * 32,
                 qPrintable(QString("a 32 px face drawn %1 px wide in a %2x%3 view")
                                .arg(drawn.width()).arg(view->width()).arg(view->height())));
        // It fills its square box (no whole-factor margin left).
        QVERIFY(drawn.width() >= std::min(view->width(), view->height()) - 3);
        const QImage shot = view->grab().toImage();
        const double k = drawn.width() / 32.0;
        for (int qy = 0; qy < 2; ++qy)
            for (int qx = 0; qx < 2; ++qx) {
                // Every pixel inside a quadrant (a pixel's width from its edges) is exactly its colour.
                const int x0 = drawn.left() + int(std::ceil((qx * 16 + 1) * k)),
                          x1 = drawn.left() + int(std::floor((qx * 16 + 15) * k)) - 1;
                const int y0 = drawn.top() + int(std::ceil((qy * 16 + 1) * k)),
                          y1 = drawn.top() + int(std::floor((qy * 16 + 15) * k)) - 1;
                for (int y = y0; y <= y1; y += 3)
                    for (int x = x0; x <= x1; x += 3) {
                        const double sx = (x - drawn.left()) / k, sy = (y - drawn.top()) / k;
                        if (std::abs(sx - 5.5) < 1.5 && std::abs(sy - 5.5) < 1.5) continue;  // the black pixel
                        QVERIFY2(near(shot.pixelColor(x, y), quadrant[qy][qx]),
                                 qPrintable(QString("pixel %1,%2 blended").arg(x).arg(y)));
                    }
            }
        // The black source pixel is a k x k block: its centre is black, not grey.
        const QPoint black = drawn.topLeft() + QPoint(int(5.5 * k), int(5.5 * k));
        QVERIFY(near(shot.pixelColor(black), Qt::black));
        // Display only: the image (what Figure 1 and exports use) keeps its 32 x 32 pixels.
        QCOMPARE(view->image().size(), QSize(32, 32));
        QCOMPARE(view->image(), face);
    }

    void missingInputsMessageFollowsTheFields() {
        if (!syn::test::shared_available()) QSKIP("shared fixtures not found: set SYNESTHESIA_SHARED");
        ComputeWorker worker;
        FaceGenerationPanel panel;
        panel.setWorker(&worker);
        panel.setGenerator("");
        panel.setClipMapping("");
        panel.setBertMapping("");
        panel.setClipScorer(tmp_.path() + "/no-clip-model");
        QCOMPARE(panel.generate("a smiling woman"), 0);
        QVERIFY(panel.messageIsError());
        QVERIFY2(panel.message().contains("generator") && panel.message().contains("no-clip-model"), qPrintable(panel.message()));
        // Filling the fields: the list shrinks with each one...
        panel.setGenerator(fixture("tiny-taming"));
        QVERIFY2(!panel.message().contains("the generator folder"), qPrintable(panel.message()));
        QVERIFY(panel.messageIsError());
        panel.setClipMapping(fixture("tiny-clip") + "/model.safetensors");
        panel.setBertMapping(fixture("tiny-bert") + "/model.safetensors");
        QVERIFY2(panel.message().contains("no-clip-model"), qPrintable(panel.message()));
        // ...and goes, with its red, once nothing is missing.
        panel.setClipScorer(fixture("tiny-clip"));
        QVERIFY2(!panel.messageIsError(), qPrintable(panel.message()));
        QVERIFY2(!panel.message().contains("pick"), qPrintable(panel.message()));
        QVERIFY(panel.findChild<QLabel*>("faceStatus")->styleSheet().isEmpty());
        // Emptying a field again brings the list back only at the next Generate.
        panel.setGenerator("");
        QVERIFY(!panel.messageIsError());
    }

    void mappingEncodersIncludeTheModelsPanelsFolders() {
        if (!syn::test::shared_available()) QSKIP("shared fixtures not found: set SYNESTHESIA_SHARED");
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        const QString bert = QDir::cleanPath(QFileInfo(fixture("tiny-bert")).absoluteFilePath());
        auto* mapping = window.mappingTrainingPanel();
        QVERIFY(!mapping->encoderChoices().contains(bert));
        QVERIFY(mapping->encoderChoices().contains(syn::run::kRandomEncoder));
        QVERIFY2(window.modelPicker()->addFolder(bert), qPrintable(window.lastError()));
        QVERIFY2(mapping->encoderChoices().contains(bert), qPrintable(mapping->encoderChoices().join(", ")));
        // What was typed stays when the list changes.
        mapping->setEncoder("random");
        QVERIFY(window.modelPicker()->addFolder(fixture("tiny-clip")));
        QCOMPARE(mapping->options().encoder, std::string("random"));
        QVERIFY(mapping->encoderChoices().contains(QDir::cleanPath(QFileInfo(fixture("tiny-clip")).absoluteFilePath())));
    }

    void outputFolderDialogOffersToCreateANewFolder() {
        ComputeWorker worker;
        MappingTrainingPanel panel(&worker);
        const QString fresh = QDir(tmp_.path()).filePath("new-run");
        QVERIFY(!QFileInfo::exists(fresh));
        panel.setOutDir(tmp_.path());
        // Drives the modal dialogs: types the new folder's name and accepts; answers Yes when asked
        // to create it (any other box, e.g. "Directory not found", is closed and noted).
        QStringList asked, refused;
        bool accepted_once = false;
        QTimer driver;
        driver.setInterval(50);
        connect(&driver, &QTimer::timeout, this, [&] {
            QWidget* modal = QApplication::activeModalWidget();
            if (auto* box = qobject_cast<QMessageBox*>(modal)) {
                if (box->standardButtons() & QMessageBox::Yes) {
                    asked << box->text();
                    box->button(QMessageBox::Yes)->click();
                } else {
                    refused << box->text();
                    box->button(box->standardButtons() & QMessageBox::Ok ? QMessageBox::Ok : QMessageBox::Close)->click();
                }
            } else if (auto* dialog = qobject_cast<QFileDialog*>(modal)) {
                if (accepted_once) {
                    dialog->reject();  // refused: give up rather than hang
                    return;
                }
                accepted_once = true;
                auto* name = dialog->findChild<QLineEdit*>("fileNameEdit");
                QVERIFY(name);
                name->setText("new-run");
                // Queued: accept() asks in a nested event loop, where this timer must fire again.
                QMetaObject::invokeMethod(dialog, "accept", Qt::QueuedConnection);
            }
        });
        driver.start();
        panel.chooseOutDir();
        driver.stop();
        QVERIFY2(refused.isEmpty(), qPrintable(refused.join(" | ")));
        QCOMPARE(asked.size(), 1);
        QVERIFY2(asked.first().contains("new-run") && asked.first().contains("Create"), qPrintable(asked.first()));
        QVERIFY(QFileInfo(fresh).isDir());
        QCOMPARE(QDir::cleanPath(QString::fromStdString(panel.options().out_dir)), QDir::cleanPath(fresh));
    }

    void cancellingAQueuedGenerationIsReported() {
        if (!syn::test::shared_available()) QSKIP("shared fixtures not found: set SYNESTHESIA_SHARED");
        ComputeWorker worker;
        FaceGenerationPanel panel;
        panel.setWorker(&worker);
        panel.setGenerator(fixture("tiny-taming"));
        // Any existing files pass the panel's check; the job never runs (it is cancelled while queued).
        panel.setClipMapping(fixture("tiny-clip") + "/model.safetensors");
        panel.setBertMapping(fixture("tiny-bert") + "/model.safetensors");
        panel.setClipScorer(fixture("tiny-clip"));
        std::atomic<bool> release{false};
        worker.submit(nullptr, "blocker", [&release](const syn::run::ProgressSink&, const syn::run::CancelToken* c) {
            while (!release && !(c && c->cancelled())) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            return 0;
        });
        QSignalSpy finished(&panel, &FaceGenerationPanel::generationFinished);
        QVERIFY(panel.generate("a smiling woman") != 0);
        QVERIFY(panel.busy());
        panel.cancel();
        if (finished.isEmpty()) QVERIFY(finished.wait(5000));
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.first().at(0).toBool(), false);
        QVERIFY2(panel.message().contains("cancelled"), qPrintable(panel.message()));
        QVERIFY(!panel.busy());
        release = true;
    }

    void trainsResumesGeneratesAndScores() {
        if (!syn::test::shared_available()) QSKIP("shared fixtures not found: set SYNESTHESIA_SHARED");
        const QString data = QDir(tmp_.path()).filePath("faces");
        write_faces(data, 6);
        ComputeWorker worker;

        // The CLIP-side map: a two-epoch run interrupted after its first epoch (the engine's own
        // stop_after_epochs, with exactly the options the panel builds), then Train in the panel with
        // the same settings resumes it.
        MappingTrainingPanel training(&worker);
        training.setGenerator(fixture("tiny-taming"));
        training.setDataDir(data);
        training.setEncoder(fixture("tiny-clip"));
        const QString clip_out = QDir(tmp_.path()).filePath("map-clip");
        training.setOutDir(clip_out);
        training.setEpochs(2);
        training.setBatchSize(4);
        syn::run::TrainMappingJobOptions interrupted = training.options();
        interrupted.stop_after_epochs = 1;
        const MappingTrainingOutcome first = train_mapping(interrupted, {}, nullptr);
        QVERIFY(!first.result.finished);
        const auto first_steps = first.result.report.step_losses.size();
        QVERIFY(first_steps > 0);
        QSignalSpy done(&training, &MappingTrainingPanel::trainingFinished);
        // What the panel says at each stage of its runs (its typed callback runs before the
        // worker's signal).
        QStringList said;
        connect(&worker, &ComputeWorker::jobProgress, this, [&](int, const QString&, qint64, qint64, double) {
            if (said.isEmpty() || said.back() != training.message()) said << training.message();
        });
        QVERIFY(training.start() != 0);
        QVERIFY(training.busy());
        QVERIFY(done.wait(240000));
        QVERIFY2(done.first().at(0).toBool(), qPrintable(training.message()));
        QVERIFY2(training.message().contains("resumed from epoch 1"), qPrintable(training.message()));
        QVERIFY(training.outcome()->result.resumed && training.outcome()->result.finished);
        QCOMPARE(training.outcome()->resumed_from_epoch, int64_t(1));
        // The curve has both epochs' steps: the resumed ones and this run's.
        QCOMPARE(training.plottedSteps(), int(training.outcome()->result.report.step_losses.size()));
        QCOMPARE(training.plottedSteps(), int(2 * first_steps));
        QVERIFY(!training.findChild<QPlainTextEdit*>("mappingLog")->toPlainText().isEmpty());  // the job's log

        // Other settings in the same folder: the engine starts afresh, and the panel says so.
        training.setEpochs(1);
        done.clear();
        QVERIFY(training.start() != 0);
        QVERIFY(done.wait(240000));
        QVERIFY2(done.first().at(0).toBool(), qPrintable(training.message()));
        QVERIFY2(training.message().contains("started afresh over a 2-epoch checkpoint"), qPrintable(training.message()));
        QVERIFY(!training.message().contains("resumed"));
        QCOMPARE(training.plottedSteps(), int(first_steps));
        const QString clip_map = QString::fromStdString(training.outcome()->result.checkpoint);

        // The BERT-side map (one epoch).
        training.setEncoder(fixture("tiny-bert"));
        training.setOutDir(QDir(tmp_.path()).filePath("map-bert"));
        training.setEpochs(1);
        done.clear();
        QVERIFY(training.start() != 0);
        QVERIFY(done.wait(240000));
        QVERIFY2(done.first().at(0).toBool(), qPrintable(training.message()));
        const QString bert_map = QString::fromStdString(training.outcome()->result.checkpoint);
        // The stages as the panel put them (the BERT side's captions were embedded afresh).
        disconnect(&worker, &ComputeWorker::jobProgress, this, nullptr);
        QVERIFY2(said.contains("Encoding faces to codes (cached for later runs)…"), qPrintable(said.join(" | ")));
        QVERIFY2(said.contains("Embedding the captions (cached)…"), qPrintable(said.join(" | ")));
        QVERIFY2(std::any_of(said.begin(), said.end(), [](const QString& m) { return m.startsWith("Training: step"); }),
                 qPrintable(said.join(" | ")));
        QVERIFY(QFile::exists(clip_map) && QFile::exists(bert_map));
        QVERIFY(mapping_label(clip_map).contains("tiny-clip"));
        QVERIFY(mapping_label(bert_map).contains("tiny-bert"));

        // Generate from the prompt box's face panel.
        FaceGenerationPanel panel;
        panel.setWorker(&worker);
        panel.setGenerator(fixture("tiny-taming"));
        panel.setClipMapping(clip_map);
        panel.setBertMapping(bert_map);
        panel.setClipScorer(fixture("tiny-clip"));
        panel.setSeed(3);
        QSignalSpy generated(&panel, &FaceGenerationPanel::generationFinished);
        const std::string prompt = "This person has blond hair.";
        // First without a CLIP-S model (issue 20 item 7): the red list, which must not outlive the
        // successful generation once the scorer is picked.
        panel.setClipScorer(tmp_.path() + "/no-clip-model");
        QCOMPARE(panel.generate(QString::fromStdString(prompt)), 0);
        QVERIFY(panel.messageIsError());
        panel.setClipScorer(fixture("tiny-clip"));
        QVERIFY(panel.generate(QString::fromStdString(prompt)) != 0);
        QVERIFY(generated.wait(240000));
        QVERIFY2(generated.first().at(0).toBool(), qPrintable(panel.message()));
        QVERIFY2(!panel.messageIsError() && !panel.message().contains("pick"), qPrintable(panel.message()));
        auto result = panel.result();
        QVERIFY(result);
        QCOMPARE(panel.clipImage().size(), QSize(32, 32));
        QCOMPARE(panel.bertImage().size(), QSize(32, 32));
        QCOMPARE(panel.clipImage(), face_to_qimage(result->clip.face));
        QVERIFY(panel.clipImage() != panel.bertImage());  // different maps, different prefixes
        QVERIFY(QString::fromStdString(result->clip.encoder).contains("tiny-clip"));
        QVERIFY(QString::fromStdString(result->bert.encoder).contains("tiny-bert"));

        // The scores shown are CLIP-S of these very images, computed a second time here.
        const auto expected = reference_clip_scores(fixture("tiny-clip"), prompt, {&result->clip.face, &result->bert.face});
        QCOMPARE(expected.size(), std::size_t(2));
        QVERIFY2(std::abs(result->clip.clip_score - expected[0]) < 1e-3,
                 qPrintable(QString("%1 vs %2").arg(result->clip.clip_score).arg(expected[0])));
        QVERIFY2(std::abs(result->bert.clip_score - expected[1]) < 1e-3,
                 qPrintable(QString("%1 vs %2").arg(result->bert.clip_score).arg(expected[1])));
        QCOMPARE(panel.clipScoreText(), figure1_score_text(expected[0]));
        QCOMPARE(panel.bertScoreText(), figure1_score_text(expected[1]));

        // Same seed, same faces.
        generated.clear();
        QVERIFY(panel.generate(QString::fromStdString(prompt)) != 0);
        QVERIFY(generated.wait(240000));
        QCOMPARE(panel.result()->clip.face.rgb, result->clip.face.rgb);

        // A new request while one is queued or running supersedes it (mandelbrot-style): only the
        // newest seed's faces arrive, the older job ends as superseded, the panel ends idle.
        generated.clear();
        QSignalSpy superseded(&worker, &ComputeWorker::jobCancelled);
        const int older = panel.generate(QString::fromStdString(prompt));
        QVERIFY(older != 0);
        panel.setSeed(4);
        const int newer = panel.generate(QString::fromStdString(prompt));
        QVERIFY(newer != 0 && newer != older);
        QTRY_VERIFY_WITH_TIMEOUT(!panel.busy(), 240000);
        QCOMPARE(generated.count(), 2);
        QCOMPARE(generated.at(0).at(0).toBool(), false);  // the superseded one
        QCOMPARE(generated.at(1).at(0).toBool(), true);
        QCOMPARE(superseded.count(), 1);
        QCOMPARE(superseded.first().at(0).toInt(), older);
        QVERIFY(superseded.first().at(1).toBool());
        QCOMPARE(panel.result()->seed, uint64_t(4));
        QVERIFY2(!panel.message().contains("cancelled"), qPrintable(panel.message()));
        panel.setSeed(3);

        qInfo("CLIP-S shown: %.4f (CLIP side), %.4f (BERT side); recomputed: %.4f, %.4f", result->clip.clip_score,
              result->bert.clip_score, expected[0], expected[1]);
        panel.resize(700, 260);
        QVERIFY(panel.grab().save(QDir(tmp_.path()).filePath("face_panel.png")));

        // Into Figure 1 and out as PNG: the face's pixels are in the figure.
        QVERIFY(panel.addToFigure());
        QCOMPARE(panel.figureRows().size(), 1);
        const QString png = QDir(tmp_.path()).filePath("faces_figure1.png");
        QVERIFY2(panel.exportFigure(png), qPrintable(panel.message()));
        QImage figure;
        QVERIFY(figure.load(png));
        const Figure1Layout l = figure1_layout(panel.figureRows());
        const QRect face = l.clip_image[0];
        const QImage source = panel.clipImage();
        const int k = face.width() / source.width();
        for (QPoint src : {QPoint(5, 5), QPoint(16, 16), QPoint(27, 20)}) {
            const QPoint centre = face.topLeft() + src * k + QPoint(k / 2, k / 2);
            QVERIFY(near(figure.pixelColor(scaled_point(centre, 2.0)), source.pixelColor(src)));
        }
    }
};

QTEST_MAIN(TestFaceGeneration)
#include "test_face_generation.moc"
