"""Scrapy crawling the loopback mirror: the baseline of the crawl benchmark (run in bench/.venv only).

The same pages reposync walks: every source's start URL, then each library record's ``a.navNext`` link,
one request at a time to the one host (CONCURRENT_REQUESTS_PER_DOMAIN=1), no delay, robots.txt obeyed.
The spider extracts nothing but the next link (Scrapy's best case; reposync parses, normalises and
archives every page). Prints JSON: pages, the crawl's seconds (engine start to finish, from Scrapy's
stats) and the process's wall seconds.

    bench/.venv/bin/python bench/scrapy_crawl.py URL [URL ...]
    bench/.venv/bin/python bench/scrapy_crawl.py --concurrent 8 --slots SLOTS.json URL [URL ...]

With ``--slots`` (bench/hosts.py: many hosts), a JSON object of host -> seconds: each host is a download
slot of its own with that delay and one request at a time, and at most ``--concurrent`` requests at once.
With ``--heads`` (bench/hosts.py: the link check of reposync's defaults), a JSON list of report links: a HEAD
request for each, in its host's slot like the pages, all given up front (Scrapy's best case: reposync finds
them on the pages as it walks). The JSON printed then counts them as ``heads``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import scrapy
from scrapy.crawler import CrawlerProcess


class MirrorSpider(scrapy.Spider):
    name = "mirror"
    custom_settings = {
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "CONCURRENT_REQUESTS": 1,
        "DOWNLOAD_DELAY": 0,
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "USER_AGENT": "scrapy-baseline (+https://github.com/reposync/reposync; benchmark)",
    }
    pages = 0
    heads = 0

    def __init__(self, urls: list[str], heads: list[str] | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.start_urls = urls
        self.head_urls = heads or []

    async def start(self):  # noqa: ANN201 - Scrapy 2.13+ asks this, not start_requests
        for request in self.start_requests():
            yield request

    def start_requests(self):  # noqa: ANN201 - Scrapy's signature
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)
        for url in self.head_urls:
            yield scrapy.Request(url, method="HEAD", callback=self.headed, dont_filter=True)

    def headed(self, response):  # noqa: ANN001, ANN201 - Scrapy's signature
        MirrorSpider.heads += 1
        return []

    def parse(self, response):  # noqa: ANN001, ANN201 - Scrapy's signature
        MirrorSpider.pages += 1
        href = response.css("a.navNext::attr(href)").get() or response.css(".navNext a::attr(href)").get()
        if href:
            yield response.follow(href, callback=self.parse)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrent", type=int, default=1)
    parser.add_argument("--slots", default=None, help="JSON file: host -> delay in seconds")
    parser.add_argument("--heads", default=None, help="JSON file: report links to ask with HEAD")
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()
    started = time.perf_counter()
    settings = {"LOG_INSTALL_ROOT_HANDLER": False}
    if args.slots:
        with open(args.slots, encoding="utf-8") as handle:
            delays = json.load(handle)
        MirrorSpider.custom_settings = {
            **MirrorSpider.custom_settings,
            "CONCURRENT_REQUESTS": args.concurrent,
            "DOWNLOAD_SLOTS": {host: {"concurrency": 1, "delay": delay, "jitter": 0.0}
                               for host, delay in delays.items()},
        }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(MirrorSpider)
    heads = []
    if args.heads:
        with open(args.heads, encoding="utf-8") as handle:
            heads = json.load(handle)
    process.crawl(crawler, urls=args.urls, heads=heads)
    process.start()
    stats = crawler.stats.get_stats()
    seconds = (stats["finish_time"] - stats["start_time"]).total_seconds()
    print(json.dumps({"pages": MirrorSpider.pages, "heads": MirrorSpider.heads, "seconds": seconds, "wall": time.perf_counter() - started,
                      "requests": stats.get("downloader/request_count"), "scrapy": scrapy.__version__}))


if __name__ == "__main__":
    main()
