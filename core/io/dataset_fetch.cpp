#include "core/io/dataset_fetch.h"

#include <zip.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/file_checks.h"
#include "core/io/line_reader.h"
#include "core/io/quote.h"

namespace fs = std::filesystem;

namespace syn::datasets {
namespace {

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// GLUE: the addresses of nyu-mll/GLUE-baselines download_glue_data.py (that script swaps the QQP
// and STS-B zips in its table; here each task gets its own). WNLI is left out as in the study.
RemoteFile glue_zip(const std::string& zip, const std::string& folder, const std::string& dev_file) {
    return {"https://dl.fbaipublicfiles.com/glue/data/" + zip, "glue/" + zip, "", "", true,
            "glue/" + folder + "/" + dev_file};
}

std::vector<DatasetEntry> build_table() {
    std::vector<DatasetEntry> t;
    {
        DatasetEntry e{"cxc", "Crisscrossed Captions STS (CxC), validation and test pairs", "Table 2 (STS-L / STS-V)",
                       "github.com/google-research-datasets/Crisscrossed-Captions, data/ on branch master", {}};
        const std::string base = "https://raw.githubusercontent.com/google-research-datasets/Crisscrossed-Captions/master/data/";
        e.files.push_back({base + "sts_val.csv", "cxc/sts_val.csv"});
        e.files.push_back({base + "sts_test.csv", "cxc/sts_test.csv"});
        t.push_back(e);
    }
    {
        DatasetEntry e{"coco-captions", "MS-COCO 2014 caption annotations (captions_train2014/val2014.json)",
                       "Table 2 (caption texts for the CxC ids)", "cocodataset.org/#download, 2014 Train/Val annotations",
                       {}};
        e.files.push_back({"http://images.cocodataset.org/annotations/annotations_trainval2014.zip",
                           "coco/annotations_trainval2014.zip", "", "", true, "coco/annotations/captions_val2014.json"});
        t.push_back(e);
    }
    {
        DatasetEntry e{"glue", "GLUE tasks (CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE)", "Table 1",
                       "nyu-mll/GLUE-baselines download_glue_data.py (dl.fbaipublicfiles.com; MRPC from SentEval)", {}};
        e.files.push_back(glue_zip("CoLA.zip", "CoLA", "dev.tsv"));
        e.files.push_back(glue_zip("SST-2.zip", "SST-2", "dev.tsv"));
        e.files.push_back(glue_zip("STS-B.zip", "STS-B", "dev.tsv"));
        e.files.push_back(glue_zip("QQP-clean.zip", "QQP", "dev.tsv"));
        e.files.push_back(glue_zip("MNLI.zip", "MNLI", "dev_matched.tsv"));
        e.files.push_back(glue_zip("QNLIv2.zip", "QNLI", "dev.tsv"));
        e.files.push_back(glue_zip("RTE.zip", "RTE", "dev.tsv"));
        e.files.push_back({"https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_train.txt",
                           "glue/MRPC/msr_paraphrase_train.txt"});
        e.files.push_back({"https://dl.fbaipublicfiles.com/senteval/senteval_data/msr_paraphrase_test.txt",
                           "glue/MRPC/msr_paraphrase_test.txt"});
        e.files.push_back({"https://firebasestorage.googleapis.com/v0/b/mtl-sentence-representations.appspot.com/o/"
                           "data%2Fmrpc_dev_ids.tsv?alt=media&token=ec5c0836-31d5-48f4-b431-7480817f1adc",
                           "glue/MRPC/dev_ids.tsv"});
        e.format_mrpc = true;
        t.push_back(e);
    }
    {
        // taming-transformers README, "celebahq_transformer" (https://k00.fr/2xkmielf, the authors' Koofr
        // share); these are that share's direct file links.
        DatasetEntry e{"taming-celebahq", "taming-transformers celebahq_transformer (VQGAN + GPT) checkpoint and config",
                       "Table 3 (the frozen image generator)",
                       "CompVis/taming-transformers README, celebahq_transformer (k00.fr/2xkmielf)", {}};
        const std::string share = "https://app.koofr.net/content/links/6dddf083-40c8-470a-9360-a9dab2a94e96/files/get/";
        const std::string run = "2021-04-23T18-11-19_celebahq_transformer";
        e.files.push_back({share + "last.ckpt?path=%2F" + run + "%2Fcheckpoints%2Flast.ckpt&force",
                           "taming/" + run + "/checkpoints/last.ckpt"});
        e.files.push_back({share + "2021-04-23T18-11-19-project.yaml?path=%2F" + run +
                               "%2Fconfigs%2F2021-04-23T18-11-19-project.yaml&force",
                           "taming/" + run + "/configs/2021-04-23T18-11-19-project.yaml"});
        t.push_back(e);
    }
    {
        // The Inception Score of torchmetrics / torch-fidelity uses this port of TF's 2015-12-05 InceptionV3;
        // the file name carries the first 8 hex digits of its sha256 (torch hub convention).
        DatasetEntry e{"inception", "InceptionV3 weights for the Inception Score (torch-fidelity port of TF 2015-12-05)",
                       "Table 3 (IS)", "github.com/toshas/torch-fidelity release v0.2.0", {}};
        e.files.push_back({"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                           "weights-inception-2015-12-05-6726825d.pth",
                           "inception/weights-inception-2015-12-05-6726825d.pth", "", "6726825d"});
        t.push_back(e);
    }
    return t;
}

struct ZipCloser {
    void operator()(zip_t* z) const { zip_discard(z); }
};

std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : line) {
        if (c == '\t') {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

// The lines of a file through the one line splitter, CR trimmed (read_file: a folder is named).
std::vector<std::string> read_lines(const std::string& path) {
    const std::string content = read_file(path);
    std::vector<std::string> lines;
    LineReader reader(content);
    std::string_view line;
    while (reader.next(line)) {
        while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.emplace_back(line);
    }
    // LineReader drops a BOM; the GLUE script copies the MRPC header byte for byte, BOM included.
    if (content.rfind("\xEF\xBB\xBF", 0) == 0 && !lines.empty()) lines[0] = "\xEF\xBB\xBF" + lines[0];
    return lines;
}

}  // namespace

const std::vector<DatasetEntry>& study_datasets() {
    static const std::vector<DatasetEntry> table = build_table();
    return table;
}

const DatasetEntry* find_dataset(const std::string& id) {
    for (const auto& e : study_datasets())
        if (e.id == id) return &e;
    return nullptr;
}

std::string default_data_dir() {
    if (std::string v = env_or_empty("SYNESTHESIA_DATA"); !v.empty()) return v;
    if (std::string v = env_or_empty("XDG_DATA_HOME"); !v.empty()) return (fs::path(v) / "synesthesia").string();
    std::string home = env_or_empty("HOME");
    return (fs::path(home.empty() ? "/" : home) / ".local" / "share" / "synesthesia").string();
}

std::string local_path(const RemoteFile& file, const std::string& data_dir) {
    return (fs::path(data_dir) / (file.extract ? file.marker : file.relpath)).string();
}

bool file_present(const RemoteFile& file, const std::string& data_dir) {
    std::error_code ec;
    return fs::exists(local_path(file, data_dir), ec);
}

FetchReport fetch_dataset(const DatasetEntry& entry, const std::string& data_dir, const net::TransferOptions& transfer,
                          const std::function<void(const std::string&, long long, long long)>& progress) {
    FetchReport report;
    for (const auto& f : entry.files) {
        const std::string where = local_path(f, data_dir);
        report.paths.push_back(where);
        if (file_present(f, data_dir)) {
            ++report.present;
            continue;
        }
        net::VerifiedDownload job;
        job.url = f.url;
        job.final_path = (fs::path(data_dir) / f.relpath).string();
        job.expected_sha256 = f.sha256;
        job.sha256_prefix = f.sha256_prefix;
        job.what = entry.id + "/" + fs::path(f.relpath).filename().string();
        net::TransferOptions t = transfer;
        if (progress) {
            const std::string stage = job.what;
            t.on_progress = [stage, progress](long long d, long long n) { progress(stage, d, n); };
        }
        try {
            net::download_verified(job, t);
        } catch (const net::NetworkError& e) {
            throw net::NetworkError(std::string(e.what()) + "\n  To provide it by hand: download " + f.url +
                                        "\n  and save it as " + job.final_path +
                                        (f.extract ? " (it is extracted on the next `synesthesia fetch`)" : ""),
                                    e.transient());
        }
        if (f.extract) {
            extract_zip(job.final_path, fs::path(job.final_path).parent_path().string());
            if (!file_present(f, data_dir))
                throw file_error(job.final_path, "the archive did not contain " + f.marker);
            std::error_code ec;
            fs::remove(job.final_path, ec);  // the extracted files are what the loaders read
        }
        ++report.downloaded;
    }
    if (entry.format_mrpc) {
        const std::string mrpc = (fs::path(data_dir) / "glue" / "MRPC").string();
        std::error_code ec;
        if (!fs::exists(fs::path(mrpc) / "dev.tsv", ec)) format_mrpc(mrpc);
    }
    return report;
}

void extract_zip(const std::string& zip_path, const std::string& target_dir) {
    int err = 0;
    std::unique_ptr<zip_t, ZipCloser> z(zip_open(zip_path.c_str(), ZIP_RDONLY, &err));
    if (!z) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        std::string msg = zip_error_strerror(&ze);
        zip_error_fini(&ze);
        throw file_error(zip_path, "not a readable zip archive: " + msg);
    }
    const zip_int64_t n = zip_get_num_entries(z.get(), 0);
    std::vector<std::string> names;
    // Check every entry before writing anything: an archive with one bad entry writes nothing.
    for (zip_int64_t i = 0; i < n; ++i) {
        const char* name = zip_get_name(z.get(), static_cast<zip_uint64_t>(i), ZIP_FL_ENC_GUESS);
        if (!name) throw file_error(zip_path, "entry " + std::to_string(i) + " has no readable name");
        if (unsafe_archive_entry_name(name))
            throw file_error(zip_path, "refusing entry " + quote_excerpt(name, 160) +
                                           ": an absolute path or '..' would write outside " + target_dir);
        names.emplace_back(name);
    }
    const fs::path root = fs::absolute(target_dir).lexically_normal();
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) throw file_error(root.string(), "cannot create folder: " + ec.message());
    for (zip_int64_t i = 0; i < n; ++i) {
        const std::string& name = names[static_cast<size_t>(i)];
        const fs::path out = (root / name).lexically_normal();
        // Belt and braces after the name check: the joined path must stay under the target.
        auto rel = out.lexically_relative(root);
        if (rel.empty() || *rel.begin() == "..")
            throw file_error(zip_path, "refusing entry '" + name + "': it resolves outside " + target_dir);
        if (!name.empty() && (name.back() == '/' || name.back() == '\\')) {
            fs::create_directories(out, ec);
            if (ec) throw file_error(out.string(), "cannot create folder: " + ec.message());
            continue;
        }
        fs::create_directories(out.parent_path(), ec);
        if (ec) throw file_error(out.parent_path().string(), "cannot create folder: " + ec.message());
        write_file_atomically(out.string(), [&](int fd) {
            zip_file_t* zf = zip_fopen_index(z.get(), static_cast<zip_uint64_t>(i), 0);
            if (!zf) throw file_error(zip_path, "cannot open entry '" + name + "': " + zip_strerror(z.get()));
            std::vector<char> buf(1 << 16);
            for (;;) {
                zip_int64_t got = zip_fread(zf, buf.data(), buf.size());
                if (got < 0) {
                    std::string msg = zip_file_strerror(zf);
                    zip_fclose(zf);
                    throw file_error(zip_path, "entry '" + name + "' is corrupt: " + msg);
                }
                if (got == 0) break;
                write_all(fd, buf.data(), static_cast<size_t>(got), out.string());
            }
            zip_fclose(zf);
        });
    }
}

void format_mrpc(const std::string& mrpc_dir) {
    const fs::path dir(mrpc_dir);
    auto train = read_lines((dir / "msr_paraphrase_train.txt").string());
    auto test = read_lines((dir / "msr_paraphrase_test.txt").string());
    auto ids = read_lines((dir / "dev_ids.tsv").string());
    if (train.empty() || test.empty())
        throw file_error(mrpc_dir, "msr_paraphrase_train.txt / msr_paraphrase_test.txt are empty");
    std::set<std::pair<std::string, std::string>> dev_ids;
    for (std::string line : ids) {
        if (line.rfind("\xEF\xBB\xBF", 0) == 0) line = line.substr(3);  // a BOM is not part of the id
        auto f = split_tabs(line);
        if (f.size() >= 2) dev_ids.insert({f[0], f[1]});
    }
    std::ostringstream test_out, train_out, dev_out;
    test_out << "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n";
    for (size_t i = 1; i < test.size(); ++i) {
        if (test[i].empty()) continue;
        auto f = split_tabs(test[i]);
        if (f.size() != 5)
            throw file_error((dir / "msr_paraphrase_test.txt").string(),
                             "line " + std::to_string(i + 1) + ": expected 5 tab-separated fields");
        test_out << (i - 1) << '\t' << f[1] << '\t' << f[2] << '\t' << f[3] << '\t' << f[4] << '\n';
    }
    train_out << train[0] << '\n';
    dev_out << train[0] << '\n';
    for (size_t i = 1; i < train.size(); ++i) {
        if (train[i].empty()) continue;
        auto f = split_tabs(train[i]);
        if (f.size() != 5)
            throw file_error((dir / "msr_paraphrase_train.txt").string(),
                             "line " + std::to_string(i + 1) + ": expected 5 tab-separated fields");
        (dev_ids.count({f[1], f[2]}) ? dev_out : train_out) << train[i] << '\n';
    }
    write_file_atomically((dir / "test.tsv").string(), test_out.str());
    write_file_atomically((dir / "train.tsv").string(), train_out.str());
    write_file_atomically((dir / "dev.tsv").string(), dev_out.str());
}

std::string mm_celeba_hq_instructions(const std::string& data_dir) {
    const std::string root = (fs::path(data_dir) / "mm-celeba-hq").string();
    std::string s;
    s += "Multi-Modal CelebA-HQ (Table 3 training/test captions and faces) cannot be downloaded automatically:\n";
    s += "it is hosted in Google Drive folders and is for non-commercial research only (see its licence).\n";
    s += "  1. Open https://github.com/IIGROUP/MM-CelebA-HQ-Dataset and read the Dataset Agreement.\n";
    s += "  2. From its Google Drive folder (https://drive.google.com/drive/folders/1eVrGKfkbw7bh9xPcX8HJa-qWQTD9aWvf)\n";
    s += "     download 'image' (30,000 JPG faces), 'text' (10 captions per image), 'train' and 'test' (PKL\n";
    s += "     files with the file names of the 25,000 / 5,000 split).\n";
    s += "  3. Unpack them so that the folder looks like this:\n";
    s += "       " + root + "/images/0.jpg ... 29999.jpg\n";
    s += "       " + root + "/text/0.txt ... 29999.txt      (one caption per line, 10 lines)\n";
    s += "       " + root + "/train/filenames.pickle\n";
    s += "       " + root + "/test/filenames.pickle\n";
    s += "  4. Run `synesthesia fetch --list` again: it shows whether the folder is found.\n";
    return s;
}

}  // namespace syn::datasets
