"""Moved to ``reposync.link.fellegi_sunter``; this alias keeps ``from reposync import fellegi_sunter`` working for one release."""
import sys; from .link import fellegi_sunter; sys.modules[__name__] = fellegi_sunter  # noqa: E401,E702
