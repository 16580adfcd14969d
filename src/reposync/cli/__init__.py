"""The command line: a thin click layer over the rooms below.

``main`` holds the ``reposync`` group and its small commands; ``commands/`` the larger ones; ``options`` the shared
options and error handling (exit codes); ``progress`` the live display of a sync on a terminal.
"""

from .main import cli

__all__ = ["cli"]
