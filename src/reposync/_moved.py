"""The old module names of 0.1, importable for one release after the house moved into rooms (issue 22).

``import reposync.fetch`` gives the module now at ``reposync.crawl.fetch``, the same object, so a caller's
``monkeypatch`` or ``isinstance`` still works. Remove in 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {
    "fetch": "crawl.fetch", "deadline": "crawl.deadline", "hosts": "crawl.hosts", "linkcheck": "crawl.linkcheck",
    "snapshots": "archive.snapshots", "spool": "archive.spool", "housekeeping": "archive.housekeeping",
    "areas": "normalise.areas", "explain": "link.explain", "fellegi_sunter": "link.fellegi_sunter",
    "decisions": "catalogue.decisions", "report": "reports.night", "completeness": "reports.completeness",
    "doctor": "ops.doctor", "serve": "ops.serve", "preview": "ops.preview", "config_write": "ops.config_write",
    "cli_options": "cli.options", "progress": "cli.progress", "commands": "cli.commands",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):  # noqa: ANN001 - the finder protocol
        package, _, old = name.partition(".")
        if package == "reposync" and old.split(".")[0] in MOVED:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):  # noqa: ANN001
        package, _, old = spec.name.partition(".")
        head, _, rest = old.partition(".")
        return importlib.import_module(f"{package}.{MOVED[head]}" + (f".{rest}" if rest else ""))

    def exec_module(self, module) -> None:  # noqa: ANN001 - the module is the moved one, already run
        pass


def install() -> None:
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())
