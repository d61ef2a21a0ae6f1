#pragma once
// `synesthesia captions-from-attributes`: writes MM-CelebA-HQ-style caption files
// (<out>/text/<n>.txt) from CelebA attribute annotations, for users who have the attributes
// (list_attr_celeba.txt, CelebAMask-HQ-attribute-anno.txt) but not the MM-CelebA-HQ text.
namespace CLI {
class App;
}

namespace syn::run {

// Registers the subcommand on the `synesthesia` app.
void add_celeba_captions_command(CLI::App& app);

}  // namespace syn::run
