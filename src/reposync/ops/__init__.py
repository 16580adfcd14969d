"""Operations: what a maintainer runs around the night.

``doctor`` says whether the nightly job is healthy; ``serve`` runs Datasette on the catalogue; ``preview`` reads a
page once without writing anything (``sources add``); ``config_write`` appends or edits sources in a config file,
keeping every other byte.
"""
