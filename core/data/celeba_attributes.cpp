#include "core/data/celeba_attributes.h"

#include <algorithm>
#include <filesystem>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "core/data/mm_celeba_hq.h"
#include "core/data/text_lines.h"
#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/quote.h"

namespace fs = std::filesystem;

namespace syn::data {
namespace {

// How an attribute reads in a caption.
enum class Kind {
    kHas,          // "has <phrase>"
    kIs,           // "is <adjective>" (also used before the noun: "a smiling woman")
    kWears,        // "wears <phrase>"
    kHairColor,    // merged with the texture into one "wavy brown hair" phrase
    kHairTexture,
    kGender,       // Male
    kBlurry,       // about the photo, not the person
    kNoBeard,      // "has no beard", left out for women
};

struct AttributeInfo {
    const char* name;
    Kind kind;
    const char* phrase;
};

// The 40 CelebA attributes in list_attr_celeba.txt order, with their wording.
const AttributeInfo kAttributes[] = {
    {"5_o_Clock_Shadow", Kind::kHas, "a five o'clock shadow"},
    {"Arched_Eyebrows", Kind::kHas, "arched eyebrows"},
    {"Attractive", Kind::kIs, "attractive"},
    {"Bags_Under_Eyes", Kind::kHas, "bags under the eyes"},
    {"Bald", Kind::kIs, "bald"},
    {"Bangs", Kind::kHas, "bangs"},
    {"Big_Lips", Kind::kHas, "big lips"},
    {"Big_Nose", Kind::kHas, "a big nose"},
    {"Black_Hair", Kind::kHairColor, "black"},
    {"Blond_Hair", Kind::kHairColor, "blond"},
    {"Blurry", Kind::kBlurry, ""},
    {"Brown_Hair", Kind::kHairColor, "brown"},
    {"Bushy_Eyebrows", Kind::kHas, "bushy eyebrows"},
    {"Chubby", Kind::kIs, "chubby"},
    {"Double_Chin", Kind::kHas, "a double chin"},
    {"Eyeglasses", Kind::kWears, "eyeglasses"},
    {"Goatee", Kind::kHas, "a goatee"},
    {"Gray_Hair", Kind::kHairColor, "gray"},
    {"Heavy_Makeup", Kind::kWears, "heavy makeup"},
    {"High_Cheekbones", Kind::kHas, "high cheekbones"},
    {"Male", Kind::kGender, ""},
    {"Mouth_Slightly_Open", Kind::kHas, "a slightly open mouth"},
    {"Mustache", Kind::kHas, "a mustache"},
    {"Narrow_Eyes", Kind::kHas, "narrow eyes"},
    {"No_Beard", Kind::kNoBeard, "no beard"},
    {"Oval_Face", Kind::kHas, "an oval face"},
    {"Pale_Skin", Kind::kHas, "pale skin"},
    {"Pointy_Nose", Kind::kHas, "a pointy nose"},
    {"Receding_Hairline", Kind::kHas, "a receding hairline"},
    {"Rosy_Cheeks", Kind::kHas, "rosy cheeks"},
    {"Sideburns", Kind::kHas, "sideburns"},
    {"Smiling", Kind::kIs, "smiling"},
    {"Straight_Hair", Kind::kHairTexture, "straight"},
    {"Wavy_Hair", Kind::kHairTexture, "wavy"},
    {"Wearing_Earrings", Kind::kWears, "earrings"},
    {"Wearing_Hat", Kind::kWears, "a hat"},
    {"Wearing_Lipstick", Kind::kWears, "lipstick"},
    {"Wearing_Necklace", Kind::kWears, "a necklace"},
    {"Wearing_Necktie", Kind::kWears, "a necktie"},
    {"Young", Kind::kIs, "young"},
};

const AttributeInfo* find_attribute(const std::string& name) {
    for (const auto& a : kAttributes)
        if (name == a.name) return &a;
    return nullptr;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<std::string_view> split_tokens(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && is_blank(line[i])) ++i;
        size_t j = i;
        while (j < line.size() && !is_blank(line[j])) ++j;
        if (j > i) out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

std::string at(const std::string& source, size_t line) { return source + ":" + std::to_string(line) + ": "; }

std::string all_names() {
    std::string s;
    for (const auto& a : kAttributes) s += std::string(s.empty() ? "" : " ") + a.name;
    return s;
}

// The file name must be usable as <out>/text/<stem>.txt.
void check_file_name(std::string_view file, const std::string& where) {
    const std::string id = attribute_caption_id(std::string(file));
    const bool plain = !id.empty() && id != "." && id != ".." && file.find_first_of("/\\") == std::string_view::npos &&
                       std::none_of(file.begin(), file.end(),
                                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }) &&
                       is_valid_utf8(file);
    if (!plain) throw Error(where + quote_excerpt(file) + " is not a plain image file name");
}

// ---- caption generation ----

using Rng = std::mt19937_64;

// Modulo reduction: the bias is far below anything visible, and unlike
// std::uniform_int_distribution the result is the same with every standard library.
size_t draw(Rng& rng, size_t n) { return static_cast<size_t>(rng() % n); }

template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[draw(rng, i)]);
}

template <class T>
const T& pick(const std::vector<T>& v, Rng& rng) {
    return v[draw(rng, v.size())];
}

std::string join_and(const std::vector<std::string>& items) {
    std::string s;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) s += (i + 1 == items.size()) ? " and " : ", ";
        s += items[i];
    }
    return s;
}

std::string capitalize(std::string s) {
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
    return s;
}

const char* article_for(const std::string& word) {
    return !word.empty() && std::string("aeiou").find(word[0]) != std::string::npos ? "an" : "a";
}

enum class Gender { kWoman, kMan, kPerson };

// What one image's positive attributes say, grouped by how they are worded.
struct Facts {
    Gender gender = Gender::kPerson;
    std::vector<std::string> has, is, wears;
    bool blurry = false;
};

Facts gather_facts(const AttributeTable& t, size_t row) {
    Facts f;
    const int male = t.column("Male");
    if (male >= 0 && t.value(row, static_cast<size_t>(male)) != 0)
        f.gender = t.value(row, static_cast<size_t>(male)) > 0 ? Gender::kMan : Gender::kWoman;
    std::vector<std::string> textures, colors;
    for (size_t c = 0; c < t.names.size(); ++c) {
        if (t.value(row, c) != 1) continue;
        const AttributeInfo* a = find_attribute(t.names[c]);  // the parser admits known names only
        switch (a->kind) {
            case Kind::kHas: f.has.push_back(a->phrase); break;
            case Kind::kIs: f.is.push_back(a->phrase); break;
            case Kind::kWears: f.wears.push_back(a->phrase); break;
            case Kind::kHairColor: colors.push_back(a->phrase); break;
            case Kind::kHairTexture: textures.push_back(a->phrase); break;
            case Kind::kGender: break;
            case Kind::kBlurry: f.blurry = true; break;
            case Kind::kNoBeard:
                if (f.gender != Gender::kWoman) f.has.push_back(a->phrase);
                break;
        }
    }
    if (!textures.empty() || !colors.empty()) {
        std::string hair;
        if (!textures.empty()) hair += join_and(textures) + " ";
        if (!colors.empty()) hair += join_and(colors) + " ";
        f.has.push_back(hair + "hair");
    }
    return f;
}

const char* noun(Gender g) { return g == Gender::kWoman ? "woman" : g == Gender::kMan ? "man" : "person"; }

// "A photo of an attractive, smiling woman with wavy brown hair, wearing lipstick."
std::string photo_caption(Facts f, Rng& rng) {
    static const std::vector<std::string> leads = {"A photo of", "A picture of", "A portrait of", "A close-up of"};
    static const std::vector<std::string> blurry_leads = {"A blurry photo of", "A blurry picture of"};
    shuffle(f.is, rng);
    shuffle(f.has, rng);
    shuffle(f.wears, rng);
    std::string s = pick(f.blurry ? blurry_leads : leads, rng);
    std::string adjectives;
    for (size_t i = 0; i < f.is.size(); ++i) adjectives += (i ? ", " : "") + f.is[i];
    const std::string first_word = adjectives.empty() ? std::string(noun(f.gender)) : adjectives;
    s += std::string(" ") + article_for(first_word) + " " + (adjectives.empty() ? "" : adjectives + " ") + noun(f.gender);
    if (!f.has.empty()) s += " with " + join_and(f.has);
    if (!f.wears.empty()) s += (f.has.empty() ? " wearing " : ", wearing ") + join_and(f.wears);
    return s + ".";
}

// "The woman has arched eyebrows and wavy hair and wears heavy makeup. She is smiling."
std::string sentence_caption(Facts f, Rng& rng) {
    struct Clause {
        std::string verb;
        std::vector<std::string> items;
    };
    std::vector<Clause> clauses;
    if (!f.has.empty()) clauses.push_back({"has", f.has});
    if (!f.is.empty()) clauses.push_back({"is", f.is});
    if (!f.wears.empty()) clauses.push_back({draw(rng, 2) ? "wears" : "is wearing", f.wears});
    if (clauses.empty()) return photo_caption(std::move(f), rng);
    for (auto& c : clauses) shuffle(c.items, rng);
    shuffle(clauses, rng);

    static const std::vector<std::string> woman = {"The woman", "This woman", "She"};
    static const std::vector<std::string> man = {"The man", "This man", "He"};
    static const std::vector<std::string> person = {"The person", "This person"};
    const std::string subject = pick(f.gender == Gender::kWoman ? woman : f.gender == Gender::kMan ? man : person, rng);
    const std::string pronoun = f.gender == Gender::kWoman ? "She" : f.gender == Gender::kMan ? "He" : "The person";

    // Clauses go one or two to a sentence: "X has A and is B. She wears C."
    std::vector<std::string> sentences;
    for (size_t i = 0; i < clauses.size();) {
        std::string s = (sentences.empty() ? subject : pronoun) + " " + clauses[i].verb + " " + join_and(clauses[i].items);
        if (i + 1 < clauses.size() && draw(rng, 2)) {
            s += " and " + clauses[i + 1].verb + " " + join_and(clauses[i + 1].items);
            i += 2;
        } else {
            i += 1;
        }
        sentences.push_back(s + ".");
    }
    if (f.blurry) {
        static const std::vector<std::string> notes = {"The photo is blurry.", "The image is blurry.",
                                                       "The picture is blurry."};
        const std::string& note = pick(notes, rng);
        if (draw(rng, 2)) sentences.insert(sentences.begin(), note);
        else sentences.push_back(note);
    }
    std::string out;
    for (const auto& s : sentences) out += (out.empty() ? "" : " ") + capitalize(s);
    return out;
}

}  // namespace

const std::vector<std::string>& celeba_attribute_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& a : kAttributes) v.push_back(a.name);
        return v;
    }();
    return names;
}

int AttributeTable::column(const std::string& name) const {
    auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

std::string attribute_caption_id(const std::string& file) {
    const size_t dot = file.rfind('.');
    return (dot == std::string::npos || dot == 0) ? file : file.substr(0, dot);
}

AttributeTable parse_celeba_attributes(std::string_view text, const std::string& source) {
    AttributeTable t;
    t.source = source;
    size_t declared = 0;
    bool have_count = false, have_header = false;
    std::unordered_map<std::string, size_t> first_line_of;  // caption id -> line
    LineReader lines(text);
    std::string_view line;
    while (lines.next(line)) {
        const size_t line_no = lines.number();
        const auto tokens = split_tokens(line);
        if (tokens.empty()) continue;  // blank lines carry nothing
        if (!have_count) {
            const std::string_view tok = tokens[0];
            const bool digits = tokens.size() == 1 && tok.size() <= 9 &&
                                std::all_of(tok.begin(), tok.end(), [](char c) { return c >= '0' && c <= '9'; });
            if (!digits)
                throw Error(at(source, line_no) + "expected the number of images on the first line, found " +
                            quote_excerpt(line));
            declared = static_cast<size_t>(std::stoul(std::string(tok)));
            have_count = true;
            continue;
        }
        if (!have_header) {
            for (const auto& tok : tokens) {
                const std::string name(tok);
                if (!find_attribute(name))
                    throw Error(at(source, line_no) + "unknown attribute " + quote_excerpt(name) + " (CelebA's attributes: " +
                                all_names() + ")");
                if (t.column(name) >= 0) throw Error(at(source, line_no) + "attribute " + quote_excerpt(name) + " appears twice");
                t.names.push_back(name);
            }
            have_header = true;
            t.files.reserve(std::min<size_t>(declared, size_t{1} << 20));
            t.values.reserve(std::min<size_t>(declared, size_t{1} << 20) * t.names.size());
            continue;
        }
        const std::string where = at(source, line_no);
        if (t.rows() >= declared)
            throw Error(where + "more image rows than the " + std::to_string(declared) + " declared on the first line");
        if (tokens.size() != t.names.size() + 1)
            throw Error(where + "expected a file name and " + std::to_string(t.names.size()) + " values, found " +
                        std::to_string(tokens.size() - 1) + " values");
        check_file_name(tokens[0], where);
        const std::string file(tokens[0]);
        auto [pos, fresh] = first_line_of.emplace(attribute_caption_id(file), line_no);
        if (!fresh)
            throw Error(where + quote_excerpt(file) + " names the same image as line " + std::to_string(pos->second));
        for (size_t k = 1; k < tokens.size(); ++k) {
            const std::string_view v = tokens[k];
            int8_t value;
            if (v == "1") value = 1;
            else if (v == "-1") value = -1;
            else if (v == "0") value = 0;
            else
                throw Error(where + "value " + quote_excerpt(v, 20) + " for " + t.names[k - 1] +
                            " is not 1, -1 or 0");
            t.values.push_back(value);
        }
        t.files.push_back(file);
    }
    if (!have_count) throw Error(source + ": empty attribute file (expected the number of images on line 1)");
    if (!have_header) throw Error(source + ": no attribute-name line after the image count");
    if (t.rows() != declared)
        throw Error(source + ":1: declares " + std::to_string(declared) + " images but " + std::to_string(t.rows()) +
                    " rows follow");
    return t;
}

AttributeTable load_celeba_attributes(const std::string& path) {
    return parse_celeba_attributes(read_file(path), path);
}

std::vector<std::string> captions_from_attributes(const AttributeTable& table, std::size_t row, std::size_t count,
                                                  std::uint64_t seed) {
    if (row >= table.rows())
        throw Error(table.source + ": row " + std::to_string(row) + " out of range (" + std::to_string(table.rows()) +
                    " rows)");
    Rng rng(seed + row);
    const Facts facts = gather_facts(table, row);
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (size_t i = 0; i < count; ++i) {
        // A few redraws for a caption not given yet; an image with one attribute has few wordings.
        std::string c;
        for (int attempt = 0; attempt < 16; ++attempt) {
            c = draw(rng, 3) == 2 ? photo_caption(facts, rng) : sentence_caption(facts, rng);
            if (!seen.count(c)) break;
        }
        seen.insert(c);
        out.push_back(std::move(c));
    }
    return out;
}

std::size_t write_attribute_captions(const std::string& attr_file, const std::string& out_root,
                                     std::size_t captions_per_image, std::uint64_t seed) {
    if (captions_per_image == 0) throw Error("captions per image must be at least 1");
    const AttributeTable table = load_celeba_attributes(attr_file);
    const fs::path dir = fs::path(out_root) / "text";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw file_error(dir.string(), "cannot create the folder: " + ec.message());
    for (size_t r = 0; r < table.rows(); ++r) {
        std::string content;
        for (const auto& c : captions_from_attributes(table, r, captions_per_image, seed)) content += c + "\n";
        write_file_atomically((dir / (attribute_caption_id(table.files[r]) + ".txt")).string(), content);
    }
    return table.rows();
}

}  // namespace syn::data
