"""The crawl: pages and report links asked of the sites, politely.

Takes a config's sources and crawl settings; gives pages (``fetch.Page``: the bytes as served, archived as they
arrive) and report links' health. ``fetch`` asks one page (robots.txt, the user agent, pacing, retries, the size
cap); ``deadline`` bounds a whole request however a server trickles it; ``hosts`` walks many hosts at once, one
worker a host; ``linkcheck`` asks whether a report link still answers, and when it is due; ``linkhosts``
asks a run's due links through each host's worker, paced with its pages; ``documents`` fetches the report
documents; ``afterwalk`` is a host's work after its walk (its documents, then its links).
"""
