"""The archive: every page as a run saw it, and the run's spill space.

Takes pages from the crawl; gives them back by URL and run (``snapshots``: content-addressed files and a manifest,
so ``--offline`` and ``--as-of`` replay a night exactly). ``spool`` holds a run's entries on disk while it walks, so
memory stays flat; ``housekeeping`` prunes and verifies the archive.
"""
