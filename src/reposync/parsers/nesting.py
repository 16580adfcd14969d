"""How deep, at most, the HTML parser (lexbor) will nest a page's elements: found before it is parsed.

Tree building costs lexbor about the page's elements times its depth (each block tag looks down the stack
of open elements for a <p> to close), so a few MB nested hundreds of thousands deep would take hours, and
a page that keeps re-opening formatting elements builds far more elements than it has tags. ``measure``
follows the HTML standard's tree construction on the page's tags, in Python and in time linear in the
page, and gives an upper bound of the depth lexbor reaches and of the elements it makes, stopping as soon
as either passes its limit.

It mirrors the standard's stack of open elements: an end tag closes only an element of its name that is
open and not shut off by a "special" element (stray end tags close nothing); <p>, <li>, <dd>, <dt>,
<option> and table cells close as the standard closes them; void elements, self-closing foreign elements
and raw text (script, style, title, textarea) add no level; formatting elements a misnested tag closed
are re-opened (the list of active formatting elements); a table gets its implied <tbody> and <tr>; SVG
and MathML follow foreign-content rules. Where it does not follow the standard exactly, it keeps more
open than lexbor would, never fewer: the adoption agency's restructuring of misnested formatting tags
closes nothing here, a <form> closed out of order stays open, and a frameset page counts every <frameset>.
tests/test_nesting.py checks the bound against lexbor's real trees on pages built to break it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

_WS = "\t\n\f\r "

# A tag: the tokenizer's attribute grammar, so a quoted ">" or "</div>" inside a value is part of the tag.
# Possessive quantifiers: the tokenizer never backtracks, and neither may this (linear on any input).
# An unclosed quote runs to the end of the page (the tag is then never emitted).
_ATTRS = re.compile(
    r"""(?:[\t\n\f\r /]++"""
    r"""|[^\t\n\f\r />][^\t\n\f\r /=>]*+(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+"""
    r"""(?:"[^"]*+(?:"|\Z)|'[^']*+(?:'|\Z)|[^\t\n\f\r >]++|(?=>)))?+)*+"""
)
# Where something other than text starts: a tag or end tag (name, attributes, and its ">" unless the page
# ends first), or "<!", "<?", "</" and no letter (a comment, doctype or bogus comment).
_TOKEN = re.compile(r"<(?:(/?)([A-Za-z][^\t\n\f\r />]*+)(" + _ATTRS.pattern + r")(>)?|[!?]|/.)", re.S)
_COMMENT_END = re.compile(r"--!?>")
# The attributes of a tag whose ">" was found, one item at a time: a separator run, or a name and its value.
# (Python 3.11's re gets capture spans wrong inside possessive repeats: _ATTRS captures nothing.)
_ATTR_ITEMS = re.compile(
    r"""[\t\n\f\r /]+|[^\t\n\f\r />][^\t\n\f\r /=>]*"""
    r"""(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?:"[^"]*"|'[^']*'|[^\t\n\f\r >]+|$))?"""
)
_ATTR_PAIRS = re.compile(
    r"""([^\t\n\f\r />][^\t\n\f\r /=>]*)(?:[\t\n\f\r ]*=[\t\n\f\r ]*("[^"]*"|'[^']*'|[^\t\n\f\r >]+))?"""
)
_SCRIPT_EVENTS = re.compile(r"<!--|-->|<(/?)script(?=[\t\n\f\r />])", re.I)
_RAW_END: dict[str, re.Pattern[str]] = {}

# Elements whose content is text to their end tag (the tokenizer's RCDATA and RAWTEXT states); <script>
# has escapes of its own. <noscript> is parsed as markup: lexbor runs without scripting.
_RAW_TEXT = frozenset("title textarea style xmp iframe noembed noframes".split())
_VOID = frozenset("area base basefont bgsound br col embed frame hr img input keygen link meta param source track "
                  "wbr".split())
_FORMATTING = frozenset("a b big code em font i nobr s small strike strong tt u".split())
_SPECIAL = frozenset(
    "address applet area article aside base basefont bgsound blockquote body br button caption center col colgroup "
    "dd details dialog dir div dl dt embed fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 "
    "head header hgroup hr html iframe img input keygen li link listing main marquee menu meta nav noembed noframes "
    "noscript object ol p param plaintext pre script search section select source style summary table tbody td "
    "template textarea tfoot th thead title tr track ul wbr xmp".split()
) | {"math mi", "math mo", "math mn", "math ms", "math mtext", "math annotation-xml", "math annotation-xml html",
     "svg foreignobject", "svg desc", "svg title"}
# lexbor also stops every scope at <select> (nothing outside a <select> is closed from inside it).
_SCOPE = frozenset("applet caption html table td th marquee object select template".split()) | {
    "math mi", "math mo", "math mn", "math ms", "math mtext", "math annotation-xml", "math annotation-xml html",
    "svg foreignobject", "svg desc", "svg title"}
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_CLOSES_P = frozenset(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption figure footer header "
    "hgroup main menu nav ol p search section summary ul".split())
_BLOCK_END = _CLOSES_P - {"p"} | {"button", "listing", "pre", "select"}
_IMPLIED_END = frozenset("dd dt li optgroup option p rb rp rt rtc".split())
_IMPLIED_END_ALL = _IMPLIED_END | frozenset("caption colgroup tbody td tfoot th thead tr".split())
_IGNORED_IN_BODY = frozenset("caption col colgroup frame head tbody td tfoot th thead tr".split())
_MODE_OF = {"td": "cell", "th": "cell", "tr": "row", "tbody": "tbody", "thead": "tbody", "tfoot": "tbody",
            "caption": "caption", "colgroup": "colgroup", "table": "table"}
_BREAKOUT = frozenset(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img li listing menu "
    "meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var".split())
_HTML_POINTS = frozenset({"svg foreignobject", "svg desc", "svg title", "math annotation-xml html"})
_TEXT_POINTS = frozenset({"math mi", "math mo", "math mn", "math ms", "math mtext"})
_TABLE_FAMILY = frozenset("table tbody template tfoot thead tr".split())
_CELL_BREAKERS = frozenset("caption col colgroup tbody td tfoot th thead tr".split())

# Categories of open elements, each kept as the ascending list of their positions in the stack.
_SPECIAL_C, _SCOPE_C, _LIST_C, _BUTTON_C, _TABLE_C, _LI_STOP_C, _DD_STOP_C, _HTML_C, _RESET_C, _HEADING_C = range(10)


def _categories(name: str) -> tuple[int, ...]:
    cats = []
    if name in _SPECIAL:
        cats.append(_SPECIAL_C)
        if name not in ("address", "div", "p", "li"):
            cats.append(_LI_STOP_C)
        if name not in ("address", "div", "p", "dd", "dt"):
            cats.append(_DD_STOP_C)
    if name in _SCOPE:
        cats.append(_SCOPE_C)
    if name in ("ol", "ul"):
        cats.append(_LIST_C)
    if name == "button":
        cats.append(_BUTTON_C)
    if name in ("html", "table", "template"):
        cats.append(_TABLE_C)
    if " " not in name:
        cats.append(_HTML_C)
    if name in _MODE_OF or name in ("template", "html", "body", "head", "frameset"):
        cats.append(_RESET_C)
    if name in _HEADINGS:
        cats.append(_HEADING_C)
    return tuple(cats)


@dataclass
class Measure:
    depth: int  # the deepest node of the tree (<html> is 1): one below the deepest open element
    elements: int  # elements made, the implied and re-opened ones included
    stopped: bool  # a limit was passed: depth and elements are only what was reached by then


class _Over(Exception):
    pass


class _Entry:
    """An element on the list of active formatting elements (``name`` None: a marker)."""

    __slots__ = ("ident", "name", "key", "seq")

    def __init__(self, ident: int, name: str | None, key: tuple[str, str] | tuple[()], seq: int) -> None:
        self.ident, self.name, self.key, self.seq = ident, name, key, seq


class _Tree:
    """The stack of open elements and the list of active formatting elements, as tree construction keeps them."""

    def __init__(self, max_depth: int, quirks: bool) -> None:
        self.names: list[str] = []
        self.idents: list[int] = []
        self.where: dict[int, int] = {}  # element -> its position in the stack
        self.positions: dict[str, list[int]] = {}
        self.lists_of: dict[str, tuple[list[int], ...]] = {}
        self.cats: list[list[int]] = [[] for _ in range(10)]
        self.max_depth, self.quirks = max_depth, quirks
        self.depth = 0
        self.made = 0
        self.active: list[_Entry] = []
        self.markers: list[int] = [0]  # seq of each marker on the list (0: none)
        self.by_name: dict[str, list[_Entry]] = {}
        self.entry_of: dict[int, _Entry] = {}
        self.seq = 0
        self.mode = "body"
        self.template_modes: list[str] = []
        self.form: int | None = None
        self.push("html")
        self.push("body")
        self.made += 1  # <head>, closed before the body opens

    # -- the stack -------------------------------------------------------------------------------------------------
    def lists(self, name: str) -> tuple[list[int], ...]:
        """The position lists an element of ``name`` is kept in: its name's, then its categories'."""
        own = self.positions[name] = []
        cats = _CATS.get(name)
        lists = self.lists_of[name] = (own, *(self.cats[c] for c in (cats if cats is not None else _cats_of(name))))
        return lists

    def push(self, name: str, formatting: bool = False) -> int:
        """Open an element; its id (0 unless ``formatting``: only those are looked up again)."""
        position = len(self.names)
        self.made += 1
        self.names.append(name)
        if formatting:
            ident = self.made
            self.where[ident] = position
        else:
            ident = 0
        self.idents.append(ident)
        for found in self.lists_of.get(name) or self.lists(name):
            found.append(position)
        if position + 2 > self.depth:  # a void element or text may sit on the deepest open element
            self.depth = position + 2
            if self.depth > self.max_depth:
                raise _Over
        return ident

    def pop(self) -> None:
        ident = self.idents.pop()
        if ident:
            del self.where[ident]
        for found in self.lists_of[self.names.pop()]:
            found.pop()

    def pop_to(self, position: int) -> None:
        """Pop until the element at ``position`` has been popped."""
        while len(self.names) > position:
            self.pop()

    def top(self, name: str) -> int:
        found = self.positions.get(name)
        return found[-1] if found else -1

    def top_cat(self, cat: int) -> int:
        found = self.cats[cat]
        return found[-1] if found else -1

    def in_scope(self, name: str, *extra: int) -> int:
        """The position of the topmost ``name`` if it is in scope (default scope plus ``extra`` boundaries), else -1."""
        position = self.top(name)
        if position < 0:
            return -1
        boundary = max([self.top_cat(_SCOPE_C)] + [self.top_cat(c) for c in extra])
        return position if position >= boundary else -1

    def in_table_scope(self, name: str) -> int:
        position = self.top(name)
        return position if position >= 0 and position >= self.top_cat(_TABLE_C) else -1

    def current(self) -> str:
        return self.names[-1]

    def generate_implied(self, but: str | None = None, thoroughly: bool = False) -> None:
        implied = _IMPLIED_END_ALL if thoroughly else _IMPLIED_END
        while self.names[-1] in implied and self.names[-1] != but:
            self.pop()

    def close_p(self) -> None:
        if not self.positions.get("p"):
            return
        position = self.in_scope("p", _BUTTON_C)
        if position >= 0:
            self.pop_to(position)

    # -- the list of active formatting elements ------------------------------------------------------------------
    def add_formatting(self, name: str, ident: int, attrs: str) -> None:
        # Alike as written: attributes lexbor reads as the same but written otherwise count as unlike here, so
        # fewer are dropped and more re-opened (an over-estimate, never an under-estimate).
        key = (name, attrs.strip(_WS + "/"))
        earlier = self.by_name.get(name)
        if earlier and len(earlier) >= 3:  # Noah's Ark: at most three alike since the last marker
            same = [e for e in earlier[-3:] if e.key == key and e.seq > self.markers[-1]]
            if len(same) >= 3:
                self.remove_entry(same[0])
        self.seq += 1
        entry = _Entry(ident, name, key, self.seq)
        self.active.append(entry)
        self.by_name.setdefault(name, []).append(entry)
        self.entry_of[ident] = entry

    def add_marker(self) -> None:
        self.seq += 1
        self.active.append(_Entry(0, None, (), self.seq))
        self.markers.append(self.seq)

    def clear_to_marker(self) -> None:
        while self.active:
            entry = self.active.pop()
            if entry.name is None:
                self.markers.pop()
                return
            self.by_name[entry.name].remove(entry)
            self.entry_of.pop(entry.ident, None)

    def last_formatting(self, name: str) -> _Entry | None:
        entries = self.by_name.get(name)
        if entries and entries[-1].seq > self.markers[-1]:
            return entries[-1]
        return None

    def remove_entry(self, entry: _Entry) -> None:
        for index in range(len(self.active) - 1, -1, -1):
            if self.active[index] is entry:
                del self.active[index]
                break
        self.by_name[entry.name].remove(entry)  # type: ignore[index]
        if self.entry_of.get(entry.ident) is entry:
            del self.entry_of[entry.ident]

    def reconstruct(self) -> None:
        active, where = self.active, self.where
        if not active or active[-1].name is None or active[-1].ident in where:
            return
        start = len(active) - 1
        while start > 0 and active[start - 1].name is not None and active[start - 1].ident not in where:
            start -= 1
        for entry in active[start:]:
            self.entry_of.pop(entry.ident, None)
            entry.ident = self.push(entry.name, formatting=True)  # type: ignore[arg-type]
            self.entry_of[entry.ident] = entry

    def adoption_agency(self, name: str) -> bool:
        """The end tag of a formatting element; False when it is to be handled as any other end tag."""
        if self.names[-1] == name and self.idents[-1] not in self.entry_of:
            self.pop()
            return True
        entry = self.last_formatting(name)
        if entry is None:
            return False
        position = self.where.get(entry.ident)
        if position == len(self.names) - 1 and self.active[-1] is entry:  # <i>x</i>: the common case, at once
            self.pop()
            self.active.pop()
            self.by_name[name].pop()
            del self.entry_of[entry.ident]
            return True
        if position is None:
            self.remove_entry(entry)
            return True
        if position < self.top_cat(_SCOPE_C):
            return True  # not in scope: ignored
        specials = self.cats[_SPECIAL_C]
        if bisect_right(specials, position) < len(specials):
            # A special element inside: lexbor moves elements about and closes none it keeps (the stack never
            # grows); kept as it is here, which leaves at least as much open.
            return True
        self.pop_to(position)
        self.remove_entry(entry)
        return True

    # -- modes -----------------------------------------------------------------------------------------------------
    def reset_mode(self) -> None:
        position = self.top_cat(_RESET_C)
        name = self.names[position] if position >= 0 else "html"
        if name == "template":
            self.mode = self.template_modes[-1] if self.template_modes else "body"
        else:
            self.mode = _MODE_OF.get(name, "body")

    def clear_to(self, stops: tuple[str, ...]) -> None:
        while self.names[-1] not in stops:
            self.pop()

    def close_cell(self) -> None:
        self.generate_implied()
        position = max(self.top("td"), self.top("th"))
        if position >= 0:
            self.pop_to(position)
        self.clear_to_marker()
        self.mode = "row"


def _cats_of(name: str) -> tuple[int, ...]:
    cats = _CATS[name] = _categories(name)
    return cats


_CATS: dict[str, tuple[int, ...]] = {}


def _attributes(attrs: str) -> list[tuple[str, str]]:
    pairs = []
    for match in _ATTR_PAIRS.finditer(attrs):
        value = match[2] or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        pairs.append((match[1].lower(), value))
    return pairs


def _attribute(attrs: str, name: str) -> str | None:
    for key, value in _attributes(attrs):
        if key == name:
            return value
    return None


def _raw_end(name: str) -> re.Pattern[str]:
    pattern = _RAW_END.get(name)
    if pattern is None:
        pattern = _RAW_END[name] = re.compile(rf"</{name}(?=[\t\n\f\r />])", re.I)
    return pattern


def _script_end(html: str, start: int) -> int:
    """Where the script's end tag starts (len(html): none), through its <!-- --> escapes as the tokenizer reads them."""
    state = "data"
    for match in _SCRIPT_EVENTS.finditer(html, start):
        token = match[0]
        if token == "<!--":
            if state == "data":
                state = "escaped"
                if html.startswith(">", match.end()) or html.startswith("->", match.end()):
                    state = "data"  # <!--> and <!---> open and close at once
        elif token == "-->":
            if state != "data":
                state = "data"
        elif match[1]:  # </script
            if state == "double":
                state = "escaped"
            else:
                return match.start()
        elif state == "escaped":  # <script inside <!-- -->
            state = "double"
    return len(html)


def _quirks(html: str) -> bool | None:
    """True with no doctype (quirks mode), False for <!DOCTYPE html>, None when another doctype leaves it open."""
    head = html[:1024].lstrip("\ufeff" + _WS)
    while head.startswith("<!--"):
        end = head.find("-->")
        if end < 0:
            return True
        head = head[end + 3:].lstrip(_WS)
    if head[:9].lower() != "<!doctype":
        return True
    end = head.find(">")
    doctype = " ".join(head[9:end if end >= 0 else None].split()).lower()
    return False if doctype == "html" else None


# What the counts below look for in the lower-cased page (a case-insensitive pattern costs three times as
# much): a start tag ("<" and a letter), and a formatting element's start or end tag.
_START_TAG = re.compile(r"<[a-z]")
_FORMATTING_TAG = re.compile(r"</?(?:[abisu]|big|code|em|font|nobr|small|strike|strong|tt)[\t\n\f\r />]")


def counted(html: str) -> Measure:
    """Bounds of the depth lexbor reaches and the elements it makes, from three counts and no tree: far
    above the truth, but a page under both needs no ``measure`` (a library record page, 72 start tags, is).

    Depth: every element on the stack of open elements is made by its own start tag, or implied by one (a
    cell's <tbody> and <tr>, a <col>'s <colgroup>), or is a re-opened formatting element, which takes the
    place of the one it re-opens (never on the stack at once); plus <html>, <body>, a stray </p>'s
    momentary <p> and the leaf. Elements: those, each end tag's (</p>, </br>), and the re-opened ones: one
    reconstruction between two tags re-opens at most every formatting element (each one's own start tag),
    and one adoption agency run at most 32 (8 outer rounds of at most 3 clones and the element itself).
    """
    lowered = html.lower()  # may turn a few non-ASCII letters into ASCII ones (the Kelvin sign): more, never fewer
    tags = lowered.count("<")
    starts = len(_START_TAG.findall(lowered))
    formatting = len(_FORMATTING_TAG.findall(lowered))  # start and end tags: each reconstruction's and run's bound
    elements = 3 + 3 * starts + tags + formatting * (tags + 1) + 32 * formatting
    return Measure(3 * starts + 4, elements, False)


def measure(html: str, max_depth: int, characters_per_element: int = 0, slack: int = 0) -> Measure:
    """The most the page will nest its elements, and how many it will make: stopped (``stopped``) as soon as
    the depth passes ``max_depth``, or (with ``characters_per_element``) the elements made so far pass one per
    that many characters read so far, plus ``slack``."""
    quirks = _quirks(html)
    if quirks is None:  # a legacy doctype: quirks or not decides only whether <table> closes a <p>: take the worse
        measures = [_measure(html, max_depth, characters_per_element, slack, q) for q in (True, False)]
        return Measure(max(m.depth for m in measures), max(m.elements for m in measures),
                       any(m.stopped for m in measures))
    return _measure(html, max_depth, characters_per_element, slack, quirks)


def _measure(html: str, max_depth: int, characters_per_element: int, slack: int, quirks: bool) -> Measure:
    tree = _Tree(max_depth, quirks)
    try:
        _build(tree, html, characters_per_element, slack)
    except _Over:
        return Measure(tree.depth, tree.made, True)
    # A frameset page ignores all but its framesets (each one level): count every one, wherever it is.
    framesets = len(re.findall(r"<frameset[\t\n\f\r />]", html, re.I))
    return Measure(max(tree.depth, framesets + 3), tree.made, framesets + 3 > max_depth)


def _build(tree: _Tree, html: str, characters_per_element: int, slack: int) -> None:
    end = len(html)
    position = 0
    search = _TOKEN.search
    while True:
        # Elements only ever add up: checked after each token, which makes at most max_depth of them.
        if characters_per_element and tree.made > position // characters_per_element + slack:
            raise _Over
        match = search(html, position)
        start = match.start() if match else end
        if start > position and (tree.active or tree.mode == "colgroup"):  # text: it may re-open elements
            _text(tree, html[position:start])
        if match is None:
            return
        name = match[2]
        if name is None:  # "<!", "<?" or "</" and no letter
            following = html[start + 1]
            if following == "!":
                position = _declaration(tree, html, start)
            elif html.startswith("</>", start):
                position = start + 3
            else:  # a bogus comment
                close = html.find(">", start)
                position = end if close < 0 else close + 1
            continue
        if match[4] is None:
            return  # end of file inside a tag: it is never emitted
        position = match.end()
        name = name.lower()
        if match[1]:
            _end_tag(tree, name)
            continue
        raw = _start_tag(tree, name, match, html)
        if raw is not None:  # the element's content is text up to its end tag
            if raw == "plaintext":
                return
            close = _script_end(html, position) if raw == "script" else _raw_end_at(html, raw, position)
            tree.pop()
            if close >= end:
                return
            # the end tag itself (its attributes may quote a ">"), read by the text it closes
            tag_end = _ATTRS.match(html, close + 2 + len(raw)).end()
            if tag_end >= end:
                return
            position = tag_end + 1


def _raw_end_at(html: str, name: str, start: int) -> int:
    match = _raw_end(name).search(html, start)
    return match.start() if match else len(html)


def _declaration(tree: _Tree, html: str, start: int) -> int:
    """After a comment, doctype, CDATA section or bogus comment starting at ``start``."""
    if html.startswith("<!--", start):
        if html.startswith(">", start + 4):
            return start + 5
        if html.startswith("->", start + 4):
            return start + 6
        match = _COMMENT_END.search(html, start + 4)
        return match.end() if match else len(html)
    if html.startswith("[CDATA[", start + 2) and " " in tree.current() and tree.current() not in _HTML_POINTS:
        close = html.find("]]>", start + 9)
        return len(html) if close < 0 else close + 3
    close = html.find(">", start)
    return len(html) if close < 0 else close + 1


def _text(tree: _Tree, text: str) -> None:
    current = tree.names[-1]
    if " " in current and current not in _HTML_POINTS and current not in _TEXT_POINTS:
        return  # text in foreign content re-opens nothing
    mode = tree.mode
    if mode == "colgroup":
        if not text.strip(_WS):
            return
        if current != "colgroup":
            return
        tree.pop()
        tree.mode = "table"
        current = tree.names[-1]
    if mode in ("table", "tbody", "row", "colgroup") and current in _TABLE_FAMILY and not text.strip(_WS):
        return  # white space in a table stays there; other text is foster-parented, re-opening what it must
    tree.reconstruct()


def _start_tag(tree: _Tree, name: str, match: re.Match[str], html: str) -> str | None:
    """Process a start tag; the name of a raw-text element it opened (its content is text), else None."""
    attrs = match[3]
    current = tree.names[-1]
    if " " in current:
        self_closing = _self_closing(attrs)
        if not (current in _HTML_POINTS
                or (current in _TEXT_POINTS and name not in ("mglyph", "malignmark"))
                or (current == "math annotation-xml" and name == "svg")):
            if name in _BREAKOUT or (name == "font" and any(k in ("color", "face", "size")
                                                            for k, _ in _attributes(attrs))):
                while (" " in tree.names[-1] and tree.names[-1] not in _HTML_POINTS
                       and tree.names[-1] not in _TEXT_POINTS):
                    tree.pop()
            else:
                namespace = current.split(" ", 1)[0]
                tree.push(_foreign_name(namespace, name, attrs))
                if self_closing:
                    tree.pop()
                return None
    elif name == "svg" or name == "math":
        self_closing = _self_closing(attrs)
    else:
        self_closing = False
    if tree.mode == "body":
        return _in_body(tree, name, attrs, self_closing)
    for _ in range(8):  # a token reprocessed in another mode (each turn closes something)
        outcome = _MODES[tree.mode](tree, name, attrs, self_closing)
        if outcome is not _AGAIN:
            return outcome
    return None


def _self_closing(attrs: str) -> bool:
    """Whether a tag ends "/>", its "/" not part of an unquoted attribute value (<a href=/>)."""
    if not attrs.endswith("/"):
        return False
    last = ""
    for last in _ATTR_ITEMS.findall(attrs):
        pass
    return last.endswith("/") and last.strip(_WS + "/") == ""


def _foreign_name(namespace: str, name: str, attrs: str) -> str:
    if namespace == "math" and name == "annotation-xml":
        encoding = (_attribute(attrs, "encoding") or "").lower()
        if encoding in ("text/html", "application/xhtml+xml"):
            return "math annotation-xml html"
    return f"{namespace} {name}"


_AGAIN = "again"
# Start tags with a rule of their own in the "in body" insertion mode; any other is simply opened.
_BODY_RULES = (_FORMATTING | _CLOSES_P | _IGNORED_IN_BODY | _VOID | _HEADINGS | _RAW_TEXT | frozenset(
    "html body head li dd dt script pre listing plaintext form button applet marquee object table frameset "
    "template select option optgroup rb rtc rp rt math svg image".split()))


def _in_body(tree: _Tree, name: str, attrs: str, self_closing: bool) -> str | None:
    if name not in _BODY_RULES:  # <span>, <label>, an unknown tag: opened where it is
        active = tree.active
        if active and active[-1].name is not None and active[-1].ident not in tree.where:
            tree.reconstruct()
        tree.push(name)
        return None
    if name in _FORMATTING:
        if name == "a":
            entry = tree.last_formatting("a")
            if entry is not None:
                tree.adoption_agency("a")
                if tree.entry_of.get(entry.ident) is entry:  # an <a> left open inside a special element
                    tree.remove_entry(entry)
        elif name == "nobr" and tree.in_scope("nobr") >= 0:
            tree.adoption_agency("nobr")
        tree.reconstruct()
        tree.add_formatting(name, tree.push(name, formatting=True), attrs)
        return None
    if name in _CLOSES_P:
        tree.close_p()
        tree.push(name)
        return None
    if name in _IGNORED_IN_BODY or name in ("html", "body", "head"):
        return None
    if name in _VOID:
        if name == "input":  # an <input> closes the <select> it is in (lexbor, as the standard)
            position = tree.in_scope("select")
            if position >= 0:
                tree.pop_to(position)
        if name == "hr":
            tree.close_p()
        elif name not in ("param", "source", "track", "base", "basefont", "bgsound", "link", "meta"):
            tree.reconstruct()
        return None
    if name in _HEADINGS:
        tree.close_p()
        if tree.names[-1] in _HEADINGS:
            tree.pop()
        tree.push(name)
        return None
    if name == "li" or name in ("dd", "dt"):
        if name == "li":
            position = tree.top("li")
            if position >= 0 and position > tree.top_cat(_LI_STOP_C):
                tree.pop_to(position)
        else:
            position = max(tree.top("dd"), tree.top("dt"))
            if position >= 0 and position > tree.top_cat(_DD_STOP_C):
                tree.pop_to(position)
        tree.close_p()
        tree.push(name)
        return None
    if name in _RAW_TEXT or name == "script":
        if name == "xmp":
            tree.close_p()
            tree.reconstruct()
        tree.push(name)
        return name
    if name in ("pre", "listing", "plaintext"):
        tree.close_p()
        tree.push(name)
        return "plaintext" if name == "plaintext" else None
    if name == "form":
        if tree.form is not None and tree.top("template") < 0:
            return None
        tree.close_p()
        ident = tree.push(name, formatting=True)  # (an id, to find it again)
        if tree.top("template") < 0:
            tree.form = ident
        return None
    if name == "button":
        position = tree.in_scope("button")
        if position >= 0:
            tree.generate_implied()
            tree.pop_to(position)
        tree.reconstruct()
        tree.push(name)
        return None
    if name in ("applet", "marquee", "object"):
        tree.reconstruct()
        tree.push(name)
        tree.add_marker()
        return None
    if name == "table":
        if not tree.quirks:
            tree.close_p()
        tree.push(name)
        tree.mode = "table"
        return None
    if name == "frameset":
        return None  # counted apart (measure): a frameset page ignores everything else
    if name == "template":
        tree.push(name)
        tree.add_marker()
        tree.mode = "template"
        tree.template_modes.append("template")
        return None
    if name == "select":
        position = tree.in_scope("select")
        if position >= 0:  # a <select> in a <select> closes it and opens nothing
            tree.pop_to(position)
            return None
        tree.reconstruct()
        tree.push(name)
        return None
    if name in ("option", "optgroup"):
        if tree.names[-1] == "option":
            tree.pop()
        tree.reconstruct()
        tree.push(name)
        return None
    if name in ("rb", "rtc", "rp", "rt"):
        if tree.in_scope("ruby") >= 0:
            tree.generate_implied(but="rtc" if name in ("rp", "rt") else None)
        tree.push(name)
        return None
    if name in ("math", "svg"):
        tree.reconstruct()
        tree.push(f"{name} {name}")
        if self_closing:
            tree.pop()
        return None
    if name == "image":
        tree.reconstruct()
        return None
    tree.reconstruct()
    tree.push(name)
    return None


def _in_table(tree: _Tree, name: str, attrs: str, self_closing: bool) -> str | None:
    if name == "caption":
        tree.clear_to(("table", "template", "html"))
        tree.add_marker()
        tree.push(name)
        tree.mode = "caption"
        return None
    if name == "colgroup":
        tree.clear_to(("table", "template", "html"))
        tree.push(name)
        tree.mode = "colgroup"
        return None
    if name == "col":
        tree.clear_to(("table", "template", "html"))
        tree.push("colgroup")
        tree.mode = "colgroup"
        return _AGAIN
    if name in ("tbody", "tfoot", "thead"):
        tree.clear_to(("table", "template", "html"))
        tree.push(name)
        tree.mode = "tbody"
        return None
    if name in ("td", "th", "tr"):
        tree.clear_to(("table", "template", "html"))
        tree.push("tbody")
        tree.mode = "tbody"
        return _AGAIN
    if name == "table":
        position = tree.in_table_scope("table")
        if position < 0:
            return None
        tree.pop_to(position)
        tree.reset_mode()
        return _AGAIN
    if name in ("style", "script"):
        tree.push(name)
        return name
    if name == "template":
        return _in_body(tree, name, attrs, self_closing)
    if name == "input" and (_attribute(attrs, "type") or "").lower() == "hidden":
        return None
    if name == "form":
        if tree.top("template") >= 0 or tree.form is not None:
            return None
        tree.form = -1  # inserted and popped at once: the pointer is set, no element stays open
        return None
    return _in_body(tree, name, attrs, self_closing)  # foster-parented, but on the stack all the same


def _in_table_body(tree: _Tree, name: str, attrs: str, self_closing: bool) -> str | None:
    if name == "tr":
        tree.clear_to(("tbody", "tfoot", "thead", "template", "html"))
        tree.push(name)
        tree.mode = "row"
        return None
    if name in ("th", "td"):
        tree.clear_to(("tbody", "tfoot", "thead", "template", "html"))
        tree.push("tr")
        tree.mode = "row"
        return _AGAIN
    if name in ("caption", "col", "colgroup", "tbody", "tfoot", "thead"):
        if max(tree.in_table_scope("tbody"), tree.in_table_scope("thead"), tree.in_table_scope("tfoot")) < 0:
            return None
        tree.clear_to(("tbody", "tfoot", "thead", "template", "html"))
        if tree.names[-1] != "template" and tree.names[-1] != "html":
            tree.pop()
        tree.mode = "table"
        return _AGAIN
    return _in_table(tree, name, attrs, self_closing)


def _in_row(tree: _Tree, name: str, attrs: str, self_closing: bool) -> str | None:
    if name in ("th", "td"):
        tree.clear_to(("tr", "template", "html"))
        tree.push(name)
        tree.add_marker()
        tree.mode = "cell"
        return None
    if name in ("caption", "col", "colgroup", "tbody", "tfoot", "thead", "tr"):
        if tree.in_table_scope("tr") < 0:
            return None
        tree.clear_to(("tr", "template", "html"))
        if tree.names[-1] == "tr":
            tree.pop()
        tree.mode = "tbody"
        return _AGAIN
    return _in_table(tree, name, attrs, self_closing)


def _in_cell(tree: _Tree, name: str, attrs: str, self_closing: bool) -> str | None:
    if name in _CELL_BREAKERS:
        if max(tree.in_table_scope("td"), tree.in_table_scope("th")) < 0:
            return None
        tree.close_cell()
        return _AGAIN
    return _in_body(tree, name, attrs, self_closing)


def _in_caption(tree: _Tree, name: str, attrs: str, self_closing: bool) -> str | None:
    if name in _CELL_BREAKERS:
        position = tree.in_table_scope("caption")
        if position < 0:
            return None
        tree.generate_implied()
        tree.pop_to(position)
        tree.clear_to_marker()
        tree.mode = "table"
        return _AGAIN
    return _in_body(tree, name, attrs, self_closing)


def _in_column_group(tree: _Tree, name: str, attrs: str, self_closing: bool) -> str | None:
    if name == "col":
        return None
    if name == "template":
        return _in_body(tree, name, attrs, self_closing)
    if name == "html":
        return None
    if tree.names[-1] != "colgroup":
        return None
    tree.pop()
    tree.mode = "table"
    return _AGAIN


def _in_template(tree: _Tree, name: str, attrs: str, self_closing: bool) -> str | None:
    switch = {"caption": "table", "colgroup": "table", "tbody": "table", "tfoot": "table", "thead": "table",
              "col": "colgroup", "tr": "tbody", "td": "row", "th": "row"}.get(name)
    if switch is None:
        if name in ("base", "basefont", "bgsound", "link", "meta", "noframes", "script", "style", "template",
                    "title"):
            return _in_body(tree, name, attrs, self_closing)
        switch = "body"
    if tree.template_modes:
        tree.template_modes[-1] = switch
    tree.mode = switch
    return _AGAIN


_MODES = {"body": _in_body, "table": _in_table, "tbody": _in_table_body, "row": _in_row, "cell": _in_cell,
          "caption": _in_caption, "colgroup": _in_column_group, "template": _in_template}


def _end_tag(tree: _Tree, name: str) -> None:
    current = tree.names[-1]
    if tree.mode == "body" and " " not in current and name not in _END_RULES:
        _end_other(tree, name)
        return
    if " " in current and name in ("br", "p"):  # </br> and </p> break out of foreign content, as <p> does
        while " " in tree.names[-1] and tree.names[-1] not in _HTML_POINTS and tree.names[-1] not in _TEXT_POINTS:
            tree.pop()
    elif " " in current:  # foreign content: close the nearest SVG or MathML element of that name, if any
        found = max(tree.top(f"svg {name}"), tree.top(f"math {name}"),
                    tree.top("math annotation-xml html") if name == "annotation-xml" else -1)
        if found > tree.top_cat(_HTML_C):
            tree.pop_to(found)
            return
    mode = tree.mode
    if name == "template":
        position = tree.top("template")
        if position < 0:
            return
        tree.generate_implied(thoroughly=True)
        tree.pop_to(position)
        tree.clear_to_marker()
        if tree.template_modes:
            tree.template_modes.pop()
        tree.reset_mode()
        return
    if mode in ("table", "tbody", "row"):
        if name in ("tbody", "tfoot", "thead") and mode in ("tbody", "row"):
            if tree.in_table_scope(name) < 0:
                return
            if mode == "row":
                if tree.in_table_scope("tr") < 0:
                    return
                tree.clear_to(("tr", "template", "html"))
                if tree.names[-1] == "tr":
                    tree.pop()
            tree.clear_to(("tbody", "tfoot", "thead", "template", "html"))
            if tree.names[-1] in ("tbody", "tfoot", "thead"):
                tree.pop()
            tree.mode = "table"
            return
        if name == "tr" and mode == "row":
            if tree.in_table_scope("tr") < 0:
                return
            tree.clear_to(("tr", "template", "html"))
            if tree.names[-1] == "tr":
                tree.pop()
            tree.mode = "tbody"
            return
        if name == "table":
            position = tree.in_table_scope("table")
            if position >= 0:
                tree.pop_to(position)
                tree.reset_mode()
            return
        if name in ("body", "caption", "col", "colgroup", "html", "tbody", "td", "tfoot", "th", "thead", "tr"):
            return
    elif mode == "cell":
        if name in ("td", "th"):
            position = tree.in_table_scope(name)
            if position < 0:
                return
            tree.generate_implied()
            tree.pop_to(position)
            tree.clear_to_marker()
            tree.mode = "row"
            return
        if name in ("body", "caption", "col", "colgroup", "html"):
            return
        if name in ("table", "tbody", "tfoot", "thead", "tr"):
            if tree.in_table_scope(name) < 0:
                return
            tree.close_cell()
            _end_tag(tree, name)
            return
    elif mode == "caption":
        if name in ("caption", "table"):
            position = tree.in_table_scope("caption")
            if position < 0:
                return
            tree.generate_implied()
            tree.pop_to(position)
            tree.clear_to_marker()
            tree.mode = "table"
            if name == "table":
                _end_tag(tree, name)
            return
        if name in ("body", "col", "colgroup", "html", "tbody", "td", "tfoot", "th", "thead", "tr"):
            return
    elif mode == "colgroup":
        if name == "colgroup":
            if tree.names[-1] == "colgroup":
                tree.pop()
                tree.mode = "table"
            return
        if name == "col":
            return
        if tree.names[-1] == "colgroup":
            tree.pop()
            tree.mode = "table"
            _end_tag(tree, name)
        return
    elif mode == "template":
        return
    _end_in_body(tree, name)


def _end_in_body(tree: _Tree, name: str) -> None:
    if name in _FORMATTING:
        if tree.adoption_agency(name):
            return
    elif name in _BLOCK_END:
        position = tree.in_scope(name)
        if position >= 0:
            tree.generate_implied()
            tree.pop_to(position)
        return
    elif name == "p":
        position = tree.in_scope("p", _BUTTON_C)
        if position >= 0:
            tree.pop_to(position)
        return  # with none open: an empty <p> opened and closed
    elif name == "li":
        position = tree.in_scope("li", _LIST_C)
        if position >= 0:
            tree.pop_to(position)
        return
    elif name in ("dd", "dt"):
        position = tree.in_scope(name)
        if position >= 0:
            tree.pop_to(position)
        return
    elif name in _HEADINGS:
        position = max(tree.in_scope(h) for h in _HEADINGS)
        if position >= 0:
            tree.pop_to(position)
        return
    elif name in ("applet", "marquee", "object"):
        position = tree.in_scope(name)
        if position >= 0:
            tree.pop_to(position)
            tree.clear_to_marker()
        return
    elif name == "form":
        form, tree.form = tree.form, None
        if tree.top("template") >= 0:
            position = tree.in_scope("form")
            if position >= 0:
                tree.pop_to(position)
        elif form is not None and form in tree.where and tree.where[form] >= tree.top_cat(_SCOPE_C):
            if tree.idents[-1] == form:
                tree.pop()
            # else lexbor takes the form out of the middle of the stack: kept here, one level more
        return
    elif name == "br":
        tree.reconstruct()
        return
    elif name in ("body", "html"):
        return
    _end_other(tree, name)


def _end_other(tree: _Tree, name: str) -> None:
    """Any other end tag: it closes the nearest open element of its name, unless a special element comes first."""
    found = tree.positions.get(name)
    if found and found[-1] >= tree.top_cat(_SPECIAL_C):
        tree.pop_to(found[-1])


# End tags with a rule of their own (in body, or in a table's modes); any other is _end_other.
_END_RULES = (_FORMATTING | _BLOCK_END | _HEADINGS | _CELL_BREAKERS | frozenset(
    "p li dd dt applet marquee object form br body html template table caption".split()))
