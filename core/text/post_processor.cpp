#include "core/text/post_processor.h"

namespace syn::text {

int PostTemplate::added(bool is_pair) const {
    int n = 0;
    for (const TemplateItem& item : is_pair ? pair : single)
        if (item.sequence < 0) n += static_cast<int>(item.ids.size());
    return n;
}

namespace {
TemplateItem special(int32_t id, const std::string& token, int32_t type_id) {
    TemplateItem item;
    item.ids = {id};
    item.tokens = {token};
    item.type_id = type_id;
    return item;
}
TemplateItem sequence(int which, int32_t type_id) {
    TemplateItem item;
    item.sequence = which;
    item.type_id = type_id;
    return item;
}
}  // namespace

PostTemplate PostTemplate::bert(int32_t cls, const std::string& cls_token, int32_t sep, const std::string& sep_token) {
    PostTemplate t;
    t.single = {special(cls, cls_token, 0), sequence(0, 0), special(sep, sep_token, 0)};
    t.pair = {special(cls, cls_token, 0), sequence(0, 0), special(sep, sep_token, 0), sequence(1, 1),
              special(sep, sep_token, 1)};
    return t;
}

PostTemplate PostTemplate::roberta(int32_t cls, const std::string& cls_token, int32_t sep,
                                   const std::string& sep_token) {
    // RoBERTa has no segment embeddings to speak of: HF's slow tokenizer gives all-zero type ids.
    PostTemplate t;
    t.single = {special(cls, cls_token, 0), sequence(0, 0), special(sep, sep_token, 0)};
    t.pair = {special(cls, cls_token, 0), sequence(0, 0), special(sep, sep_token, 0),
              special(sep, sep_token, 0), sequence(1, 0), special(sep, sep_token, 0)};
    return t;
}

}  // namespace syn::text
