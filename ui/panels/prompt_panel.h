#pragma once
// The prompt box: type a text, see per selected encoder its nearest captions in the loaded data.
// Below it, the place where the text-to-image issue adds face generations (marked as not there yet).
#include <QWidget>

#include "ui/compute/jobs.h"

class QLineEdit;
class QSpinBox;
class QTreeWidget;
class QLabel;
class QPushButton;

namespace syn::ui {

class PromptPanel : public QWidget {
    Q_OBJECT
public:
    explicit PromptPanel(QWidget* parent = nullptr);
    QString prompt() const;
    void setPrompt(const QString& text);
    int neighbours() const;
    void setBusy(bool busy);
    void showResult(const PromptResult& result);
    void showMessage(const QString& text);
    QTreeWidget* results() const { return results_; }

signals:
    void searchRequested(const QString& prompt, int k);

private:
    QLineEdit* prompt_;
    QSpinBox* k_;
    QPushButton* search_;
    QTreeWidget* results_;
    QLabel* status_;
};

}  // namespace syn::ui
