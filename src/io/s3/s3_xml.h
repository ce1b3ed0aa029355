#pragma once
/// The little XML S3 speaks (ListBucketResult, Error, InitiateMultipartUploadResult): element
/// text by tag name, entities decoded. Not a general XML parser: S3 responses have no
/// attributes we need, no CDATA, no nesting of the same tag.
///
/// Threading: pure functions.

#include <string>
#include <string_view>
#include <vector>

namespace sluice::s3 {

/// The raw contents of every <tag>...</tag> in `xml`, in order.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);
/// The decoded text of the first <tag>, or "" when absent.
std::string XmlText(std::string_view xml, std::string_view tag);
/// &amp; &lt; &gt; &quot; &apos; and numeric references decoded.
std::string XmlDecode(std::string_view s);
/// The reverse, for request bodies.
std::string XmlEscape(std::string_view s);

}  // namespace sluice::s3
