// A small XML reader for the plot tests: parses a document into an element tree and throws
// std::runtime_error (with the byte offset) for anything that is not well-formed XML 1.0 as an
// SVG writer produces it: an optional declaration, comments, elements with quoted attributes
// (no duplicates), self-closing tags, character data with the predefined and numeric entity
// references, one root element, matching end tags, no raw '<' or '&' in text or attributes.
// No DTDs, CDATA sections or processing instructions besides the declaration (the plots write
// none). The tests count marks by walking the tree (find_groups / count_children).
#ifndef SPIKELAB_TESTS_SUPPORT_XML_CHECK_HPP
#define SPIKELAB_TESTS_SUPPORT_XML_CHECK_HPP

#include <cctype>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace spikelab::test::xml {

struct Element {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::vector<Element> children;
  std::string text;  ///< character data directly inside (entities decoded)
  std::string attr(const std::string& k) const {
    auto it = attributes.find(k);
    return it == attributes.end() ? std::string() : it->second;
  }
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Element document() {
    skip_space();
    if (starts("<?xml")) {
      const auto e = s_.find("?>", p_);
      if (e == std::string_view::npos) fail("unterminated XML declaration");
      p_ = e + 2;
    }
    skip_misc();
    if (!starts("<")) fail("no root element");
    Element root = element();
    skip_misc();
    if (p_ != s_.size()) fail("content after the root element");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("XML error at byte " + std::to_string(p_) + ": " + what);
  }
  bool starts(std::string_view t) const { return s_.substr(p_, t.size()) == t; }
  void skip_space() {
    while (p_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[p_]))) ++p_;
  }
  void skip_misc() {
    for (;;) {
      skip_space();
      if (starts("<!--")) {
        const auto e = s_.find("-->", p_ + 4);
        if (e == std::string_view::npos) fail("unterminated comment");
        p_ = e + 3;
      } else {
        return;
      }
    }
  }
  static bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
  static bool name_char(char c) {
    return name_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  }
  std::string name() {
    if (p_ >= s_.size() || !name_start(s_[p_])) fail("expected a name");
    const std::size_t b = p_;
    while (p_ < s_.size() && name_char(s_[p_])) ++p_;
    return std::string(s_.substr(b, p_ - b));
  }
  // decodes text up to `stop` (not consumed), refusing raw '<' and bare '&'
  std::string chars(char stop) {
    std::string r;
    while (p_ < s_.size() && s_[p_] != stop) {
      const char c = s_[p_];
      if (c == '<') fail("raw '<' in character data or attribute");
      if (c == '&') {
        const auto e = s_.find(';', p_);
        if (e == std::string_view::npos || e - p_ > 10) fail("bare '&' (not an entity reference)");
        const std::string_view ent = s_.substr(p_ + 1, e - p_ - 1);
        if (ent == "amp") r += '&';
        else if (ent == "lt") r += '<';
        else if (ent == "gt") r += '>';
        else if (ent == "quot") r += '"';
        else if (ent == "apos") r += '\'';
        else if (ent.size() > 1 && ent[0] == '#') r += '?';  // numeric reference: accepted, not decoded
        else fail("unknown entity &" + std::string(ent) + ";");
        p_ = e + 1;
      } else {
        r += c;
        ++p_;
      }
    }
    return r;
  }
  Element element() {
    ++p_;  // '<'
    Element el;
    el.name = name();
    for (;;) {
      const std::size_t before = p_;
      skip_space();
      if (starts("/>")) {
        p_ += 2;
        return el;
      }
      if (starts(">")) {
        ++p_;
        break;
      }
      if (p_ == before) fail("expected whitespace, '>' or '/>' in <" + el.name + ">");
      const std::string k = name();
      skip_space();
      if (!starts("=")) fail("attribute " + k + " without a value");
      ++p_;
      skip_space();
      if (p_ >= s_.size() || (s_[p_] != '"' && s_[p_] != '\'')) fail("unquoted value of attribute " + k);
      const char q = s_[p_++];
      std::string v = chars(q);
      if (p_ >= s_.size()) fail("unterminated value of attribute " + k);
      ++p_;
      if (!el.attributes.emplace(k, std::move(v)).second) fail("duplicate attribute " + k + " in <" + el.name + ">");
    }
    for (;;) {
      if (p_ >= s_.size()) fail("<" + el.name + "> is not closed");
      if (starts("</")) {
        p_ += 2;
        const std::string n = name();
        if (n != el.name) fail("</" + n + "> closes <" + el.name + ">");
        skip_space();
        if (!starts(">")) fail("malformed end tag </" + n);
        ++p_;
        return el;
      }
      if (starts("<!--")) {
        skip_misc();
        continue;
      }
      if (starts("<")) {
        el.children.push_back(element());
        continue;
      }
      el.text += chars('<');
    }
  }

  std::string_view s_;
  std::size_t p_ = 0;
};

/// Parses `text`; throws std::runtime_error naming the byte offset when it is not well-formed.
inline Element parse(std::string_view text) { return Parser(text).document(); }

/// Every element (depth first) named `name` whose attribute `key` equals `value`.
inline void find_all(const Element& e, const std::string& name, const std::string& key, const std::string& value,
                     std::vector<const Element*>& out) {
  if (e.name == name && e.attr(key) == value) out.push_back(&e);
  for (const auto& c : e.children) find_all(c, name, key, value, out);
}
/// The `<g class="cls">` groups of a document.
inline std::vector<const Element*> groups(const Element& root, const std::string& cls) {
  std::vector<const Element*> out;
  find_all(root, "g", "class", cls, out);
  return out;
}
/// Children named `name` of `e`.
inline std::size_t count_children(const Element& e, const std::string& name) {
  std::size_t n = 0;
  for (const auto& c : e.children) n += c.name == name;
  return n;
}
/// Children named `name` of every `<g class="cls">` of the document.
inline std::size_t count_marks(const Element& root, const std::string& cls, const std::string& name) {
  std::size_t n = 0;
  for (const Element* g : groups(root, cls)) n += count_children(*g, name);
  return n;
}

}  // namespace spikelab::test::xml

#endif
