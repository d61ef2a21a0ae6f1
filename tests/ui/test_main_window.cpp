// Qt Test (offscreen): the main window starts and its status bar names the compute device.
#include <QLabel>
#include <QStatusBar>
#include <QtTest/QtTest>

#include "core/io/torch/torch_runtime.h"
#include "ui/main_window.h"

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void statusBarNamesTheDevice() {
        syn::ui::MainWindow window;
        window.show();
        const QString expected = QString::fromStdString(syn::describe_compute_device().summary());
        bool found = false;
        for (QLabel* label : window.statusBar()->findChildren<QLabel*>())
            if (label->text() == expected) found = true;
        QVERIFY2(found, qPrintable("status bar lacks the device label " + expected));
        QVERIFY(expected.startsWith("CPU") || expected.startsWith("CUDA"));
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
