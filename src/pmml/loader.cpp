#include "pmml/loader.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "pmml/numbers.hpp"

namespace pmmlrt::pmml {

namespace {

using pugi::xml_node;

std::string_view local_name(const char* name) {
  std::string_view n(name);
  auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

/// True when pugixml's encoding detection (encoding_auto) would surely take the document for UTF-8: no
/// UTF-16/32 byte order mark or zero bytes in the first characters, and no XML declaration that could name
/// ISO-8859-1. Conservative: false sends the document to pugixml's detection.
bool certainly_utf8(std::string_view b) {
  if (b.size() < 4) return false;
  auto d0 = static_cast<unsigned char>(b[0]), d1 = static_cast<unsigned char>(b[1]);
  if (d0 == 0xEF && d1 == 0xBB && static_cast<unsigned char>(b[2]) == 0xBF) return true;
  if (d0 == 0x00 || d0 == 0xFE || d0 == 0xFF) return false;
  if (d0 != '<') return true;
  if (d1 == 0x00) return false;
  if (b.compare(1, 3, "?xm") != 0) return true;
  // The declaration's encoding comes before its first '?'.
  auto end = b.substr(0, 4096).find('?', 6);
  if (end == std::string_view::npos) return false;
  std::string declaration(b.substr(0, end));
  for (auto& c : declaration) c = char(std::tolower(static_cast<unsigned char>(c)));
  return declaration.find("latin1") == std::string::npos && declaration.find("iso-8859-1") == std::string::npos;
}

/// A <Segment> that holds no other Segment, as it lies in the document: [begin, end) is the whole element,
/// [content_begin, content_end) what lies between its tags.
struct SegmentSpan {
  std::size_t begin, content_begin, content_end, end;
};

/// Finds the Segments (children of a Segmentation) that hold no other Segment, by a scan of the markup alone:
/// tags, comments, CDATA sections and processing instructions, no DOM. Conservative: false for anything it
/// does not follow (a DOCTYPE, an unterminated construct, mismatched tags, nesting deeper than `max_depth`),
/// and the caller then parses the document whole, which reports what is wrong. `depth`: the deepest element
/// nesting (the root is 1).
bool find_leaf_segments(std::string_view b, std::size_t max_depth, std::vector<SegmentSpan>& out, std::size_t& depth) {
  struct Open {
    std::string_view name;
    std::size_t begin, content_begin;
    bool holds_segment;
  };
  auto local = [](std::string_view n) {
    auto colon = n.find(':');
    return colon == std::string_view::npos ? n : n.substr(colon + 1);
  };
  // Character classes, by table: the scan passes over every byte of the markup.
  enum : std::uint8_t { kSpace = 1, kNameEnd = 2, kTagStop = 4 };
  static const auto classes = [] {
    std::array<std::uint8_t, 256> c{};
    for (unsigned char x : {' ', '\t', '\r', '\n'}) c[x] = kSpace | kNameEnd;
    for (unsigned char x : {'/', '>'}) c[x] |= kNameEnd;
    for (unsigned char x : {'"', '\'', '>', '/', '<'}) c[x] |= kTagStop;
    return c;
  }();
  auto is = [&](char c, std::uint8_t what) { return (classes[static_cast<unsigned char>(c)] & what) != 0; };
  auto is_space = [&](char c) { return is(c, kSpace); };
  std::vector<Open> open;
  depth = 0;
  const std::size_t n = b.size();
  std::size_t i = 0;
  for (;;) {
    const void* lt = i < n ? std::memchr(b.data() + i, '<', n - i) : nullptr;
    if (!lt) break;
    i = std::size_t(static_cast<const char*>(lt) - b.data());
    const char next = i + 1 < n ? b[i + 1] : '\0';
    auto skip_past = [&](std::string_view close, std::size_t from) {
      auto at = b.find(close, i + from);
      if (at == std::string_view::npos) return false;
      i = at + close.size();
      return true;
    };
    if (next == '!' || next == '?') {
      std::string_view rest = b.substr(i, 9);
      if (rest.rfind("<!--", 0) == 0) {
        if (!skip_past("-->", 4)) return false;
      } else if (rest == "<![CDATA[") {
        if (!skip_past("]]>", 9)) return false;
      } else if (next == '?') {
        if (!skip_past("?>", 2)) return false;
      } else {
        return false;  // a DOCTYPE, or worse
      }
    } else if (next == '/') {
      std::size_t e = i + 2;
      while (e < n && !is_space(b[e]) && b[e] != '>') ++e;
      std::string_view name = b.substr(i + 2, e - i - 2);
      while (e < n && is_space(b[e])) ++e;
      if (e >= n || b[e] != '>' || open.empty() || open.back().name != name) return false;
      Open closed = open.back();
      open.pop_back();
      const bool segment = local(name) == "Segment";
      if (segment && !closed.holds_segment && !open.empty() && local(open.back().name) == "Segmentation")
        out.push_back({closed.begin, closed.content_begin, i, e + 1});
      if (!open.empty()) open.back().holds_segment = open.back().holds_segment || closed.holds_segment || segment;
      i = e + 1;
    } else {
      std::size_t e = i + 1;
      while (e < n && !is(b[e], kNameEnd)) ++e;
      std::string_view name = b.substr(i + 1, e - i - 1);
      if (name.empty()) return false;
      bool self_closing = false;
      for (;;) {  // the attributes, as far as where they end: quoted values may hold '>'
        while (e < n && !is(b[e], kTagStop)) ++e;
        if (e >= n) return false;
        char c = b[e];
        if (c == '"' || c == '\'') {
          const void* q = std::memchr(b.data() + e + 1, c, n - e - 1);
          if (!q) return false;
          e = std::size_t(static_cast<const char*>(q) - b.data()) + 1;
        } else if (c == '>') {
          break;
        } else if (c == '/' && e + 1 < n && b[e + 1] == '>') {
          self_closing = true;
          ++e;
          break;
        } else if (c == '<') {
          return false;
        } else {
          ++e;  // a '/' not before '>'
        }
      }
      if (self_closing) {
        if (!open.empty() && local(name) == "Segment") open.back().holds_segment = true;
        depth = std::max(depth, open.size() + 1);
      } else {
        open.push_back({name, i, e + 1, false});
        depth = std::max(depth, open.size());
      }
      if (depth > max_depth) return false;
      i = e + 1;
    }
  }
  return open.empty();
}

/// The tree predicate operator in [first, last] whose PMML text is `text`; Op::None if there is none.
ir::TreePredicate::Op op_named(const char* text, ir::TreePredicate::Op first, ir::TreePredicate::Op last) {
  using Op = ir::TreePredicate::Op;
  // Every tree predicate names one: the first letter rules out most candidates without a call.
  for (auto o = std::uint8_t(first); o <= std::uint8_t(last); ++o) {
    const char* candidate = ir::op_text(Op(o));
    if (text[0] == candidate[0] && std::strcmp(text, candidate) == 0) return Op(o);
  }
  return Op::None;
}

bool is(const xml_node& n, std::string_view name) { return n.type() == pugi::node_element && local_name(n.name()) == name; }

/// Start offset of each line: 32 bits while the document allows, else the wide table.
struct LineTable {
  std::vector<std::uint32_t> narrow;
  std::vector<std::size_t> wide;
};

class SegmentPool;

class Loader {
 public:
  /// Thrown where a split parse (see `split`) meets what it does not handle: the caller parses again whole.
  struct Unsplittable {};

  /// `writable`: the same bytes followed by a NUL (size + 1 bytes), which may be parsed in place and so
  /// changed; null to parse a copy. `split`: try the split parse (below).
  Loader(std::string_view bytes, char* writable, const LoadOptions& options, bool split);
  /// A reader of `parent`'s leaf Segments (read_span) on another thread: it shares the parent's bytes and
  /// line table, which nothing writes once Segments are read, and keeps every other state of its own.
  struct SpanReaderTag {};
  Loader(const Loader& parent, SpanReaderTag);
  ~Loader();

  /// What one leaf Segment (spans_[index]) adds to the document, read on its own (see SegmentPool).
  struct SpanResult {
    ir::Segment segment;  // its id as written: a default id depends on its place among its siblings
    std::size_t nodes = 0, fields = 0, categories = 0;  // what it counts against the limits
    std::exception_ptr error;
  };
  SpanResult read_span(const SegmentSpan& span, const std::string& anchor_path);

  ir::Document run();
  /// Whether run() parsed the document split. Such a load reads the same elements in the same order as a
  /// whole parse, but it reports nothing itself: on any error the caller loads again, whole, and reports
  /// what that finds (a malformed later Segment comes before an earlier semantic error, for instance).
  bool split() const { return split_; }

 private:
  std::string_view bytes_;  // the document as given; once parsing starts, it may hold what pugixml made of it
  char* writable_;
  const LoadOptions& options_;
  std::size_t node_count_ = 0;
  std::size_t segment_count_ = 0;
  std::size_t field_count_ = 0;
  std::size_t category_count_ = 0;
  LineTable own_lines_;  // build_line_table()
  const LineTable* lines_ = &own_lines_;
  mutable std::size_t line_hint_ = 1;  // line_at(): its last answer
  mutable std::unordered_map<pugi::xml_node_struct*, std::unordered_map<pugi::xml_node_struct*, std::string>> sibling_index_;
  bool inside_tree_ = false;
  std::size_t xml_depth_ = 0;  // the document's deepest element nesting (check_depth)
  char* in_place_ = nullptr;    // the buffer parsed in place (ours to discard), or null
  std::vector<xml_node> kids_;  // node(): the child Nodes of the Node it read
  ir::TreeData scratch_tree_;   // tree(): the arrays a tree is built in
  // No DTD expansion: pugixml never expands entities beyond the predefined five, nor fetches external ones.
  static constexpr unsigned parse_options_ = pugi::parse_default & ~pugi::parse_wconv_attribute;

  // --- the split parse ----------------------------------------------------------------------------------
  // The whole DOM of a document costs about twice its size. Split, the document is parsed as a skeleton
  // (everything but the content of the innermost Segments, which stay there empty) and each of those
  // Segments on its own when mining() reaches it, so that only one Segment's DOM is held at a time. The
  // bytes are never written: a load that fails is run again on them, whole.
  bool try_split_;
  bool split_ = false;
  std::vector<SegmentSpan> spans_;
  std::size_t spans_read_ = 0;
  std::string skeleton_;                         // the skeleton's bytes (parsed in place)
  std::vector<std::size_t> cut_at_;              // per span: where its content was cut from the skeleton
  std::vector<std::size_t> span_at_;             // per span: the skeleton offset of its Segment's name
  std::string segment_text_;                     // the Segment being read, its bytes (parsed in place)
  pugi::xml_document segment_doc_;
  xml_node segment_root_, segment_anchor_;       // that Segment, and its empty element in the skeleton
  std::string anchor_path_;                      // path_of(segment_anchor_)
  std::size_t segment_base_ = 0;                 // the offset of segment_text_ in the document
  bool in_segment_ = false;
  std::unique_ptr<SegmentPool> pool_;            // with LoadOptions::threads > 1: reads spans_ ahead
  mutable std::unordered_map<pugi::xml_node_struct*, std::unordered_map<pugi::xml_node_struct*, std::string>>
      segment_sibling_index_;  // sibling_index_ of segment_doc_'s elements (its nodes are freed with it)

  /// The skeleton: the document without the content of spans_, and the tables that map its offsets back.
  void build_skeleton() {
    std::size_t removed = 0, from = 0;
    skeleton_.reserve(bytes_.size() / 64 + 4096);
    for (const auto& s : spans_) {
      span_at_.push_back(s.begin + 1 - removed);
      cut_at_.push_back(s.content_begin - removed);
      skeleton_.append(bytes_.data() + from, s.content_begin - from);
      removed += s.content_end - s.content_begin;
      from = s.content_end;
    }
    skeleton_.append(bytes_.data() + from, bytes_.size() - from);
    skeleton_.push_back('\0');
  }
  /// The document offset of an offset in the skeleton.
  std::size_t from_skeleton(std::size_t offset) const {
    auto cuts = std::size_t(std::upper_bound(cut_at_.begin(), cut_at_.end(), offset) - cut_at_.begin());
    if (cuts == 0) return offset;
    const SegmentSpan& last = spans_[cuts - 1];
    return offset - cut_at_[cuts - 1] + last.content_end;
  }
  /// Where `n` is in the document (as offset_debug() gives it for a whole parse), or -1.
  std::ptrdiff_t offset_of(xml_node n) const {
    std::ptrdiff_t offset = n.offset_debug();
    if (!split_ || offset < 0) return offset;
    if (in_segment_ && n.root() == segment_doc_) return offset + std::ptrdiff_t(segment_base_);
    return std::ptrdiff_t(from_skeleton(std::size_t(offset)));
  }
  /// Reads the Segment `s` of the skeleton from its own bytes, when it is one of spans_: its element, with
  /// everything in it, replaces `s` until leave_segment().
  xml_node enter_segment(xml_node s, unsigned parse_options) {
    if (!split_ || in_segment_) return s;
    auto at = std::size_t(s.offset_debug());
    auto it = std::lower_bound(span_at_.begin(), span_at_.end(), at);
    if (it == span_at_.end() || *it != at) return s;  // <Segment/>, or one that holds Segments
    std::string anchor_path = path_of(s);
    ++spans_read_;
    return parse_span(spans_[std::size_t(it - span_at_.begin())], s, std::move(anchor_path), parse_options);
  }
  /// The index in spans_ of the skeleton's Segment `s`, or npos (see enter_segment).
  std::size_t span_of(xml_node s) const {
    if (!split_ || in_segment_) return std::string::npos;
    auto at = std::size_t(s.offset_debug());
    auto it = std::lower_bound(span_at_.begin(), span_at_.end(), at);
    return it == span_at_.end() || *it != at ? std::string::npos : std::size_t(it - span_at_.begin());
  }
  /// Parses `span` into segment_doc_ and enters it; `anchor`: its empty element in the skeleton (null on a
  /// span reader, which has no skeleton), whose path is `anchor_path`.
  xml_node parse_span(const SegmentSpan& span, xml_node anchor, std::string anchor_path, unsigned parse_options) {
    segment_doc_.reset();
    segment_text_.assign(bytes_.data() + span.begin, span.end - span.begin);
    segment_text_.push_back('\0');
    auto parsed = segment_doc_.load_buffer_inplace(segment_text_.data(), segment_text_.size(), parse_options,
                                                   pugi::encoding_utf8);
    xml_node root = segment_doc_.document_element();
    if (!parsed || !root || root.offset_debug() != 1 || root.next_sibling()) throw Unsplittable{};
    in_segment_ = true;
    segment_root_ = root;
    segment_anchor_ = anchor;
    anchor_path_ = std::move(anchor_path);
    segment_base_ = span.begin;
    return root;
  }
  void leave_segment() {
    if (!in_segment_) return;
    in_segment_ = false;
    segment_sibling_index_.clear();
    segment_root_ = segment_anchor_ = xml_node();
    anchor_path_.clear();
    segment_doc_.reset();
  }

  /// Gives the whole pages of in_place_[begin, end) back to the system: their text belongs to elements that
  /// were freed and is never read again. What is left there afterwards is unspecified (zeros on Linux).
  void discard_text(std::size_t begin, std::size_t end) const {
#if defined(__linux__)
    if (!in_place_ || end <= begin) return;
    static const std::size_t page = std::size_t(sysconf(_SC_PAGESIZE));
    auto first = (reinterpret_cast<std::uintptr_t>(in_place_ + begin) + page - 1) / page * page;
    auto last = reinterpret_cast<std::uintptr_t>(in_place_ + end) / page * page;
    if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
#else
    (void)begin;
    (void)end;
#endif
  }

  // --- errors -------------------------------------------------------------------------------------------
  /// "[i]" of an element among its same-named siblings ("" when it has none). Each parent's children are
  /// numbered once and remembered, so naming every element of a wide document stays linear.
  std::string sibling_suffix(xml_node n) const {
    xml_node parent = n.parent();
    auto key = parent.internal_object();
    auto& sibling_index = in_segment_ && parent.root() == segment_doc_ ? segment_sibling_index_ : sibling_index_;
    auto it = sibling_index.find(key);
    if (it == sibling_index.end()) {
      std::unordered_map<std::string_view, std::size_t> counts;
      std::unordered_map<pugi::xml_node_struct*, std::pair<std::size_t, std::string_view>> index;
      for (xml_node s = parent.first_child(); s; s = s.next_sibling())
        if (s.type() == pugi::node_element) index[s.internal_object()] = {++counts[s.name()], s.name()};
      std::unordered_map<pugi::xml_node_struct*, std::string> suffix;
      for (auto& [node, at] : index) suffix[node] = counts[at.second] > 1 ? fmt::format("[{}]", at.first) : "";
      it = sibling_index.emplace(key, std::move(suffix)).first;
    }
    return it->second[n.internal_object()];
  }
  std::string path_of(xml_node n) const {
    std::vector<std::string> parts;
    std::string path;
    for (; n && n.type() == pugi::node_element; n = n.parent()) {
      // A Segment read on its own stands where its empty element is in the skeleton.
      if (in_segment_ && n == segment_root_) {
        path = anchor_path_;
        break;
      }
      parts.push_back(std::string(local_name(n.name())) + sibling_suffix(n));
    }
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) path += "/" + *it;
    return path;
  }
  /// Built before parsing: an in-place parse rewrites line ends.
  void build_line_table() {
    bool narrow = bytes_.size() < std::size_t(std::numeric_limits<std::uint32_t>::max());
    auto& newlines = own_lines_.narrow;
    auto& wide_newlines = own_lines_.wide;
    auto add = [&](std::size_t offset) {
      if (narrow) newlines.push_back(std::uint32_t(offset));
      else wide_newlines.push_back(offset);
    };
    add(0);
    if (!bytes_.empty())
      for (const char* p = bytes_.data(); (p = static_cast<const char*>(std::memchr(p, '\n', std::size_t(bytes_.data() + bytes_.size() - p))));)
        add(std::size_t(++p - bytes_.data()));
    // Held through the whole load: no growth slack (one copy, cheaper than a pass to count the lines first).
    newlines.shrink_to_fit();
    wide_newlines.shrink_to_fit();
  }
  /// 1-based line of a byte offset.
  std::size_t line_at(std::size_t offset) const {
    const auto& wide = lines_->wide;
    if (!wide.empty()) return std::size_t(std::upper_bound(wide.begin(), wide.end(), offset) - wide.begin());
    if (offset >= std::size_t(std::numeric_limits<std::uint32_t>::max())) return lines_->narrow.size();
    // Elements are looked up near the one before (a tree's nodes lie together): search outwards from the
    // last answer, which touches a few entries of the table instead of a binary search over all of it.
    const auto at = std::uint32_t(offset);
    const auto& v = lines_->narrow;
    std::size_t h = std::min(line_hint_, v.size()), r;
    if (v[h - 1] <= at) {  // the answer is h or more
      std::size_t lo = h, hi = h, step = 1;
      while (hi < v.size() && v[hi] <= at) {
        lo = hi + 1;
        hi = std::min(v.size(), hi + step);
        step <<= 1;
      }
      r = std::size_t(std::upper_bound(v.begin() + std::ptrdiff_t(lo), v.begin() + std::ptrdiff_t(hi), at) - v.begin());
    } else {  // below h: v[hi] > at; v[0] = 0 <= at ends the search
      std::size_t hi = h - 1, step = 1;
      for (;;) {
        std::size_t lo = hi >= step ? hi - step : 0;
        if (v[lo] <= at) {
          r = std::size_t(std::upper_bound(v.begin() + std::ptrdiff_t(lo + 1), v.begin() + std::ptrdiff_t(hi), at) - v.begin());
          break;
        }
        hi = lo;
        step <<= 1;
      }
    }
    line_hint_ = r;
    return r;
  }
  std::size_t line_of(xml_node n) const {
    auto offset = offset_of(n);
    if (offset < 0 || std::size_t(offset) > bytes_.size()) return 0;
    return line_at(std::size_t(offset));
  }
  /// Where an element is, for messages. Inside trees the full path would cost a walk over siblings for
  /// every node (quadratic on big forests), so those elements are named by line instead.
  std::string where(xml_node n) const {
    if (inside_tree_) return std::string();
    return path_of(n);
  }
  [[noreturn]] void fail(xml_node n, const std::string& message) const {
    std::string path = path_of(n);
    throw ParseError(fmt::format("{} (at {}, line {})", message, path, line_of(n)), path, line_of(n));
  }
  [[noreturn]] void unsupported(xml_node n, const std::string& message) const {
    std::string path = path_of(n);
    throw UnsupportedError(fmt::format("{} (at {}, line {})", message, path, line_of(n)), path);
  }

  // --- attributes ---------------------------------------------------------------------------------------
  static const char* attr(xml_node n, const char* name) {
    auto a = n.attribute(name);
    return a ? a.value() : nullptr;
  }
  std::string required(xml_node n, const char* name) const {
    const char* v = attr(n, name);
    if (!v) fail(n, fmt::format("<{}> lacks the required attribute {}", local_name(n.name()), name));
    return v;
  }
  std::string text_or(xml_node n, const char* name, const char* fallback) const {
    const char* v = attr(n, name);
    return v ? v : fallback;
  }
  double number(xml_node n, const char* name, const char* text) const {
    auto v = numbers::parse_double(text);
    if (!v) fail(n, fmt::format("attribute {}=\"{}\" is not a number", name, text));
    return *v;
  }
  double finite(xml_node n, const char* name, const char* text) const {
    double v = number(n, name, text);
    if (!std::isfinite(v)) fail(n, fmt::format("attribute {}=\"{}\" must be finite", name, text));
    return v;
  }
  double required_number(xml_node n, const char* name) const {
    std::string v = required(n, name);
    return finite(n, name, v.c_str());
  }
  double number_or(xml_node n, const char* name, double fallback) const {
    const char* v = attr(n, name);
    return v ? finite(n, name, v) : fallback;
  }
  std::optional<double> optional_number(xml_node n, const char* name) const {
    const char* v = attr(n, name);
    if (!v) return std::nullopt;
    return finite(n, name, v);
  }
  bool boolean_or(xml_node n, const char* name, bool fallback) const {
    const char* v = attr(n, name);
    if (!v) return fallback;
    std::string_view t = numbers::trim(v);
    if (t == "true" || t == "1") return true;
    if (t == "false" || t == "0") return false;
    fail(n, fmt::format("attribute {}=\"{}\" is not a boolean", name, v));
  }

  DataType data_type(xml_node n, const std::string& text) const {
    if (text == "string") return DataType::String;
    if (text == "integer") return DataType::Integer;
    if (text == "float") return DataType::Float;
    if (text == "double" || text == "real") return DataType::Double;
    if (text == "boolean") return DataType::Boolean;
    if (text == "date") return DataType::Date;
    if (text == "time") return DataType::Time;
    if (text == "dateTime") return DataType::DateTime;
    if (text.rfind("dateDays", 0) == 0 || text.rfind("dateTimeSeconds", 0) == 0 || text.rfind("timeSeconds", 0) == 0)
      unsupported(n, fmt::format("dataType \"{}\" is not supported", text));
    fail(n, fmt::format("unknown dataType \"{}\"", text));
  }
  std::optional<DataType> optional_data_type(xml_node n) const {
    const char* v = attr(n, "dataType");
    if (!v) return std::nullopt;
    return data_type(n, v);
  }
  OpType op_type(xml_node n, const std::string& text) const {
    if (text == "categorical") return OpType::Categorical;
    if (text == "ordinal") return OpType::Ordinal;
    if (text == "continuous") return OpType::Continuous;
    fail(n, fmt::format("unknown optype \"{}\"", text));
  }
  std::optional<OpType> optional_op_type(xml_node n) const {
    const char* v = attr(n, "optype");
    if (!v) return std::nullopt;
    return op_type(n, v);
  }
  static OpType default_op_type(DataType t) {
    return (t == DataType::String || t == DataType::Boolean) ? OpType::Categorical : OpType::Continuous;
  }

  void count_field(xml_node n) {
    if (++field_count_ > options_.max_fields)
      throw LimitError(fmt::format("more than {} fields (limit max_fields) at {}", options_.max_fields, path_of(n)));
  }

  // --- pieces -------------------------------------------------------------------------------------------
  ir::Interval interval(xml_node n) const {
    ir::Interval iv;
    std::string closure = required(n, "closure");
    if (closure == "openClosed") iv.closure = ir::Interval::Closure::OpenClosed;
    else if (closure == "openOpen") iv.closure = ir::Interval::Closure::OpenOpen;
    else if (closure == "closedOpen") iv.closure = ir::Interval::Closure::ClosedOpen;
    else if (closure == "closedClosed") iv.closure = ir::Interval::Closure::ClosedClosed;
    else fail(n, fmt::format("unknown Interval closure \"{}\"", closure));
    if (const char* l = attr(n, "leftMargin")) iv.left = number(n, "leftMargin", l);
    if (const char* r = attr(n, "rightMargin")) iv.right = number(n, "rightMargin", r);
    if (std::isnan(iv.left) || std::isnan(iv.right) || iv.left > iv.right)
      fail(n, "Interval margins are not ordered numbers");
    return iv;
  }

  ir::DataField data_field(xml_node n) {
    count_field(n);
    ir::DataField f;
    f.path = path_of(n);
    f.name = required(n, "name");
    f.data_type = data_type(n, required(n, "dataType"));
    auto op = optional_op_type(n);
    f.op_type = op ? *op : default_op_type(f.data_type);
    for (xml_node c : n.children()) {
      if (is(c, "Value")) {
        if (++category_count_ > options_.max_categories)
          throw LimitError(fmt::format("more than {} Value elements (limit max_categories)", options_.max_categories));
        std::string value = required(c, "value");
        std::string property = text_or(c, "property", "valid");
        if (property == "valid") {
          f.valid_values.push_back(value);
          f.display_values.push_back(text_or(c, "displayValue", ""));
        } else if (property == "invalid") {
          f.invalid_values.push_back(value);
        } else if (property == "missing") {
          f.missing_values.push_back(value);
        } else {
          fail(c, fmt::format("unknown Value property \"{}\"", property));
        }
      } else if (is(c, "Interval")) {
        f.intervals.push_back(interval(c));
      }
    }
    return f;
  }

  std::vector<std::string> array(xml_node n) const {
    // PMML Array: whitespace-separated tokens; a token may be double-quoted with \" escapes.
    std::vector<std::string> out;
    std::string_view t = n.child_value();
    std::size_t i = 0;
    while (i < t.size()) {
      while (i < t.size() && static_cast<unsigned char>(t[i]) <= ' ') ++i;
      if (i >= t.size()) break;
      std::string token;
      if (t[i] == '"') {
        ++i;
        bool closed = false;
        while (i < t.size()) {
          if (t[i] == '\\' && i + 1 < t.size() && t[i + 1] == '"') {
            token += '"';
            i += 2;
          } else if (t[i] == '"') {
            ++i;
            closed = true;
            break;
          } else {
            token += t[i++];
          }
        }
        if (!closed) fail(n, "unterminated quoted string in Array");
      } else {
        while (i < t.size() && static_cast<unsigned char>(t[i]) > ' ') token += t[i++];
      }
      out.push_back(std::move(token));
    }
    if (const char* count = attr(n, "n")) {
      auto expected = numbers::parse_integer(count);
      if (!expected || std::size_t(*expected) != out.size())
        fail(n, fmt::format("Array declares n=\"{}\" but holds {} values", count, out.size()));
    }
    return out;
  }

  ir::ExpressionPtr expression(xml_node n, std::size_t depth) {
    if (depth > 256) throw LimitError(fmt::format("expression nesting deeper than 256 at {}", path_of(n)));
    auto e = std::make_unique<ir::Expression>();
    e->path = where(n);
    if (const char* m = attr(n, "mapMissingTo")) e->map_missing_to = m;
    if (const char* d = attr(n, "defaultValue")) e->default_value = d;
    std::string_view name = local_name(n.name());
    if (name == "Constant") {
      e->kind = ir::Expression::Kind::Constant;
      e->value = n.child_value();
      e->data_type = optional_data_type(n);
      e->constant_missing = boolean_or(n, "missing", false);
    } else if (name == "FieldRef") {
      e->kind = ir::Expression::Kind::FieldRef;
      e->field = required(n, "field");
    } else if (name == "NormContinuous") {
      e->kind = ir::Expression::Kind::NormContinuous;
      e->field = required(n, "field");
      e->outliers = text_or(n, "outliers", "asIs");
      for (xml_node c : n.children())
        if (is(c, "LinearNorm")) e->linear_norms.emplace_back(required_number(c, "orig"), required_number(c, "norm"));
      if (e->linear_norms.size() < 2) fail(n, "NormContinuous needs at least two LinearNorm elements");
      for (std::size_t i = 1; i < e->linear_norms.size(); ++i)
        if (!(e->linear_norms[i].first > e->linear_norms[i - 1].first))
          fail(n, "NormContinuous LinearNorm@orig values must increase");
    } else if (name == "NormDiscrete") {
      e->kind = ir::Expression::Kind::NormDiscrete;
      e->field = required(n, "field");
      e->value = required(n, "value");
    } else if (name == "Discretize") {
      e->kind = ir::Expression::Kind::Discretize;
      e->field = required(n, "field");
      e->data_type = optional_data_type(n);
      for (xml_node c : n.children()) {
        if (!is(c, "DiscretizeBin")) continue;
        xml_node iv = c.child("Interval");
        if (!iv) fail(c, "DiscretizeBin lacks an Interval");
        e->bins.push_back({interval(iv), required(c, "binValue")});
      }
    } else if (name == "MapValues") {
      e->kind = ir::Expression::Kind::MapValues;
      e->output_column = required(n, "outputColumn");
      e->data_type = optional_data_type(n);
      for (xml_node c : n.children()) {
        if (is(c, "FieldColumnPair")) {
          e->field_columns.emplace_back(required(c, "field"), required(c, "column"));
        } else if (is(c, "InlineTable")) {
          for (xml_node row : c.children()) {
            if (!is(row, "row")) continue;
            std::vector<std::pair<std::string, std::string>> cells;
            for (xml_node cell : row.children())
              if (cell.type() == pugi::node_element) cells.emplace_back(cell.name(), cell.child_value());
            e->rows.push_back(std::move(cells));
          }
        } else if (is(c, "TableLocator")) {
          unsupported(c, "TableLocator (external tables) is not supported");
        }
      }
    } else if (name == "Apply") {
      e->kind = ir::Expression::Kind::Apply;
      e->function = required(n, "function");
      e->invalid_value_treatment = text_or(n, "invalidValueTreatment", "returnInvalid");
      for (xml_node c : n.children()) {
        if (c.type() != pugi::node_element || is(c, "Extension")) continue;
        e->arguments.push_back(expression(c, depth + 1));
      }
    } else if (name == "TextIndex" || name == "Aggregate" || name == "Lag") {
      unsupported(n, fmt::format("<{}> is not supported", name));
    } else {
      fail(n, fmt::format("<{}> is not an expression", name));
    }
    return e;
  }

  // The first element child that is not an Extension.
  static xml_node first_element(xml_node n) {
    for (xml_node c : n.children())
      if (c.type() == pugi::node_element && !is(c, "Extension")) return c;
    return {};
  }

  static bool is_expression(xml_node c) {
    static const char* const names[] = {"Constant", "FieldRef",  "NormContinuous", "NormDiscrete", "Discretize",
                                        "MapValues", "Apply",    "TextIndex",      "Aggregate",    "Lag"};
    for (const char* name : names)
      if (is(c, name)) return true;
    return false;
  }

  ir::ExpressionPtr expression_child(xml_node n, bool required_child) {
    for (xml_node c : n.children())
      if (is_expression(c)) return expression(c, 0);
    if (required_child) fail(n, fmt::format("<{}> lacks an expression", local_name(n.name())));
    return nullptr;
  }

  ir::DerivedField derived_field(xml_node n) {
    count_field(n);
    ir::DerivedField f;
    f.path = path_of(n);
    f.name = required(n, "name");
    f.data_type = data_type(n, required(n, "dataType"));
    auto op = optional_op_type(n);
    f.op_type = op ? *op : default_op_type(f.data_type);
    for (xml_node c : n.children())
      if (is(c, "Value") && text_or(c, "property", "valid") == "valid") f.valid_values.push_back(required(c, "value"));
    f.expression = expression_child(n, true);
    return f;
  }

  ir::DefineFunction define_function(xml_node n) {
    ir::DefineFunction f;
    f.path = path_of(n);
    f.name = required(n, "name");
    f.data_type = n.attribute("dataType") ? data_type(n, n.attribute("dataType").value()) : DataType::Double;
    for (xml_node c : n.children())
      if (is(c, "ParameterField")) f.parameters.push_back({required(c, "name"), optional_data_type(c)});
    f.body = expression_child(n, true);
    return f;
  }

  ir::PredicatePtr predicate(xml_node n, std::size_t depth) {
    if (depth > 256) throw LimitError(fmt::format("predicate nesting deeper than 256 at {}", where(n)));
    auto p = std::make_unique<ir::Predicate>();
    std::string_view name = local_name(n.name());
    if (name == "True") {
      p->kind = ir::Predicate::Kind::True;
    } else if (name == "False") {
      p->kind = ir::Predicate::Kind::False;
    } else if (name == "SimplePredicate") {
      p->path = where(n);
      if (inside_tree_) p->line = line_of(n);
      p->kind = ir::Predicate::Kind::Simple;
      p->field = required(n, "field");
      p->op = required(n, "operator");
      static const char* const ops[] = {"equal",       "notEqual",       "lessThan",  "lessOrEqual",
                                        "greaterThan", "greaterOrEqual", "isMissing", "isNotMissing"};
      if (std::none_of(std::begin(ops), std::end(ops), [&](const char* o) { return p->op == o; }))
        fail(n, fmt::format("unknown SimplePredicate operator \"{}\"", p->op));
      if (p->op != "isMissing" && p->op != "isNotMissing") p->value = required(n, "value");
    } else if (name == "SimpleSetPredicate") {
      p->path = where(n);
      if (inside_tree_) p->line = line_of(n);
      p->kind = ir::Predicate::Kind::SimpleSet;
      p->field = required(n, "field");
      p->op = required(n, "booleanOperator");
      if (p->op != "isIn" && p->op != "isNotIn") fail(n, fmt::format("unknown booleanOperator \"{}\"", p->op));
      xml_node a = n.child("Array");
      if (!a) {
        for (xml_node c : n.children())
          if (is(c, "Array")) a = c;
      }
      if (!a) fail(n, "SimpleSetPredicate lacks an Array");
      p->values = array(a);
    } else if (name == "CompoundPredicate") {
      p->path = where(n);
      if (inside_tree_) p->line = line_of(n);
      p->kind = ir::Predicate::Kind::Compound;
      p->op = required(n, "booleanOperator");
      if (p->op != "and" && p->op != "or" && p->op != "xor" && p->op != "surrogate")
        fail(n, fmt::format("unknown booleanOperator \"{}\"", p->op));
      for (xml_node c : n.children())
        if (is_predicate(c)) p->children.push_back(predicate(c, depth + 1));
      if (p->children.size() < 2) fail(n, "CompoundPredicate needs at least two predicates");
    } else {
      fail(n, fmt::format("<{}> is not a predicate", name));
    }
    return p;
  }

  static bool is_predicate_name(std::string_view n) {
    return n == "True" || n == "False" || n == "SimplePredicate" || n == "SimpleSetPredicate" || n == "CompoundPredicate";
  }
  static bool is_predicate(xml_node c) {
    return is(c, "True") || is(c, "False") || is(c, "SimplePredicate") || is(c, "SimpleSetPredicate") ||
           is(c, "CompoundPredicate");
  }

  ir::PredicatePtr predicate_child(xml_node n) {
    for (xml_node c : n.children())
      if (is_predicate(c)) return predicate(c, 0);
    fail(n, fmt::format("<{}> lacks a predicate", local_name(n.name())));
  }

  // --- models -------------------------------------------------------------------------------------------
  static bool is_model(xml_node c) {
    static const char* const names[] = {
        "RegressionModel",  "TreeModel",         "MiningModel",       "GeneralRegressionModel", "NeuralNetwork",
        "SupportVectorMachineModel", "NaiveBayesModel", "ClusteringModel", "AssociationModel", "RuleSetModel",
        "SequenceModel",    "TextModel",         "TimeSeriesModel",   "BaselineModel",          "BayesianNetworkModel",
        "GaussianProcessModel", "NearestNeighborModel", "Scorecard", "AnomalyDetectionModel"};
    for (const char* name : names)
      if (is(c, name)) return true;
    return false;
  }

  MiningFunction function_name(xml_node n) const {
    std::string f = required(n, "functionName");
    if (f == "regression") return MiningFunction::Regression;
    if (f == "classification") return MiningFunction::Classification;
    unsupported(n, fmt::format("functionName \"{}\" is not supported (only regression and classification)", f));
  }

  void common(xml_node n, ir::Model& m) {
    m.path = path_of(n);
    m.element = std::string(local_name(n.name()));
    m.name = text_or(n, "modelName", "");
    if (const char* math = attr(n, "x-mathContext")) {
      std::string_view t(math);
      if (t == "float") m.float_math = true;
      else if (t != "double") fail(n, fmt::format("unknown x-mathContext \"{}\"", t));
    }
    if (!boolean_or(n, "isScorable", true)) unsupported(n, "the model is declared not scorable (isScorable=\"false\")");
    bool schema = false;
    for (xml_node c : n.children()) {
      if (is(c, "MiningSchema")) {
        schema = true;
        // The fields' paths, as path_of() would give them: numbered among the same-named siblings.
        auto schema_path = std::make_shared<const std::string>(path_of(c));
        std::unordered_map<std::string_view, std::pair<std::uint32_t, std::uint32_t>> names;  // name: count, seen
        for (xml_node f : c.children())
          if (f.type() == pugi::node_element) ++names[f.name()].first;
        for (xml_node f : c.children()) {
          if (!is(f, "MiningField")) continue;
          ir::MiningField mf;
          auto& at = names[f.name()];
          ++at.second;
          mf.schema_path = schema_path;
          mf.ordinal = at.first > 1 ? at.second : 0;
          mf.name = required(f, "name");
          std::string usage = text_or(f, "usageType", "active");
          if (usage == "active") mf.usage = FieldUsage::Active;
          else if (usage == "target" || usage == "predicted") mf.usage = FieldUsage::Target;
          else if (usage == "supplementary") mf.usage = FieldUsage::Supplementary;
          else if (usage == "group") mf.usage = FieldUsage::Group;
          else if (usage == "order") mf.usage = FieldUsage::Order;
          else if (usage == "frequencyWeight") mf.usage = FieldUsage::FrequencyWeight;
          else if (usage == "analysisWeight") mf.usage = FieldUsage::AnalysisWeight;
          else fail(f, fmt::format("unknown usageType \"{}\"", usage));
          mf.op_type = optional_op_type(f);
          if (const char* r = attr(f, "missingValueReplacement")) mf.missing_value_replacement = r;
          mf.missing_value_treatment = text_or(f, "missingValueTreatment", "");
          mf.invalid_value_treatment = text_or(f, "invalidValueTreatment", "returnInvalid");
          if (mf.invalid_value_treatment == "asValue" || mf.invalid_value_treatment == "asIs" ||
              mf.invalid_value_treatment == "asMissing" || mf.invalid_value_treatment == "returnInvalid") {
          } else {
            fail(f, fmt::format("unknown invalidValueTreatment \"{}\"", mf.invalid_value_treatment));
          }
          if (const char* r = attr(f, "invalidValueReplacement")) mf.invalid_value_replacement = r;
          mf.outliers = text_or(f, "outliers", "asIs");
          if (mf.outliers != "asIs" && mf.outliers != "asMissingValues" && mf.outliers != "asExtremeValues")
            fail(f, fmt::format("unknown outliers treatment \"{}\"", mf.outliers));
          mf.low_value = optional_number(f, "lowValue");
          mf.high_value = optional_number(f, "highValue");
          m.mining_schema.push_back(std::move(mf));
        }
      } else if (is(c, "Output")) {
        for (xml_node f : c.children()) {
          if (!is(f, "OutputField")) continue;
          count_field(f);
          ir::OutputField of;
          of.path = path_of(f);
          of.name = required(f, "name");
          of.data_type = optional_data_type(f);
          of.op_type = optional_op_type(f);
          of.feature = text_or(f, "feature", "predictedValue");
          of.target_field = text_or(f, "targetField", "");
          of.value = text_or(f, "value", "");
          of.is_final_result = boolean_or(f, "isFinalResult", true);
          of.segment_id = text_or(f, "segmentId", "");
          if (const char* r = attr(f, "rank")) {
            auto rank = numbers::parse_integer(r);
            if (!rank || *rank < 1) fail(f, fmt::format("rank=\"{}\" is not a positive integer", r));
            of.rank = int(*rank);
          }
          of.expression = expression_child(f, false);
          m.output.push_back(std::move(of));
        }
      } else if (is(c, "Targets")) {
        for (xml_node t : c.children()) {
          if (!is(t, "Target")) continue;
          ir::Target target;
          target.path = path_of(t);
          target.field = text_or(t, "field", "");
          target.op_type = optional_op_type(t);
          target.cast_integer = text_or(t, "castInteger", "");
          target.min = optional_number(t, "min");
          target.max = optional_number(t, "max");
          target.rescale_factor = number_or(t, "rescaleFactor", 1.0);
          target.rescale_constant = number_or(t, "rescaleConstant", 0.0);
          for (xml_node v : t.children()) {
            if (!is(v, "TargetValue")) continue;
            ir::TargetValue tv;
            tv.value = text_or(v, "value", "");
            tv.display_value = text_or(v, "displayValue", "");
            tv.prior_probability = optional_number(v, "priorProbability");
            tv.default_value = optional_number(v, "defaultValue");
            target.values.push_back(std::move(tv));
          }
          m.targets.push_back(std::move(target));
        }
      } else if (is(c, "ModelVerification")) {
        auto v = std::make_unique<ir::Verification>();
        for (xml_node part : c.children()) {
          if (is(part, "VerificationFields")) {
            for (xml_node f : part.children()) {
              if (!is(f, "VerificationField")) continue;
              ir::Verification::Field field;
              field.name = required(f, "field");
              field.column = text_or(f, "column", field.name.c_str());
              field.precision = number_or(f, "precision", 1e-6);
              field.zero_threshold = number_or(f, "zeroThreshold", 1e-16);
              v->fields.push_back(std::move(field));
            }
          } else if (is(part, "InlineTable")) {
            for (xml_node row : part.children()) {
              if (!is(row, "row")) continue;
              std::vector<std::pair<std::string, std::string>> cells;
              for (xml_node cell : row.children())
                if (cell.type() == pugi::node_element) cells.emplace_back(cell.name(), cell.child_value());
              v->rows.push_back(std::move(cells));
            }
          }
        }
        m.verification = std::move(v);
      } else if (is(c, "LocalTransformations")) {
        for (xml_node d : c.children())
          if (is(d, "DerivedField")) m.local_transformations.push_back(derived_field(d));
      }
    }
    if (!schema) fail(n, fmt::format("<{}> lacks a MiningSchema", m.element));
  }

  ir::ModelPtr model(xml_node n) {
    auto m = std::make_unique<ir::Model>();
    std::string_view name = local_name(n.name());
    if (name == "RegressionModel") {
      m->kind = ir::Model::Kind::Regression;
    } else if (name == "TreeModel") {
      m->kind = ir::Model::Kind::Tree;
    } else if (name == "MiningModel") {
      m->kind = ir::Model::Kind::Mining;
    } else if (name == "GeneralRegressionModel") {
      m->kind = ir::Model::Kind::GeneralRegression;
    } else {
      unsupported(n, fmt::format("<{}> is not supported (pmmlrt scores RegressionModel, GeneralRegressionModel, "
                                 "TreeModel and MiningModel)",
                                 name));
    }
    m->function = function_name(n);
    common(n, *m);
    switch (m->kind) {
      case ir::Model::Kind::Regression: regression(n, *m); break;
      case ir::Model::Kind::Tree: tree(n, *m); break;
      case ir::Model::Kind::Mining: mining(n, *m); break;
      case ir::Model::Kind::GeneralRegression: general_regression(n, *m); break;
    }
    return m;
  }

  ir::RegressionTable regression_table(xml_node t) {
    ir::RegressionTable table;
    table.path = where(t);
    table.intercept = required_number(t, "intercept");
    if (const char* c = attr(t, "targetCategory")) table.target_category = c;
    for (xml_node p : t.children()) {
      if (is(p, "NumericPredictor")) {
        ir::NumericPredictor np;
        np.field = required(p, "name");
        np.coefficient = required_number(p, "coefficient");
        if (const char* e = attr(p, "exponent")) {
          auto v = numbers::parse_integer(e);
          if (!v) fail(p, fmt::format("exponent=\"{}\" is not an integer", e));
          np.exponent = int(*v);
        }
        table.numeric.push_back(std::move(np));
      } else if (is(p, "CategoricalPredictor")) {
        table.categorical.push_back({required(p, "name"), required(p, "value"), required_number(p, "coefficient")});
      } else if (is(p, "PredictorTerm")) {
        ir::PredictorTerm term;
        term.coefficient = required_number(p, "coefficient");
        for (xml_node f : p.children())
          if (is(f, "FieldRef")) term.fields.push_back(required(f, "field"));
          else if (f.type() == pugi::node_element && !is(f, "Extension"))
            unsupported(f, "PredictorTerm holds only FieldRef elements here");
        if (term.fields.empty()) fail(p, "PredictorTerm lacks FieldRef elements");
        table.terms.push_back(std::move(term));
      }
    }
    return table;
  }

  void regression(xml_node n, ir::Model& m) {
    m.regression = std::make_unique<ir::RegressionData>();
    m.regression->normalization = text_or(n, "normalizationMethod", "none");
    for (xml_node t : n.children())
      if (is(t, "RegressionTable")) m.regression->tables.push_back(regression_table(t));
    if (m.regression->tables.empty()) fail(n, "RegressionModel lacks a RegressionTable");
  }

  void tree(xml_node n, ir::Model& m) {
    // Built in scratch arrays that keep their capacity from tree to tree, then copied out at their exact
    // size: one allocation per array instead of a series of growths and a shrink. tree() is never re-entered
    // while it builds (a Node embeds a Regression, never a tree).
    auto& t = scratch_tree_;
    t.nodes.clear();
    t.predicates.clear();
    t.predicate_children.clear();
    t.set_values.clear();
    t.distributions.clear();
    t.embedded.clear();
    t.text.clear();
    t.missing_value_strategy = text_or(n, "missingValueStrategy", "none");
    t.missing_value_penalty = number_or(n, "missingValuePenalty", 1.0);
    t.no_true_child_strategy = text_or(n, "noTrueChildStrategy", "returnNullPrediction");
    t.split_characteristic = text_or(n, "splitCharacteristic", "multiSplit");
    static const char* const strategies[] = {"none", "lastPrediction", "nullPrediction", "defaultChild",
                                             "weightedConfidence", "aggregateNodes"};
    if (std::none_of(std::begin(strategies), std::end(strategies),
                     [&](const char* s) { return t.missing_value_strategy == s; }))
      fail(n, fmt::format("unknown missingValueStrategy \"{}\"", t.missing_value_strategy));
    if (t.no_true_child_strategy != "returnNullPrediction" && t.no_true_child_strategy != "returnLastPrediction")
      fail(n, fmt::format("unknown noTrueChildStrategy \"{}\"", t.no_true_child_strategy));
    xml_node root;
    for (xml_node c : n.children())
      if (is(c, "Node")) {
        if (root) fail(c, "TreeModel has more than one root Node");
        root = c;
      }
    if (!root) fail(n, "TreeModel lacks a Node");
    // Iterative walk: a degenerate tree can be deeper than the stack allows recursion. The nodes are
    // visited in the order of the stack; each one's children get contiguous slots when it is read.
    struct Work {
      xml_node xml;
      std::uint32_t node;
      std::size_t depth;
    };
    t.nodes.emplace_back();
    std::vector<Work> stack{{root, 0, 1}};
    inside_tree_ = true;
    while (!stack.empty()) {
      Work w = stack.back();
      stack.pop_back();
      if (w.depth > options_.max_tree_depth)
        throw LimitError(fmt::format("tree deeper than {} (limit max_tree_depth) at {}", options_.max_tree_depth,
                                     where(w.xml)));
      if (++node_count_ > options_.max_nodes)
        throw LimitError(fmt::format("more than {} tree nodes (limit max_nodes)", options_.max_nodes));
      kids_.clear();
      node(w.xml, t, w.node);
      std::size_t children = kids_.size();
      std::size_t first = t.nodes.size();
      if (first + children >= ir::Node::none) throw LimitError("a tree of more than 2^32 nodes");
      t.nodes[w.node].first_child = std::uint32_t(first);
      t.nodes[w.node].child_count = std::uint32_t(children);
      t.nodes.resize(first + children);
      for (std::size_t i = 0; i < children; ++i) stack.push_back({kids_[i], std::uint32_t(first + i), w.depth + 1});
    }
    inside_tree_ = false;
    // The tree is held until it is compiled, after the whole document is read: no growth slack.
    auto own = std::make_unique<ir::TreeData>();
    own->missing_value_strategy = std::move(t.missing_value_strategy);
    own->missing_value_penalty = t.missing_value_penalty;
    own->no_true_child_strategy = std::move(t.no_true_child_strategy);
    own->split_characteristic = std::move(t.split_characteristic);
    own->nodes = t.nodes;  // a copy into an empty vector allocates exactly its size
    own->predicates = t.predicates;
    own->predicate_children = t.predicate_children;
    own->set_values = t.set_values;
    own->distributions = t.distributions;
    own->embedded = std::move(t.embedded);
    own->text = t.text;
    m.tree = std::move(own);
  }

  /// Copies `s` into the tree's text.
  static ir::TextRef put(ir::TreeData& t, const char* s) {
    std::size_t n = std::strlen(s);
    if (t.text.size() + n >= std::size_t(std::numeric_limits<std::uint32_t>::max()))
      throw LimitError("a tree holding more than 4 GiB of text");
    ir::TextRef r{std::uint32_t(t.text.size()), std::uint32_t(n)};
    t.text.append(s, n);
    return r;
  }
  /// required(), without a copy.
  const char* required_text(xml_node n, const char* name) const { return present(n, name, attr(n, name)); }
  /// `value`, the attribute `name` of `n`, which must be there.
  const char* present(xml_node n, const char* name, const char* value) const {
    if (!value) fail(n, fmt::format("<{}> lacks the required attribute {}", local_name(n.name()), name));
    return value;
  }
  /// The attributes `names` of `n` (null where absent), as attr() finds each (the first of that name), in
  /// one pass over the element's attributes instead of one per name. The names differ in their first letter.
  template <std::size_t N>
  static std::array<const char*, N> attributes(xml_node n, const char* const (&names)[N]) {
    std::array<const char*, N> out{};
    for (auto a = n.first_attribute(); a; a = a.next_attribute()) {
      const char* name = a.name();
      for (std::size_t i = 0; i < N; ++i)
        if (name[0] == names[i][0]) {
          if (!out[i] && std::strcmp(name, names[i]) == 0) out[i] = a.value();
          break;
        }
    }
    return out;
  }

  /// predicate(), inside a tree: into the tree's flat arrays. The same checks, in the same order.
  std::uint32_t tree_predicate(ir::TreeData& t, xml_node n, std::size_t depth) {
    using Op = ir::TreePredicate::Op;
    if (depth > 256) throw LimitError(fmt::format("predicate nesting deeper than 256 at {}", where(n)));
    ir::TreePredicate p;
    std::string_view name = local_name(n.name());
    if (name == "True") {
      p.kind = ir::Predicate::Kind::True;
    } else if (name == "False") {
      p.kind = ir::Predicate::Kind::False;
    } else if (name == "SimplePredicate") {
      p.line = std::uint32_t(line_of(n));
      p.kind = ir::Predicate::Kind::Simple;
      static const char* const names[] = {"field", "operator", "value"};
      const auto [field, op, value] = attributes(n, names);
      p.field = put(t, present(n, "field", field));
      p.op = op_named(present(n, "operator", op), Op::Equal, Op::IsNotMissing);
      if (p.op == Op::None) fail(n, fmt::format("unknown SimplePredicate operator \"{}\"", op));
      if (p.op != Op::IsMissing && p.op != Op::IsNotMissing) p.value = put(t, present(n, "value", value));
    } else if (name == "SimpleSetPredicate") {
      p.line = std::uint32_t(line_of(n));
      p.kind = ir::Predicate::Kind::SimpleSet;
      p.field = put(t, required_text(n, "field"));
      const char* op = required_text(n, "booleanOperator");
      if (std::strcmp(op, "isIn") == 0) p.op = Op::IsIn;
      else if (std::strcmp(op, "isNotIn") == 0) p.op = Op::IsNotIn;
      else fail(n, fmt::format("unknown booleanOperator \"{}\"", op));
      xml_node a = n.child("Array");
      if (!a) {
        for (xml_node c : n.children())
          if (is(c, "Array")) a = c;
      }
      if (!a) fail(n, "SimpleSetPredicate lacks an Array");
      p.begin = std::uint32_t(t.set_values.size());
      for (const auto& v : array(a)) t.set_values.push_back(put(t, v.c_str()));
      p.end = std::uint32_t(t.set_values.size());
    } else if (name == "CompoundPredicate") {
      p.line = std::uint32_t(line_of(n));
      p.kind = ir::Predicate::Kind::Compound;
      const char* op = required_text(n, "booleanOperator");
      p.op = op_named(op, Op::And, Op::Surrogate);
      if (p.op == Op::None) fail(n, fmt::format("unknown booleanOperator \"{}\"", op));
      std::vector<std::uint32_t> children;
      for (xml_node c : n.children())
        if (c.type() == pugi::node_element && is_predicate_name(local_name(c.name())))
          children.push_back(tree_predicate(t, c, depth + 1));
      if (children.size() < 2) fail(n, "CompoundPredicate needs at least two predicates");
      p.begin = std::uint32_t(t.predicate_children.size());
      t.predicate_children.insert(t.predicate_children.end(), children.begin(), children.end());
      p.end = std::uint32_t(t.predicate_children.size());
    } else {
      fail(n, fmt::format("<{}> is not a predicate", name));
    }
    if (t.predicates.size() >= ir::Node::none) throw LimitError("a tree of more than 2^32 predicates");
    t.predicates.push_back(p);
    return std::uint32_t(t.predicates.size() - 1);
  }

  void node(xml_node n, ir::TreeData& t, std::uint32_t index) {
    // `t.nodes` does not grow here: the reference stays valid.
    ir::Node& node = t.nodes[index];
    static const char* const names[] = {"id", "score", "recordCount", "defaultChild"};
    const auto [id, score, record_count, default_child] = attributes(n, names);
    if (id) node.id = put(t, id);
    if (score) {
      node.score = put(t, score);
      node.has_score = true;
    }
    if (record_count) node.record_count = finite(n, "recordCount", record_count);
    if (default_child) node.default_child = put(t, default_child);
    if (node.default_child.size) node.line = std::uint32_t(line_of(n));
    // The schema's order: Extension*, predicate, Partition?, ScoreDistribution*, Node*, embedded model?
    // A document out of that order was not written by an exporter we know; refuse it rather than guess.
    enum Stage { Start, Predicate, Distributions, Children, Embedded } stage = Start;
    auto advance = [&](xml_node c, Stage to, const char* what) {
      if (stage == Start && to != Predicate) fail(c, fmt::format("<{}> before the Node's predicate", what));
      if (to < stage || (to == stage && (to == Predicate || to == Embedded)))
        fail(c, fmt::format("<{}> out of order in <Node> (expected: predicate, ScoreDistribution*, Node*, embedded model)",
                            what));
      stage = to;
    };
    node.dist_begin = node.dist_end = std::uint32_t(t.distributions.size());
    for (xml_node c : n.children()) {
      if (c.type() != pugi::node_element) continue;
      std::string_view name = local_name(c.name());
      if (name == "Extension" || name == "Partition") continue;
      if (is_predicate_name(name)) {
        advance(c, Predicate, "predicate");
        node.predicate = tree_predicate(t, c, 0);
      } else if (name == "Node") {
        advance(c, Children, "Node");
        kids_.push_back(c);
      } else if (name == "ScoreDistribution") {
        advance(c, Distributions, "ScoreDistribution");
        ir::TreeDistribution d;
        d.value = put(t, required_text(c, "value"));
        d.record_count = number_or(c, "recordCount", 0.0);
        d.probability = optional_number(c, "probability");
        d.confidence = optional_number(c, "confidence");
        if (d.probability && (*d.probability < 0 || *d.probability > 1))
          fail(c, fmt::format("ScoreDistribution probability {} is outside [0, 1]", *d.probability));
        t.distributions.push_back(d);
        node.dist_end = std::uint32_t(t.distributions.size());
      } else if (name == "Regression") {
        advance(c, Embedded, "Regression");
        auto m = std::make_unique<ir::Model>();
        m->kind = ir::Model::Kind::Regression;
        m->element = "Regression";
        m->path = where(c);
        m->function = MiningFunction::Regression;
        regression(c, *m);
        node.embedded = std::uint32_t(t.embedded.size());
        t.embedded.push_back(std::move(m));
      } else if (name == "DecisionTree") {
        unsupported(c, "an embedded DecisionTree is not supported");
      } else {
        fail(c, fmt::format("<{}> is not allowed in <Node> (expected a predicate, ScoreDistribution, Node or an "
                            "embedded Regression)",
                            name));
      }
    }
    if (node.predicate == ir::Node::none) fail(n, "Node lacks a predicate");
  }

  void mining(xml_node n, ir::Model& m) {
    m.mining = std::make_unique<ir::MiningData>();
    xml_node seg;
    for (xml_node c : n.children()) {
      if (is(c, "Segmentation")) seg = c;
      else if (is(c, "Regression") || is(c, "DecisionTree"))
        unsupported(c, fmt::format("a MiningModel with an embedded <{}> (PMML 3.x) is not supported", c.name()));
    }
    if (!seg) fail(n, "MiningModel lacks a Segmentation");
    auto& d = *m.mining;
    d.method = required(seg, "multipleModelMethod");
    static const char* const methods[] = {"majorityVote", "weightedMajorityVote", "average", "weightedAverage",
                                          "median",       "weightedMedian",       "max",     "sum",
                                          "weightedSum",  "selectFirst",          "selectAll", "modelChain"};
    if (std::none_of(std::begin(methods), std::end(methods), [&](const char* s) { return d.method == s; }))
      unsupported(seg, fmt::format("multipleModelMethod \"{}\" is not supported", d.method));
    d.missing_prediction_treatment = text_or(seg, "missingPredictionTreatment", "continue");
    d.missing_threshold = number_or(seg, "missingThreshold", 1.0);
    for (xml_node s = seg.first_child(), next; s; s = next) {
      next = s.next_sibling();
      if (!is(s, "Segment")) continue;
      if (++segment_count_ > options_.max_segments)
        throw LimitError(fmt::format("more than {} segments (limit max_segments)", options_.max_segments));
      ir::Segment segment;
      if (pool_) {
        const std::size_t span = span_of(s);
        if (span != std::string::npos) {
          segment = take_span(span);
          if (segment.id.empty()) segment.id = std::to_string(d.segments.size() + 1);
          d.segments.push_back(std::move(segment));
          continue;  // the skeleton's empty element stays, as after leave_segment() below
        }
      }
      const xml_node skeleton_segment = s;
      s = enter_segment(s, parse_options_);
      read_segment(s, segment);
      if (segment.id.empty()) segment.id = std::to_string(d.segments.size() + 1);
      d.segments.push_back(std::move(segment));
      if (s != skeleton_segment) {
        leave_segment();  // its DOM is freed whole
        continue;
      }
      // Nothing reads this Segment's elements again: free them now, so that the DOM shrinks as the IR grows.
      // pugixml destroys a subtree recursively, so only where the nesting is shallow.
      if (xml_depth_ <= 1000) {
        // The Segment's text runs from its tag to the next node of the Segmentation (only whitespace,
        // comments and this subtree lie between); with no next node its end is not known, so it is kept.
        std::ptrdiff_t begin = s.offset_debug(), end = next ? next.offset_debug() : -1;
        seg.remove_child(s);
        if (begin >= 0 && end > begin) discard_text(std::size_t(begin), std::size_t(end));
      }
    }
    if (d.segments.empty()) fail(seg, "Segmentation has no Segment");
  }

  /// What a Segment holds, but a default id (empty here): that depends on its place among its siblings.
  void read_segment(xml_node s, ir::Segment& segment) {
    segment.path = path_of(s);
    segment.id = text_or(s, "id", "");
    segment.weight = number_or(s, "weight", 1.0);
    segment.predicate = predicate_child(s);
    for (xml_node c : s.children())
      if (is_model(c)) {
        segment.model = model(c);
        break;
      }
    if (!segment.model) fail(s, "Segment lacks a model");
  }

  /// The Segment spans_[index] as pool_ read it; its counts are added here, in document order. An error
  /// there is thrown here, where a one-thread split load meets it (and then the load runs again, whole).
  ir::Segment take_span(std::size_t index);

  /// With LoadOptions::threads > 1, starts pool_ reading spans_ (the skeleton, rooted at `root`, is parsed).
  void start_pool(xml_node root);

  void general_regression(xml_node n, ir::Model& m) {
    m.general_regression = std::make_unique<ir::GeneralRegressionData>();
    auto& g = *m.general_regression;
    g.model_type = required(n, "modelType");
    g.link_function = text_or(n, "linkFunction", "");
    g.link_parameter = optional_number(n, "linkParameter");
    g.dist_parameter = optional_number(n, "distParameter");
    g.cumulative_link = text_or(n, "cumulativeLink", "");
    g.offset_value = optional_number(n, "offsetValue");
    g.offset_variable = text_or(n, "offsetVariable", "");
    g.trials_value = optional_number(n, "trialsValue");
    g.trials_variable = text_or(n, "trialsVariable", "");
    g.target_reference_category = text_or(n, "targetReferenceCategory", "");
    g.distribution = text_or(n, "distribution", "");
    g.start_time_variable = text_or(n, "startTimeVariable", "");
    g.end_time_variable = text_or(n, "endTimeVariable", "");
    g.status_variable = text_or(n, "statusVariable", "");
    g.baseline_strata_variable = text_or(n, "baselineStrataVariable", "");
    auto predictors = [&](xml_node list, std::vector<ir::GeneralRegressionData::Predictor>& out) {
      for (xml_node p : list.children()) {
        if (!is(p, "Predictor")) continue;
        ir::GeneralRegressionData::Predictor pr;
        pr.name = required(p, "name");
        pr.contrast_matrix_type = text_or(p, "contrastMatrixType", "");
        for (xml_node c : p.children()) {
          if (is(c, "Categories")) {
            for (xml_node cat : c.children())
              if (is(cat, "Category")) pr.matrix_categories.push_back(required(cat, "value"));
          } else if (is(c, "Matrix")) {
            for (xml_node a : c.children()) {
              if (!is(a, "Array")) continue;
              std::vector<double> row;
              for (auto& token : array(a)) row.push_back(finite(a, "Array", token.c_str()));
              pr.contrast_matrix.push_back(std::move(row));
            }
            if (c.child("MatCell")) unsupported(c, "sparse contrast matrices (MatCell) are not supported");
          }
        }
        out.push_back(std::move(pr));
      }
    };
    for (xml_node c : n.children()) {
      if (is(c, "ParameterList")) {
        for (xml_node p : c.children())
          if (is(p, "Parameter")) {
            ir::GeneralRegressionData::Parameter par;
            par.name = required(p, "name");
            par.label = text_or(p, "label", "");
            if (const char* r = attr(p, "referencePoint")) par.reference_point = r;
            g.parameters.push_back(std::move(par));
          }
      } else if (is(c, "FactorList")) {
        predictors(c, g.factors);
      } else if (is(c, "CovariateList")) {
        predictors(c, g.covariates);
      } else if (is(c, "PPMatrix")) {
        for (xml_node p : c.children())
          if (is(p, "PPCell"))
            g.pp_cells.push_back({required(p, "value"), required(p, "predictorName"), required(p, "parameterName"),
                                  text_or(p, "targetCategory", "")});
      } else if (is(c, "ParamMatrix")) {
        for (xml_node p : c.children())
          if (is(p, "PCell"))
            g.p_cells.push_back({text_or(p, "targetCategory", ""), required(p, "parameterName"),
                                 required_number(p, "beta"), number_or(p, "df", 0.0)});
      } else if (is(c, "BaseCumHazardTables")) {
        g.max_time = optional_number(c, "maxTime");
        for (xml_node s : c.children()) {
          if (is(s, "BaselineStratum")) {
            ir::GeneralRegressionData::BaselineStratum st;
            st.value = required(s, "value");
            st.max_time = required_number(s, "maxTime");
            for (xml_node b : s.children())
              if (is(b, "BaselineCell")) st.cells.push_back({required_number(b, "time"), required_number(b, "cumHazard")});
            g.strata.push_back(std::move(st));
          } else if (is(s, "BaselineCell")) {
            g.baseline_cells.push_back({required_number(s, "time"), required_number(s, "cumHazard")});
          }
        }
      }
    }
  }

  /// Every '&' outside comments and CDATA must start an entity or character reference. Returns the line of
  /// the first one that does not, or 0. Runs before parsing, which may rewrite the bytes in place.
  std::size_t bare_ampersand_line() const {
    if (bytes_.empty()) return 0;
    const char* b = bytes_.data();
    const char* e = b + bytes_.size();
    const char* p = b;
    const char* amp = static_cast<const char*>(std::memchr(p, '&', std::size_t(e - p)));
    while (amp) {
      // Markup between here and the '&' may open a comment or CDATA section that contains it.
      const char* lt = static_cast<const char*>(std::memchr(p, '<', std::size_t(amp - p)));
      if (lt) {
        std::string_view rest(lt, std::size_t(e - lt));
        std::string_view close_mark;
        if (rest.rfind("<!--", 0) == 0) close_mark = "-->";
        else if (rest.rfind("<![CDATA[", 0) == 0) close_mark = "]]>";
        p = lt + 1;
        if (!close_mark.empty()) {
          auto close = rest.find(close_mark, 4);
          p = close == std::string_view::npos ? e : lt + close + close_mark.size();
          if (p > amp) amp = static_cast<const char*>(std::memchr(p, '&', std::size_t(e - p)));
        }
        continue;
      }
      const char* q = amp + 1;
      bool ok = false;
      if (q < e && *q == '#') {
        ++q;
        bool hex = q < e && *q == 'x';
        if (hex) ++q;
        const char* d = q;
        while (q < e && (std::isdigit(static_cast<unsigned char>(*q)) || (hex && std::isxdigit(static_cast<unsigned char>(*q))))) ++q;
        ok = q > d && q < e && *q == ';';
      } else {
        const char* d = q;
        while (q < e && (std::isalnum(static_cast<unsigned char>(*q)) || *q == '_' || *q == '-' || *q == '.')) ++q;
        ok = q > d && q < e && *q == ';';
      }
      if (!ok) return line_at(std::size_t(amp - b));
      p = q;
      amp = static_cast<const char*>(std::memchr(p, '&', std::size_t(e - p)));
    }
    return 0;
  }

  void check_depth(xml_node root) {
    // Iterative, so that the check itself cannot overflow the stack.
    std::vector<std::pair<xml_node, std::size_t>> stack{{root, 1}};
    while (!stack.empty()) {
      auto [n, depth] = stack.back();
      stack.pop_back();
      if (depth > options_.max_element_depth)
        throw LimitError(fmt::format("XML nesting deeper than {} (limit max_element_depth)", options_.max_element_depth));
      xml_depth_ = std::max(xml_depth_, depth);
      for (xml_node c = n.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_element) stack.emplace_back(c, depth + 1);
    }
  }
};

/// Reads the leaf Segments of a split load ahead of the Loader that reaches them: on threads of its own, and
/// on the Loader's thread while it waits for one. The Segments are handed out in document order and the
/// Loader takes each one's result when it reaches it, so what it builds does not depend on who read what.
class SegmentPool {
 public:
  /// `anchor_paths`: per span, the path of its Segment. `threads`: how many read, the caller's included.
  SegmentPool(const Loader& parent, const std::vector<SegmentSpan>& spans, std::vector<std::string> anchor_paths,
              std::size_t threads)
      : parent_(parent), spans_(spans), anchor_paths_(std::move(anchor_paths)), results_(spans.size()),
        done_(spans.size(), 0) {
    try {
      for (std::size_t t = 1; t < threads; ++t) workers_.emplace_back([this] { work(); });
    } catch (const std::system_error&) {
      // Fewer threads than asked for: the caller's thread reads what the others do not.
    }
  }
  ~SegmentPool() {
    stop_ = true;
    for (auto& t : workers_) t.join();
  }
  SegmentPool(const SegmentPool&) = delete;
  SegmentPool& operator=(const SegmentPool&) = delete;

  /// The result of spans[index], read by whichever thread claimed it (this one if none has yet).
  Loader::SpanResult take(std::size_t index) {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!done_[index] && next_.load() >= spans_.size()) cv_.wait(lock, [&] { return done_[index] != 0; });
        if (done_[index]) return std::move(results_[index]);
      }
      if (!own_reader_) own_reader_ = std::make_unique<Loader>(parent_, Loader::SpanReaderTag{});
      read_next(*own_reader_);
    }
  }

 private:
  void work() {
    // A reader of its own per thread: everything it holds while reading a Segment is private to it.
    std::unique_ptr<Loader> reader;
    try {
      reader = std::make_unique<Loader>(parent_, Loader::SpanReaderTag{});
    } catch (...) {
      return;  // out of memory: the caller's thread reads instead
    }
    while (!stop_ && read_next(*reader)) {
    }
  }
  /// Claims the next unclaimed span and reads it; false when none is left.
  bool read_next(Loader& reader) {
    const std::size_t i = next_.fetch_add(1);
    if (i >= spans_.size()) return false;
    Loader::SpanResult r = reader.read_span(spans_[i], anchor_paths_[i]);
    std::lock_guard<std::mutex> lock(mutex_);
    results_[i] = std::move(r);
    done_[i] = 1;
    cv_.notify_all();
    return true;
  }

  const Loader& parent_;
  const std::vector<SegmentSpan>& spans_;
  std::vector<std::string> anchor_paths_;
  std::vector<Loader::SpanResult> results_;  // guarded by mutex_, with done_
  std::vector<char> done_;
  std::atomic<std::size_t> next_{0};         // the first span no thread has claimed
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::unique_ptr<Loader> own_reader_;       // the caller's thread's reader
  std::vector<std::thread> workers_;
};

Loader::Loader(std::string_view bytes, char* writable, const LoadOptions& options, bool split)
    : bytes_(bytes), writable_(writable), options_(options), try_split_(split) {}

Loader::Loader(const Loader& parent, SpanReaderTag)
    : bytes_(parent.bytes_), writable_(nullptr), options_(parent.options_), lines_(parent.lines_),
      xml_depth_(parent.xml_depth_), try_split_(false), split_(true) {}

Loader::~Loader() { pool_.reset(); }

Loader::SpanResult Loader::read_span(const SegmentSpan& span, const std::string& anchor_path) {
  SpanResult r;
  node_count_ = field_count_ = category_count_ = 0;
  try {
    read_segment(parse_span(span, xml_node(), anchor_path, parse_options_), r.segment);
  } catch (...) {
    r.error = std::current_exception();
  }
  r.nodes = node_count_;
  r.fields = field_count_;
  r.categories = category_count_;
  leave_segment();
  return r;
}

ir::Segment Loader::take_span(std::size_t index) {
  ++spans_read_;
  SpanResult r = pool_->take(index);
  if (r.error) std::rethrow_exception(r.error);
  node_count_ += r.nodes;
  field_count_ += r.fields;
  category_count_ += r.categories;
  if (node_count_ > options_.max_nodes)
    throw LimitError(fmt::format("more than {} tree nodes (limit max_nodes)", options_.max_nodes));
  if (field_count_ > options_.max_fields)
    throw LimitError(fmt::format("more than {} fields (limit max_fields)", options_.max_fields));
  if (category_count_ > options_.max_categories)
    throw LimitError(fmt::format("more than {} Value elements (limit max_categories)", options_.max_categories));
  return std::move(r.segment);
}

/// How many threads LoadOptions::threads asks for.
std::size_t load_threads(const LoadOptions& options) {
  if (options.threads != 0) return options.threads;
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

void Loader::start_pool(xml_node root) {
  const std::size_t threads = std::min(load_threads(options_), spans_.size());
  if (!split_ || threads < 2) return;
  // The path of every span's Segment, found here on the skeleton, which the pool's threads never touch.
  std::vector<std::string> anchor_paths(spans_.size());
  std::vector<xml_node> stack{root};
  while (!stack.empty()) {
    xml_node n = stack.back();
    stack.pop_back();
    for (xml_node c = n.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      const std::size_t span = is(c, "Segment") ? span_of(c) : std::string::npos;
      if (span != std::string::npos) anchor_paths[span] = path_of(c);
      else stack.push_back(c);
    }
  }
  pool_ = std::make_unique<SegmentPool>(*this, spans_, std::move(anchor_paths), threads);
}

ir::Document Loader::run() {
  if (bytes_.size() > options_.max_document_bytes)
    throw LimitError(fmt::format("document of {} bytes exceeds the limit of {} bytes (max_document_bytes)",
                                 bytes_.size(), options_.max_document_bytes));
  // What needs the bytes as written, before an in-place parse changes them. With threads to spare, the
  // line table is built beside the scan for Segments, both passes over the whole document.
  std::size_t scanned_depth = 0;
  auto find_spans = [&] {
    split_ = try_split_ && certainly_utf8(bytes_) &&
             find_leaf_segments(bytes_, options_.max_element_depth, spans_, scanned_depth) && !spans_.empty();
  };
  std::thread lines;
  std::exception_ptr line_table_error;
  if (try_split_ && load_threads(options_) > 1) {
    try {
      lines = std::thread([&] {
        try {
          build_line_table();
        } catch (...) {
          line_table_error = std::current_exception();
        }
      });
    } catch (const std::system_error&) {
      // No thread to be had: built below.
    }
  }
  if (!lines.joinable()) build_line_table();
  try {
    find_spans();
  } catch (...) {
    if (lines.joinable()) lines.join();
    throw;
  }
  if (lines.joinable()) lines.join();
  if (line_table_error) std::rethrow_exception(line_table_error);
  std::size_t bare_ampersand = bare_ampersand_line();
  pugi::xml_document xml;
  const unsigned parse_options = parse_options_;
  std::unique_ptr<char[]> copy;
  pugi::xml_parse_result parsed;
  if (split_) {
    build_skeleton();
    parsed = xml.load_buffer_inplace(skeleton_.data(), skeleton_.size(), parse_options, pugi::encoding_utf8);
    if (!parsed) throw Unsplittable{};
  } else if (certainly_utf8(bytes_)) {
    // pugixml's own copy is the bytes plus a NUL terminator, parsed as UTF-8 without conversion; parsing such
    // a buffer in place gives the same tree, errors and offsets without the copy.
    char* buffer = writable_;
    if (!buffer) {
      copy.reset(new char[bytes_.size() + 1]);
      std::memcpy(copy.get(), bytes_.data(), bytes_.size());
      copy[bytes_.size()] = '\0';
      buffer = copy.get();
    }
    parsed = xml.load_buffer_inplace(buffer, bytes_.size() + 1, parse_options, pugi::encoding_utf8);
    in_place_ = buffer;
  } else {
    // Another encoding (or too short to tell): pugixml detects and converts it into a buffer of its own.
    parsed = xml.load_buffer(bytes_.data(), bytes_.size(), parse_options, pugi::encoding_auto);
  }
  if (!parsed) {
    std::size_t offset = parsed.offset < 0 ? 0 : std::size_t(parsed.offset);
    std::size_t line = line_at(std::min(offset, bytes_.size()));
    throw ParseError(fmt::format("malformed XML: {} (line {}, byte offset {})", parsed.description(), line, offset), "",
                     line);
  }
  // pugixml is lenient where XML is not: a second root element, text outside the root, a bare '&'.
  std::size_t roots = 0;
  for (xml_node c = xml.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) ++roots;
    if ((c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) && !numbers::trim(c.value()).empty())
      throw ParseError("malformed XML: text outside the root element", "/", line_of(c));
  }
  if (roots > 1) throw ParseError("malformed XML: more than one root element", "/", line_of(xml.last_child()));
  if (bare_ampersand)
    throw ParseError(fmt::format("malformed XML: a bare '&' that starts no entity reference (line {})", bare_ampersand),
                     "", bare_ampersand);
  xml_node root = xml.document_element();
  if (!root || local_name(root.name()) != "PMML")
    throw ParseError(fmt::format("the document element is <{}>, not <PMML>", root ? root.name() : ""), "/", 1);
  check_depth(root);
  xml_depth_ = std::max(xml_depth_, scanned_depth);
  std::string ns;
  {
    std::string_view name(root.name());
    auto colon = name.find(':');
    std::string attr_name = colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(name.substr(0, colon));
    if (auto a = root.attribute(attr_name.c_str())) ns = a.value();
  }
  if (!ns.empty() && ns.rfind("http://www.dmg.org/PMML-", 0) != 0)
    fail(root, fmt::format("namespace \"{}\" is not a PMML namespace (http://www.dmg.org/PMML-X_Y)", ns));
  start_pool(root);

  ir::Document doc;
  doc.version = text_or(root, "version", "");
  if (doc.version.empty()) fail(root, "<PMML> lacks the required attribute version");
  static const char* const versions[] = {"3.0", "3.1", "3.2", "4.0", "4.1", "4.2", "4.3", "4.4"};
  if (std::none_of(std::begin(versions), std::end(versions), [&](const char* v) { return doc.version == v; }))
    unsupported(root, fmt::format("PMML version \"{}\" is not supported (3.0 to 4.4)", doc.version));

  bool dictionary = false;
  for (xml_node c : root.children()) {
    if (is(c, "DataDictionary")) {
      dictionary = true;
      for (xml_node f : c.children())
        if (is(f, "DataField")) doc.data_dictionary.push_back(data_field(f));
    } else if (is(c, "TransformationDictionary")) {
      for (xml_node f : c.children()) {
        if (is(f, "DerivedField")) doc.transformations.push_back(derived_field(f));
        else if (is(f, "DefineFunction")) doc.functions.push_back(define_function(f));
      }
    } else if (is_model(c) && !doc.model) {
      doc.model = model(c);
    }
  }
  if (!dictionary) fail(root, "<PMML> lacks a DataDictionary");
  if (!doc.model) fail(root, "the document holds no model");
  // A Segment that was never read (in a second model, say) was never parsed either: what a whole parse
  // says of it is not known.
  if (split_ && spans_read_ != spans_.size()) throw Unsplittable{};
  pool_.reset();
  return doc;
}

/// Loads split where it can (see Loader::split()), whole where it cannot or where the split load fails.
ir::Document load(std::string_view bytes, char* writable, const LoadOptions& options) {
  {
    // Scoped: its threads, if any, are joined before the document is parsed again.
    Loader split(bytes, writable, options, true);
    try {
      return split.run();
    } catch (const Loader::Unsplittable&) {
    } catch (const Error&) {
      if (!split.split()) throw;
    }
  }
  return Loader(bytes, writable, options, false).run();
}

}  // namespace

ir::Document load_document(std::string_view bytes, const LoadOptions& options) { return load(bytes, nullptr, options); }

ir::Document load_document_in_place(char* bytes, std::size_t size, const LoadOptions& options) {
  return load(std::string_view(bytes, size), bytes, options);
}

std::size_t split_segments(std::string_view bytes, const LoadOptions& options) {
  std::vector<SegmentSpan> spans;
  std::size_t depth = 0;
  if (!certainly_utf8(bytes) || !find_leaf_segments(bytes, options.max_element_depth, spans, depth)) return 0;
  return spans.size();
}

ir::Document load_document_whole(std::string_view bytes, const LoadOptions& options) {
  return Loader(bytes, nullptr, options, false).run();
}

}  // namespace pmmlrt::pmml
