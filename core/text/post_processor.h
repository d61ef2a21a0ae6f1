#pragma once
// Post-processing templates: where the special tokens go around one sequence or a pair, and the
// token type id of each part. BertProcessing, RobertaProcessing and TemplateProcessing of
// tokenizer.json all become one `PostTemplate`:
//   BERT    [CLS] A [SEP]            / [CLS] A [SEP] B [SEP]      (type ids 0.. 0 1.. 1)
//   RoBERTa <s> A </s>               / <s> A </s></s> B </s>      (type ids all 0)
//   CLIP    <|startoftext|> A <|endoftext|>
#include <cstdint>
#include <string>
#include <vector>

namespace syn::text {

struct TemplateItem {
    int sequence = -1;            // 0 = A, 1 = B, -1 = special tokens
    std::vector<int32_t> ids;     // for special tokens (one special may expand to several ids)
    std::vector<std::string> tokens;
    int32_t type_id = 0;
};

struct PostTemplate {
    std::vector<TemplateItem> single;
    std::vector<TemplateItem> pair;
    bool empty() const { return single.empty() && pair.empty(); }
    // Number of special ids the template adds.
    int added(bool is_pair) const;

    static PostTemplate bert(int32_t cls, const std::string& cls_token, int32_t sep, const std::string& sep_token);
    static PostTemplate roberta(int32_t cls, const std::string& cls_token, int32_t sep, const std::string& sep_token);
};

}  // namespace syn::text
