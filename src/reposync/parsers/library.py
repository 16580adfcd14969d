"""Placeholder until the parser lands."""

from __future__ import annotations


def parse(html: str, url: str):
    raise NotImplementedError
