"""What is not an entry: site chrome, links and titles that name something else, headings over
entries, prose; and how a page says it is a page of reviews at all.

Chrome (``nav``, ``aside``, search forms, a page's own header and footer, menus, breadcrumbs, cookie
banners, sharing buttons) is never read. Titles naming policies, procedures, guidance, newsletters,
contact pages, training, annual reports, "Top of page" and the like are read and skipped with a
reason (unless they name a child, as in "Child C", or open by saying they are a review: "Serious Case
Review: Neglect Strategy in Practice").
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from ..base import clean

_CHROME_TAGS = frozenset(("nav", "aside", "form"))

# ASP.NET Web Forms sites (many council and LSCB ``.aspx`` pages) wrap the whole page in one <form>:
# a form holding the page's own heading or main part is the page, not a search form.
_PAGE_INSIDE = "h1, main, [role=main]"

_CHROME_UNLESS_OWNED = frozenset(("header", "footer"))  # a page's own, unless an article's or an item's

_CHROME_ROLES = frozenset("navigation banner contentinfo search complementary menu menubar".split())

# An id or class token that names chrome: "nav", "sidenav", "site-nav", "breadcrumb",
# "govuk-footer", "masthead", "cookie-banner", "toplinks", "skip-link", ... (but not "links" alone:
# a list of report links may well be called that).
_CHROME_TOKEN = re.compile(
    r"(?:^|[-_])(?:(?:side|top|main|sub|site|primary|secondary|global|mega|mobile|utility|quick|local|section)?"
    r"(?:nav|navbar|navigation|menu|menubar)|(?:top|quick|skip|footer|social|utility)[-_]?links|breadcrumbs?"
    r"|masthead|cookies?|skip(?:link)?|social|share|sharing|sitemap)(?:$|[-_])",
    re.I,
)

_FOOTER_TOKEN = re.compile(r"(?:^|[-_])footer(?:$|[-_])", re.I)

def is_chrome(node: LexborNode, owned: bool) -> bool:
    tag = node.tag
    if tag == "form" and node.css_first(_PAGE_INSIDE) is not None:
        return False
    if tag in _CHROME_TAGS:
        return True
    if tag in _CHROME_UNLESS_OWNED and not owned:
        return True
    attrs = node.attributes
    role = (attrs.get("role") or "").strip().lower()
    if role in _CHROME_ROLES:
        return True
    for name in ("id", "class"):
        value = attrs.get(name)
        if not value:
            continue
        for token in value.split():
            if _CHROME_TOKEN.search(token):
                return True
            if not owned and _FOOTER_TOKEN.search(token):
                return True
    return False

# Titles of things that are not reviews.
_NOT_REVIEW = re.compile(
    r"\b(?:media\s+statements?|press\s+(?:releases?|statements?)|learning\s+and\s+improvement|action\s+plans?|top\s+of\s+(?:the\s+)?page|back\s+to\s+(?:the\s+)?top|skip\s+to|return\s+to"
    r"|polic(?:y|ies)|procedures?|protocols?|guidance|guidelines?|strateg(?:y|ies)|terms\s+of\s+reference"
    r"|contact(?:\s+us)?|privacy|cookies?|accessibility|site\s*map|disclaimer|copyright"
    r"|newsletters?|bulletins?|e-?news|annual\s+reports?|business\s+plans?|working\s+together"
    r"|training|courses?|conferences?|webinars?|vacanc(?:y|ies)|jobs?|careers?"
    r"|sign\s+up|subscribe|log\s*in|feedback|complaints?|minutes|agendas?|meeting\s+dates?"
    r"|threshold\s+document|report\s+a\s+concern|concerned\s+about\s+a\s+child|leaflets?|posters?|toolkits?"
    r"|templates?|glossary|faqs?|frequently\s+asked|frameworks?|safeguarding\s+arrangements)\b",
    re.I,
)

# A title that names a child is a review whatever else it says ("Child C: procedures").
NAMES_A_CHILD = re.compile(
    r"\b(?:Child(?:ren)?|Baby|Babies|Young\s+(?:Person|People)|Family|Infants?|Siblings?|Twins?|Brothers?|Sisters?)"
    r"\s+(?:[A-Z]{1,3}\d{0,3}|\d{1,3})\b"
)

# Section headings over entries, not entries: "Published reviews", "7 minute briefings", "Documents".
SECTION_HEADING = re.compile(
    r"(?:\b(?:reviews|reports|briefings|summaries|documents|downloads|publications|resources|links|contents"
    r"|information|publications|learning)|\bon\s+this\s+page|\bsee\s+also|\bin\s+this\s+section)\s*$",
    re.I,
)

# Prose, not a title: a title ends on a word a sentence would go on from (in lower case:
# "Child A" ends on a name).
_PROSE_END = re.compile(
    r"\b(?:was|were|is|are|be|been|being|has|have|had|in|on|since|until|from|by|of|the|a|an|and|or|to|at|for"
    r"|during|before|after|between|which|that|this|these|its|their|our|we|it|will|would|can|could|not)$"
)

_SENTENCE = re.compile(r"[.!?]\s+[A-Za-z]")

_MAX_TITLE_WORDS = 25

# A page of reviews says so in its title or headings.
MARKER = re.compile(
    r"serious\s+case\s+reviews?|practice\s+reviews?|case\s+reviews?|learning\s+(?:from\s+)?reviews?"
    r"|safeguarding\s+reviews?|minute\s+briefings?|learning\s+(?:summaries|briefs?|briefings)|\breviews\b"
    r"|(?-i:\bL?CSPRs?\b|\bSCRs?\b)",
    re.I,
)

NOTICE = re.compile(r"currently\s+under\s+review", re.I)

# A title that opens by saying it is a review, then what about: "Serious Case Review: Neglect Strategy in
# Practice", "Thematic Review of Child Protection Conferences". Its own type words beat any skip word after
# them; "Serious case review procedures" (no separator) and "Serious Case Reviews: guidance" (plural) do not.
SAYS_REVIEW = re.compile(
    r"^\W*(?:(?:local\s+)?(?:(?:child|safeguarding)\s+){0,2}practice|serious\s+case|significant\s+case"
    r"|case\s+management|thematic|learning)\s+review(?:\s*[:\-\u2013\u2014]\s*|\s+(?:of|into)\s+)\w"
    r"|^\W*(?-i:L?CSPR|SCR|SPR)\s*[:\-\u2013\u2014]\s*\w",
    re.I,
)


def not_review(title: str) -> bool:
    return bool(_NOT_REVIEW.search(title)) and not NAMES_A_CHILD.search(title) and not SAYS_REVIEW.search(title)

def not_review_reason(title: str) -> str:
    match = _NOT_REVIEW.search(title)
    return f"not a review: names {clean(match[0]).lower()!r}" if match else "not a review"

def is_prose(title: str) -> bool:
    words = title.split()
    return (
        len(words) > _MAX_TITLE_WORDS
        or bool(_SENTENCE.search(title))
        or bool(_PROSE_END.search(title.rstrip(" (,:;-\u2013\u2014")))
        # A sentence's first word before its date ("In June 2021 Alsami ...", "On 31st July 2024, ..."): no title.
        or (len(words) == 1 and bool(_PROSE_END.search(words[0].lower())))
    )


# A line that says something was published: "On 31st July 2024, the partnership published a briefing ...",
# "The HSCP published CSPR Peer on Peer Abuse on 21 February, 2022." Its date is a publication date.
PUBLICATION = re.compile(r"\bpublish(?:ed|es|ing)\b", re.I)
# The sentence style names the review between "published" and "on DATE": what is left before the date.
PUBLISHED_TITLE = re.compile(r"\bpublish(?:ed|es)\s+(?:the\s+|a\s+|an\s+)?(?P<title>\S.*?)\s+on\s*$", re.I)
