#include "ui/about.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QUrl>

#ifndef SYN_VERSION
#error "SYN_VERSION (CMake's PROJECT_VERSION) must be defined for ui/about.cpp"
#endif

namespace syn::ui {

QString workbenchVersion() { return QStringLiteral(SYN_VERSION); }

QString readmePath() {
    const QString installed =
        QCoreApplication::applicationDirPath() + "/../" SYN_INSTALL_DOCDIR_FROM_PREFIX "/README.md";
    if (QFileInfo::exists(installed)) return QFileInfo(installed).canonicalFilePath();
    return QStringLiteral(SYN_SOURCE_README);
}

QString aboutText(const QString& device) {
    const QString readme = QUrl::fromLocalFile(readmePath()).toString();
    return QString(
               "<h3>Synesthesia Workbench %1</h3>"
               "<p>Compares BERT-style (masked language modelling) and CLIP-style (image&ndash;text contrastive) "
               "text encoders on real Hugging Face checkpoints: GLUE (Table&nbsp;1), STS-L / STS-V on CxC "
               "(Table&nbsp;2) and text-to-image probing (Table&nbsp;3, Figure&nbsp;1).</p>"
               "<p>Reproduces: Zhihong Chen, Guiming Hardy Chen, Shizhe Diao, Xiang Wan, Benyou Wang. "
               "<i>On the Difference of BERT-style and CLIP-style Text Encoders.</i> Findings of the Association "
               "for Computational Linguistics: ACL 2023, pages 13710&ndash;13721. "
               "<a href=\"https://doi.org/10.18653/v1/2023.findings-acl.866\">doi:10.18653/v1/2023.findings-acl.866</a>, "
               "<a href=\"https://arxiv.org/abs/2306.03678\">arXiv:2306.03678</a>, "
               "reference code <a href=\"https://github.com/zhjohnchan/probing-clip-dev\">zhjohnchan/probing-clip-dev</a>. "
               "This is an independent re-implementation, not the authors' code; CITATION.cff says how to cite both.</p>"
               "<p>Licence: GNU General Public License, version 3 or later (GPL-3.0-or-later), because it links "
               "QCustomPlot (GPL-3.0). This program comes with ABSOLUTELY NO WARRANTY; see "
               "<a href=\"https://www.gnu.org/licenses/gpl-3.0.html\">the GPL</a>. "
               "Data sets keep their own licences (MS-COCO captions and CxC: CC BY 4.0; CelebA-HQ / "
               "Multi-Modal CelebA-HQ: non-commercial research only).</p>"
               "<p>Documentation: <a href=\"%2\">README</a> (command line: <tt>synesthesia --help</tt>).</p>"
               "<p>Device: %3</p>")
        .arg(workbenchVersion().toHtmlEscaped(), readme.toHtmlEscaped(), device.toHtmlEscaped());
}

}  // namespace syn::ui
