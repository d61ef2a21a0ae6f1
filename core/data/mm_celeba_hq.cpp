#include "core/data/mm_celeba_hq.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/data/text_lines.h"
#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/quote.h"
#include "core/io/pickle.h"

namespace fs = std::filesystem;

namespace syn::data {
namespace {

// Folder names seen in the wild: the dataset's README says "images", its Google Drive folder is
// "image", CelebAMask-HQ ships "CelebA-HQ-img"; captions come as "text" or "celeba-caption".
const std::vector<std::string> kImageDirs = {"images", "image", "CelebA-HQ-img"};
const std::vector<std::string> kTextDirs = {"text", "celeba-caption"};
// In order of preference when one id has several.
const std::vector<std::string> kImageExtensions = {".jpg", ".jpeg", ".png"};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string join_paths(const std::vector<std::string>& paths) {
    std::string s;
    for (size_t i = 0; i < paths.size(); ++i) s += (i ? ", " : "") + paths[i];
    return s;
}

// The first of `names` that is a folder under `root`; throws naming all candidates otherwise.
std::string find_folder(const fs::path& root, const std::vector<std::string>& names, const char* what) {
    std::vector<std::string> tried;
    for (const auto& n : names) {
        std::error_code ec;
        fs::path p = root / n;
        if (fs::is_directory(p, ec)) return p.string();
        tried.push_back(p.string());
    }
    throw file_error(root.string(), std::string("no ") + what + " folder; looked for " + join_paths(tried));
}

// Numbers in numeric order ("2" < "10"), then everything else in byte order.
bool numeric_less(const std::string& a, const std::string& b) {
    auto digits = [](const std::string& s) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    const bool da = digits(a), db = digits(b);
    if (da != db) return da;
    if (!da) return a < b;
    auto strip = [](const std::string& s) {
        size_t i = s.find_first_not_of('0');
        return i == std::string::npos ? std::string_view() : std::string_view(s).substr(i);
    };
    std::string_view sa = strip(a), sb = strip(b);
    if (sa.size() != sb.size()) return sa.size() < sb.size();
    if (sa != sb) return sa < sb;
    return a < b;  // "007" vs "7": any fixed order
}

// id -> image path, one listing of the folder instead of a stat per sample and extension.
std::unordered_map<std::string, std::string> list_images(const std::string& dir) {
    std::unordered_map<std::string, std::pair<size_t, std::string>> best;  // id -> (rank, path)
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code ec2;
        if (!it->is_regular_file(ec2)) continue;  // follows symlinks
        const fs::path& p = it->path();
        const std::string ext = lower(p.extension().string());
        auto rank = std::find(kImageExtensions.begin(), kImageExtensions.end(), ext);
        if (rank == kImageExtensions.end()) continue;
        const size_t r = static_cast<size_t>(rank - kImageExtensions.begin());
        auto [pos, inserted] = best.try_emplace(p.stem().string(), r, p.string());
        if (!inserted && r < pos->second.first) pos->second = {r, p.string()};
    }
    if (ec) throw file_error(dir, "cannot list the folder: " + ec.message());
    std::unordered_map<std::string, std::string> out;
    out.reserve(best.size());
    for (auto& [id, rp] : best) out.emplace(id, std::move(rp.second));
    return out;
}

// Every <id>.txt in the caption folder, numerically sorted (the "all" split).
std::vector<std::string> list_caption_ids(const std::string& dir) {
    std::vector<std::string> ids;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code ec2;
        if (!it->is_regular_file(ec2) || it->path().extension() != ".txt") continue;
        ids.push_back(it->path().stem().string());
    }
    if (ec) throw file_error(dir, "cannot list the folder: " + ec.message());
    std::sort(ids.begin(), ids.end(), numeric_less);
    return ids;
}

struct SplitEntry {
    std::string id;
    std::string where;  // "<split file>:<line>" or "<split file> item [i]"
};

std::vector<SplitEntry> read_pickle_split(const std::string& path) {
    const std::string bytes = read_file(path);
    pickle::Document doc;
    try {
        doc = pickle::unpickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
    } catch (const Error& e) {
        throw file_error(path, std::string("not a pickled list of file names: ") + e.what());
    }
    const pickle::List* list = doc.root().get<pickle::List>();
    if (!list)
        throw file_error(path, "holds a value of type " + pickle::type_name(doc.root()) + ", not a list of file names");
    std::vector<SplitEntry> out;
    out.reserve(list->items.size());
    for (size_t i = 0; i < list->items.size(); ++i) {
        const pickle::Value& v = *list->items[i];
        const std::string where = path + " item [" + std::to_string(i) + "]";
        // str, or bytes as a Python 3 list of b"0" would hold; both are names.
        const std::string* s = v.get<std::string>();
        if (!s && v.get<pickle::Bytes>()) s = &v.get<pickle::Bytes>()->data;
        if (!s) throw Error(where + ": is of type " + pickle::type_name(v) + ", not a file name string");
        out.push_back({face_id_from_name(*s, where), where});
    }
    return out;
}

std::vector<SplitEntry> read_text_split(const std::string& path) {
    const std::string content = read_file(path);
    std::vector<SplitEntry> out;
    LineReader lines(content);
    std::string_view line;
    while (lines.next(line)) {
        line = trim(line);
        if (line.empty()) continue;
        const std::string where = path + ":" + std::to_string(lines.number());
        out.push_back({face_id_from_name(std::string(line), where), where});
    }
    return out;
}

// root/<split>/filenames.pickle, else root/<split>.txt.
std::pair<std::string, std::vector<SplitEntry>> read_split(const fs::path& root, const std::string& split) {
    const fs::path pickle_path = root / split / "filenames.pickle";
    const fs::path text_path = root / (split + ".txt");
    std::error_code ec;
    if (fs::is_regular_file(pickle_path, ec)) return {pickle_path.string(), read_pickle_split(pickle_path.string())};
    if (fs::is_regular_file(text_path, ec)) return {text_path.string(), read_text_split(text_path.string())};
    throw file_error(root.string(), "no split file for split '" + split + "'; looked for " + pickle_path.string() +
                                        " and " + text_path.string());
}

void add_problem(FaceDataset& d, std::string message) {
    ++d.problem_count;
    if (d.problems.size() < FaceDataset::kMaxProblems) d.problems.push_back(std::move(message));
}

std::string summary(const FaceDataset& d) {
    std::string s = std::to_string(d.listed) + " listed, " + std::to_string(d.missing_images) + " without an image, " +
                    std::to_string(d.samples_without_captions) + " without captions";
    if (!d.problems.empty()) {
        s += "; first problems:";
        for (size_t i = 0; i < d.problems.size() && i < 5; ++i) s += "\n  " + d.problems[i];
    }
    return s;
}

}  // namespace


std::string face_id_from_name(const std::string& name, const std::string& where) {
    std::string id(trim(name));
    // By hand rather than fs::path::extension, which sees no extension in ".jpg".
    const size_t dot = id.rfind('.');
    const std::string ext = dot == std::string::npos ? "" : lower(id.substr(dot));
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".txt") id.resize(dot);
    std::string why;
    if (id.empty()) why = "an empty file name";
    else if (id == "." || id == ".." || id.find_first_of("/\\") != std::string::npos) why = "not a plain file name";
    else if (std::any_of(id.begin(), id.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
        why = "a file name with control characters";
    else if (!is_valid_utf8(id)) why = "a file name that is not valid UTF-8";
    if (!why.empty()) throw Error(where + ": " + quote_excerpt(name) + " is " + why);
    return id;
}

CaptionFile parse_caption_text(std::string_view text, const std::string& source) {
    CaptionFile out;
    LineReader lines(text);
    std::string_view line;
    while (lines.next(line)) {
        line = trim(line);  // also drops the CR of CRLF
        if (line.empty()) {
            ++out.empty_lines;
            continue;
        }
        size_t bad = 0;
        if (!is_valid_utf8(line, &bad)) {
            ++out.invalid_lines;
            out.problems.push_back(source + ":" + std::to_string(lines.number()) + ": invalid UTF-8 at byte " +
                                   std::to_string(bad) + " of the line; line skipped");
            continue;
        }
        out.captions.emplace_back(line);
    }
    return out;
}

FaceDataset load_mm_celeba_hq(const std::string& root, const std::string& split, std::size_t max_images) {
    FaceDataset d;
    d.root = root;
    d.split = split;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) throw file_error(root, "the Multi-Modal CelebA-HQ folder does not exist");
    if (split.empty() || split == "." || split == ".." || split.find_first_of("/\\") != std::string::npos)
        throw file_error(root, quote_excerpt(split) + " is not a split name (train, test, all, ...)");
    const fs::path root_path(root);
    d.text_dir = find_folder(root_path, kTextDirs, "caption");
    d.images_dir = find_folder(root_path, kImageDirs, "image");

    std::vector<SplitEntry> entries;
    if (split == "all") {
        for (auto& id : list_caption_ids(d.text_dir)) entries.push_back({id, (fs::path(d.text_dir) / (id + ".txt")).string()});
    } else {
        auto [file, list] = read_split(root_path, split);
        d.split_file = std::move(file);
        entries = std::move(list);
    }
    const auto images = list_images(d.images_dir);

    std::unordered_set<std::string> seen;
    for (const SplitEntry& e : entries) {
        if (max_images > 0 && d.samples.size() >= max_images) break;
        ++d.listed;
        if (!seen.insert(e.id).second) {
            ++d.duplicate_names;
            add_problem(d, e.where + ": " + quote_excerpt(e.id) + " is listed again; kept once");
            continue;
        }
        auto img = images.find(e.id);
        if (img == images.end()) {
            ++d.missing_images;
            add_problem(d, (fs::path(d.images_dir) / (e.id + ".jpg")).string() + ": no image (.jpg/.jpeg/.png) for " +
                               quote_excerpt(e.id) + " (" + e.where + "); sample skipped");
            continue;
        }
        const std::string caption_path = (fs::path(d.text_dir) / (e.id + ".txt")).string();
        if (!fs::is_regular_file(caption_path, ec)) {
            ++d.samples_without_captions;
            add_problem(d, caption_path + ": caption file missing; sample skipped");
            continue;
        }
        CaptionFile cf;
        try {
            cf = parse_caption_text(read_file(caption_path), caption_path);
        } catch (const Error& err) {
            ++d.samples_without_captions;
            add_problem(d, std::string(err.what()) + "; sample skipped");
            continue;
        }
        d.empty_caption_lines += cf.empty_lines;
        d.invalid_caption_lines += cf.invalid_lines;
        for (auto& p : cf.problems) add_problem(d, std::move(p));
        if (cf.captions.empty()) {
            ++d.samples_without_captions;
            add_problem(d, caption_path + ": no usable caption line; sample skipped");
            continue;
        }
        d.samples.push_back({e.id, img->second, std::move(cf.captions)});
    }
    if (d.samples.empty())
        throw file_error(root, "no usable samples in split '" + split + "'" +
                                   (d.split_file.empty() ? "" : " (" + d.split_file + ")") + ": " + summary(d));
    return d;
}

}  // namespace syn::data
