"""Reports: what a run changed, and how complete each partnership's page is against the national repository.

Takes the catalogue; gives the night's report (``night``: Markdown, JSON, HTML from ``templates/``) and
completeness, lag and the submission pack (``completeness``). Reads only: nothing here writes the catalogue.
"""
