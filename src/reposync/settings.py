"""Every default in one place, each with the reason it has the value it has.

The config's ``[crawl]`` table overrides the crawl values; nothing else in the
code base hard-codes a number that a user might want to know about.
"""

from __future__ import annotations

# --- crawling -------------------------------------------------------------
# At least a second between two requests to one host: these are small
# charity and council sites, and a nightly job has all night.
DELAY_SECONDS = 1.0
# Connect fails fast (a dead host); a whole request (connect, headers and body)
# gets 30 s, room for an OPAC page built on demand, and a server that trickles
# its answer a byte at a time fails there rather than holding the night. The
# pool wait only matters when a host is shared by sources.
TIMEOUT_CONNECT = 10.0
TIMEOUT_READ = 30.0  # [crawl] timeout: the deadline of one whole request
TIMEOUT_POOL = 10.0
# A listing page is well under 1 MB; 10 MB is room for the largest and stops a
# runaway body (a PDF served instead of HTML, an endless stream) early.
MAX_BYTES = 10 * 1024 * 1024
# Retries of a temporary failure (connection error, timeout, 408, 429, 5xx).
RETRIES = 3
BACKOFF_INITIAL = 1.0
BACKOFF_MAX = 60.0
# A Retry-After longer than this is not waited for: the run records a
# temporary failure and cron tries again tomorrow.
RETRY_AFTER_CAP = 120.0
# Redirect hops before giving up: real sites use one or two.
MAX_REDIRECTS = 5
# A listing that grows past this many pages is a loop or a layout change.
MAX_PAGES_PER_SOURCE = 5000
# The library catalogue is walked in full this often; in between, the walk
# stops at a run of known, unchanged records.
FULL_WALK_DAYS = 7
# How long that run is. The catalogue sorts by year of publication only (about
# 100 records a year: 1,500 over 15 years) and new records come in at the front
# of their year, in an order within the year that the OPAC does not promise. A
# run of a year's worth of known, unchanged records means the walk has gone past
# anything added at the front; a record filed deeper waits for the full walk.
# 100 pages are 7% of the catalogue: about 2 minutes a night at 1 s a page.
INCREMENTAL_KNOWN_RUN = 100
# Report links (PDFs) are checked again this often, as part of a sync: a link
# goes dead in weeks, not hours, and a week keeps the requests to a site few.
# 0: never as part of a sync (``reposync links check`` still does).
CHECK_LINKS_DAYS = 7
# Report documents (issue 21): a report PDF runs to a few MB, its appendices to 20; 50 MB is room for the
# largest and refuses a runaway body before it is held. Its own cap, apart from a page's (``MAX_BYTES``).
DOCUMENTS_MAX_BYTES = 50 * 1024 * 1024
# A report link is a document when its path ends so (a Word file only where that is what is linked).
DOCUMENT_SUFFIXES = (".pdf", ".docx", ".doc")
# Sources whose documents are fetched when ``[documents] fetch`` is on: partnership pages (local) and the
# NSPCC yearly lists, which link partnerships' own PDFs; the rolling pages and the library link the library's
# file transfers, which its robots.txt keeps from crawlers.
DOCUMENT_PARSERS = ("nspcc-yearly",)
USER_AGENT = "reposync/{version} (+https://github.com/reposync/reposync)"
# Hosts walked at once (each host still one request at a time, paced on its
# own). Politeness is per host, so this only bounds our side: open connections
# and threads. Eight keep a night of ~150 one-page partnership hosts well under
# the busiest host's own time (the library's), on two cores.
MAX_HOSTS = 8
# Pages a source is expected to take before any walk of it is on record, for
# the order hosts start in and the progress display's time left: the library
# catalogue is a chain of one-record pages (about 1,500, SOURCES.md); every
# other listing is one page. Once walked, the last walk's count is used.
EXPECTED_PAGES = {"nspcc-library": 1500}
EXPECTED_PAGES_DEFAULT = 1

# --- parsing ----------------------------------------------------------------
# A page lexbor would nest deeper than this (parsers/nesting.py reads it from the tags, before parsing) is
# refused as a ParseError, "nested too deeply". Real pages are well under 100 deep (the bundled ones 14), and
# Blink flattens anything past 512. Tree building costs about the page's elements times its depth: at 512,
# the worst page under the size cap parses in about 1.5 s of lexbor (at 2000 it was 6 s; unguarded, hours).
MAX_NESTING = 512
# Nor may a page make more than one element per this many characters (plus the slack, for a small page's
# implied elements): misnested formatting tags (<b x=1>...<b x=500></div>, then <p>x</p> over and over) make
# lexbor re-open hundreds of elements for each few characters. A real page makes one per 30 or more.
CHARACTERS_PER_ELEMENT = 2
ELEMENTS_SLACK = 10_000

# --- walks cut short ------------------------------------------------------
# A walk that ends before the end its listing declares (the library's "Record
# 25 of 1466" with no next link, or one off the site) fails with 75: an expired
# result set or a flaky page is worth another night. The same on this many
# walks of a source in a row is no accident (a changed site): 65, for a person.
CUT_SHORT_NIGHTS_TO_PERSON = 3

# --- layout guard ---------------------------------------------------------
# A complete walk that yields fewer than this share of the entries of the
# source's last good walk is treated as a changed layout, not as removals.
GUARD_MIN_SHARE = 0.5

# --- paths, relative to the config file's folder ---------------------------
DB_PATH = "../catalogue.db"
SNAPSHOTS_PATH = "../snapshots"
REPORTS_PATH = "../reports"
DECISIONS_PATH = "decisions.toml"
REGISTER_PATH = "partnerships.toml"  # the register of every partnership; absent: no national picture

# --- a run's rows before they are applied ------------------------------------
# A run's first rows stay in memory (~3 KB each: a night of list and local pages
# fits); the rest of a long catalogue goes to a temporary SQLite file until the
# one transaction that applies the run: 150,000 records in lists cost ~500 MB.
SPOOL_IN_MEMORY = 5000
# The page cache of that temporary file: writes are sequential, reads one pass.
SPOOL_CACHE_KIB = 4096

# --- reposync doctor -------------------------------------------------------------
# A source whose last successful walk is older than this needs a look: the
# nightly job has failed it at least twice in a row.
DOCTOR_MAX_AGE_DAYS = 2
# Objects rehashed by a quick check of the archive (``--full``: all of them):
# a few hundred read in well under a second, and a wide sample finds a rot.
DOCTOR_SAMPLE = 200
# Free space the archive's disk must keep: a night adds a few MB (a full walk of
# the library is about 8 MB of pages), so 1 GiB is months of room, and a
# catalogue rewrite (SQLite needs room for its journal) fits beside it.
DOCTOR_MIN_FREE_BYTES = 1024 ** 3

# --- SQLite ---------------------------------------------------------------
# A reader (Datasette) and the nightly writer share the file; a writer waits
# this long for a lock rather than failing at once.
BUSY_TIMEOUT_MS = 30_000

# --- reports ----------------------------------------------------------------
# A first sync adds every entry: a report lists this many items of a kind and
# counts the rest, so it stays readable in a mail and small in memory.
REPORT_MAX_ITEMS = 500

# A source whose configured page is gone (404, 410) is looked for on its site by discovery (crawl/moves.py) at
# most once in this many hours: a sync run again the same night reuses what the first one found.
REDISCOVER_HOURS = 20
# Candidates a gone page's discovery keeps (the report and `sources list` name them, best first).
GONE_CANDIDATES = 3
