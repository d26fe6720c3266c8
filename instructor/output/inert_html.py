"""An HTML page made inert: no script, no event handler, no `javascript:` URL, whatever it held.

A feedback page is rendered by nbconvert from a notebook a student wrote: their markdown cells
pass raw HTML through (`<img src=x onerror=...>`, which nbconvert's own `sanitize_html` option
leaves in place), and their outputs can be `text/html` or `application/javascript`
(`display(HTML("<script>..."))`). Opened in a browser, any of these runs the student's script on
the page, with the page's origin (`file://` on the instructor's disk, for one).

`inert_page` rebuilds the page from a parse of it (Python's `html.parser`), writing only what it
allows: tags from an allow-list (the markup notebooks and nbconvert's template use, and SVG's
shapes), attributes with plain names that are not event handlers, URLs with a safe scheme
(http, https, mailto, a relative one; `data:image/...` for images only), text escaped, every
attribute value quoted and escaped. Scripts are dropped with their content; so are comments,
processing instructions and CDATA. Because every tag, attribute and text run is written anew,
what a browser parses from the result is what was allowed here, not what the parser of the
input happened to understand. A Content-Security-Policy that forbids scripts is added on top,
as a second wall. Formulas then show as TeX (the page's MathJax loader is a script too).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_SVG = {
    "svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text",
    "tspan", "textpath", "defs", "clippath", "lineargradient", "radialgradient", "stop", "mask",
    "pattern", "symbol", "use", "marker", "desc", "image",
}  # fmt: skip
ALLOWED_TAGS = frozenset(
    {
        "html", "head", "body", "title", "meta", "style",
        "div", "span", "p", "a", "img", "br", "hr", "pre", "code", "kbd", "samp", "var", "tt",
        "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
        "em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "big", "mark",
        "abbr", "cite", "q", "blockquote", "figure", "figcaption", "details", "summary",
        "section", "article", "header", "footer", "nav", "main", "aside", "center", "font",
        "label", "wbr",
        *_SVG,
    }
)  # fmt: skip
# Dropped with everything inside them (the parser reads their content as raw text).
DROPPED_WITH_CONTENT = frozenset({"script"})
VOID_TAGS = frozenset({"meta", "img", "br", "hr", "col", "wbr"})
# Attributes that hold a URL (by their name without a namespace prefix: xlink:href is href).
URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "action", "formaction", "background", "poster", "cite", "longdesc",
        "data", "codebase", "lowsrc", "dynsrc", "ping", "manifest", "usemap", "profile",
        "archive", "classid",
    }
)  # fmt: skip
DROPPED_ATTRIBUTES = frozenset({"srcdoc", "srcset", "http-equiv", "formaction", "action"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "form-action 'none'; base-uri 'none'"
)
POLICY_TAG = (
    '<meta http-equiv="Content-Security-Policy" '
    f'content="{html.escape(CONTENT_SECURITY_POLICY, quote=True)}">'
)
_NAME = re.compile(r"[a-z_][a-z0-9_.:-]*")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]+")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
# CSS that could run code (old browsers: expression(), url(javascript:), -moz-binding,
# behavior). A selector such as a[href^="javascript:"] in the template's own CSS is harmless.
_BAD_CSS = re.compile(
    r"expression\s*\(|url\s*\(\s*['\"]?\s*(?:javascript|vbscript)\s*:|-moz-binding"
    r"|behaviou?r\s*:",
    re.IGNORECASE,
)


def safe_url(value: str, tag: str, attribute: str) -> bool:
    """Whether URL `value` of `tag`'s `attribute` may stay: a relative URL or a safe scheme;
    `data:image/...` only as an image's source; an SVG `use` only within the page."""
    url = _INVISIBLE.sub("", html.unescape(value)).lower()
    if tag == "use":
        return url.startswith("#")
    scheme = _SCHEME.match(url)
    if scheme is None:
        return True
    if scheme.group(1) == "data":
        return attribute in ("src", "href") and tag in ("img", "image") and url[5:11] == "image/"
    return scheme.group(1) in SAFE_SCHEMES


class _Rebuilder(HTMLParser):
    """Writes back what it parses, allowed parts only (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping: str | None = None  # inside a dropped element (its name)
        self.in_style = False
        self.policy_written = False

    # tags
    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        kept = []
        for name, value in attrs:
            name = name.lower()
            if not _NAME.fullmatch(name) or name.startswith("on") or name in DROPPED_ATTRIBUTES:
                continue
            if ":" in name and name.split(":", 1)[1].startswith("on"):
                continue
            if tag == "meta" and name not in ("charset", "name", "content"):
                continue
            local = name.rsplit(":", 1)[-1]
            if value is not None and local in URL_ATTRIBUTES and not safe_url(value, tag, local):
                continue
            if value is not None and name == "style" and _BAD_CSS.search(value):
                continue
            kept.append(name if value is None else f'{name}="{html.escape(value, quote=True)}"')
        return "".join(" " + a for a in kept)

    def _policy(self) -> None:
        if not self.policy_written:
            self.policy_written = True
            self.out.append(POLICY_TAG)

    def handle_starttag(self, tag, attrs):
        if self.skipping:
            return
        if tag in DROPPED_WITH_CONTENT:
            self.skipping = tag
            return
        if tag not in ALLOWED_TAGS:
            return
        if tag == "body":
            self._policy()
        self.out.append(f"<{tag}{self._attributes(tag, attrs)}>")
        if tag == "head":
            self._policy()
        self.in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        if self.skipping or tag in DROPPED_WITH_CONTENT or tag not in ALLOWED_TAGS:
            return
        closing = "" if tag in VOID_TAGS else f"</{tag}>"
        self.out.append(f"<{tag}{self._attributes(tag, attrs)}>{closing}")

    def handle_endtag(self, tag):
        if self.skipping:
            if tag == self.skipping:
                self.skipping = None
            return
        if tag == "style":
            self.in_style = False
        if tag in ALLOWED_TAGS and tag not in VOID_TAGS:
            self.out.append(f"</{tag}>")

    # everything else
    def handle_data(self, data):
        if self.skipping:
            return
        if self.in_style:  # raw text to a browser too (markup inside SVG): no `<` may stay
            if not _BAD_CSS.search(data):
                self.out.append(data.replace("<", "\\3c "))  # CSS's own escape of `<`
            return
        self.out.append(html.escape(data, quote=False))

    def handle_decl(self, decl):
        if decl.lower().startswith("doctype") and not self.out:
            self.out.append("<!DOCTYPE html>")

    def handle_comment(self, data):  # dropped, as are processing instructions and CDATA
        pass

    def handle_pi(self, data):
        pass

    def unknown_decl(self, data):
        pass


def inert_page(page: str) -> str:
    """`page` (an HTML document or fragment) with nothing that runs: see the module docstring."""
    rebuilder = _Rebuilder()
    rebuilder.feed(page)
    rebuilder.close()
    if not rebuilder.policy_written:  # a fragment: the policy goes first
        rebuilder.out.insert(1 if rebuilder.out[:1] == ["<!DOCTYPE html>"] else 0, POLICY_TAG)
    return "".join(rebuilder.out)


# Attributes a cell's markup loses outside an SVG drawing (and on the <svg> element itself): with
# them a student's element could be placed over the page (an inline style's position, margins or
# transform; a class of the page's own stylesheet, such as Bootstrap's fixed navbar), pass for
# the page's own (its final-score box) or take over its anchors (an id).
PAGE_LEVEL_ATTRIBUTES = frozenset({"style", "class", "id", "transform", "overflow"})


class _Fragment(_Rebuilder):
    """One cell's markup, kept inside that cell: style elements dropped, and style, class and
    id attributes outside SVG drawings (a student's CSS could hide the grader's results and draw
    a fake score over the page), and every element left open at the end closed, so that an
    unclosed tag cannot swallow the cells after it."""

    def __init__(self) -> None:
        super().__init__()
        self.policy_written = True  # a fragment joins a page that has its own
        self.open: list[str] = []
        self.svg_depth = 0  # open <svg> elements: inside one, drawing attributes stay

    def _attributes(self, tag: str, attrs: list[tuple[str, str | None]]) -> str:
        if self.svg_depth == 0 or tag == "svg":
            attrs = [(n, v) for n, v in attrs if n.lower() not in PAGE_LEVEL_ATTRIBUTES]
        return super()._attributes(tag, attrs)

    def handle_starttag(self, tag, attrs):
        if tag == "style" and not self.skipping:
            self.skipping = "style"
            return
        before = len(self.out)
        super().handle_starttag(tag, attrs)
        if len(self.out) > before and tag not in VOID_TAGS:
            self.open.append(tag)
            self.svg_depth += tag == "svg"

    def handle_endtag(self, tag):
        if not self.skipping and tag in self.open:
            while self.open:
                closed = self.open.pop()
                self.svg_depth -= closed == "svg"
                if closed == tag:
                    break
        super().handle_endtag(tag)


def inert_fragment(markup: str) -> str:
    """One cell's markup (a markdown cell, an HTML, SVG or markdown output) made inert and
    self-contained: as `inert_page`, without style elements, every element closed at its end.
    Markdown syntax survives (the text is only HTML-escaped: `a < b` becomes `a &lt; b`)."""
    fragment = _Fragment()
    fragment.feed(markup)
    fragment.close()
    return "".join(fragment.out) + "".join(f"</{tag}>" for tag in reversed(fragment.open))
