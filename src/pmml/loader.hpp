#pragma once
// pmml/: the only room that knows XML. Turns the bytes of a PMML document into the IR, enforcing the
// document limits of LoadOptions, and reporting errors with the element path and line.

#include <string_view>

#include "pmml/ir.hpp"
#include "pmmlrt/model.hpp"

namespace pmmlrt::pmml {

/// Parses a copy of `bytes`.
ir::Document load_document(std::string_view bytes, const LoadOptions& options);
/// Parses the document in place where it can, without a copy: `bytes` holds `size` bytes of document and
/// one more, a NUL, and its contents are unspecified afterwards. The same result as load_document; the IR
/// does not refer to the buffer, so it may be freed as soon as this returns.
ir::Document load_document_in_place(char* bytes, std::size_t size, const LoadOptions& options);
/// load_document, always from the DOM of the whole document: the loaders above parse a document with
/// Segments in pieces (see loader.cpp), and the tests check the two agree.
ir::Document load_document_whole(std::string_view bytes, const LoadOptions& options);
/// For tests: how many Segments the loaders above would parse on their own (0: the document is parsed whole).
std::size_t split_segments(std::string_view bytes, const LoadOptions& options);

}  // namespace pmmlrt::pmml
