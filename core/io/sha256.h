#pragma once
// SHA-256 through OpenSSL's libcrypto: file fingerprints for caches and manifests.
#include <string>
#include <string_view>

namespace syn {

// Lower-case hex digest of a byte string.
std::string sha256_hex(std::string_view bytes);
// Lower-case hex digest of a file's content, streamed; throws syn::Error naming the file.
std::string sha256_file(const std::string& path);

}  // namespace syn
