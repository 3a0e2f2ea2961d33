"""The web face: the REST API under ``/api/v1`` (and, later, the HTML pages).

A thin layer over the application layer: every route builds a workspace for the
actor its bearer token names, calls the same service the command line calls,
and returns the same view model the command line prints with ``--json``.
"""
