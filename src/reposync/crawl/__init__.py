"""The crawl: pages and report links asked of the sites, politely.

Takes a config's sources and crawl settings; gives pages (``fetch.Page``: the bytes as served, archived as they
arrive) and report links' health. ``fetch`` asks one page (robots.txt, the user agent, pacing, retries, the size
cap); ``deadline`` bounds a whole request however a server trickles it; ``hosts`` walks many hosts at once, one
worker a host; ``linkcheck`` asks whether each report link still answers.
"""
